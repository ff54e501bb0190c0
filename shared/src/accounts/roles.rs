//! Creating roles (`auth-admin role-new`).

use super::error::AccountError;
use crate::error::FieldErrors;
use crate::ids::RoleId;
use crate::store::{NewRole, Store, StoreError};
use crate::validate;
use mongodb::bson::Document;

/// Creates a role; its name must be new.
pub async fn create_role(
    store: &Store,
    name: &str,
    permissions: Document,
) -> Result<RoleId, AccountError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AccountError::Invalid(FieldErrors::from([(
            "name".to_owned(),
            vec![validate::EMPTY.to_owned()],
        )])));
    }
    if store.role_by_name(name).await?.is_some() {
        return Err(AccountError::RoleExists);
    }
    let role = NewRole {
        name: name.to_owned(),
        permissions,
    };
    match store.insert_role(&role).await {
        Ok(id) => Ok(id),
        Err(StoreError::Duplicate) => Err(AccountError::RoleExists),
        Err(err) => Err(err.into()),
    }
}
