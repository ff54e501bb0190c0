use mongodb::error::{ErrorKind, WriteFailure};

/// MongoDB's code for a unique index violation.
const DUPLICATE_KEY: i32 = 11000;

/// What can go wrong talking to the database, sorted by what the caller does about it:
/// `Unavailable` and `Timeout` are outages (503), `Duplicate` is an expected conflict,
/// the rest are bugs or data the service did not expect (500).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The driver's own message may quote the connection string, credentials
    /// included, so it is dropped here on purpose.
    #[error("MONGODB_URI is not a valid MongoDB connection string")]
    InvalidUri,
    #[error("the database is unreachable")]
    Unavailable(#[source] mongodb::error::Error),
    #[error("the database did not answer in time")]
    Timeout,
    #[error("a unique index refused the write")]
    Duplicate,
    #[error("the database refused the operation")]
    Database(#[source] mongodb::error::Error),
    #[error("a stored document has an unexpected shape")]
    Malformed(#[source] mongodb::bson::de::Error),
    #[error("the database answered unexpectedly: {0}")]
    Unexpected(&'static str),
}

impl StoreError {
    pub fn is_outage(&self) -> bool {
        matches!(self, StoreError::Unavailable(_) | StoreError::Timeout)
    }
}

impl From<mongodb::error::Error> for StoreError {
    fn from(err: mongodb::error::Error) -> Self {
        match err.kind.as_ref() {
            ErrorKind::ServerSelection { .. }
            | ErrorKind::Io(_)
            | ErrorKind::ConnectionPoolCleared { .. }
            | ErrorKind::DnsResolve { .. } => StoreError::Unavailable(err),
            ErrorKind::Write(WriteFailure::WriteError(write)) if write.code == DUPLICATE_KEY => {
                StoreError::Duplicate
            }
            ErrorKind::Command(command) if command.code == DUPLICATE_KEY => StoreError::Duplicate,
            _ => StoreError::Database(err),
        }
    }
}
