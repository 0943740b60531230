//! `rivesto client` against the web app started in this process (the demo's world on a fresh
//! SQLite, the ANPR simulator and the batch engine): exit codes 0, 1 and 2, the files written,
//! and the token never shown.

use crate::{rivesto, testo};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;
use store::{ChiaveMaestra, OpzioniMigrazione, Store};
use web::ids::Tipo;
use web::{Applicazione, ConfigWeb, StatoApp};

const VARIABILE: &str = "RIVESTO_TEST_TOKEN_CLIENT";

pub(crate) struct Ambiente {
    pub(crate) url: String,
    pub(crate) stato: StatoApp,
    cartella: tempfile::TempDir,
    server: tokio::task::JoinHandle<()>,
    worker: tokio::task::JoinHandle<()>,
    _sim: anpr_sim::SimHandle,
}

impl Drop for Ambiente {
    fn drop(&mut self) {
        self.server.abort();
        self.worker.abort();
    }
}

/// The web app with the demo's world and a running worker, on 127.0.0.1:0, with the real clock.
pub(crate) async fn avvia() -> Ambiente {
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

    let chiave = cartella.path().join("master.key");
    store::genera_master_key(&chiave).unwrap();
    let url_db = format!("sqlite://{}", cartella.path().join("rivesto.db").display());
    store::migra(&url_db, &OpzioniMigrazione::default())
        .await
        .unwrap();
    let store = Store::connetti(&url_db).await.unwrap();
    web::demo::semina(
        &store,
        &ChiaveMaestra::da_file(&chiave).unwrap(),
        &web::demo::Onboarding(onboarding),
    )
    .await
    .unwrap();
    let risultati = cartella.path().join("risultati");
    let app = Applicazione::costruisci(
        store.clone(),
        ChiaveMaestra::da_file(&chiave).unwrap(),
        ConfigWeb::new(&risultati),
    )
    .await
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = app.router();
    let server = tokio::spawn(async move {
        let _ = web::server::servi(listener, router, std::future::pending()).await;
    });
    let motore = worker::Motore::new(
        store,
        ChiaveMaestra::da_file(&chiave).unwrap(),
        worker::OpzioniMotore {
            pausa_inattivo: Duration::from_millis(50),
            intervallo_timer: Duration::from_millis(100),
            ..worker::OpzioniMotore::new(risultati)
        },
    );
    let worker = tokio::spawn(async move { motore.esegui_finche(std::future::pending()).await });
    Ambiente {
        url,
        stato: app.stato,
        cartella,
        server,
        worker,
        _sim: sim,
    }
}

impl Ambiente {
    /// A token of `username`, stored as the profile page stores it.
    pub(crate) async fn token(&self, username: &str) -> String {
        let s = &self.stato.store;
        let u = s.utente_per_username(username).await.unwrap().unwrap();
        let token = web::api::token::genera_token();
        let nuovo = store::token_api::NuovoTokenApi {
            utente_id: u.id,
            nome: "test client".into(),
            loa: "LoA2".into(),
        };
        s.crea_token_api(
            &nuovo,
            &token,
            self.stato.adesso_ms(),
            &store::Attore::sistema(),
        )
        .await
        .unwrap();
        token
    }

    /// The opaque id of `username`'s only convention.
    pub(crate) async fn convenzione(&self, username: &str) -> String {
        let s = &self.stato.store;
        let u = s.utente_per_username(username).await.unwrap().unwrap();
        let conv = s.convenzioni(u.ente_id.unwrap(), true).await.unwrap();
        self.stato.ids.codifica(Tipo::Convenzione, conv[0].id)
    }

    pub(crate) fn cartella(&self) -> &Path {
        self.cartella.path()
    }

    /// Runs `rivesto client --url … --token-env VAR <args>` with `token` in VAR (if any).
    pub(crate) async fn client(&self, token: Option<&str>, args: &[&str]) -> Output {
        let mut c = rivesto(self.cartella());
        c.env_remove(VARIABILE)
            .env_remove("RIVESTO_URL")
            .args(["client", "--url", &self.url, "--token-env", VARIABILE])
            .args(args);
        if let Some(t) = token {
            c.env(VARIABILE, t);
        }
        let o = tokio::task::spawn_blocking(move || c.output().unwrap())
            .await
            .unwrap();
        if let Some(t) = token {
            assert!(!testo(&o).contains(t), "token stampato: {}", testo(&o));
        }
        o
    }

    pub(crate) fn file_esempio(&self) -> PathBuf {
        let p = self.cartella().join("soggetti.csv");
        std::fs::write(&p, web::demo::RICHIESTA_ESEMPIO).unwrap();
        p
    }
}

pub(crate) fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub(crate) fn file_in(cartella: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(cartella)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn invio_attesa_stato_e_download() {
    let a = avvia().await;
    let token = a.token("operatore.asl").await;
    let conv = a.convenzione("operatore.asl").await;
    let file = a.file_esempio();
    let out = a.cartella().join("risposte");

    // ASL's convention approves by silent consent at once: the worker takes it to the end.
    let o = a
        .client(
            Some(&token),
            &[
                "submit",
                file.to_str().unwrap(),
                "--convenzione",
                &conv,
                "--motivo",
                "PROT-ASL-1",
                "--wait",
                "--out",
                out.to_str().unwrap(),
                "--intervallo-ms",
                "200",
            ],
        )
        .await;
    assert_eq!(o.status.code(), Some(0), "{}", testo(&o));
    let id = stdout(&o).lines().next().unwrap().to_string();
    assert!(id.contains('-'), "{}", testo(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("inviata") && stderr.contains("COMPLETATA"),
        "{stderr}"
    );
    let nomi = file_in(&out);
    assert!(!nomi.is_empty(), "{}", testo(&o));
    assert!(
        nomi.iter()
            .all(|n| n.starts_with("richiesta-") && n.ends_with(".csv")),
        "{nomi:?}"
    );

    let o = a.client(Some(&token), &["status", &id]).await;
    assert_eq!(o.status.code(), Some(0), "{}", testo(&o));
    let s: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(s["stato"], "COMPLETATA");

    let altra = a.cartella().join("di nuovo");
    let o = a
        .client(
            Some(&token),
            &["download", &id, "--out", altra.to_str().unwrap()],
        )
        .await;
    assert_eq!(o.status.code(), Some(0), "{}", testo(&o));
    assert_eq!(file_in(&altra), nomi);
    for n in &nomi {
        assert_eq!(
            std::fs::read(out.join(n)).unwrap(),
            std::fs::read(altra.join(n)).unwrap()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rifiuti_ed_errori() {
    let a = avvia().await;
    let token = a.token("operatore.polizia").await;
    let conv = a.convenzione("operatore.polizia").await;
    let file = a.file_esempio();
    let file = file.to_str().unwrap();

    // Submitted without --wait: 0, the id on stdout.
    let o = a
        .client(
            Some(&token),
            &["submit", file, "--convenzione", &conv, "--motivo", "PROT-7"],
        )
        .await;
    assert_eq!(o.status.code(), Some(0), "{}", testo(&o));
    let id = stdout(&o).trim().to_string();

    // The TOP of Roma rejects it over the API; status then says so with exit 1.
    let top = a.token("top.roma").await;
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/richieste/{id}/respingi", a.url))
        .bearer_auth(&top)
        .json(&serde_json::json!({"motivo": "delega mancante"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let o = a.client(Some(&token), &["status", &id]).await;
    assert_eq!(o.status.code(), Some(1), "{}", testo(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("delega mancante"));
    // No files for a rejected request.
    let vuota = a.cartella().join("vuota");
    let o = a
        .client(
            Some(&token),
            &["download", &id, "--out", vuota.to_str().unwrap()],
        )
        .await;
    assert_eq!(o.status.code(), Some(1), "{}", testo(&o));

    // Refusals by the server (4xx): 1, with its message.
    let vuoto = a.cartella().join("vuoto.csv");
    std::fs::write(&vuoto, "").unwrap();
    let o = a
        .client(
            Some(&token),
            &[
                "submit",
                vuoto.to_str().unwrap(),
                "--convenzione",
                &conv,
                "--motivo",
                "X",
            ],
        )
        .await;
    assert_eq!(o.status.code(), Some(1), "{}", testo(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("File rifiutato"),
        "{}",
        testo(&o)
    );
    let o = a
        .client(
            Some(&token),
            &[
                "submit",
                file,
                "--convenzione",
                "1-000000000000000000000000",
                "--motivo",
                "X",
            ],
        )
        .await;
    assert_eq!(o.status.code(), Some(1), "{}", testo(&o));
    let o = a.client(Some("rvt_sbagliato"), &["status", &id]).await;
    assert_eq!(o.status.code(), Some(1), "{}", testo(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("HTTP 401"));

    // Usage errors: 2.
    let o = a.client(None, &["status", &id]).await;
    assert_eq!(o.status.code(), Some(2), "{}", testo(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains(VARIABILE));
    let o = a
        .client(Some(&token), &["status", "../amministrazione"])
        .await;
    assert_eq!(o.status.code(), Some(2), "{}", testo(&o));
    let o = a
        .client(
            Some(&token),
            &[
                "submit",
                "manca.csv",
                "--convenzione",
                &conv,
                "--motivo",
                "X",
            ],
        )
        .await;
    assert_eq!(o.status.code(), Some(2), "{}", testo(&o));
    let o = a.client(Some(&token), &["submit", file]).await;
    assert_eq!(o.status.code(), Some(2), "{}", testo(&o));

    // Connection error: 2.
    let chiuso = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let mut c = rivesto(a.cartella());
    c.env(VARIABILE, &token).args([
        "client",
        "--url",
        &format!("http://{chiuso}"),
        "--token-env",
        VARIABILE,
        "status",
        &id,
    ]);
    let o = tokio::task::spawn_blocking(move || c.output().unwrap())
        .await
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", testo(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("connessione"),
        "{}",
        testo(&o)
    );
}
