//! Ending sessions wholesale: every session of one user (an account change, an
//! operator, `end_other_sessions`), or of everyone. A session is its whitelist
//! entry and its side document; both go, by two commands sent together.

use crate::ids::{SessionId, UserId};
use crate::store::{Store, StoreError};

/// Ends every session of every user (`auth-admin clear-tokens`); how many ended.
pub async fn end_all(store: &Store) -> Result<u64, StoreError> {
    let (ended, ()) = tokio::try_join!(store.clear_sessions(), store.clear_session_metas())?;
    Ok(ended)
}

/// Ends a user's sessions, all or all but `keep`, with their side documents
/// (two commands sent together); how many ended. The one way to end a user's
/// sessions: password changes and resets, deactivation, deletion,
/// `end_other_sessions` and `auth-admin clear-tokens --username` all come here.
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
