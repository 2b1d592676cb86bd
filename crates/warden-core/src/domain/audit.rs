//! Audit entries and the hash that chains them.

use sha2::{Digest, Sha256};

/// The audit actions of users, single-use tokens, sessions and JWTs, and of the decisions about them. (RBAC
/// changes are named by [`super::Change::op`]; its checks `check.user_permission`, `check.role_permission` and
/// `check.membership`.) A failed use of a credential keeps the action of its use, with outcome `denied`.
pub mod actions {
    pub const USER_PUT: &str = "user.put";
    pub const USER_DELETE: &str = "user.delete";
    pub const USER_SENSITIVE_CHANGE: &str = "user.sensitive_change";
    pub const USER_ACTIVATION_CODE: &str = "user.activation_code";
    pub const USER_ACTIVATE: &str = "user.activate";
    /// `POST /api/apikeys/user/{user}`.
    pub const API_KEY_CREATE: &str = "api_key.create";
    /// `DELETE /api/apikeys/user/{user}/{key_id}`.
    pub const API_KEY_REVOKE: &str = "api_key.revoke";
    /// `PATCH /api/apikeys/user/{user}/{key_id}`.
    pub const API_KEY_EXPIRY: &str = "api_key.expiry";
    /// `POST /api/apikeys/validate` and `…/check_permission`.
    pub const CHECK_API_KEY: &str = "check.api_key";
    /// `PUT /api/users/{user}/password`.
    pub const USER_PASSWORD: &str = "user.password";
    /// `POST /api/users/{user}/login`.
    pub const USER_LOGIN: &str = "user.login";
    pub const USER_TOKEN_ISSUE: &str = "user_token.issue";
    pub const USER_TOKEN_USE: &str = "user_token.use";
    pub const USER_TOKENS_REVOKE: &str = "user_tokens.revoke";
    pub const SESSION_CREATE: &str = "session.create";
    pub const SESSION_TTL: &str = "session.ttl";
    pub const SESSION_PERMISSIONS: &str = "session.permissions";
    pub const SESSION_DELETE: &str = "session.delete";
    pub const USER_SESSIONS_DELETE: &str = "user_sessions.delete";
    pub const SESSIONS_CLEANUP: &str = "sessions.cleanup";
    pub const JWT_ISSUE: &str = "jwt.issue";
    pub const JWT_REFRESH: &str = "jwt.refresh";
    pub const JWT_FAMILY_REVOKE: &str = "jwt.family_revoke";
    /// `PUT /api/settings`.
    pub const SETTINGS_PUT: &str = "settings.put";
    /// `warden import-auth`: one entry per imported tenant, with the counts.
    pub const TENANT_IMPORT: &str = "tenant.import";
    /// The client key was rotated (target: references of the old and new key fingerprints).
    pub const CLIENT_KEY_ROTATE: &str = "client_key.rotate";
    /// A recovery key was issued.
    pub const RECOVERY_KEY_ISSUE: &str = "recovery_key.issue";
    /// The tenant was moved to a new client key with its recovery key.
    pub const CLIENT_KEY_RECOVER: &str = "client_key.recover";
    /// `POST /api/access/check`.
    pub const CHECK_ACCESS: &str = "check.access";
    /// `POST /api/sessions/{id}/check`.
    pub const CHECK_SESSION_PERMISSIONS: &str = "check.session_permissions";
    /// `POST /api/token/verify`.
    pub const CHECK_JWT: &str = "check.jwt";
}

/// The hash a tenant's chain starts from.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit entry as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub seq: i64,
    /// Unix milliseconds.
    pub at: i64,
    pub action: String,
    pub target: String,
    pub outcome: String,
    pub request_id: Option<String>,
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditEntry {
    /// SHA-256 over every field but `hash`, each length-prefixed so no two entries encode alike.
    pub fn compute_hash(&self, tenant: &str) -> String {
        let mut hasher = Sha256::new();
        let mut field = |value: &[u8]| {
            hasher.update((value.len() as u64).to_be_bytes());
            hasher.update(value);
        };
        field(b"warden-audit-v1");
        field(tenant.as_bytes());
        field(&self.seq.to_be_bytes());
        field(&self.at.to_be_bytes());
        field(self.action.as_bytes());
        field(self.target.as_bytes());
        field(self.outcome.as_bytes());
        for optional in [&self.request_id, &self.client_ip, &self.user_agent] {
            match optional {
                Some(value) => {
                    field(b"1");
                    field(value.as_bytes());
                }
                None => field(b"0"),
            }
        }
        field(self.prev_hash.as_bytes());
        hex::encode(hasher.finalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> AuditEntry {
        AuditEntry {
            seq: 1,
            at: 1_700_000_000_000,
            action: "role.create".into(),
            target: "role:admin".into(),
            outcome: "changed".into(),
            request_id: Some("r1".into()),
            client_ip: None,
            user_agent: Some("curl".into()),
            prev_hash: GENESIS_HASH.into(),
            hash: String::new(),
        }
    }

    #[test]
    fn every_field_and_the_tenant_change_the_hash() {
        let base = entry().compute_hash("t");
        assert_eq!(base, entry().compute_hash("t"));
        assert_ne!(base, entry().compute_hash("u"));
        let mut changed = entry();
        changed.outcome = "unchanged".into();
        assert_ne!(base, changed.compute_hash("t"));
        let mut moved = entry();
        moved.client_ip = Some(String::new());
        assert_ne!(base, moved.compute_hash("t"));
        let mut relinked = entry();
        relinked.prev_hash = "1".repeat(64);
        assert_ne!(base, relinked.compute_hash("t"));
    }
}
