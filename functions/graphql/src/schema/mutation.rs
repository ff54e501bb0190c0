use super::errors::{from_account, from_service, from_store, id_not_valid, unauthorized};
use super::types::*;
use super::{app, identity, may_manage_sessions, origin};
use crate::ids;
use async_graphql::{Context, Object, Result};
use secrecy::{ExposeSecret, SecretString};
use shared::accounts::{self, Actor, NewAccount, PasswordChangeForm};
use shared::sessions::{list, refresh};
use shared::SessionId;

pub struct Mutation;

#[Object(rename_fields = "snake_case", rename_args = "snake_case")]
impl Mutation {
    /// The caller changes their own password; their other sessions end.
    async fn update_password(
        &self,
        ctx: &Context<'_>,
        input: UpdatePasswordInput,
    ) -> Result<Option<UpdatePassword>> {
        let caller = identity(ctx).caller.as_ref().ok_or_else(unauthorized)?;
        let app = app(ctx);
        let change = PasswordChangeForm {
            current_password: SecretString::from(input.current_password),
            new_password: SecretString::from(input.new_password),
            password_confirmed: SecretString::from(input.password_confirmed),
        };
        let keep = caller.session.as_ref().map(|s| s.id);
        accounts::change_own_password(app, &caller.user, keep, change, origin(ctx))
            .await
            .map_err(from_account)?;
        Ok(Some(UpdatePassword { ok: true }))
    }

    async fn create_user(
        &self,
        ctx: &Context<'_>,
        input: CreateUserInput,
    ) -> Result<Option<CreateUser>> {
        let app = app(ctx);
        let account = NewAccount {
            username: input.username,
            password: SecretString::from(input.password),
            password_confirmed: SecretString::from(input.password_confirmed),
            role: input.role,
        };
        let user = accounts::create_user(&app.store, app.settings.accounts, actor(ctx), account)
            .await
            .map_err(from_account)?;
        Ok(Some(CreateUser { user: User(user) }))
    }

    async fn update_user(
        &self,
        ctx: &Context<'_>,
        input: UpdateUserInput,
    ) -> Result<Option<UpdateUser>> {
        let id = ids::user_id(&input.id).ok_or_else(id_not_valid)?;
        let store = &app(ctx).store;
        let (change_password, active) = (input.change_password, input.active);
        let user = accounts::update_user(store, actor(ctx), id, change_password, active)
            .await
            .map_err(from_account)?;
        Ok(Some(UpdateUser { user: User(user) }))
    }

    async fn delete_user(
        &self,
        ctx: &Context<'_>,
        input: DeleteUserInput,
    ) -> Result<Option<DeleteUser>> {
        let id = ids::user_id(&input.id).ok_or_else(id_not_valid)?;
        accounts::delete_user(&app(ctx).store, actor(ctx), id)
            .await
            .map_err(from_account)?;
        Ok(Some(DeleteUser { ok: true }))
    }

    /// A new random password for a user, returned once; the user must change it.
    async fn reset_password(
        &self,
        ctx: &Context<'_>,
        input: ResetPasswordInput,
    ) -> Result<Option<ResetPassword>> {
        let id = ids::user_id(&input.id).ok_or_else(id_not_valid)?;
        let app = app(ctx);
        let length = app.settings.reset_password_length;
        let rules = app.settings.accounts;
        let password = accounts::reset_password(&app.store, rules, actor(ctx), length, id)
            .await
            .map_err(from_account)?;
        Ok(Some(ResetPassword {
            password: password.expose_secret().to_owned(),
        }))
    }

    /// A new token pair for a refresh token, which works once.
    async fn refresh_token(
        &self,
        ctx: &Context<'_>,
        input: RefreshTokenInput,
    ) -> Result<Option<RefreshToken>> {
        let app = app(ctx);
        let sent_along = identity(ctx).sent_along;
        let tokens = refresh::refresh(app, &input.refresh_token, sent_along, origin(ctx))
            .await
            .map_err(from_service)?;
        Ok(Some(RefreshToken {
            token_type: "Bearer".to_owned(),
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token,
            expires_in: app.settings.token_expire_minutes,
        }))
    }

    /// Ends one session: the caller's own, or, for a caller the rule of
    /// `update_user` admits (default `admin`), anyone's.
    async fn end_session(
        &self,
        ctx: &Context<'_>,
        input: EndSessionInput,
    ) -> Result<Option<EndSession>> {
        let caller = identity(ctx).caller.as_ref().ok_or_else(unauthorized)?;
        let id = ids::session_id(&input.id).ok_or_else(id_not_valid)?;
        let admin = may_manage_sessions(ctx).then(|| actor(ctx));
        list::end_session(&app(ctx).store, &caller.user, id, admin, origin(ctx))
            .await
            .map_err(from_account)?;
        Ok(Some(EndSession { ok: true }))
    }

    /// Ends every session of the caller but the one this request came with.
    async fn end_other_sessions(&self, ctx: &Context<'_>) -> Result<Option<EndOtherSessions>> {
        let caller = identity(ctx).caller.as_ref().ok_or_else(unauthorized)?;
        let keep: Option<SessionId> = caller.session.as_ref().map(|s| s.id);
        list::end_other_sessions(&app(ctx).store, &caller.user, keep, origin(ctx))
            .await
            .map_err(from_store)?;
        Ok(Some(EndOtherSessions { ok: true }))
    }
}

/// The caller as `PROTECTED_ROLES` and the audit trail see them; an anonymous
/// caller (if a rule lets one this far) holds no role at all.
fn actor<'a>(ctx: &Context<'a>) -> Actor<'a> {
    let caller = identity(ctx).caller.as_ref();
    Actor::Caller {
        role: caller.map_or("", |caller| caller.role.name.as_str()),
        protected: &app(ctx).settings.protected_roles,
        user: caller.map(|caller| (caller.user.id, &caller.user.username)),
        origin: origin(ctx),
    }
}
