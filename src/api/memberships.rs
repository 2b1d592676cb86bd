//! `GET|POST|DELETE /api/membership/{user}/{role}`: users' memberships in roles.

use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::accounts::optional_time;
use super::envelope::ok;
use super::extract::{name, ApiPath, Consistency, Context, Effective, OptionalJson, Scope, Tenant};
use super::views;
use super::{ApiError, ApiResult, AppState};
use crate::metrics::Check;
use crate::service::Asked;
use warden_api::Name as WireName;
use warden_api::{Created, Envelope, Failures, IsMember, NewMembership, ReadQuery, Removed};
use warden_api::{EffectiveQuery, ResourceQuery};
use warden_core::domain::{Change, Name, NameKind};
use warden_store::now_millis;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(is_member, add_member, remove_member))
}

fn user_and_role((user, role): (String, String)) -> Result<(Name, Name), ApiError> {
    Ok((name(NameKind::User, &user)?, name(NameKind::Role, &role)?))
}

#[utoipa::path(
    get,
    path = "/api/membership/{user}/{role}",
    tag = "roles",
    params(("user" = WireName, Path, description = "user name"), ("role" = WireName, Path, description = "role name"), ReadQuery, EffectiveQuery, ResourceQuery),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "whether the user is in the role", body = Envelope<IsMember>),
        Failures,
    )
)]
async fn is_member(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    Context(context): Context,
    ApiPath(path): ApiPath<(String, String)>,
    consistency: Consistency,
    Effective(reach): Effective,
    Scope(resource): Scope,
) -> ApiResult {
    let (user, role) = user_and_role(path)?;
    let is_member = state
        .rbac
        .is_member(
            &tenant,
            &context,
            &user,
            &role,
            reach,
            Asked {
                resource: resource.as_ref(),
                min_revision: consistency.min_revision,
            },
        )
        .await?;
    state.metrics.decision(Check::Membership, is_member);
    let reason = if is_member {
        None
    } else {
        state
            .rbac
            .refusal_reason(&tenant, &user, consistency.min_revision)
            .await?
    };
    let expires_at = if is_member {
        state
            .rbac
            .membership_expiries(
                &tenant,
                &[(user.as_str(), role.as_str())],
                resource.as_ref(),
                reach,
            )
            .await?
            .pop()
            .flatten()
    } else {
        None
    };
    Ok(ok(
        "membership checked",
        IsMember {
            is_member,
            reason: reason.map(str::to_owned),
            expires_at: optional_time(expires_at),
        },
    ))
}

#[utoipa::path(
    post,
    path = "/api/membership/{user}/{role}",
    tag = "roles",
    params(("user" = WireName, Path, description = "user name"), ("role" = WireName, Path, description = "role name"), ResourceQuery),
    request_body(content = Option<NewMembership>, description = "optional expiry: `expires_at` or `ttl_seconds`", content_type = "application/json"),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "added, or `created: false` (an existing membership takes the expiry given, or none)", body = Envelope<Created>),
        Failures,
    )
)]
async fn add_member(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    Context(context): Context,
    ApiPath(path): ApiPath<(String, String)>,
    Scope(scope): Scope,
    OptionalJson(body): OptionalJson<NewMembership>,
) -> ApiResult {
    let (user, role) = user_and_role(path)?;
    let expires_at = expiry(body.unwrap_or_default(), now_millis())?;
    let written = state
        .rbac
        .write(
            &tenant,
            &context,
            Change::AddMember {
                user,
                role,
                expires_at,
                scope,
            },
        )
        .await?;
    let message = if written.changed {
        "membership added"
    } else if written.updated {
        "membership expiry updated"
    } else {
        "membership already exists"
    };
    Ok(ok(
        message,
        Created {
            expires_at: optional_time(expires_at),
            ..views::created(written)
        },
    ))
}

/// The longest `ttl_seconds`: a hundred years.
const MAX_TTL_SECONDS: i64 = 3_153_600_000;

/// A membership's expiry (Unix ms) from its body, as of `now`: a future `expires_at`, or `ttl_seconds` ahead.
fn expiry(body: NewMembership, now: i64) -> Result<Option<i64>, ApiError> {
    match (body.expires_at, body.ttl_seconds) {
        (Some(_), Some(_)) => Err(ApiError::bad_request(
            "give expires_at or ttl_seconds, not both",
        )),
        (None, None) => Ok(None),
        (None, Some(ttl)) => {
            if !(1..=MAX_TTL_SECONDS).contains(&ttl) {
                return Err(ApiError::bad_request(format!(
                    "ttl_seconds must be from 1 to {MAX_TTL_SECONDS}"
                )));
            }
            // At most a hundred years in milliseconds: far inside i64.
            Ok(Some(now + ttl * 1000))
        }
        (Some(text), None) => {
            let at = chrono::DateTime::parse_from_rfc3339(&text)
                .map_err(|_| ApiError::bad_request("expires_at must be an RFC 3339 date-time"))?
                .timestamp_millis();
            if at <= now {
                return Err(ApiError::bad_request("expires_at must be in the future"));
            }
            Ok(Some(at))
        }
    }
}

#[utoipa::path(
    delete,
    path = "/api/membership/{user}/{role}",
    tag = "roles",
    params(("user" = WireName, Path, description = "user name"), ("role" = WireName, Path, description = "role name"), ResourceQuery),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "removed, or `removed: false`", body = Envelope<Removed>),
        Failures,
    )
)]
async fn remove_member(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    Context(context): Context,
    ApiPath(path): ApiPath<(String, String)>,
    Scope(scope): Scope,
) -> ApiResult {
    let (user, role) = user_and_role(path)?;
    let written = state
        .rbac
        .write(
            &tenant,
            &context,
            Change::RemoveMember { user, role, scope },
        )
        .await?;
    let message = if written.changed {
        "membership removed"
    } else {
        "membership did not exist"
    };
    Ok(ok(message, views::removed(written)))
}
