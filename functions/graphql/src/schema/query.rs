use super::errors::{from_service, id_not_valid, unauthorized};
use super::types::{PageInfo, Role, User, UserConnection, UserEdge};
use super::{app, identity};
use crate::ids;
use async_graphql::{Context, Object, Result, ID};
use mongodb::bson::oid::ObjectId;
use shared::store::attach_role;

/// Page size when `first` is not given, and the most one page may hold.
const DEFAULT_PAGE: i32 = 20;
pub const MAX_PAGE: i32 = 100;

pub struct Query;

#[Object(rename_fields = "snake_case", rename_args = "snake_case")]
impl Query {
    /// The caller.
    async fn me(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let caller = identity(ctx).caller.as_ref().ok_or_else(unauthorized)?;
        let mut user = caller.user.clone();
        user.role = Some(caller.role.clone());
        Ok(Some(User(user)))
    }

    /// A user by id (global or bare ObjectId); `null` if there is none.
    async fn user(&self, ctx: &Context<'_>, id: ID) -> Result<Option<User>> {
        let id = ids::from_input("User", &id).ok_or_else(id_not_valid)?;
        let user = app(ctx)
            .store
            .user_by_id(id)
            .await
            .map_err(|e| from_service(e.into()))?;
        Ok(user.map(User))
    }

    /// Users in creation order, `first` at a time (at most 100) after the cursor
    /// `after`.
    #[graphql(
        complexity = "first.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE) as usize * child_complexity"
    )]
    async fn users(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Option<UserConnection>> {
        let first = first.unwrap_or(DEFAULT_PAGE);
        if !(1..=MAX_PAGE).contains(&first) {
            return Err(async_graphql::Error::new(format!(
                "first must be between 1 and {MAX_PAGE}"
            )));
        }
        let after = match after {
            Some(cursor) => Some(ids::from_input("User", &cursor).ok_or_else(id_not_valid)?),
            None => None,
        };
        let store = &app(ctx).store;
        // One more than asked tells whether there is a next page; the roles come
        // in a second command sent at the same time.
        let (users, roles) = tokio::try_join!(
            store.users_page(after, i64::from(first) + 1),
            store.all_roles()
        )
        .map_err(|e| from_service(e.into()))?;
        let has_next_page = users.len() > first as usize;
        let edges: Vec<UserEdge> = users
            .into_iter()
            .take(first as usize)
            .map(|mut user| {
                attach_role(&mut user, &roles);
                UserEdge {
                    cursor: cursor(&user.id),
                    node: User(user),
                }
            })
            .collect();
        Ok(Some(UserConnection {
            page_info: PageInfo {
                has_next_page,
                has_previous_page: after.is_some(),
                start_cursor: edges.first().map(|e| e.cursor.clone()),
                end_cursor: edges.last().map(|e| e.cursor.clone()),
            },
            edges,
        }))
    }

    async fn roles(&self, ctx: &Context<'_>) -> Result<Option<Vec<Role>>> {
        let roles = app(ctx)
            .store
            .all_roles()
            .await
            .map_err(|e| from_service(e.into()))?;
        Ok(Some(roles.into_iter().map(Role).collect()))
    }
}

/// A cursor is the user's global id: opaque to clients, stable across pages.
fn cursor(id: &ObjectId) -> String {
    ids::to_global("User", id)
}
