//! The library the auth functions share. The function binaries are thin adapters
//! from API Gateway events to the domain modules here; only the domain modules
//! talk to the [`store`].
//!
//! - domain: [`session`] (login, logout), [`refresh`] (rotation, reuse, the
//!   lifetime cap), [`session_list`] (the sessions a user sees and ends),
//!   [`guard`] (the bearer check),
//!   [`accounts`] (creating and changing users and roles), [`directory`]
//!   (reading them), [`setup`] (indexes);
//! - rules: [`validate`], [`password`], [`token`], [`settings`];
//! - plumbing: [`app`] (built once per container), [`keyring`] (key rotation),
//!   [`secrets`], [`store`], [`http`], [`serve`], [`cors`], [`response`] (the one
//!   error-to-HTTP map), [`telemetry`], [`audit`] (the event trail).

pub mod accounts;
pub mod app;
pub mod audit;
pub mod cors;
pub mod directory;
pub mod error;
pub mod guard;
mod hash_memory;
pub mod http;
pub mod ids;
pub mod keyring;
pub mod lockout;
pub mod password;
pub mod protected;
pub mod refresh;
pub mod response;
pub mod secrets;
pub mod serve;
pub mod session;
pub mod session_list;
pub mod settings;
pub mod setup;
pub mod store;
pub mod telemetry;
pub mod timing;
pub mod token;
pub mod validate;

pub use app::{start, App, InitError};
pub use error::ServiceError;
pub use ids::{RoleId, SessionId, UserId};
pub use serve::serve;

/// Re-exported so the function crates build on the same versions.
pub use lambda_http;
