//! The users, access-check, single-use token, session, JWT and audit methods against a real in-process Warden.

mod support;

use support::Warden;

use warden_client::{AccessRequest, AuditQuery, Error, NewSession, Quotas, UserBody, UserStatus};

fn refused(result: Result<impl std::fmt::Debug, Error>) -> u16 {
    match result {
        Err(Error::Refused { status, .. }) => status,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn users_can_be_created_read_listed_and_deleted() {
    let warden = Warden::start().await;
    let client = warden.client();
    let body = UserBody {
        quotas: Some(Quotas::new(Some(100), None)),
        profile: Some(serde_json::json!({"team": "docs"})),
        ..UserBody::allowed()
    };

    let saved = client.put_user("dave@example.com", &body).await.unwrap();
    assert!(saved.created);
    assert_eq!(saved.user.quotas.requests_per_hour, Some(100));
    client
        .put_user("erin@example.com", &UserBody::denied())
        .await
        .unwrap();
    client.create_role("editor", None).await.unwrap();
    client
        .add_membership("dave@example.com", "editor")
        .await
        .unwrap();

    let dave = client.get_user("dave@example.com").await.unwrap();
    assert_eq!(dave.status, UserStatus::Allowed);
    assert_eq!(dave.roles, Some(vec!["editor".to_owned()]));
    let denied = client
        .list_users(Some(UserStatus::Denied), Some(10), None)
        .await
        .unwrap();
    let names: Vec<_> = denied.items.iter().map(|u| u.user_id.as_str()).collect();
    assert_eq!(names, ["erin@example.com"]);
    assert!(
        client
            .delete_user("erin@example.com")
            .await
            .unwrap()
            .removed
    );
    assert_eq!(refused(client.get_user("erin@example.com").await), 404);
}

#[tokio::test]
async fn access_checks_single_use_tokens_and_activation_codes_work() {
    let warden = Warden::start().await;
    let client = warden.client();
    client
        .put_user("dave@example.com", &UserBody::allowed())
        .await
        .unwrap();

    let decision = client
        .check_access(&AccessRequest {
            chat_id: Some("42".into()),
            ..AccessRequest::user("dave@example.com")
        })
        .await
        .unwrap();
    assert!(decision.is_allowed());
    assert!(!client
        .check_access(&AccessRequest::user("nobody@example.com"))
        .await
        .unwrap()
        .is_allowed());
    let history = client
        .user_requests("dave@example.com", Some(5), None)
        .await
        .unwrap();
    assert_eq!(history.items[0].chat_id.as_deref(), Some("42"));

    let token = client
        .issue_single_use_token("dave@example.com", Some(5))
        .await
        .unwrap();
    let owner = client
        .validate_single_use_token(&token.token)
        .await
        .unwrap();
    assert_eq!(owner.user_id, "dave@example.com");
    assert_eq!(
        refused(client.validate_single_use_token(&token.token).await),
        401
    );
    client
        .issue_single_use_token("dave@example.com", None)
        .await
        .unwrap();
    assert_eq!(
        client
            .revoke_single_use_tokens("dave@example.com")
            .await
            .unwrap()
            .revoked,
        1
    );

    let code = client
        .issue_activation_code("dave@example.com", None)
        .await
        .unwrap();
    client
        .activate_user("dave@example.com", &code.code)
        .await
        .unwrap();
    assert!(client
        .get_user("dave@example.com")
        .await
        .unwrap()
        .activated_at
        .is_some());
}

#[tokio::test]
async fn sessions_answer_checks_and_end() {
    let warden = Warden::start().await;
    let client = warden.client();
    client
        .put_user("dave@example.com", &UserBody::allowed())
        .await
        .unwrap();

    let created = client
        .create_session(&NewSession {
            user_id: "dave@example.com".into(),
            permissions: vec!["docs:read".into(), "admin:*".into()],
            ttl_seconds: Some(600),
            metadata: None,
            session_id: None,
        })
        .await
        .unwrap();
    let id = created.session_id;
    assert_eq!(created.session.user_id, "dave@example.com");
    let answers = client
        .check_session(&id, &["docs:read", "admin:users", "docs:delete"])
        .await
        .unwrap();
    assert!(answers["docs:read"]);
    assert!(answers["admin:users"]);
    assert!(!answers["docs:delete"]);
    let longer = client.set_session_ttl(&id, 1200).await.unwrap();
    assert!(longer.ttl_remaining > 600);
    let narrowed = client
        .set_session_permissions(&id, &["docs:read"])
        .await
        .unwrap();
    assert_eq!(narrowed.permissions, ["docs:read"]);
    assert_eq!(
        client
            .user_sessions("dave@example.com")
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(client.delete_session(&id).await.unwrap().removed);
    assert_eq!(refused(client.get_session(&id).await), 404);
    assert_eq!(
        client
            .delete_user_sessions("dave@example.com")
            .await
            .unwrap()
            .removed,
        0
    );
    client.cleanup_sessions().await.unwrap();
}

#[tokio::test]
async fn jwt_tokens_verify_refresh_with_a_retry_grace_and_the_audit_trail_lists_changes() {
    let warden = Warden::start().await;
    let client = warden.client();
    client.create_role("admin", None).await.unwrap();
    client
        .add_permission("admin", "manage_users")
        .await
        .unwrap();
    client
        .add_membership("alice@example.com", "admin")
        .await
        .unwrap();

    let pair = client.issue_jwt("alice@example.com").await.unwrap();
    assert_eq!(pair.token_type, "Bearer");
    let verified = client.verify_jwt(&pair.access_token).await.unwrap();
    assert_eq!(verified.claims.sub, "alice@example.com");
    assert_eq!(verified.claims.permissions, ["manage_users"]);
    let rotated = client.refresh_jwt(&pair.refresh_token).await.unwrap();
    assert_ne!(rotated.refresh_token, pair.refresh_token);
    // A retry of the same refresh (the answer was lost) within the grace gets the same pair, not a logout.
    let retried = client.refresh_jwt(&pair.refresh_token).await.unwrap();
    assert_eq!(retried.refresh_token, rotated.refresh_token);
    assert_eq!(retried.access_token, rotated.access_token);
    assert_eq!(
        refused(client.refresh_jwt("not-a-refresh-token").await),
        401
    );
    assert_eq!(refused(client.verify_jwt("not.a.jwt").await), 401);
    assert_eq!(refused(client.issue_jwt("ghost@example.com").await), 404);

    let page = client
        .audit_entries(&AuditQuery {
            limit: Some(2),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(page.entries.len(), 2);
    assert!(page.next_cursor.is_some());
    assert!(page.entries[0].seq > page.entries[1].seq);
}
