//! The GraphQL function's own settings, beside the shared ones, read through the
//! shared settings reader (same spellings, same error text).

use crate::access::AccessRules;
use shared::settings::{invalid, SettingsError, Source};

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
        let source = Source(&lookup);
        let access = match source.get("GRAPHQL_ACCESS_CONTROL") {
            None => AccessRules::default(),
            Some(json) => AccessRules::from_json(&json)
                .map_err(|err| invalid("GRAPHQL_ACCESS_CONTROL", err.to_string()))?,
        };
        Ok(GraphqlSettings {
            access,
            introspection: source.boolean("GRAPHQL_INTROSPECTION", false)?,
        })
    }
}
