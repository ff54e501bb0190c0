//! Trading a refresh token for a new pair, with reuse detection (RFC 9700
//! 4.14.2) and the absolute session lifetime.
//!
//! A session's side document holds its current refresh id and every id it
//! retired. A refresh rotates it in one atomic command, then writes the new
//! ids into the whitelist entry while it reads the user: three commands in
//! two waits (four in a session's last refresh lifetime before the cap, the
//! fourth bringing the side document's expiry down to the cap in the same
//! wait). A refresh id that is no longer current is judged from the side
//! document alone:
//! - the session's immediately previous id, retired less than
//!   `REFRESH_REUSE_GRACE_SECONDS` ago: the current pair, signed again, so
//!   racing tabs and retries converge;
//! - any other retired id: reuse, so the whole session ends
//!   (`refresh_token_reused`);
//! - a session past `SESSION_MAX_MINUTES` since login ends too.
//!
//! Sessions without a side document (the Python service's, or opened before
//! side documents existed) are rotated in the whitelist as before, and get one.

use crate::auth::guard::{self, SentAlong};
use crate::auth::token::{TokenIds, TokenPair};
use crate::error::ServiceError;
use crate::http::Origin;
use crate::ids::UserId;
use crate::runtime::app::App;
use crate::runtime::audit::{Event, Record};
use crate::sessions::end;
use crate::sessions::lifetime::RotationClock;
use crate::sessions::unlisted;
use crate::store::{PreviousRefresh, SessionMeta, StoreError, UserRecord};
use mongodb::bson::DateTime;

/// Trades a refresh token for a new pair. The refresh token is the credential;
/// the user of an access token sent along, if any, must own it. An access
/// token never lends its identity to a refresh: whose session it is comes from
/// the session (whitelist on) or the refresh token's own `sub` (whitelist off).
pub async fn refresh(
    app: &App,
    refresh_token: &str,
    sent_along: Option<SentAlong>,
    origin: &Origin,
) -> Result<TokenPair, ServiceError> {
    let claims = app.keys().verify_refresh(refresh_token)?;
    let user_id = sent_along.map(|sent| sent.user_id);
    if !app.settings.use_whitelist {
        return unlisted::refresh(app, &claims, sent_along, origin).await;
    }
    let presented = claims.uuid.as_str();
    let clock = RotationClock::of(app, DateTime::now());
    let ids = TokenIds::new();
    let request = Request {
        app,
        presented,
        user_id,
        clock,
        origin,
    };
    if let Some(meta) = app
        .store
        .rotate_session_meta(presented, user_id, &ids, clock.rotation())
        .await?
    {
        return request.finish_rotation(meta, ids).await;
    }
    match app.store.session_meta_by_refresh(presented).await? {
        // Past its refresh expiry or its cap, not yet swept (MongoDB's TTL
        // monitor runs about once a minute): over. Never adopted as a session
        // without a side document, which would start its cap again.
        Some(meta) if meta.expires_at <= clock.now => Err(ServiceError::Unauthorized),
        Some(meta) => request.judge(meta).await,
        None => request.adopt(ids).await,
    }
}

/// One refresh request.
struct Request<'a> {
    app: &'a App,
    /// The refresh id presented.
    presented: &'a str,
    user_id: Option<UserId>,
    clock: RotationClock,
    origin: &'a Origin,
}

impl Request<'_> {
    /// This request rotated the side document: the whitelist entry gets the
    /// new ids while the user is read.
    async fn finish_rotation(
        &self,
        meta: SessionMeta,
        ids: TokenIds,
    ) -> Result<TokenPair, ServiceError> {
        let store = &self.app.store;
        let created_at = self.clock.entry_created_at(meta.expires_at);
        // In the session's last refresh lifetime the rotation wrote the
        // refresh expiry, past the cap: the cap goes in now, in the same wait.
        let capped = async {
            if meta.expires_at < self.clock.rotation().refresh_expiry {
                store
                    .cap_session_meta(meta.id, &ids.refresh, meta.expires_at)
                    .await?;
            }
            Ok(())
        };
        let (advanced, user, ()) = tokio::try_join!(
            store.advance_session(meta.id, self.presented, &ids, created_at),
            store.user_by_id(meta.user),
            capped
        )?;
        if !advanced {
            // The whitelist entry went meanwhile (a logout, a session ended):
            // the session is over, and so is its side document.
            store.delete_session_meta(meta.id).await?;
            return Err(ServiceError::Unauthorized);
        }
        self.issue(&meta, user, ids).await
    }

    /// The rotation missed: the presented id, judged against the session that
    /// has or had it.
    async fn judge(&self, meta: SessionMeta) -> Result<TokenPair, ServiceError> {
        // Sent with another user's access token: never a pair.
        let foreign = self.user_id.is_some_and(|id| id != meta.user);
        if self.clock.past_cap(meta.started_at) {
            let user = self.end(&meta, None).await?;
            self.record(
                Event::SessionEnded,
                &meta,
                user.as_ref(),
                Some("max_lifetime"),
            );
            return Err(ServiceError::Unauthorized);
        }
        // Still current, yet the rotation missed: another user's token, or a
        // concurrent change (the session ending); refuse and change nothing.
        if meta.refresh == self.presented {
            return Err(ServiceError::Unauthorized);
        }
        let previous = meta
            .previous
            .as_ref()
            .filter(|previous| previous.refresh == self.presented);
        if !foreign && previous.is_some_and(|previous| self.within_grace(previous)) {
            return self.repeat(meta).await;
        }
        // A rotation retiring the immediately previous id may still be writing
        // the whitelist entry; an older id's rotation is long done.
        let pending = previous.map(|_| self.presented);
        let user = self.end(&meta, pending).await?;
        self.record(Event::RefreshTokenReused, &meta, user.as_ref(), None);
        Err(ServiceError::Unauthorized)
    }

    fn within_grace(&self, previous: &PreviousRefresh) -> bool {
        let grace = self.app.settings.sessions.reuse_grace;
        // No window at all: not even for a request that began before the
        // rotation it lost to (its clock reads earlier than `retired_at`).
        if grace.is_zero() {
            return false;
        }
        let age = self
            .clock
            .now
            .timestamp_millis()
            .saturating_sub(previous.retired_at.timestamp_millis());
        i128::from(age) < i128::try_from(grace.as_millis()).unwrap_or(i128::MAX)
    }

    /// Within the grace window: the session's current pair, signed again, if
    /// the session still lives.
    async fn repeat(&self, meta: SessionMeta) -> Result<TokenPair, ServiceError> {
        let store = &self.app.store;
        let (entry, user) =
            tokio::try_join!(store.session_by_id(meta.id), store.user_by_id(meta.user))?;
        if entry.is_none() {
            store.delete_session_meta(meta.id).await?;
            return Err(ServiceError::Unauthorized);
        }
        let ids = TokenIds {
            access: meta.access.clone(),
            refresh: meta.refresh.clone(),
        };
        self.issue(&meta, user, ids).await
    }

    /// A session with no side document: rotated in the whitelist, unless its
    /// entry is due to be swept, and given a side document starting now.
    async fn adopt(&self, ids: TokenIds) -> Result<TokenPair, ServiceError> {
        let store = &self.app.store;
        let now = self.clock.now;
        let expires_at = self.clock.expires_at(now);
        let swept_before = self.clock.entry_created_at(now);
        let created_at = self.clock.entry_created_at(expires_at);
        let rotated = store
            .rotate_session(self.presented, self.user_id, &ids, created_at, swept_before)
            .await?;
        let Some(entry) = rotated else {
            // A concurrent refresh may have just adopted it.
            return match store.session_meta_by_refresh(self.presented).await? {
                Some(meta) if meta.refresh != self.presented => self.judge(meta).await,
                _ => Err(ServiceError::Unauthorized),
            };
        };
        let meta = SessionMeta {
            id: entry.id,
            user: entry.user_id(),
            started_at: now,
            refreshed_at: Some(now),
            source_ip: None,
            user_agent: None,
            access: ids.access.clone(),
            refresh: ids.refresh.clone(),
            previous: Some(PreviousRefresh {
                refresh: self.presented.to_owned(),
                retired_at: now,
            }),
            retired: vec![self.presented.to_owned()],
            expires_at,
        };
        let ((), user) =
            tokio::try_join!(store.put_session_meta(&meta), store.user_by_id(meta.user))?;
        self.issue(&meta, user, ids).await
    }

    /// Signs `ids` for the session's user if the user may still hold a
    /// session; ends the session otherwise.
    async fn issue(
        &self,
        meta: &SessionMeta,
        user: Option<UserRecord>,
        ids: TokenIds,
    ) -> Result<TokenPair, ServiceError> {
        let app = self.app;
        if !user.as_ref().is_some_and(|user| guard::admits(app, user)) {
            self.end(meta, None).await?;
            return Err(ServiceError::Unauthorized);
        }
        self.record(Event::TokenRefreshed, meta, user.as_ref(), None);
        Ok(app
            .keys()
            .issue_with_ids(&meta.user.to_subject(), app.lifetimes(), ids)?)
    }

    /// Ends the session and reads its user for the event (see
    /// [`end::end_session_of_refresh`]).
    async fn end(
        &self,
        meta: &SessionMeta,
        pending: Option<&str>,
    ) -> Result<Option<UserRecord>, StoreError> {
        end::end_session_of_refresh(&self.app.store, meta, pending).await
    }

    fn record(
        &self,
        event: Event,
        meta: &SessionMeta,
        user: Option<&UserRecord>,
        reason: Option<&'static str>,
    ) {
        event.record(&Record {
            user_id: Some(meta.user),
            username: user.map(|u| &u.username),
            session_id: Some(meta.id),
            reason,
            ..Record::from(self.origin)
        });
    }
}
