//! The GraphQL depth limit (`MAX_DEPTH`, 8; README GraphQL, Limits): a query
//! nested deeper is refused whole, before any field runs. The schema's own
//! types nest at most 5 deep (`users { edges { node { role { name } } } } }`),
//! so only the recursive introspection types can go past 8 with a valid query.

use e2e::app::ANY_ROLE;
use e2e::{LambdaResponse, TestApp};
use serde_json::json;

/// `__schema { types { fields { type { ofType ... { name } } } } }`, `depth`
/// fields deep (counting `__schema` as 1 and `name` as the last): at least 5.
fn introspection_of_depth(depth: usize) -> String {
    let of_types = depth - 5;
    format!(
        "__schema {{ types {{ fields {{ type {{ {}name{} }} }} }} }}",
        "ofType { ".repeat(of_types),
        " }".repeat(of_types)
    )
}

/// async-graphql's own refusal, exactly: a GraphQL error, so status 200
/// (README: GraphQL errors come back with 200), one error, and `data: null`:
/// not even the fields beside the deep one ran.
fn assert_too_deep(response: &LambdaResponse) {
    assert_eq!(response.status, 200, "{}", response.raw_body);
    assert_eq!(
        response.body,
        json!({"data": null, "errors": [{"message": "Query is nested too deep."}]}),
        "{}",
        response.raw_body
    );
}

#[tokio::test]
async fn a_query_nested_deeper_than_eight_is_refused_and_nothing_in_it_runs() {
    let mut app = TestApp::with_env(&[ANY_ROLE]).await;
    let admin = app.admin_token().await;
    let query = format!("{{ me {{ username }} {} }}", introspection_of_depth(9));
    let response = app.graphql(Some(&admin), &query, json!({})).await;
    // Refused for its depth, not for introspection (which is off): the limit
    // comes first, so `me` never ran either.
    assert_too_deep(&response);
    // The caller's session is untouched: the next request runs.
    assert_eq!(app.me_status(&admin).await, 200);
}

#[tokio::test]
async fn with_introspection_on_depth_eight_runs_and_depth_nine_is_refused() {
    let mut app = TestApp::with_env(&[ANY_ROLE, ("GRAPHQL_INTROSPECTION", "true")]).await;
    let admin = app.admin_token().await;
    let eight = format!("{{ {} }}", introspection_of_depth(8));
    let runs = app.graphql(Some(&admin), &eight, json!({})).await;
    assert_eq!(runs.status, 200, "{}", runs.raw_body);
    assert!(runs.body.get("errors").is_none(), "{}", runs.raw_body);
    assert!(
        runs.body["data"]["__schema"]["types"]
            .as_array()
            .is_some_and(|types| !types.is_empty()),
        "{}",
        runs.raw_body
    );
    let nine = format!("{{ {} }}", introspection_of_depth(9));
    assert_too_deep(&app.graphql(Some(&admin), &nine, json!({})).await);
}
