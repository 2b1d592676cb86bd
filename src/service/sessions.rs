//! Sessions with permission sets (seed 001), with wildcard permissions.
//!
//! Warden generates each session id (256 random bits, URL-safe base64) and stores only its keyed hash; listings
//! show a public `session_ref` instead, which identifies a session without granting anything.
//!
//! Wildcards: in a *stored* permission, `*` matches any run of characters (including none), case-sensitively;
//! every other character matches itself. `admin:*` grants `admin:read` and `admin:read:all`, not `admin` nor
//! `Admin:read`; `*` alone grants everything.
//!
//! Every write records its audit entry in its transaction, naming the session by its `session_ref` and its user by
//! fingerprint; permission checks are decisions.

use std::collections::BTreeMap;

use serde_json::Value;

use warden_core::crypto::{random_secret, KeyedHasher};
use warden_core::domain::{actions, Name, NameKind, RequestContext, TenantId};
use warden_core::rules::wildcard::{grants, MAX_CHECK_PAIRS};
use warden_store::{NewSession, SessionRecord, SessionUpdate, Store, StoreError, UserGate};

use super::users::{invalid, printable, UsersError, MAX_PROFILE_BYTES};
use super::{AuditLog, Tenants};

pub const DEFAULT_SESSION_TTL_SECONDS: i64 = 3600;
pub const MAX_SESSION_TTL_SECONDS: i64 = 365 * 24 * 3600;
/// The longest permission (and the longest session id looked up), in characters, as in the seed.
pub const MAX_PERMISSION_CHARS: usize = 255;
pub const MAX_PERMISSIONS: usize = 1000;

/// Checks comparing more pairs than this run on the blocking pool, so they never hold an async worker.
const BLOCKING_CHECK_PAIRS: usize = 10_000;

/// A live session as the service hands it out.
#[derive(Debug, Clone)]
pub struct Session {
    pub session_ref: String,
    pub user: String,
    pub permissions: Vec<String>,
    pub metadata: Option<Value>,
    pub created_at: i64,
    pub expires_at: i64,
}

impl Session {
    fn from_record(record: SessionRecord) -> Result<Self, UsersError> {
        let corrupt = |e: serde_json::Error| {
            UsersError::Service(super::ServiceError::Internal(anyhow::anyhow!(
                "stored session JSON: {e}"
            )))
        };
        Ok(Self {
            session_ref: record.session_ref,
            user: record.user_name,
            permissions: serde_json::from_str(&record.permissions).map_err(corrupt)?,
            metadata: record
                .metadata
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .map_err(corrupt)?,
            created_at: record.created_at,
            expires_at: record.expires_at,
        })
    }
}

/// The input of `POST /api/sessions`.
#[derive(Debug, Clone)]
pub struct SessionInput {
    pub user: Name,
    /// The caller's own session id; `None` for a random one.
    pub id: Option<String>,
    pub permissions: Vec<String>,
    pub ttl_seconds: Option<i64>,
    pub metadata: Option<Value>,
}

#[derive(Clone, Debug)]
pub struct SessionsService {
    store: Store,
    ids: KeyedHasher,
    /// Where users' status comes from (the database unless `AUTH_USER_CONFIG_SOURCE=vault`).
    directory: super::UserDirectory,
    audit: AuditLog,
}

/// Validates a permission list: each 1..=255 characters without control characters; duplicates dropped, order
/// kept. Returns it as the JSON text to store.
fn permission_list(permissions: Vec<String>) -> Result<Vec<String>, UsersError> {
    if permissions.len() > MAX_PERMISSIONS {
        return Err(invalid(format!(
            "at most {MAX_PERMISSIONS} permissions are allowed"
        )));
    }
    let mut kept: Vec<String> = Vec::with_capacity(permissions.len());
    for permission in permissions {
        let chars = permission.chars().count();
        if chars == 0 || chars > MAX_PERMISSION_CHARS {
            return Err(invalid(format!(
                "permission `{}` must be 1 to {MAX_PERMISSION_CHARS} characters",
                printable(&permission)
            )));
        }
        if permission.chars().any(char::is_control) {
            return Err(invalid(format!(
                "permission `{}` must not contain control characters",
                printable(&permission)
            )));
        }
        if !kept.contains(&permission) {
            kept.push(permission);
        }
    }
    Ok(kept)
}

/// Validates a caller-chosen session id: 1 to 255 characters without control characters.
fn chosen_id(id: String) -> Result<String, UsersError> {
    let chars = id.chars().count();
    if chars == 0 || chars > MAX_PERMISSION_CHARS || id.chars().any(char::is_control) {
        return Err(invalid(format!(
            "`session_id` must be 1 to {MAX_PERMISSION_CHARS} characters without control characters"
        )));
    }
    Ok(id)
}

fn ttl_seconds(value: Option<i64>) -> Result<i64, UsersError> {
    match value.unwrap_or(DEFAULT_SESSION_TTL_SECONDS) {
        n if (1..=MAX_SESSION_TTL_SECONDS).contains(&n) => Ok(n),
        _ => Err(invalid(format!(
            "`ttl_seconds` must be a whole number from 1 to {MAX_SESSION_TTL_SECONDS}"
        ))),
    }
}

fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl SessionsService {
    pub fn new(store: Store, tenants: &Tenants, audit: AuditLog) -> Self {
        Self {
            store,
            ids: KeyedHasher::new(tenants.derive_key("session-ids")),
            directory: super::UserDirectory::Database,
            audit,
        }
    }

    /// Gates new sessions on `directory` instead of `users` rows.
    pub fn with_directory(mut self, directory: super::UserDirectory) -> Self {
        self.directory = directory;
        self
    }

    /// The hash a session id is stored under; `None` for text that cannot be a session id, which is then treated
    /// as unknown.
    fn id_hash(&self, tenant: &TenantId, id: &str) -> Option<String> {
        (id.len() <= 4 * MAX_PERMISSION_CHARS && id.chars().count() <= MAX_PERMISSION_CHARS)
            .then(|| self.ids.hash(tenant, id))
    }

    /// Creates a session for an allowed, enabled user; returns its id (shown only now) and the session.
    pub async fn create(
        &self,
        tenant: &TenantId,
        context: &RequestContext,
        input: SessionInput,
    ) -> Result<(String, Session), UsersError> {
        // As permission-storage-manager validates it: a session grants something.
        if input.permissions.is_empty() {
            return Err(invalid("`permissions` must list at least one permission"));
        }
        let permissions = permission_list(input.permissions)?;
        let own_id = input.id.map(chosen_id).transpose()?;
        let ttl = ttl_seconds(input.ttl_seconds)?;
        let metadata = match input.metadata {
            None | Some(Value::Null) => None,
            Some(value @ Value::Object(_)) => {
                let text = value.to_string();
                if text.len() > MAX_PROFILE_BYTES {
                    return Err(invalid(format!(
                        "`metadata` is larger than {} KiB",
                        MAX_PROFILE_BYTES / 1024
                    )));
                }
                Some(text)
            }
            Some(_) => return Err(invalid("`metadata` must be a JSON object")),
        };
        // With Vault as the directory, Vault's answer gates the session and no `users` row is needed.
        let gate_checked_elsewhere = self.directory.is_vault();
        if gate_checked_elsewhere {
            match self.directory.lookup(tenant, &input.user).await? {
                None => return Err(UsersError::UserNotFound(input.user)),
                Some(user) if !user.allowed => return Err(UsersError::UserNotAllowed(input.user)),
                Some(_) => {}
            }
        }
        let id = own_id.clone().unwrap_or_else(random_secret);
        let session_ref = uuid::Uuid::new_v4().to_string();
        let now = now_millis();
        let expires_at = now + ttl * 1000;
        let permissions_json = serde_json::Value::from(permissions.clone()).to_string();
        let id_hash = self.ids.hash(tenant, &id);
        let new = NewSession {
            id_hash: &id_hash,
            session_ref: &session_ref,
            user: &input.user,
            permissions: &permissions_json,
            metadata: metadata.as_deref(),
            now,
            expires_at,
            gate_checked_elsewhere,
            chosen_id: own_id.is_some(),
        };
        let target = format!(
            "session={session_ref} {}",
            self.audit.user_target(tenant, input.user.as_str())
        );
        let audit = self.audit.draft(actions::SESSION_CREATE, target, context);
        let created = match self.store.create_session(tenant, &new, audit).await {
            Err(StoreError::Conflict) if new.chosen_id => return Err(UsersError::SessionIdTaken),
            other => other?,
        };
        match created {
            UserGate::Open => {}
            UserGate::UserMissing => return Err(UsersError::UserNotFound(input.user)),
            UserGate::Closed => return Err(UsersError::UserNotAllowed(input.user)),
        }
        let session = Session {
            session_ref,
            user: input.user.as_str().to_owned(),
            permissions,
            metadata: metadata
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .unwrap_or(None),
            created_at: now,
            expires_at,
        };
        Ok((id, session))
    }

    pub async fn get(
        &self,
        tenant: &TenantId,
        context: &RequestContext,
        id: &str,
    ) -> Result<Session, UsersError> {
        let hash = self
            .id_hash(tenant, id)
            .ok_or(UsersError::SessionNotFound)?;
        Session::from_record(self.usable(tenant, context, &hash).await?)
    }

    /// The live session with this id hash, if it may still be used. With Vault as the directory there is no
    /// `users` row whose changes void sessions, so Vault is asked again (through its cache) at every use: a session
    /// whose user Vault no longer knows or allows is ended now (audited `session.delete`) and answers like an
    /// unknown one, also if Vault allows the user again later. Vault not answering is 503 and ends nothing.
    async fn usable(
        &self,
        tenant: &TenantId,
        context: &RequestContext,
        hash: &str,
    ) -> Result<SessionRecord, UsersError> {
        let now = now_millis();
        let record = self
            .store
            .live_session(tenant, hash, now)
            .await?
            .ok_or(UsersError::SessionNotFound)?;
        if self.directory.is_vault() {
            // A stored user name was valid when the session was created; one that no longer parses is refused.
            let allowed = match Name::parse(NameKind::User, &record.user_name) {
                Ok(user) => self
                    .directory
                    .lookup(tenant, &user)
                    .await?
                    .is_some_and(|found| found.allowed),
                Err(_) => false,
            };
            if !allowed {
                let audit = self
                    .audit
                    .draft(actions::SESSION_DELETE, String::new(), context);
                self.store.delete_session(tenant, hash, now, audit).await?;
                return Err(UsersError::SessionNotFound);
            }
        }
        Ok(record)
    }

    /// For each requested permission, whether one of the session's stored permissions grants it. The trail gets
    /// one decision per check, `allowed` when every permission was granted; it counts them rather than naming
    /// them, since session permissions are free text that could imitate other parts of a target.
    pub async fn check(
        &self,
        tenant: &TenantId,
        context: &RequestContext,
        id: &str,
        requested: Vec<String>,
    ) -> Result<BTreeMap<String, bool>, UsersError> {
        let requested = permission_list(requested)?;
        let mut session = match self.get(tenant, context, id).await {
            Err(UsersError::SessionNotFound) => {
                let target = format!("session=unknown requested={}", requested.len());
                self.audit.decision(
                    tenant,
                    actions::CHECK_SESSION_PERMISSIONS,
                    || target,
                    false,
                    context,
                );
                return Err(UsersError::SessionNotFound);
            }
            other => other?,
        };
        let pairs = session.permissions.len() * requested.len();
        if pairs > MAX_CHECK_PAIRS {
            return Err(invalid(format!(
                "checking {} permissions against the session's {} would compare {pairs} pairs; at most \
                 {MAX_CHECK_PAIRS} are allowed per request",
                requested.len(),
                session.permissions.len()
            )));
        }
        let answers = if pairs > BLOCKING_CHECK_PAIRS {
            let patterns = std::mem::take(&mut session.permissions);
            tokio::task::spawn_blocking(move || grants(&patterns, requested))
                .await
                .map_err(|e| {
                    UsersError::Service(super::ServiceError::Internal(anyhow::anyhow!(
                        "session check task: {e}"
                    )))
                })?
        } else {
            grants(&session.permissions, requested)
        };
        let granted = answers.values().filter(|&&granted| granted).count();
        let target = format!(
            "session={} requested={} granted={granted}",
            session.session_ref,
            answers.len()
        );
        self.audit.decision(
            tenant,
            actions::CHECK_SESSION_PERMISSIONS,
            || target,
            granted == answers.len(),
            context,
        );
        Ok(answers)
    }

    /// Sets a live session to expire `ttl_seconds` from now.
    pub async fn set_ttl(
        &self,
        tenant: &TenantId,
        context: &RequestContext,
        id: &str,
        ttl: Option<i64>,
    ) -> Result<Session, UsersError> {
        let ttl = ttl_seconds(Some(
            ttl.ok_or_else(|| invalid("`ttl_seconds` is required"))?,
        ))?;
        let hash = self
            .id_hash(tenant, id)
            .ok_or(UsersError::SessionNotFound)?;
        if self.directory.is_vault() {
            self.usable(tenant, context, &hash).await?;
        }
        let now = now_millis();
        let update = SessionUpdate {
            expires_at: Some(now + ttl * 1000),
            permissions: None,
        };
        // The store names the session: only it can tell which one this id is.
        let audit = self
            .audit
            .draft(actions::SESSION_TTL, String::new(), context);
        let record = self
            .store
            .update_session(tenant, &hash, now, update, audit)
            .await?
            .ok_or(UsersError::SessionNotFound)?;
        Session::from_record(record)
    }

    /// Replaces a live session's permissions, keeping its expiry.
    pub async fn set_permissions(
        &self,
        tenant: &TenantId,
        context: &RequestContext,
        id: &str,
        permissions: Vec<String>,
    ) -> Result<Session, UsersError> {
        let permissions = permission_list(permissions)?;
        let hash = self
            .id_hash(tenant, id)
            .ok_or(UsersError::SessionNotFound)?;
        if self.directory.is_vault() {
            self.usable(tenant, context, &hash).await?;
        }
        let json = serde_json::Value::from(permissions).to_string();
        let update = SessionUpdate {
            expires_at: None,
            permissions: Some(&json),
        };
        let audit = self
            .audit
            .draft(actions::SESSION_PERMISSIONS, String::new(), context);
        let record = self
            .store
            .update_session(tenant, &hash, now_millis(), update, audit)
            .await?
            .ok_or(UsersError::SessionNotFound)?;
        Session::from_record(record)
    }

    pub async fn delete(
        &self,
        tenant: &TenantId,
        context: &RequestContext,
        id: &str,
    ) -> Result<(), UsersError> {
        let hash = self
            .id_hash(tenant, id)
            .ok_or(UsersError::SessionNotFound)?;
        let audit = self
            .audit
            .draft(actions::SESSION_DELETE, String::new(), context);
        if self
            .store
            .delete_session(tenant, &hash, now_millis(), audit)
            .await?
        {
            Ok(())
        } else {
            Err(UsersError::SessionNotFound)
        }
    }

    /// Ends a user's live session by the `session_ref` its listing shows.
    pub async fn delete_by_ref(
        &self,
        tenant: &TenantId,
        context: &RequestContext,
        user: &Name,
        session_ref: &str,
    ) -> Result<(), UsersError> {
        let target = self.audit.user_target(tenant, user.as_str());
        let audit = self.audit.draft(actions::SESSION_DELETE, target, context);
        if self
            .store
            .delete_session_by_ref(tenant, user, session_ref, now_millis(), audit)
            .await?
        {
            Ok(())
        } else {
            Err(UsersError::SessionNotFound)
        }
    }

    /// A user's live sessions, oldest first.
    pub async fn user_sessions(
        &self,
        tenant: &TenantId,
        user: &Name,
    ) -> Result<Vec<Session>, UsersError> {
        if self.store.get_user(tenant, user).await?.is_none() {
            return Err(UsersError::UserNotFound(user.clone()));
        }
        self.store
            .user_sessions(tenant, user, now_millis())
            .await?
            .into_iter()
            .map(Session::from_record)
            .collect()
    }

    /// Logs a user out everywhere: one `DELETE` of all their sessions; returns how many there were.
    pub async fn delete_user_sessions(
        &self,
        tenant: &TenantId,
        context: &RequestContext,
        user: &Name,
    ) -> Result<u64, UsersError> {
        let target = self.audit.user_target(tenant, user.as_str());
        let audit = self
            .audit
            .draft(actions::USER_SESSIONS_DELETE, target, context);
        Ok(self
            .store
            .delete_user_sessions(tenant, user, now_millis(), audit)
            .await?)
    }

    /// Removes this tenant's dead sessions now; returns how many. (The background pruning of expired rows is
    /// housekeeping, not audited; this request is.)
    pub async fn cleanup(
        &self,
        tenant: &TenantId,
        context: &RequestContext,
    ) -> Result<u64, UsersError> {
        let audit = self
            .audit
            .draft(actions::SESSIONS_CLEANUP, String::new(), context);
        Ok(self
            .store
            .cleanup_sessions(tenant, now_millis(), audit)
            .await?)
    }
}
