//! `/archivio/consultazioni`: "Chi ha consultato questo soggetto?" (GDPR art. 15, issue 6).
//!
//! A TOP searches its Comune's requests by codice fiscale or ID ANPR. The value travels only
//! in POST bodies (never in a URL, a server log or the browser history), is checked with the
//! domain's parsers, and reaches the store only as its keyed hash
//! ([`store::conservazione::hmac_normalizzato`]); the store matches that hash against the
//! submitted identifiers and against the CF and idANPR that ANPR returned, so the person is
//! found whichever identifier the request used. Every search, on the page, as CSV or as the
//! print-ready page, appends one audit entry with the kind, the hash and the count.

use crate::ErroreWeb;
use crate::ids::Tipo;
use crate::pagina::{Pagina, data_ora, html};
use crate::richieste::etichetta_stato;
use crate::sessione::UtenteConnesso;
use crate::stato::StatoApp;
use askama::Template;
use axum::Router;
use axum::extract::{Form, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use axum::routing::{get, post};
use domain::esito::Esito;
use domain::tipo::TipoIdentificativo;
use serde::Deserialize;
use store::consultazioni::{Consultazione, RicercaSoggetto};

pub fn rotte() -> Router<StatoApp> {
    Router::new()
        .route("/archivio/consultazioni", get(pagina).post(cerca))
        .route("/archivio/consultazioni/csv", post(esporta_csv))
        .route("/archivio/consultazioni/stampa", post(stampa))
}

/// The search form as posted.
#[derive(Debug, Default, Deserialize)]
struct Modulo {
    #[serde(default)]
    tipo: String,
    #[serde(default)]
    valore: String,
}

/// A checked search: the kind and the value as the domain's parser normalised it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Cercato {
    tipo: TipoIdentificativo,
    valore: String,
}

/// What is wrong with the form, and which field it points at (for `aria-describedby`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct ErroreModulo {
    campo: &'static str,
    messaggio: String,
}

impl Cercato {
    fn da_modulo(m: &Modulo) -> Result<Cercato, ErroreModulo> {
        let errore = |campo, messaggio: String| ErroreModulo { campo, messaggio };
        let valore = m.valore.trim();
        match m.tipo.as_str() {
            "CF" if valore.is_empty() => Err(errore(
                "valore",
                "Indichi il codice fiscale da cercare.".into(),
            )),
            "CF" => domain::CodiceFiscale::parse(valore)
                .map(|c| Cercato {
                    tipo: TipoIdentificativo::Cf,
                    valore: c.as_str().to_string(),
                })
                .map_err(|e| errore("valore", format!("Il codice fiscale non è valido: {e}."))),
            "IDANPR" if valore.is_empty() => {
                Err(errore("valore", "Indichi l'ID ANPR da cercare.".into()))
            }
            "IDANPR" => domain::IdAnpr::parse(valore)
                .map(|i| Cercato {
                    tipo: TipoIdentificativo::IdAnpr,
                    valore: i.as_str().to_string(),
                })
                .map_err(|e| errore("valore", format!("L'ID ANPR non è valido: {e}."))),
            _ => Err(errore(
                "tipo",
                "Scelga il tipo di identificativo: codice fiscale o ID ANPR.".into(),
            )),
        }
    }

    fn etichetta(&self) -> &'static str {
        etichetta_tipo(self.tipo)
    }
}

fn etichetta_tipo(t: TipoIdentificativo) -> &'static str {
    match t {
        TipoIdentificativo::Cf => "codice fiscale",
        TipoIdentificativo::IdAnpr => "ID ANPR",
        _ => "identificativo",
    }
}

/// One found row, formatted for the page, the print page and the CSV.
#[derive(Debug, Clone)]
struct Voce {
    /// Opaque id, for the link to the request's page.
    id: String,
    numero: i64,
    inviata: String,
    username: String,
    codice_utente: String,
    ente: String,
    codice_ente: String,
    convenzione: String,
    motivo: String,
    motivo_riga: String,
    data_riferimento: String,
    stato: String,
    etichetta_stato: &'static str,
    riga: i64,
    esito: String,
    etichetta_esito: &'static str,
}

impl Voce {
    fn da(stato: &StatoApp, c: Consultazione) -> Voce {
        Voce {
            id: stato.ids.codifica(Tipo::Richiesta, c.richiesta_id),
            numero: c.richiesta_id,
            inviata: data_ora(c.inviata_ms.unwrap_or(c.creata_ms)),
            username: c.username,
            codice_utente: c.codice_utente,
            ente: c.ente,
            codice_ente: c.codice_ente,
            convenzione: c.convenzione,
            motivo: c.motivo,
            motivo_riga: c.motivo_riga.unwrap_or_default(),
            data_riferimento: data_italiana(&c.data_riferimento),
            etichetta_stato: etichetta_stato(&c.stato),
            stato: c.stato,
            riga: c.numero,
            esito: c.esito.map(Esito::as_str).unwrap_or_default().to_string(),
            etichetta_esito: etichetta_esito(c.esito),
        }
    }
}

/// `AAAAMMGG` of the instant in Europe/Rome.
fn giorno_roma(ms: i64) -> String {
    use chrono::TimeZone as _;
    chrono_tz::Europe::Rome
        .timestamp_millis_opt(ms)
        .single()
        .map(|t| t.format("%Y%m%d").to_string())
        .unwrap_or_default()
}

/// `AAAA-MM-GG` as `GG/MM/AAAA`; anything else as stored.
fn data_italiana(iso: &str) -> String {
    match chrono::NaiveDate::parse_from_str(iso, "%Y-%m-%d") {
        Ok(d) => d.format("%d/%m/%Y").to_string(),
        Err(_) => iso.to_string(),
    }
}

fn etichetta_esito(e: Option<Esito>) -> &'static str {
    match e {
        None => "In attesa di elaborazione",
        Some(Esito::Trovato) => "Trovato",
        Some(Esito::NonTrovato) => "Non trovato",
        Some(Esito::FuoriAmbito) => "Fuori ambito",
        Some(Esito::Ambiguo) => "Ambiguo",
        Some(Esito::NonValido) => "Non valido",
        Some(Esito::NonSupportato) => "Non supportato",
        Some(Esito::Errore) => "Errore",
        Some(Esito::NonElaborato) => "Non elaborato",
    }
}

/// The outcome of a search, for the templates.
struct Risultato {
    cercato: Cercato,
    voci: Vec<Voce>,
    richieste: usize,
}

#[derive(Template)]
#[template(path = "archivio/consultazioni.html")]
struct PaginaConsultazioni {
    p: Pagina,
    comune: String,
    tipo: String,
    valore: String,
    errore: Option<ErroreModulo>,
    risultato: Option<Risultato>,
}

#[derive(Template)]
#[template(path = "archivio/consultazioni_stampa.html")]
struct PaginaStampa {
    p: Pagina,
    comune: String,
    estratto: String,
    operatore: String,
    risultato: Risultato,
}

/// The Comune of a TOP; 403 for the other roles, like every TOP-only page.
fn comune_del_top(u: &UtenteConnesso) -> Result<i64, ErroreWeb> {
    u.richiedi(&["TOP"])?;
    u.utente
        .comune_id
        .ok_or_else(|| ErroreWeb::Vietato("Utenza TOP senza Comune.".into()))
}

async fn pagina(State(stato): State<StatoApp>, u: UtenteConnesso) -> Result<Response, ErroreWeb> {
    let comune_id = comune_del_top(&u)?;
    html(&PaginaConsultazioni {
        p: Pagina::per(&stato, &u).await,
        comune: stato.store.comune(comune_id).await?.nome,
        tipo: "CF".into(),
        valore: String::new(),
        errore: None,
        risultato: None,
    })
}

async fn cerca(
    State(stato): State<StatoApp>,
    u: UtenteConnesso,
    Form(m): Form<Modulo>,
) -> Result<Response, ErroreWeb> {
    let comune_id = comune_del_top(&u)?;
    let comune = stato.store.comune(comune_id).await?.nome;
    let p = Pagina::per(&stato, &u).await;
    let cercato = match Cercato::da_modulo(&m) {
        Ok(c) => c,
        Err(errore) => {
            // Nothing is searched and nothing is archived: the form comes back as typed.
            let pagina = PaginaConsultazioni {
                p,
                comune,
                tipo: m.tipo,
                valore: m.valore,
                errore: Some(errore),
                risultato: None,
            };
            return Ok((StatusCode::BAD_REQUEST, html(&pagina)?).into_response());
        }
    };
    let risultato = esegui(&stato, &u, comune_id, cercato, "pagina").await?;
    html(&PaginaConsultazioni {
        p,
        comune,
        tipo: risultato.cercato.tipo.as_str().into(),
        valore: risultato.cercato.valore.clone(),
        errore: None,
        risultato: Some(risultato),
    })
}

/// The exports repeat the search (and its audit entry) from the hidden fields of the results
/// page; a value that does not parse is refused like a forged form.
async fn ricerca_esportata(
    stato: &StatoApp,
    u: &UtenteConnesso,
    m: &Modulo,
    formato: &str,
) -> Result<(i64, Risultato), ErroreWeb> {
    let comune_id = comune_del_top(u)?;
    let cercato = Cercato::da_modulo(m).map_err(|e| ErroreWeb::NonValido(e.messaggio))?;
    Ok((
        comune_id,
        esegui(stato, u, comune_id, cercato, formato).await?,
    ))
}

async fn esporta_csv(
    State(stato): State<StatoApp>,
    u: UtenteConnesso,
    Form(m): Form<Modulo>,
) -> Result<Response, ErroreWeb> {
    let (_, r) = ricerca_esportata(&stato, &u, &m, "csv").await?;
    // The file name carries the day, never the identifier: it lands in download histories.
    let nome = format!(
        "consultazioni-soggetto-{}.csv",
        giorno_roma(stato.adesso_ms())
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{nome}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        csv(&r.voci),
    )
        .into_response())
}

async fn stampa(
    State(stato): State<StatoApp>,
    u: UtenteConnesso,
    Form(m): Form<Modulo>,
) -> Result<Response, ErroreWeb> {
    let (comune_id, risultato) = ricerca_esportata(&stato, &u, &m, "stampa").await?;
    html(&PaginaStampa {
        p: Pagina::per(&stato, &u).await,
        comune: stato.store.comune(comune_id).await?.nome,
        estratto: data_ora(stato.adesso_ms()),
        operatore: u.utente.username.clone(),
        risultato,
    })
}

/// Hashes the value with the store's key and runs the audited search.
async fn esegui(
    stato: &StatoApp,
    u: &UtenteConnesso,
    comune_id: i64,
    cercato: Cercato,
    formato: &str,
) -> Result<Risultato, ErroreWeb> {
    let chiave = stato.store.chiave_hmac().ok_or_else(|| {
        ErroreWeb::interno("chiave HMAC degli identificativi non caricata nello store")
    })?;
    let ricerca = RicercaSoggetto {
        comune_id,
        tipo: cercato.tipo,
        hash: store::conservazione::hmac_normalizzato(chiave, cercato.tipo, &cercato.valore),
        formato: formato.into(),
    };
    let attore = crate::richieste::operazioni::attore(stato, &u.utente).await?;
    let trovate = stato.store.chi_ha_consultato(&ricerca, &attore).await?;
    let richieste = trovate
        .iter()
        .map(|c| c.richiesta_id)
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    Ok(Risultato {
        cercato,
        voci: trovate.into_iter().map(|c| Voce::da(stato, c)).collect(),
        richieste,
    })
}

const INTESTAZIONE_CSV: [&str; 15] = [
    "richiesta",
    "inviata_il",
    "richiedente",
    "codice_utente",
    "ente",
    "codice_ente",
    "convenzione",
    "motivo",
    "motivo_riga",
    "data_riferimento",
    "stato",
    "riga",
    "esito",
    "descrizione_stato",
    "descrizione_esito",
];

/// The CSV as the result files write theirs (DESIGN §5): UTF-8 with BOM, `;`, CRLF, quotes
/// only where needed, cells a spreadsheet would read as formulas neutralised.
fn csv(voci: &[Voce]) -> Vec<u8> {
    let mut out = String::from("\u{feff}");
    riga_csv(&mut out, INTESTAZIONE_CSV.iter().copied());
    for v in voci {
        let numero = v.numero.to_string();
        let riga = v.riga.to_string();
        riga_csv(
            &mut out,
            [
                numero.as_str(),
                &v.inviata,
                &v.username,
                &v.codice_utente,
                &v.ente,
                &v.codice_ente,
                &v.convenzione,
                &v.motivo,
                &v.motivo_riga,
                &v.data_riferimento,
                &v.stato,
                &riga,
                &v.esito,
                v.etichetta_stato,
                v.etichetta_esito,
            ]
            .into_iter(),
        );
    }
    out.into_bytes()
}

fn riga_csv<'a>(out: &mut String, celle: impl Iterator<Item = &'a str>) {
    for (i, cella) in celle.enumerate() {
        if i > 0 {
            out.push(';');
        }
        let cella = files::output::cella::neutralizza(cella);
        if cella.contains([';', '"', '\r', '\n']) {
            out.push('"');
            out.push_str(&cella.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(&cella);
        }
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod test {
    use super::*;

    fn modulo(tipo: &str, valore: &str) -> Modulo {
        Modulo {
            tipo: tipo.into(),
            valore: valore.into(),
        }
    }

    #[test]
    fn modulo_normalizzato_dai_parser() {
        assert_eq!(
            Cercato::da_modulo(&modulo("CF", " sttsgt90a01h501j ")),
            Ok(Cercato {
                tipo: TipoIdentificativo::Cf,
                valore: "STTSGT90A01H501J".into()
            })
        );
        assert_eq!(
            Cercato::da_modulo(&modulo("IDANPR", "ev45959ww")),
            Ok(Cercato {
                tipo: TipoIdentificativo::IdAnpr,
                valore: "EV45959WW".into()
            })
        );
        let e = Cercato::da_modulo(&modulo("CF", "STTSGT90A01H501X")).unwrap_err();
        assert_eq!(e.campo, "valore");
        assert!(
            e.messaggio.starts_with("Il codice fiscale non è valido: "),
            "{}",
            e.messaggio
        );
        assert_eq!(
            Cercato::da_modulo(&modulo("IDANPR", ""))
                .unwrap_err()
                .messaggio,
            "Indichi l'ID ANPR da cercare."
        );
        assert_eq!(
            Cercato::da_modulo(&modulo("CI", "CA00000AA"))
                .unwrap_err()
                .campo,
            "tipo"
        );
    }

    #[test]
    fn celle_csv_quotate_e_neutralizzate() {
        let mut s = String::new();
        riga_csv(&mut s, ["a;b", "x\"y", "=1+1", "semplice"].into_iter());
        assert_eq!(s, "\"a;b\";\"x\"\"y\";'=1+1;semplice\r\n");
    }

    #[test]
    fn date_in_formato_italiano() {
        assert_eq!(data_italiana("2026-03-02"), "02/03/2026");
        assert_eq!(data_italiana("non una data"), "non una data");
    }
}
