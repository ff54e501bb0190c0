//! The shared crate's rules, called directly on a test database (no binary,
//! no event): login, refresh with reuse and grace, the lifetime cap, ending
//! sessions and `PROTECTED_ROLES`. The black-box modules hold the same
//! behaviour end to end; these name the rule when it breaks.

mod ending;
mod lifetime;
mod login;
mod protected;
mod refresh;
