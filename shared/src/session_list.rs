//! The sessions a user sees and ends (GraphQL `sessions`, `User.sessions`,
//! `end_session`, `end_other_sessions`), and ending a user's sessions for
//! account changes.
//!
//! The whitelist decides which sessions are alive; side documents only add
//! what is known about them (a session the Python service opened has none, so
//! its source IP and user agent are unknown).

use crate::accounts::{AccountError, Actor};
use crate::app::App;
use crate::ids::{SessionId, UserId};
use crate::session::rotation_clock;
use crate::store::{SessionMeta, Store, StoreError};
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
    let swept_before = rotation_clock(app, now).entry_created_at(now);
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
/// touch. Anything else is `Unauthorized` and changes nothing. The owner of
/// the ended session.
pub async fn end_session(
    store: &Store,
    caller: UserId,
    id: SessionId,
    admin: Option<Actor<'_>>,
) -> Result<UserId, AccountError> {
    let Some(entry) = store.session_by_id(id).await? else {
        return Err(match admin {
            Some(_) => AccountError::NotFound,
            None => AccountError::Unauthorized,
        });
    };
    let owner = entry.user_id();
    if owner != caller {
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
    Ok(owner)
}

/// Ends a user's sessions, all or all but `keep`, with their side documents
/// (two commands sent together); how many ended.
pub async fn end_sessions_of(
    store: &Store,
    user_id: UserId,
    keep: Option<SessionId>,
) -> Result<u64, StoreError> {
    let (ended, ()) = tokio::try_join!(
        store.delete_sessions_of(user_id, keep),
        store.delete_session_metas_of(user_id, keep)
    )?;
    Ok(ended)
}

/// A time as clients get it: ISO-8601 UTC, `2026-11-30T11:00:00.123Z`.
pub fn iso8601(at: DateTime) -> String {
    at.try_to_rfc3339_string()
        .unwrap_or_else(|_| at.timestamp_millis().to_string())
}
