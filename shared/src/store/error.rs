use mongodb::error::{ErrorKind, WriteFailure};

/// MongoDB's code for a unique index violation.
const DUPLICATE_KEY: i32 = 11000;

/// The codes of a replica set changing its primary or a node going down:
/// NotWritablePrimary, NotPrimaryNoSecondaryOk, NotPrimaryOrSecondary,
/// PrimarySteppedDown, InterruptedDueToReplStateChange, InterruptedAtShutdown,
/// ShutdownInProgress. During an election (seconds on Atlas) every write
/// fails so; the next request finds the new primary. An outage, not a bug:
/// 503, as `Unavailable`. (The driver has already retried a retryable write
/// once by then.)
const STATE_CHANGE: [i32; 7] = [10107, 13435, 13436, 189, 11602, 11600, 91];

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
        if err.contains_label(mongodb::error::RETRYABLE_WRITE_ERROR) {
            return StoreError::Unavailable(err);
        }
        match err.kind.as_ref() {
            ErrorKind::ServerSelection { .. }
            | ErrorKind::Io(_)
            | ErrorKind::ConnectionPoolCleared { .. }
            | ErrorKind::DnsResolve { .. } => StoreError::Unavailable(err),
            ErrorKind::Write(WriteFailure::WriteError(write)) if write.code == DUPLICATE_KEY => {
                StoreError::Duplicate
            }
            ErrorKind::Command(command) if command.code == DUPLICATE_KEY => StoreError::Duplicate,
            ErrorKind::Command(command) if STATE_CHANGE.contains(&command.code) => {
                StoreError::Unavailable(err)
            }
            ErrorKind::Write(WriteFailure::WriteConcernError(concern))
                if STATE_CHANGE.contains(&concern.code) =>
            {
                StoreError::Unavailable(err)
            }
            _ => StoreError::Database(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mongodb::bson::doc;
    use mongodb::error::CommandError;

    fn command_error(code: i32, name: &str) -> mongodb::error::Error {
        let command: CommandError = mongodb::bson::from_document(
            doc! { "code": code, "codeName": name, "errmsg": "as a server says it" },
        )
        .unwrap();
        mongodb::error::Error::from(ErrorKind::Command(command))
    }

    #[test]
    fn an_election_is_an_outage_not_a_bug() {
        for (code, name) in [
            (10107, "NotWritablePrimary"),
            (189, "PrimarySteppedDown"),
            (11602, "InterruptedDueToReplStateChange"),
            (91, "ShutdownInProgress"),
            (13435, "NotPrimaryNoSecondaryOk"),
        ] {
            let err = StoreError::from(command_error(code, name));
            assert!(err.is_outage(), "{name}: {err:?}");
        }
    }

    #[test]
    fn other_command_errors_stay_failures_and_duplicates_conflicts() {
        assert!(matches!(
            StoreError::from(command_error(2, "BadValue")),
            StoreError::Database(_)
        ));
        assert!(matches!(
            StoreError::from(command_error(DUPLICATE_KEY, "DuplicateKey")),
            StoreError::Duplicate
        ));
    }
}
