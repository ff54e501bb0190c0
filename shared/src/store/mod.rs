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
mod ip_failures;
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
use mongodb::options::{ClientOptions, DatabaseOptions, ReadPreference, SelectionCriteria};
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

/// The server's own limit on one read or find-and-modify (`maxTimeMS`), below
/// the client's [`OPERATION_TIMEOUT`]: a command the client has given up on
/// must not go on to complete (a rotation finishing after its caller timed
/// out would make the caller's retry look like a reuse and end the session).
pub(super) const MAX_TIME: Duration = Duration::from_secs(4);

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

/// Where every command goes: see [`Store::with_options`].
const PRIMARY: SelectionCriteria = SelectionCriteria::ReadPreference(ReadPreference::Primary);

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
        // Every read from the primary, whatever the URI says (AWS's DocumentDB
        // sample URIs carry `readPreference=secondaryPreferred`): within a
        // secondary's replication lag a logout or deactivation would not have
        // happened yet, and a refresh would be judged on a stale side document.
        options.selection_criteria = Some(PRIMARY);
        // Amazon DocumentDB before 8.0.2 refuses retryable writes (every
        // write fails with "Retryable writes are not supported") and its
        // connection strings don't always say `retryWrites=false`: for a
        // DocumentDB host, unless the URI decides, it is off.
        if options.retry_writes.is_none() && is_documentdb(&options) {
            options.retry_writes = Some(false);
        }
        let client = Client::with_options(options).map_err(|_| StoreError::InvalidUri)?;
        let on_primary = DatabaseOptions::builder()
            .selection_criteria(PRIMARY)
            .build();
        Ok(Store {
            db: client.database_with_options(database, on_primary),
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

    /// Closes the client's connections and stops its background tasks, for a
    /// process that ends after its command (`auth-admin`): dropping a client
    /// while the runtime shuts down can make a driver task panic (seen as a
    /// panic line after `auth-admin`'s output; with `panic = "abort"` an abort).
    /// Bounded like every other operation.
    pub async fn shutdown(self) {
        let client = self.db.client().clone();
        let _ = tokio::time::timeout(OPERATION_TIMEOUT, client.shutdown()).await;
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

/// Whether every host is an Amazon DocumentDB cluster endpoint (instance
/// based or elastic).
fn is_documentdb(options: &ClientOptions) -> bool {
    !options.hosts.is_empty()
        && options.hosts.iter().all(|host| match host {
            mongodb::options::ServerAddress::Tcp { host, .. } => {
                let host = host.to_ascii_lowercase();
                host.ends_with(".docdb.amazonaws.com")
                    || host.ends_with(".docdb-elastic.amazonaws.com")
            }
            _ => false,
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_go_to_the_primary_whatever_the_uri_says() {
        let uri = "mongodb://127.0.0.1:1/?readPreference=secondaryPreferred";
        let options = ClientOptions::parse(uri).await.unwrap();
        let store = Store::with_options(options, "auth").unwrap();
        let criteria = store.db.selection_criteria();
        assert!(
            matches!(
                criteria,
                Some(SelectionCriteria::ReadPreference(ReadPreference::Primary))
            ),
            "{criteria:?}"
        );
        assert!(matches!(
            store.db.client().selection_criteria(),
            Some(SelectionCriteria::ReadPreference(ReadPreference::Primary))
        ));
    }

    #[tokio::test]
    async fn documentdb_hosts_get_retry_writes_off_unless_the_uri_decides() {
        let docdb = "mongodb://u:p@app.cluster-abc.eu-west-1.docdb.amazonaws.com:27017/?tls=true";
        let options = ClientOptions::parse(docdb).await.unwrap();
        assert!(is_documentdb(&options));
        let atlas = ClientOptions::parse("mongodb://a.mongodb.net:27017/")
            .await
            .unwrap();
        assert!(!is_documentdb(&atlas));
        let chosen = format!("{docdb}&retryWrites=true");
        assert_eq!(
            ClientOptions::parse(&chosen).await.unwrap().retry_writes,
            Some(true)
        );
    }
}
