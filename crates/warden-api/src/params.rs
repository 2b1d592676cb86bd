//! Path and query parameters, and the page shape of the user listings.
//!
//! Query values are read by the server as these types, so the document's ranges and patterns are the ones the
//! server applies; values outside them are 400.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A role, user or permission name: 1 to 128 bytes of `A-Z a-z 0-9 _ . : @ + | -`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(pattern = "^[A-Za-z0-9_.:@+|-]{1,128}$", example = "alice@example.com")]
pub struct Name(pub String);

/// A permission as granted to a role: a [`Name`] that may also hold `*`, which matches any run of characters
/// (`docs:*` grants `docs:read`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(pattern = "^[A-Za-z0-9_.:@+|*-]{1,128}$", example = "docs:*")]
pub struct GrantedName(pub String);

/// The longest page of an RBAC listing, and the longest listing answered whole when no `limit` is given.
pub const MAX_LISTING_LIMIT: u32 = 1000;
/// The longest page of the user, request-history and audit listings.
pub const MAX_PAGE_LIMIT: u32 = 500;

/// `?limit=&cursor=&min_revision=` on the RBAC listings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListingQuery {
    /// The page size; without it, a listing of at most 1000 names comes whole and a longer one as its first page.
    #[param(minimum = 1, maximum = 1000)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page: opaque to clients. (It is the unpadded base64url text of a name; every
    /// name is ASCII, which the pattern spells out group by group.)
    #[param(
        pattern = "^(?:[A-Za-f][A-HQ-Xg-nw-z0-3][ABEFIJMNQRUVYZcdghklopstwx014589][A-Za-z0-9_-]){0,42}(?:[A-Za-f][AQgw]|[A-Za-f][A-HQ-Xg-nw-z0-3][AEIMQUYcgkosw048])?$",
        min_length = 2,
        max_length = 172
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Answer from a model at least this new (a `revision` from a write); 409 when it is not reached in time.
    #[param(minimum = 0)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_revision: Option<i64>,
}

/// `?min_revision=` on the checks: answer from a model at least this new.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReadQuery {
    /// A `revision` from a write; 409 when it is not reached in time.
    #[param(minimum = 0)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_revision: Option<i64>,
}

/// `?effective=` on the structural reads of roles, grants and memberships.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EffectiveQuery {
    /// `true`: follow role inheritance (a role's grants with those of the roles it inherits; a role's members
    /// with those of the roles inheriting it; a user's roles with the roles those inherit). Absent or `false`:
    /// the rows as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective: Option<bool>,
}

/// `?min_revision=&explain=` on `GET /api/has_permission/{user}/{name}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExplainQuery {
    /// `true`: a positive answer carries `explanation`, the membership, inheritance chain and grant that
    /// decided it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explain: Option<bool>,
}

/// `?transitive=` on `GET /api/role/{role}/inherits`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TransitiveQuery {
    /// `true`: every role reached through inheritance, not only the role's own edges.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transitive: Option<bool>,
}

/// `?status=&limit=&cursor=` on `GET /api/users`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UserListQuery {
    /// Only users with this status.
    #[param(value_type = Option<crate::UserStatus>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// 1 to 500; 50 when absent.
    #[param(minimum = 1, maximum = 500)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page (the last name it held).
    #[param(max_length = 128)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// `?limit=&cursor=` on a user's request history.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// 1 to 500; 50 when absent.
    #[param(minimum = 1, maximum = 500)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(pattern = "^[1-9][0-9]{0,17}$")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// One page of a user listing; pass `next_cursor` as `?cursor=` for the next one (`null` on the last page).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    /// This page's items.
    pub items: Vec<T>,
    /// The cursor of the next page.
    pub next_cursor: Option<String>,
}
