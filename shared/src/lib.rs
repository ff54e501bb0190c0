//! The library the auth functions share: settings, the MongoDB store, passwords,
//! tokens, the bearer guard and the JSON responses. The function binaries are thin
//! adapters from API Gateway events to [`session`] and [`guard`].

pub mod accounts;
pub mod app;
pub mod error;
pub mod guard;
pub mod http;
pub mod password;
pub mod response;
pub mod secrets;
pub mod session;
pub mod settings;
pub mod store;
pub mod telemetry;
pub mod token;
pub mod validate;

pub use app::{start, App, InitError};
pub use error::ServiceError;

/// Re-exported so the function crates build on the same versions.
pub use lambda_http;
