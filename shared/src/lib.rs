//! The library the auth functions share. The function binaries are thin
//! adapters from API Gateway events to the domain here; only the domain talks
//! to the [`store`], and the store speaks only MongoDB.
//!
//! A guided tour, in the order a request meets it:
//! - [`http`]: what a request says, the one entry every handler goes
//!   through ([`http::serve`]: key refresh, deadline), the one map from
//!   errors to answers ([`http::response`]), CORS;
//! - [`auth`]: who the caller is: the bearer [`auth::guard`], the JWTs
//!   ([`auth::token`], [`auth::keyring`]) and passwords ([`auth::password`]);
//! - [`sessions`]: login (past the lockout), refresh, listing, logout, ending;
//! - [`accounts`]: creating and changing users and roles, `PROTECTED_ROLES`,
//!   and reading them for administration;
//! - [`store`]: one file per collection, each method one MongoDB command
//!   taking and returning domain types;
//! - [`runtime`]: the [`App`] built once per container, the indexes, logging
//!   and the audit trail;
//! - [`settings`]: typed settings from the environment and Secrets Manager;
//! - [`error`], [`ids`], [`validate`]: the error enum, typed ids and
//!   usernames, and the Python service's body rules.
//!
//! Follow a login: `functions/login` -> [`sessions::login::login`] ->
//! [`sessions::lockout::admit`] -> `store::login` (the user and its locks,
//! two reads sent together) and `store::attempts` (the count), then
//! [`auth::password`], then `store::sessions` and `store::session_meta`
//! (two inserts sent together). Modules point one way: a test in
//! `tests/tests/e2e/layout.rs` fails on any import cycle.

pub mod accounts;
pub mod auth;
pub mod error;
pub mod http;
pub mod ids;
pub mod runtime;
pub mod sessions;
pub mod settings;
pub mod store;
pub mod validate;

pub use error::ServiceError;
pub use http::serve::serve;
pub use ids::{RoleId, SessionId, UserId, Username};
pub use runtime::app::{start, App, InitError};

/// Re-exported so the function crates build on the same versions.
pub use lambda_http;
