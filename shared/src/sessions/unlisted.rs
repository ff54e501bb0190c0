//! Refreshing with the whitelist off (`WHITE_LIST_TOKEN=false`): no session
//! is stored, so a refresh token is judged on its signature, its expiry and
//! the user it names.

use crate::auth::guard::{self, SentAlong};
use crate::auth::token::{RefreshClaims, TokenPair};
use crate::error::ServiceError;
use crate::http::request::Origin;
use crate::ids::UserId;
use crate::runtime::app::App;
use crate::runtime::audit::{Event, Record};

/// With the whitelist off there is no session to consult: the refresh
/// token's `sub` names its user, and an access token sent along must name the
/// same one. A refresh token without `sub` (the Python service's) is taken
/// only with a live access token of ours, as the Python service requires.
/// The user must still exist, be active and hold an allowed role (one read).
pub async fn refresh(
    app: &App,
    claims: &RefreshClaims,
    sent_along: Option<SentAlong>,
    origin: &Origin,
) -> Result<TokenPair, ServiceError> {
    let named = match &claims.sub {
        Some(sub) => Some(UserId::from_subject(sub).ok_or(ServiceError::InvalidToken)?),
        None => None,
    };
    let user_id = match (named, sent_along) {
        (Some(named), None) => named,
        (Some(named), Some(sent)) if sent.user_id == named => named,
        (None, Some(sent)) if sent.live => sent.user_id,
        _ => return Err(ServiceError::Unauthorized),
    };
    let user = app.store.user_by_id(user_id).await?;
    if !user.as_ref().is_some_and(|user| guard::admits(app, user)) {
        return Err(ServiceError::Unauthorized);
    }
    Event::TokenRefreshed.record(&Record {
        user_id: Some(user_id),
        username: user.as_ref().map(|user| &user.username),
        ..Record::from(origin)
    });
    Ok(app.keys().issue(&user_id.to_subject(), app.lifetimes())?)
}
