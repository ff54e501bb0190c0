//! `auth-admin`, the command that creates the first role and user, run as built.

use e2e::function::binary_path;
use e2e::{Function, HttpRequest, Payload, TestDb};
use serde_json::json;
use std::io::Write;
use std::process::{Command, Output, Stdio};

fn admin(db: &TestDb, args: &[&str], stdin: &str) -> Output {
    let path = binary_path("auth-admin");
    assert!(path.exists(), "{} is not built", path.display());
    let mut child = Command::new(path)
        .args(args)
        .env_clear()
        .envs(db.env())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run auth-admin");
    if let Some(mut input) = child.stdin.take() {
        let _ = input.write_all(stdin.as_bytes());
    }
    child.wait_with_output().expect("auth-admin output")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `auth-admin role-new --name admin` on `db`, failing the test unless it works.
fn create_the_admin_role(db: &TestDb) {
    let role = admin(db, &["role-new", "--name", "admin"], "");
    assert!(role.status.success(), "{}", text(&role));
}

/// `auth-admin user-new` of `Root` with role admin and `root-password` on stdin.
fn create_root(db: &TestDb) -> Output {
    admin(
        db,
        &["user-new", "--role", "admin", "--username", "Root"],
        "root-password\n",
    )
}

#[tokio::test]
async fn role_new_refuses_an_existing_role() {
    let db = TestDb::new().await;
    create_the_admin_role(&db);
    let again = admin(&db, &["role-new", "--name", "admin"], "");
    assert!(!again.status.success());
    assert!(
        text(&again).contains("existing_resource"),
        "{}",
        text(&again)
    );
}

#[tokio::test]
async fn user_new_never_prints_the_password() {
    let db = TestDb::new().await;
    create_the_admin_role(&db);
    let user = create_root(&db);
    assert!(user.status.success(), "{}", text(&user));
    assert!(!text(&user).contains("root-password"));
}

#[tokio::test]
async fn the_first_admin_created_on_the_command_line_can_log_in() {
    let db = TestDb::new().await;
    create_the_admin_role(&db);
    let user = create_root(&db);
    assert!(user.status.success(), "{}", text(&user));

    let mut login = Function::start("login", &db.env()).await;
    let response = login
        .invoke(
            HttpRequest::post("/admin/login")
                .json(&json!({"username": "root", "password": "root-password"}))
                .event(Payload::RestV1),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.raw_body);
    assert_eq!(response.body["data"]["role"], "admin");
}

#[tokio::test]
async fn user_creation_applies_the_rules_and_messages_of_the_python_service() {
    let db = TestDb::new().await;
    create_the_admin_role(&db);
    let cases = [
        (
            vec!["user-new", "--role", "admin", "--username", "ab"],
            "long-enough-pw\n",
            "min length is 3",
        ),
        (
            vec!["user-new", "--role", "admin", "--username", "abc"],
            "short\n",
            "min length is 8",
        ),
        (
            vec!["user-new", "--role", "admin", "--username", "abc"],
            "has space pw\n",
            "Must not contain spaces",
        ),
        (
            vec!["user-new", "--role", "ghost", "--username", "abc"],
            "long-enough-pw\n",
            "Role does not exist",
        ),
        (
            vec!["user-new", "--role", "admin", "--username", "abc"],
            "",
            "no password on stdin",
        ),
        (
            vec!["user-new", "--role", "admin"],
            "long-enough-pw\n",
            "--username is required",
        ),
    ];
    for (args, stdin, expected) in cases {
        let output = admin(&db, &args, stdin);
        assert!(!output.status.success(), "{args:?}");
        assert!(
            text(&output).contains(expected),
            "{args:?}: {}",
            text(&output)
        );
    }
    assert_eq!(db.count_users(mongodb::bson::doc! {}).await, 0);
}

#[tokio::test]
async fn concurrent_creations_of_one_username_give_one_user() {
    let db = TestDb::new().await;
    create_the_admin_role(&db);
    let outputs: Vec<Output> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    admin(
                        &db,
                        &["user-new", "--role", "admin", "--username", "twin"],
                        "twin-password\n",
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let created = outputs.iter().filter(|o| o.status.success()).count();
    assert_eq!(
        created,
        1,
        "{:?}",
        outputs.iter().map(text).collect::<Vec<_>>()
    );
    for output in outputs.iter().filter(|o| !o.status.success()) {
        assert!(
            text(output).contains("Username already exists"),
            "{}",
            text(output)
        );
    }
    assert_eq!(
        db.count_users(mongodb::bson::doc! {"username": "twin"})
            .await,
        1
    );
}
