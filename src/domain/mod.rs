//! Validated values that every layer passes around: names, client keys and tenant ids.

mod description;
mod name;
mod tenant;

pub use description::{Description, DescriptionError};
pub use name::{Name, NameError, NameKind};
pub use tenant::{ClientKey, ClientKeyError, TenantId, TenantSecret};
