//! The rules: what may be written and what the answers are. No HTTP, no SQL.

mod error;
mod maintenance;
mod rbac;
mod sessions;
mod tenants;
mod users;

pub use error::ServiceError;
pub use maintenance::run_maintenance;
pub use rbac::RbacService;
pub use sessions::{permission_matches, Session, SessionInput, SessionsService};
pub use tenants::Tenants;
pub use users::{AccessInput, Page, QuotasInput, TokenOwner, UserInput, UsersError, UsersService};
