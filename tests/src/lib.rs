//! The end-to-end harness: a real MongoDB-wire server, a Lambda Runtime API
//! emulator that runs the built function binaries, API Gateway events, the
//! database fixtures the tests seed, and a proxy for outages at a chosen moment.

pub mod admin_cli;
pub mod app;
pub mod compat;
pub mod db;
pub mod domain;
pub mod events;
pub mod function;
pub mod helpers;
pub mod machine;
pub mod mongo_server;
pub mod moto_server;
pub mod proxy;
pub mod python_service;
pub mod readme;
pub mod runtime_api;

pub use admin_cli::AdminCli;
pub use app::{TestApp, TestUser};
pub use db::TestDb;
pub use events::{HttpRequest, Payload};
pub use function::{Function, LambdaResponse};

/// The signing key the test functions run with.
pub const SECRET_KEY: &str = "e2e-secret-key-0123456789abcdef0123456789";
