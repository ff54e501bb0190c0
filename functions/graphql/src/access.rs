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

/// The one table of root fields: every Query and Mutation field of the schema
/// (a test holds the two to the same set), who may call it by default, and
/// what the guard relaxes for it. A field that is not here is denied to
/// everyone, so a field added to the schema but not to this table is closed.
pub const ROOT_FIELDS: &[RootField] = &[
    RootField::new("me", SIGNED_IN).usable_during_password_change(),
    RootField::new("user", ADMIN),
    RootField::new("users", ADMIN),
    RootField::new("roles", ADMIN),
    RootField::new("sessions", SIGNED_IN),
    RootField::new("update_password", SIGNED_IN).usable_during_password_change(),
    RootField::new("create_user", ADMIN),
    RootField::new("update_user", ADMIN),
    RootField::new("delete_user", ADMIN),
    RootField::new("reset_password", ADMIN),
    RootField::new(REFRESH_TOKEN, EVERYONE).needs_no_live_token(),
    RootField::new("end_session", SIGNED_IN),
    RootField::new("end_other_sessions", SIGNED_IN),
];

pub const REFRESH_TOKEN: &str = "refresh_token";

/// Whose rule decides who may see (`User.sessions`) and end (`end_session`)
/// another user's sessions: `update_user`'s (default `admin`), since whoever
/// may deactivate a user can already end all their sessions. One's own
/// sessions are always one's own to see and end.
pub const OTHERS_SESSIONS_RULE: &str = "update_user";

/// `__typename` names the root type and nothing more: it is allowed wherever
/// the fields beside it are.
pub const TYPENAME: &str = "__typename";

/// Introspection's root fields (`__schema`, `__type`, `__typename`): GraphQL
/// reserves the `__` prefix for them, so no field of ours can take it. Whether
/// introspection answers at all is `GRAPHQL_INTROSPECTION`'s business.
pub fn is_introspection(field: &str) -> bool {
    field.starts_with("__")
}

const ADMIN: &[&str] = &["admin"];
const SIGNED_IN: &[&str] = &[IS_AUTHENTICATED];
const EVERYONE: &[&str] = &[IS_ANONYMOUSLY, IS_AUTHENTICATED];

/// One row of [`ROOT_FIELDS`].
#[derive(Debug, Clone, Copy)]
pub struct RootField {
    pub name: &'static str,
    /// Who may call it unless `GRAPHQL_ACCESS_CONTROL` says otherwise.
    pub default_roles: &'static [&'static str],
    /// A user whose password change is pending may still call it.
    pub password_change_exempt: bool,
    /// Its own input is the credential (a refresh token), so an access token
    /// sent along need not be live, only ours.
    pub needs_no_live_token: bool,
}

impl RootField {
    const fn new(name: &'static str, default_roles: &'static [&'static str]) -> Self {
        RootField {
            name,
            default_roles,
            password_change_exempt: false,
            needs_no_live_token: false,
        }
    }

    const fn usable_during_password_change(mut self) -> Self {
        self.password_change_exempt = true;
        self
    }

    const fn needs_no_live_token(mut self) -> Self {
        self.needs_no_live_token = true;
        self
    }
}

/// The row of a root field, if the schema has one by that name.
pub fn root_field(name: &str) -> Option<&'static RootField> {
    ROOT_FIELDS.iter().find(|field| field.name == name)
}

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
        let roles_by_field = ROOT_FIELDS
            .iter()
            .map(|field| {
                let roles = field.default_roles.iter().map(|r| (*r).to_owned());
                (field.name.to_owned(), roles.collect())
            })
            .collect();
        AccessRules { roles_by_field }
    }
}

impl AccessRules {
    /// The defaults, overridden by the rules in `json`.
    pub fn from_json(json: &str) -> Result<Self, AccessRulesError> {
        let rules: Vec<Rule> = serde_json::from_str(json).map_err(|_| AccessRulesError::Shape)?;
        let mut access = AccessRules::default();
        for rule in rules {
            if root_field(&rule.mutation).is_none() {
                return Err(AccessRulesError::UnknownField(rule.mutation));
            }
            access.roles_by_field.insert(rule.mutation, rule.roles);
        }
        Ok(access)
    }

    /// Whether a caller with `role` (`None`: anonymous) may resolve `field`.
    pub fn allows(&self, field: &str, role: Option<&str>) -> bool {
        let Some(roles) = self.roles_by_field.get(field) else {
            // Not in the table: closed, unless it is introspection.
            return is_introspection(field);
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

/// `GRAPHQL_INTROSPECTION`, as the access check sees it.
pub struct IntrospectionEnabled(pub bool);

/// The error for `__schema` / `__type` while introspection is off: tools then
/// say why, instead of failing on `{"__schema": null}`.
pub const INTROSPECTION_DISABLED: &str = "introspection is disabled";

/// Runs [`AccessRules::allows`] before every root field, and refuses
/// introspection while it is off.
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
        let introspection_off = || {
            !ctx.data_opt::<IntrospectionEnabled>()
                .is_some_and(|enabled| enabled.0)
        };
        if is_root && matches!(info.name, "__schema" | "__type") && introspection_off() {
            let position = Some(info.field.name.pos);
            return Err(ServerError::new(INTROSPECTION_DISABLED, position));
        }
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
        for signed_in in [
            "me",
            "update_password",
            "sessions",
            "end_session",
            "end_other_sessions",
        ] {
            assert!(rules.allows(signed_in, Some("support")));
            assert!(!rules.allows(signed_in, None));
        }
        assert!(rules.allows("refresh_token", None));
        assert!(rules.allows("refresh_token", Some("support")));
        assert!(rules.allows("__typename", None));
    }

    #[test]
    fn a_field_missing_from_the_table_is_denied_to_everyone_but_introspection_is_not() {
        let rules = AccessRules::default();
        for role in [None, Some("admin"), Some("support")] {
            assert!(!rules.allows("not_in_the_table", role), "{role:?}");
            assert!(rules.allows("__schema", role), "{role:?}");
        }
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
