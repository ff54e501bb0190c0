//! What login reads before it hashes anything: the user (with its role) and
//! the locks on its username and source IP, in one wait. The user lives in
//! `user` ([`super::users`]); the locks in `login_attempt`
//! ([`super::attempts`]); this is the one read that spans both. (With every
//! lockout limit off, login reads only the user, `Store::user_by_username`.)

use super::attempts::{ip_key, user_key, LOGIN_ATTEMPT};
use super::records::number;
use super::{bounded, Store, StoreError, UserRecord, MAX_TIME};
use crate::ids::Username;
use mongodb::bson::{doc, Bson, DateTime, Document};

/// What the login sees before it hashes anything: the user, and the locks on
/// the username and the source IP.
#[derive(Debug, Default)]
pub struct LoginState {
    pub user: Option<UserRecord>,
    /// Until when the username is locked, if it ever was.
    pub username_locked_until: Option<DateTime>,
    /// Failures from the source IP in its current window, and when it ends.
    pub ip_failures: i64,
    pub ip_window_ends: Option<DateTime>,
}

impl Store {
    /// The user (with its role) and both locks: two commands sent together,
    /// one wait. (One command before, with `$unionWith`, which DocumentDB
    /// supports only from 8.0.3.) Attempt entries past their `expires_at` at
    /// `now` are absent, whether or not the TTL monitor has swept them.
    pub async fn login_state(
        &self,
        username: &Username,
        ip: Option<&str>,
        now: DateTime,
    ) -> Result<LoginState, StoreError> {
        let user_id = user_key(username);
        let mut keys = vec![user_id.clone()];
        keys.extend(ip.map(ip_key));
        let filter = doc! { "_id": { "$in": &keys }, "expires_at": { "$gt": now } };
        let entries = bounded(async {
            let cursor = self
                .db
                .collection::<Document>(LOGIN_ATTEMPT)
                .find(filter)
                .max_time(MAX_TIME)
                .await?;
            super::collect(cursor).await
        });
        let (user, entries) = tokio::try_join!(self.user_by_username(username), entries)?;
        let mut state = LoginState {
            user,
            ..LoginState::default()
        };
        for raw in entries {
            match raw.get("_id") {
                Some(Bson::String(key)) if *key == user_id => {
                    state.username_locked_until = raw.get_datetime("locked_until").ok().copied();
                }
                Some(Bson::String(_)) => {
                    state.ip_failures = number(&raw, "failures");
                    state.ip_window_ends = raw.get_datetime("window_ends").ok().copied();
                }
                _ => {}
            }
        }
        Ok(state)
    }
}
