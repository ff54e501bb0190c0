//! Logs as JSON lines on stdout (CloudWatch's structured format), honouring
//! Lambda's advanced logging controls: `AWS_LAMBDA_LOG_FORMAT` (`Text` switches to
//! plain lines) and `AWS_LAMBDA_LOG_LEVEL` (else `RUST_LOG`, else `INFO`).

use tracing_subscriber::filter::{EnvFilter, LevelFilter};

pub fn init() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .map(|raw| level_filter(&raw))
        .unwrap_or(LevelFilter::INFO);
    let filter = EnvFilter::builder()
        .with_default_directive(level.into())
        .parse_lossy("");
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
}
