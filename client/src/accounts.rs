//! Users, access checks, single-use tokens, activation codes, sessions, JWT access tokens and the audit trail.
//!
//! Calls that would do something twice if repeated (issuing or using a token, creating a session, checking
//! access, which is recorded and counted against quotas) are marked `.not_idempotent()` and never retried.

use warden_api::{
    ActivationCode, LoginBody, NewPassword, PageQuery, RefreshRequest, SessionPermissions,
    SessionTtl, TokenToUse, TokenTtl, TtlMinutes, UserListQuery, VerifyRequest,
};

use crate::client::{encode_query, segment, Request};
use crate::{
    AccessDecision, AccessRecord, AccessRequest, Activated, AuditPage, AuditQuery, Client,
    CodeIssued, Error, NewSession, Page, PasswordSet, PermissionAnswers, Removed, RemovedCount,
    RequestCounters, RequestsQuery, Revoked, SensitiveChanged, Session, SessionCreated,
    SessionEnded, Settings, SettingsChange, TokenIssued, TokenOwner, TokenPair, User, UserBody,
    UserSaved, UserStatus, Verified,
};

fn user_path(user: &str, tail: &str) -> Result<String, Error> {
    Ok(format!("/api/users/{}{tail}", segment(user)?))
}

fn session_path(id: &str, tail: &str) -> Result<String, Error> {
    Ok(format!("/api/sessions/{}{tail}", segment(id)?))
}

/// A request body as JSON; warden-api's bodies always serialise, so an error here is a bug worth reporting.
pub(crate) fn to_json(value: &impl serde::Serialize) -> Result<serde_json::Value, Error> {
    serde_json::to_value(value).map_err(|e| Error::InvalidArgument(e.to_string()))
}

fn permissions_body(permissions: &[&str]) -> Result<serde_json::Value, Error> {
    to_json(&SessionPermissions {
        permissions: permissions.iter().map(|p| (*p).to_owned()).collect(),
    })
}

impl Client {
    /// `PUT /api/users/{user}`: creates or replaces a user. Changing `status` or `enabled` voids the user's
    /// tokens and sessions.
    pub async fn put_user(&self, user: &str, body: &UserBody) -> Result<UserSaved, Error> {
        self.send(Request::put(user_path(user, "")?).json(to_json(body)?))
            .await
    }

    /// `GET /api/users/{user}`: the user with their roles; an unknown user is [`Error::Refused`] with 404.
    pub async fn get_user(&self, user: &str) -> Result<User, Error> {
        self.send(Request::get(user_path(user, "")?)).await
    }

    /// `GET /api/users`: a page of users in name order, optionally only those with `status`.
    pub async fn list_users(
        &self,
        status: Option<UserStatus>,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<Page<User>, Error> {
        let query = encode_query(&UserListQuery {
            status: status.map(|s| s.as_str().to_owned()),
            limit,
            cursor: cursor.map(str::to_owned),
        })?;
        self.send(Request::get(format!("/api/users{query}"))).await
    }

    /// `DELETE /api/users/{user}`: deletes the user with memberships, tokens, sessions and history.
    pub async fn delete_user(&self, user: &str) -> Result<Removed, Error> {
        self.send(Request::delete(user_path(user, "")?)).await
    }

    /// `POST /api/users/{user}/sensitive-change`: voids every token and session issued to the user so far.
    pub async fn sensitive_change(&self, user: &str) -> Result<SensitiveChanged, Error> {
        self.send(Request::post(user_path(user, "/sensitive-change")?))
            .await
    }

    /// `POST /api/users/{user}/activation`: a new one-time activation code (in [`CodeIssued::code`]), replacing
    /// the old one.
    pub async fn issue_activation_code(
        &self,
        user: &str,
        ttl_minutes: Option<i64>,
    ) -> Result<CodeIssued, Error> {
        let request = Request::post(user_path(user, "/activation")?)
            .json(to_json(&TtlMinutes { ttl_minutes })?)
            .not_idempotent();
        self.send(request).await
    }

    /// `POST /api/users/{user}/activate`: uses an activation code; a bad one is [`Error::Refused`] with 400.
    pub async fn activate_user(&self, user: &str, code: &str) -> Result<Activated, Error> {
        let request = Request::post(user_path(user, "/activate")?)
            .json(to_json(&ActivationCode {
                code: code.to_owned(),
            })?)
            .not_idempotent();
        self.send(request).await
    }

    /// `POST /api/access/check`: is the user allowed (and, with a role, a member of it)? Recorded in the
    /// user's history and counted against their quotas, so it is never retried.
    pub async fn check_access(&self, check: &AccessRequest) -> Result<AccessDecision, Error> {
        let request = Request::post("/api/access/check".into())
            .json(to_json(check)?)
            .not_idempotent();
        self.send(request).await
    }

    /// `GET /api/users/{user}/requests`: the user's access-check history, newest first.
    pub async fn user_requests(
        &self,
        user: &str,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<Page<AccessRecord>, Error> {
        let query = encode_query(&PageQuery {
            limit,
            cursor: cursor.map(str::to_owned),
        })?;
        self.send(Request::get(user_path(user, &format!("/requests{query}"))?))
            .await
    }

    /// `GET /api/users/{user}/requests?order=…`: the user's access-check history in either order
    /// ([`Order::Asc`](crate::Order::Asc) is oldest first, as users-package's `get_user_requests(order="asc")`).
    pub async fn user_requests_with(
        &self,
        user: &str,
        query: &RequestsQuery,
    ) -> Result<Page<AccessRecord>, Error> {
        let query = encode_query(query)?;
        self.send(Request::get(user_path(user, &format!("/requests{query}"))?))
            .await
    }

    /// `GET /api/users/{user}/requests/counters`: the user's access checks in the last hour and the last day
    /// (users-package's `get_user_request_counters`).
    pub async fn user_request_counters(&self, user: &str) -> Result<RequestCounters, Error> {
        self.send(Request::get(user_path(user, "/requests/counters")?))
            .await
    }

    /// `POST /api/users/{user}/tokens`: a single-use token `<user>.<secret>` (in [`TokenIssued::token`]).
    pub async fn issue_single_use_token(
        &self,
        user: &str,
        ttl_minutes: Option<i64>,
    ) -> Result<TokenIssued, Error> {
        let request = Request::post(user_path(user, "/tokens")?)
            .json(to_json(&TokenTtl { ttl_minutes })?)
            .not_idempotent();
        self.send(request).await
    }

    /// `POST /api/tokens/validate`: uses a single-use token. Any failure (unknown, used, expired, revoked) is
    /// [`Error::Refused`] with 401.
    pub async fn validate_single_use_token(&self, token: &str) -> Result<TokenOwner, Error> {
        let request = Request::post("/api/tokens/validate".into())
            .json(to_json(&TokenToUse {
                token: token.to_owned(),
            })?)
            .not_idempotent();
        self.send(request).await
    }

    /// `DELETE /api/users/{user}/tokens`: revokes every unused single-use token of the user.
    pub async fn revoke_single_use_tokens(&self, user: &str) -> Result<Revoked, Error> {
        self.send(Request::delete(user_path(user, "/tokens")?))
            .await
    }

    /// `POST /api/sessions`: a new session; its secret id is in [`SessionCreated::session_id`].
    pub async fn create_session(&self, session: &NewSession) -> Result<SessionCreated, Error> {
        let request = Request::post("/api/sessions".into())
            .json(to_json(session)?)
            .not_idempotent();
        self.send(request).await
    }

    /// `GET /api/sessions/{id}`: an unknown, expired or voided session is [`Error::Refused`] with 404.
    pub async fn get_session(&self, id: &str) -> Result<Session, Error> {
        self.send(Request::get(session_path(id, "")?)).await
    }

    /// `POST /api/sessions/{id}/check`: whether the session grants each permission.
    pub async fn check_session(
        &self,
        id: &str,
        permissions: &[&str],
    ) -> Result<PermissionAnswers, Error> {
        let request =
            Request::post(session_path(id, "/check")?).json(permissions_body(permissions)?);
        self.send(request).await
    }

    /// `PUT /api/sessions/{id}/ttl`: the session expires `ttl_seconds` from now.
    pub async fn set_session_ttl(&self, id: &str, ttl_seconds: i64) -> Result<Session, Error> {
        let request = Request::put(session_path(id, "/ttl")?).json(to_json(&SessionTtl {
            ttl_seconds: Some(ttl_seconds),
        })?);
        self.send(request).await
    }

    /// `PUT /api/sessions/{id}/permissions`: replaces the session's permissions, keeping its expiry.
    pub async fn set_session_permissions(
        &self,
        id: &str,
        permissions: &[&str],
    ) -> Result<Session, Error> {
        let request =
            Request::put(session_path(id, "/permissions")?).json(permissions_body(permissions)?);
        self.send(request).await
    }

    /// `DELETE /api/sessions/{id}`: ends the session (an unknown one is [`Error::Refused`] with 404).
    pub async fn delete_session(&self, id: &str) -> Result<SessionEnded, Error> {
        self.send(Request::delete(session_path(id, "")?)).await
    }

    /// `GET /api/users/{user}/sessions`: the user's live sessions (without their ids).
    pub async fn user_sessions(&self, user: &str) -> Result<Vec<Session>, Error> {
        self.send(Request::get(user_path(user, "/sessions")?)).await
    }

    /// `DELETE /api/users/{user}/sessions`: logs the user out everywhere.
    pub async fn delete_user_sessions(&self, user: &str) -> Result<RemovedCount, Error> {
        self.send(Request::delete(user_path(user, "/sessions")?))
            .await
    }

    /// `DELETE /api/users/{user}/sessions/{session_ref}`: ends one of the user's sessions by the `session_ref`
    /// its listing shows; a ref the user has no live session with is [`Error::Refused`] with 404.
    pub async fn delete_user_session(
        &self,
        user: &str,
        session_ref: &str,
    ) -> Result<SessionEnded, Error> {
        let path = user_path(user, &format!("/sessions/{}", segment(session_ref)?))?;
        self.send(Request::delete(path)).await
    }

    /// `PUT /api/users/{user}/password`: sets the user's password (8 to 1024 characters), a sensitive change.
    pub async fn set_password(&self, user: &str, password: &str) -> Result<PasswordSet, Error> {
        let request = Request::put(user_path(user, "/password")?).json(to_json(&NewPassword {
            password: password.to_owned(),
        })?);
        self.send(request).await
    }

    /// `POST /api/users/{user}/login`: a JWT pair for the user's password. A wrong password and an unknown user
    /// are [`Error::Refused`] with 401; repeated failures with 429 (never retried: each attempt counts).
    pub async fn login(&self, user: &str, password: &str) -> Result<TokenPair, Error> {
        let request = Request::post(user_path(user, "/login")?)
            .json(to_json(&LoginBody {
                password: password.to_owned(),
            })?)
            .not_idempotent();
        self.send(request).await
    }

    /// `GET /api/settings`: the tenant's settings.
    pub async fn settings(&self) -> Result<Settings, Error> {
        self.send(Request::get("/api/settings".into())).await
    }

    /// `PUT /api/settings`: changes the fields `change` sets (absent ones stay; `Some(None)` resets one).
    pub async fn put_settings(&self, change: &SettingsChange) -> Result<Settings, Error> {
        let request = Request::put("/api/settings".into()).json(to_json(change)?);
        self.send(request).await
    }

    /// `DELETE /api/users/{user}/jwt`: revokes every refresh family of the user and every access token issued
    /// from them.
    pub async fn revoke_user_jwts(&self, user: &str) -> Result<Revoked, Error> {
        self.send(Request::delete(user_path(user, "/jwt")?)).await
    }

    /// `POST /api/sessions/cleanup`: removes this tenant's expired or voided sessions now.
    pub async fn cleanup_sessions(&self) -> Result<RemovedCount, Error> {
        self.send(Request::post("/api/sessions/cleanup".into()))
            .await
    }

    /// `POST /api/token/{user}`: an access JWT and a refresh token for a user with at least one role (404
    /// otherwise).
    pub async fn issue_jwt(&self, user: &str) -> Result<TokenPair, Error> {
        let request = Request::post(format!("/api/token/{}", segment(user)?)).not_idempotent();
        self.send(request).await
    }

    /// `POST /api/token/refresh`: rotates the refresh token; the new access token carries the user's current roles.
    /// Presenting one that was already rotated returns the same new pair within the server's reuse grace (10 s by
    /// default) and revokes its whole family after it; this call is never retried automatically, since a retry
    /// after the grace would do that.
    pub async fn refresh_jwt(&self, refresh_token: &str) -> Result<TokenPair, Error> {
        let request = Request::post("/api/token/refresh".into())
            .json(to_json(&RefreshRequest {
                refresh_token: refresh_token.to_owned(),
            })?)
            .not_idempotent();
        self.send(request).await
    }

    /// `POST /api/token/verify`: the token's claims; an invalid token is [`Error::Refused`] with 401.
    pub async fn verify_jwt(&self, token: &str) -> Result<Verified, Error> {
        let body = to_json(&VerifyRequest {
            token: token.to_owned(),
        })?;
        self.send(Request::post("/api/token/verify".into()).json(body))
            .await
    }

    /// `GET /api/audit`: this tenant's audit entries, newest first.
    pub async fn audit_entries(&self, filter: &AuditQuery) -> Result<AuditPage, Error> {
        let query = encode_query(filter)?;
        self.send(Request::get(format!("/api/audit{query}"))).await
    }
}
