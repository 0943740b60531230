//! `rivesto bench web`: the web app and the engine in this process (as `rivesto serve` runs
//! them) while a request of N subjects is processing against the simulator at the given
//! latency; meanwhile C clients, each signed in with its own session through the real sign-in
//! form, GET the request list, the request's page and the API status call in turn (a closed
//! loop with a pause between requests). Prints p50, p99 and max per endpoint. Loopback only.
//! With a pause, as people clicking are not in step, each pause is drawn uniformly between
//! half and one and a half times `--pause-ms`, and the clients start spread over one pause.
//!
//! The engine runs as `serve` runs it: on a runtime of its own at nice
//! [`NICE_MOTORE`](crate::elaborazione::NICE_MOTORE). To compare, `--engine own-nice0` (its
//! own runtime, same weight as the web app) or `--engine shared` (on the web app's runtime, as
//! before); the first line says which ran. `--chunks-in-flight` sets the engine's
//! `blocchi_in_parallelo`.

use super::ambiente::{Ambiente, OpzioniAmbiente};
use anyhow::Context as _;
use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use store::token_api::NuovoTokenApi;
use web::{Applicazione, ConfigWeb};
use worker::{Motore, OpzioniMotore};

#[derive(Debug, Clone)]
pub struct ArgsWeb {
    pub subjects: u32,
    pub clients: usize,
    pub seconds: u64,
    pub latency_ms: u64,
    pub concurrency: usize,
    pub chunk: i64,
    /// Each client's pause between two requests.
    pub pause_ms: u64,
    /// `own` (as serve runs it), `own-nice0` or `shared`.
    pub engine: String,
    pub chunks_in_flight: usize,
}

const ENDPOINT: [&str; 3] = ["elenco richieste", "pagina della richiesta", "API stato"];

/// Where the engine runs during the measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Disposizione {
    /// Its own runtime at this nice value (`None`: unchanged).
    Separato(Option<i8>),
    /// The web app's runtime.
    Condiviso,
}

impl Disposizione {
    fn da_argomento(engine: &str) -> anyhow::Result<Disposizione> {
        match engine {
            "own" => Ok(Disposizione::Separato(Some(
                crate::elaborazione::NICE_MOTORE,
            ))),
            "own-nice0" => Ok(Disposizione::Separato(None)),
            "shared" => Ok(Disposizione::Condiviso),
            x => anyhow::bail!("--engine {x}: valori ammessi own (predefinito), own-nice0, shared"),
        }
    }

    fn descrizione(self) -> String {
        match self {
            Disposizione::Separato(Some(n)) => {
                format!("worker su un runtime proprio, thread a nice {n}")
            }
            Disposizione::Separato(None) => {
                "worker su un runtime proprio, thread alla stessa priorità del web".into()
            }
            Disposizione::Condiviso => "worker sullo stesso runtime del web".into(),
        }
    }
}

pub async fn web(a: ArgsWeb) -> anyhow::Result<ExitCode> {
    let disposizione = Disposizione::da_argomento(&a.engine)?;
    let blocchi = a.chunks_in_flight.max(1);
    println!(
        "bench web: {} client, {} s, pausa {} tra le richieste di un client, mentre una richiesta \
         di {} soggetti è in elaborazione (latenza {} ms, concorrenza {}, blocchi di {} righe, {} alla \
         volta); {}; {} core",
        a.clients,
        a.seconds,
        pausa(a.pause_ms),
        a.subjects,
        a.latency_ms,
        a.concurrency,
        a.chunk,
        blocchi,
        disposizione.descrizione(),
        std::thread::available_parallelism().map_or(0, std::num::NonZero::get)
    );
    let amb = Ambiente::nuovo(&OpzioniAmbiente {
        url: None,
        popolazione: a.subjects,
        latenza_ms: a.latency_ms,
        sim_separato: false,
    })
    .await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let mut config = ConfigWeb::new(&amb.risultati);
    config.demo = true;
    let app = Applicazione::costruisci(amb.store.clone(), amb.chiave()?, config).await?;
    let (ferma_web, web_fermato) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(web::server::servi(listener, app.router(), async {
        let _ = web_fermato.await;
    }));

    let file = amb.scrivi_ingresso("ingresso.csv", 0, a.subjects)?;
    let car = amb.carica(&amb.convenzione, &file).await?;
    amb.approva(car.richiesta_id).await?;
    let motore = Motore::new(
        amb.store.clone(),
        amb.chiave()?,
        OpzioniMotore {
            blocchi_in_parallelo: blocchi,
            ..amb.motore(a.concurrency, a.chunk)?.opzioni().clone()
        },
    );
    let (ferma, fermato) = tokio::sync::oneshot::channel::<()>();
    let arresto = async move {
        let _ = fermato.await;
    };
    let carico = async {
        let r = misura(&amb, &a, &base, car.richiesta_id).await;
        let _ = ferma.send(());
        r
    };
    let (esito, separato) = match disposizione {
        Disposizione::Condiviso => {
            let (esito, ()) = tokio::join!(carico, motore.esegui_finche(arresto));
            (esito, None)
        }
        Disposizione::Separato(nice) => {
            let mut m = crate::elaborazione::MotoreSeparato::nuovo(nice)?;
            m.avvia(async move { motore.esegui_finche(arresto).await });
            let esito = carico.await;
            m.attendi().await;
            (esito, Some(m))
        }
    };
    let tempi = esito?;
    let _ = ferma_web.send(());
    let _ = server.await;
    stampa(&tempi, a.pause_ms);
    amb.chiudi().await;
    drop(separato);
    Ok(ExitCode::SUCCESS)
}

/// Signs the clients in, lets the engine reach its pace, then runs the load for the set
/// seconds. Fails if the request is no longer processing at the end (the figures would not be
/// "while processing").
async fn misura(
    amb: &Ambiente,
    a: &ArgsWeb,
    base: &str,
    id: i64,
) -> anyhow::Result<Vec<Vec<Duration>>> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(a.clients)
        .build()?;
    let op = &amb.seme.standard;
    let password = amb
        .seme
        .account
        .iter()
        .find(|x| x.username == op.username)
        .map(|x| x.password.clone())
        .context("password dell'operatore demo")?;
    let mut sessioni = Vec::new();
    for _ in 0..a.clients {
        sessioni.push(accedi(&http, base, &op.username, &password).await?);
    }
    let token = web::api::token::genera_token();
    let nuovo = NuovoTokenApi {
        utente_id: op.id,
        nome: "bench web".into(),
        loa: "LoA1".into(),
    };
    amb.store
        .crea_token_api(
            &nuovo,
            &token,
            chrono::Utc::now().timestamp_millis(),
            &op.attore,
        )
        .await?;
    let pubblico = id_pubblico(&http, base, &sessioni[0]).await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let fine = Instant::now() + Duration::from_secs(a.seconds);
    let percorsi = Arc::new([
        "/richieste".to_string(),
        format!("/richieste/{pubblico}"),
        format!("/api/v1/richieste/{pubblico}"),
    ]);
    let mut compiti = tokio::task::JoinSet::new();
    for (n, cookie) in sessioni.into_iter().enumerate() {
        let (http, percorsi, token, base) = (
            http.clone(),
            percorsi.clone(),
            token.clone(),
            base.to_string(),
        );
        let (pausa_ms, clienti) = (a.pause_ms, a.clients as u64);
        compiti.spawn(async move {
            let mut tempi: Vec<Vec<Duration>> = vec![Vec::new(); ENDPOINT.len()];
            let mut errori: BTreeMap<String, u64> = BTreeMap::new();
            let mut i = n;
            // Start spread over one pause, then pauses uniform in [½, 1½] × the pause
            // (xorshift, one sequence per client: reproducible).
            let mut caso = 0x9E37_79B9_7F4A_7C15_u64 ^ (n as u64 + 1);
            let mut pausa = || {
                caso ^= caso << 13;
                caso ^= caso >> 7;
                caso ^= caso << 17;
                Duration::from_millis(pausa_ms / 2 + caso % (pausa_ms + 1))
            };
            tokio::time::sleep(Duration::from_millis(pausa_ms * n as u64 / clienti.max(1))).await;
            while Instant::now() < fine {
                let quale = i % ENDPOINT.len();
                let url = format!("{base}{}", percorsi[quale]);
                let richiesta = if quale == 2 {
                    http.get(url).bearer_auth(&token)
                } else {
                    http.get(url).header(reqwest::header::COOKIE, &cookie)
                };
                let inizio = Instant::now();
                let errore = match richiesta.send().await {
                    Ok(r) if r.status().is_success() => r
                        .bytes()
                        .await
                        .err()
                        .map(|_| "corpo interrotto".to_string()),
                    Ok(r) => Some(format!("HTTP {}", r.status().as_u16())),
                    Err(e) => Some(
                        if e.is_timeout() {
                            "timeout"
                        } else {
                            "connessione"
                        }
                        .into(),
                    ),
                };
                tempi[quale].push(inizio.elapsed());
                if let Some(e) = errore {
                    *errori
                        .entry(format!("{}: {e}", ENDPOINT[quale]))
                        .or_default() += 1;
                }
                i += 1;
                if pausa_ms > 0 {
                    tokio::time::sleep(pausa()).await;
                }
            }
            (tempi, errori)
        });
    }
    let mut tutti: Vec<Vec<Duration>> = vec![Vec::new(); ENDPOINT.len()];
    let mut errori: BTreeMap<String, u64> = BTreeMap::new();
    while let Some(r) = compiti.join_next().await {
        let (t, e) = r?;
        for (k, n) in e {
            *errori.entry(k).or_default() += n;
        }
        for (k, v) in t.into_iter().enumerate() {
            tutti[k].extend(v);
        }
    }
    let r = amb.store.richiesta(id).await?;
    let c = amb.store.conteggio_righe(id).await?;
    println!(
        "richiesta {id} alla fine della misura: {}, {} righe finali su {}",
        r.stato, c.finali, c.totali
    );
    let falliti: u64 = errori.values().sum();
    println!("risposte non riuscite (contate anche nei tempi): {falliti}");
    for (k, n) in &errori {
        println!("  {k}: {n}");
    }
    anyhow::ensure!(
        r.stato == store::richieste::stato::IN_ELABORAZIONE,
        "la richiesta non è più in elaborazione: aumenti --subjects o riduca --seconds"
    );
    Ok(tutti)
}

/// GET / for the anonymous session and its CSRF token, then the sign-in form. Returns the
/// session's `Cookie` header. The demo operator has no second factor to give.
async fn accedi(
    http: &reqwest::Client,
    base: &str,
    utente: &str,
    password: &str,
) -> anyhow::Result<String> {
    let mut cookie = BTreeMap::new();
    let r = http.get(format!("{base}/")).send().await?;
    ricorda(&mut cookie, &r);
    let corpo = r.text().await?;
    let segno = "name=\"_csrf\" value=\"";
    let i = corpo
        .find(segno)
        .context("token CSRF nella pagina di accesso")?
        + segno.len();
    let csrf = &corpo[i..i + corpo[i..].find('"').context("token CSRF")?];
    let r = http
        .post(format!("{base}/accedi"))
        .header(reqwest::header::COOKIE, intestazione(&cookie))
        .form(&[
            ("username", utente),
            ("password", password),
            ("_csrf", csrf),
        ])
        .send()
        .await?;
    anyhow::ensure!(
        r.status().is_redirection(),
        "accesso di {utente} non riuscito: HTTP {}",
        r.status()
    );
    ricorda(&mut cookie, &r);
    let h = intestazione(&cookie);
    let prova = http
        .get(format!("{base}/richieste"))
        .header(reqwest::header::COOKIE, &h)
        .send()
        .await?;
    anyhow::ensure!(
        prova.status().is_success(),
        "dopo l'accesso /richieste risponde HTTP {}",
        prova.status()
    );
    Ok(h)
}

/// The request's public id (the web app never shows database ids), from its link in the
/// operator's request list: the bench request is the only one there.
async fn id_pubblico(http: &reqwest::Client, base: &str, cookie: &str) -> anyhow::Result<String> {
    let corpo = http
        .get(format!("{base}/richieste"))
        .header(reqwest::header::COOKIE, cookie)
        .send()
        .await?
        .text()
        .await?;
    corpo
        .split("href=\"/richieste/")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .find(|s| {
            !s.is_empty()
                && !["nuova", "elenco"].contains(s)
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
        .map(str::to_string)
        .context("link alla richiesta nell'elenco")
}

fn ricorda(cookie: &mut BTreeMap<String, String>, r: &reqwest::Response) {
    for v in r.headers().get_all(reqwest::header::SET_COOKIE) {
        if let Some((nome, valore)) = v
            .to_str()
            .ok()
            .and_then(|s| s.split(';').next())
            .and_then(|s| s.split_once('='))
        {
            cookie.insert(nome.trim().to_string(), valore.trim().to_string());
        }
    }
}

fn intestazione(cookie: &BTreeMap<String, String>) -> String {
    cookie
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The clients' pause as the output states it.
fn pausa(ms: u64) -> String {
    if ms == 0 {
        "nessuna pausa (ciclo chiuso)".into()
    } else {
        format!("{ms} ms ±50%")
    }
}

fn stampa(tempi: &[Vec<Duration>], pausa_ms: u64) {
    for (nome, t) in ENDPOINT.iter().zip(tempi) {
        let mut t = t.clone();
        t.sort_unstable();
        let q = |p: f64| {
            t.get(((p * t.len() as f64).ceil() as usize).saturating_sub(1))
                .map(|d| d.as_secs_f64() * 1000.0)
                .unwrap_or(f64::NAN)
        };
        println!(
            "{nome:<24} {:>6} richieste  p50 {:>6.1} ms  p99 {:>6.1} ms  max {:>6.1} ms \
             (pausa {}; obiettivo p99 ≤ 100 ms)",
            t.len(),
            q(0.5),
            q(0.99),
            q(1.0),
            pausa(pausa_ms)
        );
    }
}
