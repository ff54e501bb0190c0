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

use access::{root_field, AccessRules, CallerRole, RootField, REFRESH_TOKEN, TYPENAME};
use async_graphql::Response as GraphqlResponse;
use lambda_http::http::{header::CONTENT_TYPE, StatusCode};
use request::RequestError;
use schema::{AuthSchema, Identity};
use settings::GraphqlSettings;
use shared::accounts::directory;
use shared::auth::guard::{self, OnPendingPasswordChange, SentAlong};
use shared::http::{self, response};
use shared::lambda_http::{self, Body, Request, Response};
use shared::{serve, App, ServiceError};
use std::convert::Infallible;
use std::sync::Arc;

pub struct GraphqlService {
    app: Arc<App>,
    schema: AuthSchema,
    /// The rules the schema enforces, for the one decision taken before it runs
    /// (whether a refresh needs its caller's role).
    access: AccessRules,
}

impl GraphqlService {
    pub fn new(app: App, settings: GraphqlSettings) -> Self {
        let app = Arc::new(app);
        let access = settings.access;
        let schema = schema::build(app.clone(), access.clone(), settings.introspection);
        GraphqlService {
            app,
            schema,
            access,
        }
    }

    pub fn app(&self) -> &App {
        &self.app
    }
}

pub async fn handle(
    service: &GraphqlService,
    request: Request,
) -> Result<Response<Body>, Infallible> {
    serve(service.app(), &request, graphql(service, &request)).await
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
    let Decoded { requests, scope } = match decode(body, content_type) {
        Ok(decoded) => decoded,
        Err(err) => return Ok(request_error(&err)),
    };

    let (identity, role) = identify(service, http::authorization(request), scope).await?;
    let identity = Arc::new(identity);
    let origin = Arc::new(http::origin(request));

    let mut responses = Vec::with_capacity(requests.len());
    for graphql_request in requests {
        let graphql_request = graphql_request
            .data(identity.clone())
            .data(origin.clone())
            .data(CallerRole(role.clone()));
        responses.push(service.schema.execute(graphql_request).await);
    }
    Ok(graphql_response(responses))
}

/// Who calls, and the role the access rules see. Without `Authorization`:
/// anonymous. For a refresh-only request the access token need not be live, only
/// ours; its owner's role is read only when the configured rule for
/// `refresh_token` does not admit anonymous callers (by default it does).
async fn identify(
    service: &GraphqlService,
    authorization: Option<&str>,
    scope: Scope,
) -> Result<(Identity, Option<String>), ServiceError> {
    let app = service.app();
    let Some(header) = authorization else {
        return Ok((Identity::default(), None));
    };
    if scope == Scope::RefreshOnly {
        let sent_along = guard::token_owner(app, header)?;
        let role = if service.access.allows(REFRESH_TOKEN, None) {
            None
        } else {
            directory::user(&app.store, sent_along.user_id)
                .await?
                .and_then(|user| user.role)
                .map(|role| role.name)
        };
        let identity = Identity {
            caller: None,
            sent_along: Some(sent_along),
        };
        return Ok((identity, role));
    }
    let pending_change = if scope == Scope::PasswordChangeExempt {
        OnPendingPasswordChange::Allow
    } else {
        OnPendingPasswordChange::Refuse
    };
    let caller = guard::authenticate(app, Some(header), pending_change).await?;
    let role = Some(caller.role.name.clone());
    let identity = Identity {
        sent_along: Some(SentAlong {
            user_id: caller.user.id,
            live: true,
        }),
        caller: Some(caller),
    };
    Ok((identity, role))
}

/// What the root fields of every operation allow the guard to relax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Any,
    PasswordChangeExempt,
    RefreshOnly,
}

/// A body's GraphQL requests and what their root fields let the guard relax.
struct Decoded {
    requests: Vec<async_graphql::Request>,
    scope: Scope,
}

fn decode(body: &[u8], content_type: Option<&str>) -> Result<Decoded, RequestError> {
    let requests = request::decode(body, content_type)?;
    let mut fields = Vec::new();
    let mut known = true;
    for graphql_request in &requests {
        match request::root_fields(graphql_request)? {
            Some(names) => fields.extend(names),
            None => known = false,
        }
    }
    // Every field (besides `__typename`) must be in the table with the flag.
    let only = |flag: fn(&RootField) -> bool| {
        known
            && !fields.is_empty()
            && fields
                .iter()
                .all(|name| name == TYPENAME || root_field(name).is_some_and(flag))
    };
    let scope = if only(|field| field.needs_no_live_token) {
        Scope::RefreshOnly
    } else if only(|field| field.password_change_exempt) {
        Scope::PasswordChangeExempt
    } else {
        Scope::Any
    };
    Ok(Decoded { requests, scope })
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
        .any(schema::is_outage);
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
