//! The end-to-end tests, as one binary: one link of the workspace, and one
//! database server and one Secrets Manager emulator for the whole run (both are
//! started on first use, once per process). A module per area.

mod admin;
mod authorizer;
mod benchmark_doc;
mod compatibility;
mod connections;
mod cors;
mod domain;
mod failover;
mod graphql;
mod graphql_depth;
mod layout;
mod lockout;
mod login;
mod logout;
mod memory;
mod outage;
mod refusal_timing;
mod round_trips;
mod secrets;
mod security;
mod sessions;
mod settings;
mod side_by_side;
mod smoke;
mod template;
mod template_snippets;
mod ttl;
mod whitelist_off;
