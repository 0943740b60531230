//! Operations through the binary: JSON logs with request and richiesta ids, graceful shutdown
//! (rows finished or released, never recorded twice), and the SQLite backup that `audit verify`
//! accepts.

use crate::anpr_check::{Figlio, attendi, porta_libera};
use crate::worker::{bootstrap, ok, ok_url, riga};
use crate::{rivesto, testo};
use serde_json::Value;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};
use store::richieste::{NuovaRichiesta, NuovaRiga, stato};

/// The simulator (with `latenza_ms` per answer), a migrated SQLite database, a master key and
/// the bootstrap of worker.rs; the simulator's handle, the database URL, convention and user.
fn ambiente(d: &Path, latenza_ms: u64) -> (Figlio, String, i64, i64) {
    let indirizzo = porta_libera().to_string();
    ok(
        d,
        &["anpr-sim", "init", "--out", "sim", "--listen", &indirizzo],
    );
    let sim = Figlio::new(
        rivesto(d)
            .args(["anpr-sim", "--clients", "sim/sim-clients.toml"])
            .args([
                "--listen",
                &indirizzo,
                "--latency-ms",
                &latenza_ms.to_string(),
            ])
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    attendi(indirizzo.parse().unwrap());
    let url = format!("sqlite://{}/rivesto-data/rivesto.db", d.display());
    ok(d, &["migrate", "--database-url", &url]);
    ok(d, &["admin", "gen-master-key"]);
    let (conv, utente) = bootstrap(d, &url);
    (sim, url, conv, utente)
}

/// `n` distinct, well-formed codici fiscali (most unknown to the simulator: NON_TROVATO after
/// the same calls).
fn codici(n: usize) -> Vec<String> {
    const MESI: &[u8] = b"ABCDEHLMPRST";
    (0..n)
        .map(|i| {
            let mese = MESI[i / 28 % MESI.len()] as char;
            let primi = format!("RSSMRA{:02}{mese}{:02}H501", 70 + i / 336, i % 28 + 1);
            format!("{primi}{}", domain::cf::carattere_controllo(&primi))
        })
        .collect()
}

/// A request of `n` rows under the silent-consent convention, submitted as the web app does.
pub(crate) async fn invia(s: &store::Store, conv: i64, utente: i64, n: usize) -> i64 {
    let snapshot = worker::Istantanea::componi(s, conv, utente, "LoA2")
        .await
        .unwrap();
    let nuova = NuovaRichiesta {
        convenzione_id: conv,
        utente_id: utente,
        motivo: "PROT-OPS".into(),
        data_riferimento: chrono::Utc::now().format("%Y-%m-%d").to_string(),
        snapshot: snapshot.json(),
    };
    let attore = store::Attore {
        nome: "operatore.asl".into(),
        ruolo: Some("STANDARD".into()),
        comune: None,
        ente: Some("asl_rm1".into()),
    };
    let righe: Vec<NuovaRiga> = codici(n)
        .iter()
        .enumerate()
        .map(|(i, cf)| riga(i as i64 + 2, cf))
        .collect();
    let id = s.crea_richiesta(&nuova, &righe, &attore).await.unwrap();
    s.cambia_stato_richiesta(
        id,
        &[stato::BOZZA],
        stato::IN_ATTESA_CONVALIDA,
        None,
        &attore,
    )
    .await
    .unwrap();
    id
}

async fn attendi_stato(s: &store::Store, id: i64, atteso: &str, entro: Duration) {
    let inizio = Instant::now();
    while s.richiesta(id).await.unwrap().stato != atteso {
        assert!(inizio.elapsed() < entro, "richiesta {id} non {atteso}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub(crate) fn termina(f: &Figlio) {
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &f.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
}

/// The log lines written while serving the HTTP request `rid`.
fn con_request_id<'a>(righe: &'a [Value], rid: &str) -> Vec<&'a Value> {
    righe
        .iter()
        .filter(|r| campo_di_span(r, "request_id").as_deref() == Some(rid))
        .collect()
}

/// The value of `campo` in the event's spans (`span`, `spans`) or its own fields.
fn campo_di_span(riga: &Value, campo: &str) -> Option<String> {
    let mut dove = vec![&riga["span"], &riga["fields"]];
    if let Some(spans) = riga["spans"].as_array() {
        dove.extend(spans);
    }
    dove.into_iter().find_map(|v| match &v[campo] {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_json_con_request_id_e_richiesta_id() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (_sim, url, conv, utente) = ambiente(d, 0);
    let s = store::Store::connetti(&url).await.unwrap();
    let listen = porta_libera();
    let serve = Figlio::new(
        rivesto(d)
            .env("RIVESTO_DATABASE_URL", &url)
            .env("RIVESTO_LOG", "info")
            .env("RIVESTO_LOG_FORMAT", "json")
            .args(["serve", "--listen", &listen.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    attendi(listen);
    let id = invia(&s, conv, utente, 3).await;
    attendi_stato(&s, id, stato::COMPLETATA, Duration::from_secs(60)).await;

    let http = reqwest::Client::new();
    let r = http
        .get(format!("http://{listen}/"))
        .header("X-Request-Id", "prova-ops.1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "prova-ops.1");
    // An unsafe id (a forged log line) is replaced by a fresh UUID.
    let r = http
        .get(format!("http://{listen}/"))
        .header("X-Request-Id", "a\"b")
        .send()
        .await
        .unwrap();
    let nuovo = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(uuid::Uuid::parse_str(&nuovo).is_ok(), "{nuovo}");

    // Through the API, a request's own path: its HTTP lines carry the richiesta id too.
    let token = web::api::token::genera_token();
    let nuovo_token = store::token_api::NuovoTokenApi {
        utente_id: utente,
        nome: "log".into(),
        loa: "LoA2".into(),
    };
    let ora = chrono::Utc::now().timestamp_millis();
    s.crea_token_api(&nuovo_token, &token, ora, &store::Attore::sistema())
        .await
        .unwrap();
    // The request's public id, as the app makes it (keyed with a secret of the database).
    let chiave = store::ChiaveMaestra::da_file(&d.join("rivesto-data/master.key")).unwrap();
    let pubblico = web::ids::ChiaveId::carica(&s, &chiave)
        .await
        .unwrap()
        .codifica(web::ids::Tipo::Richiesta, id);
    let r = http
        .get(format!("http://{listen}/api/v1/richieste/{pubblico}"))
        .bearer_auth(&token)
        .header("X-Request-Id", "prova-ops.2")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    termina(&serve);
    let o = serve.uscita();
    assert!(o.status.success(), "{}", testo(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!stderr.contains(&token), "token nei log");
    let mut righe = Vec::new();
    for l in stderr.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(l)
            .unwrap_or_else(|e| panic!("riga di log non JSON ({e}): {l}\n{stderr}"));
        righe.push(v);
    }
    let http_righe = con_request_id(&righe, "prova-ops.1");
    assert!(
        http_righe
            .iter()
            .any(|r| r["fields"]["message"] == "richiesta HTTP servita"
                && r["fields"]["stato"] == 200),
        "{stderr}"
    );
    assert!(!con_request_id(&righe, &nuovo).is_empty(), "{stderr}");
    let api = con_request_id(&righe, "prova-ops.2");
    assert!(
        api.iter()
            .any(|r| r["fields"]["message"] == "richiesta HTTP servita"
                && campo_di_span(r, "richiesta_id") == Some(id.to_string())),
        "{stderr}"
    );
    // Every line inside an HTTP request's span has its id and its path.
    for r in righe
        .iter()
        .filter(|r| r["span"]["name"] == "richiesta_http")
    {
        assert!(campo_di_span(r, "request_id").is_some(), "{r}");
        assert!(r["span"]["percorso"].is_string(), "{r}");
    }
    let id_testo = id.to_string();
    let worker_righe: Vec<_> = righe
        .iter()
        .filter(|r| campo_di_span(r, "richiesta_id").as_deref() == Some(&id_testo))
        .collect();
    assert!(
        worker_righe
            .iter()
            .any(|r| r["fields"]["message"] == "blocco di righe elaborato"),
        "{stderr}"
    );
    assert!(
        worker_righe
            .iter()
            .any(|r| r["fields"]["message"] == "job eseguito"),
        "{stderr}"
    );
    // No secret reaches the log: the password of the bootstrap user, the master key.
    assert!(!stderr.contains("una password lunga"));
    let chiave = std::fs::read(d.join("rivesto-data/master.key")).unwrap();
    let hex: String = chiave.iter().map(|b| format!("{b:02x}")).collect();
    assert!(!stderr.contains(&hex));
    s.chiudi().await;
}

/// Rows still IN_CORSO, or held under any lease.
async fn righe_in_lease(s: &store::Store, id: i64, n: i64) -> Vec<String> {
    s.righe(id, 0, n)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.stato == "IN_CORSO" || r.lease_proprietario.is_some())
        .map(|r| format!("riga {} {} {:?}", r.numero, r.stato, r.lease_proprietario))
        .collect()
}

fn worker(d: &Path, url: &str, tempo_arresto: &str) -> Figlio {
    Figlio::new(
        rivesto(d)
            .env("RIVESTO_DATABASE_URL", url)
            .env("RIVESTO_LOG", "info")
            .args(["worker", "--chunk-size", "20", "--concurrency", "2"])
            .args(["--shutdown-timeout-secs", tempo_arresto])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    )
}

/// Waits until some rows have their outcome, then SIGTERM: the worker exits 0 within the
/// bound and leaves no lease behind. Returns the rows with an outcome at exit.
async fn ferma_a_meta(s: &store::Store, id: i64, w: Figlio, entro: Duration) -> (usize, String) {
    let inizio = Instant::now();
    loop {
        let fatte = s.richiesta(id).await.unwrap();
        let righe = s.righe(id, 0, 1000).await.unwrap();
        if fatte.stato == stato::IN_ELABORAZIONE && righe.iter().any(|r| r.stato == "IN_CORSO") {
            break;
        }
        assert!(
            inizio.elapsed() < Duration::from_secs(60),
            "nessuna riga in corso"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    termina(&w);
    let t = Instant::now();
    let o = tokio::task::spawn_blocking(move || w.uscita())
        .await
        .unwrap();
    assert!(t.elapsed() < entro, "arresto in {:?}", t.elapsed());
    assert_eq!(o.status.code(), Some(0), "{}", testo(&o));
    let finite = s
        .righe(id, 0, 1000)
        .await
        .unwrap()
        .iter()
        .filter(|r| r.esito.is_some())
        .count();
    (finite, String::from_utf8_lossy(&o.stderr).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_conclude_o_rilascia_le_righe_in_corso() {
    const N: usize = 60;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // 150 ms per answer, two rows at a time: a chunk of 20 takes well over a second.
    let (_sim, url, conv, utente) = ambiente(d, 150);
    let s = store::Store::connetti(&url).await.unwrap();
    let id = invia(&s, conv, utente, N).await;

    // A generous bound: the chunk in flight ends with its outcomes.
    let (finite_a, log_a) =
        ferma_a_meta(&s, id, worker(d, &url, "30"), Duration::from_secs(30)).await;
    assert!((1..N).contains(&finite_a), "{finite_a}\n{log_a}");
    assert_eq!(
        righe_in_lease(&s, id, N as i64).await,
        Vec::<String>::new(),
        "{log_a}"
    );
    assert!(!log_a.contains("rilascio i lease"), "{log_a}");

    // A bound of 0 s: the chunk is dropped and its rows released at once, not left to expire.
    let (finite_b, log_b) =
        ferma_a_meta(&s, id, worker(d, &url, "0"), Duration::from_secs(10)).await;
    assert!(finite_b < N, "{finite_b}");
    assert!(log_b.contains("rilascio i lease"), "{log_b}");
    assert!(log_b.contains("lease rilasciati all'arresto"), "{log_b}");
    assert_eq!(
        righe_in_lease(&s, id, N as i64).await,
        Vec::<String>::new(),
        "{log_b}"
    );

    // A third worker takes the rest over at once (no lease to wait out) and ends the request.
    let c = worker(d, &url, "30");
    attendi_stato(&s, id, stato::COMPLETATA, Duration::from_secs(60)).await;
    termina(&c);
    let o = tokio::task::spawn_blocking(move || c.uscita())
        .await
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", testo(&o));
    let righe = s.righe(id, 0, N as i64).await.unwrap();
    assert_eq!(righe.len(), N);
    assert!(righe.iter().all(|r| r.esito.is_some()), "{righe:?}");
    // Each row recorded once: the chunks' audit entries count N rows in all.
    let registrate: u64 = s
        .voci_audit(0, 100_000)
        .await
        .unwrap()
        .iter()
        .filter(|v| v.azione == "CHIAMATE_ANPR" && v.oggetto == format!("richiesta:{id}"))
        .map(|v| {
            serde_json::from_str::<Value>(&v.dettagli).unwrap()["righe"]
                .as_u64()
                .unwrap()
        })
        .sum();
    assert_eq!(registrate, N as u64);
    s.chiudi().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_sqlite_a_caldo_verificabile() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (_sim, url, conv, utente) = ambiente(d, 0);
    let s = store::Store::connetti(&url).await.unwrap();
    // Real activity in the archive: a request processed by a running worker, which stays up
    // (the copy is taken while the database is in use).
    let w = worker(d, &url, "30");
    let id = invia(&s, conv, utente, 5).await;
    attendi_stato(&s, id, stato::COMPLETATA, Duration::from_secs(60)).await;

    let copia = d.join("copia.db");
    let copia_testo = copia.to_str().unwrap();
    let out = ok_url(d, &url, &["admin", "backup", "--out", copia_testo]);
    assert_eq!(out, copia_testo);
    let url_copia = format!("sqlite://{copia_testo}");
    let o = rivesto(d)
        .args(["audit", "verify", "--database-url", &url_copia])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", testo(&o));
    let c = store::Store::connetti(&url_copia).await.unwrap();
    let originali = s.voci_audit(0, 100_000).await.unwrap().len();
    let copiate = c.voci_audit(0, 100_000).await.unwrap().len();
    assert!(
        copiate >= 5 && copiate <= originali,
        "{copiate} / {originali}"
    );
    assert_eq!(c.richiesta(id).await.unwrap().stato, stato::COMPLETATA);
    c.chiudi().await;

    // Never over an existing file; on PostgreSQL it points at pg_dump.
    let o = rivesto(d)
        .env("RIVESTO_DATABASE_URL", &url)
        .args(["admin", "backup", "--out", copia_testo])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", testo(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("esiste già"),
        "{}",
        testo(&o)
    );
    let o = rivesto(d)
        .args(["admin", "backup", "--out", "altra.db"])
        .args(["--database-url", "postgres://rivesto@127.0.0.1:1/rivesto"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", testo(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("pg_dump"),
        "{}",
        testo(&o)
    );
    termina(&w);
    drop(w);
    s.chiudi().await;
}

/// The stored key files of the Comune, decrypted.
async fn file_accesso(url: &str, d: &Path) -> Vec<Vec<u8>> {
    let s = store::Store::connetti(url).await.unwrap();
    let chiave = store::ChiaveMaestra::da_file(&d.join("rivesto-data/master.key")).unwrap();
    let comune = s.comune_per_istat("058091").await.unwrap().unwrap();
    let accesso = s.accesso_anpr(comune.id, &chiave).await.unwrap().unwrap();
    s.chiudi().await;
    accesso.file.values().map(|v| v.esponi().to_vec()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comune_update_sostituisce_le_chiavi_anpr() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (_sim, url, _, _) = ambiente(d, 0);
    let prima = file_accesso(&url, d).await;
    // A new key pair, as after a rotation registered on PDND under a new kid.
    ok(
        d,
        &[
            "anpr-sim",
            "init",
            "--out",
            "nuove",
            "--listen",
            "127.0.0.1:9",
        ],
    );
    let id = ok_url(
        d,
        &url,
        &[
            "admin",
            "comune",
            "update",
            "--istat",
            "058091",
            "--config",
            "nuove/anpr.toml",
        ],
    );
    assert!(id.parse::<i64>().is_ok(), "{id}");
    let dopo = file_accesso(&url, d).await;
    assert_ne!(prima, dopo);
    // Every stored file is one of the new onboarding folder's files (the Comune channel's
    // certificates sit in a subfolder).
    fn leggi_tutti(dir: &Path, out: &mut Vec<Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                leggi_tutti(&p, out);
            } else {
                out.push(std::fs::read(&p).unwrap());
            }
        }
    }
    let mut nuove = Vec::new();
    leggi_tutti(&d.join("nuove"), &mut nuove);
    assert!(!dopo.is_empty());
    assert!(dopo.iter().all(|f| nuove.contains(f)));

    let s = store::Store::connetti(&url).await.unwrap();
    let impostazioni = s
        .voci_audit(0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|v| v.azione == "ACCESSO_ANPR_IMPOSTATO" && v.oggetto == "comune:058091")
        .count();
    assert_eq!(impostazioni, 2, "add e update");
    s.chiudi().await;

    let o = rivesto(d)
        .env("RIVESTO_DATABASE_URL", &url)
        .args(["admin", "comune", "update", "--istat", "001001"])
        .args(["--config", "nuove/anpr.toml"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", testo(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("non esiste"),
        "{}",
        testo(&o)
    );
}
