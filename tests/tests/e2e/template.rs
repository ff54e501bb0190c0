//! `template.yaml` against the workspace: every function binary is deployed, each
//! behind exactly its route on one SAM API (the authorizer behind none: other
//! routes name it), with the least privilege, limits, logs and alarms the
//! README promises. The template can't drift from the code without this
//! failing. (`cfn-lint` and `sam validate` check it against AWS's schemas in
//! `scripts/test`; the tests on [`transformed`] read what the SAM transform
//! makes of it.)

use serde_yaml::value::{Tag, TaggedValue};
use serde_yaml::{Mapping, Value};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::OnceLock;

/// The binary of the Lambda authorizer: a function without a route of its own.
const AUTHORIZER: &str = "authorizer";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn template() -> Value {
    let text = std::fs::read_to_string(root().join("template.yaml")).expect("template.yaml");
    serde_yaml::from_str(&text).expect("template.yaml is YAML")
}

/// The binaries under `functions/`: each crate there is one Lambda function.
fn function_binaries() -> BTreeSet<String> {
    std::fs::read_dir(root().join("functions"))
        .expect("functions/")
        .filter_map(Result::ok)
        .filter(|entry| entry.path().join("src/main.rs").exists())
        .map(|entry| {
            let manifest =
                std::fs::read_to_string(entry.path().join("Cargo.toml")).expect("Cargo.toml");
            manifest
                .lines()
                .find_map(|line| line.strip_prefix("name = \""))
                .and_then(|rest| rest.strip_suffix('"'))
                .expect("package name")
                .to_owned()
        })
        .collect()
}

fn resources(template: &Value) -> &Mapping {
    template["Resources"].as_mapping().expect("Resources")
}

fn resource<'a>(template: &'a Value, name: &str) -> &'a Value {
    resources(template)
        .get(name)
        .unwrap_or_else(|| panic!("no resource {name}"))
}

fn of_type<'a>(template: &'a Value, kind: &str) -> Vec<(&'a str, &'a Value)> {
    resources(template)
        .iter()
        .filter(|(_, resource)| resource["Type"].as_str() == Some(kind))
        .map(|(name, resource)| (name.as_str().unwrap_or_default(), resource))
        .collect()
}

/// Each deployed function: its logical id, binary name and resource.
fn functions(template: &Value) -> Vec<(&str, &str, &Value)> {
    of_type(template, "AWS::Serverless::Function")
        .into_iter()
        .map(|(logical, function)| {
            let binary = function["Metadata"]["BuildProperties"]["Binary"]
                .as_str()
                .expect("Binary");
            (logical, binary, function)
        })
        .collect()
}

/// The text inside `!Sub`, `!Ref` or another short-form tag, or a plain string.
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Tagged(tagged) => text(&tagged.value),
        other => format!("{other:?}"),
    }
}

/// The argument of a short-form function (`!If [..]` gives the list), if
/// `value` is that function.
fn call<'a>(value: &'a Value, function: &str) -> Option<&'a Value> {
    match value {
        Value::Tagged(tagged) if tagged.tag == Tag::new(function) => Some(&tagged.value),
        _ => None,
    }
}

fn is_ref_to(value: &Value, target: &str) -> bool {
    call(value, "Ref").and_then(Value::as_str) == Some(target)
}

fn is_get_att(value: &Value, target: &str) -> bool {
    call(value, "GetAtt").and_then(Value::as_str) == Some(target)
}

/// `!If [condition, !Ref parameter, !Ref AWS::NoValue]`: the parameter's value
/// under the condition, else the property is left out.
fn is_optional_ref(value: &Value, condition: &str, parameter: &str) -> bool {
    call(value, "If").is_some_and(|arguments| {
        arguments[0] == condition
            && is_ref_to(&arguments[1], parameter)
            && is_ref_to(&arguments[2], "AWS::NoValue")
    })
}

/// The condition `!Not [!Equals [!Ref parameter, off]]`.
fn is_set_unless(template: &Value, condition: &str, parameter: &str, off: &Value) -> bool {
    let Some(negated) = call(&template["Conditions"][condition], "Not") else {
        return false;
    };
    call(&negated[0], "Equals")
        .is_some_and(|pair| is_ref_to(&pair[0], parameter) && pair[1] == *off)
}

/// Every IAM statement in the template (roles' inline policies and managed
/// policies), conditional ones included.
fn statements(template: &Value) -> Vec<&Value> {
    let mut documents: Vec<&Value> = Vec::new();
    for (_, policy) in of_type(template, "AWS::IAM::ManagedPolicy") {
        documents.push(&policy["Properties"]["PolicyDocument"]);
    }
    for (_, role) in of_type(template, "AWS::IAM::Role") {
        for inline in role["Properties"]["Policies"]
            .as_sequence()
            .into_iter()
            .flatten()
        {
            documents.push(&inline["PolicyDocument"]);
        }
    }
    documents
        .into_iter()
        .flat_map(|document| document["Statement"].as_sequence().expect("Statement"))
        .map(|statement| match call(statement, "If") {
            Some(arguments) => &arguments[1],
            None => statement,
        })
        .collect()
}

fn actions(statement: &Value) -> Vec<String> {
    match &statement["Action"] {
        Value::Sequence(list) => list.iter().map(text).collect(),
        single => vec![text(single)],
    }
}

/// The logical id a function's role is, and that role.
fn role_of<'a>(template: &'a Value, function: &Value) -> (String, &'a Value) {
    let role = &function["Properties"]["Role"];
    let name = call(role, "GetAtt")
        .and_then(Value::as_str)
        .and_then(|target| target.strip_suffix(".Arn"))
        .expect("Role: !GetAtt <role>.Arn (SAM would otherwise add its logs:* policy)");
    (name.to_owned(), resource(template, name))
}

/// The function's log group: the logical id its LoggingConfig names.
fn log_group_of(function: &Value) -> String {
    let group = &function["Properties"]["LoggingConfig"]["LogGroup"];
    call(group, "Ref")
        .and_then(Value::as_str)
        .expect("LoggingConfig.LogGroup: !Ref <group>")
        .to_owned()
}

/// The one `AWS::Serverless::Api`.
fn api(template: &Value) -> (&str, &Value) {
    let apis = of_type(template, "AWS::Serverless::Api");
    assert_eq!(apis.len(), 1, "one API");
    apis[0]
}

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
fn each_function_has_a_reserved_concurrency_parameter_unreserved_by_default() {
    let template = template();
    for (logical, binary, function) in functions(&template) {
        let name = logical.strip_suffix("Function").expect("<Name>Function");
        let parameter = format!("{name}ReservedConcurrency");
        let condition = format!("{name}HasReservedConcurrency");
        let declared = &template["Parameters"][parameter.as_str()];
        assert_eq!(declared["Type"], "Number", "{parameter}");
        assert_eq!(declared["Default"], -1, "{parameter}: unreserved");
        assert_eq!(declared["MinValue"], -1, "{parameter}");
        assert!(
            is_set_unless(&template, &condition, &parameter, &Value::from(-1)),
            "{condition}"
        );
        assert!(
            is_optional_ref(
                &function["Properties"]["ReservedConcurrentExecutions"],
                &condition,
                &parameter
            ),
            "{binary}: reserved only when the parameter isn't -1"
        );
    }
}

#[test]
fn every_function_logs_json_to_its_own_log_group_with_retention() {
    let template = template();
    assert_eq!(
        template["Globals"]["Function"]["LoggingConfig"]["LogFormat"],
        "JSON"
    );
    let mut groups = BTreeSet::new();
    for (logical, binary, function) in functions(&template) {
        let name = log_group_of(function);
        let group = resource(&template, &name);
        assert_eq!(group["Type"], "AWS::Logs::LogGroup", "{logical}");
        assert_eq!(
            text(&group["Properties"]["LogGroupName"]),
            format!("/aws/lambda/${{AWS::StackName}}-{binary}")
        );
        assert!(is_ref_to(
            &group["Properties"]["RetentionInDays"],
            "LogRetentionDays"
        ));
        groups.insert(name);
    }
    assert_eq!(groups.len(), 4, "one group each, the authorizer's included");
}

#[test]
fn each_role_may_write_only_its_own_functions_log_group() {
    let template = template();
    let mut roles = BTreeSet::new();
    for (logical, _, function) in functions(&template) {
        assert!(
            function["Properties"].get("Policies").is_none(),
            "{logical}: SAM policies would come with its own role"
        );
        let (role_name, role) = role_of(&template, function);
        assert_eq!(role["Type"], "AWS::IAM::Role");
        let trust = &role["Properties"]["AssumeRolePolicyDocument"]["Statement"];
        assert_eq!(trust.as_sequence().map(Vec::len), Some(1));
        assert_eq!(trust[0]["Principal"]["Service"], "lambda.amazonaws.com");

        let group = log_group_of(function);
        let inline = role["Properties"]["Policies"]
            .as_sequence()
            .expect("Policies");
        let logs: Vec<&Value> = inline
            .iter()
            .flat_map(|policy| policy["PolicyDocument"]["Statement"].as_sequence().unwrap())
            .filter(|statement| actions(statement).iter().any(|a| a.starts_with("logs:")))
            .collect();
        assert_eq!(logs.len(), 1, "{role_name}");
        assert_eq!(
            actions(logs[0]),
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            "{role_name}"
        );
        assert!(
            is_get_att(&logs[0]["Resource"], &format!("{group}.Arn")),
            "{role_name} writes {group} only"
        );
        roles.insert(role_name);
    }
    assert_eq!(
        roles.len(),
        4,
        "a role per function, the authorizer's included"
    );
}

#[test]
fn no_policy_grants_logs_broadly_and_no_aws_managed_policy_is_attached() {
    let template = template();
    for statement in statements(&template) {
        let logs = actions(statement)
            .into_iter()
            .filter(|action| action.starts_with("logs:"))
            .collect::<Vec<_>>();
        if logs.is_empty() {
            continue;
        }
        assert!(!logs.iter().any(|a| a.contains('*')), "{logs:?}");
        assert_ne!(statement["Resource"], "*", "{logs:?} on every group");
    }
    // AWSLambdaBasicExecutionRole and AWSLambdaVPCAccessExecutionRole grant
    // logs on every group; only our own policies are attached to the functions.
    for (_, _, function) in functions(&template) {
        let (role_name, role) = role_of(&template, function);
        for attached in role["Properties"]["ManagedPolicyArns"]
            .as_sequence()
            .expect("ManagedPolicyArns")
        {
            let ours = is_ref_to(attached, "SecretReadPolicy")
                || is_optional_ref(attached, "HasVpc", "VpcNetworkPolicy");
            assert!(ours, "{role_name}: {attached:?}");
        }
    }
}

#[test]
fn functions_may_read_the_one_secret_and_nothing_more() {
    let template = template();
    let policy = resource(&template, "SecretReadPolicy");
    assert_eq!(policy["Type"], "AWS::IAM::ManagedPolicy");
    let statements = policy["Properties"]["PolicyDocument"]["Statement"]
        .as_sequence()
        .unwrap();
    assert_eq!(statements[0]["Action"], "secretsmanager:GetSecretValue");
    assert!(is_ref_to(&statements[0]["Resource"], "AuthSecretArn"));
    // kms:Decrypt only under the HasKmsKey condition, on that key only.
    let Value::Tagged(conditional) = &statements[1] else {
        panic!("the KMS statement must be conditional");
    };
    let TaggedValue { tag, value } = conditional.as_ref();
    assert_eq!(*tag, Tag::new("If"));
    assert_eq!(value[0], "HasKmsKey");
    assert_eq!(value[1]["Action"], "kms:Decrypt");
    assert!(is_ref_to(&value[1]["Resource"], "SecretKmsKeyArn"));
    assert_eq!(statements.len(), 2);

    // The VPC policy, under HasVpc, holds network actions only.
    let vpc = resource(&template, "VpcNetworkPolicy");
    assert_eq!(vpc["Condition"], "HasVpc");
    for statement in vpc["Properties"]["PolicyDocument"]["Statement"]
        .as_sequence()
        .unwrap()
    {
        assert!(actions(statement).iter().all(|a| a.starts_with("ec2:")));
    }

    for (logical, _, function) in functions(&template) {
        let (_, role) = role_of(&template, function);
        let attached = role["Properties"]["ManagedPolicyArns"]
            .as_sequence()
            .unwrap();
        assert!(is_ref_to(&attached[0], "SecretReadPolicy"), "{logical}");
        assert_eq!(
            attached.len(),
            2,
            "{logical}: the secret and, in a VPC, ENIs"
        );
    }
    let env = &template["Globals"]["Function"]["Environment"]["Variables"];
    assert!(is_ref_to(&env["AUTH_SECRET_ID"], "AuthSecretArn"));
    assert!(
        env.get("SECRET_KEY").is_none() && env.get("MONGODB_URI").is_none(),
        "secrets stay in the secret"
    );
}

#[test]
fn alarms_exist_only_when_a_topic_is_given_and_notify_it() {
    let template = template();
    assert_eq!(template["Parameters"]["AlarmTopicArn"]["Default"], "");
    assert!(is_set_unless(
        &template,
        "HasAlarms",
        "AlarmTopicArn",
        &Value::from("")
    ));
    let alarms = of_type(&template, "AWS::CloudWatch::Alarm");
    for (name, alarm) in &alarms {
        assert_eq!(alarm["Condition"], "HasAlarms", "{name}");
        let actions = alarm["Properties"]["AlarmActions"].as_sequence().unwrap();
        assert_eq!(actions.len(), 1, "{name}");
        assert!(is_ref_to(&actions[0], "AlarmTopicArn"), "{name}");
        assert_eq!(alarm["Properties"]["TreatMissingData"], "notBreaching");
    }
    let watched: BTreeSet<(String, String)> = alarms
        .iter()
        .map(|(_, alarm)| {
            let properties = &alarm["Properties"];
            let subject = properties["Dimensions"]
                .as_sequence()
                .and_then(|dimensions| {
                    dimensions
                        .iter()
                        .find(|d| d["Name"] == "FunctionName")
                        .map(|d| text(&d["Value"]))
                })
                .unwrap_or_default();
            (text(&properties["MetricName"]), subject)
        })
        .collect();
    let expected: BTreeSet<(String, String)> = [
        ("5XXError", ""),
        ("Throttles", "LoginFunction"),
        ("Throttles", "LogoutFunction"),
        ("Throttles", "GraphqlFunction"),
        ("Throttles", "AuthorizerFunction"),
        ("login_locked", ""),
        ("refresh_token_reused", ""),
    ]
    .map(|(metric, subject)| (metric.to_owned(), subject.to_owned()))
    .into();
    assert_eq!(watched, expected);
}

#[test]
fn security_events_are_counted_from_the_functions_log_lines() {
    let template = template();
    let filters = of_type(&template, "AWS::Logs::MetricFilter");
    for (event, group) in [
        ("login_locked", "LoginLogGroup"),
        ("refresh_token_reused", "GraphqlLogGroup"),
    ] {
        let (name, filter) = filters
            .iter()
            .find(|(_, f)| {
                f["Properties"]["MetricTransformations"][0]["MetricName"].as_str() == Some(event)
            })
            .unwrap_or_else(|| panic!("a metric filter counting {event}"));
        let properties = &filter["Properties"];
        assert!(is_ref_to(&properties["LogGroupName"], group), "{name}");
        assert_eq!(
            properties["FilterPattern"],
            format!("{{ $.event = \"{event}\" }}"),
            "{name}"
        );
        // The alarm reads the metric the filter writes.
        let transformation = &properties["MetricTransformations"][0];
        let alarm = of_type(&template, "AWS::CloudWatch::Alarm")
            .into_iter()
            .find(|(_, a)| a["Properties"]["MetricName"].as_str() == Some(event))
            .map(|(_, a)| a)
            .unwrap_or_else(|| panic!("an alarm on {event}"));
        assert_eq!(
            text(&alarm["Properties"]["Namespace"]),
            text(&transformation["MetricNamespace"])
        );
    }
    // The filters match what the code logs: every event line carries its
    // name, from the audit trail's one list, as a top-level `event` field
    // (the `sessions::events` tests read those lines from the binaries).
    let logged: Vec<&str> = shared::runtime::audit::Event::ALL
        .iter()
        .map(|e| e.name())
        .collect();
    for event in ["login_locked", "refresh_token_reused"] {
        assert!(
            logged.contains(&event),
            "{event} is not an audit event: {logged:?}"
        );
    }
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

/// Memory by measurement: login is CPU-bound (hashing), and Lambda's CPU share
/// grows with memory, so it gets more; the others mostly wait on the database.
#[test]
fn login_gets_the_memory_its_hashing_needs_for_cpu_and_the_others_less() {
    let template = template();
    let default = |name: &str| template["Parameters"][name]["Default"].as_u64();
    assert_eq!(default("LoginMemorySize"), Some(1024));
    assert_eq!(default("MemorySize"), Some(256));
    assert!(is_ref_to(
        &template["Globals"]["Function"]["MemorySize"],
        "MemorySize"
    ));
    for (_, binary, function) in functions(&template) {
        let own = &function["Properties"]["MemorySize"];
        if binary == "login" {
            assert!(is_ref_to(own, "LoginMemorySize"), "{own:?}");
        } else {
            assert!(own.is_null(), "{binary} sets its own memory: {own:?}");
        }
    }
}

/// `template.yaml` as the SAM transform hands it to CloudFormation, with the
/// parameters' defaults (and a placeholder `AuthSecretArn`, which has none):
/// the resources SAM writes itself, such as the API's OpenAPI body and the
/// Lambda permissions. It runs the samtranslator `sam validate` runs, from
/// the project venv (`scripts/setup`), offline.
fn transformed() -> &'static serde_json::Value {
    static TRANSFORMED: OnceLock<serde_json::Value> = OnceLock::new();
    TRANSFORMED.get_or_init(|| {
        let python = root().join(".tools/venv/bin/python");
        assert!(
            python.exists(),
            "{} is missing: run scripts/setup (it installs the SAM CLI)",
            python.display()
        );
        let output = std::process::Command::new(&python)
            .arg("-c")
            .arg(SAM_TRANSFORM)
            .arg(root().join("template.yaml"))
            // The transform wants a region for ARNs; it calls no AWS API here.
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_REGION", "us-east-1")
            .output()
            .expect("run the SAM transform");
        assert!(
            output.status.success(),
            "the SAM transform failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("the transform prints JSON")
    })
}

const SAM_TRANSFORM: &str = r#"
import json, sys
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

class NoManagedPolicies:
    def load(self):
        return {}

template = yaml_parse(open(sys.argv[1]).read())
# As `sam validate` does: a local CodeUri becomes an S3 one.
template["Globals"]["Function"]["CodeUri"] = "s3://bucket/key"
parameters = {"AuthSecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:auth-service"}
json.dump(transform(template, parameters, NoManagedPolicies()), sys.stdout)
"#;

/// The authorizers the one API offers to routes (`Auth.Authorizers`).
fn api_authorizers(template: &Value) -> &Mapping {
    let (_, api) = api(template);
    api["Properties"]["Auth"]["Authorizers"]
        .as_mapping()
        .expect("the API's Auth.Authorizers")
}

fn function_with_binary<'a>(template: &'a Value, binary: &str) -> &'a Value {
    functions(template)
        .into_iter()
        .find(|(_, b, _)| *b == binary)
        .map(|(_, _, function)| function)
        .unwrap_or_else(|| panic!("no function with binary {binary}"))
}

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
fn each_function_name_is_an_output() {
    let template = template();
    for (logical, _, _) in functions(&template) {
        let output = &template["Outputs"][format!("{logical}Name").as_str()];
        assert!(is_ref_to(&output["Value"], logical), "{logical}Name");
    }
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

#[test]
fn each_functions_role_grants_nothing_inline_but_writing_its_log_group() {
    let template = template();
    let mut roles = BTreeSet::new();
    for (_, _, function) in functions(&template) {
        let (role_name, role) = role_of(&template, function);
        let statements: Vec<&Value> = role["Properties"]["Policies"]
            .as_sequence()
            .expect("Policies")
            .iter()
            .flat_map(|policy| policy["PolicyDocument"]["Statement"].as_sequence().unwrap())
            .collect();
        assert_eq!(statements.len(), 1, "{role_name}: {statements:?}");
        assert!(
            actions(statements[0])
                .iter()
                .all(|a| a.starts_with("logs:")),
            "{role_name}"
        );
        roles.insert(role_name);
    }
    assert!(roles.contains("AuthorizerRole"), "{roles:?}");
}
