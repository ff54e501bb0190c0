//! `template.yaml` against the workspace: every function binary is deployed, each
//! behind exactly its route, with the least privilege the contract asks for. The
//! template can't drift from the code without this failing.

use serde_yaml::value::{Tag, TaggedValue};
use serde_yaml::{Mapping, Value};
use std::collections::BTreeSet;
use std::path::PathBuf;

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

fn of_type<'a>(template: &'a Value, kind: &str) -> Vec<(&'a str, &'a Value)> {
    resources(template)
        .iter()
        .filter(|(_, resource)| resource["Type"].as_str() == Some(kind))
        .map(|(name, resource)| (name.as_str().unwrap_or_default(), resource))
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

fn is_ref_to(value: &Value, target: &str) -> bool {
    matches!(value, Value::Tagged(t) if t.tag == Tag::new("Ref") && t.value.as_str() == Some(target))
}

#[test]
fn every_function_binary_is_deployed_and_nothing_else() {
    let template = template();
    let deployed: BTreeSet<String> = of_type(&template, "AWS::Serverless::Function")
        .iter()
        .map(|(_, f)| {
            assert_eq!(f["Metadata"]["BuildMethod"], "rust-cargolambda");
            f["Metadata"]["BuildProperties"]["Binary"]
                .as_str()
                .expect("Binary")
                .to_owned()
        })
        .collect();
    assert_eq!(deployed, function_binaries());
    assert_eq!(
        deployed,
        ["graphql", "login", "logout"].map(String::from).into()
    );
    let globals = &template["Globals"]["Function"];
    assert_eq!(globals["Runtime"], "provided.al2023");
    assert_eq!(globals["Handler"], "bootstrap");
    assert_eq!(template["Parameters"]["Architecture"]["Default"], "arm64");
}

#[test]
fn each_function_is_behind_exactly_post_prefix_slash_its_name() {
    let template = template();
    let prefix = of_type(&template, "AWS::ApiGateway::Resource")
        .into_iter()
        .find(|(_, r)| is_ref_to(&r["Properties"]["PathPart"], "PathPrefix"))
        .map(|(name, _)| name)
        .expect("a resource whose path part is the PathPrefix parameter");
    let mut routed = BTreeSet::new();
    for (logical, function) in of_type(&template, "AWS::Serverless::Function") {
        let binary = function["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .unwrap();
        assert!(
            function["Properties"].get("Events").is_none(),
            "{logical}: routes live in the API resources"
        );

        let methods: Vec<_> = of_type(&template, "AWS::ApiGateway::Method")
            .into_iter()
            .filter(|(_, m)| {
                text(&m["Properties"]["Integration"]["Uri"])
                    .contains(&format!("${{{logical}.Arn}}"))
            })
            .collect();
        assert_eq!(methods.len(), 1, "{logical} has one method");
        let method = &methods[0].1["Properties"];
        assert_eq!(method["HttpMethod"], "POST");
        assert_eq!(method["Integration"]["Type"], "AWS_PROXY");
        let resource_name = text(&method["ResourceId"]);
        let resource = &resources(&template)[resource_name.as_str()]["Properties"];
        assert_eq!(
            resource["PathPart"].as_str(),
            Some(binary),
            "{logical}'s path"
        );
        assert!(
            is_ref_to(&resource["ParentId"], prefix),
            "{logical} sits under the prefix"
        );

        let permissions: Vec<_> = of_type(&template, "AWS::Lambda::Permission")
            .into_iter()
            .filter(|(_, p)| is_ref_to(&p["Properties"]["FunctionName"], logical))
            .collect();
        assert_eq!(
            permissions.len(),
            1,
            "{logical} may be invoked by its route only"
        );
        let source = text(&permissions[0].1["Properties"]["SourceArn"]);
        assert!(
            source.ends_with(&format!("/*/POST/${{PathPrefix}}/{binary}")),
            "{source}"
        );
        routed.insert(binary.to_owned());
    }
    assert_eq!(routed, function_binaries());
    let deployment = &resources(&template)["ApiDeployment"];
    let depends: BTreeSet<&str> = deployment["DependsOn"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        depends,
        ["GraphqlMethod", "LoginMethod", "LogoutMethod"].into()
    );
}

#[test]
fn functions_may_read_the_one_secret_and_nothing_more() {
    let template = template();
    let policy = &resources(&template)["SecretReadPolicy"];
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

    for (logical, function) in of_type(&template, "AWS::Serverless::Function") {
        let policies = function["Properties"]["Policies"].as_sequence().unwrap();
        assert!(is_ref_to(&policies[0], "SecretReadPolicy"), "{logical}");
        assert_eq!(
            policies.len(),
            2,
            "{logical}: the secret and, in a VPC, ENI access"
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
fn every_function_has_a_log_group_with_retention() {
    let template = template();
    for (logical, _) in of_type(&template, "AWS::Serverless::Function") {
        let found = of_type(&template, "AWS::Logs::LogGroup")
            .into_iter()
            .any(|(_, group)| {
                text(&group["Properties"]["LogGroupName"]) == format!("/aws/lambda/${{{logical}}}")
                    && is_ref_to(&group["Properties"]["RetentionInDays"], "LogRetentionDays")
            });
        assert!(found, "{logical} has no log group with retention");
    }
}
