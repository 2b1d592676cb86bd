//! `warden import-auth`: moves an `auth` 3.x installation (the service Warden replaces) into Warden. Every
//! tenant (its raw client key is `auth`'s `creator`) keeps its key: its active roles with descriptions, grants,
//! memberships, API keys and `strict_users` setting are imported, one transaction per tenant, with sealed
//! fields opened under `auth`'s key (`v2:` per-tenant and legacy v1 values) and sealed again under Warden's
//! scheme when Warden's encryption is on. Re-running it adds nothing; a dry run reports the same counts and
//! writes nothing. What cannot be imported is listed with the reason, never silently dropped.

use std::collections::{BTreeMap, HashMap};

use secrecy::{ExposeSecret, SecretString};
use warden_core::crypto::{CipherError, FieldCodec, KeyedHasher, MasterKey};
use warden_core::domain::{
    actions, Change, ClientKey, Description, Name, NameKind, RequestContext, TenantId,
};
use warden_store::{
    AuditDraft, AuthData, AuthRow, ImportCounts, ImportedApiKey, Store, StoreError, TenantImport,
};

use super::{imported_key_digest, key_hasher, ServiceError, Tenants};

/// The creator `auth` keeps its encryption canary under: not a tenant.
const CANARY_CREATOR: &str = "00000000-0000-0000-0000-000000000000";
/// `auth`'s own marker rows (e.g. `__meta:grandfathered-3.0__` in its settings): not tenants.
const META_CREATOR_PREFIX: &str = "__meta:";
/// Why a sealed value was skipped when it does not open: a sign of the wrong key, which stops the import.
const DOES_NOT_OPEN: &str = "its encrypted value does not open under the given key";
const CANARY_PLAINTEXT: &str = "auth-encryption-canary-v1";

/// How to read the source.
#[derive(Debug, Default)]
pub struct ImportOptions {
    /// The `AUTH_ENCRYPTION_KEY` the `auth` service sealed its fields with, if it did.
    pub auth_key: Option<SecretString>,
    /// `auth`'s `AUTH_STRICT_USERS_DEFAULT`: what a tenant without a settings row had (`auth` 3.x: strict).
    pub strict_users_default: bool,
    /// Register each imported tenant (`AUTH_TENANT_MODE=registered`), so its client key is accepted.
    pub register: bool,
    pub dry_run: bool,
}

/// Why the import stopped before writing anything.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(
        "the auth database holds encrypted fields; set AUTH_IMPORT_ENCRYPTION_KEY (or AUTH_ENCRYPTION_KEY) to \
         the key the auth service used"
    )]
    KeyNeeded,
    #[error("the given encryption key is not the one the auth database was encrypted with (its canary does not open)")]
    WrongKey,
    #[error(
        "{0} encrypted values of the auth database do not open under the given key: it is the wrong key (or the \
         data was tampered with); nothing was imported"
    )]
    ValuesDoNotOpen(usize),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<StoreError> for ImportError {
    fn from(err: StoreError) -> Self {
        Self::Service(err.into())
    }
}

/// One thing not imported, and why. `tenant` is the tenant's fingerprint, never its client key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub tenant: Option<TenantId>,
    pub what: String,
    pub why: String,
}

/// One tenant's outcome: rows added (none on a re-run) and rows offered by the source.
#[derive(Debug, Clone)]
pub struct TenantOutcome {
    pub tenant: TenantId,
    pub added: ImportCounts,
    pub offered: ImportCounts,
}

/// What an import did (or, dry, would do).
#[derive(Debug, Clone, Default)]
pub struct ImportReport {
    pub tenants: Vec<TenantOutcome>,
    pub skipped: Vec<Skipped>,
}

impl ImportReport {
    pub fn added(&self) -> ImportCounts {
        self.tenants
            .iter()
            .fold(ImportCounts::default(), |sum, t| add(sum, t.added))
    }

    pub fn offered(&self) -> ImportCounts {
        self.tenants
            .iter()
            .fold(ImportCounts::default(), |sum, t| add(sum, t.offered))
    }
}

fn add(a: ImportCounts, b: ImportCounts) -> ImportCounts {
    ImportCounts {
        roles: a.roles + b.roles,
        grants: a.grants + b.grants,
        memberships: a.memberships + b.memberships,
        api_keys: a.api_keys + b.api_keys,
        settings: a.settings + b.settings,
    }
}

/// Opens `auth`'s sealed fields the way its `decrypt_field` did: without a key values are as stored; with one,
/// a value that is not ciphertext at all is a legacy plaintext row and kept, one that fails authentication is
/// refused (fail closed).
struct Opener {
    master: Option<MasterKey>,
}

impl Opener {
    fn open(&self, creator: &str, stored: &str) -> Result<String, &'static str> {
        let Some(master) = &self.master else {
            return Ok(stored.to_owned());
        };
        match master.open_auth_value(creator, stored) {
            Ok(plain) => Ok(plain),
            Err(CipherError::Malformed) if !stored.starts_with("v2:") => Ok(stored.to_owned()),
            Err(_) => Err(DOES_NOT_OPEN),
        }
    }
}

/// Imports everything in `data` into `store` (see the module doc).
pub async fn import_auth(
    store: &Store,
    tenants: &Tenants,
    data: &AuthData,
    options: &ImportOptions,
) -> Result<ImportReport, ImportError> {
    let opener = opener(data, options).await?;
    let hasher = key_hasher(tenants);
    let recovery_hasher = tenants.recovery_hasher();
    let mut report = ImportReport::default();

    // Every creator in the source, in a stable order.
    let mut creators: BTreeMap<&str, ()> = BTreeMap::new();
    for creator in data
        .roles
        .iter()
        .chain(&data.permissions)
        .chain(&data.memberships)
        .map(|row| row.creator.as_str())
        .chain(data.api_keys.iter().map(|k| k.creator.as_str()))
        .chain(data.settings.iter().map(|s| s.creator.as_str()))
    {
        creators.insert(creator, ());
    }
    // First everything is read and opened, so that a wrong key stops the import before any tenant is written.
    let mut prepared = Vec::new();
    for creator in creators.into_keys() {
        if creator == CANARY_CREATOR || creator.starts_with(META_CREATOR_PREFIX) {
            continue;
        }
        let key = match ClientKey::parse(creator) {
            Ok(key) => key,
            Err(_) => {
                report.skipped.push(Skipped {
                    tenant: None,
                    what: "a tenant whose creator is not a UUID4 client key".to_owned(),
                    why: "Warden's client keys are UUID4s; its rows are left in the auth database"
                        .to_owned(),
                });
                continue;
            }
        };
        let scope = tenants
            .authenticate(&key)
            .await?
            .ok_or_else(|| ServiceError::Internal(anyhow::anyhow!("tenant resolution refused")))?;
        let source = Source {
            data,
            opener: &opener,
            hasher: &hasher,
            recovery_hasher: &recovery_hasher,
            options,
        };
        let (import, offered) =
            tenant_import(&source, creator, &scope.id, &scope.codec, &mut report);
        prepared.push((scope, import, offered));
    }
    let unopened = report
        .skipped
        .iter()
        .filter(|s| s.why == DOES_NOT_OPEN)
        .count();
    if unopened > 0 {
        return Err(ImportError::ValuesDoNotOpen(unopened));
    }
    for (scope, import, offered) in prepared {
        if !options.dry_run {
            tenants.ensure_key_stored(&scope).await?;
        }
        let audit = AuditDraft {
            action: actions::TENANT_IMPORT.to_owned(),
            target: "source=auth".to_owned(),
            outcome: String::new(),
            context: RequestContext::default(),
            at: None,
        };
        let added = store
            .import_tenant(&scope, &import, Some(audit), !options.dry_run)
            .await?;
        if options.register && !options.dry_run {
            store.register_tenant(&scope.id).await?;
        }
        report.tenants.push(TenantOutcome {
            tenant: scope.id,
            added,
            offered,
        });
    }
    Ok(report)
}

/// The opener for `options`' key, checked against `auth`'s canary when the source has one; refuses a source
/// with encrypted fields and no key.
async fn opener(data: &AuthData, options: &ImportOptions) -> Result<Opener, ImportError> {
    let canary = data
        .settings
        .iter()
        .find(|row| row.creator == CANARY_CREATOR)
        .and_then(|row| row.canary.clone());
    let Some(key) = &options.auth_key else {
        let sealed = canary.is_some()
            || data
                .roles
                .iter()
                .chain(&data.permissions)
                .chain(&data.memberships)
                .any(|row| row.value.starts_with("v2:"));
        return if sealed {
            Err(ImportError::KeyNeeded)
        } else {
            Ok(Opener { master: None })
        };
    };
    let key = key.expose_secret().to_owned();
    // PBKDF2 with 100 000 iterations: off the async threads.
    let master = tokio::task::spawn_blocking(move || MasterKey::derive(&key))
        .await
        .map_err(|err| ServiceError::Internal(err.into()))?;
    if let Some(canary) = canary {
        if master.open_auth_value(CANARY_CREATOR, &canary).as_deref() != Ok(CANARY_PLAINTEXT) {
            return Err(ImportError::WrongKey);
        }
    }
    Ok(Opener {
        master: Some(master),
    })
}

/// What every tenant's import reads from.
struct Source<'a> {
    data: &'a AuthData,
    opener: &'a Opener,
    hasher: &'a KeyedHasher,
    recovery_hasher: &'a KeyedHasher,
    options: &'a ImportOptions,
}

/// One tenant's rows as Warden changes, keys and settings, and the counts offered; what cannot be imported goes
/// to the report.
fn tenant_import(
    source: &Source<'_>,
    creator: &str,
    tenant: &TenantId,
    codec: &FieldCodec,
    report: &mut ImportReport,
) -> (TenantImport, ImportCounts) {
    let Source {
        data,
        opener,
        hasher,
        recovery_hasher,
        options,
    } = source;
    let mut skip = |what: String, why: &str| {
        report.skipped.push(Skipped {
            tenant: Some(tenant.clone()),
            what,
            why: why.to_owned(),
        });
    };
    let mine = |rows: &'_ [AuthRow]| -> Vec<AuthRow> {
        rows.iter()
            .filter(|row| row.creator == creator)
            .cloned()
            .collect()
    };
    let mut import = TenantImport::default();

    // Roles by id; a soft-deleted role, and with it its grants and memberships, is not imported.
    let mut roles: HashMap<i64, Name> = HashMap::new();
    for row in mine(&data.roles) {
        if !row.active {
            skip(
                format!("role `{}`", printable(&row.value)),
                "soft-deleted in auth",
            );
            continue;
        }
        let role = match Name::parse(NameKind::Role, &row.value) {
            Ok(role) => role,
            Err(err) => {
                skip(
                    format!("role `{}`", printable(&row.value)),
                    &err.to_string(),
                );
                continue;
            }
        };
        let description = match row.description.as_deref().filter(|d| !d.is_empty()) {
            None => None,
            Some(stored) => match opener
                .open(creator, stored)
                .map_err(str::to_owned)
                .and_then(|plain| Description::parse(plain).map_err(|e| e.to_string()))
            {
                Ok(description) => Some(description),
                Err(why) => {
                    skip(format!("the description of role `{role}`"), &why);
                    None
                }
            },
        };
        roles.insert(row.id, role.clone());
        import
            .changes
            .push(Change::CreateRole { role, description });
    }
    let named = |rows: Vec<AuthRow>, kind: NameKind, skip: &mut dyn FnMut(String, &str)| {
        let mut names: HashMap<i64, Name> = HashMap::new();
        for row in rows {
            let what = |shown: &str| format!("{kind} `{shown}`");
            if !row.active {
                skip(what(&format!("#{}", row.id)), "inactive in auth");
                continue;
            }
            let plain = match opener.open(creator, &row.value) {
                Ok(plain) => plain,
                Err(why) => {
                    skip(what(&format!("#{}", row.id)), why);
                    continue;
                }
            };
            match Name::parse(kind, &plain) {
                Ok(name) => {
                    names.insert(row.id, name);
                }
                Err(err) => skip(what(&printable(&plain)), &err.to_string()),
            }
        }
        names
    };
    let permissions = named(mine(&data.permissions), NameKind::Permission, &mut skip);
    let members = named(mine(&data.memberships), NameKind::User, &mut skip);
    for (permission_id, role_id) in &data.permission_roles {
        if let (Some(permission), Some(role)) = (permissions.get(permission_id), roles.get(role_id))
        {
            import.changes.push(Change::Grant {
                role: role.clone(),
                permission: permission.clone(),
            });
        }
    }
    for (membership_id, role_id) in &data.membership_roles {
        if let (Some(user), Some(role)) = (members.get(membership_id), roles.get(role_id)) {
            import.changes.push(Change::AddMember {
                user: user.clone(),
                role: role.clone(),
                expires_at: None,
                scope: None,
            });
        }
    }

    let now = chrono::Utc::now().timestamp_millis();
    for row in data.api_keys.iter().filter(|k| k.creator == creator) {
        let what = format!("API key {}", printable(&row.key_id));
        let user = match opener
            .open(creator, &row.user_name)
            .map_err(str::to_owned)
            .and_then(|plain| Name::parse(NameKind::User, &plain).map_err(|e| e.to_string()))
        {
            Ok(user) => user,
            Err(why) => {
                skip(what, &why);
                continue;
            }
        };
        if row.key_hash.len() != 64 || !row.key_hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            skip(what, "its stored hash is not a hex SHA-256");
            continue;
        }
        if uuid::Uuid::try_parse(&row.key_id).is_err() {
            skip(what, "its key id is not a UUID");
            continue;
        }
        let label = match row.label.as_deref().filter(|l| !l.is_empty()) {
            None => None,
            Some(stored) => match opener.open(creator, stored) {
                Ok(plain) => Some(codec.seal(&plain).into_owned()),
                Err(why) => {
                    skip(format!("the label of {what}"), why);
                    None
                }
            },
        };
        let created_at = row.created_at.as_deref().and_then(millis).unwrap_or(now);
        let mut revoked_at = row.revoked_at.as_deref().and_then(millis);
        if !row.active && revoked_at.is_none() {
            revoked_at = Some(created_at);
        }
        import.api_keys.push(ImportedApiKey {
            key_id: row.key_id.to_ascii_lowercase(),
            user,
            hash: hasher.hash(tenant, &imported_key_digest(&row.key_hash)),
            prefix: row.key_prefix.clone(),
            label,
            created_at,
            revoked_at,
            expires_at: row.expires_at.as_deref().and_then(millis),
            last_used_at: row.last_used_at.as_deref().and_then(millis),
        });
    }
    let setting = data.settings.iter().find(|s| s.creator == creator);
    // auth kept the hex SHA-256 of the recovery key: it is found under the keyed hash of that digest, as imported
    // API keys are, so the recovery key its holder keeps works against Warden.
    if let Some(digest) = setting.and_then(|s| s.rotate_key_hash.as_deref()) {
        if digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit()) {
            import.recovery_key_hash =
                Some(recovery_hasher.hash_unscoped(&imported_key_digest(digest)));
        } else {
            skip(
                "the outstanding recovery (rotate) key".to_owned(),
                "its stored hash is not a hex SHA-256",
            );
        }
    }
    import.strict_users = Some(setting.map_or(options.strict_users_default, |s| s.strict_users));

    let count =
        |pick: fn(&Change) -> bool| import.changes.iter().filter(|c| pick(c)).count() as u64;
    let offered = ImportCounts {
        roles: count(|c| matches!(c, Change::CreateRole { .. })),
        grants: count(|c| matches!(c, Change::Grant { .. })),
        memberships: count(|c| matches!(c, Change::AddMember { .. })),
        api_keys: import.api_keys.len() as u64,
        settings: 1 + u64::from(import.recovery_key_hash.is_some()),
    };
    (import, offered)
}

/// `auth`'s naive UTC date-times (`2026-12-03 15:20:00.123456`, perhaps with `T` or an offset) as Unix ms.
fn millis(text: &str) -> Option<i64> {
    use chrono::{DateTime, NaiveDateTime};
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(&text.replacen(' ', "T", 1)) {
        return Some(at.timestamp_millis());
    }
    if let Ok(at) = DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%#z") {
        return Some(at.timestamp_millis());
    }
    ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .map(|at| at.and_utc().timestamp_millis())
}

/// A stored value as it may be shown in the report: printable ASCII, at most 64 characters.
fn printable(value: &str) -> String {
    value
        .chars()
        .take(64)
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_date_times_read_as_utc_milliseconds() {
        assert_eq!(millis("1970-01-01 00:00:01"), Some(1_000));
        assert_eq!(millis("1970-01-01 00:00:01.5"), Some(1_500));
        assert_eq!(millis("1970-01-01T00:00:01.250000"), Some(1_250));
        assert_eq!(millis("1970-01-01 01:00:01+01:00"), Some(1_000));
        assert_eq!(millis("1970-01-01 01:00:01+01"), Some(1_000));
        assert_eq!(millis("yesterday"), None);
    }

    #[test]
    fn report_text_is_printable_and_short() {
        assert_eq!(printable("a\u{1b}[2Jb"), "a?[2Jb");
        assert_eq!(printable(&"x".repeat(100)).len(), 64);
    }
}
