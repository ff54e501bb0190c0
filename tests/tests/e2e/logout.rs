//! `POST /admin/logout` and the bearer guard behind it, end to end.

use e2e::helpers::{login_pair, now, sign};
use e2e::{Function, HttpRequest, LambdaResponse, Payload, TestDb, SECRET_KEY};
use jsonwebtoken::Algorithm;
use mongodb::bson::doc;
use mongodb::bson::oid::ObjectId;
use serde_json::json;

const PATH: &str = "/admin/logout";

/// A pair issued by flask-auth-service-mongo 0.1.8 (PyJWT 1.7.1) with
/// `PYTHON_SECRET`, for user `PYTHON_USER`, expiring in 2099.
const PYTHON_SECRET: &str = "python-service-secret-key-0123456789";
const PYTHON_USER: &str = "5e66a976ebc7469c6eb8a1b2";
const PYTHON_UUID_ACCESS: &str = "e94cdfda-ec34-11f1-89a5-02fc00000001";
const PYTHON_UUID_REFRESH: &str = "e94ce16a-ec34-11f1-89a5-02fc00000001";
const PYTHON_ACCESS: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJleHAiOjQxMDIzNTg0MDAsImlhdCI6MTc5NTk1MzYwMCwic3ViIjoiNWU2NmE5NzZlYmM3NDY5YzZlYjhhMWIyIiwidXVpZCI6ImU5NGNkZmRhLWVjMzQtMTFmMS04OWE1LTAyZmMwMDAwMDAwMSJ9.wWjJoGxJZwaxqjwj2vRY7rpIWjR-7KZPsbGSHfgBIAc";
const PYTHON_REFRESH: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJleHAiOjQxMDIzNTg0MDAsInV1aWQiOiJlOTRjZTE2YS1lYzM0LTExZjEtODlhNS0wMmZjMDAwMDAwMDEifQ.BCmNAU9PEct1Nyfj9gF21o_AfkbVw5jxMOmxTX24JGM";

struct World {
    db: TestDb,
    login: Function,
    logout: Function,
    user_id: ObjectId,
}

/// A database with one admin, and the two functions running against it.
async fn world(extra_env: &[(&'static str, &str)]) -> World {
    let db = TestDb::new().await;
    let admin = db.role("admin").await;
    let user_id = db.user("admin", "admin-password", admin).await;
    let mut env = db.env();
    env.extend(extra_env.iter().map(|(k, v)| (*k, v.to_string())));
    let login = Function::start("login", &env).await;
    let logout = Function::start("logout", &env).await;
    World {
        db,
        login,
        logout,
        user_id,
    }
}

impl World {
    async fn tokens(&mut self, username: &str, password: &str) -> (String, String) {
        login_pair(&mut self.login, username, password).await
    }

    async fn admin_token(&mut self) -> String {
        self.tokens("admin", "admin-password").await.0
    }

    async fn logout_with(
        &mut self,
        authorization: Option<&str>,
        payload: Payload,
    ) -> LambdaResponse {
        let mut request = HttpRequest::post(PATH).json(&json!({}));
        if let Some(value) = authorization {
            request = request.header("Authorization", value);
        }
        self.logout.invoke(request.event(payload)).await
    }
}

fn assert_refused(response: &LambdaResponse, message: &str, case: &str) {
    assert_eq!(response.status, 401, "{case}: {}", response.raw_body);
    assert_eq!(response.body, json!({"message": message}), "{case}");
    assert_eq!(
        response.header("content-type"),
        Some("application/json"),
        "{case}"
    );
}

#[tokio::test]
async fn logout_ends_the_session_and_the_token_is_dead_afterwards() {
    for payload in Payload::ALL {
        let mut w = world(&[]).await;
        let token = w.admin_token().await;
        let other = w.admin_token().await;
        assert_eq!(w.db.sessions().await.len(), 2);

        let bearer = format!("Bearer {token}");
        let response = w.logout_with(Some(&bearer), payload).await;
        assert_eq!(response.status, 200, "{payload:?}: {}", response.raw_body);
        assert_eq!(response.raw_body, r#"{"message":"ok"}"#);
        assert_eq!(response.header("content-type"), Some("application/json"));

        // Only that session is gone; the other one still works.
        let sessions = w.db.sessions().await;
        assert_eq!(sessions.len(), 1);
        let again = w.logout_with(Some(&bearer), payload).await;
        assert_refused(&again, "unauthorized", "reused token");
        let other_bearer = format!("Bearer {other}");
        assert_eq!(
            w.logout_with(Some(&other_bearer), payload).await.status,
            200
        );
        assert!(w.db.sessions().await.is_empty());
    }
}

#[tokio::test]
async fn malformed_authorization_headers_are_unauthorized() {
    let mut w = world(&[]).await;
    let token = w.admin_token().await;
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
            let response = w.logout_with(header.as_deref(), payload).await;
            assert_refused(
                &response,
                "unauthorized",
                &format!("{header:?} {payload:?}"),
            );
        }
    }
    assert_eq!(
        w.db.sessions().await.len(),
        1,
        "a refused call changed the whitelist"
    );
}

#[tokio::test]
async fn bad_tokens_get_their_exact_messages() {
    let mut w = world(&[]).await;
    let (access, refresh) = w.tokens("admin", "admin-password").await;
    let sub = w.user_id.to_hex();
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
            let response = w
                .logout_with(Some(&format!("Bearer {token}")), payload)
                .await;
            assert_refused(&response, message, case);
        }
    }
    // Nothing was logged out by any of that.
    assert_eq!(w.db.sessions().await.len(), 1);
}

#[tokio::test]
async fn a_valid_signature_is_not_enough_without_the_whitelist_entry_and_a_fit_user() {
    let mut w = world(&[]).await;
    let sub = w.user_id.to_hex();

    // Signed with our key but never whitelisted.
    let unlisted = sign(
        &json!({"exp": now() + 600, "iat": now(), "sub": sub, "uuid": "never-issued"}),
        Algorithm::HS256,
        SECRET_KEY,
    );
    assert_refused(
        &w.logout_with(Some(&format!("Bearer {unlisted}")), Payload::RestV1)
            .await,
        "unauthorized",
        "not whitelisted",
    );

    // Whitelisted for someone else.
    let other = ObjectId::new();
    w.db.whitelist(other, "theirs", "theirs-r").await;
    let borrowed = sign(
        &json!({"exp": now() + 600, "iat": now(), "sub": sub, "uuid": "theirs"}),
        Algorithm::HS256,
        SECRET_KEY,
    );
    assert_refused(
        &w.logout_with(Some(&format!("Bearer {borrowed}")), Payload::RestV1)
            .await,
        "unauthorized",
        "someone else's entry",
    );

    // The user turned inactive, got a role that is not allowed, or is gone.
    let token = w.admin_token().await;
    let bearer = format!("Bearer {token}");
    w.db.set_user(w.user_id, doc! {"active": false}).await;
    assert_refused(
        &w.logout_with(Some(&bearer), Payload::RestV1).await,
        "unauthorized",
        "inactive",
    );
    w.db.set_user(w.user_id, doc! {"active": true}).await;

    let guest = w.db.role("guest").await;
    w.db.set_user(w.user_id, doc! {"role": {"$ref": "role", "$id": guest}})
        .await;
    assert_refused(
        &w.logout_with(Some(&bearer), Payload::RestV1).await,
        "unauthorized",
        "role not allowed",
    );

    w.db.delete_user(w.user_id).await;
    assert_refused(
        &w.logout_with(Some(&bearer), Payload::RestV1).await,
        "unauthorized",
        "user gone",
    );
}

#[tokio::test]
async fn a_pending_password_change_blocks_logout_only_when_required() {
    let mut w = world(&[("REQUIRE_PASSWORD_CHANGE", "true")]).await;
    w.db.set_user(w.user_id, doc! {"change_password": true})
        .await;
    let token = w.admin_token().await;
    let response = w
        .logout_with(Some(&format!("Bearer {token}")), Payload::HttpV2)
        .await;
    assert_refused(&response, "password_change_required", "flag set, rule on");

    let mut relaxed = world(&[]).await;
    relaxed
        .db
        .set_user(relaxed.user_id, doc! {"change_password": true})
        .await;
    let token = relaxed.admin_token().await;
    let response = relaxed
        .logout_with(Some(&format!("Bearer {token}")), Payload::HttpV2)
        .await;
    assert_eq!(response.status, 200, "{}", response.raw_body);
}

#[tokio::test]
async fn a_token_issued_by_the_python_service_is_accepted_while_whitelisted() {
    let db = TestDb::new().await;
    let admin = db.role("admin").await;
    let user_id = ObjectId::parse_str(PYTHON_USER).unwrap();
    db.insert_user(doc! {
        "_id": user_id,
        "username": "pyadmin",
        "password": e2e::db::PYTHON_BCRYPT_HASH,
        "active": true,
        "change_password": false,
        "role": {"$ref": "role", "$id": admin},
    })
    .await;
    // Whitelisted by hand, exactly as the Python service writes entries.
    db.whitelist(user_id, PYTHON_UUID_ACCESS, PYTHON_UUID_REFRESH)
        .await;
    let mut env = db.env();
    env.retain(|(k, _)| *k != "SECRET_KEY");
    env.push(("SECRET_KEY", PYTHON_SECRET.to_owned()));
    let mut logout = Function::start("logout", &env).await;

    let refresh_as_access = logout
        .invoke(
            HttpRequest::post(PATH)
                .bearer(PYTHON_REFRESH)
                .event(Payload::RestV1),
        )
        .await;
    assert_refused(
        &refresh_as_access,
        "invalid_token",
        "python refresh token as access",
    );

    let response = logout
        .invoke(
            HttpRequest::post(PATH)
                .bearer(PYTHON_ACCESS)
                .event(Payload::RestV1),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.raw_body);
    assert!(db.sessions().await.is_empty());
    let again = logout
        .invoke(
            HttpRequest::post(PATH)
                .bearer(PYTHON_ACCESS)
                .event(Payload::RestV1),
        )
        .await;
    assert_refused(&again, "unauthorized", "python token after logout");
}

#[tokio::test]
async fn oversized_bodies_and_other_methods_are_refused() {
    let mut w = world(&[]).await;
    let token = w.admin_token().await;
    let huge = "x".repeat(65 * 1024);
    let response = w
        .logout
        .invoke(
            HttpRequest::post(PATH)
                .bearer(&token)
                .body(&huge)
                .event(Payload::RestV1),
        )
        .await;
    assert_eq!(response.status, 413);
    let response = w
        .logout
        .invoke(
            HttpRequest::post(PATH)
                .method("GET")
                .bearer(&token)
                .event(Payload::RestV1),
        )
        .await;
    assert_eq!(response.status, 405);
    assert_eq!(w.db.sessions().await.len(), 1);
}
