//! The token and password machinery: what proves who a caller is.
//!
//! - [`guard`]: the bearer check in front of logout, graphql (and any route a
//!   team guards), with the Python decorator's checks and messages;
//! - [`token`]: signing and verifying the HS256 JWTs the Python service issues;
//! - [`keyring`]: the keys in force, re-read from the secret for rotations;
//! - [`password`]: hashing and checking passwords (argon2id, the Python
//!   service's bcrypt), the memory they borrow, and equal-time refusals.

pub mod guard;
pub mod keyring;
pub mod password;
pub mod token;
