//! Timers as store jobs (DESIGN §2, §6): silent consent, quota resume, file assembly and the
//! retention purge. A job's unique key makes it exist once however many processes schedule
//! it, and its lease makes it run once; a holder that dies leaves a lease that expires and
//! another process takes the job over. Each handler is safe to run again after a crash.
//! The scan also takes the periodic signed checkpoint of the audit chain, which the store
//! coordinates across processes by itself (issue 6).

use crate::ErroreWorker;
use crate::motore::{LavoroSvolto, Motore};
use domain::convenzione::PoliticaApprovazione;
use domain::richiesta::{
    Attore as AttoreDominio, Azione, MotivoSistema, Sospensione, StatoRichiesta, transizione,
};
use serde_json::json;
use std::sync::atomic::{AtomicI64, Ordering};
use store::anagrafiche::Approvazione;
use store::audit_checkpoint::INTERVALLO_PERIODICO_MS;
use store::jobs::{Job, NuovoJob};
use store::richieste::{Richiesta, stato};
use store::{Attore, ErroreStore, Store};
use tracing::Instrument as _;

pub const JOB_SILENZIO_ASSENSO: &str = "silenzio-assenso";
pub const JOB_RIPRESA_QUOTA: &str = "ripresa-quota";
pub const JOB_ASSEMBLA: &str = "assembla-file";
pub const JOB_PURGA: &str = "purga";
const TIPI: [&str; 4] = [
    JOB_SILENZIO_ASSENSO,
    JOB_RIPRESA_QUOTA,
    JOB_ASSEMBLA,
    JOB_PURGA,
];
/// Jobs run per pass at most, so rows are not starved by a backlog of timers.
const JOB_PER_PASSO: usize = 20;
const GIORNO_MS: i64 = 86_400_000;
/// After a failed periodic checkpoint (a chain that does not verify, an outage) this process
/// waits this long before trying again, so the error is not logged at every scan.
const PAUSA_CHECKPOINT_MS: i64 = 600_000;
/// Real time (epoch ms) before which this process does not try the periodic checkpoint.
static CHECKPOINT_NON_PRIMA_DI: AtomicI64 = AtomicI64::new(0);

/// Checks a transition against DESIGN §2's table (in `domain`) before the store applies it.
fn ammessa(da: &str, azione: &Azione, chi: &AttoreDominio) -> Result<(), ErroreWorker> {
    let da = StatoRichiesta::parse(da).ok_or_else(|| ErroreWorker::Istantanea {
        richiesta_id: 0,
        motivo: format!("stato sconosciuto {da}"),
    })?;
    transizione(da, azione, chi)
        .map(|_| ())
        .map_err(|e| ErroreWorker::Istantanea {
            richiesta_id: 0,
            motivo: e.to_string(),
        })
}

/// Moves a request as `sistema`, tolerating that another process or a TOP moved it first.
async fn cambia(
    store: &Store,
    id: i64,
    da: &str,
    a: &str,
    nota: Option<&str>,
) -> Result<bool, ErroreWorker> {
    match store
        .cambia_stato_richiesta(id, &[da], a, nota, &Attore::sistema())
        .await
    {
        Ok(()) => Ok(true),
        Err(ErroreStore::StatoNonAmmesso { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Queues the file assembly of a request that has just become ANNULLATA (the web layer calls
/// this when a TOP cancels; the timers' scan does it too, as a fallback).
pub async fn dopo_annullamento(store: &Store, richiesta_id: i64) -> Result<(), ErroreWorker> {
    accoda_assemblaggio(store, richiesta_id, stato::ANNULLATA, None, 0).await
}

async fn accoda_assemblaggio(
    store: &Store,
    richiesta_id: i64,
    per: &str,
    generazione: Option<i64>,
    ora_ms: i64,
) -> Result<(), ErroreWorker> {
    let chiave = match generazione {
        Some(g) => format!("{JOB_ASSEMBLA}:{richiesta_id}:{per}:{g}"),
        None => format!("{JOB_ASSEMBLA}:{richiesta_id}:{per}"),
    };
    store
        .accoda_job(&NuovoJob {
            tipo: JOB_ASSEMBLA.into(),
            chiave: Some(chiave),
            payload: json!({"richiesta_id": richiesta_id, "stato": per}),
            eseguire_dopo_ms: ora_ms,
        })
        .await?;
    Ok(())
}

/// `sospesa` until the quota's midnight, with the message the UI shows, and the job that
/// clears it.
pub(crate) async fn sospendi(
    m: &Motore,
    richiesta_id: i64,
    s: &Sospensione,
) -> Result<(), ErroreWorker> {
    let r = m.store.richiesta(richiesta_id).await?;
    if r.stato == stato::IN_ELABORAZIONE && r.sospesa_fino_a_ms != Some(s.fino_a_ms) {
        m.store
            .sospendi_richiesta(
                richiesta_id,
                Some(s.fino_a_ms),
                Some(&s.messaggio()),
                &Attore::sistema(),
            )
            .await?;
    }
    m.store
        .accoda_job(&NuovoJob {
            tipo: JOB_RIPRESA_QUOTA.into(),
            chiave: Some(format!(
                "{JOB_RIPRESA_QUOTA}:{richiesta_id}:{}",
                s.fino_a_ms
            )),
            payload: json!({"richiesta_id": richiesta_id, "fino_a_ms": s.fino_a_ms}),
            eseguire_dopo_ms: s.fino_a_ms,
        })
        .await?;
    Ok(())
}

/// When every row is final, queues the assembly that completes the request. Returns 1 when
/// it did something.
pub(crate) async fn verifica_completamento(
    m: &Motore,
    richiesta_id: i64,
) -> Result<usize, ErroreWorker> {
    if m.store.ha_righe_non_finali(richiesta_id).await? {
        return Ok(0);
    }
    let r = m.store.richiesta(richiesta_id).await?;
    // A request whose rows were all invalid or duplicates never had a row to claim.
    if r.stato == stato::CONVALIDATA {
        ammessa(&r.stato, &Azione::AvviaElaborazione, &AttoreDominio::Worker)?;
        cambia(
            &m.store,
            richiesta_id,
            stato::CONVALIDATA,
            stato::IN_ELABORAZIONE,
            None,
        )
        .await?;
    } else if r.stato != stato::IN_ELABORAZIONE {
        return Ok(0);
    }
    accoda_assemblaggio(
        &m.store,
        richiesta_id,
        stato::COMPLETATA,
        None,
        m.adesso_ms(),
    )
    .await?;
    Ok(1)
}

impl Motore {
    /// FALLITA with the client's Italian explanation; the rows not final become NON_ELABORATO
    /// (in the store, same transaction) and partial files are queued.
    pub(crate) async fn fallisci(
        &self,
        richiesta_id: i64,
        motivo: &str,
    ) -> Result<(), ErroreWorker> {
        let azione = Azione::Fallisci {
            motivo: motivo.to_string(),
        };
        ammessa(stato::IN_ELABORAZIONE, &azione, &AttoreDominio::Worker)?;
        tracing::warn!(richiesta = richiesta_id, motivo, "richiesta FALLITA");
        // A resumed request starts again one row at a time.
        self.verificati
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        if cambia(
            &self.store,
            richiesta_id,
            stato::IN_ELABORAZIONE,
            stato::FALLITA,
            Some(motivo),
        )
        .await?
        {
            let r = self.store.richiesta(richiesta_id).await?;
            accoda_assemblaggio(
                &self.store,
                richiesta_id,
                stato::FALLITA,
                Some(r.aggiornata_ms),
                self.adesso_ms(),
            )
            .await?;
        }
        Ok(())
    }

    /// The scan that schedules timers from the requests' state: silent consent and d'ufficio
    /// rejections of requests awaiting approval, resumes of suspended ones, completion of
    /// requests with nothing left to claim, files of cancelled ones.
    pub(crate) async fn scansiona(&self) -> Result<(), ErroreWorker> {
        for r in self
            .store
            .richieste_in_stato(stato::IN_ATTESA_CONVALIDA, 500)
            .await?
        {
            self.in_attesa(&r).await?;
        }
        for st in [stato::CONVALIDATA, stato::IN_ELABORAZIONE] {
            for r in self.store.richieste_in_stato(st, 500).await? {
                if let Some(fino) = r.sospesa_fino_a_ms {
                    self.accoda_una_volta(&NuovoJob {
                        tipo: JOB_RIPRESA_QUOTA.into(),
                        chiave: Some(format!("{JOB_RIPRESA_QUOTA}:{}:{fino}", r.id)),
                        payload: json!({"richiesta_id": r.id, "fino_a_ms": fino}),
                        eseguire_dopo_ms: fino,
                    })
                    .await?;
                }
                self.store.completa_duplicati(r.id).await?;
                verifica_completamento(self, r.id).await?;
            }
        }
        for r in self.store.richieste_in_stato(stato::ANNULLATA, 500).await? {
            let chiave = format!("{JOB_ASSEMBLA}:{}:{}", r.id, stato::ANNULLATA);
            let fatto = self
                .accodati
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .contains(&chiave);
            if !fatto && self.store.file_risposta(r.id).await?.is_empty() {
                dopo_annullamento(&self.store, r.id).await?;
            }
            self.accodati
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(chiave);
        }
        self.checkpoint_audit().await;
        Ok(())
    }

    /// The periodic signed checkpoint of the audit chain: the store takes it when the chain
    /// grew and the last checkpoint is an hour old, once across all processes. The interval
    /// runs on real time, like the entries' timestamps. A failure is logged and never stops
    /// the scan.
    async fn checkpoint_audit(&self) {
        let ora = chrono::Utc::now().timestamp_millis();
        if ora < CHECKPOINT_NON_PRIMA_DI.load(Ordering::Relaxed) {
            return;
        }
        match self
            .store
            .checkpoint_periodico(&self.chiave, INTERVALLO_PERIODICO_MS)
            .await
        {
            Ok(Some(cp)) => tracing::info!(
                fino_a_id = cp.fino_a_id,
                "checkpoint periodico della catena di audit firmato"
            ),
            Ok(None) => {}
            Err(e) => {
                tracing::error!(errore = %e, "checkpoint periodico della catena di audit non riuscito");
                CHECKPOINT_NON_PRIMA_DI.store(ora + PAUSA_CHECKPOINT_MS, Ordering::Relaxed);
            }
        }
    }

    /// Between full scans, the requests waiting for approval that this process has not seen
    /// yet: a silent consent with no delay then starts within one idle pause, not one scan
    /// interval. One query when nothing is new; the full scan still revisits every request.
    pub(crate) async fn scansiona_nuove_in_attesa(&self) -> Result<(), ErroreWorker> {
        for r in self
            .store
            .richieste_in_stato(stato::IN_ATTESA_CONVALIDA, 500)
            .await?
        {
            let chiave = format!("in_attesa:{}", r.id);
            let vista = self
                .accodati
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .contains(&chiave);
            if !vista {
                self.in_attesa(&r).await?;
                self.accodati
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(chiave);
            }
        }
        Ok(())
    }

    async fn in_attesa(&self, r: &Richiesta) -> Result<(), ErroreWorker> {
        let ora = self.adesso_ms();
        let conv = self.store.convenzione(r.convenzione_id).await?;
        let utente = self.store.utente(r.utente_id).await?;
        let motivo = if conv.valida_al_ms.is_some_and(|al| al < ora) {
            Some(MotivoSistema::ConvenzioneScaduta)
        } else if !utente.attivo {
            Some(MotivoSistema::UtenteDisabilitato)
        } else {
            None
        };
        if let Some(motivo) = motivo {
            ammessa(
                &r.stato,
                &Azione::RespingiSistema { motivo },
                &AttoreDominio::Sistema,
            )?;
            let nota = motivo.to_string();
            cambia(
                &self.store,
                r.id,
                stato::IN_ATTESA_CONVALIDA,
                stato::RESPINTA,
                Some(&nota),
            )
            .await?;
            return Ok(());
        }
        if let Approvazione::SilenzioAssenso { ritardo_ms } = conv.approvazione {
            let politica = PoliticaApprovazione::SilenzioAssenso {
                ritardo_ms: u64::try_from(ritardo_ms).unwrap_or(0),
            };
            let quando = politica
                .scadenza_silenzio(r.inviata_ms.unwrap_or(r.creata_ms))
                .unwrap_or(ora);
            self.accoda_una_volta(&NuovoJob {
                tipo: JOB_SILENZIO_ASSENSO.into(),
                chiave: Some(format!("{JOB_SILENZIO_ASSENSO}:{}", r.id)),
                payload: json!({"richiesta_id": r.id}),
                eseguire_dopo_ms: quando,
            })
            .await?;
        }
        Ok(())
    }

    pub(crate) async fn esegui_job_dovuti(&self) -> Result<LavoroSvolto, ErroreWorker> {
        let mut fatto = LavoroSvolto::default();
        let proprietario = self.opzioni.id_processo.clone();
        for _ in 0..JOB_PER_PASSO {
            let Some(job) = self
                .store
                .reclama_job(&TIPI, &proprietario, self.adesso_ms(), self.lease_ms())
                .await?
            else {
                break;
            };
            let span = match job.payload["richiesta_id"].as_i64() {
                Some(richiesta_id) => tracing::info_span!("job", tipo = %job.tipo, richiesta_id),
                None => tracing::info_span!("job", tipo = %job.tipo),
            };
            let esito = self.esegui_job(&job).instrument(span.clone()).await;
            let (errore, riprova) = match &esito {
                Ok(None) => (None, None),
                Ok(Some(quando)) => (None, Some(*quando)),
                Err(e) => {
                    span.in_scope(
                        || tracing::error!(job = job.id, errore = %e, "job non riuscito"),
                    );
                    // Retried with a growing pause; a handler is safe to run again.
                    let pausa = 10_000 * job.tentativi.clamp(1, 360);
                    (Some(e.to_string()), Some(self.adesso_ms() + pausa))
                }
            };
            self.store
                .concludi_job(job.id, &proprietario, errore.as_deref(), riprova)
                .await?;
            if errore.is_none() {
                span.in_scope(|| tracing::info!(job = job.id, "job eseguito"));
            }
            fatto.job += 1;
        }
        Ok(fatto)
    }

    /// Runs one job; `Some(t)` puts it back in the queue until `t`.
    async fn esegui_job(&self, job: &Job) -> Result<Option<i64>, ErroreWorker> {
        let id = job.payload["richiesta_id"].as_i64().unwrap_or_default();
        match job.tipo.as_str() {
            JOB_SILENZIO_ASSENSO => {
                let r = self.store.richiesta(id).await?;
                if r.stato == stato::IN_ATTESA_CONVALIDA {
                    ammessa(
                        &r.stato,
                        &Azione::ApprovaSilenzioAssenso,
                        &AttoreDominio::Sistema,
                    )?;
                    cambia(
                        &self.store,
                        id,
                        stato::IN_ATTESA_CONVALIDA,
                        stato::CONVALIDATA,
                        Some("approvata per silenzio-assenso"),
                    )
                    .await?;
                }
                Ok(None)
            }
            JOB_RIPRESA_QUOTA => {
                let r = self.store.richiesta(id).await?;
                let fino = job.payload["fino_a_ms"].as_i64();
                if r.sospesa_fino_a_ms.is_some() && r.sospesa_fino_a_ms == fino {
                    self.store
                        .sospendi_richiesta(id, None, None, &Attore::sistema())
                        .await?;
                }
                Ok(None)
            }
            JOB_ASSEMBLA => {
                let per = job.payload["stato"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                self.assembla(id, &per).await?;
                Ok(None)
            }
            JOB_PURGA => self.purga(id).await,
            _ => Ok(None),
        }
    }

    /// Queues the retention purge of a request whose files were just written.
    pub(crate) async fn accoda_purga(
        &self,
        richiesta_id: i64,
        giorni: i64,
    ) -> Result<(), ErroreWorker> {
        self.store
            .accoda_job(&NuovoJob {
                tipo: JOB_PURGA.into(),
                chiave: Some(format!("{JOB_PURGA}:{richiesta_id}")),
                payload: json!({"richiesta_id": richiesta_id}),
                eseguire_dopo_ms: self.adesso_ms() + giorni.max(0) * GIORNO_MS,
            })
            .await?;
        Ok(())
    }

    /// The retention purge: identifiers replaced by their keyed hashes, result fields and
    /// files deleted, one audit entry. A request resumed meanwhile waits a day.
    async fn purga(&self, richiesta_id: i64) -> Result<Option<i64>, ErroreWorker> {
        let r = self.store.richiesta(richiesta_id).await?;
        if r.stato == stato::CONVALIDATA || r.stato == stato::IN_ELABORAZIONE {
            return Ok(Some(self.adesso_ms() + GIORNO_MS));
        }
        let file = self.store.file_risposta(richiesta_id).await?;
        let hmac = self.store.chiave_hmac_identificativi(&self.chiave).await?;
        self.store
            .purga_richiesta(richiesta_id, &hmac, &Attore::sistema())
            .await?;
        for f in file {
            match std::fs::remove_file(&f.percorso) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(ErroreWorker::io(
                        "eliminazione",
                        std::path::Path::new(&f.percorso),
                    )(e));
                }
            }
        }
        Ok(None)
    }
}
