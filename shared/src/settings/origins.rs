//! `CORS_ALLOWED_ORIGINS`: the origins whose browser pages may call the
//! functions (comma-separated; unset or empty: CORS is off). What the
//! functions do with them is [`crate::http::cors`]'s.

use super::source::invalid;
use super::SettingsError;

/// The origins whose pages may call the functions, each `scheme://host[:port]`
/// compared exactly (as browsers send `Origin`); empty: CORS is off.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedOrigins(Vec<String>);

impl AllowedOrigins {
    /// Parses `CORS_ALLOWED_ORIGINS`; `*` is refused, so the list is always
    /// the origins a team chose.
    pub fn parse(name: &'static str, raw: Option<&str>) -> Result<Self, SettingsError> {
        let origins: Vec<String> = raw
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|origin| !origin.is_empty())
            .map(str::to_owned)
            .collect();
        for origin in &origins {
            if !is_origin(origin) {
                return Err(invalid(
                    name,
                    "expected comma-separated origins like https://console.example.com \
                     (scheme and host, no path)",
                ));
            }
        }
        Ok(AllowedOrigins(origins))
    }

    pub fn is_off(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `origin`, as a browser sent it, is one of the allowed ones.
    pub fn contains(&self, origin: &str) -> bool {
        self.0.iter().any(|allowed| allowed == origin)
    }
}

/// `http(s)://host[:port]`: what a browser sends as `Origin`.
fn is_origin(text: &str) -> bool {
    let Some(rest) = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
    else {
        return false;
    };
    !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origins(raw: &str) -> Result<AllowedOrigins, SettingsError> {
        AllowedOrigins::parse("CORS_ALLOWED_ORIGINS", Some(raw))
    }

    #[test]
    fn empty_or_unset_turns_cors_off() {
        assert!(origins("").unwrap().is_off());
        assert!(origins(" , ").unwrap().is_off());
        assert!(AllowedOrigins::parse("CORS_ALLOWED_ORIGINS", None)
            .unwrap()
            .is_off());
    }

    #[test]
    fn origins_are_scheme_and_host_only() {
        let parsed = origins("https://a.example.com, http://localhost:5173").unwrap();
        assert_eq!(
            parsed,
            AllowedOrigins(vec![
                "https://a.example.com".into(),
                "http://localhost:5173".into()
            ])
        );
        for bad in ["*", "a.example.com", "https://a.example.com/", "https://"] {
            assert!(origins(bad).is_err(), "{bad}");
        }
    }
}
