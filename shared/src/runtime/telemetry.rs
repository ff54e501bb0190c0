//! Logs as JSON lines on stdout (CloudWatch's structured format), honouring
//! Lambda's advanced logging controls: `AWS_LAMBDA_LOG_FORMAT` (`Text` switches to
//! plain lines) and `AWS_LAMBDA_LOG_LEVEL` (else `RUST_LOG`, else `INFO`).
//!
//! The level applies to this project's own crates only; the audit trail
//! (`shared::runtime::audit`) is written at every level. Every other crate is
//! capped at INFO whatever the level: at DEBUG and TRACE the Lambda runtime,
//! hyper, h2, the AWS SDK and the MongoDB driver log raw events, headers and
//! commands, which carry passwords, bearer tokens and hashes.

use tracing_subscriber::filter::{EnvFilter, LevelFilter};

/// The crates whose own log lines follow the configured level: ours, which
/// never log a secret at any level.
const OUR_CRATES: &[&str] = &[
    "shared",
    "login",
    "logout",
    "graphql",
    "authorizer",
    "auth_admin",
];

pub fn init() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .map(|raw| level_filter(&raw))
        .unwrap_or(LevelFilter::INFO);
    let filter = EnvFilter::builder()
        .with_default_directive(level.min(LevelFilter::INFO).into())
        .parse_lossy(directives(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stdout);
    let text = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("text"));
    // `try_init`: a second initialisation (tests) is not worth a panic.
    let _ = if text {
        builder.try_init()
    } else {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init()
    };
}

/// `shared=<level>,login=<level>,…`: the configured level for our crates;
/// and the audit trail (target [`crate::runtime::audit::TARGET`]) at INFO whatever the
/// level, so a quieter level never drops an auth event.
fn directives(level: LevelFilter) -> String {
    let audit = level
        .max(LevelFilter::INFO)
        .to_string()
        .to_ascii_lowercase();
    let level = level.to_string().to_ascii_lowercase();
    OUR_CRATES
        .iter()
        .map(|name| format!("{name}={level}"))
        .chain(std::iter::once(format!(
            "{}={audit}",
            crate::runtime::audit::TARGET
        )))
        .collect::<Vec<_>>()
        .join(",")
}

/// Lambda's level names, which include FATAL, to a tracing level.
fn level_filter(raw: &str) -> LevelFilter {
    match raw.trim().to_ascii_lowercase().as_str() {
        "trace" => LevelFilter::TRACE,
        "debug" => LevelFilter::DEBUG,
        "warn" | "warning" => LevelFilter::WARN,
        "error" | "fatal" => LevelFilter::ERROR,
        "off" => LevelFilter::OFF,
        _ => LevelFilter::INFO,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_level_names_map_to_tracing_levels() {
        assert_eq!(level_filter("FATAL"), LevelFilter::ERROR);
        assert_eq!(level_filter("Debug"), LevelFilter::DEBUG);
        assert_eq!(level_filter("nonsense"), LevelFilter::INFO);
    }

    #[test]
    fn only_our_crates_follow_a_verbose_level() {
        assert_eq!(
            directives(LevelFilter::TRACE),
            "shared=trace,login=trace,logout=trace,graphql=trace,authorizer=trace,auth_admin=trace,audit=trace"
        );
        assert!(directives(LevelFilter::ERROR).ends_with(",audit=info"));
        assert!(directives(LevelFilter::OFF).ends_with(",audit=info"));
        assert_eq!(LevelFilter::TRACE.min(LevelFilter::INFO), LevelFilter::INFO);
        assert_eq!(LevelFilter::WARN.min(LevelFilter::INFO), LevelFilter::WARN);
    }
}
