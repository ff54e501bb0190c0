//! Logout: the bearer token's session ends.

use crate::auth::guard;
use crate::error::ServiceError;
use crate::http::Origin;
use crate::runtime::app::App;
use crate::runtime::audit::{Event, Record};

/// Ends the session of the bearer token in `authorization`: its whitelist entry
/// goes, and with it the token, and so does its side document (source IP,
/// user agent), not left to its TTL. The guard's checks apply; the entry is
/// removed by the same command that finds it, the side document by a delete
/// sent with it, in one wait ([`guard::authenticate_ending_session`]).
pub async fn logout(
    app: &App,
    authorization: Option<&str>,
    origin: &Origin,
) -> Result<(), ServiceError> {
    let caller = guard::authenticate_ending_session(app, authorization).await?;
    Event::Logout.record(&Record {
        user_id: Some(caller.user.id),
        username: Some(&caller.user.username),
        session_id: caller.session.as_ref().map(|s| s.id),
        ..Record::from(origin)
    });
    Ok(())
}
