//! Typed settings, read once per container from the environment.
//!
//! Names and defaults follow `flask-auth-service-mongo`, so a team moving over keeps
//! its configuration. A missing or malformed value stops start-up with an error that
//! names the variable, never its value.

use crate::auth::password::HashScheme;
mod layered;
mod origins;
pub mod secret;
mod source;

pub use layered::{Layers, LoadError};
pub use origins::AllowedOrigins;
use secrecy::SecretString;
pub use source::{invalid, Source};
use std::collections::HashMap;
use std::time::Duration;

/// Which roles may use a function (login, logout, the guard).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedRoles {
    /// `*`: every role.
    Any,
    /// A list of role names, compared exactly.
    Only(Vec<String>),
}

impl AllowedRoles {
    pub fn permits(&self, role: &str) -> bool {
        match self {
            AllowedRoles::Any => true,
            AllowedRoles::Only(names) => names.iter().any(|name| name == role),
        }
    }
}

/// Roles only a holder of a protected role may give, or touch in others
/// (`PROTECTED_ROLES`, comma-separated, default `admin`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtectedRoles(Vec<String>);

impl ProtectedRoles {
    pub fn contains(&self, role: &str) -> bool {
        self.0.iter().any(|name| name == role)
    }
}

/// Where the data lives (`MONGODB_URI`, `MONGODB_DATABASE`).
#[derive(Debug)]
pub struct DatabaseSettings {
    /// Connection string; may carry credentials, hence secret.
    pub uri: SecretString,
    pub name: String,
}

/// The rules for new usernames and passwords (`USERNAME_MIN_LENGTH`,
/// `PASSWORD_MIN_LENGTH`, and `PASSWORD_HASH`, how they are stored). Login
/// never applies the lengths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountRules {
    pub username_min_length: usize,
    pub password_min_length: usize,
    pub password_hash: HashScheme,
}

#[derive(Debug)]
pub struct Settings {
    /// HS256 signing key shared with the Python service.
    pub secret_key: SecretString,
    /// Keys that signed tokens before a rotation: they still verify, never sign.
    pub previous_secret_keys: Vec<SecretString>,
    /// How often a warm container re-reads the secret named by `AUTH_SECRET_ID`.
    pub secret_refresh: std::time::Duration,
    pub database: DatabaseSettings,
    pub accounts: AccountRules,
    /// `WHITE_LIST_TOKEN`: keep issued tokens in `whitelist_token` and refuse
    /// any token not there.
    pub use_whitelist: bool,
    pub token_expire_minutes: u32,
    pub refresh_token_expire_minutes: u32,
    /// `RESET_PASSWORD_LEN_GENERATOR`: the length of a generated password.
    pub reset_password_length: usize,
    /// Refuse guarded calls from users whose `change_password` flag is set.
    pub require_password_change: bool,
    pub allowed_roles: AllowedRoles,
    pub protected_roles: ProtectedRoles,
    pub lockout: LockoutSettings,
    /// `CORS_ALLOWED_ORIGINS`: origins whose browser pages may call the functions.
    pub cors_allowed_origins: AllowedOrigins,
    pub sessions: SessionLimits,
}

/// How long a session may live and how a reused refresh token is judged
/// (`SESSION_MAX_MINUTES`, `REFRESH_REUSE_GRACE_SECONDS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    /// The absolute lifetime from login, whatever the refreshes; `None`:
    /// unlimited (`SESSION_MAX_MINUTES=0`).
    pub max_lifetime: Option<Duration>,
    /// How long the immediately previous refresh token of a session still
    /// gets the current pair (racing tabs and retries); zero: never, every
    /// reuse ends the session.
    pub reuse_grace: Duration,
}

/// How password guessing is slowed (`LOGIN_*`): per username, failure number
/// n >= `max_failures` locks it for min(`base_lock` * 2^(n - max), `max_lock`);
/// per source IP, `max_failures_per_ip` failures within `ip_window` lock the
/// IP until the window ends. A zero maximum turns that limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutSettings {
    pub max_failures: u32,
    /// `LOGIN_LOCKOUT_BASE_SECONDS`: the first lock's length.
    pub base_lock: Duration,
    pub max_lock: Duration,
    pub max_failures_per_ip: u32,
    pub ip_window: Duration,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SettingsError {
    #[error("setting {0} is required but not set")]
    Missing(&'static str),
    #[error("setting {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads from a map; the map's values win over nothing else (used by tests and
    /// by callers that merge sources themselves).
    pub fn from_map(values: &HashMap<String, String>) -> Result<Self, SettingsError> {
        Self::from_lookup(|name| values.get(name).cloned())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let source = Source(&lookup);
        // The key is used byte for byte, surrounding spaces included, so it
        // matches the Python service's key exactly.
        let secret_key = source.verbatim("SECRET_KEY")?;
        if secret_key.len() < 32 {
            // RFC 7518 3.2 wants 256 bits for HS256, but teams moving over must keep
            // the key their live tokens were signed with, so warn instead of refusing.
            tracing::warn!(
                setting = "SECRET_KEY",
                "secret key is shorter than 32 bytes"
            );
        }
        Ok(Settings {
            secret_key: SecretString::from(secret_key),
            previous_secret_keys: source.key_list("PREVIOUS_SECRET_KEYS")?,
            secret_refresh: std::time::Duration::from_secs(source.number(
                "SECRET_REFRESH_SECONDS",
                300u64,
                1,
            )?),
            database: DatabaseSettings::from_lookup(&lookup)?,
            accounts: AccountRules::from_lookup(&lookup)?,
            use_whitelist: source.boolean("WHITE_LIST_TOKEN", true)?,
            token_expire_minutes: source.number("TOKEN_EXPIRE_MINUTES", 60, 1)?,
            refresh_token_expire_minutes: refresh_token_expire_minutes(&source)?,
            reset_password_length: source.number("RESET_PASSWORD_LEN_GENERATOR", 8, 8)?,
            require_password_change: source.boolean("REQUIRE_PASSWORD_CHANGE", false)?,
            allowed_roles: source.roles("ALLOWED_ROLES")?,
            protected_roles: ProtectedRoles(source.names("PROTECTED_ROLES", "admin")?),
            lockout: LockoutSettings {
                max_failures: source.number("LOGIN_MAX_FAILURES", 5, 0)?,
                base_lock: Duration::from_secs(source.number(
                    "LOGIN_LOCKOUT_BASE_SECONDS",
                    1,
                    1,
                )?),
                max_lock: Duration::from_secs(source.number(
                    "LOGIN_LOCKOUT_MAX_SECONDS",
                    900,
                    1,
                )?),
                max_failures_per_ip: source.number("LOGIN_MAX_FAILURES_PER_IP", 100, 0)?,
                ip_window: Duration::from_secs(source.number("LOGIN_IP_WINDOW_SECONDS", 900, 1)?),
            },
            sessions: SessionLimits {
                max_lifetime: match source.number("SESSION_MAX_MINUTES", 43_200u64, 0)? {
                    0 => None,
                    minutes => Some(Duration::from_secs(minutes.saturating_mul(60))),
                },
                reuse_grace: Duration::from_secs(source.number(
                    "REFRESH_REUSE_GRACE_SECONDS",
                    10,
                    0,
                )?),
            },
            cors_allowed_origins: AllowedOrigins::parse(
                "CORS_ALLOWED_ORIGINS",
                source.get("CORS_ALLOWED_ORIGINS").as_deref(),
            )?,
        })
    }
}

/// `REFRESH_TOKEN_EXPIRE_MINUTES` (default a week): how long a session lives,
/// read here once for the functions and for `auth-admin init`, which creates
/// the session expiry index with it.
fn refresh_token_expire_minutes<F: Fn(&str) -> Option<String>>(
    source: &Source<'_, F>,
) -> Result<u32, SettingsError> {
    source.number("REFRESH_TOKEN_EXPIRE_MINUTES", 10080, 1)
}

/// What `auth-admin` needs: the database, the rules for new accounts, and the
/// session lifetime its `init` gives the session expiry index. No
/// `SECRET_KEY`: administration signs no token, so an operator's shell needs
/// only the database's settings (a secret named by `AUTH_SECRET_ID` still
/// holds one; it is read and left unused).
#[derive(Debug)]
pub struct AdminSettings {
    pub database: DatabaseSettings,
    pub accounts: AccountRules,
    pub session_lifetime: Duration,
}

impl AdminSettings {
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let source = Source(&lookup);
        let minutes = refresh_token_expire_minutes(&source)?;
        Ok(AdminSettings {
            database: DatabaseSettings::from_lookup(&lookup)?,
            accounts: AccountRules::from_lookup(&lookup)?,
            session_lifetime: Duration::from_secs(u64::from(minutes) * 60),
        })
    }
}

impl DatabaseSettings {
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let source = Source(&lookup);
        Ok(DatabaseSettings {
            uri: SecretString::from(source.required("MONGODB_URI")?),
            name: source.name("MONGODB_DATABASE", "auth")?,
        })
    }
}

impl AccountRules {
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let source = Source(&lookup);
        let password_hash = match source.get("PASSWORD_HASH") {
            None => HashScheme::default(),
            Some(name) => HashScheme::parse(&name)
                .ok_or_else(|| invalid("PASSWORD_HASH", "expected argon2id or bcrypt"))?,
        };
        Ok(AccountRules {
            username_min_length: source.number("USERNAME_MIN_LENGTH", 3, 1)?,
            password_min_length: source.number("PASSWORD_MIN_LENGTH", 8, 1)?,
            password_hash,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let mut map: HashMap<String, String> = [
            ("SECRET_KEY", "0123456789abcdef0123456789abcdef"),
            ("MONGODB_URI", "mongodb://127.0.0.1:27017"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (key, value) in pairs {
            map.insert(key.to_string(), value.to_string());
        }
        Settings::from_map(&map)
    }

    #[test]
    fn defaults_follow_the_contract() {
        let s = settings(&[]).unwrap();
        assert!(s.use_whitelist);
        assert_eq!(s.accounts.username_min_length, 3);
        assert_eq!(s.accounts.password_min_length, 8);
        assert_eq!(s.accounts.password_hash, HashScheme::Argon2id);
        assert_eq!(s.lockout.max_failures, 5);
        assert_eq!(s.lockout.base_lock, Duration::from_secs(1));
        assert_eq!(s.lockout.max_lock, Duration::from_secs(900));
        assert_eq!(s.lockout.max_failures_per_ip, 100);
        assert_eq!(s.lockout.ip_window, Duration::from_secs(900));
        assert_eq!(
            s.sessions.max_lifetime,
            Some(Duration::from_secs(43_200 * 60))
        );
        assert_eq!(s.sessions.reuse_grace, Duration::from_secs(10));
        let open = settings(&[
            ("SESSION_MAX_MINUTES", "0"),
            ("REFRESH_REUSE_GRACE_SECONDS", "0"),
        ])
        .unwrap();
        assert_eq!(open.sessions.max_lifetime, None);
        assert_eq!(open.sessions.reuse_grace, Duration::ZERO);
        let off = settings(&[("LOGIN_MAX_FAILURES", "0")]).unwrap();
        assert_eq!(off.lockout.max_failures, 0);
        let bcrypt = settings(&[("PASSWORD_HASH", "bcrypt")]).unwrap();
        assert_eq!(bcrypt.accounts.password_hash, HashScheme::Bcrypt);
        assert!(settings(&[("PASSWORD_HASH", "md5")]).is_err());
        assert_eq!(s.token_expire_minutes, 60);
        assert_eq!(s.refresh_token_expire_minutes, 10080);
        assert_eq!(s.reset_password_length, 8);
        assert!(!s.require_password_change);
        assert_eq!(s.allowed_roles, AllowedRoles::Only(vec!["admin".into()]));
        assert_eq!(s.database.name, "auth");
        assert_eq!(
            s.secret_key.expose_secret(),
            "0123456789abcdef0123456789abcdef"
        );
    }

    #[test]
    fn administration_needs_no_secret_key_and_sees_the_session_lifetime_the_functions_see() {
        let lookup = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(key, _)| *key == name)
                    .map(|(_, value)| value.to_string())
            }
        };
        let admin = AdminSettings::from_lookup(lookup(&[("MONGODB_URI", "mongodb://h")])).unwrap();
        assert_eq!(admin.session_lifetime, Duration::from_secs(10080 * 60));
        assert_eq!(admin.database.name, "auth");
        let pairs = &[
            ("MONGODB_URI", "mongodb://h"),
            ("REFRESH_TOKEN_EXPIRE_MINUTES", "90"),
        ];
        let admin = AdminSettings::from_lookup(lookup(pairs)).unwrap();
        let functions = settings(&[("REFRESH_TOKEN_EXPIRE_MINUTES", "90")]).unwrap();
        assert_eq!(
            admin.session_lifetime.as_secs(),
            u64::from(functions.refresh_token_expire_minutes) * 60
        );
        let err = AdminSettings::from_lookup(lookup(&[])).unwrap_err();
        assert_eq!(err, SettingsError::Missing("MONGODB_URI"));
    }

    #[test]
    fn booleans_accept_every_documented_spelling() {
        for (raw, expected) in [
            ("TRUE", true),
            ("yes", true),
            ("1", true),
            ("False", false),
            ("NO", false),
            ("0", false),
        ] {
            let s = settings(&[("WHITE_LIST_TOKEN", raw)]).unwrap();
            assert_eq!(s.use_whitelist, expected, "{raw}");
        }
    }

    #[test]
    fn a_bad_boolean_names_the_variable() {
        let err = settings(&[("REQUIRE_PASSWORD_CHANGE", "maybe")]).unwrap_err();
        assert!(err.to_string().contains("REQUIRE_PASSWORD_CHANGE"), "{err}");
    }

    #[test]
    fn a_missing_secret_key_fails_and_is_named() {
        let map: HashMap<String, String> =
            [("MONGODB_URI".to_string(), "mongodb://x".to_string())].into();
        let err = Settings::from_map(&map).unwrap_err();
        assert_eq!(err, SettingsError::Missing("SECRET_KEY"));
    }

    #[test]
    fn a_blank_secret_key_counts_as_missing() {
        let err = settings(&[("SECRET_KEY", "   ")]).unwrap_err();
        assert_eq!(err, SettingsError::Missing("SECRET_KEY"));
    }

    #[test]
    fn numbers_must_parse_and_respect_their_minimum() {
        for (name, raw) in [
            ("TOKEN_EXPIRE_MINUTES", "0"),
            ("TOKEN_EXPIRE_MINUTES", "-5"),
            ("PASSWORD_MIN_LENGTH", "eight"),
            ("RESET_PASSWORD_LEN_GENERATOR", "4"),
            ("LOGIN_LOCKOUT_BASE_SECONDS", "0"),
        ] {
            let err = settings(&[(name, raw)]).unwrap_err();
            assert!(err.to_string().contains(name), "{err}");
        }
        assert_eq!(
            settings(&[("TOKEN_EXPIRE_MINUTES", "15")])
                .unwrap()
                .token_expire_minutes,
            15
        );
    }

    #[test]
    fn allowed_roles_take_a_list_or_star() {
        let s = settings(&[("ALLOWED_ROLES", " admin , support ")]).unwrap();
        assert!(s.allowed_roles.permits("support"));
        assert!(!s.allowed_roles.permits("guest"));
        let s = settings(&[("ALLOWED_ROLES", "*")]).unwrap();
        assert!(s.allowed_roles.permits("anything"));
        assert!(settings(&[("ALLOWED_ROLES", ",,")]).is_err());
    }

    #[test]
    fn previous_keys_take_a_json_list_or_commas() {
        let s = settings(&[("PREVIOUS_SECRET_KEYS", r#"["old-1","old-2"]"#)]).unwrap();
        let keys: Vec<&str> = s
            .previous_secret_keys
            .iter()
            .map(|k| k.expose_secret())
            .collect();
        assert_eq!(keys, ["old-1", "old-2"]);
        let s = settings(&[("PREVIOUS_SECRET_KEYS", "a, b")]).unwrap();
        assert_eq!(s.previous_secret_keys.len(), 2);
        assert!(settings(&[("PREVIOUS_SECRET_KEYS", "[1,2]")]).is_err());
        assert_eq!(settings(&[]).unwrap().secret_refresh.as_secs(), 300);
    }

    #[test]
    fn keys_are_used_exactly_as_given() {
        let s = settings(&[("SECRET_KEY", "  spaced key  ")]).unwrap();
        assert_eq!(s.secret_key.expose_secret(), "  spaced key  ");
        let s = settings(&[("PREVIOUS_SECRET_KEYS", r#"[" a,b "]"#)]).unwrap();
        assert_eq!(s.previous_secret_keys[0].expose_secret(), " a,b ");
    }

    #[test]
    fn database_names_are_checked() {
        assert!(settings(&[("MONGODB_DATABASE", "a.b")]).is_err());
        assert_eq!(
            settings(&[("MONGODB_DATABASE", "tenant_1")])
                .unwrap()
                .database
                .name,
            "tenant_1"
        );
    }
}
