//! The TOP's approval queue with the impact estimate, the scope a TOP (its Comune) or an ADMIN
//! (its Ente) monitors, and the signed-in home page of every role.

use super::pagine::{ConvenzioneVista, QueryAvviso, convenzioni_utente, pagina_con_avviso};
use super::vista::VoceVista;
use crate::ErroreWeb;
use crate::ids::Tipo;
use crate::pagina::{Pagina, data_ora, html};
use crate::sessione::UtenteConnesso;
use crate::stato::StatoApp;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use store::elenchi::{AmbitoElenco, FiltroRichieste, VoceRichiesta};
use store::richieste::stato as st;
use worker::stima::{Completamento, Stima, StimaServizio};

const LIMITE_CODA: i64 = 100;
const LIMITE_HOME: i64 = 10;

/// The scope a TOP or an ADMIN monitors; 404 for a user without one. The statistics use it too.
pub(crate) fn ambito_monitor(u: &UtenteConnesso) -> Result<AmbitoElenco, ErroreWeb> {
    match (u.ruolo(), u.utente.comune_id, u.utente.ente_id) {
        ("TOP", Some(c), _) => Ok(AmbitoElenco::Comune(c)),
        ("ADMIN", Some(c), Some(e)) => Ok(AmbitoElenco::EnteComune(e, c)),
        ("ADMIN", None, Some(e)) => Ok(AmbitoElenco::Ente(e)),
        ("TOP" | "ADMIN", _, _) => Err(ErroreWeb::NonTrovato),
        _ => Err(ErroreWeb::Vietato(
            "Questa funzione non è disponibile per il suo ruolo.".into(),
        )),
    }
}

// --- Approval queue --------------------------------------------------------------------------

pub struct ServizioVista {
    pub servizio: &'static str,
    pub chiamate: u64,
    pub quota: String,
}

pub struct StimaVista {
    pub valide: u64,
    pub non_valide: u64,
    pub duplicate: u64,
    pub servizi: Vec<ServizioVista>,
    pub non_supportate: Vec<String>,
    pub completamento: String,
}

pub struct VoceCoda {
    pub id: String,
    pub motivo: String,
    pub ente: String,
    pub richiedente: String,
    pub convenzione: String,
    pub inviata: String,
    pub stima: Option<StimaVista>,
}

#[derive(Template)]
#[template(path = "richieste/convalida.html")]
struct PaginaConvalida {
    p: Pagina,
    voci: Vec<VoceCoda>,
}

fn quota(s: &StimaServizio) -> String {
    match (
        s.quota_giornaliera,
        s.residue_oggi,
        s.percentuale_residuo_oggi,
    ) {
        (None, _, _) => "nessuna quota configurata".into(),
        (Some(q), Some(r), Some(pct)) => {
            format!("{pct}% del residuo di oggi ({r} chiamate residue su {q} al giorno)")
        }
        (Some(q), _, _) => format!("quota di oggi esaurita ({q} chiamate al giorno)"),
    }
}

fn stima_vista(s: Stima) -> StimaVista {
    let completamento = match s.completamento {
        Completamento::Oggi => "entro oggi".to_string(),
        Completamento::Il(d) => format!("il {}", d.format("%d/%m/%Y")),
        Completamento::Mai(sv) => format!(
            "mai: la quota giornaliera di {} è 0; va configurata prima di approvare",
            sv.codice()
        ),
    };
    StimaVista {
        valide: s.totale.valide,
        non_valide: s.totale.non_valide,
        duplicate: s.totale.duplicate,
        servizi: s
            .servizi
            .iter()
            .map(|sv| ServizioVista {
                servizio: sv.servizio.codice(),
                chiamate: sv.chiamate,
                quota: quota(sv),
            })
            .chain((s.chiamate_3002 > 0).then(|| ServizioVista {
                servizio: "3002",
                chiamate: s.chiamate_3002,
                quota: "canale del Comune: nessuna quota giornaliera pubblicata da ANPR".into(),
            }))
            .collect(),
        non_supportate: s
            .non_supportate
            .iter()
            .map(|n| format!("{} righe {}: {}", n.righe, n.tipo.as_str(), n.messaggio))
            .collect(),
        completamento,
    }
}

async fn voce_coda(stato: &StatoApp, v: VoceRichiesta) -> VoceCoda {
    let r = &v.richiesta;
    let stima =
        match worker::stima_richiesta(&stato.store, &stato.chiave, r.id, stato.adesso_ms()).await {
            Ok(s) => Some(stima_vista(s)),
            Err(e) => {
                // The page says the estimate is missing; the cause (configuration) goes to the log.
                tracing::warn!(richiesta = r.id, errore = %e, "stima d'impatto non disponibile");
                None
            }
        };
    VoceCoda {
        id: stato.ids.codifica(Tipo::Richiesta, r.id),
        motivo: r.motivo.clone(),
        inviata: r.inviata_ms.map(data_ora).unwrap_or_default(),
        ente: v.ente,
        richiedente: v.richiedente,
        convenzione: v.convenzione,
        stima,
    }
}

pub async fn convalida(
    State(stato): State<StatoApp>,
    u: UtenteConnesso,
    Query(q): Query<QueryAvviso>,
) -> Result<Response, ErroreWeb> {
    u.richiedi(&["TOP"])?;
    let f = FiltroRichieste {
        ambito: ambito_monitor(&u)?,
        stato: Some(st::IN_ATTESA_CONVALIDA.into()),
        limite: LIMITE_CODA,
    };
    let mut voci = Vec::new();
    for v in stato.store.elenco_richieste(&f).await? {
        voci.push(voce_coda(&stato, v).await);
    }
    html(&PaginaConvalida {
        p: pagina_con_avviso(&stato, &u, &q).await,
        voci,
    })
}

// --- Home ------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "richieste/home.html")]
struct PaginaHome {
    p: Pagina,
    username: String,
    ruolo: String,
    convenzioni: Vec<ConvenzioneVista>,
    in_attesa: i64,
    voci: Vec<VoceVista>,
    csrf: String,
    con_richiedente: bool,
}

/// The home page of a signed-in user (`GET /`), by role: a STANDARD's conventions and recent
/// requests; a TOP's approval count and the Comune's recent requests; an ADMIN's Ente's recent
/// requests and its users.
pub async fn pagina_home(stato: &StatoApp, u: &UtenteConnesso) -> Result<Response, ErroreWeb> {
    let standard = u.ruolo() == "STANDARD";
    let ambito = if standard {
        AmbitoElenco::Utente(u.utente.id)
    } else {
        ambito_monitor(u)?
    };
    let recenti = stato
        .contatori
        .elenco(
            &stato.store,
            &FiltroRichieste {
                ambito,
                stato: None,
                limite: LIMITE_HOME,
            },
        )
        .await?;
    let in_attesa = match ambito {
        AmbitoElenco::Comune(_) => {
            stato
                .store
                .conta_richieste(ambito, Some(st::IN_ATTESA_CONVALIDA))
                .await?
        }
        _ => 0,
    };
    let convenzioni = if standard {
        convenzioni_utente(stato, &u.utente).await?
    } else {
        Vec::new()
    };
    html(&PaginaHome {
        p: Pagina::per(stato, u).await,
        username: u.utente.username.clone(),
        ruolo: u.utente.ruolo.clone(),
        convenzioni,
        in_attesa,
        voci: VoceVista::tutte(stato, recenti, u.utente.id).await?,
        csrf: u.csrf.clone(),
        con_richiedente: !standard,
    })
}
