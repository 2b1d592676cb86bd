//! Activation codes (websauna's accounts): issued once per user, stored as keyed hashes, used once; a code that
//! does not match is a refused credential, recorded as a decision.

use warden_core::crypto::random_secret;
use warden_core::domain::{actions, Name, RequestContext, TenantId};
use warden_core::rules::access::MINUTE_MS;

use super::*;

impl UsersService {
    /// Issues a one-time activation code (256 random bits), replacing any earlier one; returns it with its expiry.
    pub async fn issue_activation_code(
        &self,
        tenant: &TenantId,
        context: &RequestContext,
        user: &Name,
        ttl: Option<i64>,
    ) -> Result<(String, i64), UsersError> {
        let ttl = ttl_minutes(
            ttl,
            DEFAULT_ACTIVATION_TTL_MINUTES,
            MAX_ACTIVATION_TTL_MINUTES,
        )?;
        let code = random_secret();
        let now = now_millis();
        let expires_at = now + ttl * MINUTE_MS;
        let hash = self.code_hash(tenant, user, &code);
        let audit = self.user_draft(actions::USER_ACTIVATION_CODE, tenant, user, context);
        if !self
            .store
            .set_activation_code(tenant, user, &hash, now, expires_at, audit)
            .await?
        {
            return Err(UsersError::UserNotFound(user.clone()));
        }
        Ok((code, expires_at))
    }

    /// Activates a user with their code; every failure is [`UsersError::InvalidActivationCode`], a decision
    /// `denied` for the trail.
    pub async fn activate(
        &self,
        tenant: &TenantId,
        context: &RequestContext,
        user: &Name,
        code: &str,
    ) -> Result<i64, UsersError> {
        let hash = self.code_hash(tenant, user, code);
        let audit = self.user_draft(actions::USER_ACTIVATE, tenant, user, context);
        let activated = self
            .store
            .activate_user(tenant, user, &hash, now_millis(), audit)
            .await?;
        if activated.is_none() {
            self.audit.decision(
                tenant,
                actions::USER_ACTIVATE,
                || self.audit.user_target(tenant, user.as_str()),
                false,
                context,
            );
        }
        activated.ok_or(UsersError::InvalidActivationCode)
    }

    fn code_hash(&self, tenant: &TenantId, user: &Name, code: &str) -> String {
        self.codes
            .hash(tenant, &format!("{}\n{code}", user.as_str()))
    }
}
