//! The rules: what may be written and what the answers are. No HTTP, no SQL.

mod error;
mod rbac;
mod tenants;

pub use error::ServiceError;
pub use rbac::RbacService;
pub use tenants::Tenants;
