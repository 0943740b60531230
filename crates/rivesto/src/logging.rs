use crate::cli::LogFormat;
use tracing_subscriber::EnvFilter;

/// The format chosen at start-up, for [`messaggio`].
static JSON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();

/// A message for the operator on stderr (start, stop), whatever `RIVESTO_LOG` says: plain text,
/// or with `--log-format json` one JSON object shaped like the log lines, so that a log
/// collector can parse every line of stderr.
pub fn messaggio(testo: &str) {
    if JSON.get().copied().unwrap_or(false) {
        let riga = serde_json::json!({
            "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "level": "INFO",
            "fields": {"message": testo},
            "target": "rivesto",
        });
        eprintln!("{riga}");
    } else {
        eprintln!("{testo}");
    }
}

/// Logs go to stderr so that command output on stdout stays machine-readable.
pub fn init(format: LogFormat) {
    let _ = JSON.set(matches!(format, LogFormat::Json));
    let filter = EnvFilter::try_from_env("RIVESTO_LOG").unwrap_or_else(|_| EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        // One JSON object per line. `span` is the innermost open span and `spans` all of them,
        // so a line logged deep inside a request still has its `request_id` (web) or
        // `richiesta_id` (worker).
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .init(),
    }
}
