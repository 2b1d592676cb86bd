//! Audit entries and the hash that chains them.

use sha2::{Digest, Sha256};

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
