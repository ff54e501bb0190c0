use super::*;

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

#[tokio::test]
async fn the_seed_request_verbatim_gets_the_seed_response() {
    let mut app = app().await;
    let token = app.support_token().await;
    for payload in Payload::ALL {
        // Fresh password each round: the seed changes "current" to "new_pass".
        let hash = shared::auth::password::hash("current").unwrap();
        app.db
            .set_user(app.support.id, doc! {"password": hash})
            .await;
        let response = app
            .graphql_fn
            .invoke(
                HttpRequest::post(GRAPHQL_PATH)
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
    app.login("sue", "new_pass").await;
}

#[tokio::test]
async fn a_bare_document_is_accepted_as_application_graphql_too() {
    let mut app = app().await;
    let token = app.admin_token().await;
    let response = app
        .graphql_fn
        .invoke(
            HttpRequest::post(GRAPHQL_PATH)
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
async fn a_bad_bearer_token_gets_the_guard_answer() {
    let mut app = app().await;
    for (header, message) in [
        ("Bearer garbage", "invalid_token"),
        ("Basic abc", "unauthorized"),
    ] {
        let response = app
            .graphql_fn
            .invoke(
                HttpRequest::post(GRAPHQL_PATH)
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
async fn malformed_queries_get_graphql_errors_never_a_500() {
    let mut app = app().await;
    let admin = app.admin_token().await;
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
        let response = app.graphql(Some(&admin), query, variables).await;
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
}

#[tokio::test]
async fn bodies_that_are_not_a_graphql_request_get_400_with_errors() {
    let mut app = app().await;
    let admin = app.admin_token().await;
    for body in ["", "42", r#"{"variables":{}}"#, "[]"] {
        let response = app
            .graphql_fn
            .invoke(
                HttpRequest::post(GRAPHQL_PATH)
                    .bearer(&admin)
                    .body(body)
                    .event(Payload::RestV1),
            )
            .await;
        assert_eq!(response.status, 400, "{body:?}: {}", response.raw_body);
        assert!(!error_messages(&response).is_empty());
    }
}
