//! The `login_attempt` collection: failed-login counts per username and per
//! source IP. A collection of its own, because the Python service loads `user`
//! strictly; its entries expire by TTL (`expires_at`).
//!
//! Times are the calling container's clock, passed in, so one request compares
//! and writes with one clock.

use super::records::number;
use super::{bounded, Store, StoreError, MAX_TIME};
use crate::ids::Username;
use mongodb::bson::{doc, DateTime, Document};
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

pub(super) fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

impl Store {
    pub(super) fn attempts(&self) -> mongodb::Collection<Document> {
        self.db.collection(LOGIN_ATTEMPT)
    }

    /// Counts an attempt on `username` before its password is checked,
    /// atomically, unless the username is locked. Failure number n >=
    /// `max_failures` locks it, while its password is checked, for
    /// `check_time` (how long the refusal will take) plus min(`base_lock` *
    /// 2^(n - max), `max_lock`): concurrent guesses, in any number of
    /// containers, check at most `max_failures` passwords, and the lock's
    /// length counts from the refusal's answer. A success clears the count
    /// ([`Store::clear_attempts`]); a failure leaves it counted. Failures are
    /// forgotten once the entry has been quiet for `max_lock`; an entry past
    /// its `expires_at` is a fresh one, whether or not the TTL monitor (every
    /// ~60 s, best-effort on DocumentDB) has deleted it yet.
    ///
    /// Classic update operators only (MongoDB 4.4+ and DocumentDB 5.0), so
    /// the rule lives in the filters:
    /// 1. One `findAndModify` counts the attempt (`$inc`), with an upsert,
    ///    only if the entry is alive and either below the maximum with no
    ///    lock, or its last lock has passed; it also drops that passed lock.
    ///    So once a count reaches the maximum, nobody else is counted until
    ///    the request that made it has written its lock: at most one attempt
    ///    per count n >= max is ever checked, and count n's lock length comes
    ///    from n, read from the document after this very update.
    /// 2. If the count reached the maximum, the request that made it (its
    ///    `attempt` marker is still on the entry) writes its lock: one more
    ///    command, on that request only. If it never comes (a crash), the
    ///    entry stays closed until its `expires_at`, `max_lock` later: never
    ///    more checks, at worst a lock of `max_lock`.
    ///
    /// When the filter misses, the upsert's insert collides with the entry's
    /// `_id` (E11000), and one read of the entry says why: locked (or a lock
    /// being written) is a refusal; expired is reset by a conditional update
    /// that only one concurrent request can win; otherwise it was a lost
    /// insert race (two first attempts at once) and the count is retried once.
    pub async fn reserve_attempt(
        &self,
        username: &Username,
        now: DateTime,
        check_time: Duration,
        limits: &crate::settings::LockoutSettings,
    ) -> Result<Reservation, StoreError> {
        let key = user_key(username);
        // The entry names the last attempt it counted; the document after the
        // update tells whether that is this one. (Not the document before: the
        // test server can answer a stale one after retrying a write conflict.)
        let attempt = uuid::Uuid::new_v4().to_string();
        let rule = LockRule {
            now,
            check_time,
            max: i64::from(limits.max_failures),
            base_lock: limits.base_lock,
            max_lock: limits.max_lock,
        };
        bounded(async {
            // The first try, and one retry after a lost insert race.
            for _ in 0..2 {
                let failures = match self.count_attempt(&key, &attempt, &rule).await {
                    Ok(Some(failures)) => failures,
                    Ok(None) => return Ok(rule.refused(None)),
                    Err(StoreError::Duplicate) => match self.attempt_blocked(&key, &rule).await? {
                        Blocked::Refused(until) => return Ok(rule.refused(Some(until))),
                        Blocked::Expired(expires_at) => {
                            match self
                                .restart_attempts(&key, &attempt, expires_at, &rule)
                                .await?
                            {
                                Some(failures) => failures,
                                None => continue,
                            }
                        }
                        Blocked::Raced => continue,
                    },
                    Err(err) => return Err(err),
                };
                if failures >= rule.max {
                    self.lock_attempts(&key, &attempt, rule.lock_after(failures), &rule)
                        .await?;
                }
                return Ok(Reservation {
                    counted: true,
                    locked_until: None,
                });
            }
            // Raced twice in a row: refused as a lock of a second, never counted.
            Ok(rule.refused(None))
        })
        .await
    }

    /// Step 1 of [`Store::reserve_attempt`]: the count after this attempt,
    /// if this call counted it.
    async fn count_attempt(
        &self,
        key: &str,
        attempt: &str,
        rule: &LockRule,
    ) -> Result<Option<i64>, StoreError> {
        let now = rule.now;
        let filter = doc! {
            "_id": key,
            "expires_at": { "$gt": now },
            "$or": [
                { "failures": { "$lt": rule.max }, "locked_until": { "$exists": false } },
                { "locked_until": { "$lte": now } },
            ],
        };
        let update = doc! {
            "$inc": { "failures": 1 },
            "$set": { "attempt": attempt, "last": now, "expires_at": rule.keep_after(now) },
            "$unset": { "locked_until": "" },
        };
        let after = self
            .attempts()
            .find_one_and_update(filter, update)
            .upsert(true)
            .return_document(ReturnDocument::After)
            .max_time(MAX_TIME)
            .await?;
        Ok(after
            .filter(|raw| raw.get_str("attempt") == Ok(attempt))
            .map(|raw| number(&raw, "failures")))
    }

    /// Why step 1's filter missed an entry that exists.
    async fn attempt_blocked(&self, key: &str, rule: &LockRule) -> Result<Blocked, StoreError> {
        let Some(raw) = self
            .attempts()
            .find_one(doc! { "_id": key })
            .max_time(MAX_TIME)
            .await?
        else {
            // Cleared meanwhile: count again.
            return Ok(Blocked::Raced);
        };
        let expires_at = raw.get_datetime("expires_at").ok().copied();
        if expires_at.is_none_or(|at| at <= rule.now) {
            return Ok(Blocked::Expired(expires_at));
        }
        let failures = number(&raw, "failures");
        match raw.get_datetime("locked_until").ok().copied() {
            Some(until) if until > rule.now => Ok(Blocked::Refused(until)),
            Some(_) => Ok(Blocked::Raced),
            // At the maximum with its lock not yet written: the lock its
            // writer is about to write.
            None if failures >= rule.max => Ok(Blocked::Refused(rule.lock_after(failures))),
            None => Ok(Blocked::Raced),
        }
    }

    /// An entry past its `expires_at` (the TTL monitor has not swept it yet)
    /// starts again at this attempt: the count after it (1), if this call won
    /// the restart. The filter names the expiry that was read, so of several
    /// concurrent restarts one wins and the others count on the new entry.
    async fn restart_attempts(
        &self,
        key: &str,
        attempt: &str,
        expired_at: Option<DateTime>,
        rule: &LockRule,
    ) -> Result<Option<i64>, StoreError> {
        let filter = match expired_at {
            Some(at) => doc! { "_id": key, "expires_at": at },
            None => doc! { "_id": key, "expires_at": { "$exists": false } },
        };
        let update = doc! {
            "$set": {
                "failures": 1,
                "attempt": attempt,
                "last": rule.now,
                "expires_at": rule.keep_after(rule.now),
            },
            "$unset": { "locked_until": "" },
        };
        let after = self
            .attempts()
            .find_one_and_update(filter, update)
            .return_document(ReturnDocument::After)
            .max_time(MAX_TIME)
            .await?;
        Ok(after
            .filter(|raw| raw.get_str("attempt") == Ok(attempt))
            .map(|raw| number(&raw, "failures")))
    }

    /// Step 2 of [`Store::reserve_attempt`]: the lock of the count this
    /// attempt made, written only while the entry still names this attempt
    /// (nobody else can be counted meanwhile; a clear makes it moot).
    async fn lock_attempts(
        &self,
        key: &str,
        attempt: &str,
        until: DateTime,
        rule: &LockRule,
    ) -> Result<(), StoreError> {
        self.attempts()
            .update_one(
                doc! { "_id": key, "attempt": attempt },
                doc! { "$set": { "locked_until": until, "expires_at": rule.keep_after(until) } },
            )
            .await?;
        Ok(())
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

/// The lock rule of one [`Store::reserve_attempt`] call.
struct LockRule {
    now: DateTime,
    check_time: Duration,
    max: i64,
    base_lock: Duration,
    max_lock: Duration,
}

impl LockRule {
    /// The lock that count `failures` (>= max) earns, from now.
    fn lock_after(&self, failures: i64) -> DateTime {
        let exponent = u32::try_from((failures - self.max).max(0)).unwrap_or(u32::MAX);
        let doubling = 2_i64.checked_pow(exponent).unwrap_or(i64::MAX);
        let lock = millis(self.base_lock).saturating_mul(doubling);
        let millis_ahead = millis(self.check_time).saturating_add(lock.min(millis(self.max_lock)));
        DateTime::from_millis(self.now.timestamp_millis().saturating_add(millis_ahead))
    }

    /// When an entry last touched at `at` is forgotten.
    fn keep_after(&self, at: DateTime) -> DateTime {
        DateTime::from_millis(at.timestamp_millis().saturating_add(millis(self.max_lock)))
    }

    /// Nothing counted; locked until `until` (a second from now if unknown).
    fn refused(&self, until: Option<DateTime>) -> Reservation {
        let second = DateTime::from_millis(self.now.timestamp_millis().saturating_add(1000));
        Reservation {
            counted: false,
            locked_until: Some(until.unwrap_or(second)),
        }
    }
}

/// Why an existing entry was not counted.
enum Blocked {
    /// Locked, or at the maximum with its lock being written, until then.
    Refused(DateTime),
    /// Past its `expires_at` (this one, if it has one): starts again.
    Expired(Option<DateTime>),
    /// Changed since (a lost insert race, a passed lock, a clear): count again.
    Raced,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(base_lock: u64, max_lock: u64) -> LockRule {
        LockRule {
            now: DateTime::from_millis(0),
            check_time: Duration::from_millis(300),
            max: 5,
            base_lock: Duration::from_secs(base_lock),
            max_lock: Duration::from_secs(max_lock),
        }
    }

    /// When count `failures`'s lock ends, in ms after the attempt was counted.
    fn lock_ends(rule: &LockRule, failures: i64) -> i64 {
        rule.lock_after(failures).timestamp_millis()
    }

    #[test]
    fn the_first_lock_lasts_the_base_and_each_later_one_doubles_up_to_the_cap() {
        let default = rule(1, 900);
        let ends: Vec<i64> = (5..=9).map(|n| lock_ends(&default, n)).collect();
        assert_eq!(ends, [1_300, 2_300, 4_300, 8_300, 16_300]);
        assert_eq!(lock_ends(&default, 15), 900_300);
        assert_eq!(lock_ends(&default, 80), 900_300);
        let long = rule(600, 900);
        assert_eq!(lock_ends(&long, 5), 600_300);
        assert_eq!(lock_ends(&long, 6), 900_300);
        assert_eq!(lock_ends(&rule(60, 30), 5), 30_300);
    }
}
