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

mod list;
mod password;

use clap::error::ErrorKind;
use clap::{CommandFactory, Parser, Subcommand};
use mongodb::bson::Document;
use secrecy::SecretString;
use shared::accounts::{self, AccountError, Actor, NewAccount};
use shared::response::error_chain;
use shared::settings::AdminSettings;
use shared::setup::{self, Index, InitIndexError};
use shared::store::{Store, StoreError, UserRecord};
use shared::{directory, lockout, session, ServiceError};
use std::process::ExitCode;

const ENVIRONMENT: &str = "\
Settings are read as the functions read them: from the environment, or from the
AWS Secrets Manager secret AUTH_SECRET_ID names (its values win):
  MONGODB_URI (required), MONGODB_DATABASE (auth), USERNAME_MIN_LENGTH (3),
  PASSWORD_MIN_LENGTH (8), PASSWORD_HASH (argon2id),
  REFRESH_TOKEN_EXPIRE_MINUTES (10080, the session expiry index's lifetime).
Exit codes: 0 done, 1 refused (the reason on stderr), 2 usage error.";

#[derive(Parser)]
#[command(
    name = "auth-admin",
    version,
    about = "Administer the auth service's database: indexes, roles, users, sessions",
    after_help = ENVIRONMENT
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create every index the service relies on, the TTL indexes included
    /// (idempotent; safe on a database the Python service made)
    Init,
    /// Create a role
    RoleNew {
        /// The role's name
        #[arg(long)]
        name: String,
        /// The role's permissions, a JSON object
        #[arg(long, value_name = "JSON", value_parser = permissions)]
        permissions: Option<Document>,
    },
    /// Create a user; the password comes from a hidden prompt (asked twice) or,
    /// with --password-stdin, from the first line of standard input
    UserNew {
        /// The role's name; the role must exist
        #[arg(long)]
        role: String,
        /// The username (stored lower-cased)
        #[arg(long)]
        username: String,
        /// Read the password from the first line of standard input (for
        /// scripts); required when standard input is not a terminal
        #[arg(long)]
        password_stdin: bool,
    },
    /// List every user: username, role, active, change_password
    UserList {
        /// Print a JSON array instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Deactivate a user: they can't log in, and their sessions end
    UserDeactivate {
        #[arg(long)]
        username: String,
    },
    /// Activate a user again
    UserActivate {
        #[arg(long)]
        username: String,
    },
    /// End sessions: every user's, or with --username one user's
    ClearTokens {
        /// End only this user's sessions
        #[arg(long)]
        username: Option<String>,
    },
    /// Forget a username's failed logins, lifting a lockout
    Unlock {
        #[arg(long)]
        username: String,
    },
    /// Count the users per password scheme (bcrypt is the Python service's)
    HashReport,
}

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
    let settings = setup::settings_for_administration()
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
    match command {
        // Answered above, before the store was opened.
        Command::Init => init(&settings).await,
        Command::RoleNew { name, permissions } => {
            let permissions = permissions.unwrap_or_default();
            let id = accounts::create_role(&store, &name, permissions)
                .await
                .map_err(|e| Refusal::account(e, name.trim()))?;
            Ok(format!("role {} created ({id})", name.trim()))
        }
        Command::UserNew { role, username, .. } => {
            let password = password.ok_or_else(|| Refusal("no password".into()))?;
            user_new(&store, &settings, role, username, password).await
        }
        Command::UserList { json } => {
            let rows = list::all_users(&store).await?;
            Ok(if json {
                list::json(&rows)
            } else {
                list::table(&rows)
            })
        }
        Command::UserDeactivate { username } => {
            let user = find_user(&store, &username).await?;
            accounts::set_active(&store, Actor::Operator, user.id, false)
                .await
                .map_err(|e| Refusal::account(e, &username))?;
            Ok(format!(
                "{}: deactivated, sessions ended",
                user.username.escape_debug()
            ))
        }
        Command::UserActivate { username } => {
            let user = find_user(&store, &username).await?;
            accounts::set_active(&store, Actor::Operator, user.id, true)
                .await
                .map_err(|e| Refusal::account(e, &username))?;
            Ok(format!("{}: activated", user.username.escape_debug()))
        }
        Command::ClearTokens { username: None } => {
            let ended = session::end_all(&store).await.map_err(Refusal::store)?;
            Ok(format!("{ended} sessions ended"))
        }
        Command::ClearTokens {
            username: Some(username),
        } => {
            let user = find_user(&store, &username).await?;
            let ended = session::end_all_of(&store, user.id)
                .await
                .map_err(Refusal::store)?;
            Ok(format!(
                "{}: {ended} sessions ended",
                user.username.escape_debug()
            ))
        }
        Command::Unlock { username } => {
            let had = lockout::unlock(&store, &username)
                .await
                .map_err(Refusal::store)?;
            let username = username.escape_debug();
            Ok(if had {
                format!("{username}: failed logins forgotten, unlocked")
            } else {
                format!("{username}: no failed logins on record")
            })
        }
        Command::HashReport => {
            let report = directory::hash_report(&store)
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
            other => Refusal::account(other, &username.to_lowercase()),
        })?;
    Ok(format!(
        "user {} created ({})",
        user.username.escape_debug(),
        user.id
    ))
}

/// Exits with a usage error (code 2) in clap's words and format, showing the
/// usage of `subcommand`.
fn usage_error(subcommand: &str, message: &str) -> ! {
    let mut cli = Cli::command();
    cli.build();
    let mut command = cli.find_subcommand(subcommand).cloned().unwrap_or(cli);
    command
        .error(ErrorKind::MissingRequiredArgument, message)
        .exit()
}

async fn find_user(store: &Store, username: &str) -> Result<UserRecord, Refusal> {
    directory::user_named(store, username)
        .await
        .map_err(Refusal::store)?
        .ok_or_else(|| no_such_user(username))
}

/// `--permissions`: a JSON object, stored as the role's `permissions`.
fn permissions(json: &str) -> Result<Document, String> {
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("not JSON: {e}"))?;
    match mongodb::bson::to_bson(&value) {
        Ok(mongodb::bson::Bson::Document(document)) => Ok(document),
        _ => Err("must be a JSON object".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
