//! Who may call which root field: the Python package's `MutationMiddleware` list,
//! `[{"mutation": "create_user", "roles": ["admin"]}, ...]`, applied to queries
//! too (by field name), with its special roles `is_authenticated` (any signed-in
//! user) and `is_anonymously` (callers without a token).
//!
//! Configured rules replace the defaults field by field; a field nobody listed
//! keeps its default, so a partial list can't open administration by accident.
//! A denied field is an `unauthorized` error for that field; the other fields of
//! the request still run.

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextResolve, ResolveInfo,
};
use async_graphql::{ServerError, ServerResult, Value};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;

pub const IS_AUTHENTICATED: &str = "is_authenticated";
pub const IS_ANONYMOUSLY: &str = "is_anonymously";

/// Every root field of the schema; a rule for anything else is a typo.
pub const ROOT_FIELDS: &[&str] = &[
    "me",
    "user",
    "users",
    "roles",
    "update_password",
    "create_user",
    "update_user",
    "delete_user",
    "reset_password",
    "refresh_token",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRules {
    roles_by_field: HashMap<String, Vec<String>>,
}

#[derive(Debug, thiserror::Error)]
pub enum AccessRulesError {
    #[error("expected a JSON list of {{\"mutation\": name, \"roles\": [role, ...]}}")]
    Shape,
    #[error("no field named {0}")]
    UnknownField(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Rule {
    /// The Python package's key; `field` is accepted as its clearer synonym.
    #[serde(alias = "field", alias = "query")]
    mutation: String,
    roles: Vec<String>,
}

impl Default for AccessRules {
    fn default() -> Self {
        let admin = vec!["admin".to_owned()];
        let anyone_signed_in = vec![IS_AUTHENTICATED.to_owned()];
        let everyone = vec![IS_ANONYMOUSLY.to_owned(), IS_AUTHENTICATED.to_owned()];
        let mut roles_by_field = HashMap::new();
        for field in [
            "user",
            "users",
            "roles",
            "create_user",
            "update_user",
            "delete_user",
            "reset_password",
        ] {
            roles_by_field.insert(field.to_owned(), admin.clone());
        }
        for field in ["me", "update_password"] {
            roles_by_field.insert(field.to_owned(), anyone_signed_in.clone());
        }
        roles_by_field.insert("refresh_token".to_owned(), everyone);
        AccessRules { roles_by_field }
    }
}

impl AccessRules {
    /// The defaults, overridden by the rules in `json`.
    pub fn from_json(json: &str) -> Result<Self, AccessRulesError> {
        let rules: Vec<Rule> = serde_json::from_str(json).map_err(|_| AccessRulesError::Shape)?;
        let mut access = AccessRules::default();
        for rule in rules {
            if !ROOT_FIELDS.contains(&rule.mutation.as_str()) {
                return Err(AccessRulesError::UnknownField(rule.mutation));
            }
            access.roles_by_field.insert(rule.mutation, rule.roles);
        }
        Ok(access)
    }

    /// Whether a caller with `role` (`None`: anonymous) may resolve `field`.
    pub fn allows(&self, field: &str, role: Option<&str>) -> bool {
        let Some(roles) = self.roles_by_field.get(field) else {
            // Not one of ours (`__typename`): nothing to protect.
            return true;
        };
        let has = |name: &str| roles.iter().any(|r| r == name);
        match role {
            None => has(IS_ANONYMOUSLY),
            Some(role) => has(IS_AUTHENTICATED) || has(role),
        }
    }
}

/// The caller's role for this request, as the access check sees it.
pub struct CallerRole(pub Option<String>);

/// Runs [`AccessRules::allows`] before every root field.
pub struct AccessControl;

impl ExtensionFactory for AccessControl {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(AccessControlExtension)
    }
}

struct AccessControlExtension;

#[async_graphql::async_trait::async_trait]
impl Extension for AccessControlExtension {
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let is_root = info.path_node.parent.is_none();
        if is_root && !info.is_for_introspection {
            let rules = ctx.data_opt::<AccessRules>();
            let role = ctx.data_opt::<CallerRole>().and_then(|r| r.0.as_deref());
            let allowed = rules.is_some_and(|rules| rules.allows(info.name, role));
            if !allowed {
                return Err(ServerError::new("unauthorized", Some(info.field.name.pos)));
            }
        }
        next.run(ctx, info).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_follow_the_contract() {
        let rules = AccessRules::default();
        for admin_only in [
            "create_user",
            "update_user",
            "delete_user",
            "reset_password",
            "user",
            "users",
            "roles",
        ] {
            assert!(rules.allows(admin_only, Some("admin")), "{admin_only}");
            assert!(!rules.allows(admin_only, Some("support")), "{admin_only}");
            assert!(!rules.allows(admin_only, None), "{admin_only}");
        }
        for signed_in in ["me", "update_password"] {
            assert!(rules.allows(signed_in, Some("support")));
            assert!(!rules.allows(signed_in, None));
        }
        assert!(rules.allows("refresh_token", None));
        assert!(rules.allows("refresh_token", Some("support")));
        assert!(rules.allows("__typename", None));
    }

    #[test]
    fn configured_rules_replace_defaults_field_by_field() {
        let rules = AccessRules::from_json(
            r#"[{"mutation":"create_user","roles":["admin","support"]},{"field":"roles","roles":["is_authenticated"]}]"#,
        )
        .unwrap();
        assert!(rules.allows("create_user", Some("support")));
        assert!(rules.allows("roles", Some("guest")));
        assert!(
            !rules.allows("delete_user", Some("support")),
            "unlisted fields keep their default"
        );
    }

    #[test]
    fn typos_and_bad_shapes_are_refused() {
        assert!(matches!(
            AccessRules::from_json(r#"[{"mutation":"create_usr","roles":["admin"]}]"#),
            Err(AccessRulesError::UnknownField(name)) if name == "create_usr"
        ));
        assert!(AccessRules::from_json(r#"{"mutation":"create_user"}"#).is_err());
        assert!(AccessRules::from_json(r#"[{"mutation":"create_user","roles":"admin"}]"#).is_err());
    }
}
