//! `TestApp`: the web app on 127.0.0.1:0 with a fresh SQLite database, a fresh master key, and
//! the ANPR simulator in-process with the demo's world (two Comuni, three Enti, conventions,
//! users of every role; see `web::demo`). `Browser` is a cookie-keeping HTTP client with typed
//! helpers.
#![allow(dead_code)]

use anpr::security::Orologio;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use store::{ChiaveMaestra, OpzioniMigrazione, Store};
use web::demo::Seme;
use web::{Applicazione, ConfigWeb, StatoApp};

/// A clock the test moves by hand (sessions, throttling, silent consent).
#[derive(Debug)]
pub struct OrologioFinto(AtomicI64);

impl OrologioFinto {
    pub fn avanza_ms(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Orologio for OrologioFinto {
    fn adesso_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    pub stato: StatoApp,
    pub store: Store,
    pub orologio: Arc<OrologioFinto>,
    /// The demo's users; passwords in `seme.account`.
    pub seme: Seme,
    pub cartella: tempfile::TempDir,
    pub master_key: PathBuf,
    pub sim: anpr_sim::SimHandle,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Starts the app with the default settings.
pub async fn avvia() -> TestApp {
    avvia_con(|_| {}).await
}

/// Starts the app after `modifica` has adjusted its settings (public URL, proxies, SMTP…).
pub async fn avvia_con(modifica: impl FnOnce(&mut ConfigWeb)) -> TestApp {
    let cartella = tempfile::tempdir().unwrap();
    let listener_sim = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let indirizzo_sim = listener_sim.local_addr().unwrap();
    let mut config_sim = anpr_sim::SimConfig::default();
    let mut onboarding = Vec::new();
    for istat in web::demo::codici_istat() {
        let init = anpr_sim::init::scrivi_per_comune(
            &cartella.path().join("anpr-sim").join(istat),
            indirizzo_sim,
            istat,
        )
        .unwrap();
        let registrati = anpr_sim::SimConfig::from_clients_file(&init.clienti).unwrap();
        config_sim.clients.extend(registrati.clients);
        config_sim.ws.comuni.extend(registrati.ws.comuni);
        onboarding.push(init.anpr_toml);
    }
    let sim = anpr_sim::avvia(config_sim, listener_sim).await.unwrap();

    let master_key = cartella.path().join("master.key");
    store::genera_master_key(&master_key).unwrap();
    let url_db = format!("sqlite://{}", cartella.path().join("rivesto.db").display());
    store::migra(&url_db, &OpzioniMigrazione::default())
        .await
        .unwrap();
    let store = Store::connetti(&url_db).await.unwrap();
    let chiave = ChiaveMaestra::da_file(&master_key).unwrap();
    let seme = web::demo::semina(&store, &chiave, &web::demo::Onboarding(onboarding))
        .await
        .unwrap();

    let mut config = ConfigWeb::new(cartella.path().join("risultati"));
    modifica(&mut config);
    // A fixed, plausible "now": 2026-03-02 10:00 UTC (a Monday, 11:00 in Rome).
    let orologio = Arc::new(OrologioFinto(AtomicI64::new(1_772_445_600_000)));
    let app = Applicazione::con_orologio(store.clone(), chiave, config, orologio.clone())
        .await
        .unwrap();
    let stato = app.stato.clone();
    // The app's store, stamped by the fake clock.
    let store = stato.store.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = app.router();
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .unwrap();
    });
    TestApp {
        url,
        stato,
        store,
        orologio,
        seme,
        cartella,
        master_key,
        sim,
        server,
    }
}

impl TestApp {
    /// Roma's onboarding as `anpr-sim init` wrote it: the TOML, then every file it names (the
    /// PDND key and the Comune channel's certificates and keys), by bare name.
    pub fn onboarding_roma(&self) -> (Vec<u8>, Vec<(String, Vec<u8>)>) {
        let dir = self.cartella.path().join("anpr-sim").join("058091");
        let toml = std::fs::read(dir.join("anpr.toml")).unwrap();
        let ws = dir.join(format!("ws-{}", anpr_sim::init::ISTAT_WS));
        let mut file = vec![(
            "chiave-client.pem".to_string(),
            std::fs::read(dir.join("chiave-client.pem")).unwrap(),
        )];
        for n in [
            anpr_sim::init::FILE_CO_CERT,
            anpr_sim::init::FILE_CO_KEY,
            anpr_sim::init::FILE_PC_CERT,
            anpr_sim::init::FILE_PC_KEY,
        ] {
            file.push((n.to_string(), std::fs::read(ws.join(n)).unwrap()));
        }
        (toml, file)
    }

    /// `op` submits `testo` with `motivo` under `convenzione` (its opaque id), the TOP of Roma
    /// approves, the engine processes it. Returns the request's page URL.
    pub async fn richiesta_elaborata(
        &self,
        op: &Browser,
        convenzione: &str,
        motivo: &str,
        testo: &str,
    ) -> String {
        let token = op.csrf.lock().unwrap().clone();
        let f = reqwest::multipart::Form::new()
            .text("_csrf", token)
            .text("convenzione", convenzione.to_string())
            .text("motivo", motivo.to_string())
            .text("data_riferimento", "")
            .text("testo", testo.to_string());
        let r = op.post_multipart("/richieste/nuova", f).await;
        assert_eq!(r.stato, 303, "{}", r.corpo);
        let url = r.location().unwrap().to_string();
        op.get(&url).await;
        assert_eq!(op.post_form(&format!("{url}/invia"), &[]).await.stato, 303);
        let top = self.connesso("top.roma").await;
        top.get("/convalida").await;
        let r = top.post_form(&format!("{url}/approva"), &[]).await;
        assert_eq!(r.stato, 303, "{}", r.corpo);
        self.elabora_tutto().await;
        url
    }

    /// The demo password of `username`.
    pub fn password(&self, username: &str) -> String {
        self.seme
            .account
            .iter()
            .find(|a| a.username == username)
            .unwrap_or_else(|| panic!("nessun account demo {username}"))
            .password
            .clone()
    }

    pub async fn id_utente(&self, username: &str) -> i64 {
        self.store
            .utente_per_username(username)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("nessun utente {username}"))
            .id
    }

    /// A browser with no session.
    pub fn browser(&self) -> Browser {
        Browser::nuovo(&self.url)
    }

    /// A browser already signed in as `username` (the session is written straight into the
    /// store, in phase `Completa`, with LoA2): for tests about what comes after sign-in.
    pub async fn connesso(&self, username: &str) -> Browser {
        use web::sessione::{DatiSessione, Fase};
        let id_utente = self.id_utente(username).await;
        let ora = self.stato.adesso_ms();
        let dati = DatiSessione {
            fase: Fase::Completa,
            utente_id: Some(id_utente),
            loa: "LoA2".into(),
            ..DatiSessione::anonima(ora)
        };
        let id = web::sessione::apri(&self.stato, &dati).await.unwrap();
        let b = Browser::nuovo(&self.url);
        b.imposta_cookie(&format!("{}={id}", web::sessione::nome_cookie(&self.stato)));
        *b.csrf.lock().unwrap() = dati.csrf.clone();
        b
    }

    /// The batch engine of this app (same store, same result folder, same clock), for tests
    /// that process requests.
    pub fn motore(&self) -> worker::Motore {
        let opzioni = worker::OpzioniMotore {
            pausa_inattivo: std::time::Duration::from_millis(10),
            intervallo_timer: std::time::Duration::from_millis(0),
            orologio: self.orologio.clone(),
            ..worker::OpzioniMotore::new(self.stato.config.cartella_risultati.clone())
        };
        worker::Motore::new(
            self.store.clone(),
            ChiaveMaestra::da_file(&self.master_key).unwrap(),
            opzioni,
        )
    }

    /// Runs engine passes until one does nothing (timers included).
    pub async fn elabora_tutto(&self) {
        let motore = self.motore();
        for _ in 0..500 {
            let fatto = motore.passo().await.unwrap();
            if fatto.nulla() {
                // A second idle pass: timers may have enqueued work in the first.
                if motore.passo().await.unwrap().nulla() {
                    return;
                }
            }
        }
        panic!("il motore non si ferma dopo 500 passi");
    }
}

/// An HTTP client that keeps cookies, does not follow redirects, and adds the CSRF token it
/// last saw to forms.
pub struct Browser {
    pub base: String,
    pub client: reqwest::Client,
    jar: Arc<reqwest::cookie::Jar>,
    /// The CSRF token of the current session (from the last page that showed one).
    pub csrf: std::sync::Mutex<String>,
}

/// A response read whole.
#[derive(Debug)]
pub struct Risposta {
    pub stato: u16,
    pub intestazioni: reqwest::header::HeaderMap,
    pub corpo: String,
}

impl Risposta {
    pub fn location(&self) -> Option<&str> {
        self.intestazioni
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
    }

    pub fn intestazione(&self, nome: &str) -> Option<&str> {
        self.intestazioni.get(nome).and_then(|v| v.to_str().ok())
    }
}

impl Browser {
    pub fn nuovo(base: &str) -> Browser {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Browser {
            base: base.to_string(),
            client,
            jar,
            csrf: std::sync::Mutex::new(String::new()),
        }
    }

    pub fn imposta_cookie(&self, cookie: &str) {
        self.jar
            .add_cookie_str(cookie, &self.base.parse::<url::Url>().unwrap());
    }

    fn ricorda_csrf(&self, corpo: &str) {
        let segno = "name=\"_csrf\" value=\"";
        if let Some(i) = corpo.find(segno) {
            let resto = &corpo[i + segno.len()..];
            if let Some(fine) = resto.find('"') {
                *self.csrf.lock().unwrap() = resto[..fine].to_string();
            }
        }
    }

    async fn leggi(&self, r: reqwest::Response) -> Risposta {
        let stato = r.status().as_u16();
        let intestazioni = r.headers().clone();
        let corpo = r.text().await.unwrap();
        self.ricorda_csrf(&corpo);
        Risposta {
            stato,
            intestazioni,
            corpo,
        }
    }

    pub async fn get(&self, percorso: &str) -> Risposta {
        let r = self
            .client
            .get(format!("{}{percorso}", self.base))
            .send()
            .await
            .unwrap();
        self.leggi(r).await
    }

    /// Downloads bytes (files).
    pub async fn scarica(&self, percorso: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
        let r = self
            .client
            .get(format!("{}{percorso}", self.base))
            .send()
            .await
            .unwrap();
        let stato = r.status().as_u16();
        let h = r.headers().clone();
        (stato, h, r.bytes().await.unwrap().to_vec())
    }

    /// A form POST with the session's CSRF token added as `_csrf`.
    pub async fn post_form(&self, percorso: &str, campi: &[(&str, &str)]) -> Risposta {
        let token = self.csrf.lock().unwrap().clone();
        let mut tutti: Vec<(&str, &str)> = campi.to_vec();
        tutti.push(("_csrf", &token));
        self.post_form_senza_csrf(percorso, &tutti).await
    }

    /// A form POST exactly as given (for CSRF tests).
    pub async fn post_form_senza_csrf(&self, percorso: &str, campi: &[(&str, &str)]) -> Risposta {
        let r = self
            .client
            .post(format!("{}{percorso}", self.base))
            .form(campi)
            .send()
            .await
            .unwrap();
        self.leggi(r).await
    }

    /// A multipart POST (uploads); the CSRF token goes in the `X-CSRF-Token` header.
    pub async fn post_multipart(&self, percorso: &str, form: reqwest::multipart::Form) -> Risposta {
        let token = self.csrf.lock().unwrap().clone();
        let r = self
            .client
            .post(format!("{}{percorso}", self.base))
            .header("X-CSRF-Token", token)
            .multipart(form)
            .send()
            .await
            .unwrap();
        self.leggi(r).await
    }
}

/// `BTreeMap` of the header cookies a response set, by name.
pub fn cookie_impostati(r: &Risposta) -> BTreeMap<String, String> {
    r.intestazioni
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| {
            let (nome, _) = v.split_once('=')?;
            Some((nome.to_string(), v.to_string()))
        })
        .collect()
}

// --- autenticazione (W1) ---------------------------------------------------------------------

/// Everything logged by any test of this binary since the first call (DEBUG and above): tests
/// grep it for secrets. The subscriber is global, installed once; calling this early in a test
/// makes sure its own logs are captured.
pub fn log_catturati() -> String {
    use std::sync::{Mutex, OnceLock};
    static BUFFER: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    let buffer = BUFFER.get_or_init(|| {
        let b = Arc::new(Mutex::new(Vec::new()));
        let scrittore = b.clone();
        let subscriber = tracing_subscriber::fmt()
            // DEBUG and above from everything but the browser tests' WebDriver client, whose
            // base64 screenshots in its own logs may contain any text ("eyJ" included).
            .with_env_filter(tracing_subscriber::EnvFilter::new("debug,thirtyfour=off"))
            .with_ansi(false)
            .with_writer(move || ScrittoreLog(scrittore.clone()))
            .finish();
        // Another global subscriber would make this capture nothing: fail loudly.
        tracing::subscriber::set_global_default(subscriber)
            .expect("un altro subscriber globale è già installato");
        b
    });
    String::from_utf8_lossy(&buffer.lock().unwrap()).into_owned()
}

struct ScrittoreLog(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for ScrittoreLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
