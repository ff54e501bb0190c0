//! `POST /admin/graphql`: password change, user administration and token refresh.
//!
//! Requests without `Authorization` run as anonymous. With it, the shared bearer
//! guard runs first and its 401 bodies apply, with two exemptions: a pending
//! password change does not block `update_password` and `me`, and a request that
//! only refreshes tokens needs no live access token: the refresh token is the
//! credential, and an access token sent along (even expired) must be validly
//! signed and name the same user.

pub mod access;
pub mod ids;
pub mod request;
pub mod schema;
pub mod settings;

use access::CallerRole;
use async_graphql::Response as GraphqlResponse;
use lambda_http::http::{header::CONTENT_TYPE, StatusCode};
use request::RequestError;
use schema::{AuthSchema, Identity};
use settings::GraphqlSettings;
use shared::guard::{self, PasswordChange};
use shared::lambda_http::{self, Body, Request, Response};
use shared::{http, response, App, ServiceError};
use std::convert::Infallible;
use std::sync::Arc;

/// Fields a user with a pending password change may still use.
const PASSWORD_CHANGE_EXEMPT: &[&str] = &["update_password", "me", "__typename"];
const REFRESH_ONLY: &[&str] = &["refresh_token", "__typename"];

pub struct GraphqlService {
    app: Arc<App>,
    schema: AuthSchema,
}

impl GraphqlService {
    pub fn new(app: App, settings: GraphqlSettings) -> Self {
        let app = Arc::new(app);
        let schema = schema::build(app.clone(), settings.access, settings.introspection);
        GraphqlService { app, schema }
    }

    pub fn app(&self) -> &App {
        &self.app
    }
}

pub async fn handle(
    service: &GraphqlService,
    request: Request,
) -> Result<Response<Body>, Infallible> {
    service.app.refresh_secret_if_due().await;
    Ok(response::respond(graphql(service, &request).await))
}

async fn graphql(
    service: &GraphqlService,
    request: &Request,
) -> Result<Response<Body>, ServiceError> {
    http::require_post(request)?;
    let body = http::body(request)?;
    let content_type = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let requests = match decode(body, content_type) {
        Ok(decoded) => decoded,
        Err(err) => return Ok(request_error(&err)),
    };
    let (requests, scope) = requests;

    let identity = match http::authorization(request) {
        None => Identity::default(),
        Some(header) if scope == Scope::RefreshOnly => refresh_identity(service.app(), header)?,
        Some(header) => {
            let policy = if scope == Scope::PasswordChangeExempt {
                PasswordChange::Exempt
            } else {
                PasswordChange::Enforce
            };
            let caller = guard::authenticate(service.app(), Some(header), policy).await?;
            Identity {
                subject: Some(caller.user.id),
                caller: Some(caller),
            }
        }
    };
    let role = identity.caller.as_ref().map(|c| c.role.name.clone());
    let identity = Arc::new(identity);

    let mut responses = Vec::with_capacity(requests.len());
    for graphql_request in requests {
        let graphql_request = graphql_request
            .data(identity.clone())
            .data(CallerRole(role.clone()));
        responses.push(service.schema.execute(graphql_request).await);
    }
    Ok(graphql_response(responses))
}

/// What the root fields of every operation allow the guard to relax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Any,
    PasswordChangeExempt,
    RefreshOnly,
}

fn decode(
    body: &[u8],
    content_type: Option<&str>,
) -> Result<(Vec<async_graphql::Request>, Scope), RequestError> {
    let requests = request::decode(body, content_type)?;
    let mut fields = Vec::new();
    let mut known = true;
    for graphql_request in &requests {
        match request::root_fields(graphql_request)? {
            Some(names) => fields.extend(names),
            None => known = false,
        }
    }
    let only = |allowed: &[&str]| {
        known && !fields.is_empty() && fields.iter().all(|f| allowed.contains(&f.as_str()))
    };
    let scope = if only(REFRESH_ONLY) {
        Scope::RefreshOnly
    } else if only(PASSWORD_CHANGE_EXEMPT) {
        Scope::PasswordChangeExempt
    } else {
        Scope::Any
    };
    Ok((requests, scope))
}

/// For a refresh-only request: the access token need not be live, but must be
/// ours, and its subject becomes the owner the refresh token must belong to.
fn refresh_identity(app: &App, header: &str) -> Result<Identity, ServiceError> {
    let token = guard::bearer_token(Some(header)).ok_or(ServiceError::Unauthorized)?;
    let claims = app.tokens().verify_access_signature(token)?;
    let subject = mongodb::bson::oid::ObjectId::parse_str(&claims.sub)
        .map_err(|_| ServiceError::InvalidToken)?;
    Ok(Identity {
        caller: None,
        subject: Some(subject),
    })
}

/// `{"errors":[{"message":…}]}` with 400, for a body that isn't a GraphQL request.
fn request_error(err: &RequestError) -> Response<Body> {
    let body = serde_json::json!({ "errors": [{ "message": err.to_string() }] });
    response::json(StatusCode::BAD_REQUEST, &body)
}

/// One response, or a list for a batch. A database outage in any field makes the
/// status 503, so gateways and clients see it as server-side trouble.
fn graphql_response(responses: Vec<GraphqlResponse>) -> Response<Body> {
    let outage = responses
        .iter()
        .flat_map(|r| r.errors.iter())
        .any(|e| e.message == "service_unavailable");
    let status = if outage {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    if responses.len() == 1 {
        let mut responses = responses;
        match responses.pop() {
            Some(single) => response::json(status, &single),
            None => response::json(status, &serde_json::json!({})),
        }
    } else {
        response::json(status, &responses)
    }
}
