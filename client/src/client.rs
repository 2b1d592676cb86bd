//! The client, its builder, and the request machinery every endpoint method goes through: URL building with
//! percent-encoded names and query strings from warden-api's query types, the bearer key, envelope decoding
//! (warden-api's [`Envelope`], [`PageEnvelope`] and [`Failure`](warden_api::Failure)), error classification,
//! retries, and the `min_revision` that [`Client::at_least`] puts on RBAC reads.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::Duration;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use reqwest::header::{HeaderValue, AUTHORIZATION, RETRY_AFTER};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Serialize;
use warden_api::{Envelope, ListingQuery, PageEnvelope};

use crate::Error;

/// The default for [`ClientBuilder::timeout`].
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The default for [`ClientBuilder::max_retries`].
pub const DEFAULT_MAX_RETRIES: u32 = 2;
/// The default for [`ClientBuilder::initial_backoff`].
pub const DEFAULT_INITIAL_BACKOFF: Duration = Duration::from_millis(100);
/// No single wait between retries is longer than this, whatever the backoff or a `Retry-After` header says.
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Everything but unreserved characters (`A-Z a-z 0-9 - . _ ~`) is percent-encoded in a path segment, so names
/// holding `@ : | +` (all valid in Warden) reach the server intact.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// An async client for one Warden server and one client key.
///
/// Cheap to clone: clones share one connection pool, so make one and pass it around. See the
/// [crate documentation](crate) for an example and for which calls are retried, and [`Client::at_least`] for
/// reading your own writes.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
    /// Sent as `?min_revision=` on every RBAC read; set by [`Client::at_least`].
    min_revision: Option<i64>,
}

struct Inner {
    http: reqwest::Client,
    /// The base URL without a trailing slash, e.g. `http://127.0.0.1:8000`.
    base: String,
    /// `Bearer <key>`, marked sensitive; `None` when no key was given.
    auth: Option<HeaderValue>,
    timeout: Duration,
    max_retries: u32,
    initial_backoff: Duration,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base)
            .field("client_key", &self.inner.auth.as_ref().map(|_| "********"))
            .field("timeout", &self.inner.timeout)
            .field("max_retries", &self.inner.max_retries)
            .field("min_revision", &self.min_revision)
            .finish()
    }
}

impl Client {
    /// A client for `base_url` (e.g. `http://127.0.0.1:8000`) calling with `client_key`, with the default timeout
    /// and retries.
    pub fn new(base_url: impl Into<String>, client_key: impl Into<String>) -> Result<Self, Error> {
        Self::builder(base_url).client_key(client_key).build()
    }

    /// Starts building a client for `base_url`.
    pub fn builder(base_url: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            base_url: base_url.into(),
            client_key: None,
            timeout: DEFAULT_TIMEOUT,
            max_retries: DEFAULT_MAX_RETRIES,
            initial_backoff: DEFAULT_INITIAL_BACKOFF,
        }
    }

    /// The base URL calls go to, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    /// A client whose RBAC reads see the tenant at `revision` or later: read-your-writes.
    ///
    /// Every write of roles, grants and memberships answers the tenant's `revision` after it
    /// ([`Created::revision`](crate::Created::revision), [`Removed::revision`](crate::Removed::revision)). Warden
    /// answers RBAC reads from an in-memory model that follows the database, so with more than one Warden on one
    /// database a read may reach one that has not applied the write yet. The returned client sends
    /// `?min_revision=<revision>` on every RBAC read (the checks
    /// [`role_has_permission`](Client::role_has_permission), [`has_membership`](Client::has_membership) and
    /// [`user_has_permission`](Client::user_has_permission), and the listings [`list_roles`](Client::list_roles),
    /// [`get_role_permissions`](Client::get_role_permissions), [`get_role_members`](Client::get_role_members),
    /// [`get_user_roles`](Client::get_user_roles), [`get_user_permissions`](Client::get_user_permissions),
    /// [`which_roles_can`](Client::which_roles_can) and [`which_users_can`](Client::which_users_can)); the server
    /// then catches up before answering. A revision that does not exist yet, or is not applied within the
    /// server's wait (2 s), is [`Error::Refused`] with status 409, which is not retried.
    ///
    /// Writes and the other endpoints are sent as by `self`. The returned client is a cheap clone sharing the
    /// connection pool; calling `at_least` on it again keeps the larger revision. A negative revision asks
    /// for nothing newer than the start (0).
    ///
    /// ```no_run
    /// # async fn run(warden: warden_client::Client) -> Result<(), warden_client::Error> {
    /// let added = warden.add_membership("bob@example.com", "editor").await?;
    /// let fresh = warden.at_least(added.revision);
    /// assert!(fresh.has_membership("bob@example.com", "editor").await?.is_member);
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn at_least(&self, revision: i64) -> Client {
        let revision = revision.max(0);
        Client {
            inner: self.inner.clone(),
            min_revision: Some(self.min_revision.map_or(revision, |r| r.max(revision))),
        }
    }

    /// The revision this client's RBAC reads ask for, if [`Client::at_least`] set one.
    pub fn min_revision(&self) -> Option<i64> {
        self.min_revision
    }

    /// `?min_revision=N` for an RBAC check, or nothing.
    pub(crate) fn read_query(&self) -> Result<String, Error> {
        encode_query(&warden_api::ReadQuery {
            min_revision: self.min_revision_param(),
        })
    }

    fn min_revision_param(&self) -> Option<i64> {
        // `at_least` keeps it non-negative.
        self.min_revision
    }

    /// Sends `request` and returns its `data`, retrying as the request allows.
    pub(crate) async fn send<T: DeserializeOwned>(&self, request: Request) -> Result<T, Error> {
        self.send_envelope::<Envelope<T>>(request)
            .await
            .map(|envelope| envelope.data)
    }

    /// GETs a whole RBAC listing at `path` (without a query), with this client's `min_revision`, following
    /// `next_cursor` until the last page: without `limit`, Warden answers at most 1000 names per page.
    pub(crate) async fn send_listing<T: DeserializeOwned>(
        &self,
        path: String,
    ) -> Result<Vec<T>, Error> {
        self.send_listing_with(path, None).await
    }

    /// [`Client::send_listing`] with one more query flag on every page (`effective=true`, `transitive=true`).
    pub(crate) async fn send_listing_with<T: DeserializeOwned>(
        &self,
        path: String,
        flag: Option<&str>,
    ) -> Result<Vec<T>, Error> {
        let mut items = Vec::new();
        let mut cursor = None;
        loop {
            let query = encode_query(&ListingQuery {
                limit: None,
                cursor: cursor.clone(),
                min_revision: self.min_revision_param(),
            })?;
            let query = with_flag(query, flag);
            let page: PageEnvelope<Vec<T>> = self
                .send_envelope(Request::get(format!("{path}{query}")))
                .await?;
            items.extend(page.data);
            match page.next_cursor {
                // A cursor that does not move would loop forever: not an answer Warden gives.
                Some(next) if cursor.as_ref() == Some(&next) => {
                    return Err(Error::Decode {
                        status: page.code,
                        detail: format!("`next_cursor` {next:?} repeats the page just read"),
                    })
                }
                Some(next) => cursor = Some(next),
                None => return Ok(items),
            }
        }
    }

    /// Sends `request` and returns the whole envelope `E`, retrying as the request allows.
    pub(crate) async fn send_envelope<E: DeserializeOwned>(
        &self,
        request: Request,
    ) -> Result<E, Error> {
        let mut retries = 0;
        loop {
            match self.attempt(&request).await {
                Ok(data) => return Ok(data),
                Err(failure)
                    if request.idempotent
                        && failure.error.is_retryable()
                        && failure.waits_within(MAX_BACKOFF)
                        && retries < self.inner.max_retries =>
                {
                    let wait = backoff(self.inner.initial_backoff, retries)
                        .max(failure.retry_after.unwrap_or_default().min(MAX_BACKOFF));
                    tokio::time::sleep(wait).await;
                    retries += 1;
                }
                Err(failure) => return Err(failure.error),
            }
        }
    }

    async fn attempt<E: DeserializeOwned>(&self, request: &Request) -> Result<E, Failure> {
        let url = format!("{}{}", self.inner.base, request.path);
        let mut builder = self.inner.http.request(request.method.clone(), url);
        if request.authenticated {
            if let Some(auth) = &self.inner.auth {
                builder = builder.header(AUTHORIZATION, auth.clone());
            }
        }
        if let Some(body) = &request.body {
            builder = builder.json(body);
        }
        let response = builder.send().await.map_err(Failure::transport)?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = response.bytes().await.map_err(Failure::transport)?;
        decode(status, &body).map_err(|error| Failure { error, retry_after })
    }
}

/// Turns an answer into its success envelope `E` ([`Envelope`] or [`PageEnvelope`]) or the matching [`Error`].
fn decode<E: DeserializeOwned>(status: u16, body: &[u8]) -> Result<E, Error> {
    if (200..300).contains(&status) {
        return serde_json::from_slice::<E>(body).map_err(|e| Error::Decode {
            status,
            detail: format!("{e}; body starts with {:?}", preview(body)),
        });
    }
    let (message, error) = match serde_json::from_slice::<warden_api::Failure>(body) {
        Ok(envelope) => (envelope.message, envelope.error),
        // Not Warden's envelope (a proxy's error page, say): keep what can be told.
        Err(_) => (
            reqwest::StatusCode::from_u16(status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("Unknown")
                .to_owned(),
            preview(body),
        ),
    };
    match status {
        400..=499 => Err(Error::Refused {
            status,
            message,
            error,
        }),
        500..=599 => Err(Error::Server {
            status,
            message,
            error,
        }),
        _ => Err(Error::Decode {
            status,
            detail: format!("unexpected status: {message}: {error}"),
        }),
    }
}

/// The first 200 characters of a body, for error messages.
fn preview(body: &[u8]) -> String {
    String::from_utf8_lossy(body).chars().take(200).collect()
}

/// Exponential backoff with jitter: the `retry`-th wait (from 0) is drawn from `[d/2, d]` where
/// `d = initial * 2^retry`, capped at [`MAX_BACKOFF`]. The jitter keeps many clients that failed together from
/// retrying together.
fn backoff(initial: Duration, retry: u32) -> Duration {
    let full = initial
        .saturating_mul(2u32.saturating_pow(retry))
        .min(MAX_BACKOFF);
    let half = full / 2;
    // RandomState is seeded randomly per instance: enough randomness for jitter without another dependency.
    let random = RandomState::new().build_hasher().finish();
    let fraction = (random % 1_000) as u32;
    half + half * fraction / 1_000
}

/// A failed attempt, with the server's `Retry-After` hint when it sent one.
struct Failure {
    error: Error,
    retry_after: Option<Duration>,
}

impl Failure {
    fn transport(source: reqwest::Error) -> Self {
        Self {
            error: Error::Transport { source },
            retry_after: None,
        }
    }

    /// Whether the server's `Retry-After` (if any) asks for no longer than `limit`: a 429 that names a longer
    /// wait is returned at once rather than retried too early.
    fn waits_within(&self, limit: Duration) -> bool {
        self.retry_after.is_none_or(|wait| wait <= limit)
    }
}

/// One call to make: what endpoint methods build and [`Client::send`] carries out.
pub(crate) struct Request {
    method: Method,
    path: String,
    body: Option<serde_json::Value>,
    authenticated: bool,
    idempotent: bool,
}

impl Request {
    fn new(method: Method, path: String) -> Self {
        Self {
            method,
            path,
            body: None,
            authenticated: true,
            idempotent: true,
        }
    }

    /// A GET of `path` (which starts with `/` and has its names already passed through [`segment`]).
    pub(crate) fn get(path: String) -> Self {
        Self::new(Method::GET, path)
    }

    /// A POST of `path`; idempotent unless [`Request::not_idempotent`] says otherwise.
    pub(crate) fn post(path: String) -> Self {
        Self::new(Method::POST, path)
    }

    /// A DELETE of `path`.
    pub(crate) fn delete(path: String) -> Self {
        Self::new(Method::DELETE, path)
    }

    /// A PUT of `path` (a PUT replaces, so repeating it is harmless).
    pub(crate) fn put(path: String) -> Self {
        Self::new(Method::PUT, path)
    }

    /// A PATCH of `path` (the API-key expiry: setting the same earlier time twice is refused the second time, so
    /// it is marked not idempotent).
    pub(crate) fn patch(path: String) -> Self {
        Self::new(Method::PATCH, path).not_idempotent()
    }

    /// Sends no client key (for the health endpoints).
    pub(crate) fn public(mut self) -> Self {
        self.authenticated = false;
        self
    }

    /// Sends `body` as JSON.
    pub(crate) fn json(mut self, body: serde_json::Value) -> Self {
        self.body = Some(body);
        self
    }

    /// Marks a call that must not be repeated automatically, because repeating it would do something twice
    /// (issuing or using a token, creating a session).
    pub(crate) fn not_idempotent(mut self) -> Self {
        self.idempotent = false;
        self
    }
}

/// Percent-encodes one name for use as a path segment.
///
/// `.` and `..` are refused: every URL parser resolves them as "this folder" and "the parent folder", so the
/// request would reach a different endpoint than the one meant.
pub(crate) fn segment(name: &str) -> Result<String, Error> {
    if name == "." || name == ".." {
        return Err(Error::InvalidArgument(format!(
            "`{name}` cannot be sent as a name in a URL path"
        )));
    }
    Ok(utf8_percent_encode(name, SEGMENT).to_string())
}

/// `?k=v&…` from one of warden-api's query types (their unset fields are skipped); empty when none is set.
/// `query` (empty or `?…`) with `flag` (`name=value`) added.
pub(crate) fn with_flag(query: String, flag: Option<&str>) -> String {
    match flag {
        None => query,
        Some(flag) if query.is_empty() => format!("?{flag}"),
        Some(flag) => format!("{query}&{flag}"),
    }
}

pub(crate) fn encode_query(query: &impl Serialize) -> Result<String, Error> {
    let text = serde_urlencoded::to_string(query)
        .map_err(|e| Error::InvalidArgument(format!("cannot encode the query: {e}")))?;
    Ok(if text.is_empty() {
        text
    } else {
        format!("?{text}")
    })
}

/// Configures a [`Client`]; start with [`Client::builder`].
pub struct ClientBuilder {
    base_url: String,
    client_key: Option<String>,
    timeout: Duration,
    max_retries: u32,
    initial_backoff: Duration,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url", &self.base_url)
            .field("client_key", &self.client_key.as_ref().map(|_| "********"))
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .field("initial_backoff", &self.initial_backoff)
            .finish()
    }
}

impl ClientBuilder {
    /// The client key (a UUID4) sent as `Authorization: Bearer <key>` on every `/api/*` call; it selects the
    /// tenant. It never appears in `Debug` output. Without one, `/api/*` calls are refused with 401.
    pub fn client_key(mut self, key: impl Into<String>) -> Self {
        self.client_key = Some(key.into());
        self
    }

    /// The longest one attempt may take, from connecting to reading the whole answer (default 10 s). A call that
    /// is retried may take up to `(max_retries + 1)` times this, plus the waits between attempts.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How many times an idempotent call is repeated after a transport error or a 503 (default 2, so at most
    /// three attempts). 0 turns retries off.
    pub fn max_retries(mut self, max_retries: u32) -> Self {
        self.max_retries = max_retries;
        self
    }

    /// The wait before the first retry (default 100 ms); each further retry waits about twice as long, with
    /// jitter, up to [`MAX_BACKOFF`]. A longer `Retry-After` from the server (up to [`MAX_BACKOFF`]) wins.
    pub fn initial_backoff(mut self, initial_backoff: Duration) -> Self {
        self.initial_backoff = initial_backoff;
        self
    }

    /// Builds the client; fails on a base URL that is not `http(s)://…` or a key that cannot go in a header.
    pub fn build(self) -> Result<Client, Error> {
        let url = reqwest::Url::parse(&self.base_url)
            .map_err(|e| Error::InvalidArgument(format!("base URL `{}`: {e}", self.base_url)))?;
        if !matches!(url.scheme(), "http" | "https") || url.query().is_some() {
            return Err(Error::InvalidArgument(format!(
                "base URL `{}` must be http:// or https:// without a query",
                self.base_url
            )));
        }
        let base = url.as_str().trim_end_matches('/').to_owned();
        let auth = match self.client_key {
            None => None,
            Some(key) => {
                let mut value =
                    HeaderValue::from_str(&format!("Bearer {}", key.trim())).map_err(|_| {
                        Error::InvalidArgument("the client key cannot be sent in a header".into())
                    })?;
                value.set_sensitive(true);
                Some(value)
            }
        };
        let http = reqwest::Client::builder()
            .timeout(self.timeout)
            .user_agent(concat!("warden-client/", env!("CARGO_PKG_VERSION")))
            // Warden never redirects; following one could carry the key somewhere else.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::InvalidArgument(format!("cannot set up the HTTP client: {e}")))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base,
                auth,
                timeout: self.timeout,
                max_retries: self.max_retries,
                initial_backoff: self.initial_backoff,
            }),
            min_revision: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_reserved_characters_are_encoded_as_one_segment() {
        assert_eq!(segment("alice@example.com").unwrap(), "alice%40example.com");
        assert_eq!(segment("docs:read").unwrap(), "docs%3Aread");
        assert_eq!(segment("a|b+c").unwrap(), "a%7Cb%2Bc");
        assert_eq!(segment("a/b").unwrap(), "a%2Fb");
        assert_eq!(segment("x_y-z.1~").unwrap(), "x_y-z.1~");
    }

    #[test]
    fn dot_names_are_refused_before_sending() {
        assert!(matches!(segment("."), Err(Error::InvalidArgument(_))));
        assert!(matches!(segment(".."), Err(Error::InvalidArgument(_))));
        assert!(segment("...").is_ok());
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let initial = Duration::from_millis(100);
        for retry in 0..4 {
            let full = Duration::from_millis(100 * 2u64.pow(retry));
            let wait = backoff(initial, retry);
            assert!(wait >= full / 2 && wait <= full, "{retry}: {wait:?}");
        }
        assert!(backoff(initial, 30) <= MAX_BACKOFF);
    }

    #[test]
    fn the_key_never_shows_in_debug_output() {
        let key = "6f1c2a4e-8b7d-4c3a-9e2f-1a2b3c4d5e6f";
        let builder = Client::builder("http://127.0.0.1:8000").client_key(key);
        assert!(!format!("{builder:?}").contains(key));
        let client = builder.build().unwrap();
        let printed = format!("{client:?}");
        assert!(!printed.contains(key), "{printed}");
        assert!(printed.contains("********"), "{printed}");
    }

    #[test]
    fn base_urls_are_checked_and_trimmed() {
        let client = Client::builder("http://127.0.0.1:8000/").build().unwrap();
        assert_eq!(client.base_url(), "http://127.0.0.1:8000");
        let behind_proxy = Client::builder("https://example.com/warden/")
            .build()
            .unwrap();
        assert_eq!(behind_proxy.base_url(), "https://example.com/warden");
        for bad in ["", "127.0.0.1:8000", "ftp://example.com", "http://x/?a=b"] {
            assert!(Client::builder(bad).build().is_err(), "{bad}");
        }
    }

    #[test]
    fn error_envelopes_become_refusals_and_server_errors() {
        let body = br#"{"success":false,"code":404,"message":"Not Found","error":"role `ghost` not found","timestamp":"x"}"#;
        match decode::<Envelope<serde_json::Value>>(404, body) {
            Err(Error::Refused {
                status,
                message,
                error,
            }) => {
                assert_eq!((status, message.as_str()), (404, "Not Found"));
                assert_eq!(error, "role `ghost` not found");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            decode::<Envelope<serde_json::Value>>(502, b"<html>bad gateway</html>"),
            Err(Error::Server { status: 502, ref message, .. }) if message == "Bad Gateway"
        ));
        assert!(matches!(
            decode::<Envelope<crate::Created>>(200, br#"{"data":{"oops":1}}"#),
            Err(Error::Decode { status: 200, .. })
        ));
    }

    #[test]
    fn at_least_keeps_the_larger_revision_and_shares_the_pool() {
        let client = Client::builder("http://127.0.0.1:8000").build().unwrap();
        assert_eq!(client.min_revision(), None);
        assert_eq!(client.read_query().unwrap(), "");

        let fresh = client.at_least(7);
        assert_eq!(fresh.min_revision(), Some(7));
        assert_eq!(fresh.read_query().unwrap(), "?min_revision=7");
        assert_eq!(fresh.at_least(3).min_revision(), Some(7));
        assert_eq!(fresh.at_least(9).min_revision(), Some(9));
        assert_eq!(client.at_least(-5).read_query().unwrap(), "?min_revision=0");
        assert!(Arc::ptr_eq(&client.inner, &fresh.inner));
        assert_eq!(client.min_revision(), None, "the original is unchanged");
    }

    #[test]
    fn listing_queries_encode_cursors_and_skip_unset_fields() {
        let query = ListingQuery {
            limit: None,
            cursor: Some("YWxpY2VAZXhhbXBsZS5jb20".into()),
            min_revision: Some(3),
        };
        assert_eq!(
            encode_query(&query).unwrap(),
            "?cursor=YWxpY2VAZXhhbXBsZS5jb20&min_revision=3"
        );
        assert_eq!(encode_query(&ListingQuery::default()).unwrap(), "");
    }
}
