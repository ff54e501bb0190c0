//! HTTP plumbing between API Gateway and the domain: what a request says
//! ([`request`]), the one entry every handler goes through ([`serve`]), the
//! one map from errors to answers ([`response`]), and CORS ([`cors`]).

pub mod cors;
pub mod request;
pub mod response;
pub mod serve;

pub use request::{authorization, body, origin, require_post, Origin, MAX_BODY_BYTES};
