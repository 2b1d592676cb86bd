//! Validated values that every layer passes around: names, client keys, tenant ids and user statuses.

mod audit;
mod change;
mod context;
mod description;
mod name;
mod resource;
mod tenant;
mod user_status;

pub use audit::{actions, AuditEntry, GENESIS_HASH};
pub use change::Change;
pub use context::RequestContext;
pub use description::{Description, DescriptionError};
pub use name::{Name, NameError, NameKind};
pub use resource::{Resource, ResourceError};
pub use tenant::{ClientKey, ClientKeyError, TenantId, TenantScope, TenantSecret};
pub use user_status::UserStatus;
