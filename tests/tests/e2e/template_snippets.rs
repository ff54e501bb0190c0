//! The README's two SAM snippets (a route of your own behind the authorizer,
//! in `template.yaml` or in another stack): each passes `cfn-lint` (which
//! runs the SAM transform) as written, and each is kept as a fixture under
//! `tests/fixtures/`, byte for byte, so that README and fixture can't drift
//! and the fixtures can be checked against `template.yaml` itself.

use serde_yaml::value::Tag;
use serde_yaml::{Mapping, Value};
use std::path::{Path, PathBuf};

/// What marks a README block as a SAM template.
const SAM: &str = "Transform: AWS::Serverless-2016-10-31";

/// The fixtures, in the README's order.
const IN_THIS_TEMPLATE: &str = "tests/fixtures/authorizer-in-this-template.yaml";
const BY_ARN: &str = "tests/fixtures/authorizer-by-arn.yaml";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(relative: &str) -> String {
    let path = root().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

fn yaml(text: &str) -> Value {
    serde_yaml::from_str(text).expect("YAML")
}

/// The README's SAM blocks, as files are written: ending in a newline.
fn readme_snippets() -> Vec<String> {
    e2e::readme::yaml_blocks_with(SAM)
        .into_iter()
        .map(|block| block + "\n")
        .collect()
}

/// `cfn-lint` on the files, from the project venv: its output when it finds
/// anything (exit status other than 0).
fn cfn_lint(files: &[&Path]) -> Result<(), String> {
    let cfn_lint = root().join(".tools/venv/bin/cfn-lint");
    assert!(
        cfn_lint.exists(),
        "{} is missing: run scripts/setup (it installs cfn-lint)",
        cfn_lint.display()
    );
    let output = std::process::Command::new(&cfn_lint)
        .args(files)
        // Its SAM transform wants a region; it calls no AWS API.
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .output()
        .expect("run cfn-lint");
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "cfn-lint exited with {}:\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// The argument of a short-form function (`!Sub`, `!ImportValue`), if
/// `value` is that function.
fn call<'a>(value: &'a Value, function: &str) -> Option<&'a Value> {
    match value {
        Value::Tagged(tagged) if tagged.tag == Tag::new(function) => Some(&tagged.value),
        _ => None,
    }
}

fn resources(template: &Value) -> &Mapping {
    template["Resources"].as_mapping().expect("Resources")
}

fn of_type<'a>(template: &'a Value, kind: &str) -> Vec<&'a Value> {
    resources(template)
        .values()
        .filter(|resource| resource["Type"].as_str() == Some(kind))
        .collect()
}

/// The one `AWS::Serverless::Api` of a template.
fn api(template: &Value) -> &Value {
    let apis = of_type(template, "AWS::Serverless::Api");
    assert_eq!(apis.len(), 1, "one API");
    apis[0]
}

/// The `Api` events of the template's functions: (RestApiId, Path, Method,
/// Auth.Authorizer).
fn routes(template: &Value) -> Vec<(String, String, String, String)> {
    let text = |value: &Value| match value {
        Value::Tagged(tagged) => tagged.value.as_str().unwrap_or_default().to_owned(),
        other => other.as_str().unwrap_or_default().to_owned(),
    };
    of_type(template, "AWS::Serverless::Function")
        .into_iter()
        .flat_map(|function| {
            function["Properties"]["Events"]
                .as_mapping()
                .into_iter()
                .flat_map(|events| events.values())
        })
        .filter(|event| event["Type"] == "Api")
        .map(|event| {
            let properties = &event["Properties"];
            (
                text(&properties["RestApiId"]),
                text(&properties["Path"]),
                text(&properties["Method"]),
                text(&properties["Auth"]["Authorizer"]),
            )
        })
        .collect()
}

#[test]
fn the_readme_has_exactly_two_sam_snippets_and_each_passes_cfn_lint() {
    let snippets = readme_snippets();
    assert_eq!(
        snippets.len(),
        2,
        "README.md: a ```yaml block with `{SAM}` for each of {IN_THIS_TEMPLATE} and {BY_ARN}"
    );
    let dir = std::env::temp_dir().join(format!("readme-sam-snippets-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let files: Vec<PathBuf> = snippets
        .iter()
        .enumerate()
        .map(|(i, snippet)| {
            let file = dir.join(format!("snippet-{}.yaml", i + 1));
            std::fs::write(&file, snippet).expect("write the snippet");
            file
        })
        .collect();
    let linted = cfn_lint(&files.iter().map(PathBuf::as_path).collect::<Vec<_>>());
    std::fs::remove_dir_all(&dir).ok();
    if let Err(found) = linted {
        panic!("the README's SAM snippets, as written:\n{found}");
    }
}

#[test]
fn the_snippet_fixtures_pass_cfn_lint() {
    let files = [IN_THIS_TEMPLATE, BY_ARN].map(|file| root().join(file));
    if let Err(found) = cfn_lint(&files.iter().map(PathBuf::as_path).collect::<Vec<_>>()) {
        panic!("{found}");
    }
}

#[test]
fn each_readme_sam_snippet_is_its_fixture_byte_for_byte() {
    let snippets = readme_snippets();
    let fixtures = [IN_THIS_TEMPLATE, BY_ARN];
    assert_eq!(snippets.len(), fixtures.len(), "README.md's SAM snippets");
    for (snippet, fixture) in snippets.iter().zip(fixtures) {
        assert!(
            *snippet == read(fixture),
            "the README's snippet differs from {fixture} (paste the file as it is):\n{snippet}"
        );
    }
}

/// The first snippet shows a route in `template.yaml`: its authorizer must be
/// the template's own, as it is there.
#[test]
fn the_in_this_template_snippet_protects_its_route_with_the_templates_token_authorizer() {
    let snippet = yaml(&read(IN_THIS_TEMPLATE));
    let template = yaml(&read("template.yaml"));
    let authorizer = |template: &Value| {
        api(template)["Properties"]["Auth"]["Authorizers"]["TokenAuthorizer"].clone()
    };
    assert_eq!(authorizer(&snippet), authorizer(&template));
    assert!(
        !authorizer(&template).is_null(),
        "template.yaml has a TokenAuthorizer"
    );
    assert_eq!(
        snippet["Parameters"]["AuthorizerCacheSeconds"]["Default"],
        template["Parameters"]["AuthorizerCacheSeconds"]["Default"]
    );
    assert!(
        resources(&snippet).contains_key("AuthApi"),
        "the template's API's name"
    );
    assert_eq!(
        routes(&snippet),
        [(
            "AuthApi".to_owned(),
            "/orders/{id}".to_owned(),
            "get".to_owned(),
            "TokenAuthorizer".to_owned()
        )]
    );
}

/// The second snippet attaches the exported authorizer to its own API: it
/// imports the export `template.yaml` writes, grants that API (and only
/// that API's authorizers) the invoke, and refuses as `template.yaml` does.
#[test]
fn the_other_stack_snippet_imports_the_export_grants_its_api_the_invoke_and_refuses_alike() {
    let snippet = yaml(&read(BY_ARN));
    let template = yaml(&read("template.yaml"));
    let export = call(
        &template["Outputs"]["AuthorizerFunctionArn"]["Export"]["Name"],
        "Sub",
    )
    .and_then(Value::as_str)
    .expect("Export.Name: !Sub <string>");
    let stack_suffix = export
        .strip_prefix("${AWS::StackName}")
        .expect("the export is named after the stack");

    // `!ImportValue {Fn::Sub: ${AuthStackName}<suffix>}`.
    let imports_the_export = |value: &Value| {
        call(value, "ImportValue").is_some_and(|imported| {
            imported["Fn::Sub"].as_str()
                == Some(format!("${{AuthStackName}}{stack_suffix}").as_str())
        })
    };
    assert!(snippet["Parameters"].get("AuthStackName").is_some());

    let api_properties = &api(&snippet)["Properties"];
    let authorizers = api_properties["Auth"]["Authorizers"]
        .as_mapping()
        .expect("Auth.Authorizers");
    assert_eq!(authorizers.len(), 1);
    let authorizer = &authorizers["AuthService"];
    assert!(
        imports_the_export(&authorizer["FunctionArn"]),
        "{authorizer:?}"
    );
    // The permission is written out below, so SAM must not add its own.
    assert_eq!(authorizer["DisableFunctionDefaultPermissions"], true);

    let (api_name, _) = resources(&snippet)
        .iter()
        .find(|(_, resource)| resource["Type"] == "AWS::Serverless::Api")
        .expect("the API");
    let api_name = api_name.as_str().expect("API name");
    let permissions = of_type(&snippet, "AWS::Lambda::Permission");
    assert_eq!(permissions.len(), 1);
    let permission = &permissions[0]["Properties"];
    assert_eq!(permission["Action"], "lambda:InvokeFunction");
    assert_eq!(permission["Principal"], "apigateway.amazonaws.com");
    assert!(imports_the_export(&permission["FunctionName"]));
    let source = call(&permission["SourceArn"], "Sub")
        .and_then(Value::as_str)
        .expect("SourceArn: !Sub <string>");
    assert_eq!(
        source,
        format!(
            "arn:${{AWS::Partition}}:execute-api:${{AWS::Region}}:${{AWS::AccountId}}:${{{api_name}}}/authorizers/*"
        )
    );

    assert_eq!(
        api_properties["GatewayResponses"],
        api(&template)["Properties"]["GatewayResponses"],
        "the same refusals as auth-service's own API"
    );
    assert_eq!(
        routes(&snippet),
        [(
            api_name.to_owned(),
            "/orders/{id}".to_owned(),
            "get".to_owned(),
            "AuthService".to_owned()
        )]
    );
}
