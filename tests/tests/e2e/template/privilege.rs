//! Least privilege and limits: each function's role, log group, secret,
//! memory and reserved concurrency.

use super::*;

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
