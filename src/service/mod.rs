//! The rules: what may be written and what the answers are. No HTTP, no SQL.

pub mod audit;
mod error;
mod jwt_keys;
mod limits;
pub mod model;
mod rbac;
pub mod registry;
mod tenants;
mod tokens;

pub use audit::AuditLog;
pub use error::ServiceError;
pub use limits::RateLimiter;
pub use model::{Models, RoleInfo};
pub use rbac::{RbacService, Written};
pub use tenants::{TenantSetupError, Tenants};
pub use tokens::{AccessClaims, IssuedTokens, TokenService};
