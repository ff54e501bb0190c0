//! What a container runs on: the [`app`] built once at init (settings, the
//! database client, the keys), the database's indexes ([`setup`]), logging
//! ([`telemetry`]) and the audit trail of auth events ([`audit`]).

pub mod app;
pub mod audit;
pub mod setup;
pub mod telemetry;
