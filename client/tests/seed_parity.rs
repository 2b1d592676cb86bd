//! The methods for the seed behaviours beyond the seed's REST document, against a real in-process Warden:
//! `/health`, workflows and their periodic check, request order and counters, settings, sessions ended by ref.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use support::Warden;
use warden_client::{
    AccessRequest, Error, NewApiKey, NewSession, Order, RequestsQuery, SettingsChange,
    TextOrNumber, UserBody,
};

#[tokio::test]
async fn health_and_workflows_answer_as_the_seed() {
    let warden = Warden::start().await;
    let client = warden.client();
    assert_eq!(client.health().await.unwrap().status, "healthy");

    client.create_role("ops", None).await.unwrap();
    client.add_permission("ops", "deploy").await.unwrap();
    let added = client.add_membership("bob", "ops").await.unwrap();
    let fresh = client.at_least(added.revision);
    assert_eq!(fresh.workflow_users("deploy").await.unwrap(), ["bob"]);
    assert!(fresh.can_run_workflow("bob", "deploy").await.unwrap());
    assert!(!fresh.can_run_workflow("carl", "deploy").await.unwrap());

    // The periodic check hands every round's answer to the callback until stopped.
    let seen: Arc<Mutex<Vec<Vec<String>>>> = Arc::default();
    let sink = seen.clone();
    let watch = fresh.watch_workflow("deploy", Duration::from_millis(50), move |answer| {
        sink.lock().unwrap().push(answer.unwrap());
    });
    tokio::time::sleep(Duration::from_millis(400)).await;
    watch.stop();
    let rounds = seen.lock().unwrap().len();
    assert!(rounds >= 3, "{rounds} rounds");
    assert!(seen.lock().unwrap().iter().all(|users| users == &["bob"]));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(seen.lock().unwrap().len(), rounds, "stopped means stopped");
}

#[tokio::test]
async fn request_history_order_counters_settings_and_session_refs() {
    let warden = Warden::start().await;
    let client = warden.client();
    client.put_user("42", &UserBody::allowed()).await.unwrap();
    for message in 1..=3 {
        let check = AccessRequest {
            user_id: TextOrNumber::Number(42),
            message_id: Some(TextOrNumber::Number(message)),
            ..AccessRequest::default()
        };
        assert!(client.check_access(&check).await.unwrap().is_allowed());
    }
    let query = RequestsQuery {
        order: Some(Order::Asc),
        limit: Some(2),
        cursor: None,
    };
    let oldest = client.user_requests_with("42", &query).await.unwrap();
    let ids: Vec<_> = oldest
        .items
        .iter()
        .map(|r| r.message_id.clone().unwrap())
        .collect();
    assert_eq!(ids, ["1", "2"]);
    let counters = client.user_request_counters("42").await.unwrap();
    assert_eq!(
        (counters.requests_per_hour, counters.requests_per_day),
        (3, 3)
    );

    let change = SettingsChange {
        auto_register_users: Some(Some(true)),
        ..SettingsChange::default()
    };
    assert!(
        client
            .put_settings(&change)
            .await
            .unwrap()
            .auto_register_users
    );
    assert!(client.settings().await.unwrap().auto_register_users);

    let session = NewSession {
        user_id: "42".into(),
        permissions: vec!["read".into()],
        session_id: Some("my-own-id".into()),
        ..NewSession::default()
    };
    let created = client.create_session(&session).await.unwrap();
    assert_eq!(created.session_id, "my-own-id");
    match client.create_session(&session).await {
        Err(Error::Refused { status: 409, .. }) => {}
        other => panic!("expected 409, got {other:?}"),
    }
    let ended = client
        .delete_user_session("42", &created.session.session_ref)
        .await
        .unwrap();
    assert!(ended.removed);
    assert_eq!(
        client.get_session("my-own-id").await.unwrap_err().status(),
        Some(404)
    );

    // Passwords.
    client.create_role("staff", None).await.unwrap();
    client.add_membership("42", "staff").await.unwrap();
    client
        .set_password("42", "correct horse battery")
        .await
        .unwrap();
    assert_eq!(
        client.login("42", "wrong").await.unwrap_err().status(),
        Some(401)
    );
    let pair = client.login("42", "correct horse battery").await.unwrap();
    assert!(client.verify_jwt(&pair.access_token).await.is_ok());

    // API keys.
    let created = client
        .create_api_key(
            "42",
            &NewApiKey {
                label: Some("bot".into()),
                expires_at: None,
            },
        )
        .await
        .unwrap();
    assert!(
        format!("{created:?}").contains("********"),
        "the key never reaches Debug"
    );
    assert!(!format!("{created:?}").contains(&created.api_key));
    let valid = client.validate_api_key(&created.api_key).await.unwrap();
    assert!(valid.valid);
    assert_eq!(valid.user.as_deref(), Some("42"));
    let check = client
        .check_api_key_permission(&created.api_key, "deploy")
        .await
        .unwrap();
    assert_eq!(check.has_permission, Some(false));
    assert_eq!(client.list_api_keys("42").await.unwrap().count, 1);
    let soon = (chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339();
    let shortened = client
        .shorten_api_key("42", &created.key_id, &soon)
        .await
        .unwrap();
    assert!(shortened.expires_at.is_some());
    assert!(
        !client
            .revoke_api_key("42", &created.key_id)
            .await
            .unwrap()
            .already_revoked
    );
    let revoked = client.validate_api_key(&created.api_key).await.unwrap();
    assert_eq!(revoked.reason.as_deref(), Some("revoked"));
}
