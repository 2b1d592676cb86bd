//! JWT revocation reaches every credential: each change that takes a user's right to tokens away revokes their
//! refresh families and fails their earlier access tokens, refresh re-reads the user, families end, and a client's
//! retried refresh does not log the user out.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error_envelope, new_key, TestApp};
use crate::jwt::{issue, payload_of, refresh, seed_user, verify};
use crate::user_support::{ok, put_user, run_sql, send, send_as};

/// A pair's access and refresh tokens.
struct Pair {
    access: String,
    refresh: String,
}

fn pair_of(data: &Value) -> Pair {
    Pair {
        access: data["access_token"].as_str().unwrap().to_owned(),
        refresh: data["refresh_token"].as_str().unwrap().to_owned(),
    }
}

async fn new_pair(app: &TestApp, user: &str) -> Pair {
    pair_of(&issue(app, user).await)
}

/// The pair works: its access token verifies (read-only, so the refresh token stays fresh).
async fn assert_live(app: &TestApp, pair: &Pair) {
    let (status, body) = verify(app, &pair.access).await;
    assert_eq!(status, 200, "{body}");
}

/// Neither half of the pair works any more: the access token fails verification and the refresh token mints nothing.
async fn assert_revoked(app: &TestApp, pair: &Pair) {
    let (status, body) = verify(app, &pair.access).await;
    assert_error_envelope(status, &body, 401);
    let (status, body) = refresh(app, &pair.refresh).await;
    assert_error_envelope(status, &body, 401);
}

/// `alice` with a `users` row (allowed, enabled) and the role `editor`.
async fn seed_alice(app: &TestApp) {
    seed_user(app, "alice").await;
    put_user(app, "alice", json!({})).await;
}

async fn a_sensitive_change_revokes_every_jwt_of_the_user(app: TestApp) {
    seed_alice(&app).await;
    seed_user(&app, "bob").await;
    let (first, second) = (new_pair(&app, "alice").await, new_pair(&app, "alice").await);
    let bob = new_pair(&app, "bob").await;
    // The same user name in another tenant.
    let other = new_key();
    for path in [
        "/api/role/editor",
        "/api/membership/alice/editor",
        "/api/token/alice",
    ] {
        assert_eq!(send_as(&app, &other, Method::POST, path, None).await.0, 200);
    }
    let (_, body) = send_as(&app, &other, Method::POST, "/api/token/alice", None).await;
    let foreign = pair_of(&body["data"]);

    ok(
        &app,
        Method::POST,
        "/api/users/alice/sensitive-change",
        None,
    )
    .await;

    assert_revoked(&app, &first).await;
    assert_revoked(&app, &second).await;
    // Nobody else's tokens: another user, the same name in another tenant.
    assert_live(&app, &bob).await;
    let (status, _) = send_as(
        &app,
        &other,
        Method::POST,
        "/api/token/verify",
        Some(&json!({ "token": foreign.access })),
    )
    .await;
    assert_eq!(status, 200);
    // Tokens issued after the change work.
    let after = new_pair(&app, "alice").await;
    assert_live(&app, &after).await;
    assert_eq!(refresh(&app, &after.refresh).await.0, 200);
}

async fn denying_or_disabling_a_user_revokes_every_jwt_and_refuses_new_ones(app: TestApp) {
    seed_alice(&app).await;
    for change in [json!({"status": "denied"}), json!({"enabled": false})] {
        let pair = new_pair(&app, "alice").await;
        put_user(&app, "alice", change.clone()).await;
        assert_revoked(&app, &pair).await;
        let (status, body) = app.post("/api/token/alice").await;
        let reason = assert_error_envelope(status, &body, 403);
        assert!(reason.contains("denied or disabled"), "{reason}");
        put_user(&app, "alice", json!({})).await;
        // Allowing again brings nothing back.
        assert_revoked(&app, &pair).await;
    }
}

async fn deleting_a_user_revokes_every_jwt(app: TestApp) {
    seed_alice(&app).await;
    let pair = new_pair(&app, "alice").await;
    ok(&app, Method::DELETE, "/api/users/alice", None).await;
    assert_revoked(&app, &pair).await;
    // A user recreated under the same name does not inherit the old tokens.
    seed_alice(&app).await;
    assert_revoked(&app, &pair).await;
}

async fn removing_the_last_membership_revokes_every_jwt_but_removing_another_does_not(
    app: TestApp,
) {
    seed_user(&app, "alice").await;
    app.data(Method::POST, "/api/role/viewer").await;
    app.data(Method::POST, "/api/membership/alice/viewer").await;
    let pair = new_pair(&app, "alice").await;
    app.data(Method::DELETE, "/api/membership/alice/viewer")
        .await;
    assert_live(&app, &pair).await;
    app.data(Method::DELETE, "/api/membership/alice/editor")
        .await;
    assert_revoked(&app, &pair).await;
}

async fn deleting_a_role_revokes_the_jwts_of_members_it_leaves_without_a_role(app: TestApp) {
    seed_user(&app, "alice").await;
    seed_user(&app, "bob").await;
    app.data(Method::POST, "/api/role/viewer").await;
    app.data(Method::POST, "/api/membership/bob/viewer").await;
    let (alice, bob) = (new_pair(&app, "alice").await, new_pair(&app, "bob").await);
    app.data(Method::DELETE, "/api/role/editor").await;
    assert_revoked(&app, &alice).await;
    // Bob keeps a role, so his tokens stay; a refresh now carries only that role.
    assert_live(&app, &bob).await;
    let (status, body) = refresh(&app, &bob.refresh).await;
    assert_eq!(status, 200, "{body}");
    let claims = payload_of(body["data"]["access_token"].as_str().unwrap());
    assert_eq!(claims["roles"], json!(["viewer"]));
}

async fn a_refresh_re_reads_the_user_even_where_no_revocation_reached(app: TestApp) {
    // Families recorded before revocations reached them (or changed behind Warden's back): refresh itself refuses.
    seed_alice(&app).await;
    let pair = new_pair(&app, "alice").await;
    run_sql(&app, "UPDATE users SET status = 'denied'").await;
    let (status, body) = refresh(&app, &pair.refresh).await;
    assert_error_envelope(status, &body, 401);

    run_sql(&app, "UPDATE users SET status = 'allowed'").await;
    let pair = new_pair(&app, "alice").await;
    run_sql(&app, "UPDATE token_families SET member = NULL").await;
    app.data(Method::DELETE, "/api/membership/alice/editor")
        .await;
    let (status, body) = refresh(&app, &pair.refresh).await;
    let reason = assert_error_envelope(status, &body, 401);
    assert!(reason.contains("role"), "{reason}");
}

async fn a_refreshed_access_token_carries_the_users_current_roles(app: TestApp) {
    seed_user(&app, "alice").await;
    let pair = new_pair(&app, "alice").await;
    app.data(Method::POST, "/api/role/viewer").await;
    app.data(Method::POST, "/api/permission/viewer/reports:read")
        .await;
    app.data(Method::POST, "/api/membership/alice/viewer").await;
    app.data(Method::DELETE, "/api/permission/editor/docs:write")
        .await;
    let (status, body) = refresh(&app, &pair.refresh).await;
    assert_eq!(status, 200, "{body}");
    let claims = payload_of(body["data"]["access_token"].as_str().unwrap());
    assert_eq!(claims["roles"], json!(["editor", "viewer"]));
    assert_eq!(claims["permissions"], json!(["docs:read", "reports:read"]));
}

async fn a_family_stops_refreshing_at_its_absolute_lifetime(app: TestApp) {
    seed_user(&app, "alice").await;
    let pair = new_pair(&app, "alice").await;
    // 29 days old: still inside the default 30.
    run_sql(
        &app,
        "UPDATE token_families SET created_at = created_at - 2505600000",
    )
    .await;
    let (status, body) = refresh(&app, &pair.refresh).await;
    assert_eq!(status, 200, "{body}");
    let next = pair_of(&body["data"]);
    // 31 days old: the refresh token itself is fresh, but the family is over.
    run_sql(
        &app,
        "UPDATE token_families SET created_at = created_at - 172800000",
    )
    .await;
    let (status, body) = refresh(&app, &next.refresh).await;
    let reason = assert_error_envelope(status, &body, 401);
    assert!(reason.contains("maximum lifetime"), "{reason}");

    // The lifetime is configurable.
    let app = app
        .respawn(&[("AUTH_JWT_REFRESH_FAMILY_MAX_DAYS", "1")])
        .await;
    let pair = new_pair(&app, "alice").await;
    run_sql(
        &app,
        "UPDATE token_families SET created_at = created_at - 86400000 WHERE revoked_at IS NULL",
    )
    .await;
    let (status, body) = refresh(&app, &pair.refresh).await;
    assert_error_envelope(status, &body, 401);
}

async fn deleting_a_users_jwts_revokes_every_family_on_demand(app: TestApp) {
    seed_user(&app, "alice").await;
    seed_user(&app, "bob").await;
    let (first, second) = (new_pair(&app, "alice").await, new_pair(&app, "alice").await);
    let bob = new_pair(&app, "bob").await;
    let data = ok(&app, Method::DELETE, "/api/users/alice/jwt", None).await;
    assert_eq!(data["revoked"], 2);
    assert_revoked(&app, &first).await;
    assert_revoked(&app, &second).await;
    assert_live(&app, &bob).await;
    // Again: nothing left to revoke. Another tenant cannot revoke this one's.
    let data = ok(&app, Method::DELETE, "/api/users/alice/jwt", None).await;
    assert_eq!(data["revoked"], 0);
    let (status, body) =
        send_as(&app, &new_key(), Method::DELETE, "/api/users/bob/jwt", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["revoked"], 0);
    assert_live(&app, &bob).await;
    let (status, body) = send(&app, Method::DELETE, "/api/users/bad%20name/jwt", None).await;
    assert_error_envelope(status, &body, 400);
}

async fn sixty_four_concurrent_refreshes_of_one_token_get_one_pair_and_keep_the_family(
    app: TestApp,
) {
    seed_user(&app, "alice").await;
    let pair = new_pair(&app, "alice").await;
    let attempts = (0..64).map(|_| refresh(&app, &pair.refresh));
    let results = futures::future::join_all(attempts).await;
    let first = &results[0].1["data"];
    for (status, body) in &results {
        assert_eq!(*status, 200, "{body}");
        assert_eq!(body["data"]["access_token"], first["access_token"]);
        assert_eq!(body["data"]["refresh_token"], first["refresh_token"]);
    }
    // The family survives: the one new pair works, and the old access token too.
    let next = pair_of(first);
    assert_live(&app, &next).await;
    assert_live(&app, &pair).await;
    let (status, body) = refresh(&app, &next.refresh).await;
    assert_eq!(status, 200, "{body}");
    // Nothing but the new pair is kept sealed beside the token it replaced, never in clear.
    let stored = app
        .raw_strings("SELECT successor FROM refresh_tokens WHERE successor IS NOT NULL")
        .await;
    assert!(!stored.is_empty());
    for sealed in stored {
        assert!(!sealed.contains(&next.refresh[..16]), "sealed, not clear");
    }
}

async fn reusing_a_rotated_refresh_token_after_the_grace_revokes_the_family(app: TestApp) {
    seed_user(&app, "alice").await;
    let pair = new_pair(&app, "alice").await;
    let (status, body) = refresh(&app, &pair.refresh).await;
    assert_eq!(status, 200, "{body}");
    let next = pair_of(&body["data"]);
    // A retry inside the grace gets the same pair.
    let (_, again) = refresh(&app, &pair.refresh).await;
    assert_eq!(
        again["data"]["refresh_token"],
        body["data"]["refresh_token"]
    );
    // Eleven seconds later (the default grace is 10 s), the same presentation is a reuse.
    run_sql(
        &app,
        "UPDATE refresh_tokens SET used_at = used_at - 11000 WHERE used_at IS NOT NULL",
    )
    .await;
    let (status, body) = refresh(&app, &pair.refresh).await;
    let reason = assert_error_envelope(status, &body, 401);
    assert!(reason.contains("already used"), "{reason}");
    assert_revoked(&app, &next).await;

    // With the grace off, even an immediate retry revokes.
    let app = app
        .respawn(&[("AUTH_JWT_REFRESH_REUSE_GRACE_SECONDS", "0")])
        .await;
    let pair = new_pair(&app, "alice").await;
    let (status, body) = refresh(&app, &pair.refresh).await;
    assert_eq!(status, 200, "{body}");
    let next = pair_of(&body["data"]);
    let (status, body) = refresh(&app, &pair.refresh).await;
    assert_error_envelope(status, &body, 401);
    assert_revoked(&app, &next).await;
}

crate::on_both_backends!(
    a_sensitive_change_revokes_every_jwt_of_the_user,
    denying_or_disabling_a_user_revokes_every_jwt_and_refuses_new_ones,
    deleting_a_user_revokes_every_jwt,
    removing_the_last_membership_revokes_every_jwt_but_removing_another_does_not,
    deleting_a_role_revokes_the_jwts_of_members_it_leaves_without_a_role,
    a_refresh_re_reads_the_user_even_where_no_revocation_reached,
    a_refreshed_access_token_carries_the_users_current_roles,
    a_family_stops_refreshing_at_its_absolute_lifetime,
    deleting_a_users_jwts_revokes_every_family_on_demand,
    sixty_four_concurrent_refreshes_of_one_token_get_one_pair_and_keep_the_family,
    reusing_a_rotated_refresh_token_after_the_grace_revokes_the_family,
);
