//! The three authorizer events API Gateway sends, read through
//! `aws_lambda_events`' types, down to what the decision needs: the bearer
//! header, the route asked for, and where the request came from.
//!
//! - REST API `TOKEN`: `authorizationToken` and `methodArn`;
//! - REST API `REQUEST`: `headers.Authorization`, `methodArn`, `requestContext`;
//! - HTTP API payload 2.0 (`version: "2.0"`): `headers.authorization`,
//!   `routeKey` (`GET /orders/{id}`), `requestContext.http`.

use crate::policy::MethodArn;
use crate::routes::Route;
use serde_json::Value;
use shared::http::Origin;
use shared::lambda_http::aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerRequest, ApiGatewayCustomAuthorizerRequestTypeRequest,
    ApiGatewayV2CustomAuthorizerV2Request,
};
use shared::lambda_http::http::header::AUTHORIZATION;
use shared::lambda_http::http::HeaderMap;

/// Which kind of event, and so which kind of answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A REST API authorizer (`TOKEN` or `REQUEST`): an IAM policy.
    Rest { method_arn: String },
    /// An HTTP API authorizer, payload 2.0: the simple response.
    HttpApi { route_key: String },
}

/// What an event asks.
#[derive(Debug, Clone)]
pub struct Asked {
    pub kind: Kind,
    authorization: Option<String>,
    pub origin: Origin,
}

#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("not an API Gateway authorizer event (TOKEN, REQUEST, or HTTP API payload 2.0)")]
    Unknown,
    #[error("a {0} authorizer event that does not parse")]
    Malformed(&'static str),
}

fn header(headers: &HeaderMap) -> Option<String> {
    headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

impl Asked {
    pub fn from_event(event: Value) -> Result<Self, EventError> {
        let version = event.get("version").and_then(Value::as_str);
        let kind = event.get("type").and_then(Value::as_str);
        match (version, kind) {
            (Some("2.0"), _) => {
                let request: ApiGatewayV2CustomAuthorizerV2Request =
                    serde_json::from_value(event).map_err(|_| EventError::Malformed("2.0"))?;
                let http = &request.request_context.http;
                Ok(Asked {
                    authorization: header(&request.headers),
                    origin: Origin {
                        source_ip: http.source_ip.clone(),
                        request_id: request.request_context.request_id.clone(),
                        user_agent: http.user_agent.clone(),
                    },
                    kind: Kind::HttpApi {
                        route_key: request.route_key.unwrap_or_default(),
                    },
                })
            }
            (_, Some("TOKEN")) => {
                let request: ApiGatewayCustomAuthorizerRequest =
                    serde_json::from_value(event).map_err(|_| EventError::Malformed("TOKEN"))?;
                Ok(Asked {
                    authorization: request.authorization_token,
                    // A TOKEN event carries nothing else about the request.
                    origin: Origin::default(),
                    kind: Kind::Rest {
                        method_arn: request.method_arn.unwrap_or_default(),
                    },
                })
            }
            (_, Some("REQUEST")) => {
                let request: ApiGatewayCustomAuthorizerRequestTypeRequest =
                    serde_json::from_value(event).map_err(|_| EventError::Malformed("REQUEST"))?;
                let context = &request.request_context;
                Ok(Asked {
                    authorization: header(&request.headers),
                    origin: Origin {
                        source_ip: context.identity.as_ref().and_then(|i| i.source_ip.clone()),
                        request_id: context.request_id.clone(),
                        user_agent: request
                            .headers
                            .get("user-agent")
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_owned),
                    },
                    kind: Kind::Rest {
                        method_arn: request.method_arn.unwrap_or_default(),
                    },
                })
            }
            _ => Err(EventError::Unknown),
        }
    }

    /// The `Authorization` header (or a TOKEN event's token): `Bearer <jwt>`.
    pub fn authorization(&self) -> Option<&str> {
        self.authorization.as_deref()
    }

    /// The REST API method ARN, if this is a REST event with a readable one.
    pub fn method_arn(&self) -> Option<MethodArn<'_>> {
        match &self.kind {
            Kind::Rest { method_arn } => MethodArn::parse(method_arn),
            Kind::HttpApi { .. } => None,
        }
    }

    /// The route asked for: the method ARN's method and path, or the HTTP
    /// API's route key (`$default` has no path, so no pattern matches it).
    pub fn route(&self) -> Option<Route<'_>> {
        match &self.kind {
            Kind::Rest { .. } => {
                let arn = self.method_arn()?;
                Some(Route {
                    method: arn.method,
                    path: arn.path,
                })
            }
            Kind::HttpApi { route_key } => {
                let (method, path) = route_key.split_once(' ').unwrap_or(("", route_key));
                Some(Route { method, path })
            }
        }
    }

    /// The route for a log line: `GET /orders/42`, or the route key.
    pub fn route_name(&self) -> String {
        match (&self.kind, self.route()) {
            (Kind::HttpApi { route_key }, _) => route_key.clone(),
            (_, Some(route)) => format!("{} /{}", route.method, route.path),
            (_, None) => String::new(),
        }
    }
}
