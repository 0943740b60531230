//! "Chi ha consultato questo soggetto?" (GDPR art. 15): the keyed hashes kept per row and the
//! search over them.
//!
//! Every row keeps up to three keyed hashes (HMAC-SHA256 with the key `hmac_identificativi`,
//! written through [`crate::conservazione::hmac_normalizzato`]):
//! - `identificativo_hmac`, of the submitted identifier, from the row's creation;
//! - `cf_hmac` and `id_anpr_hmac`, of the CF and the idANPR that ANPR returned for a TROVATO
//!   row, hashed with the kind codes of a submitted CF (`CF`) and idANPR (`IDANPR`).
//!
//! So one hash of the searched value finds the person whichever identifier the request used:
//! a search by CF matches rows asked by that CF and rows asked by idANPR (or by document) whose
//! answer carried that CF. The hashes outlive the retention purge; the values never reach the
//! database in clear beyond it, nor the audit entries.

use crate::audit::ConnessioneAudit as _;
use crate::richieste::{esito_da, stato};
use crate::{Attore, Audit, ErroreStore, Store};
use domain::esito::Esito;
use domain::tipo::TipoIdentificativo;
use serde_json::json;
use sqlx::Row as _;

/// A search, as a TOP asks it: within its Comune, the keyed hash of the value searched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RicercaSoggetto {
    pub comune_id: i64,
    /// The kind searched (a CF or an idANPR); it is recorded in the audit entry.
    pub tipo: TipoIdentificativo,
    /// [`crate::conservazione::hmac_normalizzato`] of the searched value, with this kind.
    pub hash: String,
    /// How the answer is given (`pagina`, `csv`, `stampa`): recorded in the audit entry.
    pub formato: String,
}

/// One row of one request that included the person.
#[derive(Debug, Clone, PartialEq)]
pub struct Consultazione {
    pub richiesta_id: i64,
    pub utente_id: i64,
    /// The submitter's username.
    pub username: String,
    /// The submitter's code, sent to ANPR as `userID`: the name the Ente knows them by.
    pub codice_utente: String,
    pub ente: String,
    pub codice_ente: String,
    pub convenzione: String,
    /// The request's motivo (numero pratica or protocollo).
    pub motivo: String,
    /// The row's own motivo, while the row keeps it (the retention purge removes it).
    pub motivo_riga: Option<String>,
    /// `AAAA-MM-GG`.
    pub data_riferimento: String,
    /// When it was submitted for approval; `None` for a request approved straight from BOZZA.
    pub inviata_ms: Option<i64>,
    pub creata_ms: i64,
    pub stato: String,
    /// The row's line in the submitted list.
    pub numero: i64,
    /// `None` while the row is not final.
    pub esito: Option<Esito>,
}

/// Drafts are their author's until submitted (DESIGN §1): they were never sent to ANPR and no
/// monitor sees them, so the search leaves them out like every other monitoring view.
const RICERCA: &str = "SELECT q.id, q.utente_id, u.username, u.codice_utente, e.nome AS ente, \
    e.codice AS codice_ente, v.nome AS convenzione, q.motivo, g.motivo AS motivo_riga, \
    q.data_riferimento, q.inviata_ms, q.creata_ms, q.stato, g.numero, g.esito \
    FROM righe g JOIN richieste q ON q.id = g.richiesta_id \
    JOIN convenzioni v ON v.id = q.convenzione_id JOIN enti e ON e.id = v.ente_id \
    JOIN utenti u ON u.id = q.utente_id \
    WHERE v.comune_id = $1 AND q.stato <> $3 \
      AND (g.identificativo_hmac = $2 OR g.cf_hmac = $2 OR g.id_anpr_hmac = $2) \
    ORDER BY COALESCE(q.inviata_ms, q.creata_ms) DESC, q.id DESC, g.numero";

/// One found row, on either engine (the row types differ, the columns do not).
macro_rules! consultazione_da_riga {
    ($g:expr) => {
        Consultazione {
            richiesta_id: $g.try_get("id")?,
            utente_id: $g.try_get("utente_id")?,
            username: $g.try_get("username")?,
            codice_utente: $g.try_get("codice_utente")?,
            ente: $g.try_get("ente")?,
            codice_ente: $g.try_get("codice_ente")?,
            convenzione: $g.try_get("convenzione")?,
            motivo: $g.try_get("motivo")?,
            motivo_riga: $g.try_get("motivo_riga")?,
            data_riferimento: $g.try_get("data_riferimento")?,
            inviata_ms: $g.try_get("inviata_ms")?,
            creata_ms: $g.try_get("creata_ms")?,
            stato: $g.try_get("stato")?,
            numero: $g.try_get("numero")?,
            esito: esito_da($g.try_get("esito")?)?,
        }
    };
}

impl Store {
    /// Every row of every request under the Comune's conventions that included the person
    /// (newest request first, rows in line order), and the search's one audit entry, in one
    /// transaction. The entry names the kind, the hash and the number of rows found; never the
    /// searched value, which this function does not even receive.
    pub async fn chi_ha_consultato(
        &self,
        r: &RicercaSoggetto,
        attore: &Attore,
    ) -> Result<Vec<Consultazione>, ErroreStore> {
        Ok(scrivi!(self, |tx| {
            let istat: String = sqlx::query("SELECT codice_istat FROM comuni WHERE id = $1")
                .bind(r.comune_id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| ErroreStore::non_trovato(format!("comune {}", r.comune_id)))?
                .try_get(0)?;
            let righe = sqlx::query(RICERCA)
                .bind(r.comune_id)
                .bind(&r.hash)
                .bind(stato::BOZZA)
                .fetch_all(&mut *tx)
                .await?;
            let mut v = Vec::with_capacity(righe.len());
            for g in &righe {
                v.push(consultazione_da_riga!(g));
            }
            let richieste: std::collections::BTreeSet<i64> =
                v.iter().map(|c| c.richiesta_id).collect();
            let audit = Audit::nuovo(attore, format!("comune:{istat}"), "CONSULTAZIONE_SOGGETTO")
                .con_comune(Some(istat))
                .con_dettagli(json!({
                    "tipo": r.tipo.as_str(),
                    "hmac": r.hash,
                    "righe": v.len(),
                    "richieste": richieste.len(),
                    "formato": r.formato,
                }));
            tx.appendi_audit(&audit).await?;
            v
        }))
    }
}
