//! `auth-admin`: the operator's command line for the service's database, the
//! Python package's `flask auth_mongo` commands and more. `auth-admin --help`
//! lists the commands; each has its own `--help`.
//!
//! Exit codes: 0 done, 1 refused or failed (one line on stderr saying why),
//! 2 a usage error (clap's). Results go to stdout, prompts to the terminal,
//! reasons to stderr.
//!
//! It acts as [`Actor::Operator`]: whoever holds the database's credentials
//! can change any document anyway, so `PROTECTED_ROLES` doesn't restrict it.
//! Everything goes through `shared`, as the functions do: the same rules,
//! messages, indexes and session handling.

mod cli;
mod list;
mod password;

use clap::Parser;
use cli::{usage_error, Cli, Command};
use secrecy::SecretString;
use shared::accounts::{self, directory, AccountError, Actor, NewAccount};
use shared::error::error_chain;
use shared::runtime::setup::{self, Index, InitIndexError};
use shared::sessions::{end, lockout};
use shared::settings::AdminSettings;
use shared::store::{Store, StoreError, UserRecord};
use shared::{ServiceError, Username};
use std::process::ExitCode;

/// Why a command did not do what was asked, in one line for stderr.
#[derive(Debug)]
pub struct Refusal(pub String);

impl Refusal {
    fn store(err: StoreError) -> Self {
        Refusal(match err {
            // The driver's message could quote the connection string.
            StoreError::InvalidUri => err.to_string(),
            _ if err.is_outage() => format!("cannot reach the database: {}", error_chain(&err)),
            _ => error_chain(&err),
        })
    }

    fn account(err: AccountError, subject: &str) -> Self {
        match err {
            AccountError::Invalid(fields) => Refusal(
                fields
                    .iter()
                    .map(|(field, reasons)| format!("{field}: {}", reasons.join(", ")))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            AccountError::UsernameExists => Refusal(format!("user {subject:?} already exists")),
            AccountError::RoleExists => Refusal(format!("role {subject:?} already exists")),
            AccountError::NotFound => no_such_user(subject),
            AccountError::Failure(ServiceError::Store(err)) => Refusal::store(err),
            other => Refusal(error_chain(&other)),
        }
    }
}

fn no_such_user(username: &str) -> Refusal {
    Refusal(format!("no user {username:?}"))
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command).await {
        Ok(output) => {
            println!("{output}");
            ExitCode::SUCCESS
        }
        Err(Refusal(reason)) => {
            // One line, whatever the database said.
            let reason = reason.replace(['\n', '\r'], " ");
            eprintln!("auth-admin: {reason}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> Result<String, Refusal> {
    // Decided before any I/O, so a script that forgot the flag learns it at once.
    let password_source = match &command {
        Command::UserNew { password_stdin, .. } => Some(
            password::PasswordSource::choose(*password_stdin).unwrap_or_else(|| {
                usage_error(
                    "user-new",
                    "standard input is not a terminal, so there is no one to prompt for \
                     the password: pipe it with --password-stdin",
                )
            }),
        ),
        _ => None,
    };
    let settings = AdminSettings::load()
        .await
        .map_err(|e| Refusal(e.to_string()))?;
    if let Command::Init = command {
        // Its own connection: every other command first makes two of the
        // indexes init reports on.
        return init(&settings).await;
    }
    // Read before connecting: the prompt shouldn't wait on the database.
    let password = password_source.map(|source| source.read()).transpose()?;
    let store = setup::open_for_administration(&settings.database)
        .await
        .map_err(Refusal::store)?;
    let outcome = execute(&store, &settings, command, password).await;
    // The client goes before the runtime does (see `Store::shutdown`).
    store.shutdown().await;
    outcome
}

/// A command other than `init`, on the prepared store.
async fn execute(
    store: &Store,
    settings: &AdminSettings,
    command: Command,
    password: Option<SecretString>,
) -> Result<String, Refusal> {
    match command {
        // Answered above, before the store was opened.
        Command::Init => init(settings).await,
        Command::RoleNew { name, permissions } => {
            let permissions = permissions.unwrap_or_default();
            let id = accounts::create_role(store, &name, permissions)
                .await
                .map_err(|e| Refusal::account(e, name.trim()))?;
            Ok(format!("role {} created ({id})", name.trim()))
        }
        Command::UserNew { role, username, .. } => {
            let password = password.ok_or_else(|| Refusal("no password".into()))?;
            user_new(store, settings, role, username, password).await
        }
        Command::UserList { json } => {
            let rows = list::all_users(store).await?;
            Ok(if json {
                list::json(&rows)
            } else {
                list::table(&rows)
            })
        }
        Command::UserDeactivate { username } => {
            let user = find_user(store, &username).await?;
            accounts::set_active(store, Actor::Operator, user.id, false)
                .await
                .map_err(|e| Refusal::account(e, &username))?;
            Ok(format!(
                "{}: deactivated, sessions ended",
                user.username.as_str().escape_debug()
            ))
        }
        Command::UserActivate { username } => {
            let user = find_user(store, &username).await?;
            accounts::set_active(store, Actor::Operator, user.id, true)
                .await
                .map_err(|e| Refusal::account(e, &username))?;
            Ok(format!(
                "{}: activated",
                user.username.as_str().escape_debug()
            ))
        }
        Command::ClearTokens { username: None } => {
            let ended = end::end_all(store).await.map_err(Refusal::store)?;
            Ok(format!("{ended} sessions ended"))
        }
        Command::ClearTokens {
            username: Some(username),
        } => {
            let user = find_user(store, &username).await?;
            let ended = end::end_sessions_of(store, user.id, None)
                .await
                .map_err(Refusal::store)?;
            Ok(format!(
                "{}: {ended} sessions ended",
                user.username.as_str().escape_debug()
            ))
        }
        Command::Unlock { username } => {
            // A name that can't be a username never logged in, so has no
            // failures either.
            let had = match Username::parse(&username) {
                Ok(name) => lockout::unlock(store, &name)
                    .await
                    .map_err(Refusal::store)?,
                Err(_) => false,
            };
            let username = username.escape_debug();
            Ok(if had {
                format!("{username}: failed logins forgotten, unlocked")
            } else {
                format!("{username}: no failed logins on record")
            })
        }
        Command::HashReport => {
            let report = directory::hash_report(store)
                .await
                .map_err(Refusal::store)?;
            Ok(format!(
                "bcrypt {}\nargon2id {}\nother {}\n{}",
                report.bcrypt,
                report.argon2id,
                report.other,
                if report.argon2id == 0 {
                    "every password verifies under the Python service: a rollback is free"
                } else {
                    "argon2id passwords don't verify under the Python service: those users would need a reset after a rollback"
                }
            ))
        }
    }
}

/// Every index, each the way the functions create it; stops at the first one
/// the database refuses (an existing index of that name with other options).
async fn init(settings: &AdminSettings) -> Result<String, Refusal> {
    setup::init(settings).await.map_err(|err| match err {
        InitIndexError::Connect(err) => Refusal::store(err),
        InitIndexError::Index { index, source } => {
            let Refusal(reason) = Refusal::store(source);
            Refusal(format!("{}: {reason}", index.describe()))
        }
    })?;
    let done: Vec<String> = Index::ALL
        .iter()
        .map(|index| format!("ok {}", index.describe()))
        .collect();
    Ok(done.join("\n"))
}

async fn user_new(
    store: &Store,
    settings: &AdminSettings,
    role: String,
    username: String,
    password: SecretString,
) -> Result<String, Refusal> {
    let account = NewAccount {
        username: username.clone(),
        password: password.clone(),
        password_confirmed: password,
        role: role.clone(),
    };
    let user = accounts::create_user(store, settings.accounts, Actor::Operator, account)
        .await
        .map_err(|err| match err {
            AccountError::RoleDoesNotExist => Refusal(format!("role {role:?} does not exist")),
            other => Refusal::account(other, &stored_form(&username)),
        })?;
    Ok(format!(
        "user {} created ({})",
        user.username.as_str().escape_debug(),
        user.id
    ))
}

/// `username` as it would be stored (lower-cased), for a message about it.
fn stored_form(username: &str) -> String {
    Username::parse(username).map_or_else(|_| username.to_owned(), |name| name.to_string())
}

async fn find_user(store: &Store, username: &str) -> Result<UserRecord, Refusal> {
    let name = Username::parse(username).map_err(|_| no_such_user(username))?;
    directory::user_named(store, &name)
        .await
        .map_err(Refusal::store)?
        .ok_or_else(|| no_such_user(username))
}
