//! `PROTECTED_ROLES`: only a holder of a protected role may give one, or touch
//! an account that has one, so administration can be delegated (to `support`,
//! say) without letting the delegate make or take over an admin.

use super::error::AccountError;
use crate::http::request::Origin;
use crate::ids::{UserId, Username};
use crate::runtime::audit::{Event, Record};
use crate::settings::ProtectedRoles;
use crate::store::{RoleRecord, Store, UserRecord};

/// Who asks for a change to an account other than their own, as
/// `PROTECTED_ROLES` and the audit trail see them.
#[derive(Debug, Clone, Copy)]
pub enum Actor<'a> {
    /// An operator with the database's credentials (`auth-admin`): unrestricted.
    Operator,
    /// A request with this role (`""` for none), by the signed-in user `user`
    /// if there is one, from `origin`.
    Caller {
        role: &'a str,
        protected: &'a ProtectedRoles,
        user: Option<(UserId, &'a Username)>,
        origin: &'a Origin,
    },
}

impl Actor<'_> {
    /// Writes `event` about the account `user_id` (named `username`, when
    /// known), with this actor as its actor.
    pub(crate) fn record(&self, event: Event, user_id: UserId, username: Option<&Username>) {
        let mut record = Record {
            user_id: Some(user_id),
            username,
            ..Record::default()
        };
        if let Actor::Caller { user, origin, .. } = self {
            record.origin = Some(origin);
            record.actor_id = user.map(|(id, _)| id);
            record.actor = user.map(|(_, name)| name);
        }
        event.record(&record);
    }

    /// Whether this actor may create, change or remove an account with `role`:
    /// only a caller whose own role is protected may touch a protected one, so
    /// a delegated administrator can't make or take over an admin.
    pub(crate) fn may_manage(&self, role: Option<&RoleRecord>) -> bool {
        match self {
            Actor::Operator => true,
            Actor::Caller {
                role: own,
                protected,
                ..
            } => protected.contains(own) || role.is_none_or(|role| !protected.contains(&role.name)),
        }
    }

    /// Whether the target must be read before the change, to check its role.
    fn needs_target_role(&self) -> bool {
        matches!(self, Actor::Caller { role, protected, .. } if !protected.contains(role))
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
