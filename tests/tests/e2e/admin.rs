//! `auth-admin`, the operator's command line, run as built: exit codes, help,
//! passwords from a pipe or a terminal prompt, the user commands and their
//! effect on sessions and logins, `init`'s indexes, and settings from a secret.

use e2e::admin_cli::CliOutput;
use e2e::db::PYTHON_BCRYPT_HASH;
use e2e::moto_server::{create_secret, endpoint, sdk_env, upsert_secret};
use e2e::python_service::load_with_the_package_models;
use e2e::{AdminCli, Function, Payload, TestApp, TestDb};
use mongodb::bson::{doc, Document};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const COMMANDS: [&str; 9] = [
    "init",
    "role-new",
    "user-new",
    "user-list",
    "user-deactivate",
    "user-activate",
    "clear-tokens",
    "unlock",
    "hash-report",
];

/// `auth-admin role-new --name admin` on `db`, failing the test unless it works.
fn create_the_admin_role(cli: &AdminCli) {
    cli.run(&["role-new", "--name", "admin"]).assert_success();
}

/// `auth-admin user-new --password-stdin` of `username`, role admin.
fn user_new_piped(cli: &AdminCli, username: &str, stdin: &str) -> CliOutput {
    cli.run_piped(
        &[
            "user-new",
            "--role",
            "admin",
            "--username",
            username,
            "--password-stdin",
        ],
        stdin,
    )
}

/// The status of a login of `username` with `password` at a fresh `login`.
async fn login_status(db: &TestDb, username: &str, password: &str) -> u16 {
    let mut login = Function::start("login", &db.env()).await;
    let response = login
        .invoke(e2e::app::login_event(username, password))
        .await;
    response.status
}

#[test]
fn every_command_has_help() {
    let cli = AdminCli::with_env(Vec::new());
    let top = cli.run(&["--help"]);
    top.assert_success();
    for command in COMMANDS {
        assert!(top.stdout.contains(command), "{command}: {}", top.stdout);
        let help = cli.run(&[command, "--help"]);
        help.assert_success();
        assert!(
            help.stdout
                .contains(&format!("Usage: auth-admin {command}")),
            "{command}: {help:?}"
        );
    }
}

#[tokio::test]
async fn usage_errors_exit_2_and_change_nothing() {
    let db = TestDb::new().await;
    let cli = AdminCli::on(&db);
    for args in [
        vec![],
        vec!["no-such-command"],
        vec!["user-new", "--role", "admin"],
        vec![
            "user-new",
            "--role",
            "admin",
            "--username",
            "a",
            "--password",
            "pw",
        ],
        vec!["role-new", "--name", "ops", "--permissions", "[1]"],
        vec!["user-deactivate"],
        vec!["clear-tokens", "--everyone"],
    ] {
        let output = cli.run(&args);
        assert_eq!(output.code, Some(2), "{args:?}: {output:?}");
        assert!(output.stdout.is_empty(), "{args:?}: {output:?}");
        assert!(!output.stderr.trim().is_empty(), "{args:?}: {output:?}");
    }
    assert_eq!(db.count_users(doc! {}).await, 0);
    let roles = db.db.collection::<Document>("role");
    assert_eq!(roles.count_documents(doc! {}).await.expect("count"), 0);
}

#[tokio::test]
async fn role_new_refuses_an_existing_role_with_exit_1_and_one_line() {
    let db = TestDb::new().await;
    let cli = AdminCli::on(&db);
    create_the_admin_role(&cli);
    let again = cli.run(&["role-new", "--name", "admin"]);
    again.assert_refused(1, "auth-admin: role \"admin\" already exists\n");
    assert_eq!(again.stderr.lines().count(), 1, "{again:?}");
    assert!(again.stdout.is_empty(), "{again:?}");
}

#[tokio::test]
async fn user_new_without_a_terminal_or_password_stdin_is_a_usage_error() {
    let db = TestDb::new().await;
    let cli = AdminCli::on(&db);
    create_the_admin_role(&cli);
    let output = cli.run_piped(
        &["user-new", "--role", "admin", "--username", "root"],
        "root-password\n",
    );
    output.assert_refused(2, "--password-stdin");
    assert_eq!(db.count_users(doc! {}).await, 0);
}

#[tokio::test]
async fn user_new_never_prints_the_password() {
    let db = TestDb::new().await;
    let cli = AdminCli::on(&db);
    create_the_admin_role(&cli);
    let user = user_new_piped(&cli, "Root", "root-password\n");
    user.assert_success();
    assert!(user.stdout.starts_with("user root created"), "{user:?}");
    assert!(!format!("{user:?}").contains("root-password"));
}

#[tokio::test]
async fn the_first_admin_created_on_the_command_line_can_log_in() {
    let db = TestDb::new().await;
    let cli = AdminCli::on(&db);
    create_the_admin_role(&cli);
    user_new_piped(&cli, "Root", "root-password\n").assert_success();
    assert_eq!(login_status(&db, "root", "root-password").await, 200);
}

#[tokio::test]
async fn password_stdin_takes_the_first_line_without_its_line_ending_only() {
    let db = TestDb::new().await;
    let cli = AdminCli::on(&db);
    create_the_admin_role(&cli);
    user_new_piped(&cli, "crlf", "crlf-password\r\nsecond line\n").assert_success();
    assert_eq!(login_status(&db, "crlf", "crlf-password").await, 200);
    // Spaces are the password's own: the rules refuse them, nothing trims them.
    user_new_piped(&cli, "spaced", "spaced-password \n")
        .assert_refused(1, "password: Must not contain spaces");
}

#[tokio::test]
async fn user_new_on_a_terminal_prompts_twice_without_echo() {
    let db = TestDb::new().await;
    let cli = AdminCli::on(&db);
    create_the_admin_role(&cli);
    let mut terminal = cli.on_terminal(&["user-new", "--role", "admin", "--username", "tty"]);
    terminal.answer_hidden("Password: ", 1, "typed-password");
    terminal.answer_hidden("Confirm password: ", 1, "typed-password");
    let (status, screen) = terminal.finish();
    assert_eq!(status.code(), Some(0), "{screen:?}");
    assert!(screen.contains("user tty created"), "{screen:?}");
    assert!(!screen.contains("typed-password"), "echoed: {screen:?}");
    assert_eq!(login_status(&db, "tty", "typed-password").await, 200);
}

#[tokio::test]
async fn user_new_on_a_terminal_refuses_passwords_that_do_not_match() {
    let db = TestDb::new().await;
    let cli = AdminCli::on(&db);
    create_the_admin_role(&cli);
    let mut terminal = cli.on_terminal(&["user-new", "--role", "admin", "--username", "tty"]);
    terminal.answer_hidden("Password: ", 1, "typed-password");
    terminal.answer_hidden("Confirm password: ", 1, "typo-password");
    let (status, screen) = terminal.finish();
    assert_eq!(status.code(), Some(1), "{screen:?}");
    assert!(
        screen.contains("auth-admin: passwords do not match"),
        "{screen:?}"
    );
    assert_eq!(db.count_users(doc! {}).await, 0);
}

#[tokio::test]
async fn user_creation_applies_the_rules_and_messages_of_the_python_service() {
    let db = TestDb::new().await;
    let cli = AdminCli::on(&db);
    create_the_admin_role(&cli);
    for (username, role, stdin, expected) in [
        (
            "ab",
            "admin",
            "long-enough-pw\n",
            "username: min length is 3",
        ),
        ("abc", "admin", "short\n", "password: min length is 8"),
        ("abc", "admin", "has space pw\n", "Must not contain spaces"),
        (
            "abc",
            "ghost",
            "long-enough-pw\n",
            "role \"ghost\" does not exist",
        ),
        ("abc", "admin", "", "no password on stdin"),
    ] {
        let args = [
            "user-new",
            "--role",
            role,
            "--username",
            username,
            "--password-stdin",
        ];
        cli.run_piped(&args, stdin).assert_refused(1, expected);
    }
    assert_eq!(db.count_users(doc! {}).await, 0);
}

#[tokio::test]
async fn concurrent_creations_of_one_username_give_one_user() {
    let db = TestDb::new().await;
    let cli = AdminCli::on(&db);
    create_the_admin_role(&cli);
    let outputs: Vec<CliOutput> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| user_new_piped(&cli, "twin", "twin-password\n")))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let created = outputs.iter().filter(|o| o.code == Some(0)).count();
    assert_eq!(created, 1, "{outputs:?}");
    for output in outputs.iter().filter(|o| o.code != Some(0)) {
        output.assert_refused(1, "user \"twin\" already exists");
    }
    assert_eq!(db.count_users(doc! {"username": "twin"}).await, 1);
}

#[tokio::test]
async fn user_list_prints_an_aligned_table() {
    let db = TestDb::new().await;
    let admin = db.role("admin").await;
    db.user_with_hash("root", PYTHON_BCRYPT_HASH, admin).await;
    let gone = mongodb::bson::oid::ObjectId::new();
    let orphan = db
        .user_with_hash("orphaned-user", PYTHON_BCRYPT_HASH, gone)
        .await;
    db.set_user(orphan, doc! {"active": false, "change_password": true})
        .await;
    let output = AdminCli::on(&db).run(&["user-list"]);
    output.assert_success();
    assert_eq!(
        output.stdout,
        "username       role   active  change_password\n\
         root           admin  true    false\n\
         orphaned-user  -      false   true\n"
    );
}

#[tokio::test]
async fn user_list_json_pages_through_every_user() {
    let db = TestDb::new().await;
    let admin = db.role("admin").await;
    let users: Vec<Document> = (0..105)
        .map(|i| {
            doc! {
                "username": format!("user{i:03}"),
                "password": PYTHON_BCRYPT_HASH,
                "active": true,
                "change_password": i % 2 == 0,
                "role": { "$ref": "role", "$id": admin },
            }
        })
        .collect();
    db.db
        .collection::<Document>("user")
        .insert_many(users)
        .await
        .expect("insert users");
    let output = AdminCli::on(&db).run(&["user-list", "--json"]);
    output.assert_success();
    let listed: Vec<Value> = serde_json::from_str(&output.stdout).expect("a JSON array");
    assert_eq!(listed.len(), 105);
    assert_eq!(
        listed[104],
        json!({"username": "user104", "role": "admin", "active": true, "change_password": true})
    );
    let names: Vec<&str> = listed
        .iter()
        .filter_map(|u| u["username"].as_str())
        .collect();
    let expected: Vec<String> = (0..105).map(|i| format!("user{i:03}")).collect();
    assert_eq!(names, expected);
}

#[tokio::test]
async fn user_deactivate_ends_the_users_sessions_and_refuses_their_login() {
    let mut app = TestApp::with_env(&[e2e::app::ANY_ROLE]).await;
    let token = app.support_token().await;
    let admin_token = app.admin_token().await;
    let output = AdminCli::on(&app.db).run(&["user-deactivate", "--username", "Sue"]);
    output.assert_success();
    assert_eq!(app.me_status(&token).await, 401);
    assert_eq!(app.me_status(&admin_token).await, 200, "others stay");
    let response = app
        .post_login(
            Payload::RestV1,
            &json!({"username": "sue", "password": "current"}),
        )
        .await;
    assert_eq!(response.status, 400, "{}", response.raw_body);
    let sue = app.db.user_doc(app.support.id).await;
    assert_eq!(sue.get_bool("active"), Ok(false));
    assert_eq!(sue.get_bool("change_password"), Ok(false), "left as it was");
}

#[tokio::test]
async fn user_activate_lets_a_deactivated_user_log_in_again() {
    let mut app = TestApp::with_env(&[e2e::app::ANY_ROLE]).await;
    let cli = AdminCli::on(&app.db);
    cli.run(&["user-deactivate", "--username", "sue"])
        .assert_success();
    cli.run(&["user-activate", "--username", "sue"])
        .assert_success();
    app.login("sue", "current").await;
}

#[tokio::test]
async fn user_commands_refuse_an_unknown_username() {
    let db = TestDb::new().await;
    let cli = AdminCli::on(&db);
    for command in ["user-deactivate", "user-activate", "clear-tokens"] {
        cli.run(&[command, "--username", "ghost"])
            .assert_refused(1, "auth-admin: no user \"ghost\"");
    }
}

#[tokio::test]
async fn clear_tokens_with_a_username_ends_only_that_users_sessions() {
    let mut app = TestApp::with_env(&[e2e::app::ANY_ROLE]).await;
    let sue_1 = app.support_token().await;
    let sue_2 = app.support_token().await;
    let root = app.admin_token().await;
    let output = AdminCli::on(&app.db).run(&["clear-tokens", "--username", "sue"]);
    output.assert_success();
    assert_eq!(output.stdout, "sue: 2 sessions ended\n");
    assert_eq!(app.me_status(&sue_1).await, 401);
    assert_eq!(app.me_status(&sue_2).await, 401);
    assert_eq!(app.me_status(&root).await, 200);
}

#[tokio::test]
async fn clear_tokens_with_a_username_leaves_no_side_document_of_that_user() {
    let mut app = TestApp::with_env(&[e2e::app::ANY_ROLE]).await;
    app.support_token().await;
    app.support_token().await;
    app.admin_token().await;
    let of_sue = doc! { "user": app.support.id };
    let before = app.db.db.collection::<Document>("session_meta");
    assert_eq!(
        before.count_documents(of_sue.clone()).await.expect("count"),
        2
    );
    let output = AdminCli::on(&app.db).run(&["clear-tokens", "--username", "sue"]);
    output.assert_success();
    assert_eq!(before.count_documents(of_sue).await.expect("count"), 0);
    // Another user's sessions, side documents included, are untouched.
    assert_eq!(app.db.session_metas().await.len(), 1);
}

#[tokio::test]
async fn clear_tokens_without_a_username_ends_every_session() {
    let mut app = TestApp::with_env(&[e2e::app::ANY_ROLE]).await;
    let sue = app.support_token().await;
    let root = app.admin_token().await;
    let output = AdminCli::on(&app.db).run(&["clear-tokens"]);
    output.assert_success();
    assert_eq!(output.stdout, "2 sessions ended\n");
    assert_eq!(app.me_status(&sue).await, 401);
    assert_eq!(app.me_status(&root).await, 401);
}

/// The indexes `init` is responsible for, per collection, as listed.
async fn service_indexes(
    db: &TestDb,
) -> Vec<(&'static str, std::collections::BTreeMap<String, Document>)> {
    let mut all = Vec::new();
    for collection in [
        "role",
        "user",
        "whitelist_token",
        "login_attempt",
        "session_meta",
    ] {
        all.push((collection, db.indexes(collection).await));
    }
    all
}

#[tokio::test]
async fn init_creates_every_index_the_ttl_ones_included_and_is_idempotent() {
    let db = TestDb::empty().await;
    let cli = AdminCli::on(&db).setting("REFRESH_TOKEN_EXPIRE_MINUTES", "90");
    let first = cli.run(&["init"]);
    first.assert_success();
    assert_eq!(first.stdout.lines().count(), 4, "{first:?}");
    cli.run(&["init"]).assert_success();

    let user = db.indexes("user").await;
    assert_eq!(user["username_1"].get_bool("unique"), Ok(true), "{user:?}");
    let role = db.indexes("role").await;
    assert_eq!(role["name_1"].get_bool("unique"), Ok(true), "{role:?}");
    let sessions = db.indexes("whitelist_token").await;
    for name in ["uuid_access_1", "uuid_refresh_1"] {
        assert_eq!(sessions[name].get_bool("unique"), Ok(true), "{sessions:?}");
    }
    let ttl = |index: &Document| {
        index
            .get("expireAfterSeconds")
            .and_then(|s| s.as_i64().or(s.as_i32().map(i64::from)))
    };
    assert_eq!(
        ttl(&sessions["created_at_1"]),
        Some(90 * 60),
        "{sessions:?}"
    );
    let attempts = db.indexes("login_attempt").await;
    assert_eq!(ttl(&attempts["expires_at_1"]), Some(0), "{attempts:?}");
    let side = db.indexes("session_meta").await;
    assert_eq!(ttl(&side["expires_at_1"]), Some(0), "{side:?}");
    for name in ["refresh_1", "retired_1", "user_1"] {
        assert!(side.contains_key(name), "{side:?}");
    }
}

#[tokio::test]
async fn init_gives_the_session_expiry_index_a_changed_lifetime() {
    let db = TestDb::empty().await;
    let cli = |minutes: &str| AdminCli::on(&db).setting("REFRESH_TOKEN_EXPIRE_MINUTES", minutes);
    cli("90").run(&["init"]).assert_success();
    let raised = cli("120").run(&["init"]);
    raised.assert_success();
    let sessions = db.indexes("whitelist_token").await;
    let ttl = sessions["created_at_1"]
        .get("expireAfterSeconds")
        .and_then(|s| s.as_i64().or(s.as_i32().map(i64::from)));
    assert_eq!(ttl, Some(120 * 60), "{sessions:?}");
}

#[tokio::test]
async fn init_creates_the_indexes_a_function_creates() {
    let by_init = TestDb::empty().await;
    AdminCli::on(&by_init).run(&["init"]).assert_success();
    let expected = service_indexes(&by_init).await;

    // A function makes them in the background as it starts.
    let by_function = TestDb::empty().await;
    let _login = Function::start("login", &by_function.env()).await;
    let start = Instant::now();
    let mut made = service_indexes(&by_function).await;
    while made != expected && start.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        made = service_indexes(&by_function).await;
    }
    assert_eq!(made, expected);
}

#[tokio::test]
async fn init_is_safe_on_a_database_the_python_service_made() {
    let db = TestDb::empty().await;
    // The package's models create their indexes as they first touch their
    // collections (mongoengine: `username_1`, `uuid_access_1`,
    // `uuid_refresh_1`, unique, `background: false`).
    load_with_the_package_models(&db).expect("the package prepares its database");
    assert!(db.indexes("user").await.contains_key("username_1"));
    let cli = AdminCli::on(&db);
    cli.run(&["init"]).assert_success();
    cli.run(&["init"]).assert_success();
    // The package still prepares and loads it, its own index creation included.
    let admin = db.role("admin").await;
    db.user_with_hash("root", PYTHON_BCRYPT_HASH, admin).await;
    let counts = load_with_the_package_models(&db).expect("the package loads it after init");
    assert_eq!(counts["user"], 1, "{counts}");
    assert!(db
        .indexes("whitelist_token")
        .await
        .contains_key("created_at_1"));
}

#[tokio::test]
async fn settings_come_from_the_secret_auth_secret_id_names() {
    let db = TestDb::new().await;
    let secret = create_secret(
        &json!({"SECRET_KEY": e2e::SECRET_KEY, "MONGODB_URI": db.uri, "MONGODB_DATABASE": db.name})
            .to_string(),
    )
    .await;
    let mut env = sdk_env(&endpoint());
    env.push(("AUTH_SECRET_ID", secret));
    let cli = AdminCli::with_env(env);
    create_the_admin_role(&cli);
    user_new_piped(&cli, "root", "root-password\n").assert_success();
    assert_eq!(login_status(&db, "root", "root-password").await, 200);
}

#[tokio::test]
async fn a_secret_that_does_not_exist_is_refused_with_its_name() {
    let mut env = sdk_env(&endpoint());
    env.push(("AUTH_SECRET_ID", "e2e/no-such-secret".to_owned()));
    AdminCli::with_env(env)
        .run(&["user-list"])
        .assert_refused(1, "secret e2e/no-such-secret does not exist");
}

#[tokio::test]
async fn the_readme_administration_commands_run() {
    let blocks = e2e::readme::sh_blocks_with("auth-admin");
    assert!(
        blocks.len() >= 2,
        "the Administration and Deploy blocks: {blocks:?}"
    );
    for block in blocks {
        let db = TestDb::empty().await;
        // The secret the Deploy section creates, here on this block's database.
        let secret = json!({"SECRET_KEY": e2e::SECRET_KEY, "MONGODB_URI": db.uri, "MONGODB_DATABASE": db.name});
        upsert_secret("auth-service", &secret.to_string()).await;
        // A block that names the secret gets no connection settings besides.
        let mut env = sdk_env(&endpoint());
        if !block.contains("AUTH_SECRET_ID") {
            env.extend(db.env());
        }
        env.push(("BOB_PASSWORD", "bob-password".to_owned()));
        let terminal = AdminCli::with_env(env).shell_on_terminal(&block);
        let (status, screen) = terminal.answer_prompts_until_exit("readme-password");
        assert_eq!(status.code(), Some(0), "{block}\n---\n{screen}");
        assert!(!screen.contains("readme-password"), "echoed: {screen}");
        assert!(db.count_users(doc! {}).await >= 1, "{block}\n---\n{screen}");
    }
}
