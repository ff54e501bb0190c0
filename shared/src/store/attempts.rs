//! The `login_attempt` collection: failed-login counts per username and per
//! source IP. A collection of its own, because the Python service loads `user`
//! strictly; its entries expire by TTL (`expires_at`).
//!
//! Times are the calling container's clock, passed in, so one request compares
//! and writes with one clock.

use super::records::ROLE;
use super::{bounded, Store, StoreError, UserRecord};
use mongodb::bson::{doc, Bson, DateTime, Document};
use mongodb::options::ReturnDocument;
use std::time::Duration;

pub const LOGIN_ATTEMPT: &str = "login_attempt";

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

/// What [`Store::reserve_attempt`] did: counted this attempt, or found the
/// username locked (until `locked_until`) and counted nothing.
#[derive(Debug, Default)]
pub struct Reservation {
    pub counted: bool,
    pub locked_until: Option<DateTime>,
}

fn user_key(username: &str) -> String {
    format!("user:{username}")
}

fn ip_key(ip: &str) -> String {
    format!("ip:{ip}")
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

impl Store {
    fn attempts(&self) -> mongodb::Collection<Document> {
        self.db.collection(LOGIN_ATTEMPT)
    }

    /// The user (with its role) and both locks, in one command: the attempt
    /// entries, with the user brought along by `$unionWith` (a `$lookup` from
    /// `user` would bring nothing for an unknown username).
    pub async fn login_state(
        &self,
        username: &str,
        ip: Option<&str>,
    ) -> Result<LoginState, StoreError> {
        let mut keys = vec![user_key(username)];
        keys.extend(ip.map(ip_key));
        let pipeline = [
            doc! { "$match": { "_id": { "$in": &keys } } },
            doc! { "$unionWith": { "coll": super::records::USER, "pipeline": [
                { "$match": { "username": username } },
                { "$limit": 1 },
                { "$lookup": { "from": ROLE, "pipeline": [], "as": "roles" } },
            ] } },
        ];
        bounded(async {
            let mut cursor = self.attempts().aggregate(pipeline).await?;
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

    /// Counts an attempt on `username` before its password is checked, in one
    /// atomic command, unless the username is locked. Failure number n >=
    /// `max_failures` locks it at once, while its password is checked, for
    /// `check_time` (how long the refusal will take) plus min(2^(n - max),
    /// `max_lock`): concurrent guesses, in any number of containers, check at
    /// most `max_failures` passwords, and the lock's length counts from the
    /// refusal's answer. A success clears the count
    /// ([`Store::clear_attempts`]); a failure leaves it counted.
    pub async fn reserve_attempt(
        &self,
        username: &str,
        now: DateTime,
        check_time: Duration,
        max_failures: u32,
        max_lock: Duration,
    ) -> Result<Reservation, StoreError> {
        let epoch = DateTime::from_millis(0);
        // The entry names the last attempt it counted; the document after the
        // update tells whether that is this one. (Not the document before: the
        // test server can answer a stale one after retrying a write conflict.)
        let attempt = uuid::Uuid::new_v4().to_string();
        let max = i64::from(max_failures);
        let cap_seconds = i64::try_from(max_lock.as_secs()).unwrap_or(i64::MAX);
        // Failures are forgotten once the entry has been quiet for `max_lock`.
        let keep = millis(max_lock);
        let update = vec![
            doc! { "$set": { "_locked": { "$gt": [{ "$ifNull": ["$locked_until", epoch] }, now] } } },
            doc! { "$set": {
                "failures": { "$cond": [
                    "$_locked", "$failures", { "$add": [{ "$ifNull": ["$failures", 0] }, 1] },
                ] },
                "attempt": { "$cond": ["$_locked", "$attempt", &attempt] },
            } },
            doc! { "$set": { "locked_until": { "$cond": [
                { "$and": [{ "$eq": ["$attempt", &attempt] }, { "$gte": ["$failures", max] }] },
                { "$add": [now, millis(check_time), { "$multiply": [1000, { "$min": [
                    { "$pow": [2, { "$subtract": ["$failures", max] }] }, cap_seconds,
                ] }] }] },
                "$locked_until",
            ] } } },
            doc! { "$set": { "expires_at": { "$add": [
                { "$max": [{ "$ifNull": ["$locked_until", now] }, now] }, keep,
            ] } } },
            doc! { "$unset": "_locked" },
        ];
        bounded(async {
            let after = self
                .attempts()
                .find_one_and_update(doc! { "_id": user_key(username) }, update)
                .upsert(true)
                .return_document(ReturnDocument::After)
                .await?;
            // No document back: this attempt's upsert made it, so it counted.
            Ok(after.map_or(
                Reservation {
                    counted: true,
                    locked_until: None,
                },
                |raw| Reservation {
                    counted: raw.get_str("attempt") == Ok(attempt.as_str()),
                    locked_until: raw.get_datetime("locked_until").ok().copied(),
                },
            ))
        })
        .await
    }

    /// Counts a failure from `ip` in its window, starting a new window of
    /// `window` when the last one has ended.
    pub async fn record_ip_failure(
        &self,
        ip: &str,
        now: DateTime,
        window: Duration,
    ) -> Result<(), StoreError> {
        let epoch = DateTime::from_millis(0);
        let update = vec![
            doc! { "$set": { "_open": { "$gt": [{ "$ifNull": ["$window_ends", epoch] }, now] } } },
            doc! { "$set": {
                "failures": { "$cond": ["$_open", { "$add": ["$failures", 1] }, 1] },
                "window_ends": { "$cond": ["$_open", "$window_ends", { "$add": [now, millis(window)] }] },
            } },
            doc! { "$set": { "expires_at": "$window_ends" } },
            doc! { "$unset": "_open" },
        ];
        bounded(async {
            self.attempts()
                .update_one(doc! { "_id": ip_key(ip) }, update)
                .upsert(true)
                .await?;
            Ok(())
        })
        .await
    }

    /// Forgets the failures of `username` (a success, or `auth-admin unlock`);
    /// `true` if there were any.
    pub async fn clear_attempts(&self, username: &str) -> Result<bool, StoreError> {
        bounded(async {
            let result = self
                .attempts()
                .delete_one(doc! { "_id": user_key(username) })
                .await?;
            Ok(result.deleted_count == 1)
        })
        .await
    }
}

/// A count stored as int32, int64 or double (servers differ); 0 if absent.
fn number(raw: &Document, field: &str) -> i64 {
    match raw.get(field) {
        Some(Bson::Int32(n)) => i64::from(*n),
        Some(Bson::Int64(n)) => *n,
        // Whole numbers only ever stored here: the cast loses nothing.
        #[allow(clippy::cast_possible_truncation)]
        Some(Bson::Double(n)) => *n as i64,
        _ => 0,
    }
}
