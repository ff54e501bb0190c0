//! The GraphQL function's own settings, beside the shared ones.

use crate::access::{AccessRules, AccessRulesError};
use shared::settings::{parse_bool, SettingsError};

pub struct GraphqlSettings {
    pub access: AccessRules,
    /// `GRAPHQL_INTROSPECTION`: off unless asked for, so a deployed schema does
    /// not describe itself to strangers.
    pub introspection: bool,
}

impl GraphqlSettings {
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let access = match lookup("GRAPHQL_ACCESS_CONTROL").filter(|v| !v.trim().is_empty()) {
            None => AccessRules::default(),
            Some(json) => AccessRules::from_json(&json).map_err(|err: AccessRulesError| {
                SettingsError::Invalid {
                    name: "GRAPHQL_ACCESS_CONTROL",
                    reason: err.to_string(),
                }
            })?,
        };
        let introspection = match lookup("GRAPHQL_INTROSPECTION").filter(|v| !v.trim().is_empty()) {
            None => false,
            Some(raw) => parse_bool(&raw).ok_or(SettingsError::Invalid {
                name: "GRAPHQL_INTROSPECTION",
                reason: "expected true/false, 1/0 or yes/no".into(),
            })?,
        };
        Ok(GraphqlSettings {
            access,
            introspection,
        })
    }
}
