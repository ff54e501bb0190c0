//! Both services on one database, as during a migration: ours (the built
//! functions) and the Python package it replaces (flask-auth-service-mongo
//! 0.1.8 in `tests/python/flask_service.py`), with the same `SECRET_KEY`. Each
//! must accept what the other writes: users, password hashes, tokens, whitelist
//! entries, and every document must still load through the package's models.

use e2e::db::{PYTHON_BCRYPT_HASH, PYTHON_BCRYPT_PASSWORD};
use e2e::python_service::{load_with_the_package_models, PythonService};
use e2e::{AdminCli, TestApp};
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{doc, Document};
use serde_json::{json, Value};
use std::time::Duration;

/// Our setting that stores new and changed passwords as the package does.
const BCRYPT_MODE: (&str, &str) = ("PASSWORD_HASH", "bcrypt");

/// How long a log line may take to get through the reader threads.
const LOG_LIMIT: Duration = Duration::from_secs(5);

/// The package's own hashes: bcrypt, `$2b$`, cost 12.
const PACKAGE_HASH_PREFIX: &str = "$2b$12$";

/// Ours with `extra` settings and the package beside it, on one database. The
/// database has ours's seeded `root` and `sue` (argon2id: the package can't
/// verify them) and `pyroot`, an admin as the package left one (bcrypt).
async fn both_services(extra: &[(&'static str, &str)]) -> (TestApp, PythonService) {
    let app = TestApp::with_env(extra).await;
    app.db
        .user_with_hash("pyroot", PYTHON_BCRYPT_HASH, app.admin_role)
        .await;
    let python = PythonService::start(&app.db).await;
    (app, python)
}

/// `pyroot`'s password.
const PYROOT_PASSWORD: &str = PYTHON_BCRYPT_PASSWORD;

async fn stored_hash(app: &TestApp, username: &str) -> String {
    let user = app
        .db
        .db
        .collection::<Document>("user")
        .find_one(doc! { "username": username })
        .await
        .expect("find user")
        .unwrap_or_else(|| panic!("no user {username}"));
    user.get_str("password").expect("password").to_owned()
}

async fn user_id(app: &TestApp, username: &str) -> ObjectId {
    let user = app
        .db
        .db
        .collection::<Document>("user")
        .find_one(doc! { "username": username })
        .await
        .expect("find user")
        .unwrap_or_else(|| panic!("no user {username}"));
    user.get_object_id("_id").expect("_id")
}

/// The `uuid` claim of a token: the whitelist key of its session.
fn uuid_of(token: &str) -> String {
    e2e::db::claims(token)["uuid"]
        .as_str()
        .expect("uuid claim")
        .to_owned()
}

async fn is_whitelisted(app: &TestApp, access: &str) -> bool {
    let uuid = uuid_of(access);
    app.db
        .sessions()
        .await
        .iter()
        .any(|s| s.get_str("uuid_access") == Ok(uuid.as_str()))
}

/// `create_user` at ours, with an admin's token; fails the test unless it works.
async fn create_user_here(app: &mut TestApp, token: &str, username: &str, password: &str) {
    let response = app
        .graphql(
            Some(token),
            "mutation($u: String!, $p: String!) { create_user(input: {username: $u, \
             password: $p, password_confirmed: $p, role: \"admin\"}) { user { id username } } }",
            json!({"u": username, "p": password}),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.raw_body);
    assert!(
        response.body.get("errors").is_none(),
        "{}",
        response.raw_body
    );
}

/// `update_password` at ours; fails the test unless it works.
async fn change_password_here(app: &mut TestApp, token: &str, current: &str, new: &str) {
    let response = app
        .graphql(
            Some(token),
            "mutation($c: String!, $n: String!) { update_password(input: {current_password: $c, \
             new_password: $n, password_confirmed: $n}) { ok } }",
            json!({"c": current, "n": new}),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.raw_body);
    assert_eq!(
        response.body["data"]["update_password"]["ok"], true,
        "{}",
        response.raw_body
    );
}

/// `refresh_token` at ours, with no access token; the answer's body.
async fn refresh_here(app: &mut TestApp, refresh: &str) -> Value {
    app.graphql(
        None,
        "mutation($r: String!) { refresh_token(input: {refresh_token: $r}) \
         { access_token refresh_token } }",
        json!({"r": refresh}),
    )
    .await
    .body
}

fn new_pair(body: &Value) -> Option<(String, String)> {
    let pair = &body["data"]["refresh_token"];
    pair["access_token"]
        .as_str()
        .zip(pair["refresh_token"].as_str())
        .map(|(a, r)| (a.to_owned(), r.to_owned()))
}

/// `{ me { username } }` at ours; the username, or `None` if refused.
async fn me_here(app: &mut TestApp, token: &str) -> Option<String> {
    let response = app
        .graphql(Some(token), "{ me { username } }", json!({}))
        .await;
    (response.status == 200)
        .then(|| {
            response.body["data"]["me"]["username"]
                .as_str()
                .map(str::to_owned)
        })
        .flatten()
}

/// `auth-admin hash-report` on the app's database: (bcrypt, argon2id).
fn hash_report(app: &TestApp) -> (u64, u64) {
    let output = AdminCli::on(&app.db).run(&["hash-report"]);
    output.assert_success();
    let text = output.stdout;
    let count = |scheme: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(&format!("{scheme} ")))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("no `{scheme} N` line in:\n{text}"))
    };
    (count("bcrypt"), count("argon2id"))
}

#[tokio::test]
async fn a_user_the_package_creates_logs_in_here() {
    let (mut app, python) = both_services(&[]).await;
    let (admin, _) = python.login("pyroot", PYROOT_PASSWORD).await;
    let created = python
        .graphql(
            &admin,
            "mutation { create_user(input: {username: \"Pat\", password: \"pat-password\", \
             password_confirmed: \"pat-password\", role: \"admin\"}) { user { id username } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        created.body["data"]["create_user"]["user"]["username"], "pat",
        "{}",
        created.raw_body
    );
    assert!(stored_hash(&app, "pat")
        .await
        .starts_with(PACKAGE_HASH_PREFIX));

    let (token, _) = app.login("pat", "pat-password").await;
    assert_eq!(me_here(&mut app, &token).await.as_deref(), Some("pat"));
}

#[tokio::test]
async fn a_user_created_here_in_bcrypt_mode_logs_in_at_the_package() {
    let (mut app, python) = both_services(&[BCRYPT_MODE]).await;
    let admin = app.admin_token().await;
    create_user_here(&mut app, &admin, "Quinn", "quinn-password").await;
    assert!(stored_hash(&app, "quinn")
        .await
        .starts_with(PACKAGE_HASH_PREFIX));

    let response = python.post_login("quinn", "quinn-password").await;
    assert_eq!(response.status, 200, "{}", response.raw_body);
    assert_eq!(response.body["data"]["role"], "admin");
}

#[tokio::test]
async fn a_user_created_here_in_argon2id_mode_cannot_log_in_at_the_package() {
    // The default mode, for contrast: the package can only read bcrypt. Its
    // bcrypt.checkpw raises `Invalid salt` on an argon2id hash, which Flask
    // answers with a 500, not a `bad_credentials`.
    let (mut app, python) = both_services(&[]).await;
    let admin = app.admin_token().await;
    create_user_here(&mut app, &admin, "rita", "rita-password").await;
    assert!(stored_hash(&app, "rita").await.starts_with("$argon2id$"));

    let response = python.post_login("rita", "rita-password").await;
    assert_eq!(response.status, 500, "{}", response.raw_body);
    assert!(
        python.wait_for_log(LOG_LIMIT, "Invalid salt").await,
        "{}",
        python.logs()
    );
}

#[tokio::test]
async fn an_access_token_the_package_issued_passes_our_guard() {
    let (mut app, python) = both_services(&[]).await;
    let (token, _) = python.login("pyroot", PYROOT_PASSWORD).await;
    assert_eq!(me_here(&mut app, &token).await.as_deref(), Some("pyroot"));
}

#[tokio::test]
async fn an_access_token_issued_here_passes_the_package_guard() {
    // `root`'s argon2id hash doesn't matter to the package's guard, which reads
    // the token, the whitelist and the user, never the password.
    let (mut app, python) = both_services(&[]).await;
    let token = app.admin_token().await;
    let response = python
        .graphql(&token, "{ me { username } }", json!({}))
        .await;
    assert_eq!(response.status, 200, "{}", response.raw_body);
    assert_eq!(response.body["data"]["me"]["username"], "root");
}

/// An access token of `pyroot` from each service: (issued here, issued there).
async fn a_token_from_each(
    app: &mut TestApp,
    python: &PythonService,
) -> [(&'static str, String); 2] {
    let (here, _) = app.login("pyroot", PYROOT_PASSWORD).await;
    let (there, _) = python.login("pyroot", PYROOT_PASSWORD).await;
    [("issued here", here), ("issued by the package", there)]
}

#[tokio::test]
async fn a_logout_here_ends_the_session_at_the_package_too() {
    // bcrypt mode, so `pyroot` keeps a hash the package can read after logging in here.
    let (mut app, python) = both_services(&[BCRYPT_MODE]).await;
    for (issuer, token) in a_token_from_each(&mut app, &python).await {
        assert_eq!(python.me_status(&token).await, 200, "{issuer}");
        let response = app.logout(&token).await;
        assert_eq!(response.status, 200, "{issuer}: {}", response.raw_body);
        assert!(!is_whitelisted(&app, &token).await, "{issuer}");
        assert_eq!(app.me_status(&token).await, 401, "{issuer}");
        assert_eq!(python.me_status(&token).await, 401, "{issuer}");
        assert_eq!(python.logout(&token).await.status, 401, "{issuer}");
    }
}

#[tokio::test]
async fn a_logout_at_the_package_ends_the_session_here_too() {
    let (mut app, python) = both_services(&[BCRYPT_MODE]).await;
    for (issuer, token) in a_token_from_each(&mut app, &python).await {
        assert_eq!(app.me_status(&token).await, 200, "{issuer}");
        let response = python.logout(&token).await;
        assert_eq!(response.status, 200, "{issuer}: {}", response.raw_body);
        assert!(!is_whitelisted(&app, &token).await, "{issuer}");
        assert_eq!(app.me_status(&token).await, 401, "{issuer}");
        assert_eq!(app.logout(&token).await.status, 401, "{issuer}");
        assert_eq!(python.me_status(&token).await, 401, "{issuer}");
    }
}

#[tokio::test]
async fn the_package_refreshes_a_session_opened_here() {
    // The package's refresh is a GraphQL mutation that reads the signed-in
    // user, so it is sent with the session's (live) access token.
    let (mut app, python) = both_services(&[]).await;
    let (access, refresh) = app.login("root", "root-password").await;
    let (response, pair) = python.refresh(&access, &refresh).await;
    let (new_access, new_refresh) = pair.unwrap_or_else(|| panic!("{}", response.raw_body));
    assert_eq!(
        me_here(&mut app, &new_access).await.as_deref(),
        Some("root")
    );
    assert_eq!(python.me_status(&new_access).await, 200);
    // And the refresh token the package issued works here.
    assert!(new_pair(&refresh_here(&mut app, &new_refresh).await).is_some());
}

#[tokio::test]
async fn a_refresh_at_the_package_leaves_the_old_pair_alive_so_its_refresh_token_works_again_here()
{
    // A difference: ours swaps a session's token ids in place (a refresh token
    // works once, the old access token dies); the package whitelists a new pair
    // and keeps the old one. So while both run, a refresh token that the
    // package has used still refreshes here once. (Once: with no grace window
    // a second use is a reuse and ends the session; within one it gets the
    // same pair again, see sessions.rs.)
    let (mut app, python) = both_services(&[("REFRESH_REUSE_GRACE_SECONDS", "0")]).await;
    let (access, refresh) = app.login("root", "root-password").await;
    let (response, pair) = python.refresh(&access, &refresh).await;
    assert!(pair.is_some(), "{}", response.raw_body);
    assert_eq!(app.db.sessions().await.len(), 2);
    assert_eq!(
        app.me_status(&access).await,
        200,
        "the old access token died"
    );

    let reused = refresh_here(&mut app, &refresh).await;
    assert!(new_pair(&reused).is_some(), "{reused}");
    // Here it works once: the old pair is gone now.
    assert_eq!(app.me_status(&access).await, 401);
    assert!(new_pair(&refresh_here(&mut app, &refresh).await).is_none());
}

#[tokio::test]
async fn a_session_the_package_opened_refreshes_here() {
    let (mut app, python) = both_services(&[]).await;
    let (access, refresh) = python.login("pyroot", PYROOT_PASSWORD).await;
    let body = refresh_here(&mut app, &refresh).await;
    let (new_access, _) = new_pair(&body).unwrap_or_else(|| panic!("{body}"));
    assert_eq!(python.me_status(&new_access).await, 200);
    // Ours rotates the package's session in place: its old access token is dead
    // at both.
    assert_eq!(python.me_status(&access).await, 401);
    assert_eq!(app.me_status(&access).await, 401);
    assert_eq!(app.db.sessions().await.len(), 1);
}

#[tokio::test]
async fn a_password_changed_here_in_bcrypt_mode_logs_in_at_the_package() {
    let (mut app, python) = both_services(&[BCRYPT_MODE]).await;
    let (token, _) = app.login("pyroot", PYROOT_PASSWORD).await;
    change_password_here(&mut app, &token, PYROOT_PASSWORD, "changed-here-1").await;
    assert!(stored_hash(&app, "pyroot")
        .await
        .starts_with(PACKAGE_HASH_PREFIX));

    let old = python.post_login("pyroot", PYROOT_PASSWORD).await;
    assert_eq!(old.status, 400, "{}", old.raw_body);
    assert_eq!(old.body, json!({"message": "bad_credentials"}));
    python.login("pyroot", "changed-here-1").await;
    // Logging in here again rehashes nothing in bcrypt mode.
    app.login("pyroot", "changed-here-1").await;
    assert!(stored_hash(&app, "pyroot")
        .await
        .starts_with(PACKAGE_HASH_PREFIX));
    python.login("pyroot", "changed-here-1").await;
}

#[tokio::test]
async fn in_argon2id_mode_a_bcrypt_user_who_logs_in_here_is_locked_out_of_the_package() {
    // Why `PASSWORD_HASH=bcrypt` exists: by default the first login here
    // rehashes the package's bcrypt to argon2id, which the package can't read.
    let (mut app, python) = both_services(&[]).await;
    python.login("pyroot", PYROOT_PASSWORD).await;
    app.login("pyroot", PYROOT_PASSWORD).await;
    assert!(stored_hash(&app, "pyroot").await.starts_with("$argon2id$"));

    let response = python.post_login("pyroot", PYROOT_PASSWORD).await;
    assert_eq!(response.status, 500, "{}", response.raw_body);
    assert!(
        python.wait_for_log(LOG_LIMIT, "Invalid salt").await,
        "{}",
        python.logs()
    );
    // Here the user still logs in.
    app.login("pyroot", PYROOT_PASSWORD).await;
}

#[tokio::test]
async fn hash_report_counts_a_bcrypt_mode_change_and_an_argon2id_rehash() {
    // root and sue are seeded argon2id; pyroot is the package's bcrypt.
    let (mut app, _python) = both_services(&[BCRYPT_MODE]).await;
    assert_eq!(hash_report(&app), (1, 2));

    // root changes password in bcrypt mode: one more bcrypt, one argon2id less.
    let token = app.admin_token().await;
    change_password_here(&mut app, &token, "root-password", "root-bcrypt-1").await;
    assert_eq!(hash_report(&app), (2, 1));

    // A login container in the default mode rehashes pyroot at first login.
    let mut argon2_login = app
        .start_with("login", &[("PASSWORD_HASH", "argon2id")])
        .await;
    e2e::app::login_pair(&mut argon2_login, "pyroot", PYROOT_PASSWORD).await;
    assert_eq!(hash_report(&app), (1, 2));
}

#[tokio::test]
async fn after_both_services_wrote_every_document_loads_through_the_package_models() {
    let (mut app, python) = both_services(&[BCRYPT_MODE]).await;

    // A role from our CLI, with permissions.
    AdminCli::on(&app.db)
        .run(&[
            "role-new",
            "--name",
            "ops",
            "--permissions",
            r#"{"tickets":"rw"}"#,
        ])
        .assert_success();

    // Users and sessions from the package: a login, a user, a refresh.
    let (py_admin, py_refresh) = python.login("pyroot", PYROOT_PASSWORD).await;
    let created = python
        .graphql(
            &py_admin,
            "mutation { create_user(input: {username: \"pkguser\", password: \"pkg-password\", \
             password_confirmed: \"pkg-password\", role: \"admin\"}) { user { id } } }",
            json!({}),
        )
        .await;
    assert!(created.body.get("errors").is_none(), "{}", created.raw_body);
    let (_, refreshed) = python.refresh(&py_admin, &py_refresh).await;
    assert!(refreshed.is_some());

    // Users and sessions from ours: logins, a user, a password change, an
    // update, a reset, a deletion, refreshes of both services' sessions.
    let admin = app.admin_token().await;
    create_user_here(&mut app, &admin, "ouruser", "our-password").await;
    create_user_here(&mut app, &admin, "doomed", "doomed-password").await;
    let (ours, _) = app.login("ouruser", "our-password").await;
    change_password_here(&mut app, &ours, "our-password", "our-password-2").await;
    app.login("pkguser", "pkg-password").await;
    app.login("doomed", "doomed-password").await;
    let pkguser = user_id(&app, "pkguser").await.to_hex();
    let doomed = user_id(&app, "doomed").await.to_hex();
    for (query, id) in [
        (
            "mutation($id: ID!) { update_user(input: {id: $id, change_password: true, active: false}) { user { id } } }",
            &pkguser,
        ),
        ("mutation($id: ID!) { reset_password(input: {id: $id}) { password } }", &pkguser),
        ("mutation($id: ID!) { delete_user(input: {id: $id}) { ok } }", &doomed),
    ] {
        let response = app.graphql(Some(&admin), query, json!({"id": id})).await;
        assert!(response.body.get("errors").is_none(), "{query}: {}", response.raw_body);
    }
    let (_, our_refresh) = app.login("root", "root-password").await;
    assert!(new_pair(&refresh_here(&mut app, &our_refresh).await).is_some());
    let (_, py_refresh) = python.login("pyroot", PYROOT_PASSWORD).await;
    assert!(new_pair(&refresh_here(&mut app, &py_refresh).await).is_some());

    // The session flows: a list (which gives the package's entries a
    // `created_at`), a reuse that ends a session, one session ended by id,
    // the others by end_other_sessions.
    python.login("pyroot", PYROOT_PASSWORD).await;
    let (root, _) = app.login("root", "root-password").await;
    let listed = app
        .graphql(Some(&root), "{ sessions { id } }", json!({}))
        .await;
    assert!(listed.body.get("errors").is_none(), "{}", listed.raw_body);
    let (_, pyroot_refresh) = app.login("pyroot", PYROOT_PASSWORD).await;
    let pyroot_sessions = app
        .graphql(
            Some(&admin),
            "query($id: ID!) { user(id: $id) { sessions { id created_at } } }",
            json!({"id": user_id(&app, "pyroot").await.to_hex()}),
        )
        .await;
    assert!(
        pyroot_sessions.body.get("errors").is_none(),
        "{}",
        pyroot_sessions.raw_body
    );
    let second = refresh_here(&mut app, &pyroot_refresh).await;
    let (_, pyroot_next) = new_pair(&second).unwrap_or_else(|| panic!("{second}"));
    assert!(new_pair(&refresh_here(&mut app, &pyroot_next).await).is_some());
    assert!(new_pair(&refresh_here(&mut app, &pyroot_refresh).await).is_none());
    let session = pyroot_sessions.body["data"]["user"]["sessions"][0]["id"].clone();
    let ended = app
        .graphql(
            Some(&admin),
            "mutation($id: ID!) { end_session(input: {id: $id}) { ok } }",
            json!({"id": session}),
        )
        .await;
    assert!(ended.body.get("errors").is_none(), "{}", ended.raw_body);
    let others = app
        .graphql(
            Some(&root),
            "mutation { end_other_sessions { ok } }",
            json!({}),
        )
        .await;
    assert!(others.body.get("errors").is_none(), "{}", others.raw_body);

    let counts = load_with_the_package_models(&app.db)
        .unwrap_or_else(|failures| panic!("the package's models refused:\n{failures}"));
    for name in ["role", "user", "whitelist_token"] {
        let stored = app
            .db
            .db
            .collection::<Document>(name)
            .count_documents(doc! {})
            .await
            .expect("count");
        assert!(stored > 0, "{name} is empty: the scenario wrote nothing");
        assert_eq!(counts[name], stored, "{name}: {counts}");
    }
}

#[tokio::test]
async fn a_password_change_here_ends_the_users_sessions_the_package_opened() {
    let (mut app, python) = both_services(&[BCRYPT_MODE]).await;
    let (there, _) = python.login("pyroot", PYROOT_PASSWORD).await;
    let (here, _) = app.login("pyroot", PYROOT_PASSWORD).await;
    change_password_here(&mut app, &here, PYROOT_PASSWORD, "changed-here-2").await;
    assert_eq!(python.me_status(&there).await, 401);
    assert_eq!(app.me_status(&there).await, 401);
    // The caller's own session lives on, at both.
    assert_eq!(python.me_status(&here).await, 200);
}

#[tokio::test]
async fn a_password_change_at_the_package_keeps_other_sessions_and_logs_in_here() {
    // A difference: the package's update_password only rewrites the hash, so
    // a session opened here survives it (ours ends the caller's other sessions).
    let (mut app, python) = both_services(&[BCRYPT_MODE]).await;
    let (here, _) = app.login("pyroot", PYROOT_PASSWORD).await;
    let (there, _) = python.login("pyroot", PYROOT_PASSWORD).await;
    let response = python
        .graphql(
            &there,
            "mutation($c: String!, $n: String!) { update_password(input: {current_password: $c, \
             new_password: $n, password_confirmed: $n}) { ok } }",
            json!({"c": PYROOT_PASSWORD, "n": "changed-there-1"}),
        )
        .await;
    assert_eq!(
        response.body["data"]["update_password"]["ok"], true,
        "{}",
        response.raw_body
    );
    assert_eq!(app.me_status(&here).await, 200);
    app.login("pyroot", "changed-there-1").await;
}

#[tokio::test]
async fn an_inactive_user_gets_tokens_from_the_package_that_neither_guard_accepts() {
    // A difference: the package's login doesn't look at `active` (its guard
    // does); ours refuses the login itself.
    let (mut app, python) = both_services(&[]).await;
    app.db
        .set_user(user_id(&app, "pyroot").await, doc! { "active": false })
        .await;
    let here = app
        .post_login(
            e2e::Payload::RestV1,
            &json!({"username": "pyroot", "password": PYROOT_PASSWORD}),
        )
        .await;
    assert_eq!(here.raw_body, r#"{"message":"bad_credentials"}"#);
    let (token, _) = python.login("pyroot", PYROOT_PASSWORD).await;
    assert_eq!(python.me_status(&token).await, 401);
    assert_eq!(app.me_status(&token).await, 401);
}

#[tokio::test]
async fn sessions_of_a_user_the_package_deleted_are_refused_here() {
    // The package's delete_user leaves the user's whitelist entries behind,
    // pointing at nothing. Ours refuses their tokens and drops such an entry
    // when its refresh token is tried.
    let (mut app, python) = both_services(&[]).await;
    let admin_here = app.admin_token().await;
    create_user_here(&mut app, &admin_here, "gone", "gone-password").await;
    // ours hashed it argon2id (default mode): give it a hash the package reads.
    let gone = user_id(&app, "gone").await;
    app.db
        .set_user(gone, doc! { "password": PYTHON_BCRYPT_HASH })
        .await;
    let (gone_access, gone_refresh) = python.login("gone", PYROOT_PASSWORD).await;
    let (admin_there, _) = python.login("pyroot", PYROOT_PASSWORD).await;
    let deleted = python
        .graphql(
            &admin_there,
            "mutation($id: ID!) { delete_user(input: {id: $id}) { ok } }",
            json!({"id": ::graphql::ids::to_global("User", &gone)}),
        )
        .await;
    assert_eq!(
        deleted.body["data"]["delete_user"]["ok"], true,
        "{}",
        deleted.raw_body
    );
    assert!(
        is_whitelisted(&app, &gone_access).await,
        "the package ended the session after all"
    );

    // That leftover breaks the package's own models: its reference dangles.
    let failures = load_with_the_package_models(&app.db)
        .expect_err("a whitelist entry of a deleted user loaded");
    assert!(
        failures.contains("whitelist_token: DoesNotExist"),
        "{failures}"
    );

    assert_eq!(app.me_status(&gone_access).await, 401);
    assert_eq!(app.logout(&gone_access).await.status, 401);
    assert!(new_pair(&refresh_here(&mut app, &gone_refresh).await).is_none());
    assert!(!is_whitelisted(&app, &gone_access).await);
    load_with_the_package_models(&app.db).expect("every document loads once it is gone");
}

#[tokio::test]
async fn the_model_check_refuses_a_field_the_package_does_not_declare() {
    // The check the last scenario relies on has teeth: mongoengine loads
    // strictly, so a field ours might add to a user would break the package.
    let app = TestApp::spawn().await;
    app.db
        .set_user(app.admin.id, doc! { "password_changed_at": 1 })
        .await;
    let failures = load_with_the_package_models(&app.db).expect_err("an undeclared field loaded");
    assert!(failures.contains("user: FieldDoesNotExist"), "{failures}");
}
