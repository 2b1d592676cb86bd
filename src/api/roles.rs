//! `GET /api/roles`, `POST|DELETE /api/role/{role}`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use super::envelope::ok;
use super::extract::{name, ApiPath, Consistency, Context, OptionalJson, Tenant};
use super::views::{self, Created, Removed};
use super::{ApiError, ApiResult, AppState};
use crate::domain::{Change, Description, NameKind};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/roles", get(list_roles))
        .route("/api/role/{role}", post(create_role).delete(delete_role))
}

async fn list_roles(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    consistency: Consistency,
) -> ApiResult {
    let roles = state.rbac.roles(&tenant, consistency.min_revision).await?;
    Ok(ok("roles listed", views::roles(roles)))
}

#[derive(Deserialize)]
struct NewRole {
    description: Option<String>,
}

async fn create_role(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    Context(context): Context,
    ApiPath(role): ApiPath<String>,
    OptionalJson(body): OptionalJson<NewRole>,
) -> ApiResult {
    let role = name(NameKind::Role, &role)?;
    let description = body
        .and_then(|b| b.description)
        .map(Description::parse)
        .transpose()
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    let written = state
        .rbac
        .write(&tenant, &context, Change::CreateRole { role, description })
        .await?;
    let message = if written.changed {
        "role created"
    } else {
        "role already exists"
    };
    Ok(ok(message, Created::from(written)))
}

async fn delete_role(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    Context(context): Context,
    ApiPath(role): ApiPath<String>,
) -> ApiResult {
    let role = name(NameKind::Role, &role)?;
    let written = state
        .rbac
        .write(&tenant, &context, Change::DeleteRole { role })
        .await?;
    let message = if written.changed {
        "role deleted"
    } else {
        "role did not exist"
    };
    Ok(ok(message, Removed::from(written)))
}
