//! The demo's logs and metrics.
//!
//! - Logs: `RUST_LOG` (default `info`; `RUST_LOG=session_core=debug` shows every
//!   lifecycle event), as `key=value` lines, or JSON lines with `LOG_FORMAT=json`.
//! - Metrics: with `METRICS_PORT` set, a Prometheus exporter serves every
//!   `session_*` metric at `http://HOST:METRICS_PORT/metrics`.

use std::net::SocketAddr;

use tracing_subscriber::EnvFilter;

/// Installs the log subscriber.
pub(crate) fn init_logs() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if std::env::var("LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json")) {
        builder.json().with_current_span(true).init();
    } else {
        builder.init();
    }
}

/// Starts the Prometheus exporter when `METRICS_PORT` is set (on `host`); returns its
/// address.
pub(crate) fn init_metrics(host: &str) -> Result<Option<SocketAddr>, Box<dyn std::error::Error>> {
    let Ok(port) = std::env::var("METRICS_PORT") else {
        return Ok(None);
    };
    let addr: SocketAddr = format!("{host}:{}", port.trim()).parse()?;
    metrics_exporter_prometheus::PrometheusBuilder::new()
        .with_http_listener(addr)
        .install()?;
    Ok(Some(addr))
}
