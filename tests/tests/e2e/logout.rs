//! `POST /admin/logout` and the bearer guard behind it, end to end.

use e2e::app::LOGOUT_PATH;
use e2e::helpers::{now, sign};
use e2e::{HttpRequest, LambdaResponse, Payload, TestApp, SECRET_KEY};
use jsonwebtoken::Algorithm;
use mongodb::bson::doc;
use mongodb::bson::oid::ObjectId;
use serde_json::json;

/// A pair issued by flask-auth-service-mongo 0.1.8 (PyJWT 1.7.1) with
/// `PYTHON_SECRET`, for user `PYTHON_USER`, expiring in 2099.
const PYTHON_SECRET: &str = "python-service-secret-key-0123456789";
const PYTHON_USER: &str = "5e66a976ebc7469c6eb8a1b2";
const PYTHON_UUID_ACCESS: &str = "e94cdfda-ec34-11f1-89a5-02fc00000001";
const PYTHON_UUID_REFRESH: &str = "e94ce16a-ec34-11f1-89a5-02fc00000001";
const PYTHON_ACCESS: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJleHAiOjQxMDIzNTg0MDAsImlhdCI6MTc5NTk1MzYwMCwic3ViIjoiNWU2NmE5NzZlYmM3NDY5YzZlYjhhMWIyIiwidXVpZCI6ImU5NGNkZmRhLWVjMzQtMTFmMS04OWE1LTAyZmMwMDAwMDAwMSJ9.wWjJoGxJZwaxqjwj2vRY7rpIWjR-7KZPsbGSHfgBIAc";
const PYTHON_REFRESH: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJleHAiOjQxMDIzNTg0MDAsInV1aWQiOiJlOTRjZTE2YS1lYzM0LTExZjEtODlhNS0wMmZjMDAwMDAwMDEifQ.BCmNAU9PEct1Nyfj9gF21o_AfkbVw5jxMOmxTX24JGM";

fn assert_refused(response: &LambdaResponse, message: &str, case: &str) {
    assert_eq!(response.status, 401, "{case}: {}", response.raw_body);
    assert_eq!(response.body, json!({"message": message}), "{case}");
    assert_eq!(
        response.header("content-type"),
        Some("application/json"),
        "{case}"
    );
}

mod sessions {
    use super::*;

    /// Over `payload`: the admin signed in twice, then logged out of the first
    /// session. Returns (the logged-out token, the other one, the answer).
    async fn logged_out_of_one_of_two_sessions(
        app: &mut TestApp,
        payload: Payload,
    ) -> (String, String, LambdaResponse) {
        let token = app.admin_token().await;
        let other = app.admin_token().await;
        assert_eq!(app.db.sessions().await.len(), 2);
        let response = app
            .logout_with(Some(&format!("Bearer {token}")), payload)
            .await;
        (token, other, response)
    }

    #[tokio::test]
    async fn logout_answers_ok_and_ends_only_that_session() {
        for payload in Payload::ALL {
            let mut app = TestApp::spawn().await;
            let (_, _, response) = logged_out_of_one_of_two_sessions(&mut app, payload).await;
            assert_eq!(response.status, 200, "{payload:?}: {}", response.raw_body);
            assert_eq!(response.raw_body, r#"{"message":"ok"}"#);
            assert_eq!(response.header("content-type"), Some("application/json"));
            let sessions = app.db.sessions().await;
            assert_eq!(sessions.len(), 1);
        }
    }

    #[tokio::test]
    async fn a_logged_out_token_is_unauthorized() {
        for payload in Payload::ALL {
            let mut app = TestApp::spawn().await;
            let (token, _, _) = logged_out_of_one_of_two_sessions(&mut app, payload).await;
            let again = app
                .logout_with(Some(&format!("Bearer {token}")), payload)
                .await;
            assert_refused(&again, "unauthorized", "reused token");
        }
    }

    #[tokio::test]
    async fn another_session_of_the_same_user_still_logs_out() {
        for payload in Payload::ALL {
            let mut app = TestApp::spawn().await;
            let (_, other, _) = logged_out_of_one_of_two_sessions(&mut app, payload).await;
            let other_bearer = format!("Bearer {other}");
            assert_eq!(
                app.logout_with(Some(&other_bearer), payload).await.status,
                200
            );
            assert!(app.db.sessions().await.is_empty());
        }
    }

    #[tokio::test]
    async fn an_oversized_body_is_refused_with_413_and_ends_nothing() {
        let mut app = TestApp::spawn().await;
        let token = app.admin_token().await;
        let huge = "x".repeat(65 * 1024);
        let response = app
            .logout_fn
            .invoke(
                HttpRequest::post(LOGOUT_PATH)
                    .bearer(&token)
                    .body(&huge)
                    .event(Payload::RestV1),
            )
            .await;
        assert_eq!(response.status, 413);
        assert_eq!(app.db.sessions().await.len(), 1);
    }

    #[tokio::test]
    async fn a_method_other_than_post_is_refused_with_405_and_ends_nothing() {
        let mut app = TestApp::spawn().await;
        let token = app.admin_token().await;
        let response = app
            .logout_fn
            .invoke(
                HttpRequest::post(LOGOUT_PATH)
                    .method("GET")
                    .bearer(&token)
                    .event(Payload::RestV1),
            )
            .await;
        assert_eq!(response.status, 405);
        assert_eq!(app.db.sessions().await.len(), 1);
    }

    /// Item 9 of #20: the session's side document (source IP, user agent)
    /// goes with its whitelist entry, not at its TTL; the user's other
    /// session keeps its own, unchanged.
    #[tokio::test]
    async fn logout_removes_that_sessions_side_document_and_no_other() {
        let mut app = TestApp::spawn().await;
        let token = app.admin_token().await;
        let other = app.admin_token().await;
        let uuid = |token: &str| e2e::db::claims(token)["uuid"].as_str().unwrap().to_owned();
        let metas = app.db.session_metas().await;
        assert_eq!(metas.len(), 2);
        let kept = metas
            .into_iter()
            .find(|meta| meta.get_str("access") == Ok(uuid(&other).as_str()))
            .expect("the other session's side document");
        let response = app.logout(&token).await;
        assert_eq!(response.status, 200, "{}", response.raw_body);
        assert_eq!(app.db.session_metas().await, std::slice::from_ref(&kept));
        let entries = app.db.sessions().await;
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].get_object_id("_id"), kept.get_object_id("_id"));
    }

    /// A logout the guard refuses (here: the user was deactivated) still
    /// ends the token's whitelist entry, and its side document with it.
    #[tokio::test]
    async fn a_refused_logout_still_removes_the_side_document() {
        let mut app = TestApp::spawn().await;
        let token = app.admin_token().await;
        app.db.set_user(app.admin.id, doc! {"active": false}).await;
        let response = app.logout(&token).await;
        assert_refused(&response, "unauthorized", "inactive user");
        assert!(app.db.sessions().await.is_empty());
        assert!(app.db.session_metas().await.is_empty());
    }

    /// A token whose whitelist entry is another user's deletes neither that
    /// entry nor its side document: both commands filter on the token's
    /// user too.
    #[tokio::test]
    async fn a_token_naming_another_users_session_removes_no_side_document() {
        let mut app = TestApp::with_env(&[e2e::app::ANY_ROLE]).await;
        let sue = app.support_token().await;
        let uuid = e2e::db::claims(&sue)["uuid"].as_str().unwrap().to_owned();
        let claims =
            json!({"sub": app.admin.id.to_hex(), "uuid": uuid, "exp": now() + 300, "iat": now()});
        let forged = sign(&claims, Algorithm::HS256, SECRET_KEY);
        let metas = app.db.session_metas().await;
        let response = app.logout(&forged).await;
        assert_refused(&response, "unauthorized", "another user's session");
        assert_eq!(app.db.session_metas().await, metas);
        assert_eq!(app.db.sessions().await.len(), 1);
    }

    /// A logout during a refresh of the same session, between the refresh's
    /// rotation of the side document and its write of the new ids into the
    /// whitelist entry (set up by putting the old ids back into the entry
    /// after a refresh): the side document already holds the newer access
    /// id, so logout's delete (by the logged-out token's access id) misses
    /// it. The refresh holding the new ids then finds the whitelist entry
    /// gone, answers `unauthorized` and deletes the side document itself.
    #[tokio::test]
    async fn a_side_document_mid_rotation_is_deleted_by_the_refresh_not_the_logout() {
        let mut app = TestApp::spawn().await;
        let (access, refresh) = app.login("root", "root-password").await;
        let old_access = e2e::db::claims(&access)["uuid"]
            .as_str()
            .unwrap()
            .to_owned();
        let old_refresh = e2e::db::claims(&refresh)["uuid"]
            .as_str()
            .unwrap()
            .to_owned();
        let rotated = app.refresh(&refresh).await;
        let new_refresh = rotated.body["data"]["refresh_token"]["refresh_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no pair: {}", rotated.raw_body))
            .to_owned();
        app.db
            .set_where(
                "whitelist_token",
                doc! {},
                doc! {"uuid_access": &old_access, "uuid_refresh": &old_refresh},
            )
            .await;
        let response = app.logout(&access).await;
        assert_eq!(response.status, 200, "{}", response.raw_body);
        assert!(app.db.sessions().await.is_empty());
        assert_eq!(app.db.session_metas().await.len(), 1, "left by logout");
        let response = app.refresh(&new_refresh).await;
        assert_eq!(
            response.body["errors"][0]["message"], "unauthorized",
            "{}",
            response.raw_body
        );
        assert!(
            app.db.session_metas().await.is_empty(),
            "deleted by refresh"
        );
    }
}

mod guard {
    use super::*;

    #[tokio::test]
    async fn malformed_authorization_headers_are_unauthorized() {
        let mut app = TestApp::spawn().await;
        let token = app.admin_token().await;
        let cases = [
            None,
            Some(String::new()),
            Some("Bearer".to_owned()),
            Some("Bearer ".to_owned()),
            Some(format!("bearer {token}")),
            Some(format!("Basic {token}")),
            Some(format!("Bearer  {token}")),
            Some(format!("Bearer {token} extra")),
            Some(token.clone()),
        ];
        for header in cases {
            for payload in Payload::ALL {
                let response = app.logout_with(header.as_deref(), payload).await;
                assert_refused(
                    &response,
                    "unauthorized",
                    &format!("{header:?} {payload:?}"),
                );
            }
        }
        assert_eq!(
            app.db.sessions().await.len(),
            1,
            "a refused call changed the whitelist"
        );
    }

    #[tokio::test]
    async fn bad_tokens_get_their_exact_messages() {
        let mut app = TestApp::spawn().await;
        let (access, refresh) = app.login("root", "root-password").await;
        let sub = app.admin.id.to_hex();
        let live = |exp: i64| json!({"exp": exp, "iat": now() - 10, "sub": sub, "uuid": "u-1"});

        let expired = sign(&live(now() - 30), Algorithm::HS256, SECRET_KEY);
        let foreign = sign(
            &live(now() + 600),
            Algorithm::HS256,
            "some-other-key-some-other-key-0000",
        );
        let hs512 = sign(&live(now() + 600), Algorithm::HS512, SECRET_KEY);
        let header_none = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0";
        let body = access.split('.').nth(1).unwrap();
        let alg_none = format!("{header_none}.{body}.");
        let tampered = {
            let mut parts: Vec<&str> = access.split('.').collect();
            let other_body = expired.split('.').nth(1).unwrap();
            parts[1] = other_body;
            parts.join(".")
        };
        let bad_sub = sign(
            &json!({"exp": now() + 600, "iat": now(), "sub": "not-an-id", "uuid": "u"}),
            Algorithm::HS256,
            SECRET_KEY,
        );

        let cases = [
            ("expired", expired.as_str(), "signature_expired"),
            ("foreign key", foreign.as_str(), "invalid_token"),
            ("HS512", hs512.as_str(), "invalid_token"),
            ("alg none", alg_none.as_str(), "invalid_token"),
            ("tampered body", tampered.as_str(), "invalid_token"),
            ("garbage", "garbage", "invalid_token"),
            ("three dots", "a.b.c", "invalid_token"),
            ("refresh as access", refresh.as_str(), "invalid_token"),
            ("sub not an ObjectId", bad_sub.as_str(), "invalid_token"),
        ];
        for (case, token, message) in cases {
            for payload in Payload::ALL {
                let response = app
                    .logout_with(Some(&format!("Bearer {token}")), payload)
                    .await;
                assert_refused(&response, message, case);
            }
        }
        // Nothing was logged out by any of that.
        assert_eq!(app.db.sessions().await.len(), 1);
    }

    /// A token for the admin signed with our key, for whitelist entry `uuid`.
    fn signed_for_admin(app: &TestApp, uuid: &str) -> String {
        sign(
            &json!({"exp": now() + 600, "iat": now(), "sub": app.admin.id.to_hex(), "uuid": uuid}),
            Algorithm::HS256,
            SECRET_KEY,
        )
    }

    #[tokio::test]
    async fn a_validly_signed_token_never_whitelisted_is_unauthorized() {
        let mut app = TestApp::spawn().await;
        let unlisted = signed_for_admin(&app, "never-issued");
        assert_refused(
            &app.logout(&unlisted).await,
            "unauthorized",
            "not whitelisted",
        );
    }

    #[tokio::test]
    async fn a_token_whose_whitelist_entry_is_another_users_is_unauthorized() {
        let mut app = TestApp::spawn().await;
        let other = ObjectId::new();
        app.db.whitelist(other, "theirs", "theirs-r").await;
        let borrowed = signed_for_admin(&app, "theirs");
        assert_refused(
            &app.logout(&borrowed).await,
            "unauthorized",
            "someone else's entry",
        );
    }

    #[tokio::test]
    async fn the_token_of_a_user_turned_inactive_is_unauthorized() {
        let mut app = TestApp::spawn().await;
        let token = app.admin_token().await;
        app.db.set_user(app.admin.id, doc! {"active": false}).await;
        assert_refused(&app.logout(&token).await, "unauthorized", "inactive");
    }

    #[tokio::test]
    async fn the_token_of_a_user_moved_to_a_role_not_allowed_is_unauthorized() {
        let mut app = TestApp::spawn().await;
        let token = app.admin_token().await;
        let guest = app.db.role("guest").await;
        app.db
            .set_user(app.admin.id, doc! {"role": {"$ref": "role", "$id": guest}})
            .await;
        assert_refused(
            &app.logout(&token).await,
            "unauthorized",
            "role not allowed",
        );
    }

    #[tokio::test]
    async fn the_token_of_a_deleted_user_is_unauthorized() {
        let mut app = TestApp::spawn().await;
        let token = app.admin_token().await;
        app.db.delete_user(app.admin.id).await;
        assert_refused(&app.logout(&token).await, "unauthorized", "user gone");
    }

    // #12.9: a user who must change their password may still end their session
    // (the pending change keeps every other guarded call closed).
    #[tokio::test]
    async fn a_pending_password_change_does_not_block_logout_even_when_required() {
        let mut app = TestApp::with_env(&[("REQUIRE_PASSWORD_CHANGE", "true")]).await;
        app.db
            .set_user(app.admin.id, doc! {"change_password": true})
            .await;
        let token = app.admin_token().await;
        // The rule is on: anything else than logout, `me` and `update_password`
        // is refused.
        let roles = app
            .graphql(Some(&token), "{ roles { name } }", json!({}))
            .await;
        assert_eq!(roles.status, 401, "{}", roles.raw_body);
        assert_eq!(roles.body, json!({"message": "password_change_required"}));
        let response = app
            .logout_with(Some(&format!("Bearer {token}")), Payload::HttpV2)
            .await;
        assert_eq!(response.status, 200, "{}", response.raw_body);
        assert_eq!(response.raw_body, r#"{"message":"ok"}"#);
        // And the session is over.
        assert!(app.db.sessions().await.is_empty());
        assert_refused(
            &app.logout(&token).await,
            "unauthorized",
            "logged out during a pending change",
        );
    }

    #[tokio::test]
    async fn a_pending_password_change_does_not_block_logout_by_default() {
        let mut app = TestApp::spawn().await;
        app.db
            .set_user(app.admin.id, doc! {"change_password": true})
            .await;
        let token = app.admin_token().await;
        let response = app
            .logout_with(Some(&format!("Bearer {token}")), Payload::HttpV2)
            .await;
        assert_eq!(response.status, 200, "{}", response.raw_body);
    }
}

mod python_tokens {
    use super::*;

    /// The app signing with the Python service's key, holding its user and the
    /// whitelist entry of `PYTHON_ACCESS`, written by hand exactly as the Python
    /// service writes entries.
    async fn app_with_the_python_session() -> TestApp {
        let app = TestApp::with_env(&[("SECRET_KEY", PYTHON_SECRET)]).await;
        let user_id = ObjectId::parse_str(PYTHON_USER).unwrap();
        app.db
            .insert_user(doc! {
                "_id": user_id,
                "username": "pyadmin",
                "password": e2e::db::PYTHON_BCRYPT_HASH,
                "active": true,
                "change_password": false,
                "role": {"$ref": "role", "$id": app.admin_role},
            })
            .await;
        app.db
            .whitelist(user_id, PYTHON_UUID_ACCESS, PYTHON_UUID_REFRESH)
            .await;
        app
    }

    /// Logout as the Python service's clients call it: a bearer token, no body.
    async fn logout(app: &mut TestApp, token: &str) -> LambdaResponse {
        app.logout_fn
            .invoke(
                HttpRequest::post(LOGOUT_PATH)
                    .bearer(token)
                    .event(Payload::RestV1),
            )
            .await
    }

    #[tokio::test]
    async fn a_python_refresh_token_is_no_access_token() {
        let mut app = app_with_the_python_session().await;
        assert_refused(
            &logout(&mut app, PYTHON_REFRESH).await,
            "invalid_token",
            "python refresh token as access",
        );
    }

    #[tokio::test]
    async fn a_python_access_token_logs_out_while_whitelisted_and_not_after() {
        let mut app = app_with_the_python_session().await;
        let response = logout(&mut app, PYTHON_ACCESS).await;
        assert_eq!(response.status, 200, "{}", response.raw_body);
        assert!(app.db.sessions().await.is_empty());
        let again = logout(&mut app, PYTHON_ACCESS).await;
        assert_refused(&again, "unauthorized", "python token after logout");
    }
}

// #12.13: keys are used byte for byte, as the Python service uses them.
mod keys {
    use super::*;

    const SPACED_KEY: &str = " spaced key with surrounding spaces ";

    /// A whitelisted token for the admin, signed with `key`.
    async fn whitelisted_token_signed_with(app: &TestApp, key: &str) -> String {
        let uuid = uuid::Uuid::new_v4().to_string();
        app.db
            .whitelist(app.admin.id, &uuid, &format!("{uuid}-r"))
            .await;
        sign(
            &json!({"exp": now() + 600, "iat": now(), "sub": app.admin.id.to_hex(), "uuid": uuid}),
            Algorithm::HS256,
            key,
        )
    }

    #[tokio::test]
    async fn a_secret_key_with_surrounding_spaces_is_used_spaces_included() {
        let mut app = TestApp::with_env(&[("SECRET_KEY", SPACED_KEY)]).await;
        let trimmed = whitelisted_token_signed_with(&app, SPACED_KEY.trim()).await;
        assert_refused(
            &app.logout(&trimmed).await,
            "invalid_token",
            "signed with the trimmed key",
        );
        let exact = whitelisted_token_signed_with(&app, SPACED_KEY).await;
        let response = app.logout(&exact).await;
        assert_eq!(response.status, 200, "{}", response.raw_body);
    }

    #[tokio::test]
    async fn a_previous_key_holding_a_comma_verifies_in_the_json_form() {
        let mut app = TestApp::with_env(&[("PREVIOUS_SECRET_KEYS", r#"["old,key"]"#)]).await;
        let old = whitelisted_token_signed_with(&app, "old,key").await;
        let response = app.logout(&old).await;
        assert_eq!(response.status, 200, "{}", response.raw_body);
        // Not split at the comma into two keys.
        let half = whitelisted_token_signed_with(&app, "old").await;
        assert_refused(&app.logout(&half).await, "invalid_token", "half a key");
    }
}
