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

mod alarms;
mod authorizer;
mod privilege;
mod routes;
