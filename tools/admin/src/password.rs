//! Where `user-new` gets the password: a hidden prompt on the terminal, asked
//! twice, or one line of standard input with `--password-stdin`. Never an
//! argument, where `ps` and the shell history would keep it.

use crate::Refusal;
use secrecy::{ExposeSecret, SecretString};
use std::io::{BufRead, IsTerminal};

/// How the password arrives, decided before anything else runs.
pub enum PasswordSource {
    /// `--password-stdin`: one line of standard input.
    Stdin,
    /// Standard input is a terminal: prompt, without echo, and confirm.
    Prompt,
}

impl PasswordSource {
    /// `None` when neither applies: standard input is not a terminal and
    /// `--password-stdin` was not given. That is a usage error rather than a
    /// silent read of whatever stdin holds: a script must say where its
    /// password comes from, and a job whose stdin is a file or `/dev/null`
    /// should stop instead of creating a user with an unintended password.
    pub fn choose(password_stdin: bool) -> Option<Self> {
        if password_stdin {
            Some(PasswordSource::Stdin)
        } else if std::io::stdin().is_terminal() {
            Some(PasswordSource::Prompt)
        } else {
            None
        }
    }

    pub fn read(self) -> Result<SecretString, Refusal> {
        match self {
            PasswordSource::Stdin => from_stdin(),
            PasswordSource::Prompt => from_prompt(),
        }
    }
}

/// The first line of standard input without its line ending; every other
/// character (spaces included) is the password's, for the rules to judge.
fn from_stdin() -> Result<SecretString, Refusal> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Refusal(format!("cannot read the password from stdin: {e}")))?;
    let line = SecretString::from(line);
    let password = strip_line_ending(line.expose_secret());
    if password.is_empty() {
        return Err(Refusal("no password on stdin".into()));
    }
    Ok(SecretString::from(password.to_owned()))
}

fn strip_line_ending(line: &str) -> &str {
    let line = line.strip_suffix('\n').unwrap_or(line);
    line.strip_suffix('\r').unwrap_or(line)
}

/// Prompts on the terminal (rpassword turns echo off while reading) and asks
/// again to catch a typo, since nobody saw what was typed.
fn from_prompt() -> Result<SecretString, Refusal> {
    let ask = |prompt: &str| {
        rpassword::prompt_password(prompt)
            .map(SecretString::from)
            .map_err(|e| Refusal(format!("cannot read the password from the terminal: {e}")))
    };
    let password = ask("Password: ")?;
    let confirmed = ask("Confirm password: ")?;
    if password.expose_secret() != confirmed.expose_secret() {
        return Err(Refusal("passwords do not match".into()));
    }
    Ok(password)
}

#[cfg(test)]
mod tests {
    use super::strip_line_ending;

    #[test]
    fn only_the_line_ending_is_stripped() {
        assert_eq!(strip_line_ending("pw\n"), "pw");
        assert_eq!(strip_line_ending("pw\r\n"), "pw");
        assert_eq!(strip_line_ending(" pw \n"), " pw ");
        assert_eq!(strip_line_ending("pw"), "pw");
        assert_eq!(strip_line_ending("pw\n\n"), "pw\n");
    }
}
