use crate::cli::LogFormat;
use tracing_subscriber::EnvFilter;

/// Logs go to stderr so that command output on stdout stays machine-readable.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_env("RIVESTO_LOG").unwrap_or_else(|_| EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
