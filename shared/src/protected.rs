//! `PROTECTED_ROLES`: only a holder of a protected role may give one, or touch
//! an account that has one, so administration can be delegated (to `support`,
//! say) without letting the delegate make or take over an admin.

use crate::accounts::AccountError;
use crate::ids::UserId;
use crate::settings::ProtectedRoles;
use crate::store::{RoleRecord, Store, UserRecord};

/// Who asks for a change to an account other than their own, as
/// `PROTECTED_ROLES` sees them.
#[derive(Debug, Clone, Copy)]
pub enum Actor<'a> {
    /// An operator with the database's credentials (`auth-admin`): unrestricted.
    Operator,
    /// A signed-in user with this role.
    Caller {
        role: &'a str,
        protected: &'a ProtectedRoles,
    },
}

impl Actor<'_> {
    /// Whether this actor may create, change or remove an account with `role`:
    /// only a caller whose own role is protected may touch a protected one, so
    /// a delegated administrator can't make or take over an admin.
    pub(crate) fn may_manage(&self, role: Option<&RoleRecord>) -> bool {
        match self {
            Actor::Operator => true,
            Actor::Caller {
                role: own,
                protected,
            } => protected.contains(own) || role.is_none_or(|role| !protected.contains(&role.name)),
        }
    }

    /// Whether the target must be read before the change, to check its role.
    fn needs_target_role(&self) -> bool {
        matches!(self, Actor::Caller { role, protected } if !protected.contains(role))
    }

    /// The target account's record, read when this actor must be checked
    /// against its role; `NotFound` or `Unauthorized` end the change there.
    pub(crate) async fn check_target(
        &self,
        store: &Store,
        user_id: UserId,
    ) -> Result<Option<UserRecord>, AccountError> {
        if !self.needs_target_role() {
            return Ok(None);
        }
        let user = store
            .user_by_id(user_id)
            .await?
            .ok_or(AccountError::NotFound)?;
        if !self.may_manage(user.role.as_ref()) {
            return Err(AccountError::Unauthorized);
        }
        Ok(Some(user))
    }
}
