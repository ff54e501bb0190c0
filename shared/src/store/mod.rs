//! The MongoDB repository: one file per collection (`users`, `roles`,
//! `sessions` for `whitelist_token`, `session_meta`, `attempts` for
//! `login_attempt`), plus `login` (login's one read across `user` and
//! `login_attempt`) and `indexes`, each adding its methods to [`Store`].
//! Methods take and return domain values; MongoDB's query language lives only
//! here, and the rules (lockout, session lifetimes) live with the domain.
//!
//! Every database round trip is on some request's critical path, so each method is
//! exactly one command, and every one of them is bounded by a timeout: a database
//! that is down or silent costs a request a few seconds, never the Lambda timeout.

mod attempts;
mod error;
mod indexes;
mod login;
mod records;
mod roles;
mod session_meta;
mod sessions;
mod users;

pub use attempts::Reservation;
pub use error::StoreError;
pub use login::LoginState;
pub use records::{DbRef, NewRole, NewSession, NewUser, RoleRecord, SessionRecord, UserRecord};
pub use session_meta::{MetaRotation, PreviousRefresh, SessionMeta, SESSION_META};

use crate::settings::DatabaseSettings;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{doc, Document};
use mongodb::options::ClientOptions;
use mongodb::{Client, Collection, Database};
use records::{ROLE, USER, WHITELIST_TOKEN};
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use std::future::Future;
use std::time::Duration;

/// How long the driver may look for a usable server before giving up. Well below
/// API Gateway's 29 s, so an outage answers 503 instead of a gateway timeout.
const SERVER_SELECTION_TIMEOUT: Duration = Duration::from_secs(3);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// The bound on one whole operation, server selection included; the driver has no
/// socket read timeout, so without this a silent server would hang the request.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(5);

/// Lambda defaults, used when the connection string doesn't set them. A
/// container serves one event at a time and uses at most 4 connections at once
/// (a login's last step sends 3 commands together, a rehash included, while
/// the start-up index check may still send one); the driver's default of 10
/// per container would only count against the cluster's connection limit
/// (Atlas M10: 1,500 per node) across many containers.
const MAX_POOL_SIZE: u32 = 4;
/// MongoDB's guidance for Lambda: close connections idle for a minute, so a
/// container thawed after a long freeze reconnects instead of using sockets
/// the cluster or a NAT gateway has dropped.
const MAX_IDLE_TIME: Duration = Duration::from_secs(60);

#[derive(Clone, Debug)]
pub struct Store {
    db: Database,
}

impl Store {
    /// Parses the connection string and builds the client. No I/O happens here for
    /// a `mongodb://` URI, so a database outage can't fail a cold start; a
    /// `mongodb+srv://` URI costs one DNS lookup.
    pub async fn connect(settings: &DatabaseSettings) -> Result<Self, StoreError> {
        let parse = ClientOptions::parse(settings.uri.expose_secret());
        let options = tokio::time::timeout(OPERATION_TIMEOUT, parse)
            .await
            .map_err(|_| StoreError::Timeout)?
            .map_err(|_| StoreError::InvalidUri)?;
        Self::with_options(options, &settings.name)
    }

    /// Builds the store from ready options (tests add command monitoring here).
    /// Timeouts the options leave unset get this service's bounds.
    pub fn with_options(mut options: ClientOptions, database: &str) -> Result<Self, StoreError> {
        options
            .server_selection_timeout
            .get_or_insert(SERVER_SELECTION_TIMEOUT);
        options.connect_timeout.get_or_insert(CONNECT_TIMEOUT);
        options.max_pool_size.get_or_insert(MAX_POOL_SIZE);
        options.max_idle_time.get_or_insert(MAX_IDLE_TIME);
        options
            .app_name
            .get_or_insert_with(|| "auth-service".to_owned());
        let client = Client::with_options(options).map_err(|_| StoreError::InvalidUri)?;
        Ok(Store {
            db: client.database(database),
        })
    }

    /// Opens the connections a cold start's first request uses at once, before
    /// it comes: three (the guard's two reads; login's last step, which sends
    /// the session's two inserts with the attempt count's clearing), while the
    /// index check start-up leaves running may take the pool's fourth. Each costs TCP, TLS and authentication,
    /// hundreds of milliseconds to a remote cluster at a small memory size.
    /// Gives up after `within`: a database that is down must not fail or stall
    /// start-up.
    pub async fn warm_up(&self, within: Duration) -> Result<(), StoreError> {
        let ping = || async {
            self.db.run_command(doc! { "ping": 1 }).await?;
            Ok::<(), StoreError>(())
        };
        // Sent together, each command takes a connection of its own.
        let pings = async { tokio::try_join!(ping(), ping(), ping()).map(|_| ()) };
        tokio::time::timeout(within, pings)
            .await
            .unwrap_or(Err(StoreError::Timeout))
    }

    fn users<T: Send + Sync>(&self) -> Collection<T> {
        self.db.collection(USER)
    }

    fn roles<T: Send + Sync>(&self) -> Collection<T> {
        self.db.collection(ROLE)
    }

    fn sessions<T: Send + Sync>(&self) -> Collection<T> {
        self.db.collection(WHITELIST_TOKEN)
    }
}

/// Runs one database operation under [`OPERATION_TIMEOUT`].
async fn bounded<T>(
    operation: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    tokio::time::timeout(OPERATION_TIMEOUT, operation)
        .await
        .unwrap_or(Err(StoreError::Timeout))
}

/// Every document a cursor yields.
async fn collect<T: DeserializeOwned + Send + Sync>(
    mut cursor: mongodb::Cursor<T>,
) -> Result<Vec<T>, StoreError> {
    let mut all = Vec::new();
    while cursor.advance().await? {
        all.push(cursor.deserialize_current()?);
    }
    Ok(all)
}

fn inserted_id(result: mongodb::results::InsertOneResult) -> Result<ObjectId, StoreError> {
    result
        .inserted_id
        .as_object_id()
        .ok_or(StoreError::Unexpected("insert returned a non-ObjectId _id"))
}

fn decode<T: DeserializeOwned>(raw: Document) -> Result<T, StoreError> {
    mongodb::bson::from_document(raw).map_err(StoreError::Malformed)
}
