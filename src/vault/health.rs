//! What `/readyz` says about Vault: reachable, unreachable, or answering with errors.

use std::sync::{Arc, Mutex};

use super::VaultError;

/// Vault's state as last seen by any Warden call to it; cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct VaultHealth(Arc<Mutex<State>>);

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum State {
    #[default]
    Ok,
    Unreachable,
    Failing,
}

impl VaultHealth {
    pub(crate) fn reachable(&self) {
        self.set(State::Ok);
    }

    pub(crate) fn unreachable(&self, err: &VaultError) {
        if self.set(State::Unreachable) {
            tracing::warn!(error = %err, "vault is unreachable; serving with the secrets already held");
        }
    }

    /// Vault answers, but refuses what Warden needs (a revoked token, a missing role).
    pub(crate) fn failed(&self, err: &VaultError) {
        if self.set(State::Failing) {
            tracing::warn!(error = %err, "vault refuses warden's requests; serving with the secrets already held");
        }
    }

    /// Sets the state; true when it changed.
    fn set(&self, state: State) -> bool {
        // A poisoned lock only means a panic elsewhere while setting a Copy value: the value is still usable.
        let mut current = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let changed = *current != state;
        *current = state;
        metrics::gauge!("warden_vault_up").set(if state == State::Ok { 1.0 } else { 0.0 });
        changed
    }

    /// `"ok"`, `"unreachable"` or `"error"`, for `/readyz`.
    pub fn status(&self) -> &'static str {
        match *self.0.lock().unwrap_or_else(|e| e.into_inner()) {
            State::Ok => "ok",
            State::Unreachable => "unreachable",
            State::Failing => "error",
        }
    }

    pub fn is_ok(&self) -> bool {
        self.status() == "ok"
    }
}
