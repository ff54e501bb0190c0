//! The answer API Gateway reads: for a REST API, a principal, a policy and a
//! context of strings (`event.requestContext.authorizer.username` in the
//! backend); for an HTTP API, the simple response with the same context.
//! A refusal carries the Python package's 401 message in `context.message`,
//! which the template's `ACCESS_DENIED` gateway response puts in the body.

use crate::event::{Asked, Kind};
use crate::policy;
use crate::routes::RouteRoles;
use serde_json::{json, Value};
use shared::lambda_http::aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerResponse, ApiGatewayV2CustomAuthorizerSimpleResponse,
};
use shared::{ServiceError, SessionId, UserId};

/// A caller the guard let through.
#[derive(Debug, Clone)]
pub struct Allowed {
    pub user_id: UserId,
    pub username: String,
    pub role: String,
    /// `None` with the whitelist off.
    pub session_id: Option<SessionId>,
    /// Whether `ALLOWED_ROLES` admits the role (routes no pattern names).
    pub fallback: bool,
    /// Whether the role may use the route asked for.
    pub route_permitted: bool,
}

/// What was decided.
#[derive(Debug, Clone)]
pub enum Answer {
    Allow(Allowed),
    /// A valid caller whose role may not use the asked route: the role's
    /// policy (which leaves that route out) with the refusal's message.
    RouteRefused(Allowed),
    /// The package's message: `unauthorized`, `signature_expired`,
    /// `invalid_token`, `password_change_required`.
    Deny(&'static str),
}

/// Who a refused request was, for API Gateway's `principalId` (required).
const NOBODY: &str = "unauthorized";

impl Answer {
    /// The caller, and the message API Gateway's `ACCESS_DENIED` response
    /// shows when a cached answer's policy refuses a later route: an allowed
    /// answer carries `unauthorized` too, as the package would answer then.
    fn context(&self) -> Value {
        match self {
            Answer::Allow(allowed) | Answer::RouteRefused(allowed) => json!({
                "user_id": allowed.user_id.to_hex(),
                "username": allowed.username,
                "role": allowed.role,
                "session_id": allowed.session_id.map(SessionId::to_hex).unwrap_or_default(),
                "message": ServiceError::Unauthorized.message(),
            }),
            Answer::Deny(message) => json!({ "message": message }),
        }
    }

    /// The answer in the shape `asked`'s kind of event expects.
    pub fn for_event(&self, asked: &Asked, routes: &RouteRoles) -> Value {
        let context = self.context();
        match &asked.kind {
            Kind::HttpApi { .. } => {
                let mut simple = ApiGatewayV2CustomAuthorizerSimpleResponse::<Value>::default();
                simple.is_authorized = matches!(self, Answer::Allow(_));
                // No gateway response shows a message here: an allowed
                // answer carries the caller alone.
                simple.context = match self {
                    Answer::Allow(_) => {
                        let mut caller = context;
                        if let Some(fields) = caller.as_object_mut() {
                            fields.remove("message");
                        }
                        caller
                    }
                    Answer::RouteRefused(_) => {
                        json!({ "message": ServiceError::Unauthorized.message() })
                    }
                    Answer::Deny(_) => context,
                };
                serde_json::to_value(simple).unwrap_or_default()
            }
            Kind::Rest { .. } => {
                let stage_arn = asked.method_arn().map(|arn| arn.stage_arn);
                let mut rest = ApiGatewayCustomAuthorizerResponse::<Value>::default();
                match (self, stage_arn) {
                    (Answer::Allow(allowed) | Answer::RouteRefused(allowed), Some(stage_arn)) => {
                        rest.principal_id = Some(allowed.user_id.to_hex());
                        rest.policy_document =
                            policy::allow_role(stage_arn, routes, &allowed.role, allowed.fallback);
                    }
                    _ => {
                        rest.principal_id = Some(NOBODY.to_owned());
                        rest.policy_document = policy::deny_all(stage_arn);
                    }
                }
                rest.context = context;
                serde_json::to_value(rest).unwrap_or_default()
            }
        }
    }
}
