//! The built `authorizer` under the Runtime API emulator, fed the three event
//! kinds API Gateway sends (the examples kept in `functions/authorizer/events/`,
//! with a real token put in): answers, refusals and their messages, roles per
//! route, revocation, start-up, and the audit line of a refusal.

use e2e::helpers::{expired_access_token, now, sign_hs256};
use e2e::{Function, TestApp, SECRET_KEY};
use mongodb::bson::doc;
use serde_json::{json, Value};

mod answers;
mod refusals;
mod routes;

/// The stage of every example event.
const STAGE_ARN: &str = "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod";

/// The routes of the examples in `ROUTE_ROLES` terms.
const ORDERS: &str = r#"{"GET /orders/*": ["admin", "support"], "POST /orders": ["admin"], "ANY /reports/*": ["admin"]}"#;

/// An example event from the repository, `<access-token>` replaced by `token`.
fn example(name: &str, token: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../functions/authorizer/events")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text.replace("<access-token>", token)).expect("an example event")
}

/// The TOKEN example, asking for `method path` on the example stage.
fn token_event(token: &str, method: &str, path: &str) -> Value {
    let mut event = example("token.json", token);
    event["methodArn"] = json!(format!("{STAGE_ARN}/{method}{path}"));
    event
}

/// The HTTP API example for `route_key`.
fn http_event(token: &str, route_key: &str) -> Value {
    let mut event = example("http-api.json", token);
    event["routeKey"] = json!(route_key);
    event["requestContext"]["routeKey"] = json!(route_key);
    event
}

/// An app whose functions accept every role, and its authorizer with `extra`.
async fn app_and_authorizer(extra: &[(&'static str, &str)]) -> (TestApp, Function) {
    let app = TestApp::with_env(&[e2e::app::ANY_ROLE]).await;
    let authorizer = app.start_with("authorizer", extra).await;
    (app, authorizer)
}

/// The answer, failing the test on an invocation error.
async fn answer(authorizer: &mut Function, event: Value) -> Value {
    authorizer
        .invoke_json(event)
        .await
        .unwrap_or_else(|err| panic!("invocation error {err}\n{}", authorizer.logs()))
}

/// The resources of the policy's statements with `effect`.
fn resources(answer: &Value, effect: &str) -> Vec<String> {
    answer["policyDocument"]["Statement"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|statement| statement["Effect"] == effect)
        .flat_map(|statement| {
            statement["Resource"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|resource| resource.as_str().map(str::to_owned))
        .collect()
}

/// A REST refusal: a Deny of the whole stage, with `message` in the context.
fn assert_denied(answer: &Value, message: &str) {
    assert_eq!(resources(answer, "Allow"), Vec::<String>::new(), "{answer}");
    assert_eq!(
        resources(answer, "Deny"),
        [format!("{STAGE_ARN}/*/*")],
        "{answer}"
    );
    assert_eq!(answer["context"]["message"], message, "{answer}");
}
