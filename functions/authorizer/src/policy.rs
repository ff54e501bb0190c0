//! The IAM policy a REST API authorizer answers with. API Gateway caches an
//! answer per token (its TTL) and applies it to every later route the token
//! is sent to, so the policy speaks for all of them: an `Allow` for each route
//! the caller's role may use on this API and stage, and a `Deny` for each
//! pattern that refuses it (an explicit `Deny` wins, as in our own matching).

use crate::routes::RouteRoles;
use shared::lambda_http::aws_lambda_events::apigw::ApiGatewayCustomAuthorizerPolicy;
use shared::lambda_http::aws_lambda_events::iam::{IamPolicyEffect, IamPolicyStatement};

const INVOKE: &str = "execute-api:Invoke";

/// `arn:aws:execute-api:<region>:<account>:<api>/<stage>/<METHOD>/<path>`,
/// taken apart: the API and stage's ARN, and the route asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodArn<'a> {
    /// `arn:aws:execute-api:<region>:<account>:<api>/<stage>`.
    pub stage_arn: &'a str,
    pub method: &'a str,
    /// Without its leading `/` (empty for the root).
    pub path: &'a str,
}

impl<'a> MethodArn<'a> {
    pub fn parse(arn: &'a str) -> Option<Self> {
        let mut fields = arn.splitn(6, ':');
        let (Some("arn"), Some(_), Some("execute-api"), Some(_), Some(_), Some(resource)) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) else {
            return None;
        };
        let mut parts = resource.splitn(4, '/');
        let (Some(api), Some(stage), Some(method)) = (parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        if api.is_empty() || stage.is_empty() || method.is_empty() {
            return None;
        }
        let stage_end = arn.len() - resource.len() + api.len() + 1 + stage.len();
        Some(MethodArn {
            stage_arn: &arn[..stage_end],
            method,
            path: parts.next().unwrap_or(""),
        })
    }
}

fn statement(effect: IamPolicyEffect, resource: Vec<String>) -> IamPolicyStatement {
    let mut statement = IamPolicyStatement::default();
    statement.action = vec![INVOKE.to_owned()];
    statement.effect = effect;
    statement.resource = resource;
    statement
}

fn policy(statements: Vec<IamPolicyStatement>) -> ApiGatewayCustomAuthorizerPolicy {
    let mut policy = ApiGatewayCustomAuthorizerPolicy::default();
    policy.version = Some("2012-10-17".to_owned());
    policy.statement = statements;
    policy
}

/// What `role` may invoke on the stage: everything `ALLOWED_ROLES` lets it
/// (when `fallback`), the patterns that admit it, and none that refuse it.
pub fn allow_role(
    stage_arn: &str,
    routes: &RouteRoles,
    role: &str,
    fallback: bool,
) -> ApiGatewayCustomAuthorizerPolicy {
    let (admitting, refusing) = routes.split_for(role);
    let under = |resource: String| format!("{stage_arn}/{resource}");
    let mut allowed: Vec<String> = Vec::new();
    if fallback {
        allowed.push(under("*/*".to_owned()));
    } else {
        allowed.extend(admitting.iter().map(|p| under(p.resource())));
    }
    let denied: Vec<String> = refusing.iter().map(|p| under(p.resource())).collect();
    let mut statements = Vec::new();
    if !allowed.is_empty() {
        statements.push(statement(IamPolicyEffect::Allow, allowed));
    }
    if !denied.is_empty() {
        statements.push(statement(IamPolicyEffect::Deny, denied));
    }
    policy(statements)
}

/// Nothing on the stage (or, when the asked route was unreadable, on any
/// stage of any API: `*`).
pub fn deny_all(stage_arn: Option<&str>) -> ApiGatewayCustomAuthorizerPolicy {
    let resource = stage_arn.map_or_else(|| "*".to_owned(), |arn| format!("{arn}/*/*"));
    policy(vec![statement(IamPolicyEffect::Deny, vec![resource])])
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/orders/42";

    #[test]
    fn a_method_arn_gives_its_stage_and_route() {
        let arn = MethodArn::parse(ARN).unwrap();
        assert_eq!(
            arn.stage_arn,
            "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod"
        );
        assert_eq!(arn.method, "GET");
        assert_eq!(arn.path, "orders/42");
        let root = MethodArn::parse("arn:aws:execute-api:r:1:api/dev/POST/").unwrap();
        assert_eq!(root.path, "");
        for bad in [
            "",
            "arn:aws:s3:::bucket",
            "arn:aws:execute-api:r:1:api",
            "x:y",
        ] {
            assert_eq!(MethodArn::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_role_is_allowed_its_routes_and_denied_the_patterns_that_refuse_it() {
        let routes = RouteRoles::from_setting(Some(
            r#"{"GET /orders/*": ["admin","staff"], "POST /orders": ["admin"]}"#,
        ))
        .unwrap();
        let stage = "arn:aws:execute-api:r:1:api/prod";
        let staff = serde_json::to_value(allow_role(stage, &routes, "staff", true)).unwrap();
        assert_eq!(staff["Statement"][0]["Effect"], "Allow");
        assert_eq!(
            staff["Statement"][0]["Resource"][0],
            "arn:aws:execute-api:r:1:api/prod/*/*"
        );
        assert_eq!(staff["Statement"][1]["Effect"], "Deny");
        assert_eq!(
            staff["Statement"][1]["Resource"][0],
            "arn:aws:execute-api:r:1:api/prod/POST/orders"
        );
        let only = serde_json::to_value(allow_role(stage, &routes, "staff", false)).unwrap();
        assert_eq!(
            only["Statement"][0]["Resource"][0],
            "arn:aws:execute-api:r:1:api/prod/GET/orders/*"
        );
        assert_eq!(
            only["Statement"][0]["Resource"].as_array().unwrap().len(),
            1
        );
    }
}
