//! Every refused login takes the same time, whatever refused it: an unknown
//! user, a wrong password on an argon2id hash or on a legacy bcrypt one, an
//! inactive user, a role not allowed. Otherwise the time tells which usernames
//! exist (a bcrypt-12 check takes ~13x an argon2id one).
//!
//! A bcrypt hash can't be upgraded without its password, so refusals are padded
//! to a floor: the slowest kind of check this container has timed, per scheme
//! an estimate that jumps up to a slower check at once and comes down slowly.
//! The floor is the same whichever user was asked for. At
//! start-up both schemes are timed once in the background, so the floor holds
//! from the first request; a check slower than any seen before (a bcrypt cost
//! above 12) raises it from then on.

use crate::auth::password::{self, HashScheme};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Estimates of check times, in nanoseconds: argon2id, bcrypt.
static AVERAGE_NANOS: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];

/// The weight of a quicker sample, out of 8: the estimate comes down slowly
/// once checks get quicker (a noisy neighbour gone), so one quick check can't
/// leave the next refusals padded short. A slower sample is taken whole: an
/// average lagging a busier machine let a refusal outlast the floor (seen: 23%
/// over the quickest kind's median at a load of 12), and a floor too high only
/// costs refusals time.
const QUICKER_WEIGHT: u64 = 1;

fn slot(scheme: HashScheme) -> &'static AtomicU64 {
    match scheme {
        HashScheme::Argon2id => &AVERAGE_NANOS[0],
        HashScheme::Bcrypt => &AVERAGE_NANOS[1],
    }
}

/// Records how long a password check in `scheme` took.
pub fn record(scheme: HashScheme, took: Duration) {
    // What a check costs, in the binary that ran it: `scripts/bench` reads this
    // line to tell a login's time in the hash from the rest.
    tracing::debug!(
        scheme = ?scheme,
        took_us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
        "password check timed"
    );
    let sample = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
    let average = slot(scheme);
    let old = average.load(Ordering::Relaxed);
    let new = if sample >= old {
        sample
    } else {
        (old / 8).saturating_mul(8 - QUICKER_WEIGHT) + (sample / 8).saturating_mul(QUICKER_WEIGHT)
    };
    // Lambda runs one event at a time per container: a lost update between two
    // concurrent checks only costs one sample.
    average.store(new, Ordering::Relaxed);
}

/// The least time a refused login may take.
pub fn floor() -> Duration {
    let slowest = AVERAGE_NANOS
        .iter()
        .map(|average| average.load(Ordering::Relaxed))
        .max()
        .unwrap_or(0);
    Duration::from_nanos(slowest)
}

/// Waits until `started + floor()`: a refusal that was quicker than the
/// slowest check looks like it.
pub async fn pad_refusal(started: Instant) {
    tokio::time::sleep_until((started + floor()).into()).await;
}

/// Times one check of each scheme, on the blocking pool, so the floor is known
/// before the first refusal needs it.
pub fn spawn_calibration() {
    tokio::task::spawn_blocking(|| {
        for scheme in [HashScheme::Argon2id, HashScheme::Bcrypt] {
            let started = Instant::now();
            password::verify_dummy(scheme, "calibration");
            record(scheme, started.elapsed());
        }
        let floor_ms = floor().as_millis();
        tracing::info!(
            floor_ms,
            "refused logins padded to the slowest password check"
        );
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_floor_is_the_slowest_schemes_and_rises_at_once_but_falls_slowly() {
        record(HashScheme::Argon2id, Duration::from_millis(25));
        record(HashScheme::Bcrypt, Duration::from_millis(320));
        assert_eq!(floor(), Duration::from_millis(320));
        // A slower check raises it at once: no refusal may be quicker than it.
        record(HashScheme::Bcrypt, Duration::from_millis(720));
        assert_eq!(floor(), Duration::from_millis(720));
        // A quicker one brings it an eighth of the way down.
        record(HashScheme::Bcrypt, Duration::from_millis(320));
        assert_eq!(floor(), Duration::from_millis(670));
        // The quicker scheme never sets the floor.
        record(HashScheme::Argon2id, Duration::from_millis(30));
        assert_eq!(floor(), Duration::from_millis(670));
    }
}
