//! Login: checking credentials (through [`lockout`]) and opening a session,
//! its `whitelist_token` entry and its `session_meta` side document.

use crate::auth::password::timing;
use crate::auth::password::{self, HashScheme, Verdict};
use crate::auth::token::TokenPair;
use crate::error::error_chain;
use crate::error::ServiceError;
use crate::http::Origin;
use crate::ids::{SessionId, UserId, Username};
use crate::runtime::app::App;
use crate::runtime::audit::{Event, Record};
use crate::sessions::lifetime::RotationClock;
use crate::sessions::lockout;
use crate::store::{DbRef, NewSession, SessionMeta, UserRecord};
use crate::validate::{self, StringField};
use mongodb::bson::DateTime;

use secrecy::{ExposeSecret, SecretString};
use std::time::Instant;

/// A validated login body. The length minimums are not applied: passwords set
/// under older, laxer rules must still log in.
pub struct Credentials {
    pub username: Username,
    pub password: SecretString,
}

impl Credentials {
    /// `{"username": …, "password": …}` and nothing else, each a string without spaces.
    pub fn from_json(body: &[u8]) -> Result<Self, ServiceError> {
        let fields = [StringField::LOGIN_USERNAME, StringField::LOGIN_PASSWORD];
        let mut values = validate::string_fields(body, &fields)?.into_iter();
        match (values.next(), values.next()) {
            (Some(username), Some(password)) => Ok(Credentials {
                // The body's rules are the username's: it parses.
                username: Username::parse(&username)
                    .map_err(|err| ServiceError::bad_field("username", &err.to_string()))?,
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
            Event::LoginFailed.record(&Record {
                username: Some(&username),
                reason: Some(refusal.as_str()),
                ..Record::from(origin)
            });
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
    let (opened, (), ()) = tokio::join!(open_session(app, user.id, origin), rehash, clear);
    let (tokens, session_id) = opened?;
    Event::LoginSucceeded.record(&Record {
        user_id: Some(user.id),
        username: Some(&username),
        session_id,
        ..Record::from(origin)
    });
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

/// Signs a token pair for `user_id` and, when the whitelist is on, opens its
/// session: the whitelist entry and its side document, written concurrently
/// (one wait). The session's id, if there is one.
pub async fn open_session(
    app: &App,
    user_id: UserId,
    origin: &Origin,
) -> Result<(TokenPair, Option<SessionId>), ServiceError> {
    let tokens = app.keys().issue(&user_id.to_subject(), app.lifetimes())?;
    if !app.settings.use_whitelist {
        return Ok((tokens, None));
    }
    let now = DateTime::now();
    let clock = RotationClock::of(app, now);
    let expires_at = clock.expires_at(now);
    let id = SessionId::generate();
    let entry = NewSession {
        id,
        uuid_access: tokens.access.uuid.clone(),
        uuid_refresh: tokens.refresh.uuid.clone(),
        user: DbRef::to_user(user_id),
        created_at: clock.entry_created_at(expires_at),
    };
    let meta = SessionMeta {
        id,
        user: user_id,
        started_at: now,
        refreshed_at: None,
        source_ip: origin.source_ip.clone(),
        user_agent: origin.user_agent.clone(),
        access: tokens.access.uuid.clone(),
        refresh: tokens.refresh.uuid.clone(),
        previous: None,
        retired: Vec::new(),
        expires_at,
    };
    let (listed, described) = tokio::join!(
        app.store.insert_session(&entry),
        app.store.insert_session_meta(&meta)
    );
    if let Err(err) = listed.and(described) {
        // Half a session (an election between the two inserts) would list a
        // phantom in the user's sessions, or keep an IP and user agent
        // nobody's session needs: whatever half landed goes (best effort;
        // its TTL sweeps what a second failure leaves).
        let _ = tokio::join!(
            app.store.delete_session(id),
            app.store.delete_session_meta(id)
        );
        return Err(err.into());
    }
    Ok((tokens, Some(id)))
}
