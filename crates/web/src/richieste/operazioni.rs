//! The request operations shared by the pages and the JSON API. Roles and tenancy are checked
//! here, inside each operation, so no caller can forget them: an object outside the user's
//! scope answers [`ErroreWeb::NonTrovato`], exactly like a missing one (DESIGN §1), and which
//! transition is allowed, and for whom, is decided by `domain::richiesta::transizione`.

use crate::ErroreWeb;
use crate::stato::StatoApp;
use chrono::{NaiveDate, TimeZone as _};
use domain::richiesta::{
    Attore as AttoreDominio, Azione, ErroreTransizione, EsitoTransizione, StatoRichiesta,
    transizione,
};
use domain::ruolo::Ruolo;
use files::input::{EsitoRiga, MAX_PROBLEMI, Opzioni, RifiutoFile};
use sha2::{Digest as _, Sha256};
use store::anagrafiche::{Convenzione, Utente};
use store::richieste::{FileRisposta, NuovaRichiesta, Richiesta, stato as st};
use store::{Attore, Audit, ErroreStore};
use worker::invio::ErroreInvio;

/// Longest `motivo` accepted (a numero di pratica or protocollo, with a short note).
pub const MAX_MOTIVO: usize = 200;

/// The request `id` if `u` may see it, else 404: STANDARD its own requests; TOP the requests
/// under the conventions of its Comune; ADMIN those under the conventions of its Ente (with its
/// managing Comune, when it has one). A
/// BOZZA is its author's alone until it is submitted.
pub async fn richiesta_visibile(
    stato: &StatoApp,
    u: &Utente,
    id: i64,
) -> Result<Richiesta, ErroreWeb> {
    Ok(con_convenzione(stato, u, id).await?.0)
}

/// Like [`richiesta_visibile`], with the request's convention.
pub(crate) async fn con_convenzione(
    stato: &StatoApp,
    u: &Utente,
    id: i64,
) -> Result<(Richiesta, Convenzione), ErroreWeb> {
    let r = match stato.store.richiesta(id).await {
        Ok(r) => r,
        Err(ErroreStore::NonTrovato { .. }) => return Err(ErroreWeb::NonTrovato),
        Err(e) => return Err(e.into()),
    };
    let conv = stato.store.convenzione(r.convenzione_id).await?;
    if visibile(u, &r, &conv) {
        Ok((r, conv))
    } else {
        Err(ErroreWeb::NonTrovato)
    }
}

fn visibile(u: &Utente, r: &Richiesta, conv: &Convenzione) -> bool {
    let inviata = r.stato != st::BOZZA;
    match Ruolo::parse(&u.ruolo) {
        Some(Ruolo::Standard) => r.utente_id == u.id,
        Some(Ruolo::Top) => inviata && u.comune_id == Some(conv.comune_id),
        // An Ente's account managed by one Comune sees only that Comune's conventions; one
        // with no Comune (bootstrapped from the console) sees the whole Ente.
        Some(Ruolo::Admin) => {
            inviata
                && u.ente_id == Some(conv.ente_id)
                && u.comune_id.is_none_or(|c| c == conv.comune_id)
        }
        None => false,
    }
}

/// The facts about `u` that DESIGN §2's table needs for this request.
pub(crate) fn attore_dominio(
    u: &Utente,
    r: &Richiesta,
    conv: &Convenzione,
) -> Result<AttoreDominio, ErroreWeb> {
    let ruolo = Ruolo::parse(&u.ruolo).ok_or(ErroreWeb::NonTrovato)?;
    Ok(AttoreDominio::Utente {
        id: u.id,
        ruolo,
        richiedente: r.utente_id == u.id,
        del_comune: u.comune_id == Some(conv.comune_id),
    })
}

/// Who the archive names for `u`: username, role, and the codes of its Comune or Ente.
pub async fn attore(stato: &StatoApp, u: &Utente) -> Result<Attore, ErroreWeb> {
    let comune = match u.comune_id {
        Some(id) => Some(stato.store.comune(id).await?.codice_istat),
        None => None,
    };
    let ente = match u.ente_id {
        Some(id) => Some(stato.store.ente(id).await?.codice),
        None => None,
    };
    Ok(Attore {
        nome: u.username.clone(),
        ruolo: Some(u.ruolo.clone()),
        comune,
        ente,
    })
}

/// What a new request is made from.
pub enum Contenuto {
    /// The manual-entry box: the same parser as files.
    Testo(String),
    /// An uploaded CSV or XLSX; its type is read from the content.
    File(Vec<u8>),
}

pub struct NuovaBozza {
    pub convenzione_id: i64,
    pub motivo: String,
    /// `AAAA-MM-GG`; `None` is today in Europe/Rome.
    pub data_riferimento: Option<String>,
    pub contenuto: Contenuto,
}

/// The validation preview of a new BOZZA. The lists hold at most
/// [`files::input::MAX_PROBLEMI`] entries; the totals count them all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EsitoBozza {
    pub richiesta_id: i64,
    pub righe: u64,
    /// (line, problem), in line order.
    pub non_valide: Vec<(u64, String)>,
    pub non_valide_totali: u64,
    pub duplicate: u64,
    /// "riga N: …" per row warning, then the file's own warnings.
    pub avvisi: Vec<String>,
}

/// Today's date in Europe/Rome by the app's clock.
pub fn oggi(stato: &StatoApp) -> NaiveDate {
    chrono_tz::Europe::Rome
        .timestamp_millis_opt(stato.adesso_ms())
        .single()
        .map(|t| t.date_naive())
        .unwrap_or_default()
}

fn controlla_dati(stato: &StatoApp, b: &NuovaBozza) -> Result<NaiveDate, ErroreWeb> {
    let motivo = b.motivo.trim();
    if motivo.is_empty() {
        return Err(ErroreWeb::NonValido(
            "Il motivo (numero di pratica o di protocollo) è obbligatorio.".into(),
        ));
    }
    if motivo.chars().count() > MAX_MOTIVO {
        return Err(ErroreWeb::NonValido(format!(
            "Il motivo può contenere al massimo {MAX_MOTIVO} caratteri."
        )));
    }
    let oggi = oggi(stato);
    let data = match b.data_riferimento.as_deref().map(str::trim) {
        None | Some("") => oggi,
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
            ErroreWeb::NonValido(format!(
                "La data di riferimento «{d}» non è valida: usare il formato AAAA-MM-GG."
            ))
        })?,
    };
    if data > oggi {
        return Err(ErroreWeb::NonValido(
            "La data di riferimento non può essere successiva a oggi.".into(),
        ));
    }
    Ok(data)
}

/// The convention, if `u` (a STANDARD) has a profile on it and it is in force today. Another
/// Ente's convention, or one without a profile, is 404 like a missing one.
async fn convenzione_del_profilo(
    stato: &StatoApp,
    u: &Utente,
    convenzione_id: i64,
) -> Result<Convenzione, ErroreWeb> {
    if u.ruolo != Ruolo::Standard.as_str() {
        return Err(ErroreWeb::Vietato(
            "Solo un operatore STANDARD può creare richieste.".into(),
        ));
    }
    if stato.store.profilo(u.id, convenzione_id).await?.is_none() {
        return Err(ErroreWeb::NonTrovato);
    }
    let conv = stato.store.convenzione(convenzione_id).await?;
    // The account acts only under its Ente's conventions with the Comune that manages it.
    if u.ente_id != Some(conv.ente_id) || u.comune_id.is_some_and(|c| c != conv.comune_id) {
        return Err(ErroreWeb::NonTrovato);
    }
    if !in_vigore(&conv, stato.adesso_ms()) {
        return Err(ErroreWeb::NonValido(
            "La convenzione non è in vigore oggi: non è possibile creare richieste.".into(),
        ));
    }
    Ok(conv)
}

pub fn in_vigore(conv: &Convenzione, ora_ms: i64) -> bool {
    ora_ms >= conv.valida_dal_ms && conv.valida_al_ms.is_none_or(|al| ora_ms < al)
}

/// What the parser found.
struct Analisi {
    non_valide: Vec<(u64, String)>,
    non_valide_totali: u64,
    duplicate: u64,
    avvisi: Vec<String>,
}

/// Runs the input parser (DESIGN §5) off the async threads (a file may be tens of
/// megabytes) while the store writes the BOZZA with its rows: returns its id and its rows.
async fn analizza_e_salva(
    stato: &StatoApp,
    nuova: &NuovaRichiesta,
    chi: &Attore,
    contenuto: Contenuto,
    riferimento: NaiveDate,
) -> Result<(i64, u64, Analisi), ErroreWeb> {
    let limiti = stato.config.limiti_input;
    let lavoro = move |consegna: &mut dyn FnMut(files::input::RigaAnalizzata)| {
        let mut a = Analisi {
            non_valide: Vec::new(),
            non_valide_totali: 0,
            duplicate: 0,
            avvisi: Vec::new(),
        };
        let opzioni = Opzioni { riferimento };
        let visita = |r: files::input::RigaAnalizzata| {
            for avviso in &r.avvisi {
                if a.avvisi.len() < MAX_PROBLEMI {
                    a.avvisi.push(format!("riga {}: {avviso}", r.riga));
                }
            }
            match &r.esito {
                EsitoRiga::NonValida(e) => {
                    a.non_valide_totali += 1;
                    if a.non_valide.len() < MAX_PROBLEMI {
                        a.non_valide.push((r.riga, e.to_string()));
                    }
                }
                EsitoRiga::Duplicata { .. } => a.duplicate += 1,
                EsitoRiga::Valida => {}
            }
            consegna(r);
        };
        let rapporto = match contenuto {
            Contenuto::Testo(t) => files::input::analizza_testo(&t, limiti, opzioni, visita)?,
            Contenuto::File(b) => files::input::analizza_ripetibile(
                std::io::Cursor::new(b),
                None,
                limiti,
                opzioni,
                visita,
            )?,
        };
        a.avvisi.extend(rapporto.avvisi_file);
        Ok::<_, RifiutoFile>(a)
    };
    let (letta, salvata) = super::analisi::salva_a_flusso(&stato.store, nuova, chi, lavoro)
        .await
        .map_err(ErroreWeb::interno)?;
    // A refused file stores nothing: the store rolled the BOZZA back.
    let a = letta.map_err(|e| ErroreWeb::NonValido(format!("File rifiutato: {e}.")))?;
    let (id, righe) = salvata?;
    Ok((id, righe, a))
}

/// Parses the input and stores a BOZZA with its rows and its snapshot (DESIGN §1): only a
/// STANDARD with a profile on the convention. A refused input stores nothing and answers
/// [`ErroreWeb::NonValido`] with the parser's Italian message.
pub async fn crea_bozza(
    stato: &StatoApp,
    u: &Utente,
    loa: &str,
    b: NuovaBozza,
) -> Result<EsitoBozza, ErroreWeb> {
    let conv = convenzione_del_profilo(stato, u, b.convenzione_id).await?;
    let data = controlla_dati(stato, &b)?;
    let istantanea = worker::Istantanea::componi(&stato.store, conv.id, u.id, loa)
        .await
        .map_err(ErroreWeb::interno)?;
    let nuova = NuovaRichiesta {
        convenzione_id: conv.id,
        utente_id: u.id,
        motivo: b.motivo.trim().to_string(),
        data_riferimento: data.format("%Y-%m-%d").to_string(),
        snapshot: istantanea.json(),
    };
    let chi = attore(stato, u).await?;
    let (id, righe, a) = analizza_e_salva(stato, &nuova, &chi, b.contenuto, data).await?;
    if !a.avvisi.is_empty()
        && let Err(e) = stato.store.salva_avvisi_bozza(id, &a.avvisi).await
    {
        // All or nothing: a draft without its preview is not kept.
        let _ = stato.store.elimina_bozza(id, &chi).await;
        return Err(e.into());
    }
    Ok(EsitoBozza {
        richiesta_id: id,
        righe,
        non_valide: a.non_valide,
        non_valide_totali: a.non_valide_totali,
        duplicate: a.duplicate,
        avvisi: a.avvisi,
    })
}

fn da_transizione(e: ErroreTransizione) -> ErroreWeb {
    match e {
        ErroreTransizione::NonAutorizzato(m) => ErroreWeb::Vietato(maiuscola(m)),
        ErroreTransizione::NonAmmessa { da, .. } => ErroreWeb::NonValido(format!(
            "Operazione non ammessa per una richiesta nello stato {da}."
        )),
        altro => ErroreWeb::NonValido(maiuscola(&altro.to_string())),
    }
}

fn maiuscola(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(p) => p.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// A state changed by someone else meanwhile (two tabs, two TOPs, the worker).
fn da_store(e: ErroreStore) -> ErroreWeb {
    match e {
        ErroreStore::StatoNonAmmesso { attuale, .. } => ErroreWeb::NonValido(format!(
            "La richiesta è cambiata nel frattempo (ora è {attuale}): ricarichi la pagina."
        )),
        altro => altro.into(),
    }
}

/// Submits a BOZZA for approval: validity and caps are checked by the batch engine's
/// submission (`worker::invio`), with its Italian messages.
pub async fn invia(stato: &StatoApp, u: &Utente, id: i64) -> Result<(), ErroreWeb> {
    let (r, conv) = con_convenzione(stato, u, id).await?;
    let chi = attore_dominio(u, &r, &conv)?;
    let audit = attore(stato, u).await?;
    match worker::invio::invia(&stato.store, id, &chi, &audit, stato.adesso_ms()).await {
        Ok(()) => Ok(()),
        Err(ErroreInvio::Transizione(e)) => Err(da_transizione(e)),
        Err(ErroreInvio::Store(e)) => Err(da_store(e)),
        Err(e @ (ErroreInvio::ConvenzioneNonValida | ErroreInvio::Limite(_))) => {
            Err(ErroreWeb::NonValido(maiuscola(&e.to_string())))
        }
        Err(e @ ErroreInvio::StatoSconosciuto(_)) => Err(ErroreWeb::interno(e)),
    }
}

/// One transition of DESIGN §2 by `u`, checked by `domain` and applied by the store with its
/// audit entry. Returns the state the request left.
async fn applica(
    stato: &StatoApp,
    u: &Utente,
    id: i64,
    azione: Azione,
    nota: Option<&str>,
) -> Result<StatoRichiesta, ErroreWeb> {
    let (r, conv) = con_convenzione(stato, u, id).await?;
    let da = StatoRichiesta::parse(&r.stato)
        .ok_or_else(|| ErroreWeb::interno(format!("stato sconosciuto {}", r.stato)))?;
    let chi = attore_dominio(u, &r, &conv)?;
    let verso = transizione(da, &azione, &chi).map_err(da_transizione)?;
    let audit = attore(stato, u).await?;
    match verso {
        EsitoTransizione::Stato(a) => stato
            .store
            .cambia_stato_richiesta(id, &[da.as_str()], a.as_str(), nota, &audit)
            .await
            .map_err(da_store)?,
        EsitoTransizione::Eliminata => stato
            .store
            .elimina_bozza(id, &audit)
            .await
            .map_err(da_store)?,
    }
    Ok(da)
}

/// Deletes a BOZZA (its submitter only).
pub async fn scarta(stato: &StatoApp, u: &Utente, id: i64) -> Result<(), ErroreWeb> {
    applica(stato, u, id, Azione::Scarta, None).await.map(drop)
}

/// IN_ATTESA_CONVALIDA → CONVALIDATA (a TOP of the Comune).
pub async fn approva(stato: &StatoApp, u: &Utente, id: i64) -> Result<(), ErroreWeb> {
    applica(stato, u, id, Azione::Approva, None).await.map(drop)
}

/// IN_ATTESA_CONVALIDA → RESPINTA with a reason (a TOP of the Comune).
pub async fn respingi(
    stato: &StatoApp,
    u: &Utente,
    id: i64,
    motivo: &str,
) -> Result<(), ErroreWeb> {
    let motivo = motivo.trim();
    if motivo.chars().count() > MAX_MOTIVO * 5 {
        return Err(ErroreWeb::NonValido(format!(
            "Il motivo del rifiuto può contenere al massimo {} caratteri.",
            MAX_MOTIVO * 5
        )));
    }
    let azione = Azione::Respingi {
        motivo: motivo.to_string(),
    };
    applica(stato, u, id, azione, Some(motivo)).await.map(drop)
}

/// Cancels a request: the submitter or a TOP while it waits; a TOP also while it runs (rows
/// already final keep their outcome, the others become NON_ELABORATO, and the partial files
/// are assembled by the worker).
pub async fn annulla(stato: &StatoApp, u: &Utente, id: i64) -> Result<(), ErroreWeb> {
    applica(stato, u, id, Azione::Annulla, None).await?;
    worker::timer::dopo_annullamento(&stato.store, id)
        .await
        .map_err(ErroreWeb::interno)
}

/// FALLITA → CONVALIDATA (a TOP of the Comune, after fixing the ANPR access): only the
/// NON_ELABORATO rows are redone.
pub async fn riprendi(stato: &StatoApp, u: &Utente, id: i64) -> Result<(), ErroreWeb> {
    applica(stato, u, id, Azione::Riprendi, None)
        .await
        .map(drop)
}

/// The progress the lists and the detail page show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Avanzamento {
    pub totali: i64,
    pub finali: i64,
    /// Expected time left while running, from the pace since processing started.
    pub eta_ms: Option<i64>,
    /// The `sospesa` reason, e.g. "quota giornaliera esaurita per C030, ripresa alle 00:00".
    pub sospesa: Option<String>,
}

/// The progress of `r`, counted (see [`crate::contatori`] for how fresh a big request's counts
/// are).
pub async fn avanzamento(stato: &StatoApp, r: &Richiesta) -> Result<Avanzamento, ErroreWeb> {
    let v = stato.contatori.voce(&stato.store, r).await?;
    avanzamento_da(stato, r, v.righe_totali, v.righe_finali).await
}

/// The progress of `r` from its counts of rows, already read (the lists and the detail page
/// read them with the request's names).
pub async fn avanzamento_da(
    stato: &StatoApp,
    r: &Richiesta,
    totali: i64,
    finali: i64,
) -> Result<Avanzamento, ErroreWeb> {
    let in_corso = r.stato == st::IN_ELABORAZIONE;
    let sospesa = if in_corso {
        r.motivo_sospensione.clone()
    } else {
        None
    };
    let eta_ms = if in_corso && sospesa.is_none() {
        // Invalid rows are final from the start: they say nothing about the pace.
        let iniziali = stato.contatori.non_valide(&stato.store, r, totali).await?;
        stima_eta(totali, finali, iniziali, r.aggiornata_ms, stato.adesso_ms())
    } else {
        None
    };
    Ok(Avanzamento {
        totali,
        finali,
        eta_ms,
        sospesa,
    })
}

/// Time left at the pace seen since `dal_ms` (when processing started or last resumed);
/// `None` until a row is done.
fn stima_eta(totali: i64, finali: i64, iniziali: i64, dal_ms: i64, ora_ms: i64) -> Option<i64> {
    let fatte = finali - iniziali;
    let trascorsi = ora_ms - dal_ms;
    if fatte <= 0 || trascorsi <= 0 || finali >= totali {
        return None;
    }
    let restanti = i128::from(totali - finali);
    i64::try_from(i128::from(trascorsi) * restanti / i128::from(fatte)).ok()
}

/// The result files' metadata, for whoever may see the request (monitors included).
pub async fn file_visibili(
    stato: &StatoApp,
    u: &Utente,
    id: i64,
) -> Result<Vec<FileRisposta>, ErroreWeb> {
    richiesta_visibile(stato, u, id).await?;
    Ok(stato.store.file_risposta(id).await?)
}

/// Whether `u` may download the request's files: only its submitter (DESIGN §2: monitors see
/// the metadata only).
pub fn puo_scaricare(u: &Utente, r: &Richiesta) -> bool {
    r.utente_id == u.id
}

/// A result file, decrypted, with its server-made name. Only the submitter; the SHA-256 is
/// checked against the one recorded when it was written, and the download is audited.
pub async fn scarica(
    stato: &StatoApp,
    u: &Utente,
    id_richiesta: i64,
    id_file: i64,
) -> Result<(String, Vec<u8>), ErroreWeb> {
    let (r, conv) = con_convenzione(stato, u, id_richiesta).await?;
    let f = stato
        .store
        .file_risposta(id_richiesta)
        .await?
        .into_iter()
        .find(|f| f.id == id_file)
        .ok_or(ErroreWeb::NonTrovato)?;
    if !puo_scaricare(u, &r) {
        return Err(ErroreWeb::Vietato(
            "Solo chi ha inviato la richiesta può scaricarne i file di risposta.".into(),
        ));
    }
    if f.eliminato_ms.is_some() {
        return Err(ErroreWeb::NonValido(
            "Il file è stato eliminato al termine del periodo di conservazione.".into(),
        ));
    }
    let contenuto = decifra(stato, &f).await?;
    let chi = attore(stato, u).await?;
    let audit = Audit::nuovo(
        &chi,
        format!("richiesta:{id_richiesta}"),
        "FILE_RISPOSTA_SCARICATO",
    )
    .con_comune(Some(stato.store.comune(conv.comune_id).await?.codice_istat))
    .con_ente(Some(stato.store.ente(conv.ente_id).await?.codice))
    .con_dettagli(serde_json::json!({"file": f.nome, "sha256": f.sha256}));
    stato.store.appendi_audit(&audit).await?;
    Ok((nome_sicuro(&f.nome), contenuto))
}

async fn decifra(stato: &StatoApp, f: &FileRisposta) -> Result<Vec<u8>, ErroreWeb> {
    let identita = worker::identita_file_tutte(&stato.store, &stato.chiave)
        .await
        .map_err(ErroreWeb::interno)?;
    let percorso = std::path::PathBuf::from(&f.percorso);
    let (contenuto, sha) = tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        worker::cifratura::decifra_con(&percorso, &identita, &mut out).map(|(_, sha)| (out, sha))
    })
    .await
    .map_err(ErroreWeb::interno)?
    .map_err(ErroreWeb::interno)?;
    // Both the decryptor's hash and ours must match the record: an altered file is never served.
    let nostro = hex::encode(Sha256::digest(&contenuto));
    if !sha.eq_ignore_ascii_case(&f.sha256) || nostro != f.sha256.to_ascii_lowercase() {
        return Err(ErroreWeb::interno(format!(
            "file di risposta {} alterato: SHA-256 diverso da quello registrato",
            f.id
        )));
    }
    Ok(contenuto)
}

/// The file name for `Content-Disposition`: only characters that need no quoting.
pub fn nome_sicuro(nome: &str) -> String {
    let n: String = nome
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if n.is_empty() || n.starts_with('.') {
        format!("file{n}")
    } else {
        n
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn eta_dal_ritmo() {
        // 100 rows, 10 invalid from the start, 30 more done in 60 s: 60 left take 120 s.
        assert_eq!(stima_eta(100, 40, 10, 0, 60_000), Some(120_000));
        assert_eq!(stima_eta(100, 10, 10, 0, 60_000), None, "nothing done yet");
        assert_eq!(stima_eta(100, 100, 0, 0, 60_000), None, "finished");
        assert_eq!(stima_eta(100, 40, 10, 60_000, 0), None, "clock behind");
    }

    #[test]
    fn nomi_di_file() {
        assert_eq!(
            nome_sicuro("richiesta-7-parte-001.csv"),
            "richiesta-7-parte-001.csv"
        );
        assert_eq!(nome_sicuro("a\"b;c\r\n.csv"), "a_b_c__.csv");
        assert_eq!(nome_sicuro(".htaccess"), "file.htaccess");
        assert_eq!(nome_sicuro(""), "file");
    }
}
