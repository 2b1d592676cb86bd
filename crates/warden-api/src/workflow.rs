//! Workflow routes (seed 003): a workflow is a permission name; `GET /api/workflow/users/{workflow}` lists who may
//! run it and `GET /api/workflow/user/{user}/can_run/{workflow}` asks whether one user may, in the seed's shapes.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The users who may run a workflow (one page of them), as the seed's `format_role_members_response` shapes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WorkflowUsers {
    /// How many names `members` holds.
    pub count: usize,
    /// User names, sorted.
    pub members: Vec<String>,
}

/// Whether a user may run a workflow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CanRun {
    /// Whether one of the user's roles grants the workflow's permission.
    pub has_permission: bool,
    /// Only on a negative answer: `user_not_key_backed` under strict users, as in the seed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}
