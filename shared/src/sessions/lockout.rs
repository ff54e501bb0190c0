//! Brute-force resistance for every password check: per username (known or
//! not, so nothing is enumerated) and, at login, per source IP. One count per
//! username across login and `update_password`'s current password: a guess
//! is a guess. The counts live in MongoDB and hold across
//! containers and concurrent requests: an attempt is counted atomically before
//! its password is checked, so N concurrent wrong guesses check at most
//! `LOGIN_MAX_FAILURES` passwords.
//!
//! Costs: a locked attempt, 2 commands in 1 wait and no hashing; otherwise 2
//! commands sent together for the user and both locks, 1 to count the
//! attempt (and, for the attempt that reaches the maximum, 1 more to write
//! its lock), then a failure 1 more (the IP's count) and a success 1 more
//! beside the session insert (clearing the username's count).

use crate::auth::password::timing;
use crate::error::error_chain;
use crate::error::ServiceError;
use crate::http::Origin;
use crate::ids::Username;
use crate::runtime::app::App;
use crate::runtime::audit::{Event, Record};
use crate::settings::LockoutSettings;
use crate::store::{LoginState, Store, StoreError, UserRecord};
use mongodb::bson::DateTime;

/// What counting the attempt left to do after the password check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// Per-username limits are off: nothing was counted.
    Uncounted,
    /// Counted on the username: a success must clear it.
    Counted,
}

/// The user to check the password against, once neither the username nor the
/// source IP is locked and the attempt is counted; `TooManyAttempts` (logged
/// as `login_locked`) otherwise.
pub async fn admit(
    app: &App,
    username: &Username,
    origin: &Origin,
) -> Result<(Option<UserRecord>, Attempt), ServiceError> {
    let limits = app.settings.lockout;
    if limits.max_failures == 0 && limits.max_failures_per_ip == 0 {
        let user = app.store.user_by_username(username).await?;
        return Ok((user, Attempt::Uncounted));
    }
    let ip = origin
        .source_ip
        .as_deref()
        .filter(|_| limits.max_failures_per_ip > 0);
    let now = DateTime::now();
    let state = app.store.login_state(username, ip, now).await?;
    if let Some(until) = locked_until(&state, &limits, now) {
        return Err(locked(username, origin, now, until, None));
    }
    if limits.max_failures == 0 {
        return Ok((state.user, Attempt::Uncounted));
    }
    reserve(app, username, origin, now, None).await?;
    Ok((state.user, Attempt::Counted))
}

/// Before a check of `username`'s password outside login (`update_password`'s
/// current password; any re-authentication): the attempt is counted on the
/// username as a login's is, in one atomic command, so aliases, batches and
/// concurrent requests check no more passwords than separate logins would.
/// `TooManyAttempts` while locked, before any hashing, logged as
/// `login_locked` with `reason`.
pub async fn admit_check(
    app: &App,
    username: &Username,
    origin: &Origin,
    reason: &'static str,
) -> Result<Attempt, ServiceError> {
    if app.settings.lockout.max_failures == 0 {
        return Ok(Attempt::Uncounted);
    }
    reserve(app, username, origin, DateTime::now(), Some(reason)).await?;
    Ok(Attempt::Counted)
}

/// Counts an attempt on `username`, unless it is locked (`TooManyAttempts`).
async fn reserve(
    app: &App,
    username: &Username,
    origin: &Origin,
    now: DateTime,
    reason: Option<&'static str>,
) -> Result<(), ServiceError> {
    let limits = app.settings.lockout;
    let reservation = app
        .store
        .reserve_attempt(username, now, timing::floor(), &limits)
        .await?;
    // Locked (at login: by a concurrent attempt since the state was read):
    // nothing counted.
    if !reservation.counted {
        let until = reservation.locked_until.unwrap_or(now);
        return Err(locked(username, origin, now, until, reason));
    }
    Ok(())
}

/// After a refused password: the username's failure is already counted; the
/// source IP's is counted now. A failure to count is logged, not answered: the
/// login is refused either way.
pub async fn after_failure(app: &App, origin: &Origin) {
    let limits = app.settings.lockout;
    let Some(ip) = origin.source_ip.as_deref() else {
        return;
    };
    if limits.max_failures_per_ip == 0 {
        return;
    }
    let counted = app
        .store
        .record_ip_failure(ip, DateTime::now(), limits.ip_window)
        .await;
    if let Err(err) = counted {
        let error = error_chain(&err);
        tracing::warn!(%error, "could not count a failed login for its source IP");
    }
}

/// After a successful login: the username's count starts again.
pub async fn after_success(app: &App, username: &Username, attempt: Attempt) {
    if attempt == Attempt::Uncounted {
        return;
    }
    if let Err(err) = app.store.clear_attempts(username).await {
        let error = error_chain(&err);
        tracing::warn!(%error, "could not clear the failed-login count after a success");
    }
}

/// `auth-admin unlock`: forgets a username's failures; `true` if it had any.
pub async fn unlock(store: &Store, username: &Username) -> Result<bool, StoreError> {
    store.clear_attempts(username).await
}

/// Until when the username or the source IP is locked, if either is now.
fn locked_until(state: &LoginState, limits: &LockoutSettings, now: DateTime) -> Option<DateTime> {
    let username = state.username_locked_until.filter(|until| *until > now);
    let ip_full = limits.max_failures_per_ip > 0
        && state.ip_failures >= i64::from(limits.max_failures_per_ip);
    let ip = state.ip_window_ends.filter(|ends| ip_full && *ends > now);
    username.into_iter().chain(ip).max()
}

/// The refusal for a locked attempt, logged once as `login_locked`.
fn locked(
    username: &Username,
    origin: &Origin,
    now: DateTime,
    until: DateTime,
    reason: Option<&'static str>,
) -> ServiceError {
    let millis = until
        .timestamp_millis()
        .saturating_sub(now.timestamp_millis());
    let millis = u64::try_from(millis).unwrap_or(0);
    let retry_after_seconds = millis.div_ceil(1000).max(1);
    Event::LoginLocked.record(&Record {
        username: Some(username),
        retry_after_seconds: Some(retry_after_seconds),
        reason,
        ..Record::from(origin)
    });
    ServiceError::TooManyAttempts {
        retry_after_seconds,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: LockoutSettings = LockoutSettings {
        max_failures: 5,
        base_lock: std::time::Duration::from_secs(1),
        max_lock: std::time::Duration::from_secs(900),
        max_failures_per_ip: 3,
        ip_window: std::time::Duration::from_secs(900),
    };

    fn at(millis: i64) -> DateTime {
        DateTime::from_millis(millis)
    }

    #[test]
    fn a_lock_holds_until_its_end_and_the_later_of_two_wins() {
        let state = LoginState {
            username_locked_until: Some(at(5_000)),
            ip_failures: 3,
            ip_window_ends: Some(at(9_000)),
            ..LoginState::default()
        };
        assert_eq!(locked_until(&state, &LIMITS, at(1_000)), Some(at(9_000)));
        let quiet_ip = LoginState {
            ip_failures: 2,
            ..state
        };
        assert_eq!(locked_until(&quiet_ip, &LIMITS, at(1_000)), Some(at(5_000)));
        assert_eq!(locked_until(&quiet_ip, &LIMITS, at(5_000)), None);
    }
}
