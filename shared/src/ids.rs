//! Typed ids, so a user's id can't be passed where a session's is wanted, and so
//! the crates above `shared` never handle MongoDB's `ObjectId` themselves; and
//! [`Username`], which lower-cases itself when built, so no caller has to.

use mongodb::bson::oid::ObjectId;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A user: the `_id` of their `user` document, and the `sub` claim of their
/// access tokens (as 24 hex digits, the Python service's format).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(ObjectId);

/// A session: the `_id` of its `whitelist_token` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SessionId(ObjectId);

/// A role: the `_id` of its `role` document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RoleId(ObjectId);

macro_rules! object_id_newtype {
    ($name:ident) => {
        impl $name {
            /// From its 24 hex digits; `None` for anything else.
            pub fn from_hex(hex: &str) -> Option<Self> {
                ObjectId::parse_str(hex).ok().map(Self)
            }

            pub fn to_hex(self) -> String {
                self.0.to_hex()
            }

            pub(crate) fn object_id(self) -> ObjectId {
                self.0
            }
        }

        impl From<ObjectId> for $name {
            fn from(id: ObjectId) -> Self {
                Self(id)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    };
}

object_id_newtype!(UserId);
object_id_newtype!(SessionId);
object_id_newtype!(RoleId);

impl SessionId {
    /// A new id, for a whitelist entry about to be written.
    pub fn generate() -> Self {
        Self(ObjectId::new())
    }
}

impl UserId {
    /// The user an access token's `sub` claim names; `None` if it names nothing
    /// this service could have issued.
    pub fn from_subject(subject: &str) -> Option<Self> {
        Self::from_hex(subject)
    }

    /// The `sub` claim for this user's tokens.
    pub fn to_subject(self) -> String {
        self.to_hex()
    }
}

/// The longest username accepted anywhere: longer ones are refused before
/// any database or hashing work.
pub const USERNAME_MAX_LEN: usize = 256;

/// A username as the service stores and compares it: lower-cased (as the
/// Python service stores them), not empty, at most [`USERNAME_MAX_LEN`]
/// characters, without spaces. Built by [`Username::parse`] from what a person
/// typed, or read back from the database as it was stored.
///
/// The rules for a *new* username (a minimum length, no invisible characters)
/// are stricter and live with account creation; these are the ones every
/// username, old or new, meets, so a name made under laxer rules still logs in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Username(String);

/// Why a text is not a username; the messages are the Python service's
/// (Cerberus') for the same field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UsernameError {
    #[error("empty values not allowed")]
    Empty,
    #[error("max length is {USERNAME_MAX_LEN}")]
    TooLong,
    #[error("Must not contain spaces")]
    HasSpaces,
}

impl Username {
    /// Lower-cases `raw` and checks the rules every username meets.
    pub fn parse(raw: &str) -> Result<Self, UsernameError> {
        if raw.is_empty() {
            return Err(UsernameError::Empty);
        }
        if raw.chars().count() > USERNAME_MAX_LEN {
            return Err(UsernameError::TooLong);
        }
        if raw.contains(' ') {
            return Err(UsernameError::HasSpaces);
        }
        Ok(Username(raw.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Username {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_username_is_lower_cased_when_built() {
        let name = Username::parse("Root.Admin").unwrap();
        assert_eq!(name.as_str(), "root.admin");
        assert_eq!(name, Username::parse("ROOT.ADMIN").unwrap());
    }

    #[test]
    fn a_username_is_not_empty_short_enough_and_has_no_spaces() {
        assert_eq!(Username::parse(""), Err(UsernameError::Empty));
        assert_eq!(Username::parse("a b"), Err(UsernameError::HasSpaces));
        let longest = "a".repeat(USERNAME_MAX_LEN);
        assert!(Username::parse(&longest).is_ok());
        assert_eq!(
            Username::parse(&format!("{longest}a")),
            Err(UsernameError::TooLong)
        );
        // Counted in characters, as Cerberus counts them.
        assert!(Username::parse(&"é".repeat(USERNAME_MAX_LEN)).is_ok());
    }

    #[test]
    fn a_subject_round_trips_as_24_hex_digits() {
        let id = UserId::from_subject("5e66a976ebc7469c6eb8a1b2").unwrap();
        assert_eq!(id.to_subject(), "5e66a976ebc7469c6eb8a1b2");
        assert_eq!(id.to_string(), "5e66a976ebc7469c6eb8a1b2");
        for bad in [
            "",
            "x",
            "5e66a976ebc7469c6eb8a1b",
            "5e66a976ebc7469c6eb8a1bz",
        ] {
            assert_eq!(UserId::from_subject(bad), None, "{bad}");
        }
    }
}
