//! `POST /admin/graphql`, end to end: the built `graphql` binary (and `login` for
//! tokens) under API Gateway events, against a real MongoDB-wire server.

use e2e::db::claims;
use e2e::helpers::{login_pair, now, sign_hs256};
use e2e::{Function, HttpRequest, LambdaResponse, Payload, TestDb, SECRET_KEY};
use mongodb::bson::doc;
use mongodb::bson::oid::ObjectId;
use serde_json::{json, Value};

const PATH: &str = "/admin/graphql";

/// The seed's own request, byte for byte.
const SEED_REQUEST: &str = "mutation {
    update_password (input: {
        current_password: \"current\"
        new_password: \"new_pass\"
        password_confirmed: \"new_pass\"
    }) {
        ok
    }
}";

struct World {
    db: TestDb,
    login: Function,
    graphql: Function,
    admin_id: ObjectId,
    support_id: ObjectId,
}

async fn world(extra: &[(&'static str, &str)]) -> World {
    let db = TestDb::new().await;
    let admin = db.role("admin").await;
    let support = db.role("support").await;
    db.db
        .collection::<mongodb::bson::Document>("role")
        .update_one(
            doc! {"_id": support},
            doc! {"$set": {"permissions": {"tickets": "rw"}}},
        )
        .await
        .unwrap();
    let admin_id = db.user("root", "root-password", admin).await;
    let support_id = db.user("sue", "current", support).await;
    let mut env = db.env();
    env.push(("ALLOWED_ROLES", "*".to_owned()));
    env.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    let login = Function::start("login", &env).await;
    let graphql = Function::start("graphql", &env).await;
    World {
        db,
        login,
        graphql,
        admin_id,
        support_id,
    }
}

impl World {
    async fn tokens(&mut self, username: &str, password: &str) -> (String, String) {
        login_pair(&mut self.login, username, password).await
    }

    /// The status `{ me { username } }` gets with `token`: 200 while its session
    /// lives, 401 once it has been ended.
    async fn me_status(&mut self, token: &str) -> u16 {
        self.gql(Some(token), "{ me { username } }", json!({}))
            .await
            .status
    }

    async fn admin(&mut self) -> String {
        self.tokens("root", "root-password").await.0
    }

    async fn support(&mut self) -> String {
        self.tokens("sue", "current").await.0
    }

    /// Sends `{"query", "variables"}` with an optional bearer token.
    async fn gql(&mut self, token: Option<&str>, query: &str, variables: Value) -> LambdaResponse {
        let mut request =
            HttpRequest::post(PATH).json(&json!({"query": query, "variables": variables}));
        if let Some(token) = token {
            request = request.bearer(token);
        }
        self.graphql.invoke(request.event(Payload::RestV1)).await
    }
}

fn error_messages(response: &LambdaResponse) -> Vec<String> {
    response.body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["message"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn assert_error(response: &LambdaResponse, message: &str) {
    assert_eq!(response.status, 200, "{}", response.raw_body);
    assert_eq!(error_messages(response), [message], "{}", response.raw_body);
}

fn global(kind: &str, id: &ObjectId) -> String {
    ::graphql::ids::to_global(kind, id)
}

const UPDATE_PASSWORD: &str =
    "mutation($i: UpdatePasswordInput!) { update_password(input: $i) { ok } }";
const CREATE_USER: &str = "mutation($i: CreateUserInput!) { create_user(input: $i) { user { id username active change_password role { id name } } } }";
const UPDATE_USER: &str = "mutation($i: UpdateUserInput!) { update_user(input: $i) { user { id username active change_password } } }";
const DELETE_USER: &str = "mutation($i: DeleteUserInput!) { delete_user(input: $i) { ok } }";
const RESET_PASSWORD: &str =
    "mutation($i: ResetPasswordInput!) { reset_password(input: $i) { password } }";
const REFRESH: &str = "mutation($i: RefreshTokenInput!) { refresh_token(input: $i) { token_type access_token refresh_token expires_in } }";

#[tokio::test]
async fn the_seed_request_verbatim_gets_the_seed_response() {
    let mut w = world(&[]).await;
    let token = w.support().await;
    for payload in Payload::ALL {
        // Fresh password each round: the seed changes "current" to "new_pass".
        let hash = shared::password::hash("current").unwrap();
        w.db.set_user(w.support_id, doc! {"password": hash}).await;
        let response = w
            .graphql
            .invoke(
                HttpRequest::post(PATH)
                    .bearer(&token)
                    .body(SEED_REQUEST)
                    .event(payload),
            )
            .await;
        assert_eq!(response.status, 200, "{payload:?}: {}", response.raw_body);
        assert_eq!(response.header("content-type"), Some("application/json"));
        assert_eq!(
            response.body,
            json!({"data": {"update_password": {"ok": true}}})
        );
        assert_eq!(
            response.raw_body,
            r#"{"data":{"update_password":{"ok":true}}}"#
        );
    }
    // The new password logs in.
    w.tokens("sue", "new_pass").await;
}

#[tokio::test]
async fn a_bare_document_is_accepted_as_application_graphql_too() {
    let mut w = world(&[]).await;
    let token = w.admin().await;
    let response = w
        .graphql
        .invoke(
            HttpRequest::post(PATH)
                .header("Content-Type", "application/graphql")
                .bearer(&token)
                .body("{ me { username } }")
                .event(Payload::HttpV2),
        )
        .await;
    assert_eq!(
        response.body,
        json!({"data": {"me": {"username": "root"}}}),
        "{}",
        response.raw_body
    );
}

#[tokio::test]
async fn update_password_reports_each_refusal_with_the_python_message() {
    let mut w = world(&[]).await;
    let token = w.support().await;
    let cases = [
        (
            json!({"current_password": "current", "new_password": "new-pass-1", "password_confirmed": "new-pass-2"}),
            "Passwords don't match",
        ),
        (
            json!({"current_password": "wrong", "new_password": "new-pass-1", "password_confirmed": "new-pass-1"}),
            "Current password don't match",
        ),
        (
            json!({"current_password": "current", "new_password": "current", "password_confirmed": "current"}),
            "bad_request",
        ),
        (
            json!({"current_password": "current", "new_password": "short", "password_confirmed": "short"}),
            "bad_request",
        ),
        (
            json!({"current_password": "current", "new_password": "has space s", "password_confirmed": "has space s"}),
            "bad_request",
        ),
    ];
    for (input, message) in cases {
        let response = w
            .gql(Some(&token), UPDATE_PASSWORD, json!({"i": input}))
            .await;
        assert_error(&response, message);
        assert_eq!(response.body["data"]["update_password"], Value::Null);
    }
    let short = w
        .gql(Some(&token), UPDATE_PASSWORD, json!({"i": {"current_password": "current", "new_password": "short", "password_confirmed": "short"}}))
        .await;
    assert_eq!(
        short.body["errors"][0]["extensions"]["errors"],
        json!({"new_password": ["min length is 8"]})
    );

    // Same as current, once the current one is long enough to pass the rules.
    let hash = shared::password::hash("current-long").unwrap();
    w.db.set_user(w.support_id, doc! {"password": hash}).await;
    let same = w
        .gql(Some(&token), UPDATE_PASSWORD, json!({"i": {"current_password": "current-long", "new_password": "current-long", "password_confirmed": "current-long"}}))
        .await;
    assert_error(&same, "The new password is equal as the current password");
    // None of that changed the stored hash.
    assert!(
        shared::password::verify(
            "current-long",
            w.db.user_doc(w.support_id)
                .await
                .get_str("password")
                .unwrap()
        ) != shared::password::Verdict::Mismatch
    );
}

#[tokio::test]
async fn a_password_change_clears_the_flag_and_ends_the_other_sessions_only() {
    let mut w = world(&[]).await;
    w.db.set_user(w.support_id, doc! {"change_password": true})
        .await;
    let (other_access, other_refresh) = w.tokens("sue", "current").await;
    let token = w.support().await;
    let response = w
        .gql(Some(&token), UPDATE_PASSWORD, json!({"i": {"current_password": "current", "new_password": "brand-new-1", "password_confirmed": "brand-new-1"}}))
        .await;
    assert_eq!(
        response.body,
        json!({"data": {"update_password": {"ok": true}}}),
        "{}",
        response.raw_body
    );
    assert!(!w
        .db
        .user_doc(w.support_id)
        .await
        .get_bool("change_password")
        .unwrap());

    // The session in use lives on; the other one is gone, refresh token included.
    let me = w
        .gql(
            Some(&token),
            "{ me { username change_password } }",
            json!({}),
        )
        .await;
    assert_eq!(
        me.body["data"]["me"],
        json!({"username": "sue", "change_password": false})
    );
    let stale = w
        .gql(Some(&other_access), "{ me { username } }", json!({}))
        .await;
    assert_eq!(stale.status, 401);
    assert_eq!(stale.body, json!({"message": "unauthorized"}));
    let refresh = w
        .gql(
            None,
            REFRESH,
            json!({"i": {"refresh_token": other_refresh}}),
        )
        .await;
    assert_error(&refresh, "unauthorized");
}

#[tokio::test]
async fn a_pending_password_change_allows_only_update_password_and_me() {
    let mut w = world(&[("REQUIRE_PASSWORD_CHANGE", "true")]).await;
    w.db.set_user(w.support_id, doc! {"change_password": true})
        .await;
    let token = w.support().await;
    let me = w
        .gql(
            Some(&token),
            "{ me { username change_password } }",
            json!({}),
        )
        .await;
    assert_eq!(
        me.body["data"]["me"],
        json!({"username": "sue", "change_password": true}),
        "{}",
        me.raw_body
    );
    let other = w
        .gql(
            Some(&token),
            "{ me { username } roles { name } }",
            json!({}),
        )
        .await;
    assert_eq!(other.status, 401);
    assert_eq!(other.body, json!({"message": "password_change_required"}));
    let change = w
        .gql(Some(&token), UPDATE_PASSWORD, json!({"i": {"current_password": "current", "new_password": "brand-new-1", "password_confirmed": "brand-new-1"}}))
        .await;
    assert_eq!(
        change.body["data"]["update_password"]["ok"], true,
        "{}",
        change.raw_body
    );
    let after = w.gql(Some(&token), "{ me { username } }", json!({})).await;
    assert_eq!(after.status, 200);
}

#[tokio::test]
async fn create_user_makes_a_user_who_can_log_in() {
    let mut w = world(&[]).await;
    let token = w.admin().await;
    let input = json!({"i": {"username": "NewBie", "password": "newbie-pass", "password_confirmed": "newbie-pass", "role": "support"}});
    let response = w.gql(Some(&token), CREATE_USER, input).await;
    assert_eq!(response.status, 200, "{}", response.raw_body);
    let user = &response.body["data"]["create_user"]["user"];
    assert_eq!(user["username"], "newbie");
    assert_eq!(user["active"], true);
    assert_eq!(user["change_password"], false);
    assert_eq!(user["role"]["name"], "support");
    let id =
        ::graphql::ids::from_input("User", user["id"].as_str().unwrap()).expect("a User global id");
    let stored = w.db.user_doc(id).await;
    assert!(stored
        .get_str("password")
        .unwrap()
        .starts_with("$argon2id$"));
    assert_eq!(
        stored
            .get_document("role")
            .unwrap()
            .get_str("$ref")
            .unwrap(),
        "role"
    );
    w.tokens("newbie", "newbie-pass").await;
}

#[tokio::test]
async fn create_user_refusals_use_the_python_messages_and_change_nothing() {
    let mut w = world(&[]).await;
    let token = w.admin().await;
    let cases = [
        (
            json!({"username": "abc", "password": "pass-word-1", "password_confirmed": "pass-word-2", "role": "support"}),
            "Passwords don't match",
        ),
        (
            json!({"username": "abc", "password": "pass-word-1", "password_confirmed": "pass-word-1", "role": "ghost"}),
            "Role does not exist",
        ),
        (
            json!({"username": "SUE", "password": "pass-word-1", "password_confirmed": "pass-word-1", "role": "support"}),
            "Username already exists",
        ),
        (
            json!({"username": "ab", "password": "pass-word-1", "password_confirmed": "pass-word-1", "role": "support"}),
            "bad_request",
        ),
        (
            json!({"username": "abc", "password": "short", "password_confirmed": "short", "role": "support"}),
            "bad_request",
        ),
        (
            json!({"username": "a b c", "password": "pass-word-1", "password_confirmed": "pass-word-1", "role": "support"}),
            "bad_request",
        ),
    ];
    for (input, message) in cases {
        let response = w.gql(Some(&token), CREATE_USER, json!({"i": input})).await;
        assert_error(&response, message);
    }
    let count = w.db.count_users(doc! {}).await;
    assert_eq!(count, 2);
}

#[tokio::test]
async fn concurrent_creations_of_one_name_give_one_user_and_one_refusal() {
    let mut w = world(&[]).await;
    let token = w.admin().await;
    let mut second = Function::start("graphql", &{
        let mut env = w.db.env();
        env.push(("ALLOWED_ROLES", "*".to_owned()));
        env
    })
    .await;
    let body = json!({"query": CREATE_USER, "variables": {"i": {"username": "twin", "password": "twin-password", "password_confirmed": "twin-password", "role": "support"}}});
    let event = HttpRequest::post(PATH)
        .bearer(&token)
        .json(&body)
        .event(Payload::RestV1);
    let (a, b) = tokio::join!(w.graphql.invoke(event.clone()), second.invoke(event));
    let mut outcomes: Vec<String> = [a, b]
        .iter()
        .map(|r| match error_messages(r).first() {
            Some(message) => message.clone(),
            None => r.body["data"]["create_user"]["user"]["username"]
                .as_str()
                .unwrap_or("?")
                .to_owned(),
        })
        .collect();
    outcomes.sort();
    assert_eq!(outcomes, ["Username already exists", "twin"]);
    let count = w.db.count_users(doc! {"username": "twin"}).await;
    assert_eq!(count, 1);
}

#[tokio::test]
async fn update_user_sets_the_flag_and_deactivation_ends_sessions() {
    let mut w = world(&[]).await;
    let admin = w.admin().await;
    let sue = w.support().await;
    let id = global("User", &w.support_id);
    let response = w
        .gql(
            Some(&admin),
            UPDATE_USER,
            json!({"i": {"id": id, "change_password": true}}),
        )
        .await;
    assert_eq!(
        response.body["data"]["update_user"]["user"]["change_password"], true,
        "{}",
        response.raw_body
    );
    assert!(w
        .db
        .user_doc(w.support_id)
        .await
        .get_bool("change_password")
        .unwrap());
    // Still signed in: only deactivation ends sessions.
    assert_eq!(w.me_status(&sue).await, 200);

    let bare = w.support_id.to_hex();
    let response = w
        .gql(
            Some(&admin),
            UPDATE_USER,
            json!({"i": {"id": bare, "change_password": false, "active": false}}),
        )
        .await;
    assert_eq!(
        response.body["data"]["update_user"]["user"]["active"], false,
        "{}",
        response.raw_body
    );
    assert_eq!(w.me_status(&sue).await, 401);
    assert!(w.db.sessions().await.iter().all(|s| s
        .get_document("user")
        .unwrap()
        .get_object_id("$id")
        .unwrap()
        != w.support_id));

    let missing = global("User", &ObjectId::new());
    assert_error(
        &w.gql(
            Some(&admin),
            UPDATE_USER,
            json!({"i": {"id": missing, "change_password": true}}),
        )
        .await,
        "not_found",
    );
    for bad in ["nope", "", &global("Role", &w.support_id)] {
        assert_error(
            &w.gql(
                Some(&admin),
                UPDATE_USER,
                json!({"i": {"id": bad, "change_password": true}}),
            )
            .await,
            "id_not_valid",
        );
    }
}

#[tokio::test]
async fn delete_user_removes_the_user_and_their_sessions() {
    let mut w = world(&[]).await;
    let admin = w.admin().await;
    let sue = w.support().await;
    let id = global("User", &w.support_id);
    let response = w
        .gql(Some(&admin), DELETE_USER, json!({"i": {"id": id}}))
        .await;
    assert_eq!(
        response.body,
        json!({"data": {"delete_user": {"ok": true}}}),
        "{}",
        response.raw_body
    );
    assert_eq!(w.me_status(&sue).await, 401);
    assert_eq!(
        w.db.sessions().await.len(),
        1,
        "only the admin's session is left"
    );
    assert_error(
        &w.gql(Some(&admin), DELETE_USER, json!({"i": {"id": id}}))
            .await,
        "not_found",
    );
    assert_error(
        &w.gql(Some(&admin), DELETE_USER, json!({"i": {"id": "zzz"}}))
            .await,
        "id_not_valid",
    );
}

#[tokio::test]
async fn reset_password_returns_a_random_password_once_and_forces_a_change() {
    let mut w = world(&[]).await;
    let admin = w.admin().await;
    let sue = w.support().await;
    let response = w
        .gql(
            Some(&admin),
            RESET_PASSWORD,
            json!({"i": {"id": global("User", &w.support_id)}}),
        )
        .await;
    let password = response.body["data"]["reset_password"]["password"]
        .as_str()
        .expect("password")
        .to_owned();
    assert_eq!(password.len(), 8);
    assert!(password.chars().all(|c| c.is_ascii_alphanumeric()));
    let stored = w.db.user_doc(w.support_id).await;
    assert!(stored.get_bool("change_password").unwrap());
    assert!(!stored.get_str("password").unwrap().contains(&password));
    assert_eq!(w.me_status(&sue).await, 401, "old session ended");
    w.tokens("sue", &password).await;

    let again = w
        .gql(
            Some(&admin),
            RESET_PASSWORD,
            json!({"i": {"id": global("User", &w.support_id)}}),
        )
        .await;
    assert_ne!(
        again.body["data"]["reset_password"]["password"]
            .as_str()
            .unwrap(),
        password
    );
    assert_error(
        &w.gql(
            Some(&admin),
            RESET_PASSWORD,
            json!({"i": {"id": global("User", &ObjectId::new())}}),
        )
        .await,
        "not_found",
    );
    let logs = w.graphql.logs();
    assert!(
        !logs.contains(&password),
        "the generated password reached the logs"
    );
}

#[tokio::test]
async fn a_refresh_token_works_once_without_an_access_token() {
    let mut w = world(&[]).await;
    let (access, refresh) = w.tokens("sue", "current").await;
    let response = w
        .gql(None, REFRESH, json!({"i": {"refresh_token": refresh}}))
        .await;
    assert_eq!(response.status, 200, "{}", response.raw_body);
    let data = &response.body["data"]["refresh_token"];
    assert_eq!(data["token_type"], "Bearer");
    assert_eq!(data["expires_in"], 60);
    let new_access = data["access_token"].as_str().unwrap().to_owned();
    let new_refresh = data["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(claims(&new_access)["sub"], w.support_id.to_hex());

    // The old pair is dead; the new one works; the old refresh token can't be reused.
    assert_eq!(w.me_status(&access).await, 401);
    let me = w
        .gql(Some(&new_access), "{ me { username } }", json!({}))
        .await;
    assert_eq!(me.body["data"]["me"]["username"], "sue");
    assert_error(
        &w.gql(None, REFRESH, json!({"i": {"refresh_token": refresh}}))
            .await,
        "unauthorized",
    );
    assert_eq!(w.db.sessions().await.len(), 1);

    // Concurrent reuse: exactly one of two simultaneous refreshes wins.
    let mut second = Function::start("graphql", &w.db.env()).await;
    let event = HttpRequest::post(PATH)
        .json(&json!({"query": REFRESH, "variables": {"i": {"refresh_token": new_refresh}}}))
        .event(Payload::RestV1);
    let (a, b) = tokio::join!(w.graphql.invoke(event.clone()), second.invoke(event));
    let wins = [&a, &b]
        .iter()
        .filter(|r| r.body["data"]["refresh_token"]["access_token"].is_string())
        .count();
    assert_eq!(wins, 1, "{} / {}", a.raw_body, b.raw_body);
}

#[tokio::test]
async fn a_refresh_with_an_access_token_must_be_for_the_same_user() {
    let mut w = world(&[]).await;
    let (_, sue_refresh) = w.tokens("sue", "current").await;
    let admin = w.admin().await;
    let foreign = w
        .gql(
            Some(&admin),
            REFRESH,
            json!({"i": {"refresh_token": sue_refresh}}),
        )
        .await;
    assert_error(&foreign, "unauthorized");

    // An expired access token of the same user is fine: that is what refresh is for.
    let now = now();
    let expired = sign_hs256(
        &json!({"exp": now - 600, "iat": now - 4200, "sub": w.support_id.to_hex(), "uuid": "old"}),
        SECRET_KEY,
    );
    let response = w
        .gql(
            Some(&expired),
            REFRESH,
            json!({"i": {"refresh_token": sue_refresh}}),
        )
        .await;
    assert!(
        response.body["data"]["refresh_token"]["access_token"].is_string(),
        "{}",
        response.raw_body
    );

    // But it must still be ours.
    let forged = sign_hs256(
        &json!({"exp": now - 600, "iat": now - 4200, "sub": w.support_id.to_hex(), "uuid": "old"}),
        "not-our-key-not-our-key-not-our-key",
    );
    let response = w
        .gql(Some(&forged), REFRESH, json!({"i": {"refresh_token": "x"}}))
        .await;
    assert_eq!(response.status, 401);
    assert_eq!(response.body, json!({"message": "invalid_token"}));
}

#[tokio::test]
async fn bad_refresh_tokens_get_token_messages() {
    let mut w = world(&[]).await;
    let (access, _) = w.tokens("sue", "current").await;
    let now = now();
    let expired = sign_hs256(&json!({"exp": now - 5, "uuid": "gone"}), SECRET_KEY);
    assert_error(
        &w.gql(None, REFRESH, json!({"i": {"refresh_token": expired}}))
            .await,
        "signature_expired",
    );
    assert_error(
        &w.gql(None, REFRESH, json!({"i": {"refresh_token": "garbage"}}))
            .await,
        "invalid_token",
    );
    assert_error(
        &w.gql(None, REFRESH, json!({"i": {"refresh_token": access}}))
            .await,
        "invalid_token",
    );
}

#[tokio::test]
async fn queries_list_and_find_users_and_roles() {
    let mut w = world(&[]).await;
    let admin = w.admin().await;
    let admin_role =
        w.db.db
            .collection::<mongodb::bson::Document>("role")
            .find_one(doc! {"name": "admin"})
            .await
            .unwrap()
            .unwrap();
    for i in 0..5 {
        w.db.user(
            &format!("user{i}"),
            "whatever-pw",
            admin_role.get_object_id("_id").unwrap(),
        )
        .await;
    }
    let me = w
        .gql(
            Some(&admin),
            "{ me { id username role { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(me.body["data"]["me"]["id"], global("User", &w.admin_id));
    assert_eq!(me.body["data"]["me"]["role"]["name"], "admin");

    for id in [global("User", &w.support_id), w.support_id.to_hex()] {
        let one = w
            .gql(
                Some(&admin),
                "query($id: ID!) { user(id: $id) { username role { name permissions } } }",
                json!({"id": id}),
            )
            .await;
        assert_eq!(
            one.body["data"]["user"]["username"], "sue",
            "{}",
            one.raw_body
        );
        let permissions: Value = serde_json::from_str(
            one.body["data"]["user"]["role"]["permissions"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(permissions, json!({"tickets": "rw"}));
    }
    let none = w
        .gql(
            Some(&admin),
            "{ user(id: \"5e66a976ebc7469c6eb8a1b2\") { username } }",
            json!({}),
        )
        .await;
    assert_eq!(none.body, json!({"data": {"user": null}}));
    assert_error(
        &w.gql(Some(&admin), "{ user(id: \"x\") { username } }", json!({}))
            .await,
        "id_not_valid",
    );

    // 7 users, pages of 3: 3 + 3 + 1, in creation order, no duplicates.
    let page_query = "query($after: String) { users(first: 3, after: $after) { edges { cursor node { username } } page_info { has_next_page end_cursor } } }";
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = w
            .gql(Some(&admin), page_query, json!({"after": after}))
            .await;
        let users = &page.body["data"]["users"];
        for edge in users["edges"].as_array().unwrap() {
            seen.push(edge["node"]["username"].as_str().unwrap().to_owned());
        }
        if !users["page_info"]["has_next_page"].as_bool().unwrap() {
            break;
        }
        after = users["page_info"]["end_cursor"].clone();
    }
    assert_eq!(
        seen,
        ["root", "sue", "user0", "user1", "user2", "user3", "user4"]
    );
    let too_many = w
        .gql(
            Some(&admin),
            "{ users(first: 101) { edges { cursor } } }",
            json!({}),
        )
        .await;
    assert_eq!(too_many.body["data"]["users"], Value::Null);

    let roles = w
        .gql(Some(&admin), "{ roles { id name } }", json!({}))
        .await;
    let names: Vec<&str> = roles.body["data"]["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["admin", "support"]);
    assert!(!roles.raw_body.contains("password"));
}

#[tokio::test]
async fn access_rules_deny_field_by_field_and_the_rest_still_runs() {
    let mut w = world(&[]).await;
    let sue = w.support().await;
    let admin = w.admin().await;
    let mixed = "{ me { username } users { edges { cursor } } roles { name } }";

    let as_support = w.gql(Some(&sue), mixed, json!({})).await;
    assert_eq!(as_support.status, 200);
    assert_eq!(as_support.body["data"]["me"]["username"], "sue");
    assert_eq!(as_support.body["data"]["users"], Value::Null);
    assert_eq!(as_support.body["data"]["roles"], Value::Null);
    assert_eq!(
        error_messages(&as_support),
        ["unauthorized", "unauthorized"]
    );

    let as_admin = w.gql(Some(&admin), mixed, json!({})).await;
    assert!(
        as_admin.body.get("errors").is_none(),
        "{}",
        as_admin.raw_body
    );

    let anonymous = w.gql(None, mixed, json!({})).await;
    assert_eq!(
        error_messages(&anonymous),
        ["unauthorized", "unauthorized", "unauthorized"]
    );
    let create = w
        .gql(None, CREATE_USER, json!({"i": {"username": "anon", "password": "anon-pass-1", "password_confirmed": "anon-pass-1", "role": "admin"}}))
        .await;
    assert_error(&create, "unauthorized");
    let support_create = w
        .gql(Some(&sue), CREATE_USER, json!({"i": {"username": "anon", "password": "anon-pass-1", "password_confirmed": "anon-pass-1", "role": "admin"}}))
        .await;
    assert_error(&support_create, "unauthorized");
    let count = w.db.count_users(doc! {}).await;
    assert_eq!(count, 2);
}

#[tokio::test]
async fn access_rules_come_from_graphql_access_control() {
    let rules = r#"[{"mutation":"create_user","roles":["support"]},{"mutation":"roles","roles":["is_anonymously"]}]"#;
    let mut w = world(&[("GRAPHQL_ACCESS_CONTROL", rules)]).await;
    let sue = w.support().await;
    let admin = w.admin().await;
    let input = json!({"i": {"username": "made-by-sue", "password": "pass-word-1", "password_confirmed": "pass-word-1", "role": "support"}});
    let by_sue = w.gql(Some(&sue), CREATE_USER, input.clone()).await;
    assert_eq!(
        by_sue.body["data"]["create_user"]["user"]["username"], "made-by-sue",
        "{}",
        by_sue.raw_body
    );
    assert_error(
        &w.gql(Some(&admin), CREATE_USER, input).await,
        "unauthorized",
    );
    let anonymous_roles = w.gql(None, "{ roles { name } }", json!({})).await;
    assert!(
        anonymous_roles.body["data"]["roles"].is_array(),
        "{}",
        anonymous_roles.raw_body
    );
    // Unlisted fields keep their defaults.
    assert_error(
        &w.gql(Some(&sue), "{ users { edges { cursor } } }", json!({}))
            .await,
        "unauthorized",
    );

    let mut env = w.db.env();
    env.push((
        "GRAPHQL_ACCESS_CONTROL",
        r#"[{"mutation":"create_usr","roles":["x"]}]"#.to_owned(),
    ));
    let mut broken = Function::start("graphql", &env).await;
    assert!(
        matches!(broken.exit_code(std::time::Duration::from_secs(10)).await, Some(c) if c != 0)
    );
    assert!(
        broken.logs().contains("GRAPHQL_ACCESS_CONTROL"),
        "{}",
        broken.logs()
    );
}

#[tokio::test]
async fn a_bad_bearer_token_gets_the_guard_answer() {
    let mut w = world(&[]).await;
    for (header, message) in [
        ("Bearer garbage", "invalid_token"),
        ("Basic abc", "unauthorized"),
    ] {
        let response = w
            .graphql
            .invoke(
                HttpRequest::post(PATH)
                    .header("Authorization", header)
                    .json(&json!({"query": "{ me { id } }"}))
                    .event(Payload::HttpV2),
            )
            .await;
        assert_eq!(response.status, 401);
        assert_eq!(response.body, json!({"message": message}));
    }
}

#[tokio::test]
async fn malformed_requests_get_graphql_errors_never_a_500() {
    let mut w = world(&[]).await;
    let admin = w.admin().await;
    let cases: Vec<(&str, Value)> = vec![
        ("{ me { username ", json!({})),
        ("{ nope }", json!({})),
        ("{ me { password } }", json!({})),
        (
            "query($id: ID!) { user(id: $id) { username } }",
            json!({"id": {"not": "an id"}}),
        ),
        ("query($id: ID!) { user(id: $id) { username } }", json!({})),
        ("mutation { delete_user(input: {}) { ok } }", json!({})),
        ("subscription { me { id } }", json!({})),
    ];
    for (query, variables) in cases {
        let response = w.gql(Some(&admin), query, variables).await;
        assert!(
            response.status == 200 || response.status == 400,
            "{query}: {}",
            response.status
        );
        assert!(
            !error_messages(&response).is_empty(),
            "{query}: {}",
            response.raw_body
        );
    }
    for body in ["", "42", r#"{"variables":{}}"#, "[]"] {
        let response = w
            .graphql
            .invoke(
                HttpRequest::post(PATH)
                    .bearer(&admin)
                    .body(body)
                    .event(Payload::RestV1),
            )
            .await;
        assert_eq!(response.status, 400, "{body:?}: {}", response.raw_body);
        assert!(!error_messages(&response).is_empty());
    }
}

#[tokio::test]
async fn query_limits_hold() {
    let mut w = world(&[]).await;
    let admin = w.admin().await;
    let aliases: String = (0..11).map(|i| format!("a{i}: me {{ id }} ")).collect();
    let response = w
        .gql(Some(&admin), &format!("{{ {aliases} }}"), json!({}))
        .await;
    assert_eq!(response.status, 400, "{}", response.raw_body);

    let batch: Vec<Value> = (0..6).map(|_| json!({"query": "{ me { id } }"})).collect();
    let response = w
        .graphql
        .invoke(
            HttpRequest::post(PATH)
                .bearer(&admin)
                .json(&json!(batch))
                .event(Payload::RestV1),
        )
        .await;
    assert_eq!(response.status, 400);
    let batch: Vec<Value> = (0..2)
        .map(|_| json!({"query": "{ me { username } }"}))
        .collect();
    let response = w
        .graphql
        .invoke(
            HttpRequest::post(PATH)
                .bearer(&admin)
                .json(&json!(batch))
                .event(Payload::RestV1),
        )
        .await;
    assert_eq!(
        response.body,
        json!([{"data": {"me": {"username": "root"}}}, {"data": {"me": {"username": "root"}}}])
    );

    let deep = "{ users { edges { node { role { name } } } } }";
    assert!(w
        .gql(Some(&admin), deep, json!({}))
        .await
        .body
        .get("errors")
        .is_none());
    let complex = "{ a: users(first: 100) { edges { cursor node { id username active change_password role { id name permissions } } } } b: users(first: 100) { edges { cursor node { id username active change_password role { id name permissions } } } } }";
    let response = w.gql(Some(&admin), complex, json!({})).await;
    assert!(
        error_messages(&response)
            .iter()
            .any(|m| m.contains("complex")),
        "{}",
        response.raw_body
    );

    // Introspection is off by default: the schema describes nothing.
    let introspection = w
        .gql(
            Some(&admin),
            "{ __schema { queryType { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        introspection.body["data"]["__schema"],
        Value::Null,
        "{}",
        introspection.raw_body
    );
    let mut open = world(&[("GRAPHQL_INTROSPECTION", "true")]).await;
    let token = open.admin().await;
    let introspection = open
        .gql(
            Some(&token),
            "{ __schema { queryType { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        introspection.body["data"]["__schema"]["queryType"]["name"], "Query",
        "{}",
        introspection.raw_body
    );
}
