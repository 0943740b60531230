//! One chunk of rows: claim with a lease, heartbeat while working, run each row's plan with
//! bounded concurrency per Comune, then record the outcomes, their call ids and the encrypted
//! result fields with one audit entry per request in the chunk (DESIGN §3, §4).

use crate::istantanea::Istantanea;
use crate::motore::{ClientComune, LavoroSvolto, Motore};
use crate::rivestizione::{self, ChiamataSvolta, Interruzione, interruzione};
use crate::{ErroreWorker, timer};
use anpr::client::{ContestoChiamata, DatiRichiesta};
use anpr::piano::{Piano, pianifica_con_ws};
use anpr::servizi::Servizio;
use domain::esito::Esito;
use domain::tipo::TipoIdentificativo;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use store::richieste::{EsitoRiga, Riga, stato};
use store::{Attore, Audit, ErroreStore};
use tracing::Instrument as _;

/// What is the same for every row of a request.
struct Contesto {
    richiesta_id: i64,
    comune_id: i64,
    client: Arc<ClientComune>,
    gruppi: BTreeSet<domain::gruppi::GruppoCampi>,
    ambito: domain::ambito::Ambito,
    abilitati: Vec<Servizio>,
    purpose: BTreeMap<Servizio, String>,
    comuni_in_ambito: Option<BTreeSet<String>>,
    /// The identifier kinds the Comune's channel takes (`[anpr_ws].use_for`), when configured.
    ws_use_for: Option<Vec<TipoIdentificativo>>,
    /// The Comune's channel, with the other convened Comuni's under COMUNI_CONVENZIONATI.
    ws: Option<crate::canale_ws::CanaleWs>,
    user_id: String,
    user_location: String,
    loa: String,
    data_riferimento: String,
    motivo: String,
    /// Set when a row stopped the request: rows not yet started are not sent.
    fermata: AtomicBool,
    /// When this chunk's rows were claimed: their latency runs from here to the stored outcome.
    reclamate: std::time::Instant,
}

/// Stops the heartbeat when the chunk ends, however it ends.
struct Battito(tokio::task::JoinHandle<()>);

impl Drop for Battito {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// How one row ended in this chunk.
enum Fine {
    /// The outcome, the answered calls, and the call keys to forget once it is stored.
    /// (Boxed: an outcome with its JSON values is much larger than the other variants.)
    Esito(Box<EsitoRiga>, Vec<ChiamataSvolta>, Vec<String>),
    Interrotta(Interruzione),
    NonIniziata,
}

impl Motore {
    pub(crate) async fn elabora_blocco(&self) -> Result<LavoroSvolto, ErroreWorker> {
        let ora = self.adesso_ms();
        let righe = self
            .store
            .reclama_righe(
                &self.opzioni.id_processo,
                ora,
                self.lease_ms(),
                self.opzioni.dimensione_blocco,
                None,
            )
            .await?;
        let reclamate = std::time::Instant::now();
        let mut fatto = LavoroSvolto::default();
        let mut per_richiesta: BTreeMap<i64, Vec<Riga>> = BTreeMap::new();
        for r in righe {
            per_richiesta.entry(r.richiesta_id).or_default().push(r);
        }
        // One heartbeat for the whole chunk: rows of the next request wait their turn.
        let tutte: Vec<i64> = per_richiesta.values().flatten().map(|r| r.id).collect();
        let battito = Battito(self.battito(tutte));
        for (richiesta_id, righe) in per_richiesta {
            let ids: Vec<i64> = righe.iter().map(|r| r.id).collect();
            let span = tracing::info_span!("richiesta", richiesta_id);
            let esito = self
                .elabora_richiesta(richiesta_id, righe, reclamate)
                .instrument(span)
                .await;
            match esito {
                Ok(l) => fatto.somma(l),
                Err(e) => {
                    // The rows go back to the queue now rather than when the lease expires.
                    let _ = self
                        .store
                        .rilascia_righe(&ids, &self.opzioni.id_processo)
                        .await;
                    return Err(e);
                }
            }
        }
        drop(battito);
        Ok(fatto)
    }

    /// Renews the chunk's leases every third of their duration until aborted.
    fn battito(&self, ids: Vec<i64>) -> tokio::task::JoinHandle<()> {
        let store = self.store.clone();
        let orologio = self.opzioni.orologio.clone();
        let proprietario = self.opzioni.id_processo.clone();
        let durata = self.opzioni.durata_lease;
        let lease_ms = self.lease_ms();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(durata / 3).await;
                let scadenza = orologio.adesso_ms() + lease_ms;
                if let Err(e) = store.rinnova_righe(&ids, &proprietario, scadenza).await {
                    tracing::warn!(errore = %e, "rinnovo dei lease non riuscito");
                }
            }
        })
    }

    async fn elabora_richiesta(
        &self,
        richiesta_id: i64,
        righe: Vec<Riga>,
        reclamate: std::time::Instant,
    ) -> Result<LavoroSvolto, ErroreWorker> {
        let proprietario = self.opzioni.id_processo.clone();
        let ids: Vec<i64> = righe.iter().map(|r| r.id).collect();
        let rilascia = |n: usize| LavoroSvolto {
            righe_rilasciate: n,
            ..LavoroSvolto::default()
        };
        if !self.avvia(richiesta_id).await? {
            self.store.rilascia_righe(&ids, &proprietario).await?;
            return Ok(rilascia(ids.len()));
        }
        let ctx = match self.contesto(richiesta_id, reclamate).await {
            Ok(c) => Arc::new(c),
            Err(e) if configurazione(&e) => {
                self.store.rilascia_righe(&ids, &proprietario).await?;
                self.fallisci(richiesta_id, &e.to_string()).await?;
                return Ok(rilascia(ids.len()));
            }
            Err(e) => return Err(e),
        };
        // The chunk's operation ids in one transaction rather than one per call; without them
        // (a database error) each call draws its own, as before.
        // Likewise its quota slots; those left over go back when it ends.
        let (chiavi, fabbisogno) = pianificate(&ctx, &righe);
        if let Err(e) = ctx.client.archivio.prealloca(&chiavi).await {
            tracing::warn!(errore = %e, "id di operazione non preassegnati: uno per chiamata");
        }
        ctx.client.quota.prepara_blocco(&fabbisogno).await;
        let fini = self.esegui_righe(&ctx, &righe).await;
        let mai_usate = ctx.client.archivio.dimentica(&chiavi);
        if let Err(e) = self.store.completa_id_operazioni(&mai_usate).await {
            tracing::warn!(errore = %e, "id di operazione non usati non cancellati");
        }
        let esito = self.registra(&ctx, &righe, fini).await;
        ctx.client.quota.fine_blocco(&fabbisogno).await;
        esito
    }

    /// CONVALIDATA → IN_ELABORAZIONE on the first claim. `false` when the request is no
    /// longer running (cancelled, failed): its rows go back, and the state change already made
    /// them NON_ELABORATO or will.
    async fn avvia(&self, richiesta_id: i64) -> Result<bool, ErroreWorker> {
        let r = self.store.richiesta(richiesta_id).await?;
        match r.stato.as_str() {
            stato::IN_ELABORAZIONE => Ok(true),
            stato::CONVALIDATA => {
                match self
                    .store
                    .cambia_stato_richiesta(
                        richiesta_id,
                        &[stato::CONVALIDATA],
                        stato::IN_ELABORAZIONE,
                        None,
                        &Attore::sistema(),
                    )
                    .await
                {
                    Ok(()) | Err(ErroreStore::StatoNonAmmesso { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
                let r = self.store.richiesta(richiesta_id).await?;
                Ok(r.stato == stato::IN_ELABORAZIONE)
            }
            _ => Ok(false),
        }
    }

    async fn contesto(
        &self,
        richiesta_id: i64,
        reclamate: std::time::Instant,
    ) -> Result<Contesto, ErroreWorker> {
        let r = self.store.richiesta(richiesta_id).await?;
        let ist = Istantanea::da_json(richiesta_id, &r.snapshot)?;
        let conv = self.store.convenzione(r.convenzione_id).await?;
        let client = self.client(conv.comune_id).await?;
        let abilitati = match &client.client {
            Some(c) => ist.servizi_abilitati(&c.config().servizi_abilitati()),
            None => Vec::new(),
        };
        let gruppi = ist.gruppi();
        let ws_use_for = client.ws.as_ref().map(|w| w.config().use_for.clone());
        let ws = match &client.ws {
            None => None,
            Some(w) => {
                let comune = self.store.comune(conv.comune_id).await?;
                let mut comuni = vec![(comune.codice_istat.clone(), w.clone())];
                if ist.ambito == domain::ambito::Ambito::ComuniConvenzionati {
                    comuni.extend(self.altri_canali(&comune.codice_istat, &ist).await?);
                }
                Some(crate::canale_ws::CanaleWs::new(
                    comuni,
                    ist.ricerca_nazionale,
                    &gruppi,
                ))
            }
        };
        Ok(Contesto {
            richiesta_id,
            comune_id: conv.comune_id,
            ws_use_for,
            ws,
            gruppi,
            ambito: ist.ambito,
            abilitati,
            purpose: ist.purpose_per_servizio(),
            comuni_in_ambito: ist
                .comuni_in_ambito
                .clone()
                .filter(|_| ist.ambito.is_restricted())
                .map(|v| v.into_iter().collect()),
            user_id: ist.user_id,
            user_location: ist.user_location,
            loa: ist.loa,
            data_riferimento: r.data_riferimento,
            motivo: r.motivo,
            client,
            fermata: AtomicBool::new(false),
            reclamate,
        })
    }

    /// Under COMUNI_CONVENZIONATI, the channels of the other Comuni in scope that have one, in
    /// ISTAT order: each is asked about its own residents only (DESIGN §4). A Comune whose
    /// access is missing or broken is left out, with a warning: the others still answer.
    async fn altri_canali(
        &self,
        proprio: &str,
        ist: &Istantanea,
    ) -> Result<Vec<(String, Arc<anpr::ws::client::WsClient>)>, ErroreWorker> {
        let mut altri = Vec::new();
        for istat in ist.comuni_in_ambito.iter().flatten() {
            if istat == proprio {
                continue;
            }
            let Some(comune) = self.store.comune_per_istat(istat).await? else {
                continue;
            };
            match self.client(comune.id).await {
                Ok(c) => {
                    if let Some(w) = &c.ws {
                        altri.push((istat.clone(), w.clone()));
                    }
                }
                Err(ErroreWorker::AccessoMancante { .. }) => {}
                Err(e) => {
                    tracing::warn!(comune = %istat, errore = %e, "canale del Comune convenzionato non utilizzabile");
                }
            }
        }
        Ok(altri)
    }

    /// Runs the rows: the first alone while the Comune's access has not answered yet, then the
    /// rest at most `concorrenza_per_comune` at a time.
    async fn esegui_righe(&self, ctx: &Arc<Contesto>, righe: &[Riga]) -> Vec<Fine> {
        let mut fini: Vec<Option<Fine>> = righe.iter().map(|_| None).collect();
        let mut inizio = 0;
        while inizio < righe.len() && !self.verificato(&ctx.client.impronta) {
            // In a task of its own, like every row: the client's store adapters block their
            // thread (`block_in_place`), which must never be the engine's lanes' task (one lane
            // may hold the database writer that this row waits for).
            let riga =
                tokio::spawn(esegui_riga(ctx.clone(), righe[inizio].clone()).in_current_span());
            let f = riga.await.unwrap_or_else(|e| {
                tracing::error!(errore = %e, "elaborazione di una riga interrotta");
                Fine::NonIniziata
            });
            if matches!(&f, Fine::Esito(_, chiamate, _) if !chiamate.is_empty()) {
                self.segna_verificato(&ctx.client.impronta);
            }
            fini[inizio] = Some(f);
            inizio += 1;
        }
        let semaforo = self.semaforo(ctx.comune_id);
        let mut set = tokio::task::JoinSet::new();
        for (i, riga) in righe.iter().enumerate().skip(inizio) {
            let ctx = ctx.clone();
            let riga = riga.clone();
            let semaforo = semaforo.clone();
            set.spawn(
                async move {
                    let _permesso = semaforo.acquire_owned().await;
                    (i, esegui_riga(ctx, riga).await)
                }
                // The row's log lines keep the request's span (its `richiesta_id`).
                .in_current_span(),
            );
        }
        while let Some(r) = set.join_next().await {
            match r {
                Ok((i, f)) => fini[i] = Some(f),
                Err(e) => tracing::error!(errore = %e, "elaborazione di una riga interrotta"),
            }
        }
        fini.into_iter()
            .map(|f| f.unwrap_or(Fine::NonIniziata))
            .collect()
    }

    /// Records the chunk: outcomes first (one audit entry), then the rows given back, then the
    /// request's fate (FALLITA, `sospesa`), then the duplicates and the completion check.
    async fn registra(
        &self,
        ctx: &Contesto,
        righe: &[Riga],
        fini: Vec<Fine>,
    ) -> Result<LavoroSvolto, ErroreWorker> {
        let proprietario = &self.opzioni.id_processo;
        let sm = smista(righe, fini);
        let mut fatto = LavoroSvolto::default();
        if !sm.esiti.is_empty() {
            fatto.righe_finali = self.registra_esiti(ctx, &sm).await?;
        }
        // The request's fate before the rows go back, so no other worker claims them in
        // between: FALLITA turns them NON_ELABORATO itself; `sospesa` hides them until midnight.
        if let Some(motivo) = sm.fallita {
            self.fallisci(ctx.richiesta_id, &motivo).await?;
        } else {
            if let Some(s) = sm.sospesa {
                timer::sospendi(self, ctx.richiesta_id, &s).await?;
            }
            if !sm.da_rilasciare.is_empty() {
                fatto.righe_rilasciate = self
                    .store
                    .rilascia_righe(&sm.da_rilasciare, proprietario)
                    .await? as usize;
            }
        }
        self.store.completa_duplicati(ctx.richiesta_id).await?;
        fatto.job += timer::verifica_completamento(self, ctx.richiesta_id).await?;
        tracing::info!(
            righe = righe.len(),
            finali = fatto.righe_finali,
            rilasciate = fatto.righe_rilasciate,
            "blocco di righe elaborato"
        );
        Ok(fatto)
    }

    /// Outcomes, call ids and result fields with the chunk's one audit entry; then the calls'
    /// keys are forgotten. Returns the rows recorded (a row whose lease was lost is not).
    async fn registra_esiti(&self, ctx: &Contesto, sm: &Smistate) -> Result<usize, ErroreWorker> {
        let proprietario = &self.opzioni.id_processo;
        let audit = Audit::nuovo(
            &Attore::sistema(),
            format!("richiesta:{}", ctx.richiesta_id),
            "CHIAMATE_ANPR",
        )
        .con_dettagli(json!({
            "processo": proprietario,
            "righe": sm.esiti.len(),
            "chiamate": sm.chiamate_audit,
        }));
        let audit = self.con_parti(ctx.richiesta_id, audit).await?;
        let registrate = self
            .store_archivio()
            .await?
            .registra_esiti(proprietario, &sm.esiti, Some(&audit), &self.chiave)
            .await?;
        crate::metriche::righe(&sm.esiti, &registrate);
        self.latenze
            .registra(ctx.reclamate.elapsed(), registrate.len() as u64);
        // Only now may the calls' ids be forgotten: redone before this point, a call reuses
        // its id and ANPR replays its answer.
        let chiavi: Vec<String> = sm
            .chiavi
            .iter()
            .filter(|(riga_id, _)| registrate.contains(riga_id))
            .flat_map(|(_, chiavi_riga)| chiavi_riga.iter().cloned())
            .collect();
        self.store.completa_id_operazioni(&chiavi).await?;
        Ok(registrate.len())
    }

    /// The chunk's audit entry carries the request's Comune and Ente, so each side's monitors
    /// find it.
    async fn con_parti(&self, richiesta_id: i64, audit: Audit) -> Result<Audit, ErroreWorker> {
        let r = self.store.richiesta(richiesta_id).await?;
        let conv = self.store.convenzione(r.convenzione_id).await?;
        let comune = self.store.comune(conv.comune_id).await?;
        let ente = self.store.ente(conv.ente_id).await?;
        Ok(audit
            .con_comune(Some(comune.codice_istat))
            .con_ente(Some(ente.codice)))
    }
}

/// A chunk's rows sorted by how they ended.
#[derive(Default)]
struct Smistate {
    esiti: Vec<EsitoRiga>,
    /// Each answered call: row number, service, both ids, outcome code (no personal data).
    chiamate_audit: Vec<Value>,
    /// Per recorded row, the call keys to forget once it is stored.
    chiavi: Vec<(i64, Vec<String>)>,
    da_rilasciare: Vec<i64>,
    fallita: Option<String>,
    sospesa: Option<domain::richiesta::Sospensione>,
}

fn smista(righe: &[Riga], fini: Vec<Fine>) -> Smistate {
    let mut sm = Smistate::default();
    for (riga, fine) in righe.iter().zip(fini) {
        match fine {
            Fine::Esito(e, chiamate, chiavi_riga) => {
                sm.chiavi.push((e.riga_id, chiavi_riga));
                for c in &chiamate {
                    sm.chiamate_audit.push(json!({
                        "riga": riga.numero,
                        "servizio": c.servizio,
                        "id_operazione_client": c.id_operazione_client,
                        "id_operazione_anpr": c.id_operazione_anpr,
                        "esito": e.esito.as_str(),
                    }));
                }
                sm.esiti.push(*e);
            }
            Fine::Interrotta(i) => {
                sm.da_rilasciare.push(riga.id);
                match i {
                    Interruzione::Fallita { motivo } => {
                        sm.fallita = sm.fallita.or(Some(motivo));
                    }
                    Interruzione::Sospesa(s) => sm.sospesa = sm.sospesa.or(Some(s)),
                    Interruzione::Pausa { .. } => {}
                }
            }
            Fine::NonIniziata => sm.da_rilasciare.push(riga.id),
        }
    }
    sm
}

/// Errors that mean the Comune's access or the request's snapshot is wrong: the request stops
/// as FALLITA with the explanation, instead of being retried for ever.
fn configurazione(e: &ErroreWorker) -> bool {
    match e {
        ErroreWorker::AccessoMancante { .. }
        | ErroreWorker::NessunCanale { .. }
        | ErroreWorker::PdndNonConfigurato { .. }
        | ErroreWorker::Configurazione { .. }
        | ErroreWorker::FileAccesso { .. }
        | ErroreWorker::Istantanea { .. } => true,
        ErroreWorker::Anpr(a) => a.ferma_richiesta(),
        _ => false,
    }
}

/// One row: validation, plan, lookups.
async fn esegui_riga(ctx: Arc<Contesto>, riga: Riga) -> Fine {
    if ctx.fermata.load(Ordering::SeqCst) {
        return Fine::NonIniziata;
    }
    let finale = |esito, messaggio: String| {
        Fine::Esito(
            Box::new(EsitoRiga {
                riga_id: riga.id,
                esito,
                messaggio: Some(messaggio).filter(|m| !m.is_empty()),
                id_operazioni: json!([]),
                risultato: None,
                cf_restituito: None,
                id_anpr_restituito: None,
            }),
            Vec::new(),
            Vec::new(),
        )
    };
    let identificativo = match normalizza(riga.tipo, riga.identificativo.as_deref()) {
        Ok(i) => i,
        Err(m) => return finale(Esito::NonValido, m),
    };
    let piano = match piano_riga(&ctx, riga.tipo) {
        Ok(p) => p,
        Err(e) => return finale(Esito::NonSupportato, e.0),
    };
    cerca(&ctx, &riga, &identificativo, &piano).await
}

async fn cerca(ctx: &Contesto, riga: &Riga, identificativo: &str, piano: &Piano) -> Fine {
    let cf = (riga.tipo == TipoIdentificativo::Cf).then(|| identificativo.to_string());
    // Stable across restarts: a redone call reuses its operation id (DESIGN §4).
    let chiave = chiave_riga(ctx.richiesta_id, riga.numero);
    let chiavi: Vec<String> = piano
        .servizi()
        .into_iter()
        .map(|s| rivestizione::chiave_chiamata(&chiave, s))
        .collect();
    let r = rivestizione::Riga {
        identificativo,
        piano,
        dati: DatiRichiesta {
            data_riferimento_richiesta: ctx.data_riferimento.clone(),
            motivo_richiesta: riga.motivo.clone().unwrap_or_else(|| ctx.motivo.clone()),
        },
        contesto: ContestoChiamata {
            user_id: ctx.user_id.clone(),
            user_location: ctx.user_location.clone(),
            loa: ctx.loa.clone(),
            purpose_id: None,
            cf_atteso: cf,
        },
        purpose_per_servizio: &ctx.purpose,
        chiave: chiave.clone(),
        comuni_in_ambito: ctx.comuni_in_ambito.as_ref(),
        tipo: riga.tipo,
        rilascio: riga.rilascio.as_deref(),
        ws: ctx.ws.as_ref().filter(|_| piano.ws.is_some()),
    };
    // The 3002 calls' keys, one per Comune asked: their ids are forgotten with the others'.
    let chiavi_ws: Vec<String> = match (&ctx.ws, piano.ws) {
        (Some(w), Some(_)) => w
            .comuni
            .iter()
            .map(|(istat, _)| crate::canale_ws::chiave_chiamata_ws(&chiave, istat))
            .collect(),
        _ => Vec::new(),
    };
    let chiavi = chiavi.into_iter().chain(chiavi_ws).collect();
    match rivestizione::esegui(ctx.client.client.as_deref(), r).await {
        Ok(e) => trovato(riga.id, e, chiavi),
        Err(errore) => {
            let i = interruzione(&errore);
            if !matches!(i, Interruzione::Pausa { .. }) {
                ctx.fermata.store(true, Ordering::SeqCst);
            }
            Fine::Interrotta(i)
        }
    }
}

/// A row's key, stable across restarts: a redone call reuses its operation id (DESIGN §4).
fn chiave_riga(richiesta_id: i64, numero: i64) -> String {
    format!("{richiesta_id}:{numero}")
}

/// The calls the chunk's rows plan: the keys of those whose ids may be drawn ahead (not
/// C001/C004, whose calls go out one at a time in id order), and per service the share and
/// the number of calls.
fn pianificate(ctx: &Contesto, righe: &[Riga]) -> (Vec<String>, Vec<(Servizio, u64, i64)>) {
    let mut chiavi = Vec::new();
    let mut per_servizio = BTreeMap::<Servizio, i64>::new();
    for riga in righe {
        if normalizza(riga.tipo, riga.identificativo.as_deref()).is_err() {
            continue;
        }
        let Ok(piano) = piano_riga(ctx, riga.tipo) else {
            continue;
        };
        let chiave = chiave_riga(ctx.richiesta_id, riga.numero);
        for s in piano.servizi() {
            *per_servizio.entry(s).or_default() += 1;
            if !s.ordina_id() {
                chiavi.push(rivestizione::chiave_chiamata(&chiave, s));
            }
        }
    }
    let quota = |s: &Servizio| {
        ctx.client
            .client
            .as_ref()
            .and_then(|c| c.config().quotas.get(s).copied())
            .unwrap_or(u64::MAX)
    };
    let fabbisogno = per_servizio
        .into_iter()
        .map(|(s, n)| (s, quota(&s), n))
        .collect();
    (chiavi, fabbisogno)
}

/// The row's plan, with the Comune's channel when it is configured.
fn piano_riga(
    ctx: &Contesto,
    tipo: TipoIdentificativo,
) -> Result<Piano, anpr::piano::NonSupportato> {
    pianifica_con_ws(
        &ctx.gruppi,
        ctx.ambito,
        tipo,
        &ctx.abilitati,
        ctx.ws_use_for.as_deref(),
    )
}

/// The row's outcome as stored: call ids per call, result fields (the person and the family)
/// when found.
fn trovato(riga_id: i64, e: rivestizione::EsitoRiga, chiavi: Vec<String>) -> Fine {
    let id_operazioni: Vec<Value> = e
        .chiamate
        .iter()
        .map(|c| {
            json!({
                "servizio": c.servizio,
                "id_operazione_client": c.id_operazione_client,
                "id_operazione_anpr": c.id_operazione_anpr,
            })
        })
        .collect();
    let risultato = e
        .soggetto
        .as_ref()
        .map(|s| json!({"soggetto": s, "famiglia": e.famiglia}));
    let esito = e.esito.unwrap_or(Esito::Errore);
    // Only a found person is named in the archive (by keyed hash, see `store::consultazioni`).
    let trovato = esito == Esito::Trovato;
    Fine::Esito(
        Box::new(EsitoRiga {
            riga_id,
            esito,
            messaggio: Some(e.messaggio).filter(|m| !m.is_empty()),
            id_operazioni: Value::Array(id_operazioni),
            risultato,
            cf_restituito: e.cf.filter(|_| trovato),
            id_anpr_restituito: e.id_anpr.filter(|_| trovato),
        }),
        e.chiamate,
        chiavi,
    )
}

/// The identifier as ANPR expects it, or why the row is NON_VALIDO. Kinds the PDND services
/// cannot search pass through: the planner says NON_SUPPORTATO.
pub(crate) fn normalizza(tipo: TipoIdentificativo, valore: Option<&str>) -> Result<String, String> {
    let valore = valore.ok_or_else(|| "identificativo assente".to_string())?;
    match tipo {
        TipoIdentificativo::Cf => domain::CodiceFiscale::parse(valore)
            .map(|c| c.as_str().to_string())
            .map_err(|e| e.to_string()),
        TipoIdentificativo::IdAnpr => domain::IdAnpr::parse(valore)
            .map(|c| c.as_str().to_string())
            .map_err(|e| e.to_string()),
        _ => Ok(valore.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizzazione() {
        assert_eq!(
            normalizza(TipoIdentificativo::Cf, Some(" sttsgt90a01h501j ")),
            Ok("STTSGT90A01H501J".into())
        );
        assert!(normalizza(TipoIdentificativo::Cf, Some("STTSGT90A01H501X")).is_err());
        assert_eq!(
            normalizza(TipoIdentificativo::IdAnpr, Some("af41450as")),
            Ok("AF41450AS".into())
        );
        assert!(normalizza(TipoIdentificativo::IdAnpr, Some("1234")).is_err());
        assert_eq!(
            normalizza(TipoIdentificativo::Ci, Some("CA00000AA")),
            Ok("CA00000AA".into())
        );
        assert!(normalizza(TipoIdentificativo::Cf, None).is_err());
    }
}
