//! Command-line surface (DESIGN §6 "Commands").

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "rivesto",
    version,
    about = "Rivestizione dati anagrafici da ANPR"
)]
pub struct Cli {
    #[command(flatten)]
    pub globali: Globali,
    #[command(subcommand)]
    pub comando: Comando,
}

#[derive(Args, Debug, Clone)]
pub struct Globali {
    /// The database: sqlite://PATH (embedded) or postgres://USER@HOST/DB.
    #[arg(
        long,
        global = true,
        env = "RIVESTO_DATABASE_URL",
        default_value = "sqlite://rivesto-data/rivesto.db"
    )]
    pub database_url: String,
    /// Folder for local state: the default master key, result files, the demo.
    #[arg(
        long,
        global = true,
        env = "RIVESTO_DATA_DIR",
        default_value = "rivesto-data"
    )]
    pub data_dir: PathBuf,
    /// The master key file (32 random bytes); default `<data-dir>/master.key`.
    #[arg(long, global = true, env = "RIVESTO_MASTER_KEY_FILE")]
    pub master_key_file: Option<PathBuf>,
    /// Log lines on stderr: text, or one JSON object per line with the request id (web) and
    /// the richiesta id (worker). The level comes from RIVESTO_LOG (default warn).
    #[arg(
        long,
        global = true,
        value_enum,
        env = "RIVESTO_LOG_FORMAT",
        default_value = "text"
    )]
    pub log_format: LogFormat,
}

impl Globali {
    /// Where the master key is read from, and written by `admin gen-master-key`.
    pub fn percorso_master_key(&self) -> PathBuf {
        self.master_key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("master.key"))
    }
}

#[derive(ValueEnum, Debug, Clone, Copy)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Comando {
    /// The web app on a fresh SQLite under <data-dir>/demo, with the ANPR simulator and the worker
    /// in-process: seeded Comuni, Enti, conventions and users, and the example request processed.
    Demo(DemoArgs),
    /// ANPR onboarding tools.
    Anpr {
        #[command(subcommand)]
        comando: AnprComando,
    },
    /// The ANPR/PDND simulator.
    AnprSim(SimArgs),
    /// Input files.
    Input {
        #[command(subcommand)]
        comando: InputComando,
    },
    /// Applies the database migrations (on PostgreSQL: as the owner, creating the runtime role).
    Migrate(MigrateArgs),
    /// Non-interactive bootstrap: master key, Comuni, Enti, conventions, users, profiles.
    Admin {
        #[command(subcommand)]
        comando: AdminComando,
    },
    /// The web application, and the batch engine in the same process unless --no-worker.
    Serve(ServeArgs),
    /// The batch engine only: processes approved requests until Ctrl-C or SIGTERM.
    Worker(WorkerArgs),
    /// An automation client over the JSON API (the token is read from an environment variable).
    Client(ClientArgs),
    /// The audit archive's integrity and retention: verify, signed checkpoints, purge.
    Audit {
        #[command(subcommand)]
        comando: AuditComando,
    },
    /// Benchmarks that print figures.
    Bench {
        #[command(subcommand)]
        comando: BenchComando,
    },
    /// Generated documentation (for the maintainers).
    #[command(hide = true)]
    Doc {
        #[command(subcommand)]
        comando: DocComando,
    },
}

#[derive(Subcommand, Debug)]
pub enum DocComando {
    /// The configuration reference: on stdout, or into the generated section of a file.
    Config {
        /// Rewrites the section between the markers of this file (docs/configuration.md).
        #[arg(long, value_name = "FILE")]
        write: Option<PathBuf>,
    },
}

/// `rivesto client`: exit 0 done (or submitted, without --wait), 1 rejected, failed, cancelled
/// or refused by the server, 2 usage or connection error.
#[derive(Args, Debug)]
pub struct ClientArgs {
    /// The address of Rivesto, e.g. https://rivesto.comune.example.it
    #[arg(long, env = "RIVESTO_URL")]
    pub url: url::Url,
    /// The NAME of the environment variable that holds the API token (never the token itself).
    #[arg(long, default_value = "RIVESTO_TOKEN")]
    pub token_env: String,
    #[command(subcommand)]
    pub comando: ClientComando,
}

#[derive(Subcommand, Debug)]
pub enum ClientComando {
    /// Submits a file (CSV or XLSX) as a new request, and prints its id.
    Submit(ClientSubmitArgs),
    /// Prints the state and progress of a request (JSON on stdout).
    Status {
        /// The request's id, as printed by submit.
        id: String,
    },
    /// Downloads the result files of a request.
    Download {
        id: String,
        /// The folder for the files (created if missing).
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Args, Debug)]
pub struct ClientSubmitArgs {
    /// The input file (tracciato di input, DESIGN §5).
    pub file: PathBuf,
    /// The convention's id (GET /api/v1/convenzioni lists them).
    #[arg(long)]
    pub convenzione: String,
    /// Numero di pratica or protocollo.
    #[arg(long)]
    pub motivo: String,
    /// Reference date AAAA-MM-GG (default today).
    #[arg(long)]
    pub data_riferimento: Option<String>,
    /// Waits until the request is final, then downloads its files into --out.
    #[arg(long)]
    pub wait: bool,
    /// Where --wait puts the files.
    #[arg(long, default_value = ".")]
    pub out: PathBuf,
    /// Milliseconds between status checks while waiting.
    #[arg(long, default_value_t = 5000, value_parser = clap::value_parser!(u64).range(100..))]
    pub intervallo_ms: u64,
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Address of the web app (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
}

#[derive(Args, Debug, Clone)]
pub struct WorkerArgs {
    /// A lease not renewed for this many seconds is reclaimed by another worker.
    #[arg(long, env = "RIVESTO_WORKER_LEASE_SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(5..))]
    pub lease_secs: u64,
    /// Rows claimed at a time.
    #[arg(long, env = "RIVESTO_WORKER_CHUNK", default_value_t = 50, value_parser = clap::value_parser!(i64).range(1..=10_000))]
    pub chunk_size: i64,
    /// Rows of one Comune looked up at the same time, toward ANPR.
    #[arg(long, env = "RIVESTO_WORKER_CONCURRENCY", default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=256))]
    pub concurrency: u64,
    /// Chunks worked on at the same time: with 2 the next chunk starts while the last one's
    /// slowest rows finish and its outcomes are stored, so the Comune's --concurrency slots
    /// stay busy.
    #[arg(long, env = "RIVESTO_WORKER_CHUNKS_IN_FLIGHT", default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=8))]
    pub chunks_in_flight: u64,
    /// On SIGTERM or Ctrl-C: seconds the rows in flight (and, for serve, the HTTP requests in
    /// flight) may take to finish; then the rows still held are given back to the queue.
    #[arg(long, env = "RIVESTO_SHUTDOWN_TIMEOUT_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub shutdown_timeout_secs: u64,
    /// Serves Prometheus metrics at http://ADDR/metrics, on a listener of its own (keep it
    /// off the public network). Off when absent.
    #[arg(long, env = "RIVESTO_METRICS_LISTEN", value_name = "ADDR")]
    pub metrics_listen: Option<SocketAddr>,
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "RIVESTO_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Web application only: run `rivesto worker` processes separately.
    #[arg(long)]
    pub no_worker: bool,
    /// Serve HTTPS with this certificate chain (PEM); needs --tls-key.
    #[arg(long, env = "RIVESTO_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(long, env = "RIVESTO_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// The URL users reach the app at (e.g. https://rivesto.comune.example.it). When it is https,
    /// cookies are Secure and `__Host-`, and HSTS is sent, even behind a proxy that ends TLS.
    #[arg(long, env = "RIVESTO_PUBLIC_URL")]
    pub public_url: Option<url::Url>,
    /// A reverse proxy (CIDR, repeatable) whose X-Forwarded-For gives the client address.
    #[arg(
        long = "trusted-proxy",
        env = "RIVESTO_TRUSTED_PROXY",
        value_delimiter = ','
    )]
    pub trusted_proxy: Vec<web::stato::ReteIp>,
    /// E-mail notifications: smtp://host:port (plain, local relay), smtps://user:pass@host or
    /// smtp://user:pass@host?tls=starttls. Without it notifications stay in the app.
    #[arg(long, env = "RIVESTO_SMTP_URL")]
    pub smtp_url: Option<url::Url>,
    /// The From address of notification e-mails.
    #[arg(
        long,
        env = "RIVESTO_SMTP_FROM",
        default_value = "Rivesto <rivesto@localhost>"
    )]
    pub smtp_from: String,
    #[command(flatten)]
    pub worker: WorkerArgs,
}

#[derive(Args, Debug)]
pub struct MigrateArgs {
    /// PostgreSQL: the runtime role for `serve` and `worker`, created when missing.
    #[arg(long, default_value = store::RUOLO_RUNTIME_PREDEFINITO)]
    pub runtime_role: String,
    /// PostgreSQL: a file holding the runtime role's password (first line). Without it the role
    /// logs in as `pg_hba.conf` allows (peer, trust or certificates).
    #[arg(long)]
    pub runtime_password_file: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum AdminComando {
    /// Writes a new master key (32 random bytes, mode 0600); never overwrites a file.
    GenMasterKey {
        /// Default: $RIVESTO_MASTER_KEY_FILE, or <data-dir>/master.key.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Comuni.
    Comune {
        #[command(subcommand)]
        comando: AdminComuneComando,
    },
    /// Enti fruitori.
    Ente {
        #[command(subcommand)]
        comando: AdminEnteComando,
    },
    /// Convenzioni between a Comune and an Ente.
    Convenzione {
        #[command(subcommand)]
        comando: AdminConvenzioneComando,
    },
    /// Users.
    User {
        #[command(subcommand)]
        comando: AdminUserComando,
    },
    /// What a user may ask under a convention.
    Profilo {
        #[command(subcommand)]
        comando: AdminProfiloComando,
    },
    /// SQLite only: a consistent copy of the live database (VACUUM INTO) into a new file. On
    /// PostgreSQL use pg_dump (docs/deployment-postgres.md).
    Backup {
        /// The copy to write; an existing file is never overwritten.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// A new age identity for the result files written from now on; the previous ones stay
    /// (encrypted with the master key) so existing files can still be downloaded.
    RotateFileKey,
}

#[derive(Subcommand, Debug)]
pub enum AdminComuneComando {
    /// Creates a Comune and imports its onboarding file (anpr.toml) with the key files it names.
    Add(ComuneAddArgs),
    /// Replaces a Comune's onboarding file and key files (e.g. a new ANPR key pair); the
    /// workers use it from their next chunk.
    Update(ComuneUpdateArgs),
}

#[derive(Args, Debug)]
pub struct ComuneUpdateArgs {
    /// ISTAT code of the Comune, 6 digits.
    #[arg(long)]
    pub istat: String,
    /// The new onboarding file; the key files it names are imported, encrypted with the
    /// master key.
    #[arg(long)]
    pub config: PathBuf,
}

#[derive(Args, Debug)]
pub struct ComuneAddArgs {
    /// The onboarding file; the key files it names are imported, encrypted with the master key.
    #[arg(long)]
    pub config: PathBuf,
    /// ISTAT code, 6 digits.
    #[arg(long)]
    pub istat: String,
    /// Belfiore (cadastral) code, e.g. H501.
    #[arg(long)]
    pub belfiore: String,
    #[arg(long)]
    pub nome: String,
    /// Sigla provincia, e.g. RM.
    #[arg(long)]
    pub sigla: String,
}

#[derive(Subcommand, Debug)]
pub enum AdminEnteComando {
    /// Creates an Ente, identified by its codice fiscale or IPA code. Prints its id.
    Add(EnteAddArgs),
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("codice").required(true).args(["cf", "ipa"])))]
pub struct EnteAddArgs {
    #[arg(long)]
    pub nome: String,
    /// Codice fiscale of the Ente (11 digits).
    #[arg(long)]
    pub cf: Option<String>,
    /// IPA code of the Ente.
    #[arg(long)]
    pub ipa: Option<String>,
    /// Office code sent to ANPR as userLocation (at most 20 characters; default: the code).
    #[arg(long)]
    pub codice_ufficio: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum AdminConvenzioneComando {
    /// Creates a convention between a Comune and an Ente. Prints its id.
    Add(ConvenzioneAddArgs),
}

#[derive(Args, Debug)]
pub struct ConvenzioneAddArgs {
    /// ISTAT code of the Comune.
    #[arg(long)]
    pub comune: String,
    /// Id of the Ente (printed by `admin ente add`).
    #[arg(long)]
    pub ente: i64,
    /// Name of the convention (default: "<Ente> - <Comune>").
    #[arg(long)]
    pub nome: Option<String>,
    /// Field groups, comma separated: id_anpr, generalita, stato_civile, residenza,
    /// cittadinanza, data_decesso, esistenza_in_vita, famiglia, domicilio_digitale,
    /// matrimonio, documenti.
    #[arg(long, value_delimiter = ',', required = true)]
    pub campi: Vec<String>,
    /// COMUNE, COMUNI_CONVENZIONATI or ITALIA.
    #[arg(long)]
    pub ambito: String,
    /// `manuale`, or `silenzio:MS` (silent consent after MS milliseconds; 0: at once).
    #[arg(long)]
    pub approvazione: String,
    /// purposeId of the convention for a service, as SERVICE=PURPOSE (repeatable); the
    /// Comune's `[anpr.purposes]` apply to the others.
    #[arg(long = "finalita")]
    pub finalita: Vec<String>,
    /// First valid day, AAAA-MM-GG (default: today).
    #[arg(long)]
    pub valida_dal: Option<String>,
    /// Last valid day, AAAA-MM-GG (default: open-ended).
    #[arg(long)]
    pub valida_al: Option<String>,
    #[arg(long)]
    pub max_righe_richiesta: Option<i64>,
    #[arg(long)]
    pub max_soggetti_giorno: Option<i64>,
    /// Days the result files are kept.
    #[arg(long, default_value_t = 7)]
    pub conservazione_giorni: i64,
    /// Searches are national (3002's ricercaNazionale).
    #[arg(long)]
    pub ricerca_nazionale: bool,
}

#[derive(Subcommand, Debug)]
pub enum AdminUserComando {
    /// Creates a user. The password comes from a file or stdin, never from the command line.
    Add(UserAddArgs),
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("appartenenza").required(true).args(["comune", "ente"])))]
#[command(group(clap::ArgGroup::new("origine_password").required(true).args(["password_file", "password_stdin", "password"])))]
pub struct UserAddArgs {
    #[arg(long)]
    pub username: String,
    /// TOP (of a Comune), ADMIN or STANDARD (of an Ente).
    #[arg(long)]
    pub ruolo: String,
    /// ISTAT code of the user's Comune (TOP); for ADMIN and STANDARD, the Comune that manages
    /// the account (it then acts only under the Ente's conventions with that Comune).
    #[arg(long)]
    pub comune: Option<String>,
    /// Id of the user's Ente (ADMIN, STANDARD).
    #[arg(long)]
    pub ente: Option<i64>,
    /// A file whose first line is the password.
    #[arg(long)]
    pub password_file: Option<PathBuf>,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    pub password_stdin: bool,
    /// Refused with an explanation: argv is visible to `ps` and kept in shell history.
    #[arg(long, hide = true)]
    pub password: Option<String>,
    /// The user's code, sent to ANPR as userID (default: the username).
    #[arg(long)]
    pub codice_utente: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum AdminProfiloComando {
    /// Sets (or replaces) what a user may ask under a convention.
    Set(ProfiloSetArgs),
}

#[derive(Args, Debug)]
pub struct ProfiloSetArgs {
    /// Id of the user (printed by `admin user add`).
    #[arg(long)]
    pub utente: i64,
    /// Id of the convention (printed by `admin convenzione add`).
    #[arg(long)]
    pub convenzione: i64,
    /// Field groups, a subset of the convention's (default: all of them).
    #[arg(long, value_delimiter = ',')]
    pub campi: Vec<String>,
    /// The convention's scope or a narrower one (default: the convention's).
    #[arg(long)]
    pub ambito: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum AnprComando {
    /// Probes the configured services, or does one real lookup.
    Check(CheckArgs),
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The onboarding file (`anpr.toml`).
    #[arg(long)]
    pub config: PathBuf,
    /// Use the Comune's own channel (`[anpr_ws]`, SOAP service 3002): without an identifier it
    /// calls the connectivity test TestConn, with one it does one 3002 lookup.
    #[arg(long)]
    pub ws: bool,
    /// One real lookup by codice fiscale (C030 on PDND, 3002 with --ws).
    #[arg(long, conflicts_with_all = ["id_anpr", "ci"])]
    pub cf: Option<String>,
    /// One real lookup by ID ANPR (C015 on PDND, 3002 with --ws).
    #[arg(long, conflicts_with = "ci")]
    pub id_anpr: Option<String>,
    /// One real 3002 lookup by carta d'identità number (needs --ws).
    #[arg(long, requires = "ws")]
    pub ci: Option<String>,
    /// The carta d'identità's issuing Comune, by ISTAT code or name (optional; ANPR may
    /// require it, see docs/anpr-onboarding.md).
    #[arg(long, requires = "ci")]
    pub rilascio: Option<String>,
    #[arg(long, default_value = "VERIFICA-COLLEGAMENTO")]
    pub motivo: String,
}

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SimArgs {
    #[command(subcommand)]
    pub comando: Option<SimComando>,
    #[command(flatten)]
    pub avvio: SimAvvio,
}

#[derive(Subcommand, Debug)]
pub enum SimComando {
    /// Writes a simulator clients file, a matching anpr.toml and a key pair.
    Init {
        #[arg(long)]
        out: PathBuf,
        /// The address the simulator will listen on (written into anpr.toml).
        #[arg(long, default_value = "127.0.0.1:9400")]
        listen: SocketAddr,
    },
}

#[derive(Args, Debug, Clone)]
pub struct SimAvvio {
    #[arg(long, default_value = "127.0.0.1:9400")]
    pub listen: SocketAddr,
    /// Clients file written by `anpr-sim init`.
    #[arg(long)]
    pub clients: Option<PathBuf>,
    #[arg(long, default_value_t = 10_000)]
    pub population: u32,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Fixed latency in milliseconds added to every gateway answer.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Extra random latency, uniform in 0..=jitter, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_jitter_ms: u64,
    /// Share of calls answered 503 (0.0 - 1.0).
    #[arg(long, default_value_t = 0.0)]
    pub error_rate_503: f64,
    /// Share of calls that never answer within the client's timeout.
    #[arg(long, default_value_t = 0.0)]
    pub error_rate_timeout: f64,
    /// Share of calls answered 429 TooManyRequests.
    #[arg(long, default_value_t = 0.0)]
    pub error_rate_429: f64,
    /// Share of calls answered with a malformed body.
    #[arg(long, default_value_t = 0.0)]
    pub error_rate_malformed: f64,
    /// Daily quota per client and service, as SERVICE=N (repeatable).
    #[arg(long = "quota", value_parser = parse_quota)]
    pub quote: Vec<(String, u64)>,
    /// At most this many calls in flight (429 TooManyRequests beyond).
    #[arg(long)]
    pub concurrency_cap: Option<usize>,
}

fn parse_quota(s: &str) -> Result<(String, u64), String> {
    let (svc, n) = s
        .split_once('=')
        .ok_or_else(|| format!("formato atteso SERVIZIO=N, trovato {s:?}"))?;
    let n = n
        .parse()
        .map_err(|_| format!("quota non numerica: {n:?}"))?;
    Ok((svc.trim().to_ascii_uppercase(), n))
}

#[derive(Subcommand, Debug)]
pub enum InputComando {
    /// Checks an input file and prints the report; exit 0, 1 or 2.
    Check {
        file: PathBuf,
        #[arg(long)]
        json: bool,
        /// Size limit in bytes.
        #[arg(long)]
        max_byte: Option<u64>,
        /// Row limit.
        #[arg(long)]
        max_righe: Option<u64>,
    },
}

/// `rivesto audit` (see docs/security.md, "Archivio di audit").
#[derive(Subcommand, Debug)]
pub enum AuditComando {
    /// Recomputes the chain in audit_entries and checks it against the stored checkpoints and
    /// the given files. Needs only the database (no master key). Exit 0 intact, 1 any fault,
    /// 2 usage or I/O error.
    Verify {
        /// A checkpoint file written by `audit checkpoint` (repeatable): it also catches a
        /// tail cut, or a rewrite, up to the entry it certifies.
        #[arg(long = "checkpoint", value_name = "FILE")]
        checkpoint: Vec<PathBuf>,
    },
    /// Verifies the chain, signs its last entry (Ed25519) and writes the checkpoint to a new
    /// file, to keep away from the server. Needs the master key.
    Checkpoint {
        /// The file to write; an existing file is never overwritten.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Removes the entries older than a date and leaves a signed checkpoint at the cut. Needs
    /// the master key and, on PostgreSQL, the owner's URL (like `migrate`).
    Purge {
        /// AAAA-MM-GG: the entries before the start of this day (Europe/Rome) are removed.
        #[arg(long, value_name = "DATA", value_parser = parse_data)]
        before: chrono::NaiveDate,
        /// The retention period: a date less than this many months ago is refused.
        #[arg(
            long,
            default_value_t = store::audit_checkpoint::MESI_CONSERVAZIONE_PREDEFINITI,
            value_parser = clap::value_parser!(u32).range(1..=1200)
        )]
        retention_months: u32,
    },
}

fn parse_data(s: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| format!("data {s:?} non valida: attesa nel formato AAAA-MM-GG"))
}

#[derive(Subcommand, Debug)]
pub enum BenchComando {
    /// Lookups/s through the client against the simulator, and RS256 signatures/s.
    Anpr {
        /// Lookups per scenario.
        #[arg(long, default_value_t = 2_000)]
        lookups: u32,
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        #[arg(long, default_value_t = 100)]
        latency_ms: u64,
    },
    /// Parses and validates a generated file, then writes as many result rows.
    Files {
        #[arg(long, default_value_t = 1_000_000)]
        rows: u64,
    },
    /// A request of N CF subjects uploaded, approved, processed against the simulator and
    /// assembled, at zero latency then at --latency-ms; with the RS256 and minimal-client
    /// floors, the target ratios and a 10-row request under silent consent.
    E2e {
        #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u32).range(1..))]
        subjects: u32,
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        /// The second scenario's simulator latency (0: only the zero-latency scenario).
        #[arg(long, default_value_t = 100)]
        latency_ms: u64,
        /// Runs the simulator as a child `rivesto anpr-sim`: the peak memory is Rivesto's own.
        #[arg(long)]
        separate_sim: bool,
        /// Rows the engine claims at a time.
        #[arg(long, default_value_t = 640)]
        chunk_size: i64,
        /// C030 calls of the minimal client per scenario (0: not measured).
        #[arg(long, default_value_t = 4_000)]
        minimal_calls: u32,
        /// Stops after the first scenario's upload (parse, validation, storage) and its peak
        /// memory: the 1,000,000-row upload target without processing a million rows.
        #[arg(long)]
        upload_only: bool,
        /// Runs only the --latency-ms scenario (and the small request), not the zero-latency one.
        #[arg(long, conflicts_with = "upload_only")]
        skip_zero: bool,
    },
    /// Web page and API status latency (p50/p99/max) with signed-in clients while a request
    /// is processing against the simulator.
    Web {
        /// Subjects of the request processing meanwhile.
        #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u32).range(1..))]
        subjects: u32,
        #[arg(long, default_value_t = 50)]
        clients: usize,
        /// How long the load runs.
        #[arg(long, default_value_t = 30)]
        seconds: u64,
        /// Each client's pause between two of its requests.
        #[arg(long, default_value_t = 0)]
        pause_ms: u64,
        #[arg(long, default_value_t = 100)]
        latency_ms: u64,
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        #[arg(long, default_value_t = 640)]
        chunk_size: i64,
        /// Where the engine runs: `own` (its own runtime at a lower priority, as `serve` runs
        /// it), `own-nice0` (its own runtime, same priority as the web app) or `shared` (the web
        /// app's runtime).
        #[arg(long, default_value = "own", value_parser = ["own", "own-nice0", "shared"])]
        engine: String,
        /// The engine's chunks in flight (the worker's --chunks-in-flight).
        #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=8))]
        chunks_in_flight: u64,
    },
    /// Builds a fresh SQLite chain of valid entries, then times its verification (entries/s).
    Audit {
        #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..))]
        entries: u64,
    },
    /// Scale-out on PostgreSQL: the same request processed by 1, 2 and 3 `rivesto worker`
    /// processes on one database (a fresh one per run, in the cluster of --database-url,
    /// dropped at the end), against the simulator in this process.
    Scala {
        #[arg(long, default_value_t = 2_000, value_parser = clap::value_parser!(u32).range(1..))]
        subjects: u32,
        #[arg(long, default_value_t = 100)]
        latency_ms: u64,
        /// Each worker's --concurrency (default: the worker's own).
        #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=256))]
        concurrency: u64,
        /// Each worker's --chunk-size (default: the worker's own).
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(i64).range(1..=10_000))]
        chunk_size: i64,
        /// The worker counts to measure, comma separated.
        #[arg(long, value_delimiter = ',', default_value = "1,2,3")]
        workers: Vec<u32>,
    },
}

pub async fn esegui(cli: Cli) -> anyhow::Result<ExitCode> {
    let g = cli.globali;
    match cli.comando {
        Comando::Demo(a) => crate::demo::esegui(&g, a).await,
        Comando::Anpr {
            comando: AnprComando::Check(a),
        } => crate::verifica::esegui(&g, a).await,
        Comando::AnprSim(a) => crate::sim::esegui(a).await,
        Comando::Input { comando } => crate::input::esegui(comando),
        Comando::Migrate(a) => crate::migrazione::esegui(&g, a).await,
        Comando::Admin { comando } => crate::admin::esegui(&g, comando).await,
        Comando::Serve(a) => crate::servizio::esegui(&g, a).await,
        Comando::Worker(a) => crate::elaborazione::esegui(&g, &a).await,
        Comando::Client(a) => crate::client::esegui(a).await,
        Comando::Audit { comando } => crate::audit::esegui(&g, comando).await,
        Comando::Bench {
            comando:
                BenchComando::Anpr {
                    lookups,
                    concurrency,
                    latency_ms,
                },
        } => crate::bench::anpr(lookups, concurrency, latency_ms).await,
        Comando::Bench {
            comando: BenchComando::Files { rows },
        } => crate::bench::files(&g, rows),
        Comando::Bench {
            comando: BenchComando::Audit { entries },
        } => crate::bench::audit(entries).await,
        Comando::Bench {
            comando:
                BenchComando::Scala {
                    subjects,
                    latency_ms,
                    concurrency,
                    chunk_size,
                    workers,
                },
        } => {
            crate::bench::scala::scala(crate::bench::scala::ArgsScala {
                url: g.database_url.clone(),
                subjects,
                latency_ms,
                concurrency,
                chunk_size,
                workers,
            })
            .await
        }
        Comando::Bench {
            comando:
                BenchComando::E2e {
                    subjects,
                    concurrency,
                    latency_ms,
                    separate_sim,
                    chunk_size,
                    minimal_calls,
                    upload_only,
                    skip_zero,
                },
        } => {
            crate::bench::e2e::e2e(crate::bench::e2e::ArgsE2e {
                subjects,
                concurrency,
                latency_ms,
                separate_sim,
                chunk: chunk_size,
                minimal_calls,
                upload_only,
                skip_zero,
            })
            .await
        }
        Comando::Bench {
            comando:
                BenchComando::Web {
                    subjects,
                    clients,
                    seconds,
                    pause_ms,
                    latency_ms,
                    concurrency,
                    chunk_size,
                    engine,
                    chunks_in_flight,
                },
        } => {
            crate::bench::web::web(crate::bench::web::ArgsWeb {
                subjects,
                clients,
                seconds,
                latency_ms,
                concurrency,
                chunk: chunk_size,
                pause_ms,
                engine,
                chunks_in_flight: usize::try_from(chunks_in_flight).unwrap_or(2),
            })
            .await
        }
        Comando::Doc {
            comando: DocComando::Config { write },
        } => crate::riferimento::esegui(write),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    #[test]
    fn superficie_coerente() {
        Cli::command().debug_assert();
    }

    #[test]
    fn master_key_predefinita_nella_cartella_dati() {
        let cli = Cli::try_parse_from(["rivesto", "--data-dir", "d", "migrate"]).unwrap();
        if std::env::var_os("RIVESTO_MASTER_KEY_FILE").is_none() {
            assert_eq!(
                cli.globali.percorso_master_key(),
                PathBuf::from("d/master.key")
            );
        }
    }
}
