use super::*;

#[tokio::test]
async fn more_than_ten_aliases_are_refused() {
    let mut app = app().await;
    let admin = app.admin_token().await;
    let aliases: String = (0..11).map(|i| format!("a{i}: me {{ id }} ")).collect();
    let response = app
        .graphql(Some(&admin), &format!("{{ {aliases} }}"), json!({}))
        .await;
    assert_eq!(response.status, 400, "{}", response.raw_body);
}

/// `count` aliased copies of `field`, named from `first` on.
fn aliased(field: &str, first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("a{i}: {field} "))
        .collect()
}

fn assert_root_field_cap(response: &LambdaResponse) {
    assert_eq!(response.status, 400, "{}", response.raw_body);
    let errors = response.body["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{}", response.raw_body);
    assert!(
        errors[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("at most 10 root fields")),
        "{}",
        response.raw_body
    );
    assert!(response.body.get("data").is_none(), "{}", response.raw_body);
}

// #12.2: a named operation runs without `operationName`, so it is capped too.
#[tokio::test]
async fn eleven_aliases_in_a_named_operation_are_refused() {
    let mut app = app().await;
    let admin = app.admin_token().await;
    let query = format!("query Q {{ {} }}", aliased("me { id }", 0, 11));
    assert_root_field_cap(&app.graphql(Some(&admin), &query, json!({})).await);
}

// #12.2: fields count where they run, fragments expanded.
#[tokio::test]
async fn eleven_root_fields_through_a_named_and_an_inline_fragment_are_refused() {
    let mut app = app().await;
    let admin = app.admin_token().await;
    let query = format!(
        "query Q {{ ...F ... on Query {{ {} }} }} fragment F on Query {{ {} }}",
        aliased("me { id }", 0, 5),
        aliased("me { id }", 5, 6)
    );
    assert_root_field_cap(&app.graphql(Some(&admin), &query, json!({})).await);
}

// #12.2: refused before any resolver runs: no password change took place.
#[tokio::test]
async fn eleven_mutations_through_fragments_are_refused_and_none_runs() {
    let mut app = app().await;
    let sue = app.support_token().await;
    let change = "update_password(input: $i) { ok }";
    let query = format!(
        "mutation M($i: UpdatePasswordInput!) {{ ...F ... on Mutation {{ {} }} }} fragment F on Mutation {{ {} }}",
        aliased(change, 0, 5),
        aliased(change, 5, 6)
    );
    let response = app
        .graphql(
            Some(&sue),
            &query,
            json!({"i": {"current_password": "current", "new_password": "changed-by-a0", "password_confirmed": "changed-by-a0"}}),
        )
        .await;
    assert_root_field_cap(&response);
    app.login("sue", "current").await;
}

// #12.2: the cap is 10, fragments or not.
#[tokio::test]
async fn ten_root_fields_through_fragments_run() {
    let mut app = app().await;
    let admin = app.admin_token().await;
    let query = format!(
        "query Q {{ ...F ... on Query {{ {} }} }} fragment F on Query {{ {} }}",
        aliased("me { username }", 0, 5),
        aliased("me { username }", 5, 5)
    );
    let response = app.graphql(Some(&admin), &query, json!({})).await;
    assert_eq!(response.status, 200, "{}", response.raw_body);
    let data = response.body["data"].as_object().expect("data");
    assert_eq!(data.len(), 10, "{}", response.raw_body);
    assert!(data.values().all(|me| me["username"] == "root"));
}

#[tokio::test]
async fn a_batch_of_more_than_five_queries_is_refused() {
    let mut app = app().await;
    let admin = app.admin_token().await;
    let batch: Vec<Value> = (0..6).map(|_| json!({"query": "{ me { id } }"})).collect();
    let response = app
        .graphql_fn
        .invoke(
            HttpRequest::post(GRAPHQL_PATH)
                .bearer(&admin)
                .json(&json!(batch))
                .event(Payload::RestV1),
        )
        .await;
    assert_eq!(response.status, 400);
}

#[tokio::test]
async fn a_small_batch_gets_an_answer_per_query() {
    let mut app = app().await;
    let admin = app.admin_token().await;
    let batch: Vec<Value> = (0..2)
        .map(|_| json!({"query": "{ me { username } }"}))
        .collect();
    let response = app
        .graphql_fn
        .invoke(
            HttpRequest::post(GRAPHQL_PATH)
                .bearer(&admin)
                .json(&json!(batch))
                .event(Payload::RestV1),
        )
        .await;
    assert_eq!(
        response.body,
        json!([{"data": {"me": {"username": "root"}}}, {"data": {"me": {"username": "root"}}}])
    );
}

#[tokio::test]
async fn a_query_as_deep_as_the_schema_runs() {
    let mut app = app().await;
    let admin = app.admin_token().await;
    let deep = "{ users { edges { node { username role { name } } } } }";
    let response = app.graphql(Some(&admin), deep, json!({})).await;
    assert_eq!(response.status, 200, "{}", response.raw_body);
    assert!(
        response.body.get("errors").is_none(),
        "{}",
        response.raw_body
    );
    let mut users: Vec<(&str, &str)> = response.body["data"]["users"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("no users: {}", response.raw_body))
        .iter()
        .map(|edge| {
            let node = &edge["node"];
            (
                node["username"].as_str().expect("a username"),
                node["role"]["name"].as_str().expect("a role name"),
            )
        })
        .collect();
    users.sort_unstable();
    assert_eq!(
        users,
        [("root", "admin"), ("sue", "support")],
        "{}",
        response.raw_body
    );
}

#[tokio::test]
async fn a_too_complex_query_is_refused() {
    let mut app = app().await;
    let admin = app.admin_token().await;
    let complex = "{ a: users(first: 100) { edges { cursor node { id username active change_password role { id name permissions } } } } b: users(first: 100) { edges { cursor node { id username active change_password role { id name permissions } } } } }";
    let response = app.graphql(Some(&admin), complex, json!({})).await;
    assert!(
        error_messages(&response)
            .iter()
            .any(|m| m.contains("complex")),
        "{}",
        response.raw_body
    );
}

// #12.8: refused with an error that says why, not `{"__schema": null}`.
#[tokio::test]
async fn introspection_is_off_by_default() {
    let mut app = app().await;
    let admin = app.admin_token().await;
    let introspection = app
        .graphql(
            Some(&admin),
            "{ __schema { queryType { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        error_messages(&introspection),
        ["introspection is disabled"],
        "{}",
        introspection.raw_body
    );
    // The schema describes nothing.
    assert!(
        !introspection.body["data"]["__schema"].is_object(),
        "{}",
        introspection.raw_body
    );
}

#[tokio::test]
async fn introspection_is_on_with_graphql_introspection() {
    let mut open = TestApp::with_env(&[ANY_ROLE, ("GRAPHQL_INTROSPECTION", "true")]).await;
    let token = open.admin_token().await;
    let introspection = open
        .graphql(
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
