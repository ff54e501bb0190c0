//! Session lifecycle (#10): reuse of a refresh token ends its session, a grace
//! window for racing clients, the absolute lifetime cap, the sessions a user
//! sees and ends, and the audit events.

use e2e::app::{graphql_request, ANY_ROLE, REFRESH_QUERY};
use e2e::db::claims;
use e2e::{LambdaResponse, Payload, TestApp};
use mongodb::bson::{doc, DateTime};
use serde_json::{json, Value};
use std::time::Duration;

/// Every role may log in; `sue` (support) is a plain signed-in user.
async fn app() -> TestApp {
    TestApp::with_env(&[ANY_ROLE]).await
}

const NO_GRACE: (&str, &str) = ("REFRESH_REUSE_GRACE_SECONDS", "0");

/// The new (access, refresh) of a refresh answer, if it has them.
fn pair(response: &LambdaResponse) -> Option<(String, String)> {
    let data = &response.body["data"]["refresh_token"];
    data["access_token"]
        .as_str()
        .zip(data["refresh_token"].as_str())
        .map(|(a, r)| (a.to_owned(), r.to_owned()))
}

fn new_pair(response: &LambdaResponse) -> (String, String) {
    pair(response).unwrap_or_else(|| panic!("no new pair: {}", response.raw_body))
}

fn assert_unauthorized(response: &LambdaResponse) {
    assert_eq!(response.status, 200, "{}", response.raw_body);
    assert_eq!(
        response.body["errors"][0]["message"], "unauthorized",
        "{}",
        response.raw_body
    );
    assert_eq!(response.body["data"]["refresh_token"], Value::Null);
}

fn uuid(token: &str) -> String {
    claims(token)["uuid"].as_str().expect("uuid").to_owned()
}

mod reuse {
    use super::*;

    #[tokio::test]
    async fn reuse_of_the_previous_refresh_token_ends_the_session_and_its_newest_pair() {
        let mut app = TestApp::with_env(&[ANY_ROLE, NO_GRACE]).await;
        let (_, first) = app.login("sue", "current").await;
        let (access, refresh) = new_pair(&app.refresh(&first).await);
        assert_unauthorized(&app.refresh(&first).await);
        assert_eq!(app.me_status(&access).await, 401);
        assert_unauthorized(&app.refresh(&refresh).await);
        assert!(app.db.sessions().await.is_empty());
        assert!(app.db.session_metas().await.is_empty());
    }

    #[tokio::test]
    async fn reuse_of_an_older_refresh_token_ends_the_session_even_within_the_grace_window() {
        let mut app = app().await;
        let (_, first) = app.login("sue", "current").await;
        let (_, second) = new_pair(&app.refresh(&first).await);
        let (access, third) = new_pair(&app.refresh(&second).await);
        assert_unauthorized(&app.refresh(&first).await);
        assert_eq!(app.me_status(&access).await, 401);
        assert_unauthorized(&app.refresh(&third).await);
        assert!(app.db.sessions().await.is_empty());
    }

    #[tokio::test]
    async fn a_retired_token_sent_with_another_users_access_token_still_ends_its_session() {
        let mut app = app().await;
        let (_, first) = app.login("sue", "current").await;
        let (access, _) = new_pair(&app.refresh(&first).await);
        let admin = app.admin_token().await;
        let query =
            "mutation($r: String!) { refresh_token(input: {refresh_token: $r}) { access_token } }";
        let response = app.graphql(Some(&admin), query, json!({"r": first})).await;
        assert_unauthorized(&response);
        assert_eq!(app.me_status(&access).await, 401);
        assert_eq!(app.me_status(&admin).await, 200);
    }

    #[tokio::test]
    async fn reuse_ends_only_its_own_session() {
        let mut app = TestApp::with_env(&[ANY_ROLE, NO_GRACE]).await;
        let (other, _) = app.login("sue", "current").await;
        let (_, first) = app.login("sue", "current").await;
        new_pair(&app.refresh(&first).await);
        assert_unauthorized(&app.refresh(&first).await);
        assert_eq!(app.me_status(&other).await, 200);
    }

    #[tokio::test]
    async fn within_the_grace_window_the_previous_token_gets_the_same_successor() {
        let mut app = app().await;
        let (_, first) = app.login("sue", "current").await;
        let (access, refresh) = new_pair(&app.refresh(&first).await);
        let (again_access, again_refresh) = new_pair(&app.refresh(&first).await);
        assert_eq!(uuid(&again_access), uuid(&access));
        assert_eq!(uuid(&again_refresh), uuid(&refresh));
        assert_eq!(app.me_status(&again_access).await, 200);
        assert_eq!(app.db.sessions().await.len(), 1);
        // The successor still refreshes once, as any current token.
        new_pair(&app.refresh(&again_refresh).await);
    }

    #[tokio::test]
    async fn past_the_grace_window_the_previous_token_ends_the_session() {
        let mut app = TestApp::with_env(&[ANY_ROLE, ("REFRESH_REUSE_GRACE_SECONDS", "1")]).await;
        let (_, first) = app.login("sue", "current").await;
        let (access, _) = new_pair(&app.refresh(&first).await);
        tokio::time::sleep(Duration::from_millis(1100)).await;
        assert_unauthorized(&app.refresh(&first).await);
        assert_eq!(app.me_status(&access).await, 401);
    }

    /// 20 refreshes of one token at once, each in a container of its own.
    async fn twenty_at_once(app: &mut TestApp, refresh: &str) -> Vec<LambdaResponse> {
        let mut containers = Vec::new();
        for _ in 0..20 {
            containers.push(app.start("graphql").await);
        }
        let event =
            graphql_request(None, REFRESH_QUERY, json!({"r": refresh})).event(Payload::RestV1);
        let mut tasks = Vec::new();
        for mut container in containers {
            let event = event.clone();
            tasks.push(tokio::spawn(async move {
                let response = container.invoke(event).await;
                (response, container)
            }));
        }
        let mut responses = Vec::new();
        for task in tasks {
            responses.push(task.await.expect("refresh task").0);
        }
        responses
    }

    #[tokio::test]
    async fn twenty_concurrent_refreshes_within_the_grace_window_all_get_the_same_successor() {
        let mut app = app().await;
        let (_, refresh) = app.login("sue", "current").await;
        let responses = twenty_at_once(&mut app, &refresh).await;
        let pairs: Vec<(String, String)> = responses.iter().map(new_pair).collect();
        let (access, successor) = (uuid(&pairs[0].0), uuid(&pairs[0].1));
        for (a, r) in &pairs {
            assert_eq!((uuid(a), uuid(r)), (access.clone(), successor.clone()));
        }
        let sessions = app.db.sessions().await;
        assert_eq!(sessions.len(), 1);
        assert_eq!(sessions[0].get_str("uuid_refresh"), Ok(successor.as_str()));
        assert_eq!(app.me_status(&pairs[0].0).await, 200);
    }

    #[tokio::test]
    async fn twenty_concurrent_refreshes_without_grace_give_one_pair_and_end_the_session() {
        let mut app = TestApp::with_env(&[ANY_ROLE, NO_GRACE]).await;
        let (_, refresh) = app.login("sue", "current").await;
        let responses = twenty_at_once(&mut app, &refresh).await;
        let winners: Vec<(String, String)> = responses.iter().filter_map(pair).collect();
        assert_eq!(
            winners.len(),
            1,
            "{:?}",
            responses.iter().map(|r| &r.raw_body).collect::<Vec<_>>()
        );
        for response in responses.iter().filter(|r| pair(r).is_none()) {
            assert_unauthorized(response);
        }
        // The others were reuse: the session, the winner's pair included, ended.
        assert!(app.db.sessions().await.is_empty());
        assert_eq!(app.me_status(&winners[0].0).await, 401);
    }
}

mod after_the_end {
    use super::*;

    #[tokio::test]
    async fn the_refresh_token_of_a_logged_out_session_is_unauthorized() {
        let mut app = app().await;
        let (access, refresh) = app.login("sue", "current").await;
        assert_eq!(app.logout(&access).await.status, 200);
        assert_unauthorized(&app.refresh(&refresh).await);
        assert!(app.db.sessions().await.is_empty());
        // The side document a logout leaves to its TTL goes with the refusal.
        assert!(app.db.session_metas().await.is_empty());
    }

    #[tokio::test]
    async fn within_the_grace_window_an_ended_session_gives_no_pair() {
        let mut app = app().await;
        let (_, first) = app.login("sue", "current").await;
        let (access, _) = new_pair(&app.refresh(&first).await);
        assert_eq!(app.logout(&access).await.status, 200);
        assert_unauthorized(&app.refresh(&first).await);
    }

    #[tokio::test]
    async fn a_deactivated_users_previous_token_within_grace_gives_no_pair() {
        let mut app = app().await;
        let (_, first) = app.login("sue", "current").await;
        new_pair(&app.refresh(&first).await);
        app.db
            .set_user(app.support.id, doc! {"active": false})
            .await;
        assert_unauthorized(&app.refresh(&first).await);
        assert!(app.db.sessions().await.is_empty());
    }
}

mod lifetime {
    use super::*;

    /// Moves the login time of every session `minutes` into the past.
    async fn started_minutes_ago(app: &TestApp, minutes: i64) {
        let at = DateTime::from_millis(DateTime::now().timestamp_millis() - minutes * 60_000);
        app.db
            .set_where("session_meta", doc! {}, doc! { "started_at": at })
            .await;
    }

    #[tokio::test]
    async fn a_session_past_its_maximum_age_refreshes_no_more_and_its_entry_goes() {
        let mut app = TestApp::with_env(&[ANY_ROLE, ("SESSION_MAX_MINUTES", "60")]).await;
        let (access, refresh) = app.login("sue", "current").await;
        started_minutes_ago(&app, 61).await;
        assert_unauthorized(&app.refresh(&refresh).await);
        assert!(app.db.sessions().await.is_empty());
        assert!(app.db.session_metas().await.is_empty());
        assert_eq!(app.me_status(&access).await, 401);
        let ended = app.wait_for_events("session_ended", 1).await;
        assert_eq!(ended.len(), 1, "{}", app.all_logs());
        assert_eq!(ended[0]["reason"], "max_lifetime");
    }

    #[tokio::test]
    async fn the_login_time_survives_refreshes() {
        let mut app = TestApp::with_env(&[ANY_ROLE, ("SESSION_MAX_MINUTES", "60")]).await;
        let (_, refresh) = app.login("sue", "current").await;
        started_minutes_ago(&app, 59).await;
        let (_, refresh) = new_pair(&app.refresh(&refresh).await);
        started_minutes_ago(&app, 61).await;
        // Had the refresh restarted the clock this one would pass.
        assert_unauthorized(&app.refresh(&refresh).await);
    }

    #[tokio::test]
    async fn the_ttl_indexes_remove_a_session_at_its_cap_when_that_comes_before_refresh_expiry() {
        // Refresh tokens live 7 days by default; the cap here is 1 minute.
        let mut app = TestApp::with_env(&[ANY_ROLE, ("SESSION_MAX_MINUTES", "1")]).await;
        app.login("sue", "current").await;
        let meta = app.db.session_metas().await.remove(0);
        let started = meta.get_datetime("started_at").unwrap().timestamp_millis();
        let expires = meta.get_datetime("expires_at").unwrap().timestamp_millis();
        assert_eq!(expires - started, 60_000);
        // The whitelist's TTL index sweeps `created_at` + 7 days: the same moment.
        let entry = app.db.sessions().await.remove(0);
        let created = entry.get_datetime("created_at").unwrap().timestamp_millis();
        assert_eq!(created + 7 * 24 * 3_600_000, expires);
    }

    #[tokio::test]
    async fn the_ttl_indexes_remove_a_session_at_refresh_expiry_when_that_comes_first() {
        let mut app = app().await;
        let (_, refresh) = app.login("sue", "current").await;
        new_pair(&app.refresh(&refresh).await);
        let meta = app.db.session_metas().await.remove(0);
        let refreshed = meta
            .get_datetime("refreshed_at")
            .unwrap()
            .timestamp_millis();
        let expires = meta.get_datetime("expires_at").unwrap().timestamp_millis();
        assert_eq!(expires - refreshed, 7 * 24 * 3_600_000);
        let entry = app.db.sessions().await.remove(0);
        assert_eq!(
            entry.get_datetime("created_at").unwrap().timestamp_millis(),
            refreshed
        );
        let indexes = app
            .db
            .db
            .collection::<mongodb::bson::Document>("session_meta")
            .list_index_names()
            .await
            .unwrap();
        assert!(
            indexes.iter().any(|name| name == "expires_at_1"),
            "{indexes:?}"
        );
    }

    #[tokio::test]
    async fn a_session_the_python_service_opened_gets_a_start_at_first_use() {
        let mut app = TestApp::with_env(&[ANY_ROLE, ("SESSION_MAX_MINUTES", "60")]).await;
        let access = uuid::Uuid::new_v4().to_string();
        let refresh_id = uuid::Uuid::new_v4().to_string();
        app.db.whitelist(app.support.id, &access, &refresh_id).await;
        let refresh = e2e::helpers::sign_hs256(
            &json!({"exp": e2e::helpers::now() + 600, "uuid": refresh_id}),
            e2e::SECRET_KEY,
        );
        let (_, next) = new_pair(&app.refresh(&refresh).await);
        let metas = app.db.session_metas().await;
        assert_eq!(metas.len(), 1);
        assert!(app.db.sessions().await[0]
            .get_datetime("created_at")
            .is_ok());
        // From now on it is capped like any other.
        started_minutes_ago(&app, 61).await;
        assert_unauthorized(&app.refresh(&next).await);
        assert!(app.db.sessions().await.is_empty());
    }
}

mod listing {
    use super::*;

    #[tokio::test]
    async fn sessions_lists_exactly_the_live_sessions_with_the_callers_marked_current() {
        let mut app = app().await;
        let (phone, _) = app
            .login_from("sue", "current", "198.51.100.7", "Phone/1.0")
            .await;
        let (ended, _) = app.login("sue", "current").await;
        let (_, refresh) = app
            .login_from("sue", "current", "203.0.113.9", "Laptop/2.0")
            .await;
        app.logout(&ended).await;
        let (laptop, _) = new_pair(&app.refresh(&refresh).await);
        app.login("root", "root-password").await;

        let sessions = app.sessions(&laptop).await;
        assert_eq!(sessions.len(), 2, "{sessions:?}");
        let current: Vec<&Value> = sessions.iter().filter(|s| s["current"] == true).collect();
        assert_eq!(current.len(), 1);
        assert_eq!(current[0]["user_agent"], "Laptop/2.0");
        assert_eq!(current[0]["source_ip"], "203.0.113.9");
        assert!(current[0]["refreshed_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')));
        let other = sessions.iter().find(|s| s["current"] == false).unwrap();
        assert_eq!(other["user_agent"], "Phone/1.0");
        assert_eq!(other["source_ip"], "198.51.100.7");
        assert_eq!(other["refreshed_at"], Value::Null);
        let created = other["created_at"].as_str().unwrap();
        assert!(created.ends_with('Z') && created.contains('T'), "{created}");
        let id = ::graphql::ids::session_id(other["id"].as_str().unwrap()).unwrap();
        assert_eq!(app.sessions(&phone).await.len(), 2);
        assert!(app
            .db
            .sessions()
            .await
            .iter()
            .any(|s| s.get_object_id("_id").unwrap().to_hex() == id.to_hex()));
    }

    #[tokio::test]
    async fn a_long_user_agent_is_kept_to_256_characters() {
        let mut app = app().await;
        let agent = "é".repeat(300);
        let (token, _) = app.login_from("sue", "current", "192.0.2.1", &agent).await;
        let sessions = app.sessions(&token).await;
        let kept = sessions[0]["user_agent"].as_str().unwrap();
        assert_eq!(kept.chars().count(), 256);
        assert!(agent.starts_with(kept));
    }

    #[tokio::test]
    async fn a_session_the_python_service_opened_is_listed_with_unknown_origin_and_gets_a_start() {
        let mut app = app().await;
        let (token, _) = app.login("sue", "current").await;
        app.db
            .whitelist(app.support.id, "py-access", "py-refresh")
            .await;
        let sessions = app.sessions(&token).await;
        assert_eq!(sessions.len(), 2);
        let python = sessions.iter().find(|s| s["current"] == false).unwrap();
        assert_eq!(python["source_ip"], Value::Null);
        assert_eq!(python["user_agent"], Value::Null);
        assert!(python["created_at"].is_string());
        // Swept: it has a `created_at` now, so the TTL index applies to it.
        let entries = app.db.sessions().await;
        assert!(entries.iter().all(|e| e.get_datetime("created_at").is_ok()));
    }

    #[tokio::test]
    async fn an_admin_sees_another_users_sessions_and_a_plain_user_does_not() {
        let mut app = app().await;
        let (sue, _) = app.login("sue", "current").await;
        let admin = app.admin_token().await;
        let query = "query($id: ID!) { user(id: $id) { sessions { id current } } }";
        let variables = json!({"id": app.support.id.to_hex()});
        let seen = app.graphql(Some(&admin), query, variables.clone()).await;
        let sessions = seen.body["data"]["user"]["sessions"].as_array().unwrap();
        assert_eq!(sessions.len(), 1, "{}", seen.raw_body);
        assert_eq!(sessions[0]["current"], false);
        let me = app
            .graphql(Some(&sue), "{ me { sessions { id current } } }", json!({}))
            .await;
        assert_eq!(
            me.body["data"]["me"]["sessions"][0]["current"], true,
            "{}",
            me.raw_body
        );
        let admin_id = json!({"id": app.admin.id.to_hex()});
        // A support user can't reach `user` by default; with `user` opened to
        // them, another user's sessions stay closed.
        let mut open = app
            .start_with(
                "graphql",
                &[(
                    "GRAPHQL_ACCESS_CONTROL",
                    r#"[{"query":"user","roles":["support"]}]"#,
                )],
            )
            .await;
        let refused = open
            .invoke(graphql_request(Some(&sue), query, admin_id).event(Payload::RestV1))
            .await;
        assert_eq!(
            refused.body["errors"][0]["message"], "unauthorized",
            "{}",
            refused.raw_body
        );
    }
}

mod ending {
    use super::*;

    #[tokio::test]
    async fn end_session_ends_ones_own_other_session() {
        let mut app = app().await;
        let (other, other_refresh) = app.login("sue", "current").await;
        let (token, _) = app.login("sue", "current").await;
        let id = app
            .sessions(&token)
            .await
            .into_iter()
            .find(|s| s["current"] == false)
            .unwrap()["id"]
            .clone();
        let response = app.end_session(&token, &id).await;
        assert_eq!(
            response.body["data"]["end_session"]["ok"], true,
            "{}",
            response.raw_body
        );
        assert_eq!(app.me_status(&other).await, 401);
        assert_unauthorized(&app.refresh(&other_refresh).await);
        assert_eq!(app.me_status(&token).await, 200);
        assert_eq!(app.db.session_metas().await.len(), 1);
    }

    #[tokio::test]
    async fn end_session_on_another_users_session_is_refused_to_a_plain_user_and_changes_nothing() {
        let mut app = app().await;
        let (root, _) = app.login("root", "root-password").await;
        let (sue, _) = app.login("sue", "current").await;
        let id = app.sessions(&root).await[0]["id"].clone();
        let response = app.end_session(&sue, &id).await;
        assert_eq!(
            response.body["errors"][0]["message"], "unauthorized",
            "{}",
            response.raw_body
        );
        assert_eq!(app.me_status(&root).await, 200);
        assert_eq!(app.db.sessions().await.len(), 2);
    }

    #[tokio::test]
    async fn end_session_on_another_users_session_is_allowed_to_an_admin() {
        let mut app = app().await;
        let (sue, _) = app.login("sue", "current").await;
        let id = app.sessions(&sue).await[0]["id"].clone();
        let admin = app.admin_token().await;
        let response = app.end_session(&admin, &id).await;
        assert_eq!(
            response.body["data"]["end_session"]["ok"], true,
            "{}",
            response.raw_body
        );
        assert_eq!(app.me_status(&sue).await, 401);
        let ended = app.wait_for_events("session_ended", 1).await;
        assert_eq!(ended.len(), 1);
        assert_eq!(ended[0]["user_id"], app.support.id.to_hex());
        assert_eq!(ended[0]["actor"], "root");
    }

    #[tokio::test]
    async fn end_session_with_a_bad_id_is_id_not_valid() {
        let mut app = app().await;
        let (sue, _) = app.login("sue", "current").await;
        let response = app.end_session(&sue, &json!("nope")).await;
        assert_eq!(
            response.body["errors"][0]["message"], "id_not_valid",
            "{}",
            response.raw_body
        );
    }

    #[tokio::test]
    async fn end_other_sessions_keeps_only_the_current_one() {
        let mut app = app().await;
        let (first, _) = app.login("sue", "current").await;
        let (second, second_refresh) = app.login("sue", "current").await;
        let (root, _) = app.login("root", "root-password").await;
        let (token, _) = app.login("sue", "current").await;
        let response = app.end_other_sessions(&token).await;
        assert_eq!(
            response.body["data"]["end_other_sessions"]["ok"], true,
            "{}",
            response.raw_body
        );
        assert_eq!(app.me_status(&first).await, 401);
        assert_eq!(app.me_status(&second).await, 401);
        assert_unauthorized(&app.refresh(&second_refresh).await);
        assert_eq!(app.me_status(&token).await, 200);
        assert_eq!(app.me_status(&root).await, 200);
        let sessions = app.sessions(&token).await;
        assert_eq!(sessions.len(), 1);
        assert_eq!(sessions[0]["current"], true);
        let ended = app.wait_for_events("sessions_ended", 1).await;
        assert_eq!(ended.len(), 1);
        assert_eq!(ended[0]["count"], 2);
    }
}

mod events {
    use super::*;

    /// Every mutation of the admin, as `root`.
    async fn admin_does(app: &mut TestApp, token: &str, query: &str, variables: Value) -> Value {
        let response = app.graphql(Some(token), query, variables).await;
        assert!(
            response.body.get("errors").is_none(),
            "{query}: {}",
            response.raw_body
        );
        response.body["data"].clone()
    }

    /// The first record of `event`, after checking there are `count` and it
    /// carries the request's origin and each of `fields`.
    async fn logged(app: &TestApp, event: &str, count: usize, fields: &[&str]) -> Value {
        let records = app.wait_for_events(event, count).await;
        assert_eq!(records.len(), count, "{event}:\n{}", app.all_logs());
        let record = records[0].clone();
        for field in ["source_ip", "request_id"].iter().chain(fields) {
            assert!(
                record[*field].as_str().is_some_and(|v| !v.is_empty()),
                "{event} has no {field}: {record}"
            );
        }
        record
    }

    #[tokio::test]
    async fn every_auth_event_is_logged_once_per_action_with_its_fields_and_no_secret() {
        let mut app = app().await;
        let mut secrets: Vec<String> = vec![
            e2e::SECRET_KEY.to_owned(),
            "$argon2".to_owned(),
            "sue-wrong-guess".to_owned(),
            "root-password".to_owned(),
            "ella-password-1".to_owned(),
            "ella-password-2".to_owned(),
        ];
        let failed = app
            .post_login(
                Payload::RestV1,
                &json!({"username": "sue", "password": "sue-wrong-guess"}),
            )
            .await;
        assert_eq!(failed.status, 400);
        let (admin, admin_refresh) = app.login("root", "root-password").await;
        secrets.extend([admin.clone(), admin_refresh]);
        let created = admin_does(
            &mut app,
            &admin,
            "mutation { create_user(input: {username: \"ella\", password: \"ella-password-1\", \
             password_confirmed: \"ella-password-1\", role: \"support\"}) { user { id } } }",
            json!({}),
        )
        .await;
        let ella = created["create_user"]["user"]["id"].clone();

        let (a1, r1) = app.login("ella", "ella-password-1").await;
        let (a2, r2) = app.login("ella", "ella-password-1").await;
        let (a3, r3) = new_pair(&app.refresh(&r1).await);
        let (a4, r4) = new_pair(&app.refresh(&r3).await);
        assert_unauthorized(&app.refresh(&r1).await);
        let (a5, r5) = app.login("ella", "ella-password-1").await;
        let (a6, r6) = app.login("ella", "ella-password-1").await;
        secrets.extend([a1, r1, a2, r2, a3, r3, a4, r4, a5, r5, a6.clone(), r6]);
        let fifth = app
            .sessions(&a6)
            .await
            .into_iter()
            .find(|s| s["current"] == false)
            .unwrap()["id"]
            .clone();
        assert_eq!(app.end_session(&a6, &fifth).await.status, 200);
        let others = app.end_other_sessions(&a6).await;
        assert_eq!(others.body["data"]["end_other_sessions"]["ok"], true);
        let changed = app
            .graphql(
                Some(&a6),
                "mutation { update_password(input: {current_password: \"ella-password-1\", \
                 new_password: \"ella-password-2\", password_confirmed: \"ella-password-2\"}) { ok } }",
                json!({}),
            )
            .await;
        assert_eq!(
            changed.body["data"]["update_password"]["ok"], true,
            "{}",
            changed.raw_body
        );
        assert_eq!(app.logout(&a6).await.status, 200);

        let id = json!({"id": ella});
        admin_does(&mut app, &admin, "mutation($id: ID!) { update_user(input: {id: $id, change_password: true}) { user { id } } }", id.clone()).await;
        let reset = admin_does(
            &mut app,
            &admin,
            "mutation($id: ID!) { reset_password(input: {id: $id}) { password } }",
            id.clone(),
        )
        .await;
        secrets.push(
            reset["reset_password"]["password"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
        admin_does(
            &mut app,
            &admin,
            "mutation($id: ID!) { delete_user(input: {id: $id}) { ok } }",
            id,
        )
        .await;

        let failed = logged(&app, "login_failed", 1, &["username", "reason"]).await;
        assert_eq!(failed["reason"], "wrong_password");
        let user = &["user_id", "username", "session_id"];
        logged(&app, "login_succeeded", 5, user).await;
        logged(&app, "token_refreshed", 2, user).await;
        logged(&app, "refresh_token_reused", 1, user).await;
        logged(&app, "session_ended", 1, user).await;
        let ended = logged(&app, "sessions_ended", 1, user).await;
        assert_eq!(ended["count"], 1);
        logged(&app, "password_changed", 1, user).await;
        logged(&app, "logout", 1, user).await;
        let by_admin = &["user_id", "actor", "actor_id"];
        let created = logged(&app, "user_created", 1, by_admin).await;
        assert_eq!(created["username"], "ella");
        assert_eq!(created["actor"], "root");
        logged(&app, "user_updated", 1, by_admin).await;
        logged(&app, "password_reset", 1, by_admin).await;
        logged(&app, "user_deleted", 1, by_admin).await;

        let logs = app.all_logs();
        for secret in &secrets {
            assert!(
                !logs.contains(secret.as_str()),
                "the logs contain {secret}:\n{logs}"
            );
        }
    }
}

mod events_at_any_level {
    use super::*;

    #[tokio::test]
    async fn auth_events_are_logged_even_at_the_error_level() {
        let mut app = TestApp::with_env(&[ANY_ROLE, ("AWS_LAMBDA_LOG_LEVEL", "ERROR")]).await;
        let (access, _) = app.login("sue", "current").await;
        assert_eq!(app.logout(&access).await.status, 200);
        assert_eq!(app.wait_for_events("login_succeeded", 1).await.len(), 1);
        assert_eq!(app.wait_for_events("logout", 1).await.len(), 1);
        // The level holds for everything else: no INFO line but the events.
        let chatty = app
            .all_logs()
            .lines()
            .filter(|line| line.contains("\"INFO\"") && !line.contains("\"event\""))
            .map(str::to_owned)
            .collect::<Vec<_>>();
        assert!(chatty.is_empty(), "{chatty:?}");
    }
}
