//! Database connections of a container: opened during init, so the first
//! request after a cold start doesn't pay TCP, TLS and authentication.

use e2e::app::graphql_request;
use e2e::proxy::{mongodb_address, Proxy};
use e2e::{Payload, TestApp};
use serde_json::json;
use std::time::{Duration, Instant};

/// What a new connection to a remote cluster costs before its first answer.
const HANDSHAKE: Duration = Duration::from_millis(300);

#[tokio::test]
async fn the_first_request_after_start_up_opens_no_connection() {
    let mut app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let proxy = Proxy::delaying_first_replies(&mongodb_address(&app.db.uri), HANDSHAKE);
    let uri = proxy.mongodb_uri();
    let mut graphql = app.start_with("graphql", &[("MONGODB_URI", &uri)]).await;
    let init = graphql
        .ready_after(Duration::from_secs(10))
        .await
        .unwrap_or_else(|| panic!("graphql never became ready:\n{}", graphql.logs()));
    let opened = proxy.connections();

    let started = Instant::now();
    let response = graphql
        .invoke(
            graphql_request(Some(&token), "{ me { username } }", json!({})).event(Payload::RestV1),
        )
        .await;
    let took = started.elapsed();
    assert_eq!(response.status, 200, "{}", response.raw_body);
    println!("init {init:?} with {opened} connections opened; first request {took:?}");
    assert_eq!(
        proxy.connections(),
        opened,
        "the first request opened a connection (it took {took:?})"
    );
    assert!(took < HANDSHAKE, "the first request took {took:?}");
}
