//! The schema: queries, mutations, their types, limits and access control.

mod errors;
mod mutation;
mod query;
mod types;

pub use mutation::Mutation;
pub use query::Query;

use crate::access::{AccessControl, AccessRules, IntrospectionEnabled};
use async_graphql::{Context, EmptySubscription, Schema};
use shared::auth::guard::{Caller, SentAlong};
use shared::http::Origin;
use shared::App;
use std::sync::Arc;

pub use errors::is_outage;

pub type AuthSchema = Schema<Query, Mutation, EmptySubscription>;

/// Nesting deeper than `users { edges { node { role { name } } } }` needs.
pub const MAX_DEPTH: usize = 8;
/// Fields, with a list field counting once per item asked for; a full page of
/// 100 users with every field is about 800.
pub const MAX_COMPLEXITY: usize = 1000;

/// Who is calling, for one request.
#[derive(Default)]
pub struct Identity {
    /// The authenticated caller, if a valid access token came with the request.
    pub caller: Option<Caller>,
    /// The access token that came with the request: the caller's (live), or,
    /// for a refresh-only request, a validly signed one, expired or not.
    pub sent_along: Option<SentAlong>,
}

pub fn build(app: Arc<App>, access: AccessRules, introspection: bool) -> AuthSchema {
    let builder = Schema::build(Query, Mutation, EmptySubscription)
        .data(app)
        .data(access)
        .data(IntrospectionEnabled(introspection))
        .extension(AccessControl)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .limit_directives(10);
    if introspection {
        builder.finish()
    } else {
        builder.disable_introspection().finish()
    }
}

/// The schema in SDL, as clients see it.
pub fn sdl() -> String {
    Schema::build(Query, Mutation, EmptySubscription)
        .finish()
        .sdl()
}

fn app<'a>(ctx: &Context<'a>) -> &'a App {
    ctx.data_unchecked::<Arc<App>>()
}

/// The request's [`Identity`] (shared by the operations of a batch).
fn identity<'a>(ctx: &Context<'a>) -> &'a Identity {
    static ANONYMOUS: Identity = Identity {
        caller: None,
        sent_along: None,
    };
    ctx.data_opt::<Arc<Identity>>()
        .map(Arc::as_ref)
        .unwrap_or(&ANONYMOUS)
}

/// Where the request came from, for the audit events.
fn origin<'a>(ctx: &Context<'a>) -> &'a Origin {
    static UNKNOWN: Origin = Origin {
        source_ip: None,
        request_id: None,
        user_agent: None,
    };
    ctx.data_opt::<Arc<Origin>>()
        .map(Arc::as_ref)
        .unwrap_or(&UNKNOWN)
}

/// Whether the caller may see and end another user's sessions: the roles the
/// rule of [`crate::access::OTHERS_SESSIONS_RULE`] admits.
fn may_manage_sessions(ctx: &Context<'_>) -> bool {
    let role = ctx
        .data_opt::<crate::access::CallerRole>()
        .and_then(|role| role.0.as_deref());
    ctx.data_opt::<AccessRules>()
        .is_some_and(|rules| rules.allows(crate::access::OTHERS_SESSIONS_RULE, role))
        && role.is_some()
}

#[cfg(test)]
mod tests {
    use super::sdl;

    /// `schema.graphql` is the schema as committed; a change to the schema must
    /// change that file too (`UPDATE_SCHEMA=1 cargo test -p graphql` rewrites it).
    #[test]
    fn the_committed_sdl_matches_the_schema() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
        let current = sdl();
        if std::env::var_os("UPDATE_SCHEMA").is_some() {
            std::fs::write(path, &current).unwrap();
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert_eq!(
            committed, current,
            "schema.graphql is stale: UPDATE_SCHEMA=1 cargo test -p graphql"
        );
    }

    /// The access table and the schema name the same root fields, so a new
    /// field can't be added to one and forgotten in the other.
    #[test]
    fn the_access_table_lists_exactly_the_schemas_root_fields() {
        use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
        use std::collections::BTreeSet;
        let document = async_graphql::parser::parse_schema(sdl()).expect("the SDL parses");
        let mut in_schema = BTreeSet::new();
        for definition in &document.definitions {
            let TypeSystemDefinition::Type(ty) = definition else {
                continue;
            };
            let name = ty.node.name.node.as_str();
            if let ("Query" | "Mutation", TypeKind::Object(object)) = (name, &ty.node.kind) {
                in_schema.extend(object.fields.iter().map(|f| f.node.name.node.to_string()));
            }
        }
        let in_table: BTreeSet<String> = crate::access::ROOT_FIELDS
            .iter()
            .map(|field| field.name.to_owned())
            .collect();
        assert_eq!(in_table, in_schema);
    }

    #[test]
    fn every_name_is_snake_case_as_the_seed_writes_them() {
        let sdl = sdl();
        for expected in [
            "update_password(input: UpdatePasswordInput!): UpdatePassword\n",
            "current_password: String!",
            "password_confirmed: String!",
            "change_password: Boolean!",
            "refresh_token(input: RefreshTokenInput!): RefreshToken\n",
            "page_info: PageInfo!",
            "input CreateUserInput",
        ] {
            assert!(sdl.contains(expected), "missing {expected:?} in\n{sdl}");
        }
        for camel in [
            "updatePassword",
            "currentPassword",
            "changePassword",
            "pageInfo",
            "hasNextPage",
        ] {
            assert!(!sdl.contains(camel), "camelCase {camel:?} in\n{sdl}");
        }
        assert!(!sdl.contains("password_hash"));
    }
}
