//! Password hashing.
//!
//! New hashes are argon2id PHC strings at OWASP's minimum (m=19456 KiB, t=2, p=1).
//! Hashes the Python service left are bcrypt (`$2b$…`): they still verify, and the
//! caller is told to rehash them to argon2id after the first successful login.
//! With `PASSWORD_HASH=bcrypt` (for a period beside the Python service, or to
//! keep a rollback possible) new hashes are bcrypt at the package's cost 12 and
//! nothing is rehashed, so the Python service can verify every password.
//! Hashing is CPU-bound for tens of milliseconds, so the async entry points run it
//! on tokio's blocking pool instead of stalling the executor. Every argon2 call
//! works in the container's one kept memory block (`memory.rs`).

mod memory;
pub mod timing;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};

const MEMORY_KIB: u32 = 19_456;
const ITERATIONS: u32 = 2;
const PARALLELISM: u32 = 1;
const OUTPUT_LEN: usize = 32;

/// An argon2id hash of a random string nobody knows, at the current parameters.
/// Verifying against it when a username does not exist costs what a real check
/// costs, so response time does not reveal which usernames exist.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$K6oyZMbM34Lpp+0Qarfo2Q$lhthgEMgX70GL/kywK0I3dao2bCQ7TGXAcSLMkMZU4Y";

/// A bcrypt hash (cost 12, as the Python package writes them) of a random string
/// nobody knows: the dummy under `PASSWORD_HASH=bcrypt`, where real checks cost
/// a bcrypt verification.
const DUMMY_BCRYPT_HASH: &str = "$2b$12$QeiBKdWPWfGz3IxiZXQPJuoPPF11G6XB7zpLhI7H.V6/Yanq3X1DG";

/// The package's bcrypt cost.
const BCRYPT_COST: u32 = 12;

/// How new passwords are stored (`PASSWORD_HASH`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HashScheme {
    /// argon2id at OWASP's parameters; bcrypt hashes are upgraded at login.
    #[default]
    Argon2id,
    /// bcrypt `$2b$`, cost 12, as the Python package writes; nothing is upgraded.
    Bcrypt,
}

impl HashScheme {
    /// `argon2id` or `bcrypt`.
    pub fn parse(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "argon2id" => Some(HashScheme::Argon2id),
            "bcrypt" => Some(HashScheme::Bcrypt),
            _ => None,
        }
    }

    /// The scheme a stored hash is in; `None` for a format we can't read.
    pub fn of(stored: &str) -> Option<Self> {
        if is_bcrypt(stored) {
            Some(HashScheme::Bcrypt)
        } else if stored.starts_with("$argon2id$") {
            Some(HashScheme::Argon2id)
        } else {
            None
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Mismatch,
    /// The password is right; `needs_rehash` when the stored hash is bcrypt or
    /// argon2 weaker than today's parameters.
    Match {
        needs_rehash: bool,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("password hashing worker failed")]
    Worker(#[from] tokio::task::JoinError),
}

fn hasher() -> Argon2<'static> {
    // Constant, valid parameters: `Params::new` cannot fail for them.
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, Some(OUTPUT_LEN))
        .unwrap_or(Params::DEFAULT);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a new password in `scheme`, with a fresh random salt.
pub fn hash_with(scheme: HashScheme, password: &str) -> Result<String, PasswordError> {
    match scheme {
        HashScheme::Argon2id => hash(password),
        HashScheme::Bcrypt => bcrypt::hash_with_result(password, BCRYPT_COST)
            .map(|parts| parts.format_for_version(bcrypt::Version::TwoB))
            .map_err(|err| PasswordError::Hash(err.to_string())),
    }
}

/// Hashes a new password to an argon2id PHC string with a fresh random salt.
pub fn hash(password: &str) -> Result<String, PasswordError> {
    let failed = |err: &dyn std::fmt::Display| PasswordError::Hash(err.to_string());
    let hasher = hasher();
    let salt = Salt::generate();
    let mut output = [0u8; OUTPUT_LEN];
    argon2_into(&hasher, password.as_bytes(), &salt, &mut output).map_err(|e| failed(&e))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(hasher.params()).map_err(|e| failed(&e))?,
        salt: Some(salt),
        hash: Some(Output::new(&output).map_err(|e| failed(&e))?),
    };
    Ok(phc.to_string())
}

/// Runs argon2 into `output`, in the container's kept memory when it is free.
fn argon2_into(
    hasher: &Argon2<'_>,
    password: &[u8],
    salt: &[u8],
    output: &mut [u8],
) -> argon2::Result<()> {
    let keep = usize::try_from(MEMORY_KIB).unwrap_or(usize::MAX);
    memory::with_blocks(hasher.params().block_count(), keep, |blocks| {
        hasher.hash_password_into_with_memory(password, salt, output, blocks)
    })
}

/// Whether `password` gives the argon2 `parsed` hash, with the parameters,
/// algorithm and version it names; the outputs are compared in constant time.
fn argon2_matches(password: &str, parsed: &PasswordHash) -> bool {
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm.as_str()) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(version) => version.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = Params::try_from(parsed) else {
        return false;
    };
    let hasher = Argon2::new(algorithm, version, params);
    let mut buffer = [0u8; Output::MAX_LENGTH];
    let Some(output) = buffer.get_mut(..expected.len()) else {
        return false;
    };
    if argon2_into(&hasher, password.as_bytes(), salt, output).is_err() {
        return false;
    }
    // `Output`'s equality is constant-time.
    Output::new(output).is_ok_and(|computed| computed == *expected)
}

/// Checks `password` against a stored hash (argon2 PHC or bcrypt). An unreadable
/// stored hash is a mismatch, never an error the caller could leak.
pub fn verify(password: &str, stored: &str) -> Verdict {
    if is_bcrypt(stored) {
        return match bcrypt::verify(password, stored) {
            Ok(true) => Verdict::Match { needs_rehash: true },
            _ => Verdict::Mismatch,
        };
    }
    let Ok(parsed) = PasswordHash::new(stored) else {
        tracing::warn!("stored password hash is in an unknown format");
        return Verdict::Mismatch;
    };
    if argon2_matches(password, &parsed) {
        Verdict::Match {
            needs_rehash: is_weaker_than_current(&parsed),
        }
    } else {
        Verdict::Mismatch
    }
}

/// Spends the time of a real verification in `scheme` and always fails.
pub fn verify_dummy(scheme: HashScheme, password: &str) -> Verdict {
    let dummy = match scheme {
        HashScheme::Argon2id => DUMMY_HASH,
        HashScheme::Bcrypt => DUMMY_BCRYPT_HASH,
    };
    let _ = verify(password, dummy);
    Verdict::Mismatch
}

/// [`verify`] on the blocking pool; `stored == None` verifies against the dummy
/// of `scheme`. Under bcrypt nothing is to be rehashed: `needs_rehash` is false.
pub async fn verify_off_executor(
    scheme: HashScheme,
    password: SecretString,
    stored: Option<String>,
) -> Result<Verdict, PasswordError> {
    let verdict = tokio::task::spawn_blocking(move || match stored {
        Some(stored) => verify(password.expose_secret(), &stored),
        None => verify_dummy(scheme, password.expose_secret()),
    })
    .await?;
    Ok(match (scheme, verdict) {
        (HashScheme::Bcrypt, Verdict::Match { .. }) => Verdict::Match {
            needs_rehash: false,
        },
        (_, verdict) => verdict,
    })
}

/// [`hash_with`] on the blocking pool.
pub async fn hash_off_executor(
    scheme: HashScheme,
    password: SecretString,
) -> Result<String, PasswordError> {
    tokio::task::spawn_blocking(move || hash_with(scheme, password.expose_secret())).await?
}

fn is_bcrypt(stored: &str) -> bool {
    ["$2a$", "$2b$", "$2x$", "$2y$"]
        .iter()
        .any(|prefix| stored.starts_with(prefix))
}

fn is_weaker_than_current(parsed: &PasswordHash) -> bool {
    if parsed.algorithm.as_str() != "argon2id" {
        return true;
    }
    match Params::try_from(parsed) {
        Ok(params) => params.m_cost() < MEMORY_KIB || params.t_cost() < ITERATIONS,
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    /// Made by Python's bcrypt at 12 rounds, as flask-auth-service-mongo stores it.
    const PYTHON_BCRYPT: &str = "$2b$12$SAi73xqOTSlUoqw.a7K50eZv/27qMjEL9PCd4Rl.Ej4Q0fdtB76Aa";

    #[test]
    fn a_new_hash_is_argon2id_with_owasp_parameters_and_verifies() {
        let hashed = hash("correct horse").unwrap();
        assert!(
            hashed.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hashed}"
        );
        assert_eq!(
            verify("correct horse", &hashed),
            Verdict::Match {
                needs_rehash: false
            }
        );
        assert_eq!(verify("correct horsf", &hashed), Verdict::Mismatch);
        // The crate's own verifier agrees (our hashing works in kept memory).
        let parsed = PasswordHash::new(&hashed).unwrap();
        assert!(hasher().verify_password(b"correct horse", &parsed).is_ok());
    }

    #[test]
    fn two_hashes_of_one_password_differ_by_salt() {
        assert_ne!(hash("same").unwrap(), hash("same").unwrap());
    }

    #[test]
    fn a_python_bcrypt_hash_verifies_and_asks_for_a_rehash() {
        assert_eq!(
            verify("python-pass", PYTHON_BCRYPT),
            Verdict::Match { needs_rehash: true }
        );
        assert_eq!(verify("python-pasS", PYTHON_BCRYPT), Verdict::Mismatch);
    }

    #[test]
    fn a_weaker_argon2_hash_asks_for_a_rehash() {
        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8 * 1024, 1, 1, None).unwrap(),
        )
        .hash_password(b"pw")
        .unwrap()
        .to_string();
        assert_eq!(verify("pw", &weak), Verdict::Match { needs_rehash: true });
    }

    #[test]
    fn garbage_stored_hashes_never_match() {
        for stored in ["", "plain-text", "$2b$12$short", "$argon2id$v=19$nonsense"] {
            assert_eq!(verify("plain-text", stored), Verdict::Mismatch, "{stored}");
        }
    }

    #[test]
    fn the_dummy_hash_uses_current_parameters() {
        let parsed = PasswordHash::new(DUMMY_HASH).unwrap();
        assert!(!is_weaker_than_current(&parsed));
        assert_eq!(
            verify_dummy(HashScheme::Argon2id, "anything"),
            Verdict::Mismatch
        );
        assert_eq!(
            verify_dummy(HashScheme::Bcrypt, "anything"),
            Verdict::Mismatch
        );
    }

    #[tokio::test]
    async fn the_async_entry_points_agree_with_the_sync_ones() {
        let hashed = hash_off_executor(HashScheme::Argon2id, SecretString::from("pw-async"))
            .await
            .unwrap();
        let verdict = verify_off_executor(
            HashScheme::Argon2id,
            SecretString::from("pw-async"),
            Some(hashed),
        )
        .await
        .unwrap();
        assert_eq!(
            verdict,
            Verdict::Match {
                needs_rehash: false
            }
        );
        let verdict =
            verify_off_executor(HashScheme::Argon2id, SecretString::from("pw-async"), None)
                .await
                .unwrap();
        assert_eq!(verdict, Verdict::Mismatch);
    }

    #[test]
    fn a_bcrypt_hash_is_2b_at_cost_12_and_verifies() {
        let hashed = hash_with(HashScheme::Bcrypt, "correct horse").unwrap();
        assert!(hashed.starts_with("$2b$12$"), "{hashed}");
        assert_eq!(HashScheme::of(&hashed), Some(HashScheme::Bcrypt));
        assert_eq!(
            verify("correct horse", &hashed),
            Verdict::Match { needs_rehash: true }
        );
        assert_eq!(verify("wrong horse", &hashed), Verdict::Mismatch);
    }

    #[test]
    fn the_scheme_of_a_stored_hash_is_told_by_its_prefix() {
        assert_eq!(HashScheme::of(DUMMY_HASH), Some(HashScheme::Argon2id));
        assert_eq!(HashScheme::of(PYTHON_BCRYPT), Some(HashScheme::Bcrypt));
        assert_eq!(HashScheme::of("plain"), None);
        assert_eq!(HashScheme::parse("BCRYPT"), Some(HashScheme::Bcrypt));
        assert_eq!(HashScheme::parse("md5"), None);
    }
}
