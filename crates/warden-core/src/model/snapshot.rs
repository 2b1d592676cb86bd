//! What a store hands the model to build a tenant from.

/// A consistent copy of a tenant's roles, grants and memberships, with fields opened.
#[derive(Debug, Default)]
pub struct ModelSnapshot {
    pub revision: i64,
    /// (role, description)
    pub roles: Vec<(String, Option<String>)>,
    /// (role, permission)
    pub grants: Vec<(String, String)>,
    /// (role, user, expiry in Unix ms or `None` for never)
    pub members: Vec<(String, String, Option<i64>)>,
    /// (role, parent): `role` inherits everything `parent` grants.
    pub inherits: Vec<(String, String)>,
    /// (resource, parent), both `type:id`.
    pub resources: Vec<(String, Option<String>)>,
    /// (role, user, resource `type:id`, expiry in Unix ms or `None` for never)
    pub scoped_members: Vec<(String, String, String, Option<i64>)>,
    /// The tenant's `strict_users` setting.
    pub strict_users: bool,
    /// Under `strict_users` only: each user with an active API key, and when their last one expires (Unix ms,
    /// `i64::MAX` for never).
    pub key_backed: Vec<(String, i64)>,
}
