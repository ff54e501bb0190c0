//! Sessions: login, logout, refresh, and ending them all. A session is one
//! `whitelist_token` entry holding the ids of a live token pair.

use crate::app::App;
use crate::error::ServiceError;
use crate::guard;
use crate::http::Origin;
use crate::ids::UserId;
use crate::lockout;
use crate::password::{self, HashScheme, Verdict};
use crate::response::error_chain;
use crate::store::{DbRef, NewSession, Store, StoreError, UserRecord};
use crate::timing;
use crate::token::{TokenIds, TokenPair};
use crate::validate::{self, StringField};
use mongodb::bson::DateTime;
use secrecy::{ExposeSecret, SecretString};
use std::time::Instant;

/// A validated login body. The length minimums are not applied: passwords set
/// under older, laxer rules must still log in.
pub struct Credentials {
    /// Lower-cased, as usernames are stored.
    pub username: String,
    pub password: SecretString,
}

impl Credentials {
    /// `{"username": …, "password": …}` and nothing else, each a string without spaces.
    pub fn from_json(body: &[u8]) -> Result<Self, ServiceError> {
        let fields = [StringField::LOGIN_USERNAME, StringField::LOGIN_PASSWORD];
        let mut values = validate::string_fields(body, &fields)?.into_iter();
        match (values.next(), values.next()) {
            (Some(username), Some(password)) => Ok(Credentials {
                username: username.to_lowercase(),
                password: SecretString::from(password),
            }),
            _ => Err(ServiceError::Internal("validated body lost a field")),
        }
    }
}

/// What a successful login hands out.
#[derive(Debug)]
pub struct Grant {
    pub tokens: TokenPair,
    pub change_password: bool,
    pub role: String,
    /// Access token lifetime in minutes.
    pub expires_in: u32,
}

/// Why a login was refused; all of them look the same to the client.
#[derive(Debug, Clone, Copy)]
enum Refusal {
    UnknownUser,
    WrongPassword,
    Inactive,
    RoleNotAllowed,
}

impl Refusal {
    fn as_str(self) -> &'static str {
        match self {
            Refusal::UnknownUser => "unknown_user",
            Refusal::WrongPassword => "wrong_password",
            Refusal::Inactive => "inactive_user",
            Refusal::RoleNotAllowed => "role_not_allowed",
        }
    }
}

/// Checks credentials and opens a session. Before any hashing, [`lockout`]
/// reads the user with both locks and counts the attempt (a locked attempt stops
/// there, after one command); then the password is checked, and a success
/// whitelists the tokens, clears the count and, the first time a bcrypt hash
/// left by the Python service is met, rehashes it, all three concurrently.
pub async fn login(
    app: &App,
    credentials: Credentials,
    origin: &Origin,
) -> Result<Grant, ServiceError> {
    let username = credentials.username;
    let (user, attempt) = lockout::admit(app, &username, origin).await?;

    // The password is checked in every case, against a dummy hash when the user is
    // unknown, and every refusal is padded to the slowest check seen, so all
    // refusals cost the same time.
    let started = Instant::now();
    let stored = user
        .as_ref()
        .map(|u| u.password_hash.expose_secret().to_owned());
    let scheme = app.settings.accounts.password_hash;
    let checked = stored.as_deref().map_or(Some(scheme), HashScheme::of);
    let verdict =
        password::verify_off_executor(scheme, credentials.password.clone(), stored).await?;
    if let Some(checked) = checked {
        timing::record(checked, started.elapsed());
    }

    // Usernames are logged escaped (here and wherever else they are logged): a
    // login attempt, or a name stored before the rules refused control
    // characters, must not forge a log line in the Text format.
    let (user, needs_rehash) = match accept(user, verdict, app) {
        Ok(accepted) => accepted,
        Err(refusal) => {
            tracing::info!(
                event = "login_failed",
                username = %username.escape_debug(),
                outcome = "bad_credentials",
                reason = refusal.as_str(),
                source_ip = origin.source_ip.as_deref(),
                request_id = origin.request_id.as_deref(),
                "login refused"
            );
            lockout::after_failure(app, origin).await;
            timing::pad_refusal(started).await;
            return Err(ServiceError::BadCredentials);
        }
    };
    let role = user
        .role
        .as_ref()
        .map(|r| r.name.clone())
        .unwrap_or_default();

    let rehash = async {
        if needs_rehash {
            rehash(app, user.id, credentials.password).await;
        }
    };
    let clear = lockout::after_success(app, &username, attempt);
    let (tokens, (), ()) = tokio::join!(open_session(app, user.id), rehash, clear);
    let tokens = tokens?;
    tracing::info!(
        event = "login_succeeded",
        username = %username.escape_debug(),
        user_id = %user.id,
        outcome = "ok",
        source_ip = origin.source_ip.as_deref(),
        request_id = origin.request_id.as_deref(),
        "login accepted"
    );
    Ok(Grant {
        tokens,
        change_password: user.change_password,
        role,
        expires_in: app.settings.token_expire_minutes,
    })
}

/// The user, if the password matched and the account may log in here.
fn accept(
    user: Option<UserRecord>,
    verdict: Verdict,
    app: &App,
) -> Result<(UserRecord, bool), Refusal> {
    let user = user.ok_or(Refusal::UnknownUser)?;
    let Verdict::Match { needs_rehash } = verdict else {
        return Err(Refusal::WrongPassword);
    };
    if !user.active {
        return Err(Refusal::Inactive);
    }
    match &user.role {
        Some(role) if app.settings.allowed_roles.permits(&role.name) => Ok((user, needs_rehash)),
        _ => Err(Refusal::RoleNotAllowed),
    }
}

/// Replaces an old hash with argon2id. A failure here must not fail the login
/// that proved the password, so it is only logged; the next login tries again.
async fn rehash(app: &App, user_id: UserId, password: SecretString) {
    let outcome = match password::hash_off_executor(HashScheme::Argon2id, password).await {
        Ok(hash) => app
            .store
            .replace_password_hash(user_id, &hash)
            .await
            .map_err(|err| error_chain(&err)),
        Err(err) => Err(error_chain(&err)),
    };
    match outcome {
        Ok(()) => tracing::info!(%user_id, "password rehashed to argon2id"),
        Err(error) => tracing::warn!(%user_id, %error, "password rehash failed"),
    }
}

/// Signs a token pair for `user_id` and whitelists it (when the whitelist is on).
pub async fn open_session(app: &App, user_id: UserId) -> Result<TokenPair, ServiceError> {
    let tokens = app.keys().issue(&user_id.to_subject(), app.lifetimes())?;
    if app.settings.use_whitelist {
        let entry = NewSession {
            uuid_access: tokens.access.uuid.clone(),
            uuid_refresh: tokens.refresh.uuid.clone(),
            user: DbRef::to_user(user_id),
            created_at: DateTime::now(),
        };
        app.store.insert_session(&entry).await?;
    }
    Ok(tokens)
}

/// Ends the session of the bearer token in `authorization`: its whitelist entry
/// goes, and with it the token. The guard's checks apply; the entry is removed
/// by the same command that finds it, in one wait ([`guard::authenticate_ending_session`]).
pub async fn logout(app: &App, authorization: Option<&str>) -> Result<(), ServiceError> {
    let caller = guard::authenticate_ending_session(app, authorization).await?;
    tracing::info!(username = %caller.user.username.escape_debug(), outcome = "ok", "logout");
    Ok(())
}

/// Trades a refresh token for a new pair. The refresh token is the credential;
/// `user_id`, the user of an access token sent along, if any, must own it.
///
/// With the whitelist on, the session's token ids are swapped in one atomic
/// command before anything is signed, so a refresh token works once: the old
/// pair is dead, and a second use (even a concurrent one) is `unauthorized`. With
/// it off, a refresh token can't name its user, so an access token is required.
pub async fn refresh(
    app: &App,
    refresh_token: &str,
    user_id: Option<UserId>,
) -> Result<TokenPair, ServiceError> {
    let claims = app.keys().verify_refresh(refresh_token)?;
    if !app.settings.use_whitelist {
        let user_id = user_id.ok_or(ServiceError::Unauthorized)?;
        return Ok(app.keys().issue(&user_id.to_subject(), app.lifetimes())?);
    }
    let ids = TokenIds::new();
    let session = app
        .store
        .rotate_session(&claims.uuid, user_id, &ids)
        .await?
        .ok_or(ServiceError::Unauthorized)?;
    let owner = session.user_id();
    let fit = app.store.user_by_id(owner).await?.is_some_and(|user| {
        user.active
            && user
                .role
                .is_some_and(|role| app.settings.allowed_roles.permits(&role.name))
    });
    if !fit {
        app.store.delete_session(session.id).await?;
        return Err(ServiceError::Unauthorized);
    }
    Ok(app
        .keys()
        .issue_with_ids(&owner.to_subject(), app.lifetimes(), ids)?)
}

/// Ends every session of every user (`auth-admin clear-tokens`); how many ended.
pub async fn end_all(store: &Store) -> Result<u64, StoreError> {
    store.clear_sessions().await
}
