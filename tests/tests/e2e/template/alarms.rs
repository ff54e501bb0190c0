//! The alarms, and the metric filters that count security events.

use super::*;

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
