//! `/amministrazione/utenti` (ADMIN): the STANDARD users of the ADMIN's Ente (create, enable,
//! disable, reset) and their profiles per convention of the Ente: a subset of the convention's
//! field groups, and its scope or a narrower one.
//!
//! Disabling only sets the flag: the worker's timer rejects, as `sistema`, the user's requests
//! still waiting for approval (DESIGN §2), and the user's sessions stop working at once.

use super::enti::{AccountMostrato, account_mostrati};
use super::{
    AMBITI, Campi, Gestore, NuovoAccount, ambito_entro, attore, codice_gruppo, crea_account,
    decodifica, gestore_admin, gruppo_da, nome_ambito, nome_gruppo, utente_gestito,
};
use crate::ErroreWeb;
use crate::ids::Tipo;
use crate::pagina::{Pagina, html};
use crate::sessione::UtenteConnesso;
use crate::stato::StatoApp;
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Redirect, Response};
use axum::routing::{get, post};
use domain::gruppi::GruppoCampi;
use store::anagrafiche::Utente;

const STANDARD: &str = "STANDARD";

pub(super) fn rotte() -> Router<StatoApp> {
    Router::new()
        .route("/amministrazione/utenti", get(elenco).post(crea))
        .route("/amministrazione/utenti/{uid}", get(scheda))
        .route("/amministrazione/utenti/{uid}/attivo", post(attiva))
        .route("/amministrazione/utenti/{uid}/reset", post(reset))
        .route("/amministrazione/utenti/{uid}/profilo", post(profilo))
}

#[derive(Template)]
#[template(path = "amministrazione/utenti.html")]
struct PaginaUtenti {
    p: Pagina,
    ente: String,
    utenti: Vec<AccountMostrato>,
    errore: Option<String>,
}

async fn componi_elenco(
    stato: &StatoApp,
    u: &UtenteConnesso,
    g: Gestore,
) -> Result<PaginaUtenti, ErroreWeb> {
    Ok(PaginaUtenti {
        p: Pagina::per(stato, u).await,
        ente: stato.store.ente(g.ente_id).await?.nome,
        utenti: account_mostrati(stato, g, STANDARD).await?,
        errore: None,
    })
}

async fn elenco(State(stato): State<StatoApp>, u: UtenteConnesso) -> Result<Response, ErroreWeb> {
    let g = gestore_admin(&u)?;
    html(&componi_elenco(&stato, &u, g).await?)
}

async fn crea(
    State(stato): State<StatoApp>,
    u: UtenteConnesso,
    corpo: Bytes,
) -> Result<Response, ErroreWeb> {
    let g = gestore_admin(&u)?;
    let c = Campi::da(&corpo);
    let errore = match NuovoAccount::da_modulo(c.uno("username"), c.uno("email")) {
        Ok(nuovo) => {
            let a = attore(&stato, &u).await?;
            match crea_account(&stato, &nuovo, STANDARD, g, &a).await {
                Ok((id, codice)) => {
                    let indietro = format!(
                        "/amministrazione/utenti/{}",
                        stato.ids.codifica(Tipo::Utente, id)
                    );
                    return super::pagina_codice(
                        &stato,
                        &u,
                        &nuovo.username,
                        &codice,
                        true,
                        &indietro,
                    )
                    .await;
                }
                Err(ErroreWeb::NonValido(m)) => m,
                Err(e) => return Err(e),
            }
        }
        Err(m) => m,
    };
    let mut p = componi_elenco(&stato, &u, g).await?;
    p.errore = Some(errore);
    Ok((StatusCode::BAD_REQUEST, html(&p)?).into_response())
}

struct Casella {
    valore: String,
    etichetta: &'static str,
    scelta: bool,
}

struct AmbitoScelto {
    valore: &'static str,
    etichetta: &'static str,
    scelto: bool,
}

/// One convention of the Ente with the user's profile under it (if any).
struct ProfiloMostrato {
    convenzione_id: String,
    convenzione: String,
    comune: String,
    attivo: bool,
    gruppi: Vec<Casella>,
    ambiti: Vec<AmbitoScelto>,
}

#[derive(Template)]
#[template(path = "amministrazione/utente.html")]
struct PaginaUtente {
    p: Pagina,
    id: String,
    username: String,
    email: String,
    attivo: bool,
    profili: Vec<ProfiloMostrato>,
    errore: Option<String>,
}

async fn componi_scheda(
    stato: &StatoApp,
    u: &UtenteConnesso,
    g: Gestore,
    gestito: &Utente,
) -> Result<PaginaUtente, ErroreWeb> {
    let mut profili = Vec::new();
    for conv in stato.store.convenzioni(g.ente_id, true).await? {
        if !g.convenzione(&conv) {
            continue;
        }
        let attuale = stato.store.profilo(gestito.id, conv.id).await?;
        let (campi, ambito) = match &attuale {
            Some(p) => (p.campi.clone(), Some(p.ambito)),
            None => (Vec::new(), None),
        };
        profili.push(ProfiloMostrato {
            convenzione_id: stato.ids.codifica(Tipo::Convenzione, conv.id),
            convenzione: conv.nome.clone(),
            comune: stato.store.comune(conv.comune_id).await?.nome,
            attivo: attuale.is_some(),
            gruppi: conv
                .campi
                .iter()
                .map(|g| Casella {
                    valore: codice_gruppo(*g),
                    etichetta: nome_gruppo(*g),
                    scelta: campi.contains(g),
                })
                .collect(),
            ambiti: AMBITI
                .into_iter()
                .filter(|a| ambito_entro(conv.ambito, *a))
                .map(|a| AmbitoScelto {
                    valore: a.as_str(),
                    etichetta: nome_ambito(a),
                    scelto: ambito.unwrap_or(conv.ambito) == a,
                })
                .collect(),
        });
    }
    Ok(PaginaUtente {
        p: Pagina::per(stato, u).await,
        id: stato.ids.codifica(Tipo::Utente, gestito.id),
        username: gestito.username.clone(),
        email: stato
            .store
            .email_utente(gestito.id)
            .await?
            .unwrap_or_default(),
        attivo: gestito.attivo,
        profili,
        errore: None,
    })
}

/// What the ADMIN manages and the STANDARD user named in the URL, if it manages that user (404
/// otherwise).
async fn contesto(
    stato: &StatoApp,
    u: &UtenteConnesso,
    uid: &str,
) -> Result<(Gestore, Utente), ErroreWeb> {
    let g = gestore_admin(u)?;
    let utente_id = decodifica(stato, Tipo::Utente, uid)?;
    Ok((g, utente_gestito(stato, g, STANDARD, utente_id).await?))
}

async fn scheda(
    State(stato): State<StatoApp>,
    u: UtenteConnesso,
    Path(uid): Path<String>,
) -> Result<Response, ErroreWeb> {
    let (g, gestito) = contesto(&stato, &u, &uid).await?;
    html(&componi_scheda(&stato, &u, g, &gestito).await?)
}

async fn attiva(
    State(stato): State<StatoApp>,
    u: UtenteConnesso,
    Path(uid): Path<String>,
    corpo: Bytes,
) -> Result<Response, ErroreWeb> {
    let (_, gestito) = contesto(&stato, &u, &uid).await?;
    let attivo = Campi::da(&corpo).uno("attivo") == "si";
    let a = attore(&stato, &u).await?;
    stato
        .store
        .imposta_utente_attivo(gestito.id, attivo, &a)
        .await?;
    Ok(Redirect::to(&format!("/amministrazione/utenti/{uid}")).into_response())
}

async fn reset(
    State(stato): State<StatoApp>,
    u: UtenteConnesso,
    Path(uid): Path<String>,
) -> Result<Response, ErroreWeb> {
    let (_, gestito) = contesto(&stato, &u, &uid).await?;
    let a = attore(&stato, &u).await?;
    let codice = crate::auth::emetti_codice_reset(&stato, gestito.id, &a).await?;
    let indietro = format!("/amministrazione/utenti/{uid}");
    super::pagina_codice(&stato, &u, &gestito.username, &codice, false, &indietro).await
}

/// Sets the profile under one convention of the ADMIN's Ente. A group the convention does not
/// grant, or a scope wider than its own, is refused with a message that names it.
async fn profilo(
    State(stato): State<StatoApp>,
    u: UtenteConnesso,
    Path(uid): Path<String>,
    corpo: Bytes,
) -> Result<Response, ErroreWeb> {
    let (g, gestito) = contesto(&stato, &u, &uid).await?;
    let c = Campi::da(&corpo);
    let conv_id = decodifica(&stato, Tipo::Convenzione, c.uno("convenzione"))?;
    let conv = stato.store.convenzione(conv_id).await?;
    if !g.convenzione(&conv) {
        return Err(ErroreWeb::NonTrovato);
    }
    let errore = match controlla_profilo(&c, &conv) {
        Ok((campi, ambito)) => {
            let a = attore(&stato, &u).await?;
            stato
                .store
                .imposta_profilo(gestito.id, conv.id, &campi, ambito, &a)
                .await?;
            let mut p = componi_scheda(&stato, &u, g, &gestito).await?;
            p.p =
                p.p.con_avviso(format!("Profilo per «{}» salvato.", conv.nome));
            return html(&p);
        }
        Err(m) => m,
    };
    let mut p = componi_scheda(&stato, &u, g, &gestito).await?;
    p.errore = Some(errore);
    Ok((StatusCode::BAD_REQUEST, html(&p)?).into_response())
}

fn controlla_profilo(
    c: &Campi,
    conv: &store::anagrafiche::Convenzione,
) -> Result<(Vec<GruppoCampi>, domain::ambito::Ambito), String> {
    let mut campi = Vec::new();
    for v in c.tutti("campi") {
        let g = gruppo_da(v).ok_or_else(|| format!("Gruppo di campi sconosciuto: «{v}»."))?;
        if !conv.campi.contains(&g) {
            return Err(format!(
                "Il gruppo «{}» non è previsto dalla convenzione «{}»: il profilo può solo restringerla.",
                nome_gruppo(g),
                conv.nome
            ));
        }
        if !campi.contains(&g) {
            campi.push(g);
        }
    }
    if campi.is_empty() {
        return Err("Scelga almeno un gruppo di campi.".into());
    }
    campi.sort();
    let ambito = super::ambito_da(c.uno("ambito")).ok_or("Scelga l'ambito territoriale.")?;
    if !ambito_entro(conv.ambito, ambito) {
        return Err(format!(
            "L'ambito «{}» è più ampio di quello della convenzione («{}»): scelga lo stesso o uno più ristretto.",
            nome_ambito(ambito),
            nome_ambito(conv.ambito)
        ));
    }
    Ok((campi, ambito))
}
