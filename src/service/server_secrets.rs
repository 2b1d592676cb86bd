//! Where the server's own secrets come from: the tenant secret (client key → tenant id, and every key derived from
//! it: user fingerprints, refresh-token hashes) and the HS256 signing secret.
//!
//! A copy of the database alone must not let anyone forge tokens or reverse user fingerprints, so a generated
//! secret never lives in the database:
//! - Configured (environment or Vault): used. A value `hex:<hex digits>` stands for those bytes (the form generated
//!   secrets take, at least 32 bytes), any other value for its UTF-8 bytes.
//! - SQLite, not configured: read from, or generated into, `<database file>.secrets`, an owner-only (0600) file of
//!   `VARIABLE=hex:…` lines beside the database. It is rewritten only atomically (temporary file, fsync, rename)
//!   under an exclusive lock (the file `<database file>.secrets.lock`, present while held), so instances starting together agree on one value.
//! - PostgreSQL, not configured: refused outside `AUTH_DEBUG_MODE` with an error naming the variable; in debug mode
//!   generated and kept in `warden_meta` (a development convenience only).
//!
//! Databases set up before this rule hold their generated secrets in `warden_meta`. On SQLite they move to the file
//! once and are erased from the database (`Store::meta_forget`). On PostgreSQL start-up is refused with the way out:
//! set the variable to `hex:` followed by the stored value; once the configured value equals the stored copy, the
//! copy is erased. A stored copy that differs from the configured value is left alone: it signs nothing and opens
//! nothing (the tenant secret's check value refuses a configured secret that is not the database's), and keeping it
//! means a mistyped variable never destroys the only copy.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use rand::RngCore;
use secrecy::{ExposeSecret, SecretSlice, SecretString};
use subtle::ConstantTimeEq;

use crate::config::{DatabaseUrl, Settings};
use warden_store::{Store, StoreError};

/// Marks a configured value given as hex digits (how generated secrets are written).
const HEX_PREFIX: &str = "hex:";
/// Random bytes in a generated secret, and the least a `hex:` value must decode to.
const SECRET_BYTES: usize = 32;

/// One of the server secrets this module settles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerSecret {
    /// `AUTH_TENANT_SECRET`.
    Tenant,
    /// `AUTH_JWT_SECRET_KEY`, when tokens are signed with HS256.
    JwtHs256,
}

impl ServerSecret {
    /// The environment variable that configures it (also its key in the secrets file).
    pub fn variable(self) -> &'static str {
        match self {
            Self::Tenant => "AUTH_TENANT_SECRET",
            Self::JwtHs256 => "AUTH_JWT_SECRET_KEY",
        }
    }

    fn vault_key(self) -> &'static str {
        match self {
            Self::Tenant => "tenant_secret",
            Self::JwtHs256 => "jwt_secret",
        }
    }

    /// Where older versions (and PostgreSQL in debug mode) keep the generated value, as bare hex.
    fn meta_key(self) -> &'static str {
        match self {
            Self::Tenant => "tenant_secret",
            Self::JwtHs256 => "jwt_hs256_secret",
        }
    }

    fn what_a_copy_allows(self) -> &'static str {
        match self {
            Self::Tenant => "compute tenant ids and reverse user fingerprints",
            Self::JwtHs256 => "forge access tokens",
        }
    }
}

/// Where generated server secrets are kept for the configured database. Cheap to clone.
#[derive(Debug, Clone)]
pub struct SecretHome {
    /// The secrets file (SQLite); `None` on PostgreSQL.
    file: Option<PathBuf>,
    debug: bool,
}

impl SecretHome {
    /// From the final settings (after Vault's overlay, which may change the database).
    pub fn for_settings(settings: &Settings) -> Self {
        let file = match &settings.database.url {
            DatabaseUrl::Sqlite(path) => Some(secrets_file_of(path)),
            DatabaseUrl::Postgres(_) => None,
        };
        Self {
            file,
            debug: settings.debug,
        }
    }

    /// The secrets file, on SQLite.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }
}

/// `<database file>.secrets`.
pub fn secrets_file_of(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".secrets");
    PathBuf::from(name)
}

/// Why a server secret could not be settled. No message ever holds a secret's value.
#[derive(Debug, thiserror::Error)]
pub enum ServerSecretError {
    #[error(
        "{variable} is required on PostgreSQL outside AUTH_DEBUG_MODE: set it in the environment or as \
         `{vault_key}` in Vault (e.g. `hex:` followed by `openssl rand -hex 32`); a generated secret kept in the \
         database would let anyone with a copy of it {what}"
    )]
    Missing {
        variable: &'static str,
        vault_key: &'static str,
        what: &'static str,
    },
    #[error(
        "{variable} is required on PostgreSQL outside AUTH_DEBUG_MODE, and this database holds the generated secret \
         it has used so far: to keep it, set {variable} (or `{vault_key}` in Vault) to `hex:` followed by the \
         result of `SELECT value FROM warden_meta WHERE key = '{meta_key}'` and start again; Warden then erases \
         the copy from the database"
    )]
    StoredInDatabase {
        variable: &'static str,
        vault_key: &'static str,
        meta_key: &'static str,
    },
    #[error("{variable}: `hex:` must be followed by an even number of hex digits, at least {SECRET_BYTES} bytes")]
    Malformed { variable: &'static str },
    #[error("secrets file `{path}`: {reason}")]
    File { path: String, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The bytes of one server secret (see the module doc for where they come from).
pub async fn server_secret(
    store: &Store,
    home: &SecretHome,
    which: ServerSecret,
    configured: Option<&SecretString>,
) -> Result<SecretSlice<u8>, ServerSecretError> {
    let stored = store
        .meta_get(which.meta_key())
        .await?
        .map(SecretString::from);
    if let Some(configured) = configured {
        let bytes = decode(which, configured.expose_secret())?;
        if let Some(stored) = &stored {
            let copy = stored_bytes(which, stored)?;
            if bool::from(copy.expose_secret().ct_eq(bytes.expose_secret())) {
                store.meta_forget(which.meta_key()).await?;
                tracing::info!(
                    secret = which.variable(),
                    "erased the database's copy of a configured secret"
                );
            }
        }
        return Ok(bytes);
    }
    if let Some(path) = home.file() {
        let from_database = stored.clone();
        let file = path.to_owned();
        let value =
            tokio::task::spawn_blocking(move || file_secret(&file, which, from_database.as_ref()))
                .await
                .map_err(|e| file_error(path, format!("the secrets task failed: {e}")))??;
        if stored.is_some() {
            store.meta_forget(which.meta_key()).await?;
            tracing::warn!(
                secret = which.variable(),
                file = %path.display(),
                "moved a generated secret out of the database into the owner-only secrets file"
            );
        }
        return decode(which, value.expose_secret());
    }
    if home.debug {
        let mut fresh = [0u8; SECRET_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut fresh);
        let kept = store
            .meta_get_or_insert(which.meta_key(), &hex::encode(fresh))
            .await?;
        tracing::warn!(
            secret = which.variable(),
            "not configured: using a generated secret kept in the database (AUTH_DEBUG_MODE only)"
        );
        return stored_bytes(which, &SecretString::from(kept));
    }
    Err(match stored {
        Some(_) => ServerSecretError::StoredInDatabase {
            variable: which.variable(),
            vault_key: which.vault_key(),
            meta_key: which.meta_key(),
        },
        None => ServerSecretError::Missing {
            variable: which.variable(),
            vault_key: which.vault_key(),
            what: which.what_a_copy_allows(),
        },
    })
}

/// A configured value's bytes: `hex:…` decoded, anything else as UTF-8.
fn decode(which: ServerSecret, raw: &str) -> Result<SecretSlice<u8>, ServerSecretError> {
    match raw.strip_prefix(HEX_PREFIX) {
        Some(digits) => match hex::decode(digits.trim()) {
            Ok(bytes) if bytes.len() >= SECRET_BYTES => Ok(SecretSlice::from(bytes)),
            _ => Err(ServerSecretError::Malformed {
                variable: which.variable(),
            }),
        },
        None => Ok(SecretSlice::from(raw.as_bytes().to_vec())),
    }
}

/// A value kept in `warden_meta` (bare hex).
fn stored_bytes(
    which: ServerSecret,
    stored: &SecretString,
) -> Result<SecretSlice<u8>, ServerSecretError> {
    hex::decode(stored.expose_secret())
        .map(SecretSlice::from)
        .map_err(|_| {
            StoreError::Other(anyhow::anyhow!(
                "the stored {} is not hex",
                which.variable()
            ))
            .into()
        })
}

fn file_error(path: &Path, reason: impl Into<String>) -> ServerSecretError {
    ServerSecretError::File {
        path: path.display().to_string(),
        reason: reason.into(),
    }
}

/// Reads `which` from the secrets file, adding it (the database's old copy, else a fresh value) when absent.
/// Runs under an exclusive lock; blocking.
fn file_secret(
    path: &Path,
    which: ServerSecret,
    from_database: Option<&SecretString>,
) -> Result<SecretString, ServerSecretError> {
    let io = |what: &str, e: std::io::Error| file_error(path, format!("{what}: {e}"));
    let mut lock_path = path.as_os_str().to_owned();
    lock_path.push(".lock");
    // Released (the lock file removed) when dropped, also on every early return.
    let _lock = FileLock::acquire(PathBuf::from(lock_path)).map_err(|e| io("cannot lock it", e))?;

    let mut entries = read_entries(path)?;
    let from_database = from_database.map(|hex| format!("{HEX_PREFIX}{}", hex.expose_secret()));
    if let Some(kept) = entries.get(which.variable()) {
        if let Some(old) = &from_database {
            if !bool::from(old.as_bytes().ct_eq(kept.expose_secret().as_bytes())) {
                return Err(file_error(
                    path,
                    format!(
                        "holds a different {} than the database beside it (were files from two installations \
                         mixed?); keep the one the data was written with and remove the other",
                        which.variable()
                    ),
                ));
            }
        }
        return Ok(kept.clone());
    }
    let value = match from_database {
        Some(old) => SecretString::from(old),
        None => {
            let mut fresh = [0u8; SECRET_BYTES];
            rand::rngs::OsRng.fill_bytes(&mut fresh);
            SecretString::from(format!("{HEX_PREFIX}{}", hex::encode(fresh)))
        }
    };
    entries.insert(which.variable().to_owned(), value.clone());
    write_entries(path, &entries)?;
    Ok(value)
}

/// An exclusive lock held as a file created with `O_EXCL` (portable, and within the crate's MSRV). A lock file older
/// than [`STALE_LOCK`] was left by a crash (the locked work takes milliseconds) and is taken over.
struct FileLock(PathBuf);

const STALE_LOCK: std::time::Duration = std::time::Duration::from_secs(30);

impl FileLock {
    fn acquire(path: PathBuf) -> std::io::Result<Self> {
        let deadline = std::time::Instant::now() + 2 * STALE_LOCK;
        loop {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            match options.open(&path) {
                Ok(_) => return Ok(Self(path)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let stale = std::fs::metadata(&path)
                        .and_then(|meta| meta.modified())
                        .ok()
                        .and_then(|modified| modified.elapsed().ok())
                        .is_some_and(|age| age > STALE_LOCK);
                    if stale {
                        let _ = std::fs::remove_file(&path);
                    } else if std::time::Instant::now() > deadline {
                        return Err(e);
                    } else {
                        std::thread::sleep(std::time::Duration::from_millis(20));
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Open options for a file only its owner may read (mode 0600 on Unix); `truncate` empties an existing one.
fn private_options(truncate: bool) -> std::fs::OpenOptions {
    let mut options = std::fs::OpenOptions::new();
    options
        .read(true)
        .write(true)
        .create(true)
        .truncate(truncate);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}

/// The file's `KEY=value` lines; an absent file has none.
fn read_entries(path: &Path) -> Result<BTreeMap<String, SecretString>, ServerSecretError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => SecretString::from(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(file_error(path, format!("cannot read it: {e}"))),
    };
    #[cfg(unix)]
    if let Ok(meta) = std::fs::metadata(path) {
        let mode = std::os::unix::fs::PermissionsExt::mode(&meta.permissions());
        if mode & 0o077 != 0 {
            tracing::warn!(file = %path.display(), "the secrets file is readable by others than its owner; chmod 600 it");
        }
    }
    let mut entries = BTreeMap::new();
    for line in text.expose_secret().lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(file_error(path, "a line is not `KEY=value`"));
        };
        entries.insert(
            key.trim().to_owned(),
            SecretString::from(value.trim().to_owned()),
        );
    }
    Ok(entries)
}

/// Replaces the file atomically: a private temporary file, written and synced, renamed over it.
fn write_entries(
    path: &Path,
    entries: &BTreeMap<String, SecretString>,
) -> Result<(), ServerSecretError> {
    let io = |what: &str, e: std::io::Error| file_error(path, format!("{what}: {e}"));
    let mut text = String::from(
        "# Warden's generated server secrets for the SQLite database beside this file.\n\
         # Owner-only. Back it up, but apart from the database: with both, anyone can forge tokens.\n",
    );
    for (key, value) in entries {
        text.push_str(&format!("{key}={}\n", value.expose_secret()));
    }
    let text = SecretString::from(text);
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = PathBuf::from(temporary);
    let mut file = private_options(true)
        .open(&temporary)
        .map_err(|e| io("cannot create its temporary file", e))?;
    // A temporary file left by a crash keeps its old mode: make sure it is private before writing.
    #[cfg(unix)]
    std::fs::set_permissions(
        &temporary,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .map_err(|e| io("cannot restrict its temporary file", e))?;
    file.write_all(text.expose_secret().as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| io("cannot write it", e))?;
    std::fs::rename(&temporary, path).map_err(|e| io("cannot replace it", e))?;
    // Makes the rename itself durable; directories cannot be opened for syncing everywhere, hence best effort.
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(dir) = std::fs::File::open(dir) {
            let _ = dir.sync_all();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hex_value_stands_for_its_bytes_and_anything_else_for_its_text() {
        let hex = format!("hex:{}", "ab".repeat(32));
        assert_eq!(
            decode(ServerSecret::Tenant, &hex).unwrap().expose_secret(),
            vec![0xab; 32].as_slice()
        );
        assert_eq!(
            decode(ServerSecret::Tenant, "plain-text-secret")
                .unwrap()
                .expose_secret(),
            b"plain-text-secret"
        );
        for bad in ["hex:abc", "hex:zz", "hex:abcd"] {
            let err = decode(ServerSecret::JwtHs256, bad).unwrap_err().to_string();
            assert!(err.starts_with("AUTH_JWT_SECRET_KEY"), "{err}");
            assert!(!err.contains(bad), "{err}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn the_secrets_file_is_created_private_and_read_back_unchanged() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = secrets_file_of(&dir.path().join("w.sqlite3"));
        let first = file_secret(&path, ServerSecret::Tenant, None).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let again = file_secret(&path, ServerSecret::Tenant, None).unwrap();
        assert_eq!(first.expose_secret(), again.expose_secret());
        // A second secret joins the first without changing it.
        let jwt = file_secret(&path, ServerSecret::JwtHs256, None).unwrap();
        assert_ne!(jwt.expose_secret(), first.expose_secret());
        let entries = read_entries(&path).unwrap();
        assert_eq!(
            entries["AUTH_TENANT_SECRET"].expose_secret(),
            first.expose_secret()
        );
        // The database's old copy is taken over, and a different one is refused rather than guessed between.
        let other = secrets_file_of(&dir.path().join("x.sqlite3"));
        let old = SecretString::from("cd".repeat(32));
        let moved = file_secret(&other, ServerSecret::Tenant, Some(&old)).unwrap();
        assert_eq!(moved.expose_secret(), format!("hex:{}", "cd".repeat(32)));
        let differing = SecretString::from("ef".repeat(32));
        let err = file_secret(&other, ServerSecret::Tenant, Some(&differing))
            .unwrap_err()
            .to_string();
        assert!(err.contains("AUTH_TENANT_SECRET"), "{err}");
        assert!(!err.contains("efef"), "{err}");
    }
}
