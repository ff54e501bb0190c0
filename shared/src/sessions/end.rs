//! Ending sessions wholesale: every session of one user (an account change, an
//! operator, `end_other_sessions`), or of everyone. A session is its whitelist
//! entry and its side document; both go, by two commands sent together.

use crate::ids::{SessionId, UserId};
use crate::store::{SessionMeta, Store, StoreError, UserRecord};
use std::time::Duration;

/// How long ending a reused session waits for a rotation of it that has
/// retired the token but not yet written the whitelist entry: that rotation's
/// caller then gets its pair (which dies with the session), so exactly one of
/// several concurrent refreshes wins even without a grace window.
const ROTATION_WAIT_STEP: Duration = Duration::from_millis(25);
const ROTATION_WAIT_STEPS: u32 = 40;

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

/// Ends the session a refresh judged over (reuse, the cap, a user who may no
/// longer hold one): whitelist entry and side document, and reads its user
/// for the event. With `pending`, the refresh id a rotation has just retired,
/// the entry is left until that rotation has written it (or a bounded wait is
/// over).
pub(crate) async fn end_session_of_refresh(
    store: &Store,
    meta: &SessionMeta,
    pending: Option<&str>,
) -> Result<Option<UserRecord>, StoreError> {
    let mut entry_gone = false;
    if let Some(pending) = pending {
        for _ in 0..ROTATION_WAIT_STEPS {
            entry_gone = store
                .delete_session_unless_holding(meta.id, pending)
                .await?
                || store.session_by_id(meta.id).await?.is_none();
            if entry_gone {
                break;
            }
            tokio::time::sleep(ROTATION_WAIT_STEP).await;
        }
    }
    // Whatever is left goes now (a rotation that never finished, too).
    let entry = async {
        if entry_gone {
            Ok(true)
        } else {
            store.delete_session(meta.id).await
        }
    };
    let (_, (), user) = tokio::try_join!(
        entry,
        store.delete_session_meta(meta.id),
        store.user_by_id(meta.user)
    )?;
    Ok(user)
}
