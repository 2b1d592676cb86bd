//! The rules: what may be written and what the answers are. No HTTP, no SQL.

pub mod audit;
mod error;
pub mod model;
mod rbac;
mod tenants;

pub use audit::AuditLog;
pub use error::ServiceError;
pub use model::{Models, RoleInfo};
pub use rbac::{RbacService, Written};
pub use tenants::{TenantSetupError, Tenants};
