//! Small pieces several test files need: signing tokens by hand, a server that
//! never answers.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

/// `claims` signed with `key`, as anyone holding the key (or not) could.
pub fn sign(claims: &Value, algorithm: Algorithm, key: &str) -> String {
    let key = EncodingKey::from_secret(key.as_bytes()).expect("a non-empty key");
    jsonwebtoken::encode(&Header::new(algorithm), claims, &key).expect("sign")
}

/// `claims` signed the way this service and the Python one sign: HS256.
pub fn sign_hs256(claims: &Value, key: &str) -> String {
    sign(claims, Algorithm::HS256, key)
}

pub fn now() -> i64 {
    i64::try_from(jsonwebtoken::get_current_timestamp()).unwrap_or(i64::MAX)
}

/// An access token for `user_id` hex, signed with `key`, that expired ten
/// minutes ago: ours (or another's), but no longer live.
pub fn expired_access_token(user_id: &str, key: &str) -> String {
    let now = now();
    let claims = json!({"exp": now - 600, "iat": now - 4200, "sub": user_id, "uuid": "old"});
    sign_hs256(&claims, key)
}

/// A loopback port that accepts connections and never sends a byte: the worst
/// kind of outage, which only timeouts end.
pub fn silent_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    port
}
