//! The per-IP failure windows in `login_attempt` (entries `ip:<address>`):
//! credential stuffing over many usernames from one address.

use super::attempts::{ip_key, millis};
use super::{bounded, Store, StoreError};
use mongodb::bson::{doc, DateTime};
use std::time::Duration;

impl Store {
    /// Counts a failure from `ip` in its window, starting a new window of
    /// `window` when the last one has ended (its entry's `expires_at` is the
    /// window's end, so an ended window is absent, swept or not).
    ///
    /// Classic operators only: one upsert counts within an open window, or
    /// makes the entry with the first failure of a new one (`$setOnInsert`).
    /// When the entry exists but its window has ended, that insert collides
    /// (E11000): a conditional update then starts the new window (one of
    /// several concurrent ones wins), and a loser's count is retried once.
    pub async fn record_ip_failure(
        &self,
        ip: &str,
        now: DateTime,
        window: Duration,
    ) -> Result<(), StoreError> {
        let key = ip_key(ip);
        let ends = DateTime::from_millis(now.timestamp_millis().saturating_add(millis(window)));
        let count = || async {
            self.attempts()
                .update_one(
                    doc! { "_id": &key, "window_ends": { "$gt": now } },
                    doc! {
                        "$inc": { "failures": 1 },
                        "$setOnInsert": { "window_ends": ends, "expires_at": ends },
                    },
                )
                .upsert(true)
                .await
                .map_err(StoreError::from)
        };
        bounded(async {
            match count().await {
                Err(StoreError::Duplicate) => {}
                other => return other.map(drop),
            }
            let restarted = self
                .attempts()
                .update_one(
                    doc! { "_id": &key, "window_ends": { "$not": { "$gt": now } } },
                    doc! { "$set": { "failures": 1, "window_ends": ends, "expires_at": ends } },
                )
                .await?;
            if restarted.matched_count == 0 {
                count().await?;
            }
            Ok(())
        })
        .await
    }
}
