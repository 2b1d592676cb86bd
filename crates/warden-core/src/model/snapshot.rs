//! What a store hands the model to build a tenant from.

/// A consistent copy of a tenant's roles, grants and memberships, with fields opened.
#[derive(Debug, Default)]
pub struct ModelSnapshot {
    pub revision: i64,
    /// (role, description)
    pub roles: Vec<(String, Option<String>)>,
    /// (role, permission)
    pub grants: Vec<(String, String)>,
    /// (role, user)
    pub members: Vec<(String, String)>,
}
