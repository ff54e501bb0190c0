//! Relay global ids: `base64("User:<ObjectId hex>")` out; on input a global id of
//! the right type or a bare ObjectId hex, anything else `id_not_valid`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use shared::{SessionId, UserId};
use std::fmt::Display;

/// Standard, padded base64 of `Type:hex`, as graphql-relay writes it.
pub fn to_global(type_name: &str, id: &impl Display) -> String {
    STANDARD.encode(format!("{type_name}:{id}"))
}

/// The user `input` names, if it is a `User` global id or a bare hex id.
pub fn user_id(input: &str) -> Option<UserId> {
    UserId::from_hex(input).or_else(|| UserId::from_hex(&global_hex(input, "User")?))
}

/// The session `input` names, if it is a `Session` global id or a bare hex id.
pub fn session_id(input: &str) -> Option<SessionId> {
    SessionId::from_hex(input).or_else(|| SessionId::from_hex(&global_hex(input, "Session")?))
}

/// The hex of a global id of type `type_name`.
fn global_hex(input: &str, type_name: &str) -> Option<String> {
    let decoded = STANDARD.decode(input).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    match text.split_once(':')? {
        (name, hex) if name == type_name => Some(hex.to_owned()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_global_id_round_trips_and_matches_graphql_relay() {
        let id = UserId::from_hex("5e66a976ebc7469c6eb8a1b2").unwrap();
        let global = to_global("User", &id);
        // base64.b64encode(b"User:5e66a976ebc7469c6eb8a1b2")
        assert_eq!(global, "VXNlcjo1ZTY2YTk3NmViYzc0NjljNmViOGExYjI=");
        assert_eq!(user_id(&global), Some(id));
        assert_eq!(user_id("5e66a976ebc7469c6eb8a1b2"), Some(id));
    }

    #[test]
    fn a_session_id_is_a_session_global_id_or_bare_hex() {
        let id = SessionId::from_hex("5e66a976ebc7469c6eb8a1b2").unwrap();
        assert_eq!(session_id(&to_global("Session", &id)), Some(id));
        assert_eq!(session_id("5e66a976ebc7469c6eb8a1b2"), Some(id));
        assert_eq!(session_id(&to_global("User", &id)), None);
    }

    #[test]
    fn anything_else_is_not_an_id() {
        let id = UserId::from_hex("5e66a976ebc7469c6eb8a1b2").unwrap();
        for input in [
            "",
            "nope",
            "5e66a976ebc7469c6eb8a1b",
            &to_global("Role", &id),
            "VXNlcjpub3QtaGV4",
            "!!!!",
        ] {
            assert_eq!(user_id(input), None, "{input}");
        }
    }
}
