//! What the handlers need from an API Gateway request, whichever payload version
//! (REST v1, HTTP API v2, function URL) delivered it.

use crate::error::ServiceError;
use lambda_http::http::{
    header::{AUTHORIZATION, USER_AGENT},
    Method,
};
use lambda_http::{Body, Request};

/// Bodies above this are refused before any parsing (API Gateway itself allows 10 MB).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub fn require_post(request: &Request) -> Result<(), ServiceError> {
    if request.method() == Method::POST {
        Ok(())
    } else {
        Err(ServiceError::MethodNotAllowed)
    }
}

/// The raw body bytes, at most [`MAX_BODY_BYTES`]; base64 bodies arrive decoded.
pub fn body(request: &Request) -> Result<&[u8], ServiceError> {
    let bytes: &[u8] = match request.body() {
        Body::Empty => &[],
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    };
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ServiceError::PayloadTooLarge);
    }
    Ok(bytes)
}

/// The `Authorization` header, if there is exactly one and it is text.
pub fn authorization(request: &Request) -> Option<&str> {
    let mut values = request.headers().get_all(AUTHORIZATION).iter();
    match (values.next(), values.next()) {
        (Some(value), None) => value.to_str().ok(),
        _ => None,
    }
}

/// Where a request came from, as API Gateway saw it, for limits and logs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    /// The address API Gateway received the request from: never a header a
    /// client can set (`X-Forwarded-For`), which would let it pick its own.
    pub source_ip: Option<String>,
    /// API Gateway's request id, to find the request in its logs.
    pub request_id: Option<String>,
    /// The `User-Agent` header, at most [`MAX_USER_AGENT_CHARS`] characters:
    /// shown to the user in their session list, so only ever informative.
    pub user_agent: Option<String>,
}

/// How much of a `User-Agent` a session keeps.
pub const MAX_USER_AGENT_CHARS: usize = 256;

/// The request's [`Origin`]; empty fields where the event carries none.
pub fn origin(request: &Request) -> Origin {
    use lambda_http::request::RequestContext;
    use lambda_http::RequestExt;
    let user_agent = request
        .headers()
        .get(USER_AGENT)
        // Not `to_str`, which refuses anything but visible ASCII: the value is
        // only shown back to its user, so other bytes are kept as best we can.
        .map(|value| {
            truncate_chars(
                &String::from_utf8_lossy(value.as_bytes()),
                MAX_USER_AGENT_CHARS,
            )
        });
    let origin = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(context)) => Origin {
            source_ip: context.identity.source_ip.clone(),
            request_id: context.request_id.clone(),
            user_agent: None,
        },
        Some(RequestContext::ApiGatewayV2(context)) => Origin {
            source_ip: context.http.source_ip.clone(),
            request_id: context.request_id.clone(),
            user_agent: None,
        },
        _ => Origin::default(),
    };
    Origin {
        user_agent,
        ..origin
    }
    .non_empty()
}

/// The first `max` characters of `text` (never splitting one).
fn truncate_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => text[..end].to_owned(),
        None => text.to_owned(),
    }
}

impl Origin {
    fn non_empty(self) -> Self {
        let keep = |value: Option<String>| value.filter(|v| !v.trim().is_empty());
        Origin {
            source_ip: keep(self.source_ip),
            request_id: keep(self.request_id),
            user_agent: keep(self.user_agent),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::truncate_chars;

    #[test]
    fn a_user_agent_is_cut_on_a_character_boundary() {
        assert_eq!(truncate_chars("abc", 5), "abc");
        assert_eq!(truncate_chars("abcdef", 3), "abc");
        let wide = "é".repeat(300);
        assert_eq!(truncate_chars(&wide, 256).chars().count(), 256);
    }
}
