//! `--metrics-listen`: `rivesto serve` (web app and worker in one process) with its metrics on a
//! second listener on port 0, against the simulator in another process. After a request is
//! processed, the scrape shows the calls, the rows, the web latency and the database gauges.

use crate::anpr_check::{Figlio, attendi, porta_libera};
use crate::rivesto;
use crate::worker::{bootstrap, invia, ok};
use std::io::{BufRead as _, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};
use store::richieste::stato;

/// Reads the child's stdout until it has printed both addresses; the lines keep being drained
/// afterwards so the child never blocks on a full pipe.
fn indirizzi(stdout: std::process::ChildStdout) -> (String, String) {
    let (invia, ricevi) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for riga in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = invia.send(riga);
        }
    });
    let (mut web, mut metriche) = (None, None);
    while web.is_none() || metriche.is_none() {
        let riga = ricevi
            .recv_timeout(Duration::from_secs(60))
            .expect("serve non ha stampato i suoi indirizzi");
        if let Some(u) = riga.strip_prefix("Rivesto in ascolto su ") {
            web = Some(u.to_string());
        }
        if let Some(u) = riga.strip_prefix("Metriche su ") {
            metriche = Some(u.to_string());
        }
    }
    (web.unwrap_or_default(), metriche.unwrap_or_default())
}

/// The value of the series `serie` (name and labels exactly as rendered).
fn valore(testo: &str, serie: &str) -> Option<f64> {
    testo.lines().find_map(|l| {
        l.strip_prefix(serie)
            .and_then(|resto| resto.strip_prefix(' '))
            .and_then(|v| v.trim().parse().ok())
    })
}

#[tokio::test]
async fn le_metriche_contano_chiamate_righe_e_richieste() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let url = format!("sqlite://{}/rivesto-data/rivesto.db", d.display());
    let indirizzo_sim = porta_libera().to_string();
    ok(
        d,
        &[
            "anpr-sim",
            "init",
            "--out",
            "sim",
            "--listen",
            &indirizzo_sim,
        ],
    );
    let _sim = Figlio::new(
        rivesto(d)
            .args(["anpr-sim", "--clients", "sim/sim-clients.toml"])
            .args(["--listen", &indirizzo_sim])
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    attendi(indirizzo_sim.parse().unwrap());
    ok(d, &["migrate", "--database-url", &url]);
    ok(d, &["admin", "gen-master-key"]);
    let (conv, utente) = bootstrap(d, &url);

    let mut figlio = rivesto(d)
        .env("RIVESTO_DATABASE_URL", &url)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(["--metrics-listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = figlio.stdout.take().unwrap();
    let _serve = Figlio::new(figlio);
    let (web, metriche) = indirizzi(stdout);
    assert!(metriche.ends_with("/metrics"), "{metriche}");

    let http = reqwest::Client::new();
    let r = http.get(format!("{web}/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "ok\n");
    let r = http.get(format!("{web}/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 200);

    // Two CF rows under silent consent 0: one resident (found), one not (DESIGN §3's C030).
    let s = store::Store::connetti(&url).await.unwrap();
    let id = invia(&s, conv, utente).await;
    let inizio = Instant::now();
    while s.richiesta(id).await.unwrap().stato != stato::COMPLETATA {
        assert!(inizio.elapsed() < Duration::from_secs(60), "non completata");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let r = http.get(&metriche).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let tipo = r.headers()["content-type"].to_str().unwrap().to_string();
    assert!(tipo.starts_with("text/plain; version=0.0.4"), "{tipo}");
    let t = r.text().await.unwrap();
    let attesi: &[(&str, f64)] = &[
        (
            r#"rivesto_anpr_chiamate_totale{servizio="C030",esito="trovato"}"#,
            1.0,
        ),
        (
            r#"rivesto_anpr_chiamate_totale{servizio="C030",esito="non_trovato"}"#,
            1.0,
        ),
        (r#"rivesto_anpr_durata_secondi_count{servizio="C030"}"#, 2.0),
        (r#"rivesto_righe_elaborate_totale{esito="TROVATO"}"#, 1.0),
        (
            r#"rivesto_righe_elaborate_totale{esito="NON_TROVATO"}"#,
            1.0,
        ),
        (
            r#"rivesto_http_durata_secondi_count{rotta="/healthz",metodo="GET",classe="2xx"}"#,
            1.0,
        ),
        (r#"rivesto_richieste{stato="COMPLETATA"}"#, 1.0),
        (r#"rivesto_richieste{stato="IN_ELABORAZIONE"}"#, 0.0),
        ("rivesto_righe_in_attesa", 0.0),
        ("rivesto_database_raggiungibile", 1.0),
        // The simulator's onboarding file gives every service 5,000 calls a day.
        (
            r#"rivesto_quota_giornaliera{comune="058091",servizio="C030"}"#,
            5000.0,
        ),
        (
            r#"rivesto_quota_residua{comune="058091",servizio="C030"}"#,
            4998.0,
        ),
    ];
    for (serie, atteso) in attesi {
        assert_eq!(valore(&t, serie), Some(*atteso), "{serie}\n{t}");
    }
    assert!(
        t.contains("# TYPE rivesto_anpr_durata_secondi histogram"),
        "{t}"
    );
    s.chiudi().await;
}
