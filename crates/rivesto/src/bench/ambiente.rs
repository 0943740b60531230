//! The benches' world: a fresh store (SQLite in a temporary folder, or a database URL given
//! by the caller) with its master key, seeded like the demo (`web::demo::semina`), the ANPR
//! simulator (in this process, or as a child `rivesto anpr-sim` so that this process's memory
//! is Rivesto's own), and the bench profile: CF input, generalità and residenza, which plans
//! as C030 then C020 (DESIGN §4). Requests are made through the upload path's parser and
//! row mapping, submitted and approved like the web app does, and processed by a real
//! [`Motore`].
//!
//! `bench e2e`, `bench web` and `bench scala` build on this module: keep its API stable.

use anpr_sim::{Latenza, Popolazione, SimHandle};
use anyhow::Context as _;
use domain::ambito::Ambito;
use domain::gruppi::GruppoCampi;
use domain::richiesta::{Azione, EsitoTransizione, StatoRichiesta};
use files::input::{Limiti, Opzioni};
use std::io::{BufWriter, Write as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use store::anagrafiche::{Approvazione, Convenzione, NuovaConvenzione};
use store::richieste::{NuovaRichiesta, stato};
use store::{ChiaveMaestra, OpzioniMigrazione, Store};
use web::demo::{Onboarding, Seme};
use worker::{Istantanea, Motore, OpzioniMotore};

/// The synthetic population's seed, the same in this process and in a child simulator.
pub const SEME_POPOLAZIONE: u64 = 1;

/// The bench profile's fields: with CF input they need C030, then C020 (DESIGN §4).
pub const CAMPI_BENCH: [GruppoCampi; 2] = [GruppoCampi::Generalita, GruppoCampi::Residenza];

/// How to build an [`Ambiente`].
#[derive(Debug, Clone)]
pub struct OpzioniAmbiente {
    /// `None`: a new SQLite database in the temporary folder. Otherwise an EMPTY database
    /// (e.g. a fresh PostgreSQL one): it is migrated and seeded, so it must not hold the demo's
    /// Comuni already.
    pub url: Option<String>,
    /// Synthetic people the simulator knows: at least the subjects of the largest request.
    pub popolazione: u32,
    /// The simulator's fixed latency at start.
    pub latenza_ms: u64,
    /// Runs the simulator as a child process (`rivesto anpr-sim`) instead of in this one.
    pub sim_separato: bool,
}

/// The simulator, wherever it runs.
pub enum Simulatore {
    InProcesso(SimHandle),
    /// Killed when dropped.
    Figlio(FiglioSim),
}

pub struct FiglioSim(std::process::Child);

impl Drop for FiglioSim {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub struct Ambiente {
    /// Removed when the environment is dropped (database, key, results, simulator files).
    pub cartella: tempfile::TempDir,
    pub url: String,
    /// The master key's file, for other processes started on the same database.
    pub chiave_file: PathBuf,
    /// With the HMAC key for identifiers, like the web app's.
    pub store: Store,
    pub seme: Seme,
    /// The bench profile under manual approval (the TOP of Roma approves).
    pub convenzione: Convenzione,
    /// The same profile under silent consent with no delay.
    pub convenzione_silenzio: Convenzione,
    /// Where the engine writes the result files.
    pub risultati: PathBuf,
    pub indirizzo_sim: SocketAddr,
    /// Each demo Comune's onboarding file for the simulator, in `web::demo::codici_istat`
    /// order (Roma first: the bench conventions are Roma's).
    pub anpr_toml: Vec<PathBuf>,
    pub sim: Simulatore,
    popolazione: Popolazione,
}

/// A request as stored by [`Ambiente::carica`].
#[derive(Debug, Clone, Copy)]
pub struct Caricamento {
    pub richiesta_id: i64,
    pub righe: u64,
    /// Parse, validation and storage of the rows (not the file's writing).
    pub secondi: f64,
}

impl Ambiente {
    pub async fn nuovo(o: &OpzioniAmbiente) -> anyhow::Result<Ambiente> {
        let cartella = tempfile::Builder::new().prefix("rivesto-bench").tempdir()?;
        let dir = cartella.path().to_path_buf();
        let (sim, indirizzo_sim, onboarding) = avvia_sim(&dir, o).await?;
        let chiave_file = dir.join("master.key");
        store::genera_master_key(&chiave_file)?;
        let url = o
            .url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", dir.join("rivesto.db").display()));
        store::migra(&url, &OpzioniMigrazione::default()).await?;
        let store = Store::connetti(&url).await?;
        let chiave = ChiaveMaestra::da_file(&chiave_file)?;
        let hmac = store.chiave_hmac_identificativi(&chiave).await?;
        let store = store.con_chiave_hmac(hmac);
        let seme = web::demo::semina(&store, &chiave, &onboarding).await?;
        let convenzione = convenzione_bench(&store, &seme, Approvazione::Manuale).await?;
        let convenzione_silenzio = convenzione_bench(
            &store,
            &seme,
            Approvazione::SilenzioAssenso { ritardo_ms: 0 },
        )
        .await?;
        let risultati = crate::elaborazione::cartella_risultati(&dir)?;
        Ok(Ambiente {
            cartella,
            url,
            chiave_file,
            store,
            seme,
            convenzione,
            convenzione_silenzio,
            risultati,
            indirizzo_sim,
            anpr_toml: onboarding.0.clone(),
            sim,
            popolazione: Popolazione::new(SEME_POPOLAZIONE, o.popolazione.max(1000)),
        })
    }

    pub fn chiave(&self) -> anyhow::Result<ChiaveMaestra> {
        Ok(ChiaveMaestra::da_file(&self.chiave_file)?)
    }

    /// The codice fiscale of the i-th synthetic person (`None` past the population).
    pub fn codice_fiscale(&self, i: u32) -> Option<String> {
        self.popolazione.sintetico(i).map(|s| s.codice_fiscale)
    }

    /// Writes a CSV input file (tracciato di input) of `n` CF subjects, people `da..da+n`.
    pub fn scrivi_ingresso(&self, nome: &str, da: u32, n: u32) -> anyhow::Result<PathBuf> {
        let percorso = self.cartella.path().join(nome);
        let mut out = BufWriter::new(std::fs::File::create(&percorso)?);
        out.write_all(b"tipo;identificativo;riferimento\r\n")?;
        for i in da..da + n {
            let cf = self
                .codice_fiscale(i)
                .with_context(|| format!("la popolazione del simulatore non ha la persona {i}"))?;
            write!(out, "CF;{cf};B{i:08}\r\n")?;
        }
        out.flush()?;
        Ok(percorso)
    }

    /// The upload path (DESIGN §5), as the web app runs it: the file parsed and validated by
    /// `files::input` while its rows go to the store in pieces
    /// (`web::richieste::analisi::salva_a_flusso`), a BOZZA of the bench operator with its
    /// snapshot, then submitted. The size limits are raised to the file's.
    pub async fn carica(&self, conv: &Convenzione, file: &Path) -> anyhow::Result<Caricamento> {
        let inizio = Instant::now();
        let byte = std::fs::metadata(file)?.len();
        let limiti = Limiti {
            max_byte: byte.max(Limiti::default().max_byte),
            max_righe: u64::MAX,
            ..Limiti::default()
        };
        let operatore = &self.seme.standard;
        let istantanea = Istantanea::componi(&self.store, conv.id, operatore.id, "LoA1").await?;
        let nuova = NuovaRichiesta {
            convenzione_id: conv.id,
            utente_id: operatore.id,
            motivo: "BENCH-2026/0001".into(),
            data_riferimento: chrono::Utc::now().format("%Y-%m-%d").to_string(),
            snapshot: istantanea.json(),
        };
        let percorso = file.to_path_buf();
        let (letta, salvata) = web::richieste::analisi::salva_a_flusso(
            &self.store,
            &nuova,
            &operatore.attore,
            move |consegna| {
                files::input::analizza_file(&percorso, limiti, Opzioni::oggi(), consegna)
            },
        )
        .await?;
        letta.map_err(|e| anyhow::anyhow!("file rifiutato: {e}"))?;
        let (id, n) = salvata?;
        let secondi = inizio.elapsed().as_secs_f64();
        worker::invio::invia(
            &self.store,
            id,
            &operatore.dominio(operatore.id, conv.comune_id),
            &operatore.attore,
            chrono::Utc::now().timestamp_millis(),
        )
        .await?;
        Ok(Caricamento {
            richiesta_id: id,
            righe: n,
            secondi,
        })
    }

    /// IN_ATTESA_CONVALIDA → CONVALIDATA by the TOP of Roma, through DESIGN §2's table.
    pub async fn approva(&self, id: i64) -> anyhow::Result<()> {
        let r = self.store.richiesta(id).await?;
        let da = StatoRichiesta::parse(&r.stato).context("stato della richiesta sconosciuto")?;
        let top = &self.seme.top;
        let chi = top.dominio(r.utente_id, self.convenzione.comune_id);
        let EsitoTransizione::Stato(a) =
            domain::richiesta::transizione(da, &Azione::Approva, &chi)?
        else {
            anyhow::bail!("l'approvazione non elimina richieste");
        };
        self.store
            .cambia_stato_richiesta(id, &[da.as_str()], a.as_str(), None, &top.attore)
            .await?;
        Ok(())
    }

    /// An engine on this store: `concorrenza` rows of a Comune at a time, chunks of
    /// `blocco` rows, the default pauses and scan interval (as `rivesto worker` runs).
    pub fn motore(&self, concorrenza: usize, blocco: i64) -> anyhow::Result<Motore> {
        Ok(Motore::new(
            self.store.clone(),
            self.chiave()?,
            OpzioniMotore {
                concorrenza_per_comune: concorrenza,
                dimensione_blocco: blocco,
                ..OpzioniMotore::new(&self.risultati)
            },
        ))
    }

    /// Waits until the request is COMPLETATA (an error if it ends otherwise or `massimo`
    /// passes), polling every `passo`.
    pub async fn attendi_completata(
        &self,
        id: i64,
        massimo: Duration,
        passo: Duration,
    ) -> anyhow::Result<()> {
        let inizio = Instant::now();
        loop {
            let r = self.store.richiesta(id).await?;
            match r.stato.as_str() {
                stato::COMPLETATA => return Ok(()),
                stato::FALLITA | stato::ANNULLATA | stato::RESPINTA => anyhow::bail!(
                    "la richiesta {id} è {}: {}",
                    r.stato,
                    r.nota_stato.unwrap_or_default()
                ),
                _ => {}
            }
            anyhow::ensure!(
                inizio.elapsed() < massimo,
                "la richiesta {id} non è completata dopo {} s (stato {})",
                massimo.as_secs(),
                r.stato
            );
            tokio::time::sleep(passo).await;
        }
    }

    /// Calls the simulator answered, all clients and services (in-process only).
    pub fn chiamate_sim(&self) -> Option<u64> {
        match &self.sim {
            Simulatore::InProcesso(s) => Some(s.conteggi().values().sum()),
            Simulatore::Figlio(_) => None,
        }
    }

    pub async fn chiudi(self) {
        self.store.chiudi().await;
        match self.sim {
            Simulatore::InProcesso(s) => s.shutdown().await,
            Simulatore::Figlio(f) => drop(f),
        }
    }
}

/// A convention of Roma with the Polizia Locale for the bench profile, no caps, and the
/// profile given to the Polizia Locale operator.
async fn convenzione_bench(
    store: &Store,
    seme: &Seme,
    approvazione: Approvazione,
) -> anyhow::Result<Convenzione> {
    let base = &seme.convenzione_manuale;
    let nome = match approvazione {
        Approvazione::Manuale => "Bench - convalida manuale",
        _ => "Bench - silenzio assenso",
    };
    let nuova = NuovaConvenzione {
        comune_id: base.comune_id,
        ente_id: base.ente_id,
        nome: nome.into(),
        tracciato: serde_json::to_value(files::output::Layout::per_gruppi(&CAMPI_BENCH))?,
        campi: CAMPI_BENCH.to_vec(),
        ambito: Ambito::Italia,
        approvazione,
        finalita: Default::default(),
        valida_dal_ms: 0,
        valida_al_ms: None,
        max_righe_richiesta: None,
        max_soggetti_giorno: None,
        conservazione_giorni: 7,
        ricerca_nazionale: false,
    };
    let attore = web::demo::attore_demo();
    let id = store.crea_convenzione(&nuova, &attore).await?;
    let op = &seme.standard;
    store
        .imposta_profilo(op.id, id, &CAMPI_BENCH, Ambito::Italia, &attore)
        .await?;
    Ok(store.convenzione(id).await?)
}

/// One simulator client per demo Comune, each with its `anpr.toml` (without the daily quota
/// share: the bench measures throughput), then the simulator itself.
async fn avvia_sim(
    dir: &Path,
    o: &OpzioniAmbiente,
) -> anyhow::Result<(Simulatore, SocketAddr, Onboarding)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let indirizzo = listener.local_addr()?;
    let mut clienti = anpr_sim::FileClienti::default();
    let mut toml = Vec::new();
    for istat in web::demo::codici_istat() {
        let init =
            anpr_sim::init::scrivi_per_comune(&dir.join("anpr-sim").join(istat), indirizzo, istat)?;
        senza_quote(&init.anpr_toml)?;
        let registrati = anpr_sim::SimConfig::from_clients_file(&init.clienti)?;
        clienti.clients.extend(registrati.clients);
        clienti.ws.comuni.extend(registrati.ws.comuni);
        toml.push(init.anpr_toml);
    }
    let sim = if o.sim_separato {
        let file = dir.join("anpr-sim").join("sim-clients.toml");
        std::fs::write(&file, toml::to_string(&clienti)?)?;
        // The port is given back for the child to take: nothing else binds it meanwhile.
        drop(listener);
        Simulatore::Figlio(avvia_figlio(&file, indirizzo, o).await?)
    } else {
        let config = anpr_sim::SimConfig {
            clients: clienti.clients,
            ws: clienti.ws,
            population: o.popolazione.max(1000),
            seed: SEME_POPOLAZIONE,
            latenza: Latenza::fissa(o.latenza_ms),
            ..anpr_sim::SimConfig::default()
        };
        Simulatore::InProcesso(anpr_sim::avvia(config, listener).await?)
    };
    Ok((sim, indirizzo, Onboarding(toml)))
}

fn senza_quote(anpr_toml: &Path) -> anyhow::Result<()> {
    let testo = std::fs::read_to_string(anpr_toml)?;
    let mut t: toml::Table = toml::from_str(&testo)?;
    if let Some(toml::Value::Table(anpr)) = t.get_mut("anpr") {
        anpr.remove("quotas");
    }
    std::fs::write(anpr_toml, toml::to_string(&t)?)?;
    Ok(())
}

async fn avvia_figlio(
    clienti: &Path,
    indirizzo: SocketAddr,
    o: &OpzioniAmbiente,
) -> anyhow::Result<FiglioSim> {
    // RIVESTO_BIN: tests run in a test binary, which is not `rivesto`.
    let programma = match std::env::var_os("RIVESTO_BIN") {
        Some(p) => PathBuf::from(p),
        None => std::env::current_exe()?,
    };
    let figlio = std::process::Command::new(programma)
        .arg("anpr-sim")
        .arg("--clients")
        .arg(clienti)
        .args(["--listen", &indirizzo.to_string()])
        .args(["--population", &o.popolazione.max(1000).to_string()])
        .args(["--seed", &SEME_POPOLAZIONE.to_string()])
        .args(["--latency-ms", &o.latenza_ms.to_string()])
        .stdout(std::process::Stdio::null())
        .spawn()
        .context("avvio di rivesto anpr-sim non riuscito")?;
    let figlio = FiglioSim(figlio);
    let inizio = Instant::now();
    while tokio::net::TcpStream::connect(indirizzo).await.is_err() {
        anyhow::ensure!(
            inizio.elapsed() < Duration::from_secs(20),
            "il simulatore separato non ascolta su {indirizzo} dopo 20 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(figlio)
}
