//! `/amministrazione/enti` (TOP): the Enti convened with the Comune, the search of an Ente by
//! its codice fiscale or IPA code, the creation of an Ente, and each Ente's page with its
//! conventions with this Comune and its ADMIN users.

use super::{
    Campi, Gestore, NuovoAccount, attore, comune_del_top, crea_account, decodifica,
    ente_convenzionato, nome_ambito, utente_gestito,
};
use crate::ErroreWeb;
use crate::ids::Tipo;
use crate::pagina::{Pagina, html};
use crate::sessione::UtenteConnesso;
use crate::stato::StatoApp;
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use store::anagrafiche::{Approvazione, Ente, TipoCodiceEnte};

pub(super) fn rotte() -> Router<StatoApp> {
    Router::new()
        .route("/amministrazione/enti", get(elenco).post(crea_ente))
        .route("/amministrazione/enti/{id}", get(scheda))
        .route("/amministrazione/enti/{id}/admin", post(crea_admin))
        .route(
            "/amministrazione/enti/{id}/admin/{uid}/attivo",
            post(attiva_admin),
        )
        .route(
            "/amministrazione/enti/{id}/admin/{uid}/reset",
            post(reset_admin),
        )
}

pub(super) struct EnteMostrato {
    pub(super) id: String,
    pub(super) nome: String,
    pub(super) codice: String,
    pub(super) tipo_codice: &'static str,
    pub(super) codice_ufficio: String,
}

impl EnteMostrato {
    pub(super) fn da(stato: &StatoApp, e: &Ente) -> EnteMostrato {
        EnteMostrato {
            id: stato.ids.codifica(Tipo::Ente, e.id),
            nome: e.nome.clone(),
            codice: e.codice.clone(),
            tipo_codice: match e.tipo_codice {
                TipoCodiceEnte::CodiceFiscale => "codice fiscale",
                TipoCodiceEnte::Ipa => "codice IPA",
            },
            codice_ufficio: e.codice_ufficio.clone(),
        }
    }
}

/// What a search by code found.
struct Trovato {
    ente: EnteMostrato,
    convenzionato: bool,
}

#[derive(Template)]
#[template(path = "amministrazione/enti.html")]
struct PaginaEnti {
    p: Pagina,
    enti: Vec<EnteMostrato>,
    cercato: String,
    trovato: Option<Trovato>,
    errore: Option<String>,
}

#[derive(Deserialize, Default)]
struct Ricerca {
    #[serde(default)]
    codice: String,
}

async fn componi_elenco(
    stato: &StatoApp,
    u: &UtenteConnesso,
    comune_id: i64,
    cercato: &str,
) -> Result<PaginaEnti, ErroreWeb> {
    let enti = stato.store.enti_convenzionati(comune_id).await?;
    let trovato = match cercato.trim() {
        "" => None,
        codice => match stato.store.ente_per_codice(codice).await? {
            Some(e) => Some(Trovato {
                convenzionato: stato.store.ente_convenzionato(comune_id, e.id).await?,
                ente: EnteMostrato::da(stato, &e),
            }),
            None => None,
        },
    };
    Ok(PaginaEnti {
        p: Pagina::per(stato, u).await,
        enti: enti.iter().map(|e| EnteMostrato::da(stato, e)).collect(),
        cercato: cercato.trim().to_string(),
        trovato,
        errore: None,
    })
}

async fn elenco(
    State(stato): State<StatoApp>,
    u: UtenteConnesso,
    Query(r): Query<Ricerca>,
) -> Result<Response, ErroreWeb> {
    let comune_id = comune_del_top(&u)?;
    html(&componi_elenco(&stato, &u, comune_id, &r.codice).await?)
}

/// The fields of a new Ente, checked.
fn nuovo_ente(c: &Campi) -> Result<(String, TipoCodiceEnte, String, String), String> {
    let nome = c.uno("nome").trim().to_string();
    let codice = c.uno("codice").trim().to_string();
    let ufficio = c.uno("codice_ufficio").trim().to_string();
    if nome.is_empty() || nome.chars().count() > 200 {
        return Err("Indichi il nome dell'Ente (al massimo 200 caratteri).".into());
    }
    let tipo = match c.uno("tipo_codice") {
        "CF" => {
            if codice.len() != 11 || !codice.bytes().all(|b| b.is_ascii_digit()) {
                return Err("Il codice fiscale di un Ente ha 11 cifre.".into());
            }
            TipoCodiceEnte::CodiceFiscale
        }
        "IPA" => {
            let ammesso = |c: char| c.is_ascii_alphanumeric() || c == '_';
            if codice.is_empty() || codice.len() > 30 || !codice.chars().all(ammesso) {
                return Err(
                    "Il codice IPA ha lettere, cifre e trattini bassi (al massimo 30).".into(),
                );
            }
            TipoCodiceEnte::Ipa
        }
        _ => return Err("Scelga il tipo di codice: codice fiscale o codice IPA.".into()),
    };
    // The office code goes to ANPR as userLocation (DESIGN §4).
    if ufficio.is_empty() || ufficio.chars().count() > 20 {
        return Err("Il codice ufficio è obbligatorio e ha al massimo 20 caratteri.".into());
    }
    Ok((nome, tipo, codice, ufficio))
}

async fn crea_ente(
    State(stato): State<StatoApp>,
    u: UtenteConnesso,
    corpo: Bytes,
) -> Result<Response, ErroreWeb> {
    let comune_id = comune_del_top(&u)?;
    let c = Campi::da(&corpo);
    let errore = match nuovo_ente(&c) {
        Ok((nome, tipo, codice, ufficio)) => {
            if let Some(e) = stato.store.ente_per_codice(&codice).await? {
                Some(format!(
                    "Esiste già un Ente con il codice {}: «{}». Lo cerchi per codice.",
                    e.codice, e.nome
                ))
            } else {
                let a = attore(&stato, &u).await?;
                let id = stato
                    .store
                    .crea_ente(&codice, tipo, &nome, &ufficio, &a)
                    .await?;
                let pubblico = stato.ids.codifica(Tipo::Ente, id);
                return Ok(Redirect::to(&format!(
                    "/amministrazione/convenzioni/nuova?ente={pubblico}"
                ))
                .into_response());
            }
        }
        Err(e) => Some(e),
    };
    let mut p = componi_elenco(&stato, &u, comune_id, "").await?;
    p.errore = errore;
    Ok((StatusCode::BAD_REQUEST, html(&p)?).into_response())
}

struct ConvenzioneMostrata {
    nome: String,
    gruppi: String,
    ambito: &'static str,
    approvazione: String,
    validita: String,
}

pub(super) struct AccountMostrato {
    pub(super) id: String,
    pub(super) username: String,
    pub(super) email: String,
    pub(super) attivo: bool,
}

#[derive(Template)]
#[template(path = "amministrazione/ente.html")]
struct PaginaEnte {
    p: Pagina,
    ente: EnteMostrato,
    convenzioni: Vec<ConvenzioneMostrata>,
    admin: Vec<AccountMostrato>,
    errore: Option<String>,
}

fn giorno(ms: i64) -> String {
    crate::pagina::data_ora(ms).chars().take(10).collect()
}

async fn componi_scheda(
    stato: &StatoApp,
    u: &UtenteConnesso,
    comune_id: i64,
    ente: &Ente,
) -> Result<PaginaEnte, ErroreWeb> {
    let convenzioni = stato
        .store
        .convenzioni(ente.id, true)
        .await?
        .into_iter()
        .filter(|c| c.comune_id == comune_id)
        .map(|c| ConvenzioneMostrata {
            gruppi: c
                .campi
                .iter()
                .map(|g| super::nome_gruppo(*g))
                .collect::<Vec<_>>()
                .join("; "),
            ambito: nome_ambito(c.ambito),
            approvazione: match c.approvazione {
                Approvazione::Manuale => "convalida manuale".into(),
                Approvazione::SilenzioAssenso { ritardo_ms } => {
                    format!("silenzio-assenso dopo {} minuti", ritardo_ms / 60_000)
                }
            },
            validita: match c.valida_al_ms {
                Some(al) => format!("dal {} al {}", giorno(c.valida_dal_ms), giorno(al)),
                None => format!("dal {}", giorno(c.valida_dal_ms)),
            },
            nome: c.nome,
        })
        .collect();
    let admin = account_mostrati(stato, Gestore::top(comune_id, ente.id), "ADMIN").await?;
    Ok(PaginaEnte {
        p: Pagina::per(stato, u).await,
        ente: EnteMostrato::da(stato, ente),
        convenzioni,
        admin,
        errore: None,
    })
}

pub(super) async fn account_mostrati(
    stato: &StatoApp,
    g: Gestore,
    ruolo: &str,
) -> Result<Vec<AccountMostrato>, ErroreWeb> {
    Ok(stato
        .store
        .utenti_di_ente(g.ente_id, ruolo)
        .await?
        .into_iter()
        .filter(|a| g.gestisce(&a.utente))
        .map(|g| AccountMostrato {
            id: stato.ids.codifica(Tipo::Utente, g.utente.id),
            username: g.utente.username,
            email: g.email.unwrap_or_default(),
            attivo: g.utente.attivo,
        })
        .collect())
}

/// The TOP's Comune and the Ente named in the URL, if convened with it (404 otherwise).
async fn contesto(
    stato: &StatoApp,
    u: &UtenteConnesso,
    id: &str,
) -> Result<(i64, Ente), ErroreWeb> {
    let comune_id = comune_del_top(u)?;
    let ente_id = decodifica(stato, Tipo::Ente, id)?;
    Ok((
        comune_id,
        ente_convenzionato(stato, comune_id, ente_id).await?,
    ))
}

async fn scheda(
    State(stato): State<StatoApp>,
    u: UtenteConnesso,
    Path(id): Path<String>,
) -> Result<Response, ErroreWeb> {
    let (comune_id, ente) = contesto(&stato, &u, &id).await?;
    html(&componi_scheda(&stato, &u, comune_id, &ente).await?)
}

async fn crea_admin(
    State(stato): State<StatoApp>,
    u: UtenteConnesso,
    Path(id): Path<String>,
    corpo: Bytes,
) -> Result<Response, ErroreWeb> {
    let (comune_id, ente) = contesto(&stato, &u, &id).await?;
    let c = Campi::da(&corpo);
    let esito = match NuovoAccount::da_modulo(c.uno("username"), c.uno("email")) {
        Ok(nuovo) => {
            let a = attore(&stato, &u).await?;
            let g = Gestore::top(comune_id, ente.id);
            match crea_account(&stato, &nuovo, "ADMIN", g, &a).await {
                Ok((_, codice)) => Ok((nuovo.username, codice)),
                Err(ErroreWeb::NonValido(m)) => Err(m),
                Err(e) => return Err(e),
            }
        }
        Err(m) => Err(m),
    };
    match esito {
        Ok((username, codice)) => {
            let indietro = format!("/amministrazione/enti/{id}");
            super::pagina_codice(&stato, &u, &username, &codice, true, &indietro).await
        }
        Err(m) => {
            let mut p = componi_scheda(&stato, &u, comune_id, &ente).await?;
            p.errore = Some(m);
            Ok((StatusCode::BAD_REQUEST, html(&p)?).into_response())
        }
    }
}

async fn attiva_admin(
    State(stato): State<StatoApp>,
    u: UtenteConnesso,
    Path((id, uid)): Path<(String, String)>,
    corpo: Bytes,
) -> Result<Response, ErroreWeb> {
    let (comune_id, ente) = contesto(&stato, &u, &id).await?;
    let utente_id = decodifica(&stato, Tipo::Utente, &uid)?;
    let gestito =
        utente_gestito(&stato, Gestore::top(comune_id, ente.id), "ADMIN", utente_id).await?;
    let attivo = Campi::da(&corpo).uno("attivo") == "si";
    let a = attore(&stato, &u).await?;
    stato
        .store
        .imposta_utente_attivo(gestito.id, attivo, &a)
        .await?;
    Ok(Redirect::to(&format!("/amministrazione/enti/{id}")).into_response())
}

async fn reset_admin(
    State(stato): State<StatoApp>,
    u: UtenteConnesso,
    Path((id, uid)): Path<(String, String)>,
) -> Result<Response, ErroreWeb> {
    let (comune_id, ente) = contesto(&stato, &u, &id).await?;
    let utente_id = decodifica(&stato, Tipo::Utente, &uid)?;
    let gestito =
        utente_gestito(&stato, Gestore::top(comune_id, ente.id), "ADMIN", utente_id).await?;
    let a = attore(&stato, &u).await?;
    let codice = crate::auth::emetti_codice_reset(&stato, gestito.id, &a).await?;
    let indietro = format!("/amministrazione/enti/{id}");
    super::pagina_codice(&stato, &u, &gestito.username, &codice, false, &indietro).await
}
