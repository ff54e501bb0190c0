//! Typed ids, so a user's id can't be passed where a session's is wanted, and so
//! the crates above `shared` never handle MongoDB's `ObjectId` themselves.

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

#[cfg(test)]
mod tests {
    use super::*;

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
