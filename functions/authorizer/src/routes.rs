//! `ROUTE_ROLES`: which roles each of a team's routes admits, in API
//! Gateway's own terms: `{"GET /orders/*": ["admin","staff"], "ANY /reports/*":
//! ["admin"]}`. `*` stands for one or more path segments, `ANY` for every
//! method; the role `is_authenticated` admits any active user. A route no
//! pattern matches is judged by `ALLOWED_ROLES`; a route several match is
//! admitted only if every one of them admits the role (as IAM lets an explicit
//! `Deny` win over an `Allow`, so the policy says the same).

use shared::settings::{invalid, SettingsError};
use std::collections::BTreeMap;

/// The setting's name.
pub const ROUTE_ROLES: &str = "ROUTE_ROLES";

/// The special role that admits any active user.
pub const IS_AUTHENTICATED: &str = "is_authenticated";

const METHODS: [&str; 8] = [
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY",
];

/// One `METHOD /path` pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    /// Upper case; `ANY` for every method.
    pub method: String,
    /// The path's segments; `*` is one or more segments.
    pub segments: Vec<String>,
}

/// A route as API Gateway names it: a method and a path (its leading `/`
/// optional: segments are compared).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route<'a> {
    pub method: &'a str,
    pub path: &'a str,
}

impl Pattern {
    fn parse(text: &str) -> Option<Pattern> {
        let (method, path) = text.trim().split_once(' ')?;
        let method = method.to_ascii_uppercase();
        if !METHODS.contains(&method.as_str()) || !path.starts_with('/') {
            return None;
        }
        let segments: Vec<String> = path[1..]
            .split('/')
            .filter(|segment| !segment.is_empty())
            .map(str::to_owned)
            .collect();
        if path != "/" && path[1..].split('/').any(str::is_empty) {
            return None;
        }
        let wild_inside = |s: &String| s.contains('*') && s != "*";
        if segments.iter().any(wild_inside) {
            return None;
        }
        Some(Pattern { method, segments })
    }

    /// Whether `route` is one this pattern names.
    pub fn matches(&self, route: &Route<'_>) -> bool {
        let method_fits = self.method == "ANY" || self.method.eq_ignore_ascii_case(route.method);
        let path: Vec<&str> = route.path.split('/').filter(|s| !s.is_empty()).collect();
        method_fits && segments_match(&self.segments, &path)
    }

    /// The pattern as an `execute-api` resource below `api/stage/`: IAM's `*`
    /// matches any characters, slashes included, as ours matches segments.
    pub fn resource(&self) -> String {
        let method = if self.method == "ANY" {
            "*"
        } else {
            &self.method
        };
        format!("{method}/{}", self.segments.join("/"))
    }
}

fn segments_match(pattern: &[String], path: &[&str]) -> bool {
    match pattern.split_first() {
        None => path.is_empty(),
        Some((first, rest)) if first == "*" => {
            (1..=path.len()).any(|taken| segments_match(rest, &path[taken..]))
        }
        Some((first, rest)) => path
            .split_first()
            .is_some_and(|(segment, tail)| segment == first && segments_match(rest, tail)),
    }
}

/// Every pattern and the roles it admits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteRoles(Vec<(Pattern, Vec<String>)>);

/// How a pattern judges a role.
fn admits(roles: &[String], role: &str) -> bool {
    roles.iter().any(|r| r == role || r == IS_AUTHENTICATED)
}

impl RouteRoles {
    /// `ROUTE_ROLES`; unset or blank: no pattern. Anything else than an object
    /// of `"METHOD /path"` keys and non-empty lists of role names stops
    /// start-up, naming the setting.
    pub fn from_setting(raw: Option<&str>) -> Result<Self, SettingsError> {
        let Some(raw) = raw.map(str::trim).filter(|raw| !raw.is_empty()) else {
            return Ok(RouteRoles::default());
        };
        let expected = "expected a JSON object like {\"GET /orders/*\": [\"admin\"]}: \
                        METHOD /path keys (GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS or \
                        ANY; * for one or more segments) and non-empty lists of role names";
        let object: BTreeMap<String, Vec<String>> =
            serde_json::from_str(raw).map_err(|_| invalid(ROUTE_ROLES, expected))?;
        let mut patterns = Vec::with_capacity(object.len());
        for (key, roles) in object {
            let pattern = Pattern::parse(&key).ok_or_else(|| invalid(ROUTE_ROLES, expected))?;
            if roles.is_empty() || roles.iter().any(|role| role.trim().is_empty()) {
                return Err(invalid(ROUTE_ROLES, expected));
            }
            patterns.push((pattern, roles));
        }
        Ok(RouteRoles(patterns))
    }

    /// Whether `role` may use `route`: every matching pattern admits it, or,
    /// if none matches, `fallback` (`ALLOWED_ROLES`) does.
    pub fn permits(&self, route: &Route<'_>, role: &str, fallback: bool) -> bool {
        let mut matching = self
            .0
            .iter()
            .filter(|(pattern, _)| pattern.matches(route))
            .peekable();
        if matching.peek().is_none() {
            return fallback;
        }
        matching.all(|(_, roles)| admits(roles, role))
    }

    /// Whether `role` may use any route at all: `fallback` (`ALLOWED_ROLES`)
    /// admits it, or a pattern does.
    pub fn permits_somewhere(&self, role: &str, fallback: bool) -> bool {
        fallback || self.0.iter().any(|(_, roles)| admits(roles, role))
    }

    /// The patterns that admit `role`, and those that don't.
    pub fn split_for(&self, role: &str) -> (Vec<&Pattern>, Vec<&Pattern>) {
        let (admitting, refusing): (Vec<_>, Vec<_>) =
            self.0.iter().partition(|(_, roles)| admits(roles, role));
        (
            admitting.into_iter().map(|(p, _)| p).collect(),
            refusing.into_iter().map(|(p, _)| p).collect(),
        )
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles(json: &str) -> RouteRoles {
        RouteRoles::from_setting(Some(json)).unwrap()
    }

    fn route<'a>(method: &'a str, path: &'a str) -> Route<'a> {
        Route { method, path }
    }

    #[test]
    fn a_star_is_one_or_more_segments() {
        let rules = roles(r#"{"GET /orders/*": ["staff"]}"#);
        assert!(rules.permits(&route("GET", "/orders/1"), "staff", false));
        assert!(rules.permits(&route("GET", "/orders/1/items"), "staff", false));
        assert!(!rules.permits(&route("GET", "/orders/1"), "guest", true));
        // `/orders` itself has no segment for the star: no pattern, fallback.
        assert!(rules.permits(&route("GET", "/orders"), "guest", true));
        assert!(!rules.permits(&route("GET", "/orders"), "staff", false));
    }

    #[test]
    fn a_star_inside_a_path_and_any_method() {
        let rules = roles(r#"{"ANY /shops/*/orders": ["admin"]}"#);
        for method in ["GET", "POST", "DELETE"] {
            assert!(rules.permits(&route(method, "/shops/a/b/orders"), "admin", false));
            assert!(!rules.permits(&route(method, "/shops/a/orders"), "staff", true));
        }
        assert!(rules.permits(&route("GET", "/shops/a/orders/1"), "staff", true));
    }

    #[test]
    fn every_matching_pattern_must_admit_the_role() {
        let rules = roles(r#"{"ANY /reports/*": ["admin"], "GET /reports/*": ["admin", "staff"]}"#);
        assert!(!rules.permits(&route("GET", "/reports/q1"), "staff", true));
        assert!(rules.permits(&route("GET", "/reports/q1"), "admin", false));
    }

    #[test]
    fn is_authenticated_admits_every_role() {
        let rules = roles(r#"{"GET /me": ["is_authenticated"]}"#);
        assert!(rules.permits(&route("GET", "/me"), "anything", false));
    }

    #[test]
    fn malformed_values_name_the_setting() {
        for bad in [
            "[]",
            "{",
            r#"{"GET orders": ["a"]}"#,
            r#"{"FETCH /orders": ["a"]}"#,
            r#"{"GET /orders": []}"#,
            r#"{"GET /orders": [""]}"#,
            r#"{"GET /orders": "admin"}"#,
            r#"{"GET /ord*": ["a"]}"#,
            r#"{"GET /a//b": ["a"]}"#,
        ] {
            let err = RouteRoles::from_setting(Some(bad)).unwrap_err();
            assert!(err.to_string().contains(ROUTE_ROLES), "{bad}: {err}");
        }
        assert!(RouteRoles::from_setting(None).unwrap().is_empty());
        assert!(RouteRoles::from_setting(Some("  ")).unwrap().is_empty());
    }

    #[test]
    fn a_pattern_as_a_resource_uses_iams_wildcards() {
        let rules = roles(r#"{"ANY /reports/*": ["admin"], "POST /orders": ["admin"]}"#);
        let (admitting, _) = rules.split_for("admin");
        let resources: Vec<String> = admitting.iter().map(|p| p.resource()).collect();
        assert_eq!(resources, ["*/reports/*", "POST/orders"]);
    }
}
