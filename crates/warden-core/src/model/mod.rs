//! One tenant's RBAC model in memory, and the snapshot it is built from.

mod snapshot;
mod tenant_model;

pub use snapshot::ModelSnapshot;
pub use tenant_model::{Listed, ModelCounts, PageRequest, RoleInfo, TenantModel};
