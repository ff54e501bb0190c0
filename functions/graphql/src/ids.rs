//! Relay global ids: `base64("User:<ObjectId hex>")` out; on input a global id of
//! the right type or a bare ObjectId hex, anything else `id_not_valid`.

use mongodb::bson::oid::ObjectId;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub fn to_global(type_name: &str, id: &ObjectId) -> String {
    encode(format!("{type_name}:{}", id.to_hex()).as_bytes())
}

/// The ObjectId behind `input`, if it is a `type_name` global id or a bare hex id.
pub fn from_input(type_name: &str, input: &str) -> Option<ObjectId> {
    if let Ok(id) = ObjectId::parse_str(input) {
        return Some(id);
    }
    let decoded = decode(input)?;
    let text = String::from_utf8(decoded).ok()?;
    let (kind, hex) = text.split_once(':')?;
    if kind != type_name {
        return None;
    }
    ObjectId::parse_str(hex).ok()
}

/// Standard, padded base64, as graphql-relay writes it.
fn encode(input: &[u8]) -> String {
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn decode(input: &str) -> Option<Vec<u8>> {
    let trimmed = input.trim_end_matches('=');
    if input.len() - trimmed.len() > 2 {
        return None;
    }
    let mut out = Vec::with_capacity(trimmed.len() * 3 / 4);
    let mut buffer = 0u32;
    let mut bits = 0;
    for byte in trimmed.bytes() {
        let value = ALPHABET.iter().position(|&c| c == byte)? as u32;
        buffer = (buffer << 6) | value;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_global_id_round_trips_and_matches_graphql_relay() {
        let id = ObjectId::parse_str("5e66a976ebc7469c6eb8a1b2").unwrap();
        let global = to_global("User", &id);
        // base64.b64encode(b"User:5e66a976ebc7469c6eb8a1b2")
        assert_eq!(global, "VXNlcjo1ZTY2YTk3NmViYzc0NjljNmViOGExYjI=");
        assert_eq!(from_input("User", &global), Some(id));
        assert_eq!(from_input("User", "5e66a976ebc7469c6eb8a1b2"), Some(id));
    }

    #[test]
    fn anything_else_is_not_an_id() {
        let id = ObjectId::parse_str("5e66a976ebc7469c6eb8a1b2").unwrap();
        for input in [
            "",
            "nope",
            "5e66a976ebc7469c6eb8a1b",
            &to_global("Role", &id),
            "VXNlcjpub3QtaGV4",
            "!!!!",
        ] {
            assert_eq!(from_input("User", input), None, "{input}");
        }
    }
}
