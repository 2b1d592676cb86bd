//! Deleting a user races with membership writes: every membership it removes is in the change log, so no instance
//! keeps a grant the database no longer has.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{read, TestApp};
use crate::user_support::put_user;

const ROLES: usize = 12;
const ROUNDS: usize = 5;

async fn send_to(app: &TestApp, base: &str, method: Method, path: &str) -> (u16, Value) {
    let response = app
        .client
        .request(method, format!("{base}{path}"))
        .bearer_auth(&app.key)
        .send()
        .await
        .expect("request sent");
    let (status, body) = read(response).await;
    (status.as_u16(), body)
}

async fn deleting_a_user_while_memberships_are_added_leaves_no_ghost_grant(app: TestApp) {
    let other = app.spawn_another(&[]).await;
    for i in 0..ROLES {
        app.data(Method::POST, &format!("/api/role/r{i}")).await;
        app.data(Method::POST, &format!("/api/permission/r{i}/p{i}"))
            .await;
    }
    for round in 0..ROUNDS {
        let user = format!("u{round}");
        put_user(&app, &user, json!({})).await;
        for i in 0..ROLES / 2 {
            app.data(Method::POST, &format!("/api/membership/{user}/r{i}"))
                .await;
        }
        // Adds on both instances race the deletion; each add must end up either before it (and be removed, with a
        // change-log row) or after it (and stay).
        let mut tasks = Vec::new();
        for i in 0..ROLES {
            let (base, path) = (
                if i % 2 == 0 {
                    app.address.clone()
                } else {
                    other.clone()
                },
                format!("/api/membership/{user}/r{i}"),
            );
            tasks.push((base, Method::POST, path));
            if i == ROLES / 2 {
                tasks.push((
                    app.address.clone(),
                    Method::DELETE,
                    format!("/api/users/{user}"),
                ));
            }
        }
        let answers = futures::future::join_all(
            tasks
                .iter()
                .map(|(base, method, path)| send_to(&app, base, method.clone(), path)),
        )
        .await;
        for (status, body) in answers {
            assert_eq!(status, 200, "{body}");
        }
    }

    // Both models, brought up to the head, agree with the database, user by user and permission by permission.
    let head = app.data(Method::POST, "/api/role/last").await["revision"]
        .as_i64()
        .unwrap();
    for round in 0..ROUNDS {
        let user = format!("u{round}");
        let mut stored = app
            .raw_strings(&format!(
                "SELECT role FROM memberships WHERE user_name = '{user}'"
            ))
            .await;
        stored.sort();
        for base in [&app.address, &other] {
            let (status, body) = send_to(
                &app,
                base,
                Method::GET,
                &format!("/api/user_roles/{user}?min_revision={head}"),
            )
            .await;
            assert_eq!(status, 200, "{body}");
            let mut modelled: Vec<String> = body["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["role"].as_str().unwrap().to_owned())
                .collect();
            modelled.sort();
            assert_eq!(modelled, stored, "{user} on {base}");
            for i in 0..ROLES {
                let (_, body) = send_to(
                    &app,
                    base,
                    Method::GET,
                    &format!("/api/has_permission/{user}/p{i}?min_revision={head}"),
                )
                .await;
                let expected = stored.contains(&format!("r{i}"));
                assert_eq!(
                    body["data"]["has_permission"], expected,
                    "{user} p{i} on {base}"
                );
            }
        }
    }
}

crate::on_both_backends!(deleting_a_user_while_memberships_are_added_leaves_no_ghost_grant);
