//! `/amministrazione/anpr`: the TOP uploads its Comune's onboarding TOML and the key and
//! certificate files it names, and checks the connection.
//!
//! Secrets are write-only: the page shows each stored file's name and size and when the access
//! was last uploaded, never a file's content. The check runs `anpr check`'s `/status` probe
//! with the stored access; a real lookup needs an explicit CF and motivo and is archived with a
//! keyed hash of the CF, never the CF.

use super::{attore, comune_del_top};
use crate::ErroreWeb;
use crate::pagina::{Pagina, data_ora, html};
use crate::sessione::UtenteConnesso;
use crate::stato::StatoApp;
use anpr::check::{Identificativo, OpzioniCheck};
use askama::Template;
use axum::Router;
use axum::extract::{Form, Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;

/// Per uploaded file: keys and certificates are a few KiB.
const MASSIMO_FILE: usize = 256 * 1024;

pub(super) fn rotte() -> Router<StatoApp> {
    Router::new()
        .route("/amministrazione/anpr", get(pagina).post(carica))
        .route("/amministrazione/anpr/verifica", post(verifica))
        .route("/amministrazione/anpr/verifica-ws", post(verifica_ws))
        .route("/amministrazione/anpr/ricerca", post(ricerca))
}

struct FileMostrato {
    nome: String,
    dimensione: String,
}

/// The outcome of a check, step by step as `anpr check` prints it.
struct EsitoVerifica {
    titolo: String,
    riuscita: bool,
    passi: Vec<String>,
}

#[derive(Template)]
#[template(path = "amministrazione/anpr.html")]
struct PaginaAnpr {
    p: Pagina,
    comune: String,
    configurato: bool,
    file: Vec<FileMostrato>,
    caricato: Option<String>,
    errore: Option<String>,
    verifica: Option<EsitoVerifica>,
}

async fn componi(
    stato: &StatoApp,
    u: &UtenteConnesso,
    comune_id: i64,
) -> Result<PaginaAnpr, ErroreWeb> {
    let comune = stato.store.comune(comune_id).await?;
    let accesso = stato.store.accesso_anpr(comune_id, &stato.chiave).await?;
    // Only names and sizes leave this function: the contents are dropped here.
    let file = accesso
        .as_ref()
        .map(|a| {
            a.file
                .iter()
                .map(|(nome, s)| FileMostrato {
                    nome: nome.clone(),
                    dimensione: format!(
                        "{} byte",
                        domain::numeri::migliaia(s.esponi().len() as u64)
                    ),
                })
                .collect()
        })
        .unwrap_or_default();
    let caricato = stato
        .store
        .ultimo_audit(
            &format!("comune:{}", comune.codice_istat),
            "ACCESSO_ANPR_IMPOSTATO",
        )
        .await?
        .map(data_ora);
    Ok(PaginaAnpr {
        p: Pagina::per(stato, u).await,
        comune: comune.nome,
        configurato: accesso.is_some(),
        file,
        caricato,
        errore: None,
        verifica: None,
    })
}

async fn pagina(State(stato): State<StatoApp>, u: UtenteConnesso) -> Result<Response, ErroreWeb> {
    let comune_id = comune_del_top(&u)?;
    html(&componi(&stato, &u, comune_id).await?)
}

/// The upload's parts: the TOML (field `toml`) and the files it names (field `file`, repeated).
async fn leggi_caricamento(
    mut m: Multipart,
) -> Result<(Option<String>, BTreeMap<String, Vec<u8>>), String> {
    let mut toml = None;
    let mut file = BTreeMap::new();
    while let Some(campo) = m
        .next_field()
        .await
        .map_err(|e| format!("caricamento non leggibile: {e}"))?
    {
        let nome_campo = campo.name().unwrap_or_default().to_string();
        let nome_file = campo.file_name().unwrap_or_default().to_string();
        let dati = campo
            .bytes()
            .await
            .map_err(|e| format!("caricamento non leggibile: {e}"))?;
        if dati.len() > MASSIMO_FILE {
            return Err(format!(
                "Il file «{nome_file}» supera il limite di {} KiB.",
                MASSIMO_FILE / 1024
            ));
        }
        match nome_campo.as_str() {
            "toml" if !dati.is_empty() => {
                let testo = String::from_utf8(dati.to_vec())
                    .map_err(|_| "Il file TOML non è in UTF-8.".to_string())?;
                toml = Some(testo);
            }
            "file" if !nome_file.is_empty() => {
                // Only the last component: browsers may send a path.
                let base = nome_file.rsplit(['/', '\\']).next().unwrap_or_default();
                file.insert(base.to_string(), dati.to_vec());
            }
            _ => {}
        }
    }
    Ok((toml, file))
}

async fn carica(
    State(stato): State<StatoApp>,
    u: UtenteConnesso,
    m: Multipart,
) -> Result<Response, ErroreWeb> {
    let comune_id = comune_del_top(&u)?;
    let istat = stato.store.comune(comune_id).await?.codice_istat;
    let esito = match leggi_caricamento(m).await {
        Ok((Some(toml), file)) => crate::onboarding::importa_caricati(&toml, &file)
            .and_then(|a| crate::onboarding::controlla_sede(&a, &istat).map(|()| a))
            .map(|a| (a, file))
            .map_err(|e| e.to_string()),
        Ok((None, _)) => Err("Scelga il file di onboarding (TOML).".to_string()),
        Err(e) => Err(e),
    };
    let (accesso, caricati) = match esito {
        Ok(x) => x,
        Err(errore) => {
            // Nothing is stored: the previous access stays as it was.
            let mut p = componi(&stato, &u, comune_id).await?;
            p.errore = Some(errore);
            return Ok((StatusCode::BAD_REQUEST, html(&p)?).into_response());
        }
    };
    let a = attore(&stato, &u).await?;
    stato
        .store
        .imposta_accesso_anpr(comune_id, &accesso.toml, &accesso.file, &stato.chiave, &a)
        .await?;
    let ignorati = crate::onboarding::non_richiesti(&accesso, &caricati);
    let mut avviso = format!(
        "Accesso ANPR aggiornato: {} file salvati in modo cifrato.",
        accesso.file.len()
    );
    if !ignorati.is_empty() {
        avviso.push_str(&format!(
            " Non salvati perché il TOML non li nomina: {}.",
            ignorati.join(", ")
        ));
    }
    let mut p = componi(&stato, &u, comune_id).await?;
    p.p = p.p.con_avviso(avviso);
    html(&p)
}

/// Runs `anpr check` with the Comune's stored access; the lines it writes are the steps.
async fn esegui_verifica(
    stato: &StatoApp,
    comune_id: i64,
    opzioni: &OpzioniCheck,
) -> (bool, Vec<String>) {
    let client = match worker::client_per_comune(&stato.store, &stato.chiave, comune_id).await {
        Ok(c) => c,
        Err(worker::ErroreWorker::AccessoMancante { .. }) => {
            return (
                false,
                vec!["Accesso ANPR non configurato: carichi prima il file di onboarding.".into()],
            );
        }
        Err(e) => return (false, vec![format!("configurazione non utilizzabile: {e}")]),
    };
    let mut uscita: Vec<u8> = Vec::new();
    let esito = anpr::check::check(&client, opzioni, &mut uscita).await;
    passi_del_check(&uscita, &esito)
}

/// The lines a check wrote, one step each, and its failure as the last step.
fn passi_del_check<T>(
    uscita: &[u8],
    esito: &Result<T, anpr::check::ErroreCheck>,
) -> (bool, Vec<String>) {
    let mut passi: Vec<String> = String::from_utf8_lossy(uscita)
        .lines()
        .map(str::to_string)
        .collect();
    if let Err(e) = esito {
        passi.push(format!("verifica non riuscita: {e}"));
    }
    (esito.is_ok(), passi)
}

/// Archives a check (`azione`, with `dettagli`) and shows the page with its steps.
async fn mostra_verifica(
    stato: &StatoApp,
    u: &UtenteConnesso,
    comune_id: i64,
    azione: &str,
    dettagli: serde_json::Value,
    titolo: &str,
    (riuscita, passi): (bool, Vec<String>),
) -> Result<Response, ErroreWeb> {
    stato
        .store
        .registra_verifica_anpr(comune_id, azione, dettagli, &attore(stato, u).await?)
        .await?;
    let mut p = componi(stato, u, comune_id).await?;
    p.verifica = Some(EsitoVerifica {
        titolo: titolo.into(),
        riuscita,
        passi,
    });
    html(&p)
}

async fn verifica(State(stato): State<StatoApp>, u: UtenteConnesso) -> Result<Response, ErroreWeb> {
    let comune_id = comune_del_top(&u)?;
    let (riuscita, passi) = esegui_verifica(&stato, comune_id, &OpzioniCheck::default()).await;
    mostra_verifica(
        &stato,
        &u,
        comune_id,
        "ANPR_VERIFICA_STATUS",
        json!({"riuscita": riuscita}),
        "Verifica del collegamento (/status)",
        (riuscita, passi),
    )
    .await
}

/// TestConn on the Comune's own channel (`[anpr_ws]`), with the stored access.
async fn verifica_ws(
    State(stato): State<StatoApp>,
    u: UtenteConnesso,
) -> Result<Response, ErroreWeb> {
    let comune_id = comune_del_top(&u)?;
    let (riuscita, passi) =
        match worker::client_ws_per_comune(&stato.store, &stato.chiave, comune_id).await {
            Ok(Some(client)) => {
                let opzioni = anpr::ws::check::OpzioniCheckWs {
                    criterio: None,
                    motivo: anpr::check::MOTIVO_PREDEFINITO.into(),
                };
                let mut uscita: Vec<u8> = Vec::new();
                let esito = anpr::ws::check::check_ws(&client, &opzioni, &mut uscita).await;
                passi_del_check(&uscita, &esito)
            }
            Ok(None) => (
                false,
                vec![
                    "Il canale del Comune non è configurato: il file di onboarding non ha la sezione [anpr_ws]."
                        .into(),
                ],
            ),
            Err(worker::ErroreWorker::AccessoMancante { .. }) => (
                false,
                vec!["Accesso ANPR non configurato: carichi prima il file di onboarding.".into()],
            ),
            Err(e) => (false, vec![format!("configurazione non utilizzabile: {e}")]),
        };
    mostra_verifica(
        &stato,
        &u,
        comune_id,
        "ANPR_VERIFICA_TESTCONN",
        json!({"riuscita": riuscita, "id_operazione": id_operazioni(&passi)}),
        "Verifica del canale del Comune (TestConn, servizio 3002)",
        (riuscita, passi),
    )
    .await
}

#[derive(Deserialize)]
struct ModuloRicerca {
    cf: String,
    motivo: String,
}

/// The operation ids the check printed (`idOperazioneClient N, idOperazioneANPR M`): what the
/// archive keeps of a lookup, with no personal data.
fn id_operazioni(passi: &[String]) -> Vec<String> {
    passi
        .iter()
        .flat_map(|l| l.split(['(', ')', ',']))
        .map(str::trim)
        .filter(|s| s.starts_with("idOperazione"))
        .map(str::to_string)
        .collect()
}

async fn ricerca(
    State(stato): State<StatoApp>,
    u: UtenteConnesso,
    Form(f): Form<ModuloRicerca>,
) -> Result<Response, ErroreWeb> {
    let comune_id = comune_del_top(&u)?;
    let motivo = f.motivo.trim();
    let Ok(cf) = domain::cf::CodiceFiscale::parse(f.cf.trim()) else {
        return rifiuta_ricerca(&stato, &u, comune_id, "Il codice fiscale non è valido.").await;
    };
    if motivo.is_empty() || motivo.chars().count() > 100 {
        let errore = "Indichi il motivo (da 1 a 100 caratteri): la ricerca è registrata.";
        return rifiuta_ricerca(&stato, &u, comune_id, errore).await;
    }
    let opzioni = OpzioniCheck {
        identificativo: Some(Identificativo::CodiceFiscale(cf.as_str().to_string())),
        motivo: motivo.to_string(),
    };
    let (riuscita, passi) = esegui_verifica(&stato, comune_id, &opzioni).await;
    let hmac = stato
        .store
        .chiave_hmac_identificativi(&stato.chiave)
        .await?;
    let dettagli = json!({
        "servizio": "C030",
        "cf_hmac": store::conservazione::hmac_identificativo(&hmac, "CF", cf.as_str()),
        "motivo": motivo,
        "riuscita": riuscita,
        "id_operazione": id_operazioni(&passi),
    });
    stato
        .store
        .registra_verifica_anpr(
            comune_id,
            "ANPR_VERIFICA_RICERCA",
            dettagli,
            &attore(&stato, &u).await?,
        )
        .await?;
    let mut p = componi(&stato, &u, comune_id).await?;
    p.verifica = Some(EsitoVerifica {
        titolo: "Ricerca di prova (C030)".into(),
        riuscita,
        passi,
    });
    html(&p)
}

async fn rifiuta_ricerca(
    stato: &StatoApp,
    u: &UtenteConnesso,
    comune_id: i64,
    errore: &str,
) -> Result<Response, ErroreWeb> {
    let mut p = componi(stato, u, comune_id).await?;
    p.errore = Some(errore.to_string());
    Ok((StatusCode::BAD_REQUEST, html(&p)?).into_response())
}

#[cfg(test)]
mod test {
    #[test]
    fn id_operazione_dalle_righe() {
        let passi = vec![
            "C030: voucher PDND ottenuto, scade 2026-03-02".to_string(),
            "C030: risposta ricevuta (idOperazioneClient 123, idOperazioneANPR ABC-9)".to_string(),
            "ID ANPR: XY12345".to_string(),
        ];
        assert_eq!(
            super::id_operazioni(&passi),
            ["idOperazioneClient 123", "idOperazioneANPR ABC-9"]
        );
    }
}
