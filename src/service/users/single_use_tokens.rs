//! Single-use tokens (seed 000): issued to allowed users, stored as keyed hashes, used exactly once; a token
//! that does not match is a refused credential, recorded as a decision.

use warden_core::crypto::random_secret;
use warden_core::domain::UserStatus;
use warden_core::domain::{actions, Name, NameKind, RequestContext, TenantId};
use warden_core::rules::access::MINUTE_MS;
use warden_store::{IssuedToken, UserGate};

use super::*;

/// A validated token's owner.
#[derive(Debug, Clone)]
pub struct TokenOwner {
    pub user: String,
    pub status: UserStatus,
    pub roles: Vec<String>,
}

impl UsersService {
    /// Issues a single-use token `<user>.<secret>` (256-bit secret), revoking the user's earlier unused ones.
    pub async fn issue_token(
        &self,
        tenant: &TenantId,
        context: &RequestContext,
        user: &Name,
        ttl: Option<i64>,
    ) -> Result<(String, i64), UsersError> {
        let ttl = ttl_minutes(ttl, DEFAULT_TOKEN_TTL_MINUTES, MAX_TOKEN_TTL_MINUTES)?;
        let token = format!("{}.{}", user.as_str(), random_secret());
        let now = now_millis();
        let expires_at = now + ttl * MINUTE_MS;
        let hash = self.tokens.hash(tenant, &token);
        // With Vault as the directory, Vault's answer gates the token and no `users` row is needed.
        let gate_checked_elsewhere = self.directory.is_vault();
        if gate_checked_elsewhere {
            match self.directory.lookup(tenant, user).await? {
                None => return Err(UsersError::UserNotFound(user.clone())),
                Some(found) if !found.allowed => {
                    return Err(UsersError::UserNotAllowed(user.clone()))
                }
                Some(_) => {}
            }
        }
        let issued = IssuedToken {
            hash: &hash,
            now,
            expires_at,
            gate_checked_elsewhere,
        };
        let audit = self.user_draft(actions::USER_TOKEN_ISSUE, tenant, user, context);
        match self.store.issue_token(tenant, user, &issued, audit).await? {
            UserGate::Open => Ok((token, expires_at)),
            UserGate::UserMissing => Err(UsersError::UserNotFound(user.clone())),
            UserGate::Closed => Err(UsersError::UserNotAllowed(user.clone())),
        }
    }

    /// Uses a token. Whatever is wrong with it, the answer is [`UsersError::InvalidToken`] after the same work:
    /// one keyed hash of the text as given and one conditional `UPDATE`. A token that matched is audited with its
    /// use; one that did not is a decision `denied`.
    pub async fn validate_token(
        &self,
        tenant: &TenantId,
        context: &RequestContext,
        token: &str,
    ) -> Result<TokenOwner, UsersError> {
        let hash = self.tokens.hash(tenant, token);
        let target = self.token_target(tenant, token);
        if self.directory.is_vault() {
            return self
                .validate_external_token(tenant, context, &hash, target)
                .await;
        }
        let audit = self
            .audit
            .draft(actions::USER_TOKEN_USE, target.clone(), context);
        let consumed = self
            .store
            .consume_token(
                tenant,
                &hash,
                now_millis(),
                &self.codec(tenant).await?,
                audit,
            )
            .await?;
        let Some((user, status, mut roles)) = consumed else {
            return Err(self.token_refused(tenant, context, target));
        };
        roles.sort();
        Ok(TokenOwner {
            user,
            status,
            roles,
        })
    }

    /// With Vault as the directory: finds the token's owner without using it, asks Vault about them (so a Vault
    /// outage answers 503 and leaves the token usable), then uses it with the same conditional `UPDATE`. A token of
    /// a user Vault no longer knows or now denies is used up and refused.
    async fn validate_external_token(
        &self,
        tenant: &TenantId,
        context: &RequestContext,
        hash: &str,
        target: String,
    ) -> Result<TokenOwner, UsersError> {
        let now = now_millis();
        let Some(owner) = self.store.external_token_owner(tenant, hash, now).await? else {
            return Err(self.token_refused(tenant, context, target));
        };
        // The owner's name was valid when the token was issued.
        let name = Name::parse(NameKind::User, &owner).map_err(|_| UsersError::InvalidToken)?;
        let found = self.directory.lookup(tenant, &name).await?;
        // Vault has decided before the token is used, so its use is audited with that answer.
        let allowed = found.as_ref().is_some_and(|found| found.allowed);
        let audit = self
            .audit
            .draft(actions::USER_TOKEN_USE, target.clone(), context)
            .map(|mut draft| {
                draft.outcome = if allowed { "allowed" } else { "denied" }.to_owned();
                draft
            });
        let Some(user) = self
            .store
            .consume_external_token(tenant, hash, now, audit)
            .await?
        else {
            return Err(self.token_refused(tenant, context, target));
        };
        match found {
            Some(found) if found.allowed => {
                let status = found.status().to_owned();
                let mut roles = found.roles;
                roles.sort();
                Ok(TokenOwner {
                    user,
                    status,
                    roles,
                })
            }
            _ => Err(UsersError::InvalidToken),
        }
    }

    pub async fn revoke_tokens(
        &self,
        tenant: &TenantId,
        context: &RequestContext,
        user: &Name,
    ) -> Result<u64, UsersError> {
        let audit = self.user_draft(actions::USER_TOKENS_REVOKE, tenant, user, context);
        Ok(self
            .store
            .revoke_tokens(tenant, user, now_millis(), audit)
            .await?)
    }

    /// The audit target of a presented token: the user it names. Tokens are issued as `<user>.<secret>` and the
    /// secret (URL-safe base64) holds no `.`, so a token that matches its hash names its owner. `user=unknown` for
    /// text that cannot be a token.
    fn token_target(&self, tenant: &TenantId, token: &str) -> String {
        match token
            .rsplit_once('.')
            .and_then(|(user, _)| Name::parse(NameKind::User, user).ok())
        {
            Some(user) => self.audit.user_target(tenant, user.as_str()),
            None => "user=unknown".to_owned(),
        }
    }

    /// A token that matched nothing: nothing was written, so its refusal is a decision for the trail.
    fn token_refused(
        &self,
        tenant: &TenantId,
        context: &RequestContext,
        target: String,
    ) -> UsersError {
        self.audit
            .decision(tenant, actions::USER_TOKEN_USE, || target, false, context);
        UsersError::InvalidToken
    }
}
