//! The authorizer on the API: its two authorizers, cache, Gateway Responses,
//! invoke permission (from the SAM transform) and settings.

use super::*;

#[test]
fn the_api_offers_a_token_and_a_request_authorizer_both_calling_the_authorizer_function() {
    let template = template();
    let mut offered = BTreeSet::new();
    for (name, authorizer) in api_authorizers(&template) {
        let name = name.as_str().expect("authorizer name").to_owned();
        assert!(
            is_get_att(&authorizer["FunctionArn"], "AuthorizerFunction.Arn"),
            "{name}"
        );
        // SAM reads the payload type as a literal, so each kind is its own
        // authorizer, named by the routes that use it.
        let kind = authorizer["FunctionPayloadType"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: a literal FunctionPayloadType"));
        let identity = &authorizer["Identity"];
        match kind {
            "TOKEN" => assert_eq!(identity["Header"], "Authorization", "{name}"),
            "REQUEST" => {
                assert_eq!(identity["Headers"][0], "Authorization", "{name}");
                assert_eq!(identity["Headers"].as_sequence().map(Vec::len), Some(1));
            }
            other => panic!("{name}: FunctionPayloadType {other}"),
        }
        offered.insert((name, kind.to_owned()));
    }
    let expected: BTreeSet<(String, String)> = [
        ("RequestAuthorizer", "REQUEST"),
        ("TokenAuthorizer", "TOKEN"),
    ]
    .map(|(name, kind)| (name.to_owned(), kind.to_owned()))
    .into();
    assert_eq!(offered, expected);
}

#[test]
fn the_authorizer_cache_is_off_by_default_and_is_the_ttl_of_every_authorizer() {
    let template = template();
    let parameter = &template["Parameters"]["AuthorizerCacheSeconds"];
    assert_eq!(parameter["Type"], "Number");
    assert_eq!(
        parameter["Default"], 0,
        "every request checked unless asked"
    );
    assert_eq!(parameter["MinValue"], 0);
    assert_eq!(parameter["MaxValue"], 3600, "API Gateway's longest TTL");
    for (name, authorizer) in api_authorizers(&template) {
        assert!(
            is_ref_to(
                &authorizer["Identity"]["ReauthorizeEvery"],
                "AuthorizerCacheSeconds"
            ),
            "{name:?}"
        );
    }
    // SAM resolves the parameter as it transforms: the TTL API Gateway gets.
    let schemes = &transformed()["Resources"]["AuthApi"]["Properties"]["Body"]["components"]
        ["securitySchemes"];
    for name in ["TokenAuthorizer", "RequestAuthorizer"] {
        assert_eq!(
            schemes[name]["x-amazon-apigateway-authorizer"]["authorizerResultTtlInSeconds"], 0,
            "{name}"
        );
    }
}

#[test]
fn a_refused_request_gets_401_and_the_python_services_json_message() {
    let template = template();
    let (_, api) = api(&template);
    let responses = &api["Properties"]["GatewayResponses"];
    for (kind, body) in [
        // The authorizer's Deny: its context says why (signature_expired, ...).
        (
            "ACCESS_DENIED",
            r#"{"message":"$context.authorizer.message"}"#,
        ),
        // No Authorization header: API Gateway refuses before calling it.
        ("UNAUTHORIZED", r#"{"message":"unauthorized"}"#),
    ] {
        let response = &responses[kind];
        assert_eq!(response["StatusCode"], 401, "{kind}");
        assert_eq!(
            response["ResponseTemplates"]["application/json"], body,
            "{kind}"
        );
        assert_eq!(
            response["ResponseParameters"]["Headers"]["Content-Type"], "'application/json'",
            "{kind}"
        );
        // Substituted, not escaped: the body is JSON for each reason.
        let reasons: &[&str] = match kind {
            "ACCESS_DENIED" => &[
                "unauthorized",
                "signature_expired",
                "invalid_token",
                "password_change_required",
            ],
            _ => &["unauthorized"],
        };
        for reason in reasons {
            let rendered = body.replace("$context.authorizer.message", reason);
            let json: serde_json::Value = serde_json::from_str(&rendered).expect(kind);
            assert_eq!(json, serde_json::json!({ "message": reason }), "{kind}");
        }
    }
}

#[test]
fn an_authorizer_that_cannot_decide_answers_503_as_the_functions_do_in_an_outage() {
    let template = template();
    let (_, api) = api(&template);
    let responses = api["Properties"]["GatewayResponses"]
        .as_mapping()
        .expect("GatewayResponses");
    // The function failed (the database is down, a deadline, a throttle) or
    // API Gateway could not use it.
    for kind in ["AUTHORIZER_FAILURE", "AUTHORIZER_CONFIGURATION_ERROR"] {
        let response = &responses[kind];
        assert_eq!(response["StatusCode"], 503, "{kind}");
        assert_eq!(
            response["ResponseTemplates"]["application/json"],
            r#"{"message":"service_unavailable"}"#,
            "{kind}"
        );
        assert_eq!(
            response["ResponseParameters"]["Headers"]["Content-Type"], "'application/json'",
            "{kind}"
        );
    }
    // No other answer of API Gateway's is changed (throttling keeps its 429).
    let customized: BTreeSet<&str> = responses.keys().filter_map(Value::as_str).collect();
    assert_eq!(
        customized,
        [
            "ACCESS_DENIED",
            "AUTHORIZER_CONFIGURATION_ERROR",
            "AUTHORIZER_FAILURE",
            "UNAUTHORIZED"
        ]
        .into()
    );
}

#[test]
fn the_services_own_routes_are_not_behind_the_authorizer() {
    let template = template();
    let (_, api) = api(&template);
    let auth = &api["Properties"]["Auth"];
    assert!(
        auth.get("DefaultAuthorizer").is_none(),
        "a default authorizer would guard /admin/* too"
    );
    for (logical, binary, function) in functions(&template) {
        if binary == AUTHORIZER {
            continue;
        }
        for (event, properties) in function["Properties"]["Events"].as_mapping().unwrap() {
            let authorizer = &properties["Properties"]["Auth"]["Authorizer"];
            assert!(
                authorizer.is_null() || authorizer.as_str() == Some("NONE"),
                "{logical}.{event:?} names {authorizer:?}"
            );
        }
    }
    // What API Gateway gets: no security requirement on the API as a whole
    // or on any method of the service's routes, preflights included.
    let body = &transformed()["Resources"]["AuthApi"]["Properties"]["Body"];
    assert!(body.get("security").is_none(), "{:?}", body["security"]);
    let paths = body["paths"].as_object().expect("paths");
    let routes: BTreeSet<&str> = paths.keys().map(String::as_str).collect();
    assert_eq!(
        routes,
        ["/admin/graphql", "/admin/login", "/admin/logout"].into()
    );
    for (path, methods) in paths {
        for (method, operation) in methods.as_object().expect("methods") {
            assert!(
                operation.get("security").is_none(),
                "{method} {path} is behind {:?}",
                operation["security"]
            );
        }
    }
}

#[test]
fn sam_lets_this_api_alone_invoke_the_authorizer() {
    let resources = transformed()["Resources"].as_object().expect("Resources");
    let grants: Vec<(&String, &serde_json::Value)> = resources
        .iter()
        .filter(|(_, resource)| {
            resource["Type"] == "AWS::Lambda::Permission"
                && resource["Properties"]["FunctionName"]["Fn::GetAtt"][0] == "AuthorizerFunction"
        })
        .collect();
    assert_eq!(grants.len(), 2, "one per authorizer: {grants:?}");
    for (name, grant) in grants {
        let properties = &grant["Properties"];
        assert_eq!(properties["Action"], "lambda:InvokeFunction", "{name}");
        assert_eq!(
            properties["Principal"], "apigateway.amazonaws.com",
            "{name}"
        );
        let source = &properties["SourceArn"]["Fn::Sub"];
        let arn = source[0].as_str().unwrap_or_default();
        assert!(
            arn.starts_with("arn:aws:execute-api:") && arn.ends_with(":${__ApiId__}/authorizers/*"),
            "{name}: {arn}"
        );
        assert_eq!(source[1]["__ApiId__"]["Ref"], "AuthApi", "{name}");
    }
}

#[test]
fn the_authorizer_arn_is_exported_for_other_stacks() {
    let template = template();
    let output = &template["Outputs"]["AuthorizerFunctionArn"];
    assert!(is_get_att(&output["Value"], "AuthorizerFunction.Arn"));
    assert_eq!(
        text(&output["Export"]["Name"]),
        "${AWS::StackName}-AuthorizerFunctionArn"
    );
}

#[test]
fn route_roles_reach_the_authorizer_alone() {
    let template = template();
    let parameter = &template["Parameters"]["RouteRoles"];
    assert_eq!(parameter["Type"], "String");
    assert_eq!(
        parameter["Default"], "",
        "no per-route rules: ALLOWED_ROLES decides"
    );
    let globals = &template["Globals"]["Function"]["Environment"]["Variables"];
    assert!(globals.get("ROUTE_ROLES").is_none());
    for (logical, binary, function) in functions(&template) {
        let own = &function["Properties"]["Environment"]["Variables"];
        if binary == AUTHORIZER {
            assert!(is_ref_to(&own["ROUTE_ROLES"], "RouteRoles"), "{logical}");
        } else {
            assert!(own.get("ROUTE_ROLES").is_none(), "{logical}");
        }
    }
}

/// The authorizer is logout's guard in front of other routes: the same
/// settings (the globals), memory, timeout and network, plus ROUTE_ROLES.
#[test]
fn the_authorizer_runs_with_logouts_settings_plus_route_roles() {
    let template = template();
    let authorizer = &function_with_binary(&template, AUTHORIZER)["Properties"];
    let logout = &function_with_binary(&template, "logout")["Properties"];
    assert!(
        logout.get("Environment").is_none(),
        "logout reads the globals"
    );
    let own: BTreeSet<&str> = authorizer["Environment"]["Variables"]
        .as_mapping()
        .expect("the authorizer's Environment.Variables")
        .keys()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(own, ["ROUTE_ROLES"].into());
    for property in [
        "MemorySize",
        "Timeout",
        "VpcConfig",
        "Runtime",
        "Architectures",
        "Policies",
    ] {
        assert_eq!(authorizer.get(property), logout.get(property), "{property}");
    }
}
