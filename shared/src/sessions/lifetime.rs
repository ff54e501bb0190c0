//! How long a session lives: the refresh token's lifetime
//! (`REFRESH_TOKEN_EXPIRE_MINUTES`), renewed by each refresh, under the
//! absolute cap from login (`SESSION_MAX_MINUTES`). One clock per request, so
//! everything a request compares and writes uses the same `now`.

use crate::runtime::app::App;
use crate::store::MetaRotation;
use mongodb::bson::DateTime;
use std::time::Duration;

/// The time of a request, and the two limits a session lives under.
#[derive(Debug, Clone, Copy)]
pub struct RotationClock {
    pub now: DateTime,
    pub refresh_lifetime: Duration,
    pub max_lifetime: Option<Duration>,
}

impl RotationClock {
    /// The clock of a request arriving `now` at `app`.
    pub fn of(app: &App, now: DateTime) -> Self {
        let minutes = u64::from(app.settings.refresh_token_expire_minutes);
        RotationClock {
            now,
            refresh_lifetime: Duration::from_secs(minutes * 60),
            max_lifetime: app.settings.sessions.max_lifetime,
        }
    }

    /// What a rotation at this clock writes: the database computes the new
    /// expiry from the session's own start (see [`RotationClock::expires_at`]).
    pub fn rotation(&self) -> MetaRotation {
        MetaRotation {
            now: self.now,
            refresh_expiry: add(self.now, self.refresh_lifetime),
            cap: self.max_lifetime,
        }
    }

    /// When a session started at `started_at` and refreshed now stops being
    /// refreshable: the refresh token's expiry or the cap, whichever is first.
    pub fn expires_at(&self, started_at: DateTime) -> DateTime {
        let refresh_expiry = add(self.now, self.refresh_lifetime);
        match self.max_lifetime {
            Some(cap) => refresh_expiry.min(add(started_at, cap)),
            None => refresh_expiry,
        }
    }

    /// The whitelist entry's `created_at` for a pair that stops being
    /// refreshable at `expires_at`: its TTL index sweeps it a refresh
    /// lifetime after that, so at `expires_at`. It is the time the pair was
    /// issued, except in the session's last refresh lifetime before the cap.
    pub fn entry_created_at(&self, expires_at: DateTime) -> DateTime {
        DateTime::from_millis(
            expires_at
                .timestamp_millis()
                .saturating_sub(millis(self.refresh_lifetime)),
        )
    }

    /// Whether a session started at `started_at` has reached the cap.
    pub fn past_cap(&self, started_at: DateTime) -> bool {
        self.max_lifetime
            .is_some_and(|cap| add(started_at, cap) <= self.now)
    }
}

fn add(at: DateTime, duration: Duration) -> DateTime {
    let millis = i64::try_from(duration.as_millis()).unwrap_or(i64::MAX);
    DateTime::from_millis(at.timestamp_millis().saturating_add(millis))
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: i64 = 60_000;

    fn clock(now: i64, cap_minutes: Option<u64>) -> RotationClock {
        RotationClock {
            now: DateTime::from_millis(now),
            refresh_lifetime: Duration::from_secs(10 * 60),
            max_lifetime: cap_minutes.map(|m| Duration::from_secs(m * 60)),
        }
    }

    #[test]
    fn a_session_expires_at_refresh_expiry_or_the_cap_whichever_is_first() {
        let started = DateTime::from_millis(0);
        // Far from the cap: the refresh token's expiry.
        let early = clock(5 * MINUTE, Some(60));
        assert_eq!(early.expires_at(started).timestamp_millis(), 15 * MINUTE);
        assert_eq!(early.entry_created_at(early.expires_at(started)), early.now);
        // Within a refresh lifetime of the cap: the cap, and the entry's
        // `created_at` that long before it.
        let late = clock(55 * MINUTE, Some(60));
        assert_eq!(late.expires_at(started).timestamp_millis(), 60 * MINUTE);
        assert_eq!(
            late.entry_created_at(late.expires_at(started))
                .timestamp_millis(),
            50 * MINUTE
        );
        // No cap: always the refresh expiry.
        let open = clock(55 * MINUTE, None);
        assert_eq!(open.expires_at(started).timestamp_millis(), 65 * MINUTE);
    }

    #[test]
    fn the_cap_is_reached_at_its_minute_and_never_without_one() {
        let started = DateTime::from_millis(0);
        assert!(!clock(60 * MINUTE - 1, Some(60)).past_cap(started));
        assert!(clock(60 * MINUTE, Some(60)).past_cap(started));
        assert!(!clock(i64::MAX / 2, None).past_cap(started));
    }
}
