use super::errors::{from_store, id_not_valid, unauthorized};
use super::types::{sessions_of, PageInfo, Role, Session, User, UserConnection, UserEdge};
use super::{app, identity};
use crate::ids;
use async_graphql::{Context, Object, Result, ID};
use shared::accounts::directory;

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
        let id = ids::user_id(&id).ok_or_else(id_not_valid)?;
        let user = directory::user(&app(ctx).store, id)
            .await
            .map_err(from_store)?;
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
        let page_size = match u32::try_from(first) {
            Ok(size) if (1..=MAX_PAGE).contains(&first) => size,
            _ => {
                return Err(async_graphql::Error::new(format!(
                    "first must be between 1 and {MAX_PAGE}"
                )))
            }
        };
        let after = match after {
            Some(cursor) => Some(ids::user_id(&cursor).ok_or_else(id_not_valid)?),
            None => None,
        };
        let page = directory::users_page(&app(ctx).store, after, page_size)
            .await
            .map_err(from_store)?;
        let edges: Vec<UserEdge> = page
            .users
            .into_iter()
            .map(|user| UserEdge {
                // A cursor is the user's global id: opaque, stable across pages.
                cursor: ids::to_global("User", &user.id),
                node: User(user),
            })
            .collect();
        Ok(Some(UserConnection {
            page_info: PageInfo {
                has_next_page: page.has_next_page,
                has_previous_page: after.is_some(),
                start_cursor: edges.first().map(|e| e.cursor.clone()),
                end_cursor: edges.last().map(|e| e.cursor.clone()),
            },
            edges,
        }))
    }

    /// The caller's live sessions, oldest first; the one of this request's
    /// access token is `current`.
    async fn sessions(&self, ctx: &Context<'_>) -> Result<Option<Vec<Session>>> {
        let caller = identity(ctx).caller.as_ref().ok_or_else(unauthorized)?;
        Ok(Some(sessions_of(ctx, caller.user.id).await?))
    }

    async fn roles(&self, ctx: &Context<'_>) -> Result<Option<Vec<Role>>> {
        let roles = directory::roles(&app(ctx).store)
            .await
            .map_err(from_store)?;
        Ok(Some(roles.into_iter().map(Role).collect()))
    }
}
