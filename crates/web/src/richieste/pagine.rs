//! The STANDARD's pages: a new request (manual entry or upload), "Le mie richieste" with its
//! polled fragment, and the detail page with the preview, the actions and the downloads.

use super::operazioni::{self as op, Contenuto, NuovaBozza};
use super::vista::{self, VoceVista};
use crate::ErroreWeb;
use crate::ids::Tipo;
use crate::pagina::{Pagina, html};
use crate::sessione::UtenteConnesso;
use crate::stato::StatoApp;
use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use store::anagrafiche::Utente;
use store::elenchi::{AmbitoElenco, FiltroRichieste};

/// Rows shown in "Le mie richieste".
const LIMITE_ELENCO: i64 = 100;
/// Text fields other than the manual-entry box.
const MAX_CAMPO: usize = 4_096;

/// The `?avviso=` code of a redirect after a POST (see [`vista::avviso`]).
#[derive(Debug, Deserialize)]
pub struct QueryAvviso {
    pub avviso: Option<String>,
}

pub fn id_richiesta(stato: &StatoApp, pubblico: &str) -> Result<i64, ErroreWeb> {
    let id = stato
        .ids
        .decodifica(Tipo::Richiesta, pubblico)
        .ok_or(ErroreWeb::NonTrovato)?;
    crate::traccia::registra_richiesta(id);
    Ok(id)
}

pub async fn pagina_con_avviso(stato: &StatoApp, u: &UtenteConnesso, q: &QueryAvviso) -> Pagina {
    let p = Pagina::per(stato, u).await;
    match vista::avviso(q.avviso.as_deref()) {
        Some(a) => p.con_avviso(a),
        None => p,
    }
}

// --- Conventions a STANDARD may submit under ---------------------------------------------

/// A convention in the new-request form and on the home page.
#[derive(Debug, Clone)]
pub struct ConvenzioneVista {
    /// Opaque id.
    pub id: String,
    pub numero: i64,
    pub nome: String,
    pub comune: String,
    pub scelta: bool,
}

/// The conventions of `u`'s Ente on which `u` has a profile and that are in force today.
pub async fn convenzioni_utente(
    stato: &StatoApp,
    u: &Utente,
) -> Result<Vec<ConvenzioneVista>, ErroreWeb> {
    let Some(ente) = u.ente_id else {
        return Ok(Vec::new());
    };
    let ora = stato.adesso_ms();
    let mut v = Vec::new();
    for c in stato.store.convenzioni(ente, true).await? {
        if !op::in_vigore(&c, ora) || stato.store.profilo(u.id, c.id).await?.is_none() {
            continue;
        }
        v.push(ConvenzioneVista {
            id: stato.ids.codifica(Tipo::Convenzione, c.id),
            numero: c.id,
            comune: stato.store.comune(c.comune_id).await?.nome,
            nome: c.nome,
            scelta: false,
        });
    }
    Ok(v)
}

// --- New request ---------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "richieste/nuova.html")]
struct PaginaNuova {
    p: Pagina,
    convenzioni: Vec<ConvenzioneVista>,
    errore: Option<String>,
    motivo: String,
    data_riferimento: String,
    oggi: String,
    testo: String,
    max_righe: String,
    max_byte: String,
}

/// What the form sent (kept to show it again after a refusal).
#[derive(Debug, Default)]
struct Modulo {
    convenzione: Option<i64>,
    motivo: String,
    data_riferimento: String,
    testo: String,
    file: Vec<u8>,
}

#[derive(Debug, Deserialize)]
pub struct QueryNuova {
    convenzione: Option<String>,
}

async fn mostra_nuova(
    stato: &StatoApp,
    u: &UtenteConnesso,
    m: Modulo,
    errore: Option<String>,
) -> Result<Response, ErroreWeb> {
    let mut convenzioni = convenzioni_utente(stato, &u.utente).await?;
    for c in &mut convenzioni {
        c.scelta = Some(c.numero) == m.convenzione;
    }
    let oggi = op::oggi(stato).format("%Y-%m-%d").to_string();
    let limiti = stato.config.limiti_input;
    let t = PaginaNuova {
        p: Pagina::per(stato, u).await,
        convenzioni,
        errore: errore.clone(),
        motivo: m.motivo,
        data_riferimento: if m.data_riferimento.is_empty() {
            oggi.clone()
        } else {
            m.data_riferimento
        },
        oggi,
        testo: m.testo,
        max_righe: domain::numeri::migliaia(limiti.max_righe),
        max_byte: domain::numeri::migliaia(limiti.max_byte),
    };
    let corpo = html(&t)?;
    Ok(match errore {
        // The form again, with the reason: nothing was stored.
        Some(_) => (StatusCode::BAD_REQUEST, corpo).into_response(),
        None => corpo,
    })
}

pub async fn nuova(
    State(stato): State<StatoApp>,
    u: UtenteConnesso,
    Query(q): Query<QueryNuova>,
) -> Result<Response, ErroreWeb> {
    u.richiedi(&["STANDARD"])?;
    let m = Modulo {
        convenzione: q
            .convenzione
            .and_then(|c| stato.ids.decodifica(Tipo::Convenzione, &c)),
        ..Modulo::default()
    };
    mostra_nuova(&stato, &u, m, None).await
}

pub async fn crea(
    State(stato): State<StatoApp>,
    u: UtenteConnesso,
    multipart: Multipart,
) -> Result<Response, ErroreWeb> {
    u.richiedi(&["STANDARD"])?;
    let m = match leggi_modulo(&stato, multipart).await {
        Ok(m) => m,
        Err(ErroreWeb::NonValido(e)) => {
            return mostra_nuova(&stato, &u, Modulo::default(), Some(e)).await;
        }
        Err(e) => return Err(e),
    };
    let Some(convenzione_id) = m.convenzione else {
        return mostra_nuova(&stato, &u, m, Some("Scegliere una convenzione.".into())).await;
    };
    let contenuto = if !m.file.is_empty() {
        Contenuto::File(m.file.clone())
    } else if !m.testo.trim().is_empty() {
        Contenuto::Testo(m.testo.clone())
    } else {
        let e = "Inserire gli identificativi nel riquadro oppure scegliere un file.";
        return mostra_nuova(&stato, &u, m, Some(e.into())).await;
    };
    let b = NuovaBozza {
        convenzione_id,
        motivo: m.motivo.clone(),
        data_riferimento: Some(m.data_riferimento.clone()),
        contenuto,
    };
    match op::crea_bozza(&stato, &u.utente, &u.loa, b).await {
        Ok(esito) => {
            let id = stato.ids.codifica(Tipo::Richiesta, esito.richiesta_id);
            Ok(Redirect::to(&format!("/richieste/{id}")).into_response())
        }
        Err(ErroreWeb::NonValido(e)) => mostra_nuova(&stato, &u, m, Some(e)).await,
        Err(e) => Err(e),
    }
}

fn illeggibile(e: impl std::fmt::Display) -> ErroreWeb {
    tracing::debug!(errore = %e, "modulo multipart illeggibile");
    ErroreWeb::NonValido("Il modulo inviato non è leggibile: riprovi.".into())
}

/// Reads the form, stopping as soon as a part passes its limit: the upload is bounded by the
/// configured input limit (the parser's own message), not by a fixed body limit.
async fn leggi_modulo(stato: &StatoApp, mut mp: Multipart) -> Result<Modulo, ErroreWeb> {
    let max_byte = usize::try_from(stato.config.limiti_input.max_byte).unwrap_or(usize::MAX);
    let troppo_grande = || {
        let limite = stato.config.limiti_input.max_byte;
        ErroreWeb::NonValido(format!(
            "File rifiutato: {}.",
            files::input::RifiutoFile::TroppoGrande { limite }
        ))
    };
    let mut m = Modulo::default();
    while let Some(mut campo) = mp.next_field().await.map_err(illeggibile)? {
        let nome = campo.name().unwrap_or_default().to_string();
        let limite = if matches!(nome.as_str(), "file" | "testo") {
            max_byte
        } else {
            MAX_CAMPO
        };
        let mut byte = Vec::new();
        while let Some(pezzo) = campo.chunk().await.map_err(illeggibile)? {
            if byte.len() + pezzo.len() > limite {
                return Err(if limite == MAX_CAMPO {
                    illeggibile(format!("campo {nome} troppo lungo"))
                } else {
                    troppo_grande()
                });
            }
            byte.extend_from_slice(&pezzo);
        }
        let testo = || String::from_utf8_lossy(&byte).into_owned();
        match nome.as_str() {
            "convenzione" => m.convenzione = stato.ids.decodifica(Tipo::Convenzione, &testo()),
            "motivo" => m.motivo = testo(),
            "data_riferimento" => m.data_riferimento = testo().trim().to_string(),
            "testo" => m.testo = testo(),
            "file" => m.file = byte,
            _ => {}
        }
    }
    Ok(m)
}

// --- "Le mie richieste" ----------------------------------------------------------------------

#[derive(Template)]
#[template(path = "richieste/elenco.html")]
struct PaginaElenco {
    p: Pagina,
    voci: Vec<VoceVista>,
    csrf: String,
    con_richiedente: bool,
    in_corso: bool,
}

#[derive(Template)]
#[template(path = "richieste/_elenco.html")]
struct FrammentoElenco {
    voci: Vec<VoceVista>,
    csrf: String,
    con_richiedente: bool,
    in_corso: bool,
}

async fn mie_richieste(stato: &StatoApp, u: &UtenteConnesso) -> Result<Vec<VoceVista>, ErroreWeb> {
    u.richiedi(&["STANDARD"])?;
    let f = FiltroRichieste {
        ambito: AmbitoElenco::Utente(u.utente.id),
        stato: None,
        limite: LIMITE_ELENCO,
    };
    // Big requests' counts from `crate::contatori`: fifty people following one request
    // would otherwise count its rows fifty times a second.
    let voci = stato.contatori.elenco(&stato.store, &f).await?;
    VoceVista::tutte(stato, voci, u.utente.id).await
}

pub async fn elenco(
    State(stato): State<StatoApp>,
    u: UtenteConnesso,
    Query(q): Query<QueryAvviso>,
) -> Result<Response, ErroreWeb> {
    let voci = mie_richieste(&stato, &u).await?;
    html(&PaginaElenco {
        p: pagina_con_avviso(&stato, &u, &q).await,
        in_corso: vista::qualcuna_in_corso(&voci),
        voci,
        csrf: u.csrf.clone(),
        con_richiedente: false,
    })
}

/// The table alone, polled by htmx while a request may still change.
pub async fn frammento_elenco(
    State(stato): State<StatoApp>,
    u: UtenteConnesso,
) -> Result<Response, ErroreWeb> {
    let voci = mie_richieste(&stato, &u).await?;
    html(&FrammentoElenco {
        in_corso: vista::qualcuna_in_corso(&voci),
        voci,
        csrf: u.csrf.clone(),
        con_richiedente: false,
    })
}

// --- Download --------------------------------------------------------------------------------

pub async fn scarica(
    State(stato): State<StatoApp>,
    u: UtenteConnesso,
    Path((id, fid)): Path<(String, String)>,
) -> Result<Response, ErroreWeb> {
    let id = id_richiesta(&stato, &id)?;
    let fid = stato
        .ids
        .decodifica(Tipo::FileRisposta, &fid)
        .ok_or(ErroreWeb::NonTrovato)?;
    let (nome, contenuto) = op::scarica(&stato, &u.utente, id, fid).await?;
    let tipo = match nome.rsplit_once('.').map(|(_, e)| e) {
        Some("csv") => "text/csv; charset=utf-8",
        Some("xlsx") => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        Some("jsonl") => "application/x-ndjson",
        _ => "application/octet-stream",
    };
    Ok((
        [
            (header::CONTENT_TYPE, tipo.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{nome}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        contenuto,
    )
        .into_response())
}
