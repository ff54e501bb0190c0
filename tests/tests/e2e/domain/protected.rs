use e2e::domain::{origin, DomainApp};
use mongodb::bson::doc;
use shared::accounts::{self, AccountError, Actor};
use shared::UserId;

/// A signed-in caller with `role`, as the GraphQL administration builds one.
fn caller<'a>(app: &'a DomainApp, role: &'a str, origin: &'a shared::http::Origin) -> Actor<'a> {
    Actor::Caller {
        role,
        protected: &app.app.settings.protected_roles,
        user: None,
        origin,
    }
}

#[tokio::test]
async fn a_delegate_cannot_deactivate_a_protected_account_and_nothing_changes() {
    let app = DomainApp::with(&[("PROTECTED_ROLES", "admin")]).await;
    app.login("root", "root-password")
        .await
        .expect("root logs in");
    let origin = origin();
    let refused = accounts::set_active(
        &app.app.store,
        caller(&app, "support", &origin),
        UserId::from(app.admin),
        false,
    )
    .await;
    assert!(
        matches!(refused, Err(AccountError::Unauthorized)),
        "{refused:?}"
    );
    assert_eq!(
        app.db.user_doc(app.admin).await.get_bool("active"),
        Ok(true)
    );
    assert_eq!(
        app.count("session_meta", doc! { "user": app.admin }).await,
        1
    );
}

#[tokio::test]
async fn a_holder_of_a_protected_role_may_deactivate_one_and_its_sessions_end() {
    let app = DomainApp::with(&[("PROTECTED_ROLES", "admin")]).await;
    app.login("root", "root-password")
        .await
        .expect("root logs in");
    let origin = origin();
    let user = accounts::set_active(
        &app.app.store,
        caller(&app, "admin", &origin),
        UserId::from(app.admin),
        false,
    )
    .await
    .expect("deactivated");
    assert!(!user.active);
    assert_eq!(app.count("whitelist_token", doc! {}).await, 0);
    assert_eq!(app.count("session_meta", doc! {}).await, 0);
}

#[tokio::test]
async fn a_delegate_may_manage_an_unprotected_account() {
    let app = DomainApp::with(&[("PROTECTED_ROLES", "admin")]).await;
    let origin = origin();
    let user = accounts::set_active(
        &app.app.store,
        caller(&app, "support", &origin),
        UserId::from(app.support),
        false,
    )
    .await
    .expect("deactivated");
    assert!(!user.active);
}

#[tokio::test]
async fn an_operator_is_not_bound_by_protected_roles() {
    let app = DomainApp::with(&[("PROTECTED_ROLES", "admin")]).await;
    accounts::set_active(
        &app.app.store,
        Actor::Operator,
        UserId::from(app.admin),
        false,
    )
    .await
    .expect("deactivated");
    assert_eq!(
        app.db.user_doc(app.admin).await.get_bool("active"),
        Ok(false)
    );
}
