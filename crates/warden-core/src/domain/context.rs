//! Who asked: the facts about a request that the audit trail records.

/// Request facts for the audit trail. Values are cleaned at the edge (see `api::extract`), never secrets.
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    pub request_id: Option<String>,
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
}
