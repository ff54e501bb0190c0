//! The functions, their routes on the one API, its stage settings and outputs.

use super::*;

#[test]
fn every_function_binary_is_deployed_and_nothing_else() {
    let template = template();
    let deployed: BTreeSet<String> = functions(&template)
        .iter()
        .map(|(logical, binary, f)| {
            assert_eq!(
                f["Metadata"]["BuildMethod"], "rust-cargolambda",
                "{logical}"
            );
            (*binary).to_owned()
        })
        .collect();
    assert_eq!(deployed, function_binaries());
    assert_eq!(
        deployed,
        ["authorizer", "graphql", "login", "logout"]
            .map(String::from)
            .into()
    );
    let globals = &template["Globals"]["Function"];
    assert_eq!(globals["Runtime"], "provided.al2023");
    assert_eq!(globals["Handler"], "bootstrap");
    assert_eq!(template["Parameters"]["Architecture"]["Default"], "arm64");
}

#[test]
fn each_function_is_behind_post_admin_slash_its_name_on_the_one_sam_api() {
    let template = template();
    let (api, _) = api(&template);
    let mut routed = BTreeSet::new();
    for (logical, binary, function) in functions(&template) {
        if binary == AUTHORIZER {
            // API Gateway calls it before the routes that name it.
            assert!(
                function["Properties"].get("Events").is_none(),
                "{logical} has no route"
            );
            continue;
        }
        let events = function["Properties"]["Events"]
            .as_mapping()
            .unwrap_or_else(|| panic!("{logical} has Events"));
        let mut methods = BTreeSet::new();
        for (_, event) in events {
            assert_eq!(event["Type"], "Api", "{logical}");
            let properties = &event["Properties"];
            assert!(is_ref_to(&properties["RestApiId"], api), "{logical}");
            // A literal path: SAM writes routes (and redeploys) only from those.
            assert_eq!(
                properties["Path"].as_str(),
                Some(format!("/admin/{binary}").as_str()),
                "{logical}'s path"
            );
            methods.insert(properties["Method"].as_str().expect("Method"));
        }
        // OPTIONS is the CORS preflight, which the function answers.
        assert_eq!(methods, ["options", "post"].into(), "{logical}");
        routed.insert(binary.to_owned());
    }
    let mut expected = function_binaries();
    assert!(expected.remove(AUTHORIZER), "the authorizer is deployed");
    assert_eq!(routed, expected);
}

#[test]
fn the_api_is_not_written_out_by_hand_and_has_no_path_prefix() {
    let template = template();
    let hand_written: Vec<_> = resources(&template)
        .iter()
        .filter_map(|(name, resource)| {
            let kind = resource["Type"].as_str()?;
            (kind.starts_with("AWS::ApiGateway::") && kind != "AWS::ApiGateway::Account")
                .then(|| format!("{} ({kind})", name.as_str().unwrap_or_default()))
        })
        .collect();
    assert!(
        hand_written.is_empty(),
        "SAM writes the API's resources: {hand_written:?}"
    );
    assert!(of_type(&template, "AWS::Lambda::Permission").is_empty());
    assert!(template["Parameters"].get("PathPrefix").is_none());
    let (_, api) = api(&template);
    assert_eq!(
        api["Properties"]["EndpointConfiguration"]["Type"],
        "REGIONAL"
    );
    assert!(is_ref_to(&api["Properties"]["StageName"], "StageName"));
}

#[test]
fn throttling_covers_every_route_and_cannot_be_switched_off() {
    let template = template();
    let (_, api) = api(&template);
    let settings = api["Properties"]["MethodSettings"]
        .as_sequence()
        .expect("MethodSettings");
    assert_eq!(settings.len(), 1);
    assert_eq!(settings[0]["ResourcePath"], "/*");
    assert_eq!(settings[0]["HttpMethod"], "*");
    for limit in ["ThrottlingRateLimit", "ThrottlingBurstLimit"] {
        assert!(is_ref_to(&settings[0][limit], limit), "{limit}");
        // API Gateway reads -1 as "unlimited".
        let parameter = &template["Parameters"][limit];
        assert_eq!(parameter["MinValue"], 1, "{limit}");
        assert!(parameter["Default"].as_u64().is_some_and(|d| d >= 1));
    }
}

#[test]
fn access_logs_are_json_lines_in_their_own_log_group_with_retention() {
    let template = template();
    let (_, api) = api(&template);
    let setting = &api["Properties"]["AccessLogSetting"];
    let format: serde_json::Value =
        serde_json::from_str(setting["Format"].as_str().expect("Format"))
            .expect("the access log format is one JSON object");
    for (field, variable) in [
        ("requestId", "$context.requestId"),
        ("ip", "$context.identity.sourceIp"),
        ("requestTime", "$context.requestTime"),
        ("httpMethod", "$context.httpMethod"),
        ("resourcePath", "$context.resourcePath"),
        ("status", "$context.status"),
        ("responseLength", "$context.responseLength"),
        ("integrationLatency", "$context.integrationLatency"),
    ] {
        assert_eq!(format[field], variable, "{field}");
    }
    let no_secrets = setting["Format"].as_str().unwrap().to_ascii_lowercase();
    assert!(
        !no_secrets.contains("authorization") && !no_secrets.contains("requestoverride"),
        "no header that carries a token"
    );

    let destination = text(&setting["DestinationArn"]);
    assert!(
        destination.ends_with(":log-group:${ApiAccessLogGroup}"),
        "{destination}"
    );
    let group = resource(&template, "ApiAccessLogGroup");
    assert_eq!(group["Type"], "AWS::Logs::LogGroup");
    assert!(is_ref_to(
        &group["Properties"]["RetentionInDays"],
        "LogRetentionDays"
    ));
}

#[test]
fn the_account_wide_api_gateway_logging_role_is_set_only_on_request_and_outlives_the_stack() {
    let template = template();
    assert_eq!(
        template["Parameters"]["CreateApiGatewayLogRole"]["Default"],
        "false"
    );
    for name in ["ApiGatewayAccount", "ApiGatewayLogRole"] {
        let resource = resource(&template, name);
        assert_eq!(resource["Condition"], "CreatesApiGatewayLogRole", "{name}");
        assert_eq!(resource["DeletionPolicy"], "Retain", "{name}");
    }
    // The stage (with its access logs) must wait for the role when it is set.
    let (_, api) = api(&template);
    let description = call(&api["Properties"]["Description"], "If").expect("!If");
    assert_eq!(description[0], "CreatesApiGatewayLogRole");
    assert!(text(&description[1]).contains("${ApiGatewayAccount}"));
}

#[test]
fn cors_is_off_by_default_and_every_function_reads_the_allowed_origins() {
    let template = template();
    let parameter = &template["Parameters"]["CorsAllowedOrigins"];
    assert_eq!(parameter["Default"], "");
    let env = &template["Globals"]["Function"]["Environment"]["Variables"];
    assert!(is_ref_to(
        &env["CORS_ALLOWED_ORIGINS"],
        "CorsAllowedOrigins"
    ));
    for (logical, _, function) in functions(&template) {
        let own = &function["Properties"]["Environment"]["Variables"];
        assert!(own.get("CORS_ALLOWED_ORIGINS").is_none(), "{logical}");
    }
    // The gateway's own CORS would answer the preflight but could not put the
    // header on the functions' answers (proxy integration): the functions do both.
    let (_, api) = api(&template);
    assert!(api["Properties"].get("Cors").is_none());
}

#[test]
fn the_api_url_output_is_the_stage_url_the_readme_appends_routes_to() {
    let template = template();
    let (api, _) = api(&template);
    let url = text(&template["Outputs"]["ApiUrl"]["Value"]);
    assert_eq!(
        url,
        format!(
            "https://${{{api}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/${{StageName}}"
        )
    );
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    for route in ["login", "logout", "graphql"] {
        assert!(
            readme.contains(&format!("\"$API/admin/{route}\"")),
            "the README calls $API/admin/{route}"
        );
    }
}

#[test]
fn each_function_name_is_an_output() {
    let template = template();
    for (logical, _, _) in functions(&template) {
        let output = &template["Outputs"][format!("{logical}Name").as_str()];
        assert!(is_ref_to(&output["Value"], logical), "{logical}Name");
    }
}
