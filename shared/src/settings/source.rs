//! The reader that turns raw setting strings into typed values and names the
//! culprit on error, shared by every setting (a function's own too).

use super::{AllowedRoles, SettingsError};
use secrecy::SecretString;

/// One place that turns raw strings into typed values and names the culprit;
/// a function's own settings (graphql's) are read through it too.
pub struct Source<'a, F: Fn(&str) -> Option<String>>(pub &'a F);

impl<F: Fn(&str) -> Option<String>> Source<'_, F> {
    /// A set, non-blank value; surrounding whitespace is ignored.
    pub fn get(&self, name: &str) -> Option<String> {
        (self.0)(name)
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    }

    /// A set value exactly as given (no trimming); blank counts as missing.
    pub(super) fn verbatim(&self, name: &'static str) -> Result<String, SettingsError> {
        (self.0)(name)
            .filter(|value| !value.trim().is_empty())
            .ok_or(SettingsError::Missing(name))
    }

    pub(super) fn required(&self, name: &'static str) -> Result<String, SettingsError> {
        self.get(name).ok_or(SettingsError::Missing(name))
    }

    pub(super) fn name(&self, name: &'static str, default: &str) -> Result<String, SettingsError> {
        let value = self.get(name).unwrap_or_else(|| default.to_owned());
        // MongoDB database names: no spaces, dots, slashes or `$`, at most 63 bytes.
        let valid = value.len() <= 63
            && !value
                .chars()
                .any(|c| matches!(c, '/' | '\\' | '.' | ' ' | '"' | '$' | '\0'));
        if valid {
            Ok(value)
        } else {
            Err(invalid(name, "not a valid MongoDB database name"))
        }
    }

    pub fn boolean(&self, name: &'static str, default: bool) -> Result<bool, SettingsError> {
        match self.get(name) {
            None => Ok(default),
            Some(value) => parse_bool(&value)
                .ok_or_else(|| invalid(name, "expected true/false, 1/0 or yes/no")),
        }
    }

    pub(super) fn number<T>(
        &self,
        name: &'static str,
        default: T,
        min: T,
    ) -> Result<T, SettingsError>
    where
        T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
    {
        let Some(value) = self.get(name) else {
            return Ok(default);
        };
        match value.parse::<T>() {
            Ok(number) if number >= min => Ok(number),
            _ => Err(invalid(
                name,
                format!("expected a whole number of at least {min}"),
            )),
        }
    }

    /// A JSON list of strings, each used exactly as given, or (for keys without
    /// commas or surrounding spaces) a comma-separated list.
    pub(super) fn key_list(&self, name: &'static str) -> Result<Vec<SecretString>, SettingsError> {
        let Some(value) = self.get(name) else {
            return Ok(Vec::new());
        };
        let keys: Vec<String> = if value.starts_with('[') {
            serde_json::from_str(&value)
                .map_err(|_| invalid(name, "expected a JSON list of strings"))?
        } else {
            value.split(',').map(|key| key.trim().to_owned()).collect()
        };
        Ok(keys
            .into_iter()
            .filter(|key| !key.is_empty())
            .map(SecretString::from)
            .collect())
    }

    pub(super) fn roles(&self, name: &'static str) -> Result<AllowedRoles, SettingsError> {
        if self.get(name).as_deref() == Some("*") {
            return Ok(AllowedRoles::Any);
        }
        Ok(AllowedRoles::Only(self.names(name, "admin")?))
    }

    /// A comma-separated list of role names, `default` when unset.
    pub(super) fn names(
        &self,
        name: &'static str,
        default: &str,
    ) -> Result<Vec<String>, SettingsError> {
        let value = self.get(name).unwrap_or_else(|| default.to_owned());
        let names: Vec<String> = value
            .split(',')
            .map(str::trim)
            .filter(|role| !role.is_empty())
            .map(str::to_owned)
            .collect();
        if names.is_empty() {
            return Err(invalid(name, "expected a comma-separated list of roles"));
        }
        Ok(names)
    }
}

/// The error for a set but unusable value of `name`.
pub fn invalid(name: &'static str, reason: impl Into<String>) -> SettingsError {
    SettingsError::Invalid {
        name,
        reason: reason.into(),
    }
}

/// true/false, 1/0, yes/no, in any case.
fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Some(true),
        "false" | "0" | "no" => Some(false),
        _ => None,
    }
}
