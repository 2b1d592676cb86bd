//! One tenant's RBAC model in memory, and the snapshot it is built from.

mod builder;
mod holders;
mod ids;
mod listing;
mod queries;
mod resources;
mod snapshot;
mod tenant_model;

pub use builder::{ModelBuilder, ModelSink};
pub use listing::{Listed, PageRequest};
pub use queries::{Explanation, Reach, RoleInfo};
pub use snapshot::ModelSnapshot;
pub use tenant_model::{DueExpiry, ModelCounts, TenantModel};
