//! Sessions, the rules of a signed-in user's life: logging in (past the
//! lockout), refreshing, listing, logging out and ending them.
//!
//! A session is one `whitelist_token` entry holding the ids of a live token
//! pair (the Python service's record, which decides what is alive), and its
//! side document in `session_meta` (login time, refresh ids, source IP, user
//! agent). Follow a login: [`login`] asks [`lockout`] to admit the attempt
//! (two reads sent together, the user and its locks, [`crate::store`]'s
//! `login_state`), checks the password ([`crate::auth::password`]), then
//! writes the session.
//!
//! - [`login`]: credentials to a token pair and a new session;
//! - [`lockout`]: per-username and per-IP failure counts before any hashing;
//! - [`refresh`]: rotation, reuse detection and the grace window;
//! - [`unlisted`]: refreshing with the whitelist off;
//! - [`lifetime`]: how long a session lives (refresh lifetime, absolute cap);
//! - [`list`]: the sessions a user sees, and ending one of them;
//! - [`logout`]: the bearer token's session ends;
//! - [`end`]: ending every session of a user, or of everyone.

pub mod end;
pub mod lifetime;
pub mod list;
pub mod lockout;
pub mod login;
pub mod logout;
pub mod refresh;
pub mod unlisted;
