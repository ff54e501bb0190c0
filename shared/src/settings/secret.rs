//! Settings from AWS Secrets Manager.
//!
//! `AUTH_SECRET_ID` names a secret whose SecretString is a JSON object keyed by
//! setting names (`SECRET_KEY`, `MONGODB_URI`, `PREVIOUS_SECRET_KEYS`, ...). Its
//! values win over the environment. Errors name the secret and the problem, never
//! a value.
//!
//! The SDK has no read or operation timeout by default (a silent endpoint hangs
//! forever) and retries three times; here every call is bounded, so a cold start
//! with Secrets Manager down fails within seconds.

use crate::settings::{Settings, SettingsError};
use aws_sdk_secretsmanager::config::retry::RetryConfig;
use aws_sdk_secretsmanager::config::timeout::TimeoutConfig;
use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region, SharedHttpClient};
use aws_sdk_secretsmanager::error::DisplayErrorContext;
use aws_sdk_secretsmanager::{Client, Config};
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
use std::collections::HashMap;
use std::time::Duration;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
const OPERATION_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_ATTEMPTS: u32 = 2;

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("secret {id} could not be read: {reason}")]
    Unreadable { id: String, reason: String },
    #[error("secret {id} does not exist")]
    NotFound { id: String },
    #[error("secret {id} has no SecretString (binary secrets are not supported)")]
    NotText { id: String },
    #[error("secret {id} is not a JSON object of settings")]
    NotJson { id: String },
    #[error("secret {id}: {key} must be a string, number, boolean, list or object")]
    BadValue { id: String, key: String },
    #[error("secret {id} has no SECRET_KEY")]
    NoSecretKey { id: String },
}

/// The settings a secret holds, as strings (lists as JSON). Never printed.
#[derive(Default, Clone)]
pub struct SecretValues(HashMap<String, String>);

impl std::fmt::Debug for SecretValues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut keys: Vec<&String> = self.0.keys().collect();
        keys.sort();
        f.debug_struct("SecretValues").field("keys", &keys).finish()
    }
}

impl SecretValues {
    pub fn get(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }

    /// The settings, with the secret's values winning over the environment's.
    pub fn settings(&self) -> Result<Settings, SettingsError> {
        Settings::from_lookup(|name| self.get(name).or_else(|| std::env::var(name).ok()))
    }

    /// Parses a SecretString.
    pub fn parse(id: &str, text: &str) -> Result<Self, SecretError> {
        let not_json = || SecretError::NotJson { id: id.to_owned() };
        let object = match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Object(object)) => object,
            _ => return Err(not_json()),
        };
        let mut values = HashMap::new();
        for (key, value) in object {
            let text = match &value {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                // Lists and objects (keys, access rules, ROUTE_ROLES) are
                // read as their JSON text, as the same setting in the
                // environment would be written.
                serde_json::Value::Array(_) | serde_json::Value::Object(_) => value.to_string(),
                _ => {
                    return Err(SecretError::BadValue {
                        id: id.to_owned(),
                        key,
                    })
                }
            };
            values.insert(key, text);
        }
        if values.get("SECRET_KEY").is_none_or(|k| k.trim().is_empty()) {
            return Err(SecretError::NoSecretKey { id: id.to_owned() });
        }
        Ok(SecretValues(values))
    }
}

/// A client for one secret, built once per container.
#[derive(Clone, Debug)]
pub struct SecretSource {
    client: Client,
    id: String,
}

impl SecretSource {
    /// A client configured from the environment alone, as Lambda provides it:
    /// the function role's credentials (`AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), `AWS_REGION`, and
    /// optionally `AWS_ENDPOINT_URL_SECRETS_MANAGER` or `AWS_ENDPOINT_URL`;
    /// with this service's timeouts and retry budget.
    ///
    /// Not `aws_config`'s full provider chain (profile files, SSO, web
    /// identity, container and instance metadata): inside Lambda only the
    /// environment applies, and resolving the chain cost a cold start ~14 ms.
    pub async fn new(id: &str) -> Self {
        SecretSource {
            client: Client::from_conf(config_from(|name| std::env::var(name).ok())),
            id: id.to_owned(),
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Reads and parses the secret's current version.
    pub async fn read(&self) -> Result<SecretValues, SecretError> {
        let request = self.client.get_secret_value().secret_id(&self.id).send();
        // The SDK's own operation timeout bounds this; the outer one is a backstop
        // for time spent before the SDK starts counting (credential resolution).
        let outcome = tokio::time::timeout(OPERATION_TIMEOUT + Duration::from_secs(1), request)
            .await
            .map_err(|_| SecretError::Unreadable {
                id: self.id.clone(),
                reason: "timed out".into(),
            })?;
        let output = match outcome {
            Ok(output) => output,
            Err(err) => {
                let not_found = err
                    .as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception());
                return Err(if not_found {
                    SecretError::NotFound {
                        id: self.id.clone(),
                    }
                } else {
                    SecretError::Unreadable {
                        id: self.id.clone(),
                        reason: DisplayErrorContext(&err).to_string(),
                    }
                });
            }
        };
        let text = output.secret_string().ok_or_else(|| SecretError::NotText {
            id: self.id.clone(),
        })?;
        SecretValues::parse(&self.id, text)
    }
}

/// The Secrets Manager client configuration from the variables `env` gives.
/// Missing credentials are not an error here: the read fails, naming the secret.
pub fn config_from(env: impl Fn(&str) -> Option<String>) -> Config {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .read_timeout(ATTEMPT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build();
    let mut config = Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(http_client())
        .timeout_config(timeouts)
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS));
    if let Some(region) = env("AWS_REGION").or_else(|| env("AWS_DEFAULT_REGION")) {
        config = config.region(Region::new(region));
    }
    if let (Some(key), Some(secret)) = (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
        let token = env("AWS_SESSION_TOKEN");
        config = config.credentials_provider(Credentials::new(key, secret, token, None, "env"));
    }
    let endpoint = env("AWS_ENDPOINT_URL_SECRETS_MANAGER").or_else(|| env("AWS_ENDPOINT_URL"));
    if let Some(url) = endpoint.filter(|url| !url.trim().is_empty()) {
        config = config.endpoint_url(url);
    }
    config.build()
}

/// HTTPS through rustls with ring, the crypto the MongoDB driver uses: one
/// TLS stack in the binary instead of two (the SDK's default is aws-lc).
pub fn http_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_string_is_a_json_object_of_settings() {
        let values = SecretValues::parse(
            "s",
            r#"{"SECRET_KEY":"k","TOKEN_EXPIRE_MINUTES":15,"WHITE_LIST_TOKEN":false,"PREVIOUS_SECRET_KEYS":["a","b"]}"#,
        )
        .unwrap();
        assert_eq!(values.get("SECRET_KEY").as_deref(), Some("k"));
        assert_eq!(values.get("TOKEN_EXPIRE_MINUTES").as_deref(), Some("15"));
        assert_eq!(values.get("WHITE_LIST_TOKEN").as_deref(), Some("false"));
        assert_eq!(
            values.get("PREVIOUS_SECRET_KEYS").as_deref(),
            Some(r#"["a","b"]"#)
        );
    }

    #[test]
    fn an_object_value_is_read_as_its_json_text() {
        let values = SecretValues::parse(
            "s",
            r#"{"SECRET_KEY":"k","ROUTE_ROLES":{"GET /a":["admin"]}}"#,
        )
        .unwrap();
        assert_eq!(
            values.get("ROUTE_ROLES").as_deref(),
            Some(r#"{"GET /a":["admin"]}"#)
        );
    }

    #[test]
    fn problems_name_the_secret_and_never_a_value() {
        for (text, expected) in [
            ("not json", "is not a JSON object"),
            ("[1]", "is not a JSON object"),
            (
                r#"{"MONGODB_URI":"mongodb://u:hunter2@h"}"#,
                "has no SECRET_KEY",
            ),
            (r#"{"SECRET_KEY":"hunter2","X":null}"#, "X must be"),
        ] {
            let err = SecretValues::parse("prod/auth", text)
                .unwrap_err()
                .to_string();
            assert!(err.contains("prod/auth") && err.contains(expected), "{err}");
            assert!(!err.contains("hunter2"), "{err}");
        }
    }

    #[test]
    fn debug_output_lists_keys_only() {
        let values = SecretValues::parse("s", r#"{"SECRET_KEY":"hunter2"}"#).unwrap();
        let printed = format!("{values:?}");
        assert!(
            printed.contains("SECRET_KEY") && !printed.contains("hunter2"),
            "{printed}"
        );
    }
}
