//! HS256 JWTs, claim for claim as `flask-auth-service-mongo` issues them, so tokens
//! from either service are accepted by the other while their whitelist entry lives.
//!
//! Access claims: `exp`, `iat`, `sub` (user id hex), `uuid`. Refresh claims: `exp`,
//! `uuid`, and from this service `sub` too (the Python service reads only `uuid`
//! from a refresh token, and issues none with `sub`). Each kind is decoded with
//! unknown fields denied, so an access token (which has `iat`) can never pass
//! as a refresh token, nor a refresh token (which has none) as an access token
//! (RFC 8725 3.12), though the Python format carries no explicit type claim.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessClaims {
    pub exp: i64,
    pub iat: i64,
    pub sub: String,
    pub uuid: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshClaims {
    pub exp: i64,
    pub uuid: String,
    /// The user the pair was issued to; absent from the Python service's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
}

/// A freshly signed pair and the identifiers the whitelist keeps for it.
#[derive(Debug)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub access: AccessClaims,
    pub refresh: RefreshClaims,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("token expired")]
    Expired,
    #[error("token invalid")]
    Invalid,
    #[error("token signing failed")]
    Signing,
    #[error("the secret key is empty")]
    EmptyKey,
}

/// The `uuid` claims of a pair: the ids the whitelist keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenIds {
    pub access: String,
    pub refresh: String,
}

impl TokenIds {
    /// Two fresh random (v4) ids.
    pub fn new() -> Self {
        TokenIds {
            access: uuid::Uuid::new_v4().to_string(),
            refresh: uuid::Uuid::new_v4().to_string(),
        }
    }
}

impl Default for TokenIds {
    fn default() -> Self {
        Self::new()
    }
}

/// Lifetimes of the two tokens, in minutes.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    pub access_minutes: u32,
    pub refresh_minutes: u32,
}

/// Signing and verifying keys, built once per container.
pub struct TokenKeys {
    signing: EncodingKey,
    /// The current key first; older keys still verify tokens signed before a rotation.
    verifying: Vec<DecodingKey>,
    validation: Validation,
    /// The same checks without `exp`: only to learn whose an expired token is.
    validation_any_expiry: Validation,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys").finish_non_exhaustive()
    }
}

impl TokenKeys {
    pub fn new(current: &SecretString, previous: &[SecretString]) -> Result<Self, TokenError> {
        let bytes = |key: &SecretString| key.expose_secret().as_bytes().to_vec();
        let signing =
            EncodingKey::from_secret(&bytes(current)).map_err(|_| TokenError::EmptyKey)?;
        let verifying = std::iter::once(current)
            .chain(previous)
            .map(|key| DecodingKey::from_secret(&bytes(key)).map_err(|_| TokenError::EmptyKey))
            .collect::<Result<Vec<_>, _>>()?;
        // Only HS256: `none`, other HMAC sizes and asymmetric algorithms are refused
        // before any signature work. No leeway: issuer and verifier share a clock.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.validate_aud = false;
        let mut validation_any_expiry = validation.clone();
        validation_any_expiry.validate_exp = false;
        validation_any_expiry.required_spec_claims.clear();
        Ok(TokenKeys {
            signing,
            verifying,
            validation,
            validation_any_expiry,
        })
    }

    /// Signs a new access/refresh pair for `user_id` (ObjectId hex).
    pub fn issue(&self, user_id: &str, lifetimes: Lifetimes) -> Result<TokenPair, TokenError> {
        self.issue_with_ids(user_id, lifetimes, TokenIds::new())
    }

    /// Signs a pair carrying ids chosen beforehand (and already whitelisted).
    pub fn issue_with_ids(
        &self,
        user_id: &str,
        lifetimes: Lifetimes,
        ids: TokenIds,
    ) -> Result<TokenPair, TokenError> {
        let now = now_seconds();
        let access = AccessClaims {
            exp: now + i64::from(lifetimes.access_minutes) * 60,
            iat: now,
            sub: user_id.to_owned(),
            uuid: ids.access,
        };
        let refresh = RefreshClaims {
            exp: now + i64::from(lifetimes.refresh_minutes) * 60,
            uuid: ids.refresh,
            sub: Some(user_id.to_owned()),
        };
        Ok(TokenPair {
            access_token: self.sign(&access)?,
            refresh_token: self.sign(&refresh)?,
            access,
            refresh,
        })
    }

    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<String, TokenError> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.signing)
            .map_err(|_| TokenError::Signing)
    }

    pub fn verify_access(&self, token: &str) -> Result<AccessClaims, TokenError> {
        self.verify(token)
    }

    pub fn verify_refresh(&self, token: &str) -> Result<RefreshClaims, TokenError> {
        self.verify(token)
    }

    /// An access token's claims if we signed it, expired or not. Never accept a
    /// caller on this: it only tells whose a token is.
    pub fn verify_access_signature(&self, token: &str) -> Result<AccessClaims, TokenError> {
        self.verify_with(token, &self.validation_any_expiry)
    }

    fn verify<T: DeserializeOwned>(&self, token: &str) -> Result<T, TokenError> {
        self.verify_with(token, &self.validation)
    }

    fn verify_with<T: DeserializeOwned>(
        &self,
        token: &str,
        validation: &Validation,
    ) -> Result<T, TokenError> {
        for key in &self.verifying {
            match jsonwebtoken::decode::<T>(token, key, validation) {
                Ok(data) => return Ok(data.claims),
                // Possibly signed with another of our keys: try the next one.
                Err(err) if matches!(err.kind(), ErrorKind::InvalidSignature) => continue,
                Err(err) if matches!(err.kind(), ErrorKind::ExpiredSignature) => {
                    return Err(TokenError::Expired)
                }
                Err(_) => return Err(TokenError::Invalid),
            }
        }
        Err(TokenError::Invalid)
    }
}

fn now_seconds() -> i64 {
    i64::try_from(jsonwebtoken::get_current_timestamp()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "a-test-key-that-is-long-enough-for-hs256";

    fn keys() -> TokenKeys {
        TokenKeys::new(&SecretString::from(KEY), &[]).unwrap()
    }

    const LIFETIMES: Lifetimes = Lifetimes {
        access_minutes: 60,
        refresh_minutes: 120,
    };

    #[test]
    fn an_issued_pair_round_trips() {
        let keys = keys();
        let pair = keys.issue("5e66a976ebc7469c6eb8a1b2", LIFETIMES).unwrap();
        let access = keys.verify_access(&pair.access_token).unwrap();
        assert_eq!(access, pair.access);
        assert_eq!(access.sub, "5e66a976ebc7469c6eb8a1b2");
        assert_eq!(access.exp - access.iat, 3600);
        let refresh = keys.verify_refresh(&pair.refresh_token).unwrap();
        assert_eq!(refresh, pair.refresh);
        assert_ne!(pair.access.uuid, pair.refresh.uuid);
    }

    #[test]
    fn access_and_refresh_tokens_cannot_stand_in_for_each_other() {
        let keys = keys();
        let pair = keys.issue("5e66a976ebc7469c6eb8a1b2", LIFETIMES).unwrap();
        assert_eq!(
            keys.verify_refresh(&pair.access_token),
            Err(TokenError::Invalid)
        );
        assert_eq!(
            keys.verify_access(&pair.refresh_token),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn an_expired_token_says_so() {
        let keys = keys();
        let claims = AccessClaims {
            exp: now_seconds() - 5,
            iat: now_seconds() - 65,
            sub: "x".into(),
            uuid: "u".into(),
        };
        let token = keys.sign(&claims).unwrap();
        assert_eq!(keys.verify_access(&token), Err(TokenError::Expired));
    }

    #[test]
    fn a_foreign_key_is_invalid_even_when_expired() {
        let other = TokenKeys::new(
            &SecretString::from("another-key-another-key-another-key"),
            &[],
        )
        .unwrap();
        let claims = AccessClaims {
            exp: now_seconds() - 5,
            iat: 0,
            sub: "x".into(),
            uuid: "u".into(),
        };
        let token = other.sign(&claims).unwrap();
        assert_eq!(keys().verify_access(&token), Err(TokenError::Invalid));
    }

    #[test]
    fn a_previous_key_still_verifies_and_signing_uses_the_current_one() {
        let old = keys();
        let token = old.issue("abc", LIFETIMES).unwrap().access_token;
        let rotated = TokenKeys::new(
            &SecretString::from("the-new-key-the-new-key-the-new-key"),
            &[SecretString::from(KEY)],
        )
        .unwrap();
        assert!(rotated.verify_access(&token).is_ok());
        let fresh = rotated.issue("abc", LIFETIMES).unwrap().access_token;
        assert_eq!(old.verify_access(&fresh), Err(TokenError::Invalid));
    }

    #[test]
    fn other_algorithms_and_none_are_refused() {
        let claims = AccessClaims {
            exp: now_seconds() + 60,
            iat: now_seconds(),
            sub: "x".into(),
            uuid: "u".into(),
        };
        let hs512 = jsonwebtoken::encode(
            &Header::new(Algorithm::HS512),
            &claims,
            &EncodingKey::from_secret(KEY.as_bytes()).unwrap(),
        )
        .unwrap();
        assert_eq!(keys().verify_access(&hs512), Err(TokenError::Invalid));

        let b64 = |s: &str| {
            use base64::Engine;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
        };
        let none = format!(
            "{}.{}.",
            b64(r#"{"alg":"none","typ":"JWT"}"#),
            b64(&serde_json::to_string(&claims).unwrap())
        );
        assert_eq!(keys().verify_access(&none), Err(TokenError::Invalid));
    }

    #[test]
    fn an_expired_token_still_tells_whose_it_is_when_asked() {
        let keys = keys();
        let claims = AccessClaims {
            exp: now_seconds() - 600,
            iat: now_seconds() - 700,
            sub: "abc".into(),
            uuid: "u".into(),
        };
        let token = keys.sign(&claims).unwrap();
        assert_eq!(keys.verify_access(&token), Err(TokenError::Expired));
        assert_eq!(keys.verify_access_signature(&token).unwrap().sub, "abc");
        let other = TokenKeys::new(
            &SecretString::from("x-key-x-key-x-key-x-key-x-key-x-key"),
            &[],
        )
        .unwrap();
        assert_eq!(
            other.verify_access_signature(&token),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn garbage_is_invalid() {
        for token in [
            "",
            "a.b.c",
            "not-a-token",
            "..",
            "eyJhbGciOiJIUzI1NiJ9.e30.",
        ] {
            assert_eq!(
                keys().verify_access(token),
                Err(TokenError::Invalid),
                "{token}"
            );
        }
    }
}
