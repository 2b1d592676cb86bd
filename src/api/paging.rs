//! `?limit=&cursor=` on the RBAC listings, and how a page is answered.
//!
//! A listing is sorted by name (byte order). `limit` is 1..=[`MAX_PAGE_LIMIT`]; without it a listing of at most
//! [`MAX_PAGE_LIMIT`] names comes whole, as the seed answered, and a longer one comes as its first page. `cursor`
//! is opaque to clients: the base64url (unpadded) text of the last name of the previous page, so pages stay
//! consistent with writes in between (nothing before the cursor is repeated, nothing after it skipped). A bad
//! `limit` or `cursor` is 400. The answer keeps `data` as the seed's array and puts the next page's cursor beside
//! it in `next_cursor` (`null` after the last page) and in a `Link: <…>; rel="next"` header.

use axum::extract::{FromRequestParts, OriginalUri, Query};
use axum::http::request::Parts;
use axum::response::Response;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Serialize;

use super::envelope::ok_page;
use super::ApiError;
use crate::service::{Listed, PageRequest};
use warden_api::ListingQuery;
use warden_core::domain::Name;

/// The largest page, and the longest listing answered whole when no `limit` is given.
pub const MAX_PAGE_LIMIT: usize = warden_api::params::MAX_LISTING_LIMIT as usize;

/// The answer to a `limit` or `min_revision` that is not one (both are read in one go).
fn bad_paging() -> ApiError {
    ApiError::bad_request(format!(
        "`limit` must be a whole number from 1 to {MAX_PAGE_LIMIT}, `min_revision` a whole number from 0"
    ))
}

/// The page a listing request asks for, with what its `next` link needs.
#[derive(Debug, Clone)]
pub struct Paging {
    after: Option<String>,
    limit: usize,
    /// The request's path as sent (still percent-encoded), for the `next` link.
    path: String,
    min_revision: Option<i64>,
    /// `effective=true&` or `transitive=true&` when the request followed inheritance, and `resource=…&` or
    /// `type=…&` when it named them, so its next page does too.
    follow: String,
}

/// The inheritance flags a listing may carry, read leniently (their own extractors reject bad values).
#[derive(Debug, Default, serde::Deserialize)]
struct FollowQuery {
    effective: Option<String>,
    transitive: Option<String>,
    resource: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

/// A name or resource as a query value: every byte a name may hold is safe in a query but `+` (a space there)
/// and `|`; anything else was refused before a page was answered.
fn query_value(value: &str) -> String {
    value.replace('+', "%2B").replace('|', "%7C")
}

impl<S: Send + Sync> FromRequestParts<S> for Paging {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Query(query) = Query::<ListingQuery>::from_request_parts(parts, state)
            .await
            .map_err(|_| bad_paging())?;
        let limit = match query.limit {
            None => MAX_PAGE_LIMIT,
            Some(n) => usize::try_from(n)
                .ok()
                .filter(|n| (1..=MAX_PAGE_LIMIT).contains(n))
                .ok_or_else(bad_paging)?,
        };
        let after = query.cursor.as_deref().map(decode_cursor).transpose()?;
        let path = parts
            .extensions
            .get::<OriginalUri>()
            .map_or_else(|| parts.uri.path(), |uri| uri.0.path())
            .to_owned();
        let follow = Query::<FollowQuery>::from_request_parts(parts, state)
            .await
            .map(|Query(flags)| {
                let mut follow = String::new();
                if flags.effective.as_deref() == Some("true") {
                    follow.push_str("effective=true&");
                } else if flags.transitive.as_deref() == Some("true") {
                    follow.push_str("transitive=true&");
                }
                if let Some(resource) = flags.resource {
                    follow.push_str(&format!("resource={}&", query_value(&resource)));
                }
                if let Some(kind) = flags.kind {
                    follow.push_str(&format!("type={}&", query_value(&kind)));
                }
                follow
            })
            .unwrap_or_default();
        Ok(Self {
            after,
            limit,
            path,
            min_revision: query.min_revision.filter(|r| *r >= 0),
            follow,
        })
    }
}

fn decode_cursor(text: &str) -> Result<String, ApiError> {
    let invalid =
        || ApiError::bad_request("invalid `cursor`: pass `next_cursor` from the previous page");
    // A cursor encodes one name: anything longer is not one of ours.
    if text.len() > Name::MAX_LEN * 2 {
        return Err(invalid());
    }
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
    let name = String::from_utf8(bytes).map_err(|_| invalid())?;
    if name.is_empty() || name.len() > Name::MAX_LEN {
        return Err(invalid());
    }
    Ok(name)
}

impl Paging {
    /// The page to pick from the model.
    pub fn request(&self) -> PageRequest<'_> {
        PageRequest {
            after: self.after.as_deref(),
            limit: self.limit,
        }
    }

    /// Answers `page`, shaping each item with `view`; `key` gives an item's sort key (its name) for the cursor.
    pub fn answer<T, V: Serialize>(
        &self,
        message: &str,
        page: Listed<T>,
        key: impl Fn(&T) -> &str,
        view: impl FnOnce(Vec<T>) -> V,
    ) -> Response {
        let next = page
            .more
            .then(|| {
                page.items
                    .last()
                    .map(|last| URL_SAFE_NO_PAD.encode(key(last)))
            })
            .flatten();
        let link = next.as_ref().map(|cursor| {
            let revision = self
                .min_revision
                .as_ref()
                .map(|r| format!("min_revision={r}&"))
                .unwrap_or_default();
            format!(
                "{path}?{revision}{follow}cursor={cursor}&limit={limit}",
                path = self.path,
                follow = self.follow,
                limit = self.limit
            )
        });
        ok_page(message, view(page.items), next.as_deref(), link.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let cursor = URL_SAFE_NO_PAD.encode("alice@example.com");
        assert_eq!(decode_cursor(&cursor).unwrap(), "alice@example.com");
        for bad in ["!!", "", "/w==", &"QUFB".repeat(100)] {
            assert!(decode_cursor(bad).is_err(), "{bad}");
        }
        // Valid base64url that is not UTF-8.
        assert!(decode_cursor(&URL_SAFE_NO_PAD.encode([0xff, 0xfe])).is_err());
    }
}
