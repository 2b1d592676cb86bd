//! Validated values that every layer passes around: names, client keys and tenant ids.

mod audit;
mod change;
mod context;
mod description;
mod name;
mod tenant;

pub use audit::{actions, AuditEntry, GENESIS_HASH};
pub use change::Change;
pub use context::RequestContext;
pub use description::{Description, DescriptionError};
pub use name::{Name, NameError, NameKind};
pub use tenant::{ClientKey, ClientKeyError, TenantId, TenantScope, TenantSecret};
