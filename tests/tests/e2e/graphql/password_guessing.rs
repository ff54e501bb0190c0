//! `update_password` checks the current password like a login does: each
//! check is counted on the username first (one count with login's), and a
//! locked username is refused before any hashing, whether the guesses come as
//! requests, aliases or a batch.

use super::*;

/// A wrong current password for `update_password`, as `input`.
fn wrong_guess(n: usize) -> Value {
    json!({"current_password": format!("guess-{n}"), "new_password": "new-pass-1", "password_confirmed": "new-pass-1"})
}

/// How many current passwords were checked and found wrong: each check that
/// ran is one `login_failed` line with reason `current_password`.
async fn checked(app: &TestApp, at_least: usize) -> usize {
    app.wait_for_events("login_failed", at_least)
        .await
        .iter()
        .filter(|event| event["reason"] == "current_password")
        .count()
}

fn assert_too_many_attempts(error: &Value) {
    assert_eq!(error["message"], "too_many_attempts", "{error}");
    assert_eq!(error["extensions"]["code"], "TOO_MANY_ATTEMPTS", "{error}");
    let retry_after = error["extensions"]["retry_after"].as_u64();
    assert!(retry_after.is_some_and(|s| s >= 1), "{error}");
}

#[tokio::test]
async fn twelve_wrong_guesses_check_at_most_the_maximum_and_the_rest_are_too_many_attempts() {
    let mut app = app().await;
    let token = app.support_token().await;
    let mut refused = 0;
    for n in 0..12 {
        let response = app
            .graphql(Some(&token), UPDATE_PASSWORD, json!({"i": wrong_guess(n)}))
            .await;
        assert_eq!(response.status, 200, "{}", response.raw_body);
        let error = &response.body["errors"][0];
        if error["message"] == "too_many_attempts" {
            assert_too_many_attempts(error);
            refused += 1;
        } else {
            assert_eq!(error["message"], "Current password don't match", "{error}");
        }
    }
    // LOGIN_MAX_FAILURES is 5: the fifth failure locks while it is checked.
    assert_eq!(checked(&app, 5).await, 5);
    assert_eq!(refused, 7);
    let locked = app.wait_for_events("login_locked", 7).await;
    assert_eq!(locked.len(), 7);
    assert!(locked.iter().all(|e| e["reason"] == "current_password"));
}

#[tokio::test]
async fn after_update_password_guesses_login_is_locked_for_that_user_too() {
    let mut app = app().await;
    let token = app.support_token().await;
    for n in 0..5 {
        app.graphql(Some(&token), UPDATE_PASSWORD, json!({"i": wrong_guess(n)}))
            .await;
    }
    let response = app
        .post_login(
            Payload::RestV1,
            &json!({"username": "sue", "password": "current"}),
        )
        .await;
    assert_eq!(response.status, 429, "{}", response.raw_body);
    // Another user is not affected.
    assert_eq!(
        app.post_login(
            Payload::RestV1,
            &json!({"username": "root", "password": "root-password"})
        )
        .await
        .status,
        200
    );
}

/// `update_password` guesses `from..to`, each an aliased field of one operation.
fn aliased_guesses(from: usize, to: usize) -> String {
    let fields: Vec<String> = (from..to)
        .map(|n| {
            format!(
                "g{n}: update_password(input: {{current_password: \"guess-{n}\", \
                 new_password: \"new-pass-1\", password_confirmed: \"new-pass-1\"}}) {{ ok }}"
            )
        })
        .collect();
    format!("mutation {{ {} }}", fields.join(" "))
}

#[tokio::test]
async fn ten_aliased_guesses_in_one_request_check_at_most_the_maximum() {
    let mut app = app().await;
    let token = app.support_token().await;
    let response = app
        .graphql(Some(&token), &aliased_guesses(0, 10), json!({}))
        .await;
    assert_eq!(response.status, 200, "{}", response.raw_body);
    let errors = response.body["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 10, "{}", response.raw_body);
    let refused: Vec<&Value> = errors
        .iter()
        .filter(|e| e["message"] == "too_many_attempts")
        .collect();
    refused
        .iter()
        .for_each(|error| assert_too_many_attempts(error));
    assert_eq!(refused.len(), 5);
    assert_eq!(checked(&app, 5).await, 5);
}

#[tokio::test]
async fn a_batch_of_aliased_guesses_checks_at_most_the_maximum() {
    let mut app = app().await;
    let token = app.support_token().await;
    // The most a request may carry: 5 operations, here of 4 guesses each.
    let batch: Vec<Value> = (0..5)
        .map(|op| json!({"query": aliased_guesses(op * 4, op * 4 + 4)}))
        .collect();
    let request = HttpRequest::post(GRAPHQL_PATH)
        .json(&json!(batch))
        .header("authorization", &format!("Bearer {token}"));
    let response = app.graphql_fn.invoke(request.event(Payload::RestV1)).await;
    assert_eq!(response.status, 200, "{}", response.raw_body);
    let answers = response.body.as_array().expect("a batch answer");
    let refused = answers
        .iter()
        .flat_map(|answer| answer["errors"].as_array().cloned().unwrap_or_default())
        .filter(|error| error["message"] == "too_many_attempts")
        .count();
    assert_eq!(refused, 15);
    assert_eq!(checked(&app, 5).await, 5);
}

#[tokio::test]
async fn a_locked_update_password_changes_nothing_even_with_the_right_password() {
    let mut app = app().await;
    let token = app.support_token().await;
    for n in 0..5 {
        app.graphql(Some(&token), UPDATE_PASSWORD, json!({"i": wrong_guess(n)}))
            .await;
    }
    let before = app.db.user_doc(app.support.id).await;
    let sessions = app.db.sessions().await.len();
    let right = json!({"current_password": "current", "new_password": "new-pass-1", "password_confirmed": "new-pass-1"});
    let response = app
        .graphql(Some(&token), UPDATE_PASSWORD, json!({"i": right}))
        .await;
    assert_too_many_attempts(&response.body["errors"][0]);
    assert_eq!(app.db.user_doc(app.support.id).await, before);
    assert_eq!(app.db.sessions().await.len(), sessions);
}

#[tokio::test]
async fn the_right_current_password_works_once_the_lock_is_over() {
    let mut app = app().await;
    let token = app.support_token().await;
    let mut retry_after = 0;
    for n in 0..6 {
        let response = app
            .graphql(Some(&token), UPDATE_PASSWORD, json!({"i": wrong_guess(n)}))
            .await;
        if let Some(seconds) = response.body["errors"][0]["extensions"]["retry_after"].as_u64() {
            retry_after = seconds;
        }
    }
    assert!(retry_after >= 1, "the sixth guess was refused locked");
    // The lock is over when retry_after says (whole seconds, rounded up).
    tokio::time::sleep(std::time::Duration::from_millis(retry_after * 1000 + 200)).await;
    let right = json!({"current_password": "current", "new_password": "new-pass-1", "password_confirmed": "new-pass-1"});
    let response = app
        .graphql(Some(&token), UPDATE_PASSWORD, json!({"i": right}))
        .await;
    assert_eq!(
        response.body["data"]["update_password"]["ok"], true,
        "{}",
        response.raw_body
    );
}
