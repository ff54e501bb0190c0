//! The `login_attempt` collection: failed-login counts per username and per
//! source IP. A collection of its own, because the Python service loads `user`
//! strictly; its entries expire by TTL (`expires_at`).
//!
//! Times are the calling container's clock, passed in, so one request compares
//! and writes with one clock.

use super::{bounded, Store, StoreError};
use crate::ids::Username;
use mongodb::bson::{doc, Bson, DateTime, Document};
use mongodb::options::ReturnDocument;
use std::time::Duration;

pub const LOGIN_ATTEMPT: &str = "login_attempt";

/// What [`Store::reserve_attempt`] did: counted this attempt, or found the
/// username locked (until `locked_until`) and counted nothing.
#[derive(Debug, Default)]
pub struct Reservation {
    pub counted: bool,
    pub locked_until: Option<DateTime>,
}

pub(super) fn user_key(username: &Username) -> String {
    format!("user:{username}")
}

pub(super) fn ip_key(ip: &str) -> String {
    format!("ip:{ip}")
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

impl Store {
    fn attempts(&self) -> mongodb::Collection<Document> {
        self.db.collection(LOGIN_ATTEMPT)
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
        username: &Username,
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
    pub async fn clear_attempts(&self, username: &Username) -> Result<bool, StoreError> {
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
pub(super) fn number(raw: &Document, field: &str) -> i64 {
    match raw.get(field) {
        Some(Bson::Int32(n)) => i64::from(*n),
        Some(Bson::Int64(n)) => *n,
        // Whole numbers only ever stored here: the cast loses nothing.
        #[allow(clippy::cast_possible_truncation)]
        Some(Bson::Double(n)) => *n as i64,
        _ => 0,
    }
}
