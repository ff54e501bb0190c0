//! Accounts: the rules for creating and changing users and roles, with the
//! Python service's checks, order and messages; who may change whom
//! (`PROTECTED_ROLES`); and reading them for administration. Used by the
//! GraphQL administration and by `auth-admin`.
//!
//! Follow an `update_password`: `functions/graphql` (schema/mutation.rs) ->
//! [`passwords::change_own_password`] (confirmation, current password,
//! novelty) -> [`crate::sessions::end::end_sessions_of`] (two deletes sent
//! together) -> `store::users` (`set_password`, one update).
//!
//! - [`users`]: creating, changing, (de)activating and deleting users;
//! - [`passwords`]: changing one's own password, resets;
//! - [`roles`]: creating roles;
//! - [`protected`]: `PROTECTED_ROLES`, who may touch whom;
//! - [`directory`]: reading users and roles;
//! - [`error`]: why a change was refused.

pub mod directory;
pub mod error;
pub mod passwords;
pub mod protected;
pub mod roles;
pub mod users;

pub use error::AccountError;
pub use passwords::{change_own_password, random_password, reset_password, PasswordChangeForm};
pub use protected::Actor;
pub use roles::create_role;
pub use users::{create_user, delete_user, set_active, update_user, NewAccount};
