//! What login reads before it hashes anything: the user (with its role) and
//! the locks on its username and source IP, in one command. The user lives in
//! `user` ([`super::users`]); the locks in `login_attempt`
//! ([`super::attempts`]); this is the one read that spans both. (With every
//! lockout limit off, login reads only the user, `Store::user_by_username`.)

use super::attempts::{ip_key, number, user_key, LOGIN_ATTEMPT};
use super::records::{ROLE, USER};
use super::{bounded, Store, StoreError, UserRecord};
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
    /// The user (with its role) and both locks, in one command: the attempt
    /// entries, with the user brought along by `$unionWith` (a `$lookup` from
    /// `user` would bring nothing for an unknown username).
    pub async fn login_state(
        &self,
        username: &Username,
        ip: Option<&str>,
    ) -> Result<LoginState, StoreError> {
        let mut keys = vec![user_key(username)];
        keys.extend(ip.map(ip_key));
        let pipeline = [
            doc! { "$match": { "_id": { "$in": &keys } } },
            doc! { "$unionWith": { "coll": USER, "pipeline": [
                { "$match": { "username": username.as_str() } },
                { "$limit": 1 },
                { "$lookup": { "from": ROLE, "pipeline": [], "as": "roles" } },
            ] } },
        ];
        bounded(async {
            let mut cursor = self
                .db
                .collection::<Document>(LOGIN_ATTEMPT)
                .aggregate(pipeline)
                .await?;
            let mut state = LoginState::default();
            while cursor.advance().await? {
                let raw: Document = cursor.deserialize_current()?;
                match raw.get("_id") {
                    Some(Bson::String(key)) if *key == keys[0] => {
                        state.username_locked_until =
                            raw.get_datetime("locked_until").ok().copied();
                    }
                    Some(Bson::String(_)) => {
                        state.ip_failures = number(&raw, "failures");
                        state.ip_window_ends = raw.get_datetime("window_ends").ok().copied();
                    }
                    _ => state.user = Some(super::users::user_from_document(raw)?),
                }
            }
            Ok(state)
        })
        .await
    }
}
