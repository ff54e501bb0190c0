//! The sessions a user sees and ends (GraphQL `sessions`, `User.sessions`,
//! `end_session`, `end_other_sessions`).
//!
//! The whitelist decides which sessions are alive; side documents only add
//! what is known about them (a session the Python service opened has none, so
//! its source IP and user agent are unknown).

use crate::accounts::error::AccountError;
use crate::accounts::protected::Actor;
use crate::http::request::Origin;
use crate::ids::{SessionId, UserId};
use crate::runtime::app::App;
use crate::runtime::audit::{Event, Record};
use crate::sessions::end::end_sessions_of;
use crate::sessions::lifetime::RotationClock;
use crate::store::{SessionMeta, Store, StoreError, UserRecord};
use mongodb::bson::DateTime;

/// One live session as its user sees it.
#[derive(Debug, Clone)]
pub struct SessionView {
    pub id: SessionId,
    /// Login time (for a session opened by the Python service: when this
    /// service first saw it).
    pub created_at: DateTime,
    /// `None` if never refreshed.
    pub refreshed_at: Option<DateTime>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    /// The session of the access token the request came with.
    pub current: bool,
}

/// A user's live sessions, oldest first: two commands sent together, and a
/// third the first time entries the Python service wrote are seen (they get
/// a `created_at`, so the TTL index sweeps them too).
pub async fn list(
    app: &App,
    user_id: UserId,
    current: Option<SessionId>,
) -> Result<Vec<SessionView>, StoreError> {
    let store = &app.store;
    let (entries, metas) =
        tokio::try_join!(store.sessions_of(user_id), store.session_metas_of(user_id))?;
    let now = DateTime::now();
    let unstamped: Vec<SessionId> = entries
        .iter()
        .filter(|entry| entry.created_at.is_none())
        .map(|entry| entry.id)
        .collect();
    if !unstamped.is_empty() {
        store.stamp_session_starts(&unstamped, now).await?;
    }
    // An entry the TTL index is due to sweep (it runs once a minute) is over.
    let swept_before = RotationClock::of(app, now).entry_created_at(now);
    let mut sessions: Vec<SessionView> = entries
        .into_iter()
        .filter(|entry| entry.created_at.is_none_or(|at| at > swept_before))
        .map(|entry| {
            let meta: Option<&SessionMeta> = metas.iter().find(|meta| meta.id == entry.id);
            SessionView {
                id: entry.id,
                created_at: meta
                    .map(|meta| meta.started_at)
                    .or(entry.created_at)
                    .unwrap_or(now),
                refreshed_at: meta.and_then(|meta| meta.refreshed_at),
                source_ip: meta.and_then(|meta| meta.source_ip.clone()),
                user_agent: meta.and_then(|meta| meta.user_agent.clone()),
                current: Some(entry.id) == current,
            }
        })
        .collect();
    sessions.sort_by_key(|session| (session.created_at, session.id.to_hex()));
    Ok(sessions)
}

/// Ends session `id` for `caller`: their own, or, when `admin` is given (the
/// caller may administer users), anyone's that `PROTECTED_ROLES` lets them
/// touch. Anything else is `Unauthorized` and changes nothing. Logged as
/// `session_ended`, with the caller as actor when the session was another's.
pub async fn end_session(
    store: &Store,
    caller: &UserRecord,
    id: SessionId,
    admin: Option<Actor<'_>>,
    origin: &Origin,
) -> Result<(), AccountError> {
    let Some(entry) = store.session_by_id(id).await? else {
        return Err(match admin {
            Some(_) => AccountError::NotFound,
            None => AccountError::Unauthorized,
        });
    };
    let owner = entry.user_id();
    if owner != caller.id {
        let actor = admin.ok_or(AccountError::Unauthorized)?;
        actor.check_target(store, owner).await?;
    }
    // Only the owner's entry goes, so a session id can't be swapped meanwhile.
    let (ended, ()) = tokio::try_join!(
        store.delete_session_of(id, owner),
        store.delete_session_meta(id)
    )?;
    if !ended {
        return Err(AccountError::NotFound);
    }
    let mut record = Record {
        user_id: Some(owner),
        session_id: Some(id),
        ..Record::from(origin)
    };
    if owner == caller.id {
        record.username = Some(&caller.username);
    } else {
        record.actor_id = Some(caller.id);
        record.actor = Some(&caller.username);
    }
    Event::SessionEnded.record(&record);
    Ok(())
}

/// Ends every session of `caller` but `keep` (the one the request came with),
/// logged as `sessions_ended` with how many ended.
pub async fn end_other_sessions(
    store: &Store,
    caller: &UserRecord,
    keep: Option<SessionId>,
    origin: &Origin,
) -> Result<(), StoreError> {
    let ended = end_sessions_of(store, caller.id, keep).await?;
    Event::SessionsEnded.record(&Record {
        user_id: Some(caller.id),
        username: Some(&caller.username),
        session_id: keep,
        count: Some(ended),
        ..Record::from(origin)
    });
    Ok(())
}

/// A time as clients get it: ISO-8601 UTC, `2026-11-30T11:00:00.123Z`.
pub fn iso8601(at: DateTime) -> String {
    at.try_to_rfc3339_string()
        .unwrap_or_else(|_| at.timestamp_millis().to_string())
}
