//! Real-browser tests (issue 7): Debian's chromium, headless, driven through its chromedriver
//! by thirtyfour, against the app of `aiuto::avvia()` with the batch engine running beside it.
//!
//! Every page the tests visit (each navigation, and each significant htmx update) gets axe-core
//! injected and run with the WCAG 2.0/2.1 A and AA rules; one line per visit is printed
//! (`axe: /richieste/… — 0 violazioni`) and at the end of each test any violation fails it,
//! listed by URL. Each test leaves a screenshot of its last page in `target/screenshots/`.
//!
//! The browser and driver come from `scripts/browser-setup` (`/usr/bin/chromium`,
//! `/usr/bin/chromedriver`, or `$RIVESTO_CHROMIUM` / `$RIVESTO_CHROMEDRIVER`). When they are
//! missing the tests fail, unless `RIVESTO_BROWSER_TESTS=skip` (set by `scripts/test` outside CI
//! when the setup could not install them): then they say why and return. Under `CI=true` they
//! never skip.
//!
//! Elements are found by what the markup promises to keep: ids, input names, form actions, link
//! targets and visible texts, never presentation classes.

mod accesso;
mod amministrazione;
mod richiesta;

use crate::aiuto::{self, TestApp};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use thirtyfour::prelude::*;

const AXE: &str = include_str!("../../../../../assets/vendor/axe-core/axe.min.js");
const ATTESA: Duration = Duration::from_secs(30);

/// Why the browser tests cannot run here, when they cannot.
fn binari() -> Result<(PathBuf, PathBuf), String> {
    let chromium = std::env::var_os("RIVESTO_CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    let driver = std::env::var_os("RIVESTO_CHROMEDRIVER")
        .map_or_else(|| PathBuf::from("/usr/bin/chromedriver"), PathBuf::from);
    for p in [&chromium, &driver] {
        if !p.exists() {
            return Err(format!(
                "{} non trovato: eseguire scripts/browser-setup (apt-get install chromium chromium-driver)",
                p.display()
            ));
        }
    }
    Ok((chromium, driver))
}

/// `None` (after saying why) when the browser tests are to be skipped on this machine.
fn da_eseguire() -> Option<(PathBuf, PathBuf)> {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let salta = std::env::var("RIVESTO_BROWSER_TESTS").is_ok_and(|v| v == "skip");
    match binari() {
        Ok(b) if ci || !salta => Some(b),
        Ok(_) => {
            eprintln!("test nel browser saltati: RIVESTO_BROWSER_TESTS=skip");
            None
        }
        Err(e) if salta && !ci => {
            eprintln!("test nel browser saltati (RIVESTO_BROWSER_TESTS=skip): {e}");
            None
        }
        Err(e) => panic!(
            "{e}. Fuori dalla CI si possono saltare con RIVESTO_BROWSER_TESTS=skip; con CI=true no."
        ),
    }
}

/// Where the screenshots go: `<target dir>/screenshots`.
pub fn cartella_schermate() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let d = tmp.parent().unwrap_or(tmp).join("screenshots");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// chromedriver on its own port, in its own process group: dropping it ends the group (the
/// driver and any browser it left behind).
struct Driver {
    figlio: Child,
    porta: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        // First a polite stop, so that chromedriver closes and reaps its browser; then the
        // whole group, whatever is left.
        let _ = Command::new("kill")
            .args(["-TERM", &self.figlio.id().to_string()])
            .stderr(Stdio::null())
            .status();
        let inizio = Instant::now();
        while inizio.elapsed() < Duration::from_secs(3) {
            if matches!(self.figlio.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let gruppo = format!("-{}", self.figlio.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &gruppo])
            .stderr(Stdio::null())
            .status();
        let _ = self.figlio.kill();
        let _ = self.figlio.wait();
    }
}

fn porta_libera() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn avvia_driver(eseguibile: &Path, log: &Path) -> Driver {
    use std::os::unix::process::CommandExt as _;
    let mut ultimo = String::new();
    for _ in 0..3 {
        let porta = porta_libera();
        let figlio = Command::new(eseguibile)
            .arg(format!("--port={porta}"))
            .arg(format!("--log-path={}", log.display()))
            // Warnings and errors only: at INFO chromedriver logs every command with its
            // arguments, typed passwords and TOTP codes included.
            .arg("--log-level=WARNING")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("avvio di {}: {e}", eseguibile.display()));
        let mut driver = Driver { figlio, porta };
        let client = reqwest::Client::new();
        let inizio = Instant::now();
        while inizio.elapsed() < ATTESA {
            if let Ok(Some(stato)) = driver.figlio.try_wait() {
                ultimo = format!("chromedriver terminato: {stato}");
                break;
            }
            if let Ok(r) = client
                .get(format!("http://127.0.0.1:{porta}/status"))
                .send()
                .await
                && let Ok(v) = r.json::<Value>().await
                && v["value"]["ready"] == json!(true)
            {
                return driver;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if ultimo.is_empty() {
            ultimo = format!("chromedriver non pronto sulla porta {porta}");
        }
        drop(driver);
    }
    panic!("{ultimo}");
}

/// The batch engine in a background task, one row at a time, which a test can pause and step.
pub struct MotoreSfondo {
    motore: Arc<tokio::sync::Mutex<worker::Motore>>,
    in_pausa: Arc<AtomicBool>,
    compito: tokio::task::JoinHandle<()>,
}

impl Drop for MotoreSfondo {
    fn drop(&mut self) {
        self.compito.abort();
    }
}

impl MotoreSfondo {
    /// The engine of `app` (its store, result folder and fake clock), claiming one row per pass
    /// so that a small request goes through visible intermediate states.
    pub fn avvia(app: &TestApp) -> MotoreSfondo {
        let opzioni = worker::OpzioniMotore {
            dimensione_blocco: 1,
            concorrenza_per_comune: 1,
            pausa_inattivo: Duration::from_millis(50),
            intervallo_timer: Duration::from_millis(0),
            orologio: app.orologio.clone(),
            ..worker::OpzioniMotore::new(app.stato.config.cartella_risultati.clone())
        };
        let motore = worker::Motore::new(
            app.store.clone(),
            store::ChiaveMaestra::da_file(&app.master_key).unwrap(),
            opzioni,
        );
        let motore = Arc::new(tokio::sync::Mutex::new(motore));
        let in_pausa = Arc::new(AtomicBool::new(false));
        let (m, p) = (motore.clone(), in_pausa.clone());
        let compito = tokio::spawn(async move {
            loop {
                let attesa = if p.load(Ordering::SeqCst) {
                    Duration::from_millis(50)
                } else {
                    let g = m.lock().await;
                    match g.passo().await {
                        Ok(l) if !l.nulla() => Duration::ZERO,
                        Ok(_) => Duration::from_millis(50),
                        Err(e) => {
                            eprintln!("motore: {e}");
                            Duration::from_millis(200)
                        }
                    }
                };
                tokio::time::sleep(attesa).await;
            }
        });
        MotoreSfondo {
            motore,
            in_pausa,
            compito,
        }
    }

    /// Stops the loop after the pass in progress.
    pub async fn pausa(&self) {
        self.in_pausa.store(true, Ordering::SeqCst);
        drop(self.motore.lock().await);
    }

    pub fn riprendi(&self) {
        self.in_pausa.store(false, Ordering::SeqCst);
    }

    /// While paused: passes until one row gets its final outcome. Returns false if none did.
    pub async fn una_riga(&self) -> bool {
        let m = self.motore.lock().await;
        for _ in 0..50 {
            let fatto = m.passo().await.expect("passo del motore");
            if fatto.righe_finali > 0 {
                return true;
            }
            if fatto.nulla() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        false
    }
}

/// One axe violation on one page.
#[derive(Debug, Clone)]
struct Violazione {
    id: String,
    impatto: String,
    aiuto: String,
    nodi: Vec<String>,
}

/// A test's world: the app, the engine, the browser.
pub struct Prova {
    pub nome: &'static str,
    /// Dropped first: the session is closed before its driver is killed.
    driver: Option<WebDriver>,
    pub app: TestApp,
    pub motore: MotoreSfondo,
    /// TOTP secrets enrolled through the pages, by username.
    pub totp: HashMap<String, Vec<u8>>,
    axe: Vec<(String, Vec<Violazione>)>,
    pub cartella_download: tempfile::TempDir,
    _profilo: tempfile::TempDir,
    _driver: Driver,
}

impl Prova {
    /// A fresh app, engine and headless browser; `None` when the browser tests are skipped.
    pub async fn avvia(nome: &'static str) -> Option<Prova> {
        let (chromium, eseguibile) = da_eseguire()?;
        let app = aiuto::avvia().await;
        let motore = MotoreSfondo::avvia(&app);
        let profilo = tempfile::tempdir().unwrap();
        let cartella_download = tempfile::tempdir().unwrap();
        let log = cartella_schermate().join(format!("{nome}-chromedriver.log"));
        let driver_proc = avvia_driver(&eseguibile, &log).await;

        let mut caps = DesiredCapabilities::chrome();
        caps.set_binary(chromium.to_str().unwrap()).unwrap();
        for a in [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,1600",
        ] {
            caps.add_arg(a).unwrap();
        }
        caps.add_arg(&format!("--user-data-dir={}", profilo.path().display()))
            .unwrap();
        caps.add_experimental_option(
            "prefs",
            json!({
                "download.default_directory": cartella_download.path().to_str().unwrap(),
                "download.prompt_for_download": false,
                "download.directory_upgrade": true,
                "safebrowsing.enabled": false,
            }),
        )
        .unwrap();
        let mut ultimo = None;
        let mut driver = None;
        for _ in 0..3 {
            match WebDriver::new(
                format!("http://127.0.0.1:{}", driver_proc.porta),
                caps.clone(),
            )
            .await
            {
                Ok(d) => {
                    driver = Some(d);
                    break;
                }
                Err(e) => {
                    ultimo = Some(e);
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
        let driver = driver.unwrap_or_else(|| panic!("sessione chromium: {ultimo:?}"));
        driver
            .update_timeouts(TimeoutConfiguration::new(
                Some(Duration::from_secs(120)),
                Some(Duration::from_secs(60)),
                Some(Duration::ZERO),
            ))
            .await
            .unwrap();
        Some(Prova {
            nome,
            driver: Some(driver),
            app,
            motore,
            totp: HashMap::new(),
            axe: Vec::new(),
            cartella_download,
            _profilo: profilo,
            _driver: driver_proc,
        })
    }

    pub fn d(&self) -> &WebDriver {
        self.driver.as_ref().unwrap()
    }

    /// The current address without scheme and host.
    pub async fn percorso(&self) -> String {
        let u = self.d().current_url().await.unwrap();
        match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_string(),
        }
    }

    /// Opens `percorso` and checks the page.
    pub async fn vai(&mut self, percorso: &str) {
        let url = format!("{}{percorso}", self.app.url);
        self.d().goto(url).await.unwrap();
        self.pagina_caricata().await;
        self.controlla_axe().await;
    }

    /// Waits for the document to be complete.
    async fn pagina_caricata(&self) {
        self.aspetta("document.readyState === 'complete'", || async {
            self.js("return document.readyState").await == json!("complete")
        })
        .await;
    }

    pub async fn js(&self, script: &str) -> Value {
        self.d()
            .execute(script, Vec::new())
            .await
            .unwrap_or_else(|e| panic!("script {script}: {e}"))
            .json()
            .clone()
    }

    pub async fn js_con(&self, script: &str, args: Vec<Value>) -> Value {
        self.d()
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("script {script}: {e}"))
            .json()
            .clone()
    }

    /// Polls `condizione` until it holds, for at most `ATTESA`.
    pub async fn aspetta<F, Fut>(&self, cosa: &str, condizione: F)
    where
        F: Fn() -> Fut,
        Fut: Future<Output = bool>,
    {
        self.aspetta_per(cosa, ATTESA, condizione).await;
    }

    pub async fn aspetta_per<F, Fut>(&self, cosa: &str, limite: Duration, condizione: F)
    where
        F: Fn() -> Fut,
        Fut: Future<Output = bool>,
    {
        let inizio = Instant::now();
        loop {
            if condizione().await {
                return;
            }
            if inizio.elapsed() > limite {
                let testo = self.testo_principale().await;
                let url = self.percorso().await;
                let non_validi = self
                    .js("return Array.from(document.querySelectorAll('input:invalid, select:invalid, textarea:invalid')).map(e => (e.name || e.id) + ': ' + e.validationMessage).join('; ')")
                    .await;
                eprintln!("campi non validi nella pagina: {non_validi}");
                self.schermata(&format!("{}-errore", self.nome)).await;
                panic!("attesa scaduta ({limite:?}): {cosa}\nsu {url}:\n{testo}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The visible text of `<main>` (or of the body, when there is no main).
    pub async fn testo_principale(&self) -> String {
        self.js(
            "const m = document.querySelector('main') || document.body; return m ? m.innerText : '';",
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
    }

    pub async fn c_e(&self, css: &str) -> bool {
        !self
            .d()
            .find_all(By::Css(css))
            .await
            .unwrap_or_default()
            .is_empty()
    }

    /// The first element matching `css`, waiting for it to appear.
    pub async fn trova(&self, css: &str) -> WebElement {
        self.aspetta(&format!("elemento {css}"), || self.c_e(css))
            .await;
        self.d().find(By::Css(css)).await.unwrap()
    }

    /// Types `valore` into the field named `nome` (cleared first), inside `contenitore` (a CSS
    /// selector, e.g. a form by its action).
    pub async fn scrivi(&self, contenitore: &str, nome: &str, valore: &str) {
        let e = self
            .trova(&format!("{contenitore} [name=\"{nome}\"]"))
            .await;
        e.clear().await.unwrap();
        e.send_keys(valore).await.unwrap();
    }

    /// Sets a `<select>` (or any field) by value, as a person choosing an option would.
    pub async fn scegli(&self, contenitore: &str, nome: &str, valore: &str) {
        let e = self
            .trova(&format!("{contenitore} [name=\"{nome}\"]"))
            .await;
        let sel = thirtyfour::components::SelectElement::new(&e)
            .await
            .unwrap();
        sel.select_by_value(valore).await.unwrap();
    }

    /// Clicks an element; when a styled control hides it, its label, then a script click.
    pub async fn clic(&self, e: &WebElement) {
        if e.click().await.is_ok() {
            return;
        }
        if let Ok(Some(id)) = e.attr("id").await
            && let Ok(l) = self.d().find(By::Css(format!("label[for=\"{id}\"]"))).await
            && l.click().await.is_ok()
        {
            return;
        }
        self.js_con("arguments[0].click();", vec![e.to_json().unwrap()])
            .await;
    }

    /// Ticks the checkbox or radio `css` if it is not ticked yet.
    pub async fn spunta(&self, css: &str) {
        let e = self.trova(css).await;
        if !e.is_selected().await.unwrap() {
            self.clic(&e).await;
        }
        assert!(e.is_selected().await.unwrap(), "{css} non selezionato");
    }

    /// Marks the current document, so that a navigation can be told from it.
    async fn segna_documento(&self) {
        self.js("window.__rivesto_vecchia = true; return true;")
            .await;
    }

    async fn nuovo_documento(&self) -> bool {
        // During the navigation the script may fail: that is "not yet".
        match self
            .d()
            .execute(
                "return window.__rivesto_vecchia === undefined && document.readyState === 'complete';",
                Vec::new(),
            )
            .await
        {
            Ok(r) => r.json() == &json!(true),
            Err(_) => false,
        }
    }

    /// Submits the form whose `action` is `azione` with its submit button, waits for the new
    /// page and checks it.
    pub async fn invia(&mut self, azione: &str) {
        self.invia_modulo(&format!("form[action=\"{azione}\"]"))
            .await;
    }

    /// Submits the form matching `modulo` (a CSS selector) with its submit button.
    pub async fn invia_modulo(&mut self, modulo: &str) {
        let css = format!(
            "{modulo} button[type=\"submit\"], {modulo} button:not([type]), {modulo} input[type=\"submit\"]"
        );
        let b = self.trova(&css).await;
        self.clic_e_attendi(&b).await;
    }

    /// Clicks the button or link whose visible text is `testo`, waits for the new page and checks
    /// it.
    pub async fn clic_testo(&mut self, testo: &str) {
        let xpath = format!(
            "//main//*[self::button or self::a][normalize-space(.)=\"{testo}\"] | //header//*[self::button or self::a][normalize-space(.)=\"{testo}\"]"
        );
        self.aspetta(&format!("pulsante o link «{testo}»"), || async {
            !self
                .d()
                .find_all(By::XPath(xpath.clone()))
                .await
                .unwrap_or_default()
                .is_empty()
        })
        .await;
        let e = self.d().find(By::XPath(xpath)).await.unwrap();
        self.clic_e_attendi(&e).await;
    }

    pub async fn clic_e_attendi(&mut self, e: &WebElement) {
        self.segna_documento().await;
        self.clic(e).await;
        self.aspetta("una nuova pagina dopo il clic", || self.nuovo_documento())
            .await;
        self.controlla_axe().await;
    }

    /// Injects axe-core (once per document) and runs the WCAG 2.x A/AA rules on the page as it
    /// is now; prints one line and keeps the violations for the end of the test.
    pub async fn controlla_axe(&mut self) {
        let url = self.percorso().await;
        let titolo = self.js("return document.title").await;
        let presente = self.js("return typeof window.axe !== 'undefined'").await;
        if presente != json!(true) {
            self.d()
                .execute(AXE, Vec::new())
                .await
                .unwrap_or_else(|e| panic!("iniezione di axe-core su {url}: {e}"));
        }
        let r = self
            .d()
            .execute_async(
                r#"
const fatto = arguments[arguments.length - 1];
axe.run(document, {
  runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
  resultTypes: ['violations'],
}).then(r => fatto({ violazioni: r.violations.map(v => ({
  id: v.id, impatto: v.impact || '', aiuto: v.help,
  nodi: v.nodes.map(n => n.target.join(' ') + '  ' + n.html.slice(0, 160)),
})) })).catch(e => fatto({ errore: String(e) }));
"#,
                Vec::new(),
            )
            .await
            .unwrap_or_else(|e| panic!("axe su {url}: {e}"));
        let v = r.json();
        if let Some(e) = v.get("errore") {
            panic!("axe su {url}: {e}");
        }
        let violazioni: Vec<Violazione> = v["violazioni"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|x| Violazione {
                id: x["id"].as_str().unwrap_or_default().into(),
                impatto: x["impatto"].as_str().unwrap_or_default().into(),
                aiuto: x["aiuto"].as_str().unwrap_or_default().into(),
                nodi: x["nodi"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .iter()
                    .map(|n| n.as_str().unwrap_or_default().to_string())
                    .collect(),
            })
            .collect();
        let titolo = titolo.as_str().unwrap_or_default();
        if violazioni.is_empty() {
            println!("axe: {url} ({titolo}) — 0 violazioni");
        } else {
            println!("axe: {url} ({titolo}) — {} violazioni", violazioni.len());
            for v in &violazioni {
                println!("  - {} [{}]: {}", v.id, v.impatto, v.aiuto);
                for n in &v.nodi {
                    println!("      {n}");
                }
            }
        }
        self.axe.push((format!("{url} ({titolo})"), violazioni));
    }

    /// Saves a screenshot of the page as it is now, as `<target>/screenshots/<nome>.png`.
    pub async fn schermata(&self, nome: &str) {
        let p = cartella_schermate().join(format!("{nome}.png"));
        if let Err(e) = self.d().screenshot(&p).await {
            eprintln!("schermata {}: {e}", p.display());
        } else {
            println!("schermata: {}", p.display());
        }
    }

    /// The end of a test: the screenshot of the last page, the browser closed, and no axe
    /// violation on any page visited.
    pub async fn fine(mut self) {
        self.schermata(self.nome).await;
        if let Some(d) = self.driver.take() {
            let _ = d.quit().await;
        }
        let pagine = self.axe.len();
        let con_violazioni: Vec<String> = self
            .axe
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(url, v)| {
                let elenco: Vec<String> = v
                    .iter()
                    .map(|x| {
                        format!(
                            "{} [{}] {} → {}",
                            x.id,
                            x.impatto,
                            x.aiuto,
                            x.nodi.join(" | ")
                        )
                    })
                    .collect();
                format!("{url}:\n    {}", elenco.join("\n    "))
            })
            .collect();
        // The list of pages checked, by URL, in the test output even when the test passes
        // (written to stderr directly: the test harness captures only print! and eprint!).
        let mut riepilogo = format!("axe [{}]:\n", self.nome);
        for (url, v) in &self.axe {
            riepilogo.push_str(&format!("  axe: {url} — {} violazioni\n", v.len()));
        }
        riepilogo.push_str(&format!(
            "  axe: {pagine} controlli, {} con violazioni\n",
            con_violazioni.len()
        ));
        let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), riepilogo.as_bytes());
        assert!(
            con_violazioni.is_empty(),
            "violazioni WCAG 2.1 A/AA (axe-core):\n{}",
            con_violazioni.join("\n")
        );
    }
}
