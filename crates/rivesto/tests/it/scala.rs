//! Scale-out on PostgreSQL (issue 8): two `rivesto serve --no-worker` and three `rivesto
//! worker` processes share one database and one `--data-dir`, against the simulator running
//! in this test process (real HTTP, a few ms of latency). Three requests wait for silent
//! consent when the processes start:
//! - R1, 400 CF rows under a Comune whose C030 share is 150 a day: 150 rows are done, the
//!   others wait for the next day (`sospesa`), and the simulator sees 150 C030 calls at most;
//! - R2, 40 ID ANPR rows under a convention with no retention: its files are purged at once;
//! - R3, 300 ID ANPR rows: completed, its file downloadable from both serve processes.
//!
//! Checked: each subject is asked once per service, each request is approved once by
//! `sistema`, R2 is purged once, and a session opened on one serve process (password, and a
//! TOTP enrolment split across the two) works on the other, where signing out ends it.
//!
//! Skipped with a printed reason without `RIVESTO_TEST_DATABASE_URL`, except under `CI=true`.

use crate::anpr_check::Figlio;
use crate::migrate::{cluster_postgres, database_nuovo, elimina_database};
use crate::rivesto;
use domain::ambito::Ambito;
use domain::gruppi::GruppoCampi;
use domain::tipo::TipoIdentificativo::{self, Cf, IdAnpr};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};
use store::anagrafiche::{
    Approvazione, NuovaConvenzione, NuovoComune, NuovoUtente, TipoCodiceEnte,
};
use store::richieste::{NuovaRichiesta, NuovaRiga, stato};
use store::{Attore, ChiaveMaestra, OpzioniMigrazione, Store};
use web::ids::{ChiaveId, Tipo};

const QUOTA_C030: i64 = 150;
const RIGHE_R1: u32 = 400;
const RIGHE_R2: u32 = 40;
const RIGHE_R3: u32 = 300;
const PASSWORD: &str = "una password lunga e robusta";
const MASTER_KEY: [u8; 32] = [9; 32];

struct Installazione {
    store: Store,
    sim: anpr_sim::SimHandle,
    comune_id: i64,
    /// Retention 7 days (R1, R3) and 0 days (R2).
    conv_7: i64,
    conv_0: i64,
    standard_id: i64,
}

fn top() -> Attore {
    Attore {
        nome: "admin-cli".into(),
        ruolo: None,
        comune: None,
        ente: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn due_serve_tre_worker_un_database() {
    let Some(cluster) = cluster_postgres() else {
        return;
    };
    let (nome, url) = database_nuovo(&cluster, "rivesto_cli_scala").await;
    store::migra(&url, &OpzioniMigrazione::default())
        .await
        .unwrap();
    let dati = tempfile::tempdir().unwrap();
    std::fs::write(dati.path().join("master.key"), MASTER_KEY).unwrap();
    let inst = installa(&url, dati.path()).await;
    let s = &inst.store;
    let r1 = invia(&inst, inst.conv_7, Cf, 0..RIGHE_R1).await;
    let r2 = invia(&inst, inst.conv_0, IdAnpr, 500..500 + RIGHE_R2).await;
    let r3 = invia(&inst, inst.conv_7, IdAnpr, 1000..1000 + RIGHE_R3).await;

    let inizio = Instant::now();
    let mut figli: Vec<Figlio> = (0..3).map(|i| worker(&url, dati.path(), i)).collect();
    let (serve_a, base_a) = serve(&url, dati.path(), "a");
    let (serve_b, base_b) = serve(&url, dati.path(), "b");
    figli.push(serve_a);
    figli.push(serve_b);

    attendi_lavoro(s, r1, r2, r3).await;
    println!("lavoro concluso in {:?}", inizio.elapsed());
    // Long enough for a second process to repeat a timer or a row, if one could.
    tokio::time::sleep(Duration::from_secs(2)).await;

    controlla_quota(&inst, r1).await;
    controlla_righe(&inst, r1, r2, r3).await;
    controlla_timer(s, r1, r2, r3).await;
    let chiave = ChiaveMaestra::da_byte(&MASTER_KEY).unwrap();
    let ids = ChiaveId::carica(s, &chiave).await.unwrap();
    sessione_standard(&inst, &ids, r3, &base_a, &base_b).await;
    sessione_top(&base_a, &base_b).await;

    for f in &figli {
        assert!(
            std::process::Command::new("kill")
                .args(["-TERM", &f.id().to_string()])
                .status()
                .unwrap()
                .success()
        );
    }
    for f in figli {
        let o = f.uscita();
        assert!(o.status.success(), "un processo non si è fermato bene");
    }
    assert!(matches!(
        s.verifica_catena().await.unwrap(),
        store::EsitoVerifica::Valida { .. }
    ));
    inst.store.chiudi().await;
    inst.sim.shutdown().await;
    elimina_database(&cluster, &nome).await;
}

/// The simulator in this process, and what `admin` would create: Roma with its access (C030
/// share 150 a day), an Ente, two silent-consent conventions, a STANDARD and a TOP.
async fn installa(url: &str, dati: &Path) -> Installazione {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let init = anpr_sim::init::scrivi(&dati.join("sim"), listener.local_addr().unwrap()).unwrap();
    let mut config = anpr_sim::SimConfig::from_clients_file(&init.clienti).unwrap();
    config.population = 2_000;
    let sim = anpr_sim::avvia(config, listener).await.unwrap();
    sim.imposta_latenza(anpr_sim::Latenza {
        base_ms: 2,
        jitter_ms: 4,
    });
    // The Comune's own share of C030, below the 400 calls R1 needs.
    let testo = std::fs::read_to_string(&init.anpr_toml).unwrap();
    let mut t: toml::Table = testo.parse().unwrap();
    t["anpr"]["quotas"]
        .as_table_mut()
        .unwrap()
        .insert("C030".into(), toml::Value::Integer(QUOTA_C030));
    std::fs::write(&init.anpr_toml, toml::to_string(&t).unwrap()).unwrap();
    let accesso = web::onboarding::importa(&init.anpr_toml).unwrap();

    let store = Store::connetti(url).await.unwrap();
    let a = top();
    let comune_id = store
        .crea_comune(
            &NuovoComune {
                codice_istat: "058091".into(),
                belfiore: "H501".into(),
                nome: "Roma".into(),
                sigla: "RM".into(),
            },
            &a,
        )
        .await
        .unwrap();
    let chiave = ChiaveMaestra::da_byte(&MASTER_KEY).unwrap();
    store
        .imposta_accesso_anpr(comune_id, &accesso.toml, &accesso.file, &chiave, &a)
        .await
        .unwrap();
    let ente_id = store
        .crea_ente(
            "80012345678",
            TipoCodiceEnte::CodiceFiscale,
            "Polizia Locale",
            "PL-RM-01",
            &a,
        )
        .await
        .unwrap();
    let conv_7 = convenzione(&store, comune_id, ente_id, 7).await;
    // `admin convenzione add` refuses less than a day; the store takes 0, which makes the
    // purge due as soon as the files are written (the child processes run on real time).
    let conv_0 = convenzione(&store, comune_id, ente_id, 0).await;
    let utente = |username: &str, ruolo: &str, comune, ente| NuovoUtente {
        username: username.into(),
        password: PASSWORD.into(),
        ruolo: ruolo.into(),
        comune_id: comune,
        ente_id: ente,
        codice_utente: username.to_uppercase(),
    };
    let standard_id = store
        .crea_utente(&utente("mario.rossi", "STANDARD", None, Some(ente_id)), &a)
        .await
        .unwrap();
    store
        .crea_utente(&utente("top.roma", "TOP", Some(comune_id), None), &a)
        .await
        .unwrap();
    Installazione {
        store,
        sim,
        comune_id,
        conv_7,
        conv_0,
        standard_id,
    }
}

async fn convenzione(s: &Store, comune_id: i64, ente_id: i64, giorni: i64) -> i64 {
    s.crea_convenzione(
        &NuovaConvenzione {
            comune_id,
            ente_id,
            nome: format!("PL Roma, conservazione {giorni} giorni"),
            campi: vec![GruppoCampi::IdAnpr, GruppoCampi::Generalita],
            ambito: Ambito::Italia,
            approvazione: Approvazione::SilenzioAssenso { ritardo_ms: 0 },
            finalita: Default::default(),
            valida_dal_ms: 0,
            valida_al_ms: None,
            max_righe_richiesta: None,
            max_soggetti_giorno: None,
            tracciato: serde_json::json!(["id_anpr", "codice_fiscale", "cognome", "nome"]),
            conservazione_giorni: giorni,
            ricerca_nazionale: false,
        },
        &top(),
    )
    .await
    .unwrap()
}

/// A request of the synthetic subjects `soggetti`, submitted (not approved: the processes
/// race for its silent consent).
async fn invia(
    inst: &Installazione,
    conv: i64,
    tipo: TipoIdentificativo,
    soggetti: std::ops::Range<u32>,
) -> i64 {
    let s = &inst.store;
    let righe: Vec<NuovaRiga> = soggetti
        .enumerate()
        .map(|(n, i)| {
            let p = inst.sim.popolazione().sintetico(i).unwrap();
            let id = if tipo == Cf {
                p.codice_fiscale
            } else {
                p.id_anpr
            };
            NuovaRiga {
                numero: n as i64 + 2,
                tipo,
                identificativo: id,
                riferimento: None,
                rilascio: None,
                motivo: None,
                duplicato_di: None,
                esito: None,
                messaggio: None,
            }
        })
        .collect();
    let ist = worker::Istantanea::componi(s, conv, inst.standard_id, "LoA1")
        .await
        .unwrap();
    let attore = Attore {
        nome: "mario.rossi".into(),
        ruolo: Some("STANDARD".into()),
        comune: None,
        ente: Some("80012345678".into()),
    };
    let id = s
        .crea_richiesta(
            &NuovaRichiesta {
                convenzione_id: conv,
                utente_id: inst.standard_id,
                motivo: "PROT-2026-0008".into(),
                data_riferimento: chrono::Utc::now().format("%Y-%m-%d").to_string(),
                snapshot: ist.json(),
            },
            &righe,
            &attore,
        )
        .await
        .unwrap();
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

fn log(dati: &Path, nome: &str) -> std::fs::File {
    std::fs::File::create(dati.join(format!("{nome}.log"))).unwrap()
}

fn worker(url: &str, dati: &Path, i: usize) -> Figlio {
    Figlio::new(
        rivesto(dati)
            .env("RIVESTO_DATABASE_URL", url)
            .env("RIVESTO_DATA_DIR", dati)
            .args(["worker", "--chunk-size", "20"])
            .stdout(Stdio::null())
            .stderr(log(dati, &format!("worker-{i}")))
            .spawn()
            .unwrap(),
    )
}

/// `rivesto serve --no-worker` on a free port; the process and its base URL.
fn serve(url: &str, dati: &Path, nome: &str) -> (Figlio, String) {
    let mut c = rivesto(dati)
        .env("RIVESTO_DATABASE_URL", url)
        .env("RIVESTO_DATA_DIR", dati)
        .args(["serve", "--no-worker", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(log(dati, &format!("serve-{nome}")))
        .spawn()
        .unwrap();
    let stdout = c.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for riga in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(riga);
        }
    });
    let prima = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("serve non ha stampato l'indirizzo");
    let base = prima
        .strip_prefix("Rivesto in ascolto su ")
        .unwrap_or_else(|| panic!("prima riga: {prima}"))
        .to_string();
    (Figlio::new(c), base)
}

/// Until R1 is suspended for the quota, R2 purged and R3 completed.
async fn attendi_lavoro(s: &Store, r1: i64, r2: i64, r3: i64) {
    let inizio = Instant::now();
    loop {
        let a = s.richiesta(r1).await.unwrap();
        let c = s.richiesta(r3).await.unwrap();
        let purgata = s
            .voci_audit(0, 100_000)
            .await
            .unwrap()
            .iter()
            .any(|v| v.azione == "RICHIESTA_PURGATA" && v.oggetto == format!("richiesta:{r2}"));
        if a.sospesa_fino_a_ms.is_some() && c.stato == stato::COMPLETATA && purgata {
            return;
        }
        assert!(
            inizio.elapsed() < Duration::from_secs(45),
            "lavoro non concluso: R1 {} sospesa {:?}, R3 {}, R2 purgata {purgata}",
            a.stato,
            a.sospesa_fino_a_ms,
            c.stato
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The share holds across the three workers: the simulator saw exactly the share of C030
/// calls (R1 needs more), the database counted as many, and R1 waits with the UI's message.
async fn controlla_quota(inst: &Installazione, r1: i64) {
    let chiamate_c030 = inst
        .sim
        .richieste_ricevute()
        .iter()
        .filter(|r| r.servizio.as_deref() == Some("C030"))
        .count() as i64;
    assert_eq!(chiamate_c030, QUOTA_C030);
    let oggi = store::giorno_roma(chrono::Utc::now().timestamp_millis());
    assert_eq!(
        inst.store
            .chiamate_contate(inst.comune_id, "C030", &oggi)
            .await
            .unwrap(),
        QUOTA_C030
    );
    let r = inst.store.richiesta(r1).await.unwrap();
    assert_eq!(r.stato, stato::IN_ELABORAZIONE);
    assert_eq!(
        r.motivo_sospensione.as_deref(),
        Some("quota giornaliera esaurita per C030, ripresa alle 00:00")
    );
    // Suspended once, however many workers met the exhausted share.
    let sospensioni = inst
        .store
        .voci_audit(0, 100_000)
        .await
        .unwrap()
        .iter()
        .filter(|v| v.azione == "RICHIESTA_SOSPESA" && v.oggetto == format!("richiesta:{r1}"))
        .count();
    assert_eq!(sospensioni, 1);
    let c = inst.store.conteggio_righe(r1).await.unwrap();
    // One C030 per CF row: the rows that got one are done, the rest wait in the queue.
    assert_eq!(
        (c.totali, c.finali, c.in_corso),
        (i64::from(RIGHE_R1), QUOTA_C030, 0)
    );
}

/// Each subject asked once per service (a row processed twice would ask again), and the rows
/// of R2 and R3 all final.
async fn controlla_righe(inst: &Installazione, r1: i64, r2: i64, r3: i64) {
    let mut viste: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut trovati_c030 = 0;
    for r in inst.sim.richieste_ricevute() {
        let Some(servizio) = r.servizio else { continue };
        // 404: a synthetic subject cancelled from ANPR (EN122), a final NON_TROVATO.
        assert!(
            r.stato == 200 || r.stato == 404,
            "{servizio} {}: {}",
            r.stato,
            r.risposta
        );
        if servizio == "C030" && r.stato == 200 {
            trovati_c030 += 1;
        }
        let v: serde_json::Value = serde_json::from_str(&r.corpo).unwrap();
        let criteri = &v["criteriRicerca"];
        let chi = criteri["idANPR"]
            .as_str()
            .or(criteri["codiceFiscale"].as_str())
            .unwrap()
            .to_string();
        *viste.entry((servizio, chi)).or_default() += 1;
    }
    let ripetute: Vec<_> = viste.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        ripetute.is_empty(),
        "soggetti chiesti più volte: {ripetute:?}"
    );
    // One data call for each R1 row that C030 found, and for each row of R2 and R3.
    let dati = viste.keys().filter(|(s, _)| s != "C030").count() as i64;
    assert!(trovati_c030 > QUOTA_C030 / 2, "{trovati_c030}");
    assert_eq!(dati, trovati_c030 + i64::from(RIGHE_R2 + RIGHE_R3));
    for (id, n) in [(r2, RIGHE_R2), (r3, RIGHE_R3)] {
        let c = inst.store.conteggio_righe(id).await.unwrap();
        assert_eq!((c.totali, c.finali), (i64::from(n), i64::from(n)));
    }
    // The work was shared: more than one worker process made the calls.
    let processi: BTreeSet<String> = inst
        .store
        .voci_audit(0, 100_000)
        .await
        .unwrap()
        .iter()
        .filter(|v| v.azione == "CHIAMATE_ANPR")
        .filter_map(|v| {
            let d: serde_json::Value = serde_json::from_str(&v.dettagli).ok()?;
            d["processo"].as_str().map(str::to_string)
        })
        .collect();
    assert!(
        processi.len() >= 2,
        "un solo worker ha lavorato: {processi:?}"
    );
    let _ = r1;
}

/// Silent consent once per request, as `sistema`; R2 purged once and only R2.
async fn controlla_timer(s: &Store, r1: i64, r2: i64, r3: i64) {
    let voci = s.voci_audit(0, 100_000).await.unwrap();
    for id in [r1, r2, r3] {
        let oggetto = format!("richiesta:{id}");
        let convalide: Vec<_> = voci
            .iter()
            .filter(|v| v.azione == "RICHIESTA_CONVALIDATA" && v.oggetto == oggetto)
            .map(|v| v.attore.as_str())
            .collect();
        assert_eq!(convalide, ["sistema"], "richiesta {id}");
    }
    let purghe: Vec<_> = voci
        .iter()
        .filter(|v| v.azione == "RICHIESTA_PURGATA")
        .map(|v| v.oggetto.clone())
        .collect();
    assert_eq!(purghe, [format!("richiesta:{r2}")]);
    for f in s.file_risposta(r2).await.unwrap() {
        assert!(!Path::new(&f.percorso).exists(), "{} non eliminato", f.nome);
    }
}

/// A browser whose cookies go to both serve processes, as behind a load balancer: cookies are
/// scoped by host, not port.
struct Navigatore {
    client: reqwest::Client,
    csrf: std::sync::Mutex<String>,
}

impl Navigatore {
    fn nuovo() -> Navigatore {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        Navigatore {
            client: reqwest::Client::builder()
                .cookie_provider(jar)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            csrf: Default::default(),
        }
    }

    async fn leggi(&self, r: reqwest::Response) -> (u16, String) {
        let stato = r.status().as_u16();
        let corpo = r.text().await.unwrap();
        let segno = "name=\"_csrf\" value=\"";
        if let Some(i) = corpo.find(segno) {
            let resto = &corpo[i + segno.len()..];
            *self.csrf.lock().unwrap() = resto[..resto.find('"').unwrap()].to_string();
        }
        (stato, corpo)
    }

    async fn get(&self, url: &str) -> (u16, String) {
        let r = self.client.get(url).send().await.unwrap();
        self.leggi(r).await
    }

    async fn post(&self, url: &str, campi: &[(&str, &str)]) -> (u16, String) {
        let token = self.csrf.lock().unwrap().clone();
        let mut tutti = campi.to_vec();
        tutti.push(("_csrf", &token));
        let r = self.client.post(url).form(&tutti).send().await.unwrap();
        self.leggi(r).await
    }

    async fn accedi(&self, base: &str, username: &str) {
        let (stato, modulo) = self.get(&format!("{base}/")).await;
        assert_eq!(stato, 200);
        assert!(modulo.contains("action=\"/accedi\""), "{modulo}");
        let (stato, corpo) = self
            .post(
                &format!("{base}/accedi"),
                &[("username", username), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(stato, 303, "{corpo}");
    }
}

/// The STANDARD signs in on A, sees and downloads R3's file on B and on A (the same bytes,
/// from the shared data dir), signs out on B and is signed out on A.
async fn sessione_standard(inst: &Installazione, ids: &ChiaveId, r3: i64, a: &str, b: &str) {
    let nav = Navigatore::nuovo();
    nav.accedi(a, "mario.rossi").await;
    let (stato, home) = nav.get(&format!("{b}/")).await;
    assert_eq!(stato, 200);
    assert!(home.contains("mario.rossi"), "{home}");
    assert!(!home.contains("action=\"/accedi\""));
    let file = inst.store.file_risposta(r3).await.unwrap();
    assert!(!file.is_empty());
    let rid = ids.codifica(Tipo::Richiesta, r3);
    let (_, dettaglio) = nav.get(&format!("{b}/richieste/{rid}")).await;
    let mut scaricati = Vec::new();
    for f in &file {
        let percorso = format!(
            "/richieste/{rid}/file/{}",
            ids.codifica(Tipo::FileRisposta, f.id)
        );
        assert!(dettaglio.contains(&percorso), "{dettaglio}");
        for base in [a, b] {
            let r = nav
                .client
                .get(format!("{base}{percorso}"))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{base}{percorso}");
            scaricati.push(r.bytes().await.unwrap());
        }
    }
    assert!(scaricati.chunks(2).all(|c| c[0] == c[1]));
    // The CSV: a header and one line per row of R3.
    let csv = String::from_utf8(scaricati[0].to_vec()).unwrap();
    assert_eq!(csv.lines().count(), RIGHE_R3 as usize + 1, "{csv}");

    let (stato, _) = nav.post(&format!("{b}/esci"), &[]).await;
    assert_eq!(stato, 303);
    let (_, pagina) = nav.get(&format!("{a}/")).await;
    assert!(
        pagina.contains("action=\"/accedi\""),
        "la sessione vale ancora su A"
    );
}

/// A TOP signs in with the password on B, reads the TOTP key to enrol on A, confirms it with
/// a code on B; the session is LoA2 on A; signing out on A ends it on B.
async fn sessione_top(a: &str, b: &str) {
    let nav = Navigatore::nuovo();
    nav.accedi(b, "top.roma").await;
    let (_, pagina) = nav.get(&format!("{a}/")).await;
    let inizio = pagina
        .find("class=\"segreto-mostrato\">")
        .expect("chiave TOTP mostrata")
        + "class=\"segreto-mostrato\">".len();
    let fine = inizio + pagina[inizio..].find("</p>").unwrap();
    let segreto = base32(&pagina[inizio..fine]);
    let codice = totp(&segreto, chrono::Utc::now().timestamp_millis());
    let (stato, corpo) = nav
        .post(
            &format!("{b}/accedi/totp/iscrizione"),
            &[("codice", &codice)],
        )
        .await;
    assert_eq!(stato, 303, "{corpo}");
    let (stato, profilo) = nav.get(&format!("{a}/profilo")).await;
    assert_eq!(stato, 200);
    assert!(profilo.contains("<strong>LoA2</strong>"), "{profilo}");
    let (stato, _) = nav.post(&format!("{a}/esci"), &[]).await;
    assert_eq!(stato, 303);
    let (_, pagina) = nav.get(&format!("{b}/")).await;
    assert!(
        pagina.contains("action=\"/accedi\""),
        "la sessione vale ancora su B"
    );
}

/// RFC 4648 base32 (no padding), as the enrolment page shows the key (spaces allowed).
fn base32(testo: &str) -> Vec<u8> {
    const ALFABETO: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut byte = Vec::new();
    let (mut acc, mut bit) = (0u32, 0);
    for c in testo.bytes().filter(|c| !c.is_ascii_whitespace()) {
        let v = ALFABETO.iter().position(|&a| a == c).expect("base32") as u32;
        acc = (acc << 5) | v;
        bit += 5;
        if bit >= 8 {
            bit -= 8;
            byte.push((acc >> bit) as u8);
            acc &= (1 << bit) - 1;
        }
    }
    byte
}

/// RFC 6238 with SHA-1, 6 digits, 30 s steps.
fn totp(segreto: &[u8], ora_ms: i64) -> String {
    use aws_lc_rs::hmac;
    let passo = (ora_ms / 1000 / 30) as u64;
    let k = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, segreto);
    let h = hmac::sign(&k, &passo.to_be_bytes());
    let h = h.as_ref();
    let o = (h[19] & 0xf) as usize;
    let n = (u32::from(h[o]) & 0x7f) << 24
        | u32::from(h[o + 1]) << 16
        | u32::from(h[o + 2]) << 8
        | u32::from(h[o + 3]);
    format!("{:06}", n % 1_000_000)
}

#[test]
fn base32_e_totp_dai_vettori_delle_rfc() {
    // RFC 4648 §10: "foobar" is MZXW6YTBOI (padding left out).
    assert_eq!(base32("MZXW 6YTB OI"), b"foobar");
    // RFC 6238 Appendix B, SHA-1, T = 59 s: 94287082, whose last 6 digits are the code.
    assert_eq!(totp(b"12345678901234567890", 59_000), "287082");
}
