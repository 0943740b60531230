//! `/api/v1`: submit a request (a file, or JSON rows), follow it, list and download its files,
//! cancel it, and, for a TOP, approve or reject it. Every handler calls the operation the pages
//! call (`crate::richieste::operazioni`), so rights and tenancy are the same.

use super::errore::{CorpoErrore, ErroreApi};
use super::token::UtenteApi;
use crate::ids::Tipo;
use crate::richieste::operazioni::{self as op, Contenuto, EsitoBozza, NuovaBozza};
use crate::stato::StatoApp;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRequest as _, Multipart, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing};
use serde::{Deserialize, Serialize};
use store::richieste::Richiesta;
use utoipa::ToSchema;

/// Room for the multipart framing and the small fields around the file.
const MARGINE_MULTIPART: u64 = 64 * 1024;

pub fn rotte() -> Router<StatoApp> {
    Router::new()
        // Uploads are bounded by the configured input limit, checked while reading (see
        // `leggi_corpo`), not by axum's fixed default.
        .route(
            "/api/v1/richieste",
            routing::post(crea).layer(DefaultBodyLimit::disable()),
        )
        .route("/api/v1/richieste/{id}", routing::get(dettaglio))
        .route("/api/v1/richieste/{id}/file", routing::get(elenco_file))
        .route("/api/v1/richieste/{id}/file/{fid}", routing::get(scarica))
        .route("/api/v1/richieste/{id}/annulla", routing::post(annulla))
        .route("/api/v1/richieste/{id}/approva", routing::post(approva))
        .route("/api/v1/richieste/{id}/respingi", routing::post(respingi))
        .route("/api/v1/convenzioni", routing::get(convenzioni))
        // Any other API path answers in JSON too, never with the HTML error page.
        .route("/api/{*resto}", routing::any(non_trovato))
}

async fn non_trovato() -> ErroreApi {
    ErroreApi::NonTrovato
}

/// An instant as the API gives it: RFC 3339 in UTC.
pub fn istante(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Bodies and answers. Their doc comments are the descriptions of the OpenAPI document, which
// the offices' developers read: unlike the rest of the code, they are written in Italian.

/// Una richiesta data come righe JSON: le righe passano per lo stesso controllo di un file.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NuovaRichiestaJson {
    /// L'id opaco della convenzione (da `GET /api/v1/convenzioni`).
    pub convenzione: String,
    /// Numero di pratica o di protocollo (obbligatorio).
    pub motivo: String,
    /// Data di riferimento `AAAA-MM-GG`; se manca, oggi (ora di Roma).
    #[serde(default)]
    #[schema(format = Date)]
    pub data_riferimento: Option<String>,
    pub righe: Vec<RigaJson>,
}

/// Un soggetto, con le colonne del tracciato di input.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RigaJson {
    /// `CF`, `IDANPR`, `CI`, `PDS` o `PASS` (e gli alias del tracciato di input).
    pub tipo: String,
    pub identificativo: String,
    /// Il riferimento dell'ufficio, riportato nel file di risposta (al massimo 64 caratteri).
    #[serde(default)]
    pub riferimento: Option<String>,
    /// Per `PDS` la questura di rilascio (obbligatoria); per `CI`, facoltativo, il Comune di
    /// rilascio.
    #[serde(default)]
    pub rilascio: Option<String>,
    /// Sostituisce il motivo della richiesta per questa riga.
    #[serde(default)]
    pub motivo: Option<String>,
}

/// Il modulo `multipart/form-data` dell'invio di un file.
#[derive(ToSchema)]
#[allow(dead_code)] // Describes the form in the OpenAPI document; the handler reads the parts.
pub struct NuovaRichiestaFile {
    /// CSV o XLSX con il tracciato di input; il tipo è riconosciuto dal contenuto.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// L'id opaco della convenzione.
    convenzione: String,
    /// Numero di pratica o di protocollo (obbligatorio).
    motivo: String,
    /// `AAAA-MM-GG`; se manca, oggi.
    #[schema(format = Date)]
    data_riferimento: Option<String>,
}

/// Il contenuto di un file di risposta.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)] // Only describes the download in the OpenAPI document.
pub struct ContenutoFile(Vec<u8>);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorpoRespingi {
    /// Il motivo del rifiuto, che chi ha inviato la richiesta leggerà (obbligatorio).
    pub motivo: String,
}

/// Gli stati di una richiesta.
#[derive(ToSchema)]
#[schema(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(dead_code)] // Only describes the `stato` fields in the OpenAPI document.
pub enum StatoRichiesta {
    /// Creata nelle pagine e non ancora inviata.
    Bozza,
    InAttesaConvalida,
    Convalidata,
    InElaborazione,
    Completata,
    Respinta,
    Annullata,
    Fallita,
}

/// Una richiesta appena inviata.
#[derive(Debug, Serialize, ToSchema)]
pub struct RichiestaCreata {
    /// L'id opaco della richiesta.
    pub id: String,
    /// Lo stato dopo l'invio: `IN_ATTESA_CONVALIDA`, o successivo se la convalida è immediata.
    #[schema(value_type = StatoRichiesta)]
    pub stato: String,
    pub righe: ConteggioRighe,
    /// Le righe non valide (al massimo 1000 elencate; `righe.non_valide` le conta tutte).
    /// Restano nella richiesta con esito `NON_VALIDO` e non sono mai inviate ad ANPR.
    pub righe_non_valide: Vec<RigaNonValida>,
    /// Avvertenze che non fermano la richiesta ("riga N: …").
    pub avvisi: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConteggioRighe {
    pub totali: u64,
    pub non_valide: u64,
    /// Righe che ripetono una riga precedente: consultate una volta sola.
    pub duplicate: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RigaNonValida {
    /// Righe JSON: la posizione in `righe`, da 1. File: la riga del file, intestazione
    /// compresa.
    pub riga: u64,
    pub problema: String,
}

/// Stato e avanzamento di una richiesta.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatoRichiestaApi {
    pub id: String,
    #[schema(value_type = StatoRichiesta)]
    pub stato: String,
    /// Vero quando lo stato non cambierà più da solo (`COMPLETATA`, `RESPINTA`, `ANNULLATA`,
    /// `FALLITA`); una richiesta FALLITA può ancora essere ripresa da un TOP.
    pub finale: bool,
    /// L'id opaco della convenzione.
    pub convenzione: String,
    pub motivo: String,
    #[schema(format = Date)]
    pub data_riferimento: String,
    #[schema(format = DateTime)]
    pub creata: String,
    #[schema(format = DateTime)]
    pub inviata: Option<String>,
    pub avanzamento: AvanzamentoApi,
    /// Presente mentre l'elaborazione attende la quota giornaliera di un servizio ANPR.
    pub sospesa: Option<Sospensione>,
    /// Il motivo del rifiuto, del fallimento o dell'annullamento.
    pub nota: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AvanzamentoApi {
    pub totali: i64,
    /// Righe con un esito definitivo.
    pub finali: i64,
    /// Secondi che mancano, stimati dal ritmo finora, durante l'elaborazione.
    pub eta_secondi: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Sospensione {
    pub motivo: Option<String>,
    /// Quando l'elaborazione riprende.
    #[schema(format = DateTime)]
    pub fino_a: Option<String>,
}

/// I dati di un file di risposta.
#[derive(Debug, Serialize, ToSchema)]
pub struct FileApi {
    pub id: String,
    /// Il nome dato dal server, ad esempio `richiesta-7-parte-001.csv`.
    pub nome: String,
    pub righe: i64,
    /// Dimensione in byte.
    pub dimensione: i64,
    /// SHA-256 del contenuto, esadecimale minuscolo.
    pub sha256: String,
    /// Vero per i file di una richiesta annullata o fallita (le righe fatte fino ad allora).
    pub parziale: bool,
    #[schema(format = DateTime)]
    pub creato: String,
    /// Falso dopo il periodo di conservazione: il file non c'è più.
    pub disponibile: bool,
}

/// Una convenzione sotto cui l'utente può inviare richieste.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConvenzioneApi {
    /// L'id opaco da indicare nell'invio.
    pub id: String,
    pub nome: String,
    /// Il Comune della convenzione.
    pub comune: String,
    /// L'Ente dell'utente.
    pub ente: String,
}

// ---------------------------------------------------------------------------------------------
// Submission

/// The body read whole, up to `massimo` bytes: a JSON body or a multipart upload never takes
/// more memory than the configured input limit allows.
async fn leggi_corpo(corpo: Body, massimo: u64) -> Result<axum::body::Bytes, ErroreApi> {
    let limite = usize::try_from(massimo).unwrap_or(usize::MAX);
    axum::body::to_bytes(corpo, limite).await.map_err(|_| {
        ErroreApi::non_valido(format!(
            "Corpo della richiesta troppo grande: al massimo {} byte.",
            massimo
        ))
    })
}

fn convenzione_id(stato: &StatoApp, id: &str) -> Result<i64, ErroreApi> {
    stato
        .ids
        .decodifica(Tipo::Convenzione, id.trim())
        .ok_or(ErroreApi::NonTrovato)
}

#[utoipa::path(
    post,
    path = "/api/v1/richieste",
    operation_id = "inviaRichiesta",
    tag = "richieste",
    summary = "Invia una richiesta",
    description = "Crea la richiesta da righe JSON o da un file (CSV o XLSX, tracciato di input) \
        e la invia alla convalida in una sola chiamata. Un file rifiutato per intero non lascia \
        nulla. Solo per utenti STANDARD con un profilo sulla convenzione.",
    request_body(
        description = "Righe JSON, oppure un file in `multipart/form-data`.",
        content(
            (NuovaRichiestaJson = "application/json"),
            (NuovaRichiestaFile = "multipart/form-data"),
        )
    ),
    responses(
        (status = 201, description = "Richiesta creata e inviata.", body = RichiestaCreata,
            headers(("Location" = String, description = "L'indirizzo della richiesta."))),
        (status = 400, description = "Dati o file non validi: non è stato salvato nulla.", body = CorpoErrore),
        (status = 401, description = "Token mancante, non valido o revocato.", body = CorpoErrore),
        (status = 403, description = "Operazione non consentita al ruolo.", body = CorpoErrore),
        (status = 404, description = "Convenzione inesistente o fuori ambito.", body = CorpoErrore),
    ),
    security(("token" = []))
)]
pub async fn crea(
    State(stato): State<StatoApp>,
    u: UtenteApi,
    req: Request,
) -> Result<Response, ErroreApi> {
    let tipo = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let massimo = stato.config.limiti_input.max_byte;
    let (bozza, da_json) = if tipo.starts_with("multipart/form-data") {
        (bozza_da_multipart(&stato, req, massimo).await?, false)
    } else if tipo.starts_with("application/json") {
        let corpo = leggi_corpo(req.into_body(), massimo.saturating_mul(2)).await?;
        (bozza_da_json(&stato, &corpo)?, true)
    } else {
        return Err(ErroreApi::non_valido(
            "Tipo di contenuto non supportato: usare application/json (righe) oppure \
             multipart/form-data (file).",
        ));
    };
    let esito = op::crea_bozza(&stato, &u.utente, &u.loa, bozza).await?;
    let id = esito.richiesta_id;
    if let Err(e) = op::invia(&stato, &u.utente, id).await {
        // All or nothing: a request that cannot be submitted is not left behind as a draft.
        if let Err(e2) = op::scarta(&stato, &u.utente, id).await {
            tracing::error!(errore = %e2, richiesta = id, "bozza API non eliminata");
        }
        return Err(e.into());
    }
    let r = op::richiesta_visibile(&stato, &u.utente, id).await?;
    let pubblico = stato.ids.codifica(Tipo::Richiesta, id);
    let corpo = risposta_creata(pubblico.clone(), r.stato, esito, da_json);
    let posizione = format!("/api/v1/richieste/{pubblico}");
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, posizione)],
        [(header::CACHE_CONTROL, "no-store")],
        Json(corpo),
    )
        .into_response())
}

fn risposta_creata(id: String, stato: String, e: EsitoBozza, da_json: bool) -> RichiestaCreata {
    // JSON rows are written after a header line: line N is row N-1 of the array.
    let riga = |n: u64| if da_json { n.saturating_sub(1) } else { n };
    RichiestaCreata {
        id,
        stato,
        righe: ConteggioRighe {
            totali: e.righe,
            non_valide: e.non_valide_totali,
            duplicate: e.duplicate,
        },
        righe_non_valide: e
            .non_valide
            .into_iter()
            .map(|(n, problema)| RigaNonValida {
                riga: riga(n),
                problema,
            })
            .collect(),
        avvisi: e
            .avvisi
            .into_iter()
            .map(|a| if da_json { rinumera(&a) } else { a })
            .collect(),
    }
}

/// "riga N: …" of the CSV made from JSON rows becomes "riga N-1: …" (the array position).
fn rinumera(avviso: &str) -> String {
    let Some(resto) = avviso.strip_prefix("riga ") else {
        return avviso.to_string();
    };
    match resto.split_once(':') {
        Some((n, testo)) => match n.parse::<u64>() {
            Ok(n) => format!("riga {}:{testo}", n.saturating_sub(1)),
            Err(_) => avviso.to_string(),
        },
        None => avviso.to_string(),
    }
}

fn bozza_da_json(stato: &StatoApp, corpo: &[u8]) -> Result<NuovaBozza, ErroreApi> {
    let n: NuovaRichiestaJson =
        serde_json::from_slice(corpo).map_err(|e| ErroreApi::NonValido {
            messaggio: "Corpo JSON non valido.".into(),
            dettagli: vec![e.to_string()],
        })?;
    Ok(NuovaBozza {
        convenzione_id: convenzione_id(stato, &n.convenzione)?,
        motivo: n.motivo,
        data_riferimento: n.data_riferimento,
        contenuto: Contenuto::Testo(csv_da_righe(&n.righe)?),
    })
}

/// The JSON rows as a `;` CSV with a header, every field quoted (a `"` doubled), so the rows
/// reach the same parser as a file. Line breaks and NUL cannot be carried by one CSV line: they
/// are refused, naming the rows.
pub fn csv_da_righe(righe: &[RigaJson]) -> Result<String, ErroreApi> {
    let mut problemi = Vec::new();
    let mut testo = String::from("tipo;identificativo;riferimento;rilascio;motivo\r\n");
    for (i, r) in righe.iter().enumerate() {
        let campi = [
            Some(r.tipo.as_str()),
            Some(r.identificativo.as_str()),
            r.riferimento.as_deref(),
            r.rilascio.as_deref(),
            r.motivo.as_deref(),
        ];
        if campi
            .iter()
            .flatten()
            .any(|c| c.contains(['\r', '\n', '\0']))
        {
            problemi.push(format!(
                "riga {}: un campo contiene un a capo o un carattere nullo",
                i + 1
            ));
            continue;
        }
        let linea: Vec<String> = campi
            .iter()
            .map(|c| format!("\"{}\"", c.unwrap_or_default().replace('"', "\"\"")))
            .collect();
        testo.push_str(&linea.join(";"));
        testo.push_str("\r\n");
    }
    if problemi.is_empty() {
        Ok(testo)
    } else {
        Err(ErroreApi::NonValido {
            messaggio: "Righe non valide: nessuna richiesta è stata creata.".into(),
            dettagli: problemi,
        })
    }
}

/// Reads the multipart parts, keeping at most the configured input size of file.
async fn bozza_da_multipart(
    stato: &StatoApp,
    req: Request,
    massimo: u64,
) -> Result<NuovaBozza, ErroreApi> {
    let mut parti = Multipart::from_request(req, stato)
        .await
        .map_err(|e| ErroreApi::non_valido(format!("Modulo multipart non valido: {e}")))?;
    let (mut file, mut convenzione, mut motivo, mut data) = (None, None, None, None);
    let mut letti: u64 = 0;
    while let Some(mut parte) = parti.next_field().await.map_err(errore_multipart)? {
        let nome = parte.name().unwrap_or_default().to_string();
        let mut byte = Vec::new();
        while let Some(pezzo) = parte.chunk().await.map_err(errore_multipart)? {
            letti += pezzo.len() as u64;
            if letti > massimo + MARGINE_MULTIPART {
                return Err(ErroreApi::non_valido(format!(
                    "File rifiutato: supera la dimensione massima di {massimo} byte."
                )));
            }
            byte.extend_from_slice(&pezzo);
        }
        let testo = || String::from_utf8_lossy(&byte).trim().to_string();
        match nome.as_str() {
            "file" => file = Some(byte),
            "convenzione" => convenzione = Some(testo()),
            "motivo" => motivo = Some(testo()),
            "data_riferimento" => data = Some(testo()),
            // The web form's CSRF field and anything unknown are ignored.
            _ => {}
        }
    }
    let file = file.ok_or_else(|| ErroreApi::non_valido("Manca la parte «file»."))?;
    let convenzione =
        convenzione.ok_or_else(|| ErroreApi::non_valido("Manca la parte «convenzione»."))?;
    Ok(NuovaBozza {
        convenzione_id: convenzione_id(stato, &convenzione)?,
        motivo: motivo.unwrap_or_default(),
        data_riferimento: data,
        contenuto: Contenuto::File(file),
    })
}

fn errore_multipart(e: axum::extract::multipart::MultipartError) -> ErroreApi {
    ErroreApi::non_valido(format!("Modulo multipart non valido: {}", e.body_text()))
}

// ---------------------------------------------------------------------------------------------
// Reading and actions

fn richiesta_id(stato: &StatoApp, id: &str) -> Result<i64, ErroreApi> {
    let id = stato
        .ids
        .decodifica(Tipo::Richiesta, id)
        .ok_or(ErroreApi::NonTrovato)?;
    crate::traccia::registra_richiesta(id);
    Ok(id)
}

fn finale(stato: &str) -> bool {
    use store::richieste::stato as st;
    matches!(
        stato,
        st::COMPLETATA | st::RESPINTA | st::ANNULLATA | st::FALLITA
    )
}

async fn stato_di(stato: &StatoApp, r: Richiesta) -> Result<StatoRichiestaApi, ErroreApi> {
    let a = op::avanzamento(stato, &r).await?;
    let sospesa = a.sospesa.clone().map(|motivo| Sospensione {
        motivo: Some(motivo),
        fino_a: r.sospesa_fino_a_ms.map(istante),
    });
    Ok(StatoRichiestaApi {
        id: stato.ids.codifica(Tipo::Richiesta, r.id),
        finale: finale(&r.stato),
        stato: r.stato,
        convenzione: stato.ids.codifica(Tipo::Convenzione, r.convenzione_id),
        motivo: r.motivo,
        data_riferimento: r.data_riferimento,
        creata: istante(r.creata_ms),
        inviata: r.inviata_ms.map(istante),
        avanzamento: AvanzamentoApi {
            totali: a.totali,
            finali: a.finali,
            eta_secondi: a.eta_ms.map(|ms| (ms + 999) / 1000),
        },
        sospesa,
        nota: r.nota_stato,
    })
}

async fn risposta_stato(stato: &StatoApp, u: &UtenteApi, id: i64) -> Result<Response, ErroreApi> {
    let r = op::richiesta_visibile(stato, &u.utente, id).await?;
    let corpo = stato_di(stato, r).await?;
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(corpo)).into_response())
}

#[utoipa::path(
    get,
    path = "/api/v1/richieste/{id}",
    operation_id = "statoRichiesta",
    tag = "richieste",
    summary = "Stato e avanzamento di una richiesta",
    params(("id" = String, Path, description = "L'id opaco della richiesta.")),
    responses(
        (status = 200, description = "Stato della richiesta.", body = StatoRichiestaApi),
        (status = 401, description = "Token mancante, non valido o revocato.", body = CorpoErrore),
        (status = 404, description = "Richiesta inesistente o fuori ambito.", body = CorpoErrore),
    ),
    security(("token" = []))
)]
pub async fn dettaglio(
    State(stato): State<StatoApp>,
    u: UtenteApi,
    Path(id): Path<String>,
) -> Result<Response, ErroreApi> {
    let id = richiesta_id(&stato, &id)?;
    risposta_stato(&stato, &u, id).await
}

#[utoipa::path(
    get,
    path = "/api/v1/richieste/{id}/file",
    operation_id = "elencoFile",
    tag = "richieste",
    summary = "File di risposta di una richiesta",
    params(("id" = String, Path, description = "L'id opaco della richiesta.")),
    responses(
        (status = 200, description = "I file di risposta (vuoto finché non sono pronti).", body = Vec<FileApi>),
        (status = 401, description = "Token mancante, non valido o revocato.", body = CorpoErrore),
        (status = 404, description = "Richiesta inesistente o fuori ambito.", body = CorpoErrore),
    ),
    security(("token" = []))
)]
pub async fn elenco_file(
    State(stato): State<StatoApp>,
    u: UtenteApi,
    Path(id): Path<String>,
) -> Result<Response, ErroreApi> {
    let id = richiesta_id(&stato, &id)?;
    let file: Vec<FileApi> = op::file_visibili(&stato, &u.utente, id)
        .await?
        .into_iter()
        .map(|f| FileApi {
            id: stato.ids.codifica(Tipo::FileRisposta, f.id),
            nome: op::nome_sicuro(&f.nome),
            righe: f.righe,
            dimensione: f.dimensione,
            sha256: f.sha256,
            parziale: f.parziale,
            creato: istante(f.creato_ms),
            disponibile: f.eliminato_ms.is_none(),
        })
        .collect();
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(file)).into_response())
}

fn tipo_contenuto(nome: &str) -> &'static str {
    let minuscolo = nome.to_ascii_lowercase();
    if minuscolo.ends_with(".csv") {
        "text/csv"
    } else if minuscolo.ends_with(".xlsx") {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    } else if minuscolo.ends_with(".jsonl") {
        "application/jsonl"
    } else {
        "application/octet-stream"
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/richieste/{id}/file/{fid}",
    operation_id = "scaricaFile",
    tag = "richieste",
    summary = "Scarica un file di risposta",
    description = "Solo chi ha inviato la richiesta. Il nome del file è nell'intestazione \
        Content-Disposition.",
    params(
        ("id" = String, Path, description = "L'id opaco della richiesta."),
        ("fid" = String, Path, description = "L'id opaco del file."),
    ),
    responses(
        (status = 200, description = "Il contenuto del file.", content(
            (ContenutoFile = "text/csv"),
            (ContenutoFile = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (ContenutoFile = "application/jsonl"),
        ), headers(
            ("Content-Disposition" = String, description = "`attachment; filename=\"…\"` con il nome dato dal server."),
        )),
        (status = 400, description = "File eliminato al termine della conservazione.", body = CorpoErrore),
        (status = 401, description = "Token mancante, non valido o revocato.", body = CorpoErrore),
        (status = 403, description = "Solo chi ha inviato la richiesta può scaricarne i file.", body = CorpoErrore),
        (status = 404, description = "Richiesta o file inesistente o fuori ambito.", body = CorpoErrore),
    ),
    security(("token" = []))
)]
pub async fn scarica(
    State(stato): State<StatoApp>,
    u: UtenteApi,
    Path((id, fid)): Path<(String, String)>,
) -> Result<Response, ErroreApi> {
    let id = richiesta_id(&stato, &id)?;
    let fid = stato
        .ids
        .decodifica(Tipo::FileRisposta, &fid)
        .ok_or(ErroreApi::NonTrovato)?;
    let (nome, contenuto) = op::scarica(&stato, &u.utente, id, fid).await?;
    let disposizione = format!("attachment; filename=\"{}\"", op::nome_sicuro(&nome));
    Ok((
        [
            (header::CONTENT_TYPE, tipo_contenuto(&nome).to_string()),
            (header::CONTENT_DISPOSITION, disposizione),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        contenuto,
    )
        .into_response())
}

#[utoipa::path(
    post,
    path = "/api/v1/richieste/{id}/annulla",
    operation_id = "annullaRichiesta",
    tag = "richieste",
    summary = "Annulla una richiesta",
    description = "Chi l'ha inviata o un TOP finché attende la convalida; un TOP anche durante \
        l'elaborazione.",
    params(("id" = String, Path, description = "L'id opaco della richiesta.")),
    responses(
        (status = 200, description = "Richiesta annullata.", body = StatoRichiestaApi),
        (status = 400, description = "Non ammesso nello stato attuale.", body = CorpoErrore),
        (status = 401, description = "Token mancante, non valido o revocato.", body = CorpoErrore),
        (status = 403, description = "Operazione non consentita.", body = CorpoErrore),
        (status = 404, description = "Richiesta inesistente o fuori ambito.", body = CorpoErrore),
    ),
    security(("token" = []))
)]
pub async fn annulla(
    State(stato): State<StatoApp>,
    u: UtenteApi,
    Path(id): Path<String>,
) -> Result<Response, ErroreApi> {
    let id = richiesta_id(&stato, &id)?;
    op::annulla(&stato, &u.utente, id).await?;
    risposta_stato(&stato, &u, id).await
}

#[utoipa::path(
    post,
    path = "/api/v1/richieste/{id}/approva",
    operation_id = "approvaRichiesta",
    tag = "convalida",
    summary = "Approva una richiesta (TOP)",
    params(("id" = String, Path, description = "L'id opaco della richiesta.")),
    responses(
        (status = 200, description = "Richiesta convalidata.", body = StatoRichiestaApi),
        (status = 400, description = "Non ammesso nello stato attuale.", body = CorpoErrore),
        (status = 401, description = "Token mancante, non valido o revocato.", body = CorpoErrore),
        (status = 403, description = "Solo un TOP del Comune.", body = CorpoErrore),
        (status = 404, description = "Richiesta inesistente o fuori ambito.", body = CorpoErrore),
    ),
    security(("token" = []))
)]
pub async fn approva(
    State(stato): State<StatoApp>,
    u: UtenteApi,
    Path(id): Path<String>,
) -> Result<Response, ErroreApi> {
    let id = richiesta_id(&stato, &id)?;
    op::approva(&stato, &u.utente, id).await?;
    risposta_stato(&stato, &u, id).await
}

#[utoipa::path(
    post,
    path = "/api/v1/richieste/{id}/respingi",
    operation_id = "respingiRichiesta",
    tag = "convalida",
    summary = "Respinge una richiesta (TOP)",
    params(("id" = String, Path, description = "L'id opaco della richiesta.")),
    request_body(content = CorpoRespingi, content_type = "application/json"),
    responses(
        (status = 200, description = "Richiesta respinta.", body = StatoRichiestaApi),
        (status = 400, description = "Motivo mancante o non ammesso nello stato attuale.", body = CorpoErrore),
        (status = 401, description = "Token mancante, non valido o revocato.", body = CorpoErrore),
        (status = 403, description = "Solo un TOP del Comune.", body = CorpoErrore),
        (status = 404, description = "Richiesta inesistente o fuori ambito.", body = CorpoErrore),
    ),
    security(("token" = []))
)]
pub async fn respingi(
    State(stato): State<StatoApp>,
    u: UtenteApi,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, ErroreApi> {
    let id = richiesta_id(&stato, &id)?;
    let corpo = leggi_corpo(req.into_body(), 64 * 1024).await?;
    let c: CorpoRespingi = serde_json::from_slice(&corpo).map_err(|e| ErroreApi::NonValido {
        messaggio: "Corpo JSON non valido: atteso {\"motivo\": \"...\"}.".into(),
        dettagli: vec![e.to_string()],
    })?;
    if c.motivo.trim().is_empty() {
        return Err(ErroreApi::non_valido(
            "Il motivo del rifiuto è obbligatorio.",
        ));
    }
    op::respingi(&stato, &u.utente, id, &c.motivo).await?;
    risposta_stato(&stato, &u, id).await
}

#[utoipa::path(
    get,
    path = "/api/v1/convenzioni",
    operation_id = "elencoConvenzioni",
    tag = "richieste",
    summary = "Convenzioni utilizzabili",
    description = "Le convenzioni in vigore sotto cui l'utente può inviare richieste (quelle su \
        cui ha un profilo), con il loro id opaco. Vuoto per TOP e ADMIN.",
    responses(
        (status = 200, description = "Le convenzioni.", body = Vec<ConvenzioneApi>),
        (status = 401, description = "Token mancante, non valido o revocato.", body = CorpoErrore),
    ),
    security(("token" = []))
)]
pub async fn convenzioni(
    State(stato): State<StatoApp>,
    u: UtenteApi,
) -> Result<Response, ErroreApi> {
    let mut elenco = Vec::new();
    if let (Some(ente_id), "STANDARD") = (u.utente.ente_id, u.utente.ruolo.as_str()) {
        let ente = stato.store.ente(ente_id).await?;
        let ora = stato.adesso_ms();
        for c in stato.store.convenzioni(ente_id, true).await? {
            if !op::in_vigore(&c, ora) || stato.store.profilo(u.utente.id, c.id).await?.is_none() {
                continue;
            }
            elenco.push(ConvenzioneApi {
                id: stato.ids.codifica(Tipo::Convenzione, c.id),
                nome: c.nome,
                comune: stato.store.comune(c.comune_id).await?.nome,
                ente: ente.nome.clone(),
            });
        }
    }
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(elenco)).into_response())
}

#[cfg(test)]
mod test {
    use super::*;

    fn riga(tipo: &str, id: &str) -> RigaJson {
        RigaJson {
            tipo: tipo.into(),
            identificativo: id.into(),
            riferimento: None,
            rilascio: None,
            motivo: None,
        }
    }

    #[test]
    fn righe_json_in_csv() {
        let mut r = riga("CF", "RSSMRA85T10A562S");
        r.riferimento = Some("pratica \"7\"; seconda".into());
        let testo = csv_da_righe(&[r, riga("PDS", "X1")]).unwrap();
        assert_eq!(
            testo,
            "tipo;identificativo;riferimento;rilascio;motivo\r\n\
             \"CF\";\"RSSMRA85T10A562S\";\"pratica \"\"7\"\"; seconda\";\"\";\"\"\r\n\
             \"PDS\";\"X1\";\"\";\"\";\"\"\r\n"
        );
        // The same parser as files reads them back, one line per row.
        let mut visti = Vec::new();
        files::input::analizza_testo(
            &testo,
            files::input::Limiti::default(),
            files::input::Opzioni::oggi(),
            |r| visti.push((r.riga, r.riferimento.clone())),
        )
        .unwrap();
        assert_eq!(visti[0], (2, Some("pratica \"7\"; seconda".into())));
        assert_eq!(visti[1].0, 3);
    }

    #[test]
    fn a_capo_rifiutati() {
        let mut r = riga("CF", "RSSMRA85T10A562S");
        r.motivo = Some("uno\ndue".into());
        let e = csv_da_righe(&[riga("CF", "A"), r]).unwrap_err();
        match e {
            ErroreApi::NonValido { dettagli, .. } => assert_eq!(
                dettagli,
                ["riga 2: un campo contiene un a capo o un carattere nullo"]
            ),
            altro => panic!("{altro:?}"),
        }
    }

    #[test]
    fn avvisi_rinumerati() {
        assert_eq!(rinumera("riga 3: CF sospetto"), "riga 2: CF sospetto");
        assert_eq!(rinumera("colonna ignorata"), "colonna ignorata");
        assert_eq!(rinumera("riga x: y"), "riga x: y");
    }

    #[test]
    fn istanti_rfc3339() {
        assert_eq!(istante(1_772_445_600_000), "2026-03-02T10:00:00Z");
    }
}
