use super::*;

#[tokio::test]
async fn create_user_makes_a_user_who_can_log_in() {
    let mut app = app().await;
    let token = app.admin_token().await;
    let input = json!({"i": {"username": "NewBie", "password": "newbie-pass", "password_confirmed": "newbie-pass", "role": "support"}});
    let response = app.graphql(Some(&token), CREATE_USER, input).await;
    assert_eq!(response.status, 200, "{}", response.raw_body);
    let user = &response.body["data"]["create_user"]["user"];
    assert_eq!(user["username"], "newbie");
    assert_eq!(user["active"], true);
    assert_eq!(user["change_password"], false);
    assert_eq!(user["role"]["name"], "support");
    let id = ::graphql::ids::user_id(user["id"].as_str().unwrap()).expect("a User global id");
    let id = ObjectId::parse_str(id.to_hex()).unwrap();
    let stored = app.db.user_doc(id).await;
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
    app.login("newbie", "newbie-pass").await;
}

#[tokio::test]
async fn create_user_refusals_use_the_python_messages_and_change_nothing() {
    let mut app = app().await;
    let token = app.admin_token().await;
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
        let response = app
            .graphql(Some(&token), CREATE_USER, json!({"i": input}))
            .await;
        assert_error(&response, message);
    }
    let count = app.db.count_users(doc! {}).await;
    assert_eq!(count, 2);
}

#[tokio::test]
async fn concurrent_creations_of_one_name_give_one_user_and_one_refusal() {
    let mut app = app().await;
    let token = app.admin_token().await;
    let mut second = app.start("graphql").await;
    let event = graphql_request(
        Some(&token),
        CREATE_USER,
        json!({"i": {"username": "twin", "password": "twin-password", "password_confirmed": "twin-password", "role": "support"}}),
    )
    .event(Payload::RestV1);
    let (a, b) = tokio::join!(app.graphql_fn.invoke(event.clone()), second.invoke(event));
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
    let count = app.db.count_users(doc! {"username": "twin"}).await;
    assert_eq!(count, 1);
}

// #12.7: a new username may hold no whitespace of any kind and no control or
// format character: such a name passes for another one, or forges log lines.
#[tokio::test]
async fn usernames_with_invisible_or_control_characters_are_refused() {
    let mut app = app().await;
    let token = app.admin_token().await;
    let cases = [
        ("tab\tname", "Must not contain spaces"),
        ("new\nline", "Must not contain spaces"),
        ("no\u{a0}break", "Must not contain spaces"),
        ("line\u{2028}sep", "Must not contain spaces"),
        (
            "root\u{200b}",
            "Must not contain control or invisible characters",
        ),
        (
            "rtl\u{202e}toor",
            "Must not contain control or invisible characters",
        ),
    ];
    for (username, reason) in cases {
        let response = app
            .graphql(Some(&token), CREATE_USER, json!({"i": {"username": username, "password": "pass-word-1", "password_confirmed": "pass-word-1", "role": "support"}}))
            .await;
        assert_error(&response, "bad_request");
        assert_eq!(
            response.body["errors"][0]["extensions"]["errors"]["username"],
            json!([reason]),
            "{username:?}: {}",
            response.raw_body
        );
    }
    assert_eq!(app.db.count_users(doc! {}).await, 2);
}
