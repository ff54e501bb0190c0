//! The audit trail: one JSON log line per authentication event, with a stable
//! `event` field operators can filter on (CloudWatch metric filters, Logs
//! Insights). Every event is named here, in one enum, so names can't drift
//! between the places that emit them, and a line can only carry the fields of
//! [`Record`]: there is no field for a password, a hash or a token.
//!
//! Lines are written at INFO under their own target, [`TARGET`], which the
//! log filter keeps on at every level (see `telemetry`): a quieter level never
//! drops an auth event.

use crate::http::request::Origin;
use crate::ids::{SessionId, UserId, Username};

/// The `tracing` target of every event line.
pub const TARGET: &str = "audit";

/// Every event of the trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    LoginSucceeded,
    /// With `reason`: `unknown_user`, `wrong_password`, `inactive_user`,
    /// `role_not_allowed`.
    LoginFailed,
    /// With `retry_after_seconds`.
    LoginLocked,
    Logout,
    TokenRefreshed,
    /// A retired refresh token came back: its session ended.
    RefreshTokenReused,
    /// One session ended by a user (`end_session`), or by its lifetime cap
    /// (`reason: max_lifetime`).
    SessionEnded,
    /// Several sessions ended at once (`end_other_sessions`), with `count`.
    SessionsEnded,
    PasswordChanged,
    PasswordReset,
    UserCreated,
    UserUpdated,
    UserDeleted,
    /// The authorizer refused a request to a team's route, with `reason`
    /// (the 401 message) and `route`.
    AuthorizationDenied,
}

impl Event {
    pub const ALL: [Event; 14] = [
        Event::LoginSucceeded,
        Event::LoginFailed,
        Event::LoginLocked,
        Event::Logout,
        Event::TokenRefreshed,
        Event::RefreshTokenReused,
        Event::SessionEnded,
        Event::SessionsEnded,
        Event::PasswordChanged,
        Event::PasswordReset,
        Event::UserCreated,
        Event::UserUpdated,
        Event::UserDeleted,
        Event::AuthorizationDenied,
    ];

    /// The value of the line's `event` field.
    pub fn name(self) -> &'static str {
        match self {
            Event::LoginSucceeded => "login_succeeded",
            Event::LoginFailed => "login_failed",
            Event::LoginLocked => "login_locked",
            Event::Logout => "logout",
            Event::TokenRefreshed => "token_refreshed",
            Event::RefreshTokenReused => "refresh_token_reused",
            Event::SessionEnded => "session_ended",
            Event::SessionsEnded => "sessions_ended",
            Event::PasswordChanged => "password_changed",
            Event::PasswordReset => "password_reset",
            Event::UserCreated => "user_created",
            Event::UserUpdated => "user_updated",
            Event::UserDeleted => "user_deleted",
            Event::AuthorizationDenied => "authorization_denied",
        }
    }

    /// The line's message, for people reading the logs.
    fn message(self) -> &'static str {
        match self {
            Event::LoginSucceeded => "login accepted",
            Event::LoginFailed => "login refused",
            Event::LoginLocked => "login refused: locked",
            Event::Logout => "logout",
            Event::TokenRefreshed => "token refreshed",
            Event::RefreshTokenReused => "refresh token reused: session ended",
            Event::SessionEnded => "session ended",
            Event::SessionsEnded => "sessions ended",
            Event::PasswordChanged => "password changed",
            Event::PasswordReset => "password reset",
            Event::UserCreated => "user created",
            Event::UserUpdated => "user updated",
            Event::UserDeleted => "user deleted",
            Event::AuthorizationDenied => "authorization denied",
        }
    }

    /// The `outcome` login lines have carried since before the trail.
    fn outcome(self) -> Option<&'static str> {
        match self {
            Event::LoginSucceeded | Event::Logout => Some("ok"),
            Event::LoginFailed => Some("bad_credentials"),
            Event::LoginLocked => Some("too_many_attempts"),
            _ => None,
        }
    }

    /// Writes the event's line.
    pub fn record(self, record: &Record<'_>) {
        let origin = record.origin;
        // Usernames are written escaped: a name stored before the rules
        // refused control characters must not forge a line in the Text format.
        let escaped = |name: Option<&Username>| {
            name.map(|n| tracing::field::display(n.as_str().escape_debug().to_string()))
        };
        tracing::info!(
            target: TARGET,
            event = self.name(),
            outcome = self.outcome(),
            user_id = record.user_id.map(UserId::to_hex).as_deref(),
            username = escaped(record.username),
            actor_id = record.actor_id.map(UserId::to_hex).as_deref(),
            actor = escaped(record.actor),
            session_id = record.session_id.map(SessionId::to_hex).as_deref(),
            source_ip = origin.and_then(|o| o.source_ip.as_deref()),
            request_id = origin.and_then(|o| o.request_id.as_deref()),
            reason = record.reason,
            route = record.route,
            count = record.count,
            retry_after_seconds = record.retry_after_seconds,
            "{}",
            self.message()
        );
    }
}

/// The fields of one event line; unset ones are left out of it.
#[derive(Debug, Default, Clone, Copy)]
pub struct Record<'a> {
    /// The user the event is about.
    pub user_id: Option<UserId>,
    pub username: Option<&'a Username>,
    /// The acting user, for an administrator's action on someone else.
    pub actor_id: Option<UserId>,
    pub actor: Option<&'a Username>,
    pub session_id: Option<SessionId>,
    /// The request: API Gateway's source IP and request id.
    pub origin: Option<&'a Origin>,
    pub reason: Option<&'static str>,
    /// The route a request asked for (`GET /orders/42`).
    pub route: Option<&'a str>,
    pub count: Option<u64>,
    pub retry_after_seconds: Option<u64>,
}

impl<'a> Record<'a> {
    /// A record of a request from `origin`; fill in the rest with `..`.
    pub fn from(origin: &'a Origin) -> Self {
        Record {
            origin: Some(origin),
            ..Record::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Event;
    use std::collections::BTreeSet;

    #[test]
    fn every_event_has_its_own_snake_case_name() {
        let names: BTreeSet<&str> = Event::ALL.iter().map(|e| e.name()).collect();
        assert_eq!(names.len(), Event::ALL.len());
        for name in names {
            assert!(
                name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{name}"
            );
        }
    }
}
