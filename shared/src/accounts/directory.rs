//! Reading users and roles for administration (the GraphQL queries).

use crate::auth::password::HashScheme;
use crate::ids::{UserId, Username};
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

/// A user by username, with its role.
pub async fn user_named(
    store: &Store,
    username: &Username,
) -> Result<Option<UserRecord>, StoreError> {
    store.user_by_username(username).await
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

/// How many users' passwords are stored in each scheme (`auth-admin
/// hash-report`): while any is argon2id, the Python service can't verify it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct HashReport {
    pub bcrypt: u64,
    pub argon2id: u64,
    pub other: u64,
}

pub async fn hash_report(store: &Store) -> Result<HashReport, StoreError> {
    let mut report = HashReport::default();
    for hash in store.password_hashes().await? {
        match HashScheme::of(&hash) {
            Some(HashScheme::Bcrypt) => report.bcrypt += 1,
            Some(HashScheme::Argon2id) => report.argon2id += 1,
            None => report.other += 1,
        }
    }
    Ok(report)
}

pub async fn roles(store: &Store) -> Result<Vec<RoleRecord>, StoreError> {
    store.all_roles().await
}
