//! The shared crate's rules called directly, below the built binaries: an
//! [`App`] on a test database of its own, so a failing test names the rule
//! that broke rather than a status code.

use crate::TestDb;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{doc, Document};
use secrecy::SecretString;
use shared::http::Origin;
use shared::sessions::login::{self, Credentials, Grant};
use shared::settings::Settings;
use shared::store::Store;
use shared::{App, ServiceError, Username};
use std::collections::HashMap;

/// An app of the shared crate on its own database, with `admin` (`root`) and
/// `support` (`sue`) users as the end-to-end [`crate::TestApp`] has them.
pub struct DomainApp {
    pub app: App,
    pub db: TestDb,
    pub admin: ObjectId,
    pub support: ObjectId,
}

/// The request every domain test comes from.
pub fn origin() -> Origin {
    Origin {
        source_ip: Some("198.51.100.7".to_owned()),
        request_id: Some("domain-test".to_owned()),
        user_agent: Some("domain-test/1.0".to_owned()),
    }
}

impl DomainApp {
    /// With every role allowed to sign in, and `settings` over the defaults.
    pub async fn with(settings: &[(&str, &str)]) -> DomainApp {
        let db = TestDb::new().await;
        let admin_role = db.role("admin").await;
        let support_role = db.role("support").await;
        let admin = db.user("root", "root-password", admin_role).await;
        let support = db.user("sue", "current", support_role).await;
        let mut values: HashMap<String, String> = db
            .env()
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect();
        values.insert("ALLOWED_ROLES".to_owned(), "*".to_owned());
        for (name, value) in settings {
            values.insert((*name).to_owned(), (*value).to_owned());
        }
        let settings = Settings::from_map(&values).expect("test settings");
        let store = Store::connect(&settings.database)
            .await
            .expect("a database client");
        DomainApp {
            app: App::new(settings, store).expect("an app"),
            db,
            admin,
            support,
        }
    }

    pub async fn login(&self, username: &str, password: &str) -> Result<Grant, ServiceError> {
        let credentials = Credentials {
            username: Username::parse(username).expect("a username"),
            password: SecretString::from(password.to_owned()),
        };
        login::login(&self.app, credentials, &origin()).await
    }

    /// `sue`'s session, as a fresh login gives it.
    pub async fn support_login(&self) -> Grant {
        self.login("sue", "current").await.expect("sue logs in")
    }

    pub async fn count(&self, collection: &str, filter: Document) -> u64 {
        self.db
            .db
            .collection::<Document>(collection)
            .count_documents(filter)
            .await
            .expect("count")
    }

    /// The side document of the session whose current refresh id is `refresh`.
    pub async fn meta_with_refresh(&self, refresh: &str) -> Option<Document> {
        self.db
            .db
            .collection::<Document>("session_meta")
            .find_one(doc! { "refresh": refresh })
            .await
            .expect("find")
    }
}
