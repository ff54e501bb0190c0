//! The API Gateway Lambda authorizer: the serverless form of the Python
//! package's `@auth.required(role=...)`, so a team guards its own routes with
//! the tokens this service issues, from the same guard as logout and graphql
//! (signature, expiry, whitelist entry, user active, role, pending password
//! change: two database commands in one wait).
//!
//! It answers the three event kinds API Gateway sends ([`event`]): REST API
//! `TOKEN` and `REQUEST` authorizers with an IAM policy for every route the
//! caller's role may use on the stage ([`policy`]), and HTTP API payload 2.0
//! with the simple response. Which roles a route admits is `ROUTE_ROLES`
//! ([`routes`]), else `ALLOWED_ROLES`.

pub mod answer;
pub mod event;
pub mod policy;
pub mod routes;

pub use routes::{RouteRoles, ROUTE_ROLES};

use answer::{Allowed, Answer};
use event::{Asked, EventError};
use serde_json::Value;
use shared::auth::guard;
use shared::http::serve::REQUEST_DEADLINE;
use shared::lambda_http::lambda_runtime::{Diagnostic, LambdaEvent};
use shared::runtime::audit::{Event, Record};
use shared::{App, ServiceError};

/// Why an invocation failed, so API Gateway answers it as an authorizer
/// failure (500, or what the template's `AUTHORIZER_FAILURE` response says)
/// rather than as a refusal: the database is down, the deadline passed, or the
/// event is none of the three kinds.
#[derive(Debug, thiserror::Error)]
pub enum AuthorizerError {
    #[error(transparent)]
    Event(#[from] EventError),
    #[error("authorization could not be decided: {0}")]
    Service(#[source] ServiceError),
}

/// What Lambda reports for a failed invocation: a stable type, and a message
/// that names the problem (never a token or a setting's value).
impl From<AuthorizerError> for Diagnostic {
    fn from(err: AuthorizerError) -> Self {
        Diagnostic {
            error_type: "AuthorizerError".to_owned(),
            error_message: err.to_string(),
        }
    }
}

/// The function: the app built at start-up, and the routes' roles.
pub struct Authorizer {
    app: App,
    routes: RouteRoles,
}

impl Authorizer {
    pub fn new(app: App, routes: RouteRoles) -> Self {
        Authorizer { app, routes }
    }

    pub async fn handle(&self, event: LambdaEvent<Value>) -> Result<Value, AuthorizerError> {
        self.app.refresh_secret_if_due();
        let asked = Asked::from_event(event.payload)?;
        let decided = tokio::time::timeout(REQUEST_DEADLINE, self.decide(&asked))
            .await
            .unwrap_or(Err(ServiceError::DeadlineExceeded));
        let answer = match decided {
            Ok(allowed) if allowed.route_permitted => {
                // The hot path: at DEBUG only.
                tracing::debug!(route = asked.route_name(), user_id = %allowed.user_id, "authorized");
                Answer::Allow(allowed)
            }
            Ok(allowed) => {
                let route = asked.route_name();
                Event::AuthorizationDenied.record(&Record {
                    user_id: Some(allowed.user_id),
                    reason: Some(ServiceError::Unauthorized.message()),
                    route: Some(&route),
                    ..Record::from(&asked.origin)
                });
                Answer::RouteRefused(allowed)
            }
            Err(err) if err.status().is_server_error() => {
                let error = shared::error::error_chain(&err);
                tracing::error!(%error, "authorization failed");
                return Err(AuthorizerError::Service(err));
            }
            Err(err) => {
                let route = asked.route_name();
                Event::AuthorizationDenied.record(&Record {
                    reason: Some(err.message()),
                    route: Some(&route),
                    ..Record::from(&asked.origin)
                });
                Answer::Deny(err.message())
            }
        };
        Ok(answer.for_event(&asked, &self.routes))
    }

    /// The guard, admitting a role that may use some route of the stage;
    /// then whether it may use the asked one. A caller refused only for the
    /// asked route still gets the role's whole policy: API Gateway caches the
    /// answer for the token, and it must stay right for the routes allowed.
    async fn decide(&self, asked: &Asked) -> Result<Allowed, ServiceError> {
        let app = &self.app;
        let route = asked.route().ok_or(ServiceError::Unauthorized)?;
        let fallback = |role: &str| app.settings.allowed_roles.permits(role);
        let somewhere = |role: &str| self.routes.permits_somewhere(role, fallback(role));
        let caller = guard::authenticate_for(app, asked.authorization(), &somewhere).await?;
        let role = caller.role.name.clone();
        Ok(Allowed {
            user_id: caller.user.id,
            username: caller.user.username.to_string(),
            route_permitted: self.routes.permits(&route, &role, fallback(&role)),
            fallback: fallback(&role),
            role,
            session_id: caller.session.map(|session| session.id),
        })
    }
}
