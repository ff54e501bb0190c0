//! `POST /admin/graphql`, end to end: the built `graphql` binary (and `login` for
//! tokens) under API Gateway events, against a real MongoDB-wire server.

use e2e::app::{graphql_request, ANY_ROLE, GRAPHQL_PATH};
use e2e::db::claims;
use e2e::helpers::{expired_access_token, now, sign_hs256};
use e2e::{HttpRequest, LambdaResponse, Payload, TestApp, SECRET_KEY};
use mongodb::bson::doc;
use mongodb::bson::oid::ObjectId;
use serde_json::{json, Value};

/// The app these tests run against: every role may sign in, so the support
/// user's requests reach the field-by-field access rules.
async fn app() -> TestApp {
    TestApp::with_env(&[ANY_ROLE]).await
}

fn error_messages(response: &LambdaResponse) -> Vec<String> {
    response.body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["message"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn assert_error(response: &LambdaResponse, message: &str) {
    assert_eq!(response.status, 200, "{}", response.raw_body);
    assert_eq!(error_messages(response), [message], "{}", response.raw_body);
}

fn global(kind: &str, id: &ObjectId) -> String {
    ::graphql::ids::to_global(kind, id)
}

const UPDATE_PASSWORD: &str =
    "mutation($i: UpdatePasswordInput!) { update_password(input: $i) { ok } }";
const CREATE_USER: &str = "mutation($i: CreateUserInput!) { create_user(input: $i) { user { id username active change_password role { id name } } } }";
const UPDATE_USER: &str = "mutation($i: UpdateUserInput!) { update_user(input: $i) { user { id username active change_password } } }";
const DELETE_USER: &str = "mutation($i: DeleteUserInput!) { delete_user(input: $i) { ok } }";
const RESET_PASSWORD: &str =
    "mutation($i: ResetPasswordInput!) { reset_password(input: $i) { password } }";
const REFRESH: &str = "mutation($i: RefreshTokenInput!) { refresh_token(input: $i) { token_type access_token refresh_token expires_in } }";

mod access_rules;
mod create_user;
mod delete_user;
mod limits;
mod password_guessing;
mod protected_roles;
mod queries;
mod refresh_token;
mod requests;
mod reset_password;
mod update_password;
mod update_user;
mod write_order;
