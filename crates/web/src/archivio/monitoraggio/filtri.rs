//! The filters of the monitoring pages: read from the query string, checked against the user's
//! scope (an Ente, convention or request outside it answers 404, like one that does not exist),
//! and offered back in the form with the choices the user may make.

use super::voci::AZIONI;
use crate::ErroreWeb;
use crate::ids::Tipo;
use crate::richieste::etichetta_stato;
use crate::richieste::operazioni as op;
use crate::sessione::UtenteConnesso;
use crate::stato::StatoApp;
use chrono::{Datelike as _, NaiveDate, TimeZone as _};
use domain::richiesta::StatoRichiesta;
use serde::Deserialize;
use store::anagrafiche::{Convenzione, Ente};

/// Longest username accepted in the user filter.
const MAX_UTENTE: usize = 64;

/// The query string of both pages; every field may be absent or empty.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct QueryFiltri {
    pub utente: Option<String>,
    pub ente: Option<String>,
    pub convenzione: Option<String>,
    pub dal: Option<String>,
    pub al: Option<String>,
    /// The request list: the state. Kept as `stato` for the links that already use it.
    pub stato: Option<String>,
    /// The activity log: the state of the request an entry is about.
    pub esito: Option<String>,
    pub azione: Option<String>,
    pub richiesta: Option<String>,
    /// `csv` for the export of the same view.
    pub formato: Option<String>,
}

impl QueryFiltri {
    /// The query string of this view, for the export link (`formato` replaced).
    pub fn come_query(&self, formato: Option<&str>) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        let campi = [
            ("utente", &self.utente),
            ("ente", &self.ente),
            ("convenzione", &self.convenzione),
            ("dal", &self.dal),
            ("al", &self.al),
            ("stato", &self.stato),
            ("esito", &self.esito),
            ("azione", &self.azione),
            ("richiesta", &self.richiesta),
        ];
        for (nome, valore) in campi {
            if let Some(v) = valore.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                q.append_pair(nome, v);
            }
        }
        if let Some(f) = formato {
            q.append_pair("formato", f);
        }
        q.finish()
    }

    pub fn csv(&self) -> bool {
        self.formato.as_deref() == Some("csv")
    }
}

fn valore(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// Who is looking, and so what the pages may show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Osservatore {
    /// A TOP: its Comune.
    Top { comune_id: i64 },
    /// An ADMIN: its Ente, with the Comune that manages the account when it has one.
    Admin {
        ente_id: i64,
        comune_id: Option<i64>,
    },
    /// A STANDARD: its own requests and sign-ins.
    Standard,
}

impl Osservatore {
    /// A TOP or ADMIN without its Comune or Ente sees nothing: 404, as for `ambito_monitor`.
    pub fn di(u: &UtenteConnesso) -> Result<Osservatore, ErroreWeb> {
        match (u.ruolo(), u.utente.comune_id, u.utente.ente_id) {
            ("TOP", Some(comune_id), _) => Ok(Osservatore::Top { comune_id }),
            ("ADMIN", comune_id, Some(ente_id)) => Ok(Osservatore::Admin { ente_id, comune_id }),
            ("STANDARD", _, _) => Ok(Osservatore::Standard),
            _ => Err(ErroreWeb::NonTrovato),
        }
    }

    pub fn monitor(self) -> bool {
        !matches!(self, Osservatore::Standard)
    }
}

/// One choice of a `<select>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opzione {
    pub valore: String,
    pub etichetta: String,
    pub scelta: bool,
}

/// The Enti and conventions the user may filter by.
pub struct Scelte {
    pub enti: Vec<Ente>,
    pub convenzioni: Vec<Convenzione>,
}

impl Scelte {
    pub async fn di(
        stato: &StatoApp,
        u: &UtenteConnesso,
        o: Osservatore,
    ) -> Result<Scelte, ErroreWeb> {
        Ok(match o {
            Osservatore::Top { comune_id } => Scelte {
                enti: stato.store.enti_convenzionati(comune_id).await?,
                convenzioni: stato.store.convenzioni(comune_id, false).await?,
            },
            Osservatore::Admin { ente_id, comune_id } => Scelte {
                // Its own Ente only: the form has nothing to choose (see `ModuloFiltri`).
                enti: vec![stato.store.ente(ente_id).await?],
                convenzioni: stato
                    .store
                    .convenzioni(ente_id, true)
                    .await?
                    .into_iter()
                    .filter(|c| comune_id.is_none_or(|k| k == c.comune_id))
                    .collect(),
            },
            Osservatore::Standard => {
                let mut convenzioni = Vec::new();
                for p in stato.store.profili_di_utente(u.utente.id).await? {
                    convenzioni.push(stato.store.convenzione(p.convenzione_id).await?);
                }
                Scelte {
                    enti: Vec::new(),
                    convenzioni,
                }
            }
        })
    }
}

/// The filters, checked.
#[derive(Debug, Clone, Default)]
pub struct Filtri {
    pub utente: Option<String>,
    pub ente: Option<Ente>,
    pub convenzione: Option<Convenzione>,
    pub dal: Option<NaiveDate>,
    pub al: Option<NaiveDate>,
    pub stato: Option<StatoRichiesta>,
    pub azione: Option<String>,
    pub richiesta: Option<i64>,
}

impl Filtri {
    /// Whether any filter is set (the empty page then says to widen them).
    pub fn attivi(&self) -> bool {
        self.utente.is_some()
            || self.ente.is_some()
            || self.convenzione.is_some()
            || self.dal.is_some()
            || self.al.is_some()
            || self.stato.is_some()
            || self.azione.is_some()
            || self.richiesta.is_some()
    }

    /// `[dal, al]` as UTC epoch ms, the days in Europe/Rome: `(from, to exclusive)`.
    pub fn intervallo_ms(&self) -> (Option<i64>, Option<i64>) {
        (
            self.dal.map(|d| limiti_giorno(d).0),
            self.al.map(|d| limiti_giorno(d).1),
        )
    }
}

/// The start and end (exclusive) of a Europe/Rome calendar day, in UTC epoch ms.
fn limiti_giorno(giorno: NaiveDate) -> (i64, i64) {
    // Noon UTC falls inside the same day in Rome (UTC+1 or +2).
    let mezzogiorno = giorno.and_hms_opt(12, 0, 0).unwrap_or_default();
    store::limiti_giorno_roma(
        chrono::Utc
            .from_utc_datetime(&mezzogiorno)
            .timestamp_millis(),
    )
}

/// A date typed as `gg/mm/aaaa` or sent by a date field as `aaaa-mm-gg`. A two-digit year is
/// refused rather than read as the first century.
pub fn data(testo: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(testo, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(testo, "%d/%m/%Y"))
        .ok()
        .filter(|d| d.year() >= 1900)
        .ok_or_else(|| format!("La data «{testo}» non è valida: usi il formato gg/mm/aaaa."))
}

/// An opaque id of kind `tipo` as typed or pasted (a whole page address is accepted too).
fn id(stato: &StatoApp, tipo: Tipo, testo: &str) -> Result<i64, ErroreWeb> {
    let ultimo = testo
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(testo);
    let pulito = ultimo.split(['?', '#']).next().unwrap_or(ultimo);
    stato
        .ids
        .decodifica(tipo, pulito)
        .ok_or(ErroreWeb::NonTrovato)
}

/// Reads and checks the filters. An id outside the user's choices or scope is 404; a wrong
/// date is a message for the form, returned with the other filters (the dates left out).
pub async fn leggi(
    stato: &StatoApp,
    u: &UtenteConnesso,
    o: Osservatore,
    scelte: &Scelte,
    q: &QueryFiltri,
    stato_da: fn(&QueryFiltri) -> &Option<String>,
) -> Result<(Filtri, Option<String>), ErroreWeb> {
    let mut f = Filtri::default();
    if let Some(v) = valore(&q.ente) {
        let n = id(stato, Tipo::Ente, v)?;
        f.ente = Some(
            scelte
                .enti
                .iter()
                .find(|e| e.id == n)
                .cloned()
                .ok_or(ErroreWeb::NonTrovato)?,
        );
    }
    if let Some(v) = valore(&q.convenzione) {
        let n = id(stato, Tipo::Convenzione, v)?;
        f.convenzione = Some(
            scelte
                .convenzioni
                .iter()
                .find(|c| c.id == n)
                .cloned()
                .ok_or(ErroreWeb::NonTrovato)?,
        );
    }
    if let Some(v) = valore(&q.richiesta) {
        let n = id(stato, Tipo::Richiesta, v)?;
        // The same check as the detail page: outside the scope (or a draft, for a monitor) is
        // 404.
        op::richiesta_visibile(stato, &u.utente, n).await?;
        f.richiesta = Some(n);
    }
    if o.monitor() {
        f.utente = valore(&q.utente)
            .map(|v| v.to_lowercase())
            .filter(|v| v.chars().count() <= MAX_UTENTE);
    }
    // Only a known state filters; drafts are never shown to monitors.
    f.stato = valore(stato_da(q))
        .and_then(StatoRichiesta::parse)
        .filter(|s| !o.monitor() || *s != StatoRichiesta::Bozza);
    f.azione = valore(&q.azione)
        .filter(|a| a.len() <= 64 && a.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'))
        .map(str::to_string);
    Ok(match date(q) {
        Ok((dal, al)) => (Filtri { dal, al, ..f }, None),
        Err(errore) => (f, Some(errore)),
    })
}

type Intervallo = (Option<NaiveDate>, Option<NaiveDate>);

fn date(q: &QueryFiltri) -> Result<Intervallo, String> {
    let dal = valore(&q.dal).map(data).transpose()?;
    let al = valore(&q.al).map(data).transpose()?;
    if let (Some(d), Some(a)) = (dal, al)
        && d > a
    {
        return Err("La data iniziale è successiva a quella finale: le inverta.".into());
    }
    Ok((dal, al))
}

/// What the filter form shows (`templates/archivio/_filtri.html`).
#[derive(Debug, Clone, Default)]
pub struct ModuloFiltri {
    /// The page the form submits to.
    pub pagina: &'static str,
    /// `None`: no user filter (a STANDARD sees only itself).
    pub utente: Option<String>,
    /// Shown with two choices or more (an ADMIN or a STANDARD has one Ente).
    pub enti: Vec<Opzione>,
    pub convenzioni: Vec<Opzione>,
    /// `aaaa-mm-gg`, as date fields want it.
    pub dal: String,
    pub al: String,
    /// The state field's name (`stato` or `esito`) and label.
    pub nome_stato: &'static str,
    pub etichetta_stato: &'static str,
    pub stati: Vec<Opzione>,
    /// Empty: no action filter (the request list).
    pub azioni: Vec<Opzione>,
    pub richiesta: String,
    /// The same view as CSV.
    pub csv: String,
}

impl ModuloFiltri {
    /// The form for `f` with the user's choices; `azioni` only for the activity log.
    #[allow(clippy::too_many_arguments)]
    pub fn nuovo(
        stato: &StatoApp,
        pagina: &'static str,
        o: Osservatore,
        scelte: &Scelte,
        f: &Filtri,
        q: &QueryFiltri,
        nome_stato: &'static str,
        con_azioni: bool,
    ) -> ModuloFiltri {
        let iso = |d: Option<NaiveDate>| d.map(|d| d.format("%Y-%m-%d").to_string());
        ModuloFiltri {
            pagina,
            utente: o.monitor().then(|| f.utente.clone().unwrap_or_default()),
            enti: opzioni_enti(stato, scelte, f),
            convenzioni: opzioni_convenzioni(stato, scelte, f),
            dal: iso(f.dal).unwrap_or_else(|| valore(&q.dal).unwrap_or_default().to_string()),
            al: iso(f.al).unwrap_or_else(|| valore(&q.al).unwrap_or_default().to_string()),
            nome_stato,
            etichetta_stato: if con_azioni {
                "Stato attuale della richiesta"
            } else {
                "Stato"
            },
            stati: StatoRichiesta::ALL
                .into_iter()
                .filter(|s| !o.monitor() || *s != StatoRichiesta::Bozza)
                .map(|s| Opzione {
                    valore: s.as_str().into(),
                    etichetta: etichetta_stato(s.as_str()).into(),
                    scelta: f.stato == Some(s),
                })
                .collect(),
            azioni: if con_azioni {
                opzioni_azioni(o, f)
            } else {
                Vec::new()
            },
            richiesta: f
                .richiesta
                .map(|n| stato.ids.codifica(Tipo::Richiesta, n))
                .unwrap_or_default(),
            csv: format!("{pagina}?{}", q.come_query(Some("csv"))),
        }
    }
}

fn opzioni_enti(stato: &StatoApp, scelte: &Scelte, f: &Filtri) -> Vec<Opzione> {
    scelte
        .enti
        .iter()
        .map(|e| Opzione {
            valore: stato.ids.codifica(Tipo::Ente, e.id),
            etichetta: e.nome.clone(),
            scelta: f.ente.as_ref().is_some_and(|x| x.id == e.id),
        })
        .collect()
}

fn opzioni_convenzioni(stato: &StatoApp, scelte: &Scelte, f: &Filtri) -> Vec<Opzione> {
    scelte
        .convenzioni
        .iter()
        .map(|c| Opzione {
            valore: stato.ids.codifica(Tipo::Convenzione, c.id),
            etichetta: c.nome.clone(),
            scelta: f.convenzione.as_ref().is_some_and(|x| x.id == c.id),
        })
        .collect()
}

/// The actions a user may meet in its log: a STANDARD's are its sign-ins and its requests'.
fn opzioni_azioni(o: Osservatore, f: &Filtri) -> Vec<Opzione> {
    AZIONI
        .iter()
        .filter(|(codice, _)| {
            o.monitor()
                || codice.starts_with("RICHIESTA_")
                || codice.starts_with("FILE_")
                || matches!(
                    *codice,
                    "ACCESSO"
                        | "ACCESSO_FALLITO"
                        | "ACCESSO_BLOCCATO"
                        | "USCITA"
                        | "CHIAMATE_ANPR"
                        | "RISULTATI_ELIMINATI"
                )
        })
        .map(|(codice, etichetta)| Opzione {
            valore: (*codice).into(),
            etichetta: (*etichetta).into(),
            scelta: f.azione.as_deref() == Some(*codice),
        })
        .collect()
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn date_nei_due_formati() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        assert_eq!(data("2026-03-02"), Ok(d));
        assert_eq!(data("02/03/2026"), Ok(d));
        assert!(data("2/3/26").unwrap_err().contains("gg/mm/aaaa"));
        assert!(data("31/02/2026").is_err());
    }

    #[test]
    fn giorni_di_roma() {
        // 2026-03-02 in Rome (CET) runs from 2026-03-01T23:00Z to 2026-03-02T23:00Z.
        let d = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        assert_eq!(limiti_giorno(d), (1_772_406_000_000, 1_772_492_400_000));
        // 2026-07-01 (CEST) from 2026-06-30T22:00Z.
        let d = NaiveDate::from_ymd_opt(2026, 7, 1).unwrap();
        assert_eq!(limiti_giorno(d).0, 1_782_856_800_000);
    }

    #[test]
    fn intervallo_rovesciato() {
        let q = QueryFiltri {
            dal: Some("03/03/2026".into()),
            al: Some("2026-03-02".into()),
            ..Default::default()
        };
        assert!(date(&q).unwrap_err().contains("successiva"));
        let q = QueryFiltri {
            dal: Some(" ".into()),
            ..Default::default()
        };
        assert_eq!(date(&q), Ok((None, None)));
    }

    #[test]
    fn query_di_esportazione() {
        let q = QueryFiltri {
            utente: Some("mario rossi".into()),
            stato: Some("".into()),
            formato: Some("html".into()),
            ..Default::default()
        };
        assert_eq!(q.come_query(Some("csv")), "utente=mario+rossi&formato=csv");
        assert_eq!(q.come_query(None), "utente=mario+rossi");
    }
}
