//! The command line: `auth-admin`'s commands and flags, as clap reads them.

use clap::error::ErrorKind;
use clap::{CommandFactory, Parser, Subcommand};
use mongodb::bson::Document;

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
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
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

/// Exits with a usage error (code 2) in clap's words and format, showing the
/// usage of `subcommand`.
pub fn usage_error(subcommand: &str, message: &str) -> ! {
    let mut cli = Cli::command();
    cli.build();
    let mut command = cli.find_subcommand(subcommand).cloned().unwrap_or(cli);
    command
        .error(ErrorKind::MissingRequiredArgument, message)
        .exit()
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
