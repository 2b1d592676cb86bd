//! The rules: what may be written and what the answers are. No HTTP, no SQL.

mod error;
mod jwt_keys;
mod limits;
mod rbac;
pub mod registry;
mod tenants;
mod tokens;

pub use error::ServiceError;
pub use limits::RateLimiter;
pub use rbac::RbacService;
pub use tenants::Tenants;
pub use tokens::{AccessClaims, IssuedTokens, TokenService};
