//! The `role` collection.

use super::{bounded, collect, inserted_id, NewRole, RoleRecord, Store, StoreError, MAX_TIME};
use crate::ids::RoleId;
use mongodb::bson::doc;

impl Store {
    pub async fn role_by_name(&self, name: &str) -> Result<Option<RoleRecord>, StoreError> {
        bounded(async {
            Ok(self
                .roles::<RoleRecord>()
                .find_one(doc! { "name": name })
                .max_time(MAX_TIME)
                .await?)
        })
        .await
    }

    /// Inserts a role; [`StoreError::Duplicate`] if the name is taken.
    pub async fn insert_role(&self, role: &NewRole) -> Result<RoleId, StoreError> {
        bounded(async { inserted_id(self.roles::<NewRole>().insert_one(role).await?) })
            .await
            .map(RoleId::from)
    }

    pub async fn all_roles(&self) -> Result<Vec<RoleRecord>, StoreError> {
        bounded(async {
            let roles = self.roles::<RoleRecord>();
            collect(roles.find(doc! {}).max_time(MAX_TIME).await?).await
        })
        .await
    }
}
