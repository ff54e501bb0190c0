//! Reading users and roles for administration (the GraphQL queries).

use crate::ids::UserId;
use crate::store::{RoleRecord, Store, StoreError, UserRecord};

/// One page of users in creation order.
pub struct UserPage {
    pub users: Vec<UserRecord>,
    pub has_next_page: bool,
}

/// A user by id, with its role; `None` if there is none.
pub async fn user(store: &Store, id: UserId) -> Result<Option<UserRecord>, StoreError> {
    store.user_by_id(id).await
}

/// At most `first` users after `after`, each with its role: two commands, sent
/// concurrently (one more user than asked tells whether there is a next page).
pub async fn users_page(
    store: &Store,
    after: Option<UserId>,
    first: u32,
) -> Result<UserPage, StoreError> {
    let (mut users, roles) = tokio::try_join!(
        store.users_page(after, i64::from(first) + 1),
        store.all_roles()
    )?;
    let first = usize::try_from(first).unwrap_or(usize::MAX);
    let has_next_page = users.len() > first;
    users.truncate(first);
    for user in &mut users {
        user.attach_role(&roles);
    }
    Ok(UserPage {
        users,
        has_next_page,
    })
}

pub async fn roles(store: &Store) -> Result<Vec<RoleRecord>, StoreError> {
    store.all_roles().await
}
