use super::*;

const USER_BY_ID: &str = "query($id: ID!) { user(id: $id) { username role { name permissions } } }";

#[tokio::test]
async fn me_is_the_signed_in_user_with_a_global_id_and_their_role() {
    let mut app = app().await;
    let admin = app.admin_token().await;
    let me = app
        .graphql(
            Some(&admin),
            "{ me { id username role { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(me.body["data"]["me"]["id"], global("User", &app.admin.id));
    assert_eq!(me.body["data"]["me"]["role"]["name"], "admin");
}

#[tokio::test]
async fn user_is_found_by_global_id_or_bare_object_id_with_role_permissions() {
    let mut app = app().await;
    let admin = app.admin_token().await;
    for id in [global("User", &app.support.id), app.support.id.to_hex()] {
        let one = app
            .graphql(Some(&admin), USER_BY_ID, json!({"id": id}))
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
}

#[tokio::test]
async fn user_with_an_unknown_id_is_null() {
    let mut app = app().await;
    let admin = app.admin_token().await;
    let none = app
        .graphql(
            Some(&admin),
            "{ user(id: \"5e66a976ebc7469c6eb8a1b2\") { username } }",
            json!({}),
        )
        .await;
    assert_eq!(none.body, json!({"data": {"user": null}}));
}

#[tokio::test]
async fn user_with_a_malformed_id_is_id_not_valid() {
    let mut app = app().await;
    let admin = app.admin_token().await;
    assert_error(
        &app.graphql(Some(&admin), "{ user(id: \"x\") { username } }", json!({}))
            .await,
        "id_not_valid",
    );
}

#[tokio::test]
async fn users_pages_through_everyone_in_creation_order_without_duplicates() {
    let mut app = app().await;
    let admin = app.admin_token().await;
    for i in 0..5 {
        app.db
            .user(&format!("user{i}"), "whatever-pw", app.admin_role)
            .await;
    }
    // 7 users, pages of 3: 3 + 3 + 1.
    let page_query = "query($after: String) { users(first: 3, after: $after) { edges { cursor node { username } } page_info { has_next_page end_cursor } } }";
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = app
            .graphql(Some(&admin), page_query, json!({"after": after}))
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
}

#[tokio::test]
async fn users_refuses_a_page_of_more_than_100() {
    let mut app = app().await;
    let admin = app.admin_token().await;
    let too_many = app
        .graphql(
            Some(&admin),
            "{ users(first: 101) { edges { cursor } } }",
            json!({}),
        )
        .await;
    assert_eq!(too_many.body["data"]["users"], Value::Null);
}

#[tokio::test]
async fn roles_lists_every_role_and_no_password() {
    let mut app = app().await;
    let admin = app.admin_token().await;
    let roles = app
        .graphql(Some(&admin), "{ roles { id name } }", json!({}))
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
