//! `limit` and `cursor` on the RBAC listings: pages cover a listing exactly once, and an unpaginated listing over
//! the maximum answers its first page with the cursor instead of the whole list.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::Value;

use crate::helpers::{assert_error_envelope, read, TestApp};
use crate::user_support::run_sql;

const MEMBERS: usize = 2500;
const MAX: usize = 1000;

/// GETs `path` on `base`; returns the status, the body and the `Link` header.
async fn get(app: &TestApp, base: &str, path: &str) -> (u16, Value, Option<String>) {
    let response = app
        .client
        .get(format!("{base}{path}"))
        .bearer_auth(&app.key)
        .send()
        .await
        .expect("request sent");
    let link = response
        .headers()
        .get("link")
        .map(|v| v.to_str().unwrap().to_owned());
    let (status, body) = read(response).await;
    (status.as_u16(), body, link)
}

/// The names of a page's items (`field` of each).
fn names(body: &Value, field: &str) -> Vec<String> {
    body["data"]
        .as_array()
        .unwrap_or_else(|| panic!("data is the seed's array: {body}"))
        .iter()
        .map(|item| item[field].as_str().unwrap().to_owned())
        .collect()
}

/// Walks `path` in pages of `limit`, following `next_cursor`; returns every name in order.
async fn walk(app: &TestApp, base: &str, path: &str, field: &str, limit: usize) -> Vec<String> {
    let separator = if path.contains('?') { '&' } else { '?' };
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{path}{separator}limit={limit}");
        if let Some(cursor) = &cursor {
            url.push_str(&format!("&cursor={cursor}"));
        }
        let (status, body, link) = get(app, base, &url).await;
        assert_eq!(status, 200, "{body}");
        let page = names(&body, field);
        assert!(page.len() <= limit);
        all.extend(page);
        match body["next_cursor"].as_str() {
            Some(next) => {
                let link = link.expect("a next page comes with a Link header");
                assert!(link.ends_with("rel=\"next\""), "{link}");
                assert!(link.contains(&format!("cursor={next}")), "{link}");
                cursor = Some(next.to_owned());
            }
            None => {
                assert!(body["next_cursor"].is_null(), "{body}");
                assert_eq!(link, None);
                return all;
            }
        }
    }
}

async fn a_large_role_is_walked_in_pages_without_duplicates_or_gaps(app: TestApp) {
    app.data(Method::POST, "/api/role/big").await;
    app.data(Method::POST, "/api/permission/big/p").await;
    // 2 500 members stored directly; a second instance loads them all from the database.
    run_sql(
        &app,
        &format!(
            "INSERT INTO memberships (tenant, role, user_name, created_at) \
             SELECT r.tenant, r.name, 'm' || n.i, 0 FROM roles r, \
             (WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < {MEMBERS}) SELECT i FROM c) n \
             WHERE r.name = 'big'"
        ),
    )
    .await;
    let other = app.spawn_another(&[]).await;
    let expected: BTreeSet<String> = (1..=MEMBERS).map(|i| format!("m{i}")).collect();

    for path in ["/api/members/big", "/api/which_users_can/p"] {
        // Unpaginated, over the maximum: the first page, with the cursor beside `data` and in a Link header.
        let (status, body, link) = get(&app, &other, path).await;
        assert_eq!(status, 200, "{body}");
        let first = names(&body, "user");
        assert_eq!(first.len(), MAX);
        let cursor = body["next_cursor"].as_str().expect("a next cursor");
        let link = link.expect("Link header");
        assert!(
            link.starts_with(&format!("<{path}?cursor={cursor}&limit={MAX}>")),
            "{link}"
        );
        // Following the link gives the next page.
        let next = link
            .trim_start_matches('<')
            .split('>')
            .next()
            .unwrap()
            .to_owned();
        let (status, body, _) = get(&app, &other, &next).await;
        assert_eq!(status, 200, "{body}");
        assert!(names(&body, "user")[0] > first[MAX - 1]);

        for limit in [1000, 700, 1] {
            if limit == 1 && path.contains("which") {
                continue; // 2 500 requests add nothing the other sizes do not show
            }
            let all = walk(&app, &other, path, "user", limit).await;
            assert_eq!(
                all.len(),
                MEMBERS,
                "no duplicates, no gaps ({path}, {limit})"
            );
            let sorted: Vec<String> = expected.iter().cloned().collect();
            assert_eq!(all, sorted, "{path} in pages of {limit}");
        }
    }
    // `min_revision` still applies page by page.
    let head = app.data(Method::POST, "/api/role/other").await["revision"]
        .as_i64()
        .unwrap();
    let all = walk(
        &app,
        &other,
        &format!("/api/members/big?min_revision={head}"),
        "user",
        900,
    )
    .await;
    assert_eq!(all.len(), MEMBERS);
}

async fn every_listing_pages_and_small_listings_still_come_whole(app: TestApp) {
    for role in ["a", "b", "c"] {
        app.data(Method::POST, &format!("/api/role/{role}")).await;
        for permission in ["x", "y", "z"] {
            app.data(
                Method::POST,
                &format!("/api/permission/{role}/{permission}"),
            )
            .await;
        }
        for user in ["u1", "u2", "u3"] {
            app.data(Method::POST, &format!("/api/membership/{user}/{role}"))
                .await;
        }
    }
    for (path, field) in [
        ("/api/roles", "role"),
        ("/api/user_roles/u1", "role"),
        ("/api/which_roles_can/x", "role"),
        ("/api/user_permissions/u1", "name"),
        ("/api/role_permissions/a", "name"),
        ("/api/members/a", "user"),
        ("/api/which_users_can/x", "user"),
    ] {
        let (status, body, link) = get(&app, &app.address, path).await;
        assert_eq!(status, 200, "{body}");
        assert!(body["next_cursor"].is_null(), "{path}: {body}");
        assert_eq!(link, None, "{path}");
        let whole = names(&body, field);
        assert_eq!(whole.len(), 3, "{path}: {body}");
        assert_eq!(
            walk(&app, &app.address, path, field, 1).await,
            whole,
            "{path}"
        );
        assert_eq!(
            walk(&app, &app.address, path, field, 2).await,
            whole,
            "{path}"
        );
    }
}

async fn bad_cursors_and_limits_are_400(app: TestApp) {
    app.data(Method::POST, "/api/role/r").await;
    for query in [
        "cursor=!!!",
        "cursor=",
        "cursor=_w",
        "limit=0",
        "limit=1001",
        "limit=-1",
        "limit=ten",
    ] {
        for path in ["/api/members/r", "/api/roles"] {
            let (status, body, _) = get(&app, &app.address, &format!("{path}?{query}")).await;
            let status = reqwest::StatusCode::from_u16(status).unwrap();
            assert_error_envelope(status, &body, 400);
        }
    }
}

crate::on_both_backends!(
    a_large_role_is_walked_in_pages_without_duplicates_or_gaps,
    every_listing_pages_and_small_listings_still_come_whole,
    bad_cursors_and_limits_are_400,
);
