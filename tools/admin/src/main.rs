//! `auth-admin`: the Python package's `flask auth_mongo` commands for this service.
//!
//! ```text
//! auth-admin role-new --name admin [--permissions '{"key":"value"}']
//! auth-admin user-new --role admin --username alice      (password on stdin)
//! auth-admin clear-tokens
//! auth-admin unlock --username alice
//! auth-admin hash-report
//! ```
//! It reads `MONGODB_URI`, `MONGODB_DATABASE`, `USERNAME_MIN_LENGTH` and
//! `PASSWORD_MIN_LENGTH` like the functions. The password is read from standard
//! input (one line), never from the command line, where `ps` would show it.

use secrecy::SecretString;
use shared::accounts::{self, AccountError, Actor, NewAccount};
use shared::session;
use shared::settings::{AccountRules, DatabaseSettings};
use shared::setup;
use shared::store::StoreError;
use shared::{directory, lockout};
use std::collections::HashMap;
use std::io::BufRead;
use std::process::ExitCode;

const USAGE: &str = "usage:
  auth-admin role-new --name NAME [--permissions JSON]
  auth-admin user-new --role ROLE --username USERNAME   (password: one line on stdin)
  auth-admin clear-tokens
  auth-admin unlock --username USERNAME   forget a username's failed logins (lifts a lockout)
  auth-admin hash-report        how many passwords are bcrypt (the Python service's) or argon2id
environment: MONGODB_URI (required), MONGODB_DATABASE (auth),
             USERNAME_MIN_LENGTH (3), PASSWORD_MIN_LENGTH (8), PASSWORD_HASH (argon2id)";

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args).await {
        Ok(message) => {
            println!("{message}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("auth-admin: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &[String]) -> Result<String, String> {
    let (command, options) = args.split_first().ok_or_else(|| USAGE.to_owned())?;
    if !matches!(
        command.as_str(),
        "role-new" | "user-new" | "clear-tokens" | "hash-report" | "unlock"
    ) {
        return Err(USAGE.to_owned());
    }
    let options = parse_options(options)?;
    let settings = DatabaseSettings::from_env().map_err(|e| e.to_string())?;
    let store = setup::open_for_administration(&settings)
        .await
        .map_err(|e| match e {
            StoreError::InvalidUri => e.to_string(),
            _ => format!("cannot reach the database: {e}"),
        })?;
    match command.as_str() {
        "role-new" => {
            let name = required(&options, "name")?;
            let permissions = match options.get("permissions") {
                Some(json) => permissions(json)?,
                None => mongodb::bson::Document::new(),
            };
            let id = accounts::create_role(&store, name, permissions)
                .await
                .map_err(describe)?;
            Ok(format!("role {name} created ({id})"))
        }
        "user-new" => {
            let role = required(&options, "role")?.to_owned();
            let username = required(&options, "username")?.to_owned();
            let password = read_password()?;
            let rules = AccountRules::from_env().map_err(|e| e.to_string())?;
            let account = NewAccount {
                username: username.clone(),
                password: password.clone(),
                password_confirmed: password,
                role,
            };
            let user = accounts::create_user(&store, rules, Actor::Operator, account)
                .await
                .map_err(describe)?;
            Ok(format!("user {} created ({})", user.username, user.id))
        }
        "unlock" => {
            let username = required(&options, "username")?;
            let had = lockout::unlock(&store, username)
                .await
                .map_err(|e| e.to_string())?;
            Ok(if had {
                format!("{username}: failed logins forgotten, unlocked")
            } else {
                format!("{username}: no failed logins on record")
            })
        }
        "hash-report" => {
            let report = directory::hash_report(&store)
                .await
                .map_err(|e| e.to_string())?;
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
        "clear-tokens" => {
            let removed = session::end_all(&store).await.map_err(|e| e.to_string())?;
            Ok(format!("{removed} sessions ended"))
        }
        _ => Err(USAGE.to_owned()),
    }
}

fn parse_options(args: &[String]) -> Result<HashMap<String, String>, String> {
    let mut options = HashMap::new();
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        let name = flag
            .strip_prefix("--")
            .ok_or_else(|| format!("unexpected argument {flag}\n{USAGE}"))?;
        let value = rest
            .next()
            .ok_or_else(|| format!("--{name} needs a value\n{USAGE}"))?;
        options.insert(name.to_owned(), value.clone());
    }
    Ok(options)
}

fn required<'a>(options: &'a HashMap<String, String>, name: &str) -> Result<&'a str, String> {
    options
        .get(name)
        .map(String::as_str)
        .ok_or_else(|| format!("--{name} is required\n{USAGE}"))
}

fn permissions(json: &str) -> Result<mongodb::bson::Document, String> {
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|_| "--permissions must be a JSON object".to_owned())?;
    match mongodb::bson::to_bson(&value) {
        Ok(mongodb::bson::Bson::Document(document)) => Ok(document),
        _ => Err("--permissions must be a JSON object".to_owned()),
    }
}

fn read_password() -> Result<SecretString, String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the password from stdin: {e}"))?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        return Err("no password on stdin (pipe one line, e.g. `read -rs PW; echo \"$PW\" | auth-admin user-new …`)".into());
    }
    Ok(SecretString::from(password))
}

fn describe(err: AccountError) -> String {
    match err {
        AccountError::Invalid(fields) => format!(
            "bad_request: {}",
            serde_json::to_string(&fields).unwrap_or_default()
        ),
        AccountError::Failure(failure) => format!("{failure}: {}", failure.message()),
        other => other.to_string(),
    }
}
