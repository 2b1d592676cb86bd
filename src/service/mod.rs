//! The rules: what may be written and what the answers are. No HTTP, no SQL.

pub mod answer;
pub mod audit;
mod client_keys;
mod directory;
pub mod encryption;
mod error;
mod group_commit;
pub mod import_auth;
mod jwt_keys;
mod limits;
mod maintenance;
pub mod model;
mod rbac;
pub mod registry;
pub mod server_secrets;
mod sessions;
mod tenants;
mod tokens;
mod users;

pub use audit::AuditLog;
pub use client_keys::{KeyRotation, Recovery};
pub use directory::{DirectoryUser, UserDirectory};
pub use encryption::Encryption;
pub use error::ServiceError;
pub use limits::RateLimiter;
pub use maintenance::{maintenance_pass, run_maintenance};
pub use model::{Listed, Models, PageRequest, Reach, RoleInfo};
pub use rbac::{Asked, NameListing, RbacService, RoleListing, Written, NOT_KEY_BACKED};
pub use server_secrets::{SecretHome, ServerSecret, ServerSecretError};
pub use sessions::{Session, SessionInput, SessionsService};
pub use tenants::{TenantSetupError, Tenants};
pub use tokens::{AccessClaims, IssuedTokens, TokenService};
pub use users::{
    imported_key_digest, is_key_shaped, key_hasher, AccessInput, ApiKeyInfo, KeyRefusal, Page,
    QuotasInput, RequestListing, TokenOwner, UserInput, UsersError, UsersService, MAX_ACTIVE_KEYS,
};
