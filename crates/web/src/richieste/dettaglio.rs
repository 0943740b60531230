//! The detail page of a request, for whoever may see it, and the POST actions on it. The
//! buttons shown are exactly the transitions `domain` would allow this user now. The page ends
//! with the request's timeline from the archive (`crate::archivio`): who did what and when,
//! the files' hashes and who downloaded them.

use super::operazioni as op;
use super::pagine::{QueryAvviso, id_richiesta, pagina_con_avviso};
use super::vista;
use crate::ErroreWeb;
use crate::archivio::monitoraggio::cronologia::{self, Cronologia, VoceCronologia};
use crate::ids::Tipo;
use crate::pagina::{Pagina, data_ora, html};
use crate::sessione::UtenteConnesso;
use crate::stato::StatoApp;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use domain::richiesta::{Attore as AttoreDominio, Azione, StatoRichiesta, transizione};
use serde::Deserialize;
use store::richieste::{FileRisposta, Richiesta, stato as st};

/// Problem rows listed in the preview; the rest are counted.
const PROBLEMI_MOSTRATI: i64 = 1_000;

pub struct Anteprima {
    pub righe: i64,
    pub non_valide: i64,
    pub duplicate: i64,
    pub problemi: Vec<ProblemaRiga>,
    pub altri: i64,
    pub avvisi: Vec<String>,
}

/// One row of the preview's problem table: line number, field, what is wrong.
pub struct ProblemaRiga {
    pub riga: i64,
    pub campo: &'static str,
    pub problema: String,
}

/// The column of the tracciato a row error is about, read from the parser's message
/// (`files::input::ErroreRiga`); errors about the row's shape concern the whole row.
fn campo_del_problema(messaggio: &str) -> &'static str {
    let m = messaggio;
    if m.starts_with("tipo ") {
        "tipo"
    } else if m.starts_with("riferimento ") {
        "riferimento"
    } else if m.contains("di rilascio") || m.contains("questura") {
        "rilascio"
    } else if m.starts_with("campo ") {
        m.split(' ').nth(1).map_or("intera riga", |c| match c {
            "tipo" => "tipo",
            "identificativo" => "identificativo",
            "riferimento" => "riferimento",
            "rilascio" => "rilascio",
            "motivo" => "motivo",
            _ => "intera riga",
        })
    } else if m.starts_with("codice fiscale")
        || m.starts_with("ID ANPR")
        || m.starts_with("identificativo")
        || m.contains("non è un codice fiscale")
        || m.contains("del numero ")
        || m.starts_with("numero ")
        || m.contains("colonna identificativo")
    {
        "identificativo"
    } else {
        "intera riga"
    }
}

pub struct FileVista {
    pub nome: String,
    pub righe: i64,
    pub dimensione: i64,
    pub sha256: String,
    pub parziale: bool,
    pub eliminato: bool,
    /// Only for the submitter, while the file exists.
    pub url: Option<String>,
    /// Who downloaded it and when ("mario.rossi (STANDARD), 02/03/2026 11:05").
    pub scaricamenti: Vec<String>,
}

#[derive(Template)]
#[template(path = "richieste/dettaglio.html")]
struct PaginaDettaglio {
    p: Pagina,
    id: String,
    stato: String,
    etichetta: &'static str,
    motivo: String,
    nota: Option<String>,
    convenzione: String,
    comune: String,
    ente: String,
    richiedente: String,
    data_riferimento: String,
    creata: String,
    inviata: Option<String>,
    totali: i64,
    finali: i64,
    /// `vista::percentuale(finali, totali)`, for the progress bar.
    percentuale: i64,
    eta: Option<String>,
    sospesa: Option<String>,
    in_corso: bool,
    anteprima: Option<Anteprima>,
    puo_approvare: bool,
    puo_annullare: bool,
    puo_riprendere: bool,
    puo_scaricare: bool,
    file: Vec<FileVista>,
    cronologia: Vec<VoceCronologia>,
}

async fn anteprima(stato: &StatoApp, r: &Richiesta, righe: i64) -> Result<Anteprima, ErroreWeb> {
    let c = stato.store.conteggio_problemi(r.id).await?;
    let problemi: Vec<ProblemaRiga> = stato
        .store
        .righe_con_problemi(r.id, PROBLEMI_MOSTRATI)
        .await?
        .into_iter()
        .map(|g| match g.duplicato_di {
            Some(di) => ProblemaRiga {
                riga: g.numero,
                campo: "identificativo",
                problema: format!("duplicato della riga {di}"),
            },
            None => {
                let problema = g.messaggio.unwrap_or_else(|| "non valida".into());
                ProblemaRiga {
                    riga: g.numero,
                    campo: campo_del_problema(&problema),
                    problema,
                }
            }
        })
        .collect();
    Ok(Anteprima {
        righe,
        non_valide: c.non_valide,
        duplicate: c.duplicate,
        altri: (c.non_valide + c.duplicate - problemi.len() as i64).max(0),
        problemi,
        avvisi: stato.store.avvisi_bozza(r.id).await?,
    })
}

fn file_vista(
    stato: &StatoApp,
    id: &str,
    f: FileRisposta,
    scarica: bool,
    c: &Cronologia,
) -> FileVista {
    let eliminato = f.eliminato_ms.is_some();
    FileVista {
        scaricamenti: c.scaricamenti_di(&f.nome, &f.sha256),
        url: (scarica && !eliminato).then(|| {
            format!(
                "/richieste/{id}/file/{}",
                stato.ids.codifica(Tipo::FileRisposta, f.id)
            )
        }),
        nome: op::nome_sicuro(&f.nome),
        righe: f.righe,
        dimensione: f.dimensione,
        sha256: f.sha256,
        parziale: f.parziale,
        eliminato,
    }
}

/// Whether `domain` lets `chi` take `azione` now.
fn ammessa(da: Option<StatoRichiesta>, azione: &Azione, chi: &AttoreDominio) -> bool {
    da.is_some_and(|da| transizione(da, azione, chi).is_ok())
}

fn data_italiana(iso: &str) -> String {
    chrono::NaiveDate::parse_from_str(iso, "%Y-%m-%d")
        .map(|d| d.format("%d/%m/%Y").to_string())
        .unwrap_or_else(|_| iso.to_string())
}

pub async fn dettaglio(
    State(stato): State<StatoApp>,
    u: UtenteConnesso,
    Path(id): Path<String>,
    Query(q): Query<QueryAvviso>,
) -> Result<Response, ErroreWeb> {
    let numero = id_richiesta(&stato, &id)?;
    let (r, conv) = op::con_convenzione(&stato, &u.utente, numero).await?;
    // Names and counts in one query (reused for a second for a big request, see
    // `crate::contatori`).
    let voce = stato.contatori.voce(&stato.store, &r).await?;
    let a = op::avanzamento_da(&stato, &r, voce.righe_totali, voce.righe_finali).await?;
    let chi = op::attore_dominio(&u.utente, &r, &conv)?;
    let da = StatoRichiesta::parse(&r.stato);
    let scarica = op::puo_scaricare(&u.utente, &r);
    let anteprima = if r.stato == st::BOZZA {
        Some(anteprima(&stato, &r, voce.righe_totali).await?)
    } else {
        None
    };
    let cronologia = cronologia::cronologia(&stato, numero).await?;
    let file = stato
        .store
        .file_risposta(numero)
        .await?
        .into_iter()
        .map(|f| file_vista(&stato, &id, f, scarica, &cronologia))
        .collect();
    let respingi = Azione::Respingi {
        motivo: "anteprima".into(),
    };
    html(&PaginaDettaglio {
        p: pagina_con_avviso(&stato, &u, &q).await,
        etichetta: vista::etichetta_stato(&r.stato),
        in_corso: vista::cambia_da_sola(&r.stato),
        puo_approvare: ammessa(da, &Azione::Approva, &chi) && ammessa(da, &respingi, &chi),
        puo_annullare: ammessa(da, &Azione::Annulla, &chi),
        puo_riprendere: ammessa(da, &Azione::Riprendi, &chi),
        puo_scaricare: scarica,
        id,
        stato: r.stato.clone(),
        motivo: r.motivo.clone(),
        nota: r.nota_stato.clone(),
        convenzione: voce.convenzione,
        comune: voce.comune,
        ente: voce.ente,
        richiedente: voce.richiedente,
        data_riferimento: data_italiana(&r.data_riferimento),
        creata: data_ora(r.creata_ms),
        inviata: r.inviata_ms.map(data_ora),
        percentuale: vista::percentuale(a.finali, a.totali),
        totali: a.totali,
        finali: a.finali,
        eta: a.eta_ms.map(vista::durata),
        sospesa: a.sospesa,
        anteprima,
        file,
        cronologia: cronologia.voci,
    })
}

#[derive(Debug, Deserialize)]
pub struct CampiAzione {
    #[serde(default)]
    motivo: String,
}

/// `POST /richieste/{id}/{azione}`: one transition, then back to a page with a confirmation.
pub async fn azione(
    State(stato): State<StatoApp>,
    u: UtenteConnesso,
    Path((id, azione)): Path<(String, String)>,
    Form(campi): Form<CampiAzione>,
) -> Result<Response, ErroreWeb> {
    let numero = id_richiesta(&stato, &id)?;
    let s = &stato;
    let verso = match azione.as_str() {
        "invia" => op::invia(s, &u.utente, numero).await.map(|_| "inviata"),
        "scarta" => op::scarta(s, &u.utente, numero).await.map(|_| "scartata"),
        "annulla" => op::annulla(s, &u.utente, numero).await.map(|_| "annullata"),
        "approva" => op::approva(s, &u.utente, numero).await.map(|_| "approvata"),
        "respingi" => op::respingi(s, &u.utente, numero, &campi.motivo)
            .await
            .map(|_| "respinta"),
        "riprendi" => op::riprendi(s, &u.utente, numero).await.map(|_| "ripresa"),
        _ => Err(ErroreWeb::NonTrovato),
    }?;
    let dove = match verso {
        "scartata" => "/richieste?avviso=scartata".to_string(),
        "approvata" | "respinta" => format!("/convalida?avviso={verso}"),
        _ => format!("/richieste/{id}?avviso={verso}"),
    };
    Ok(Redirect::to(&dove).into_response())
}

#[cfg(test)]
mod tests {
    use super::campo_del_problema;
    use domain::documenti::{CartaIdentita, Questura};
    use files::input::ErroreRiga;

    /// The store keeps a row's problem as text; the preview reads the field back from it. Every
    /// kind of row error must be read as the column the parser itself names.
    #[test]
    fn il_campo_letto_dal_messaggio_e_quello_del_parser() {
        let errori = [
            ErroreRiga::VirgoletteAperte,
            ErroreRiga::TroppeColonne,
            ErroreRiga::CampoTroppoLungo {
                colonna: "motivo",
                massimo: 200,
            },
            ErroreRiga::CampoTroppoLungo {
                colonna: "identificativo",
                massimo: 200,
            },
            ErroreRiga::SeparatoreDiverso {
                trovato: ",",
                atteso: ";",
            },
            ErroreRiga::SenzaColonnaIdentificativo,
            ErroreRiga::RiferimentoTroppoLungo { trovati: 300 },
            ErroreRiga::TipoMancante,
            ErroreRiga::TipoSconosciuto {
                tipo: "codice".into(),
            },
            ErroreRiga::IdentificativoMancante,
            ErroreRiga::NonRiconosciuto {
                valore: "ABC".into(),
            },
            ErroreRiga::Cf(domain::CodiceFiscale::parse("RSSMRA85T10A562X").unwrap_err()),
            ErroreRiga::Cf(domain::CodiceFiscale::parse("X").unwrap_err()),
            ErroreRiga::IdAnpr(domain::IdAnpr::parse("1").unwrap_err()),
            ErroreRiga::Documento(CartaIdentita::parse("").unwrap_err()),
            ErroreRiga::Documento(CartaIdentita::parse("AB#12345").unwrap_err()),
            ErroreRiga::Questura(Questura::parse("").unwrap_err()),
            ErroreRiga::Questura(Questura::parse("R#MA").unwrap_err()),
            ErroreRiga::ComuneSconosciuto {
                valore: "Atlantide".into(),
            },
            ErroreRiga::ComuneAmbiguo {
                valore: "Samone".into(),
                candidati: "Samone (TN), Samone (TO)".into(),
            },
        ];
        for e in errori {
            assert_eq!(campo_del_problema(&e.to_string()), e.campo(), "{e}");
        }
    }
}
