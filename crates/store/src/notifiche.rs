//! In-app notifications and their e-mail delivery state (web W3).
//!
//! Notices about a request are written in the same transaction as its state change
//! ([`ConnessioneNotifiche::notifica_transizione`], called by `cambia_stato_richiesta`), so a
//! change is never seen without its notice, nor a notice without its change:
//! - every active TOP of the Comune, when a request enters IN_ATTESA_CONVALIDA (under silent
//!   consent the text says when it will be approved automatically; when the delay is longer
//!   than an hour a reminder is scheduled one hour before, and dropped if the request leaves
//!   the queue first);
//! - the submitter, when it is approved, rejected (with the reason), completed or failed.
//!
//! Texts carry no personal data of citizens: request numbers, conventions and Enti only.
//! E-mail delivery is a small queue on the same rows: [`Store::reclama_email`] claims due
//! notices with a lease (safe with several processes), [`Store::concludi_email`] records the
//! outcome with bounded retries.

use crate::{Attore, ErroreStore, Store};
use sqlx::{PgConnection, Row as _, SqliteConnection};

/// Kinds of notice, as stored.
pub mod tipo {
    pub const IN_ATTESA_CONVALIDA: &str = "IN_ATTESA_CONVALIDA";
    pub const PROMEMORIA_SILENZIO: &str = "PROMEMORIA_SILENZIO";
    pub const CONVALIDATA: &str = "CONVALIDATA";
    pub const RESPINTA: &str = "RESPINTA";
    pub const COMPLETATA: &str = "COMPLETATA";
    pub const FALLITA: &str = "FALLITA";
}

/// E-mail attempts per notice before it is given up as FALLITA.
pub const MAX_TENTATIVI_EMAIL: i64 = 5;
/// A reminder is scheduled only for silent-consent delays longer than this, this long before.
pub const ANTICIPO_PROMEMORIA_MS: i64 = 3_600_000;
/// Notices older than this are not e-mailed any more (e.g. SMTP configured after months).
const SCADENZA_EMAIL_MS: i64 = 7 * 86_400_000;
const PRIMA_ATTESA_EMAIL_MS: i64 = 60_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notifica {
    pub id: i64,
    pub utente_id: i64,
    pub richiesta_id: Option<i64>,
    pub tipo: String,
    pub titolo: String,
    pub testo: String,
    pub creata_ms: i64,
    /// `Some`: a reminder, shown from that time on.
    pub visibile_dal_ms: Option<i64>,
    pub letta_ms: Option<i64>,
    /// `DA_INVIARE`, `IN_INVIO`, `INVIATA`, `FALLITA`, `NON_PREVISTA` (no address), `SCADUTA`.
    pub email_stato: String,
}

impl Notifica {
    /// When it appears in the list: its schedule, or its creation.
    pub fn quando_ms(&self) -> i64 {
        self.visibile_dal_ms.unwrap_or(self.creata_ms)
    }
}

/// A notice to one user (outside a state change: tests, tools).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NuovaNotifica {
    pub utente_id: i64,
    pub richiesta_id: Option<i64>,
    pub tipo: String,
    pub titolo: String,
    pub testo: String,
    pub visibile_dal_ms: Option<i64>,
}

/// A notice claimed for e-mail delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailDaInviare {
    pub id: i64,
    pub utente_id: i64,
    pub email: String,
    pub richiesta_id: Option<i64>,
    pub tipo: String,
    pub titolo: String,
    /// Attempts so far, this one included.
    pub tentativi: i64,
}

/// A request's state change, as the notices need it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Transizione<'a> {
    pub richiesta_id: i64,
    pub da: &'a str,
    pub a: &'a str,
    pub nota: Option<&'a str>,
    pub attore: &'a Attore,
    pub ora_ms: i64,
}

/// Who gets a notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Destinatari {
    /// The submitter.
    Richiedente,
    /// Every active TOP of the convention's Comune.
    TopDelComune,
}

/// One notice to write, before its recipients are resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Messaggio {
    destinatari: Destinatari,
    tipo: &'static str,
    titolo: String,
    testo: String,
    visibile_dal_ms: Option<i64>,
}

/// What the texts say about the request.
#[derive(Debug, Clone)]
struct Contesto {
    ente: String,
    convenzione: String,
    righe: i64,
    /// `Some(delay)` under silent consent.
    silenzio_ms: Option<i64>,
    inviata_ms: i64,
}

fn data_ora_roma(ms: i64) -> String {
    use chrono::TimeZone as _;
    chrono_tz::Europe::Rome
        .timestamp_millis_opt(ms)
        .single()
        .map(|t| t.format("%d/%m/%Y alle %H:%M").to_string())
        .unwrap_or_default()
}

/// The notices of a transition (pure: the texts are decided here, the SQL writes them).
fn messaggi(t: &Transizione<'_>, c: &Contesto) -> Vec<Messaggio> {
    let id = t.richiesta_id;
    let mut v = Vec::new();
    let mut al_richiedente = |tipo, titolo: String, testo: String| {
        v.push(Messaggio {
            destinatari: Destinatari::Richiedente,
            tipo,
            titolo,
            testo,
            visibile_dal_ms: None,
        })
    };
    match t.a {
        "IN_ATTESA_CONVALIDA" => return messaggi_attesa(id, c),
        "CONVALIDATA" if t.da == "IN_ATTESA_CONVALIDA" => {
            let come = if t.attore.nome == Attore::sistema().nome {
                "è stata approvata per silenzio-assenso"
            } else {
                "è stata convalidata dall'Anagrafe del Comune"
            };
            al_richiedente(
                tipo::CONVALIDATA,
                format!("Richiesta n. {id} approvata"),
                format!("La richiesta n. {id} {come}: l'elaborazione inizierà a breve."),
            );
        }
        "RESPINTA" => al_richiedente(
            tipo::RESPINTA,
            format!("Richiesta n. {id} respinta"),
            format!(
                "La richiesta n. {id} è stata respinta. Motivo: {}",
                t.nota.unwrap_or("non indicato")
            ),
        ),
        "COMPLETATA" => al_richiedente(
            tipo::COMPLETATA,
            format!("Richiesta n. {id} completata"),
            format!(
                "L'elaborazione della richiesta n. {id} è terminata: i file di risposta sono \
                 disponibili per lo scarico."
            ),
        ),
        "FALLITA" => al_richiedente(
            tipo::FALLITA,
            format!("Richiesta n. {id} non riuscita"),
            format!(
                "L'elaborazione della richiesta n. {id} si è interrotta: {}. L'Anagrafe del \
                 Comune può riprenderla dopo aver corretto l'accesso ad ANPR.",
                t.nota
                    .unwrap_or("errore di configurazione dell'accesso ad ANPR")
            ),
        ),
        _ => {}
    }
    v
}

fn messaggi_attesa(id: i64, c: &Contesto) -> Vec<Messaggio> {
    let base = format!(
        "{} ha inviato la richiesta n. {id} ({} soggetti) nell'ambito della convenzione «{}».",
        c.ente, c.righe, c.convenzione
    );
    let Some(ritardo) = c.silenzio_ms else {
        return vec![Messaggio {
            destinatari: Destinatari::TopDelComune,
            tipo: tipo::IN_ATTESA_CONVALIDA,
            titolo: format!("Richiesta n. {id} da convalidare"),
            testo: format!("{base} È in attesa della sua convalida."),
            visibile_dal_ms: None,
        }];
    };
    let scatta = c.inviata_ms + ritardo.max(0);
    let quando = data_ora_roma(scatta);
    let mut v = vec![Messaggio {
        destinatari: Destinatari::TopDelComune,
        tipo: tipo::IN_ATTESA_CONVALIDA,
        titolo: format!("Richiesta n. {id} da convalidare (silenzio-assenso)"),
        testo: format!(
            "{base} Se non viene convalidata o respinta prima, sarà approvata automaticamente \
             per silenzio-assenso il {quando}."
        ),
        visibile_dal_ms: None,
    }];
    if ritardo > ANTICIPO_PROMEMORIA_MS {
        v.push(Messaggio {
            destinatari: Destinatari::TopDelComune,
            tipo: tipo::PROMEMORIA_SILENZIO,
            titolo: format!("Richiesta n. {id}: silenzio-assenso tra un'ora"),
            testo: format!(
                "La richiesta n. {id} di {} sarà approvata automaticamente per silenzio-assenso \
                 il {quando}, se non viene convalidata o respinta prima.",
                c.ente
            ),
            visibile_dal_ms: Some(scatta - ANTICIPO_PROMEMORIA_MS),
        });
    }
    v
}

/// Writing the notices of a state change on a connection inside the caller's transaction.
pub(crate) trait ConnessioneNotifiche {
    async fn notifica_transizione(&mut self, t: &Transizione<'_>) -> Result<(), ErroreStore>;
}

const SQL_CONTESTO: &str = "SELECT q.utente_id, COALESCE(q.inviata_ms, q.creata_ms) AS inviata, \
    v.comune_id, v.nome AS convenzione, v.approvazione, v.ritardo_silenzio_ms, e.nome AS ente, \
    (SELECT COUNT(*) FROM righe g WHERE g.richiesta_id = q.id) AS righe \
    FROM richieste q JOIN convenzioni v ON v.id = q.convenzione_id \
    JOIN enti e ON e.id = v.ente_id WHERE q.id = $1";

/// `$1` the recipient selector (user id or Comune id), then the notice's columns.
const SQL_INSERISCI_RICHIEDENTE: &str = "INSERT INTO notifiche (utente_id, richiesta_id, tipo, \
    titolo, testo, creata_ms, visibile_dal_ms, email_stato) \
    SELECT u.id, $2, $3, $4, $5, $6, $7, \
    CASE WHEN u.email IS NULL OR u.email = '' THEN 'NON_PREVISTA' ELSE 'DA_INVIARE' END \
    FROM utenti u WHERE u.id = $1";
const SQL_INSERISCI_TOP: &str = "INSERT INTO notifiche (utente_id, richiesta_id, tipo, \
    titolo, testo, creata_ms, visibile_dal_ms, email_stato) \
    SELECT u.id, $2, $3, $4, $5, $6, $7, \
    CASE WHEN u.email IS NULL OR u.email = '' THEN 'NON_PREVISTA' ELSE 'DA_INVIARE' END \
    FROM utenti u WHERE u.comune_id = $1 AND u.ruolo = 'TOP' AND u.attivo";

macro_rules! corpo_notifica {
    ($conn:expr, $t:expr) => {{
        let t: &Transizione<'_> = $t;
        if t.da == "IN_ATTESA_CONVALIDA" && t.a != "IN_ATTESA_CONVALIDA" {
            // The request left the queue: a reminder not yet due would be wrong.
            sqlx::query(
                "DELETE FROM notifiche WHERE richiesta_id = $1 AND tipo = $2 \
                 AND visibile_dal_ms > $3",
            )
            .bind(t.richiesta_id)
            .bind(tipo::PROMEMORIA_SILENZIO)
            .bind(t.ora_ms)
            .execute(&mut *$conn)
            .await?;
        }
        let r = sqlx::query(SQL_CONTESTO)
            .bind(t.richiesta_id)
            .fetch_optional(&mut *$conn)
            .await?
            .ok_or_else(|| ErroreStore::non_trovato(format!("richiesta {}", t.richiesta_id)))?;
        let richiedente: i64 = r.try_get("utente_id")?;
        let comune_id: i64 = r.try_get("comune_id")?;
        let approvazione: String = r.try_get("approvazione")?;
        let c = Contesto {
            ente: r.try_get("ente")?,
            convenzione: r.try_get("convenzione")?,
            righe: r.try_get("righe")?,
            silenzio_ms: (approvazione == "SILENZIO_ASSENSO")
                .then(|| r.try_get::<i64, _>("ritardo_silenzio_ms"))
                .transpose()?,
            inviata_ms: r.try_get("inviata")?,
        };
        for m in messaggi(t, &c) {
            let (sql, chi) = match m.destinatari {
                Destinatari::Richiedente => (SQL_INSERISCI_RICHIEDENTE, richiedente),
                Destinatari::TopDelComune => (SQL_INSERISCI_TOP, comune_id),
            };
            sqlx::query(sql)
                .bind(chi)
                .bind(t.richiesta_id)
                .bind(m.tipo)
                .bind(&m.titolo)
                .bind(&m.testo)
                .bind(t.ora_ms)
                .bind(m.visibile_dal_ms)
                .execute(&mut *$conn)
                .await?;
        }
        Ok(())
    }};
}

impl ConnessioneNotifiche for SqliteConnection {
    async fn notifica_transizione(&mut self, t: &Transizione<'_>) -> Result<(), ErroreStore> {
        corpo_notifica!(self, t)
    }
}

impl ConnessioneNotifiche for PgConnection {
    async fn notifica_transizione(&mut self, t: &Transizione<'_>) -> Result<(), ErroreStore> {
        corpo_notifica!(self, t)
    }
}

const COLONNE: &str = "id, utente_id, richiesta_id, tipo, titolo, testo, creata_ms, \
    visibile_dal_ms, letta_ms, email_stato";

/// Shown to the user: immediate notices, and reminders whose time has come.
const VISIBILE: &str = "(visibile_dal_ms IS NULL OR visibile_dal_ms <= $2)";

macro_rules! notifica_da_riga {
    ($r:expr) => {
        Notifica {
            id: $r.try_get("id")?,
            utente_id: $r.try_get("utente_id")?,
            richiesta_id: $r.try_get("richiesta_id")?,
            tipo: $r.try_get("tipo")?,
            titolo: $r.try_get("titolo")?,
            testo: $r.try_get("testo")?,
            creata_ms: $r.try_get("creata_ms")?,
            visibile_dal_ms: $r.try_get("visibile_dal_ms")?,
            letta_ms: $r.try_get("letta_ms")?,
            email_stato: $r.try_get("email_stato")?,
        }
    };
}

impl Store {
    /// Writes one notice (e-mailed when the user has an address).
    pub async fn crea_notifica(&self, n: &NuovaNotifica, ora_ms: i64) -> Result<i64, ErroreStore> {
        let sql = format!("{SQL_INSERISCI_RICHIEDENTE} RETURNING id");
        Ok(scrivi!(self, |tx| {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(n.utente_id)
                .bind(n.richiesta_id)
                .bind(&n.tipo)
                .bind(&n.titolo)
                .bind(&n.testo)
                .bind(ora_ms)
                .bind(n.visibile_dal_ms)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| ErroreStore::non_trovato(format!("utente {}", n.utente_id)))?
                .try_get::<i64, _>(0)?
        }))
    }

    /// The user's visible notices at `ora_ms`, newest first.
    pub async fn notifiche(
        &self,
        utente_id: i64,
        ora_ms: i64,
        limite: i64,
    ) -> Result<Vec<Notifica>, ErroreStore> {
        let sql = format!(
            "SELECT {COLONNE} FROM notifiche WHERE utente_id = $1 AND {VISIBILE} \
             ORDER BY COALESCE(visibile_dal_ms, creata_ms) DESC, id DESC LIMIT $3"
        );
        leggi!(self, |ex| {
            let righe = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(utente_id)
                .bind(ora_ms)
                .bind(limite)
                .fetch_all(ex)
                .await?;
            let mut v = Vec::with_capacity(righe.len());
            for r in &righe {
                v.push(notifica_da_riga!(r));
            }
            Ok(v)
        })
    }

    /// Visible notices not yet read (the counter in the page header).
    pub async fn notifiche_non_lette(
        &self,
        utente_id: i64,
        ora_ms: i64,
    ) -> Result<i64, ErroreStore> {
        let sql = format!(
            "SELECT COUNT(*) FROM notifiche WHERE utente_id = $1 AND letta_ms IS NULL AND {VISIBILE}"
        );
        Ok(leggi!(self, |ex| {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(utente_id)
                .bind(ora_ms)
                .fetch_one(ex)
                .await?
                .try_get::<i64, _>(0)?
        }))
    }

    /// Marks notice `id` of user `utente_id` read. `NonTrovato` when it is not theirs (or not
    /// visible yet): the caller answers 404 either way.
    pub async fn segna_notifica_letta(
        &self,
        utente_id: i64,
        id: i64,
        ora_ms: i64,
    ) -> Result<(), ErroreStore> {
        let sql = format!(
            "UPDATE notifiche SET letta_ms = COALESCE(letta_ms, $2) \
             WHERE utente_id = $1 AND id = $3 AND {VISIBILE}"
        );
        let n = scrivi!(self, |tx| {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(utente_id)
                .bind(ora_ms)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected()
        });
        if n == 0 {
            return Err(ErroreStore::non_trovato(format!("notifica {id}")));
        }
        Ok(())
    }

    /// Marks every visible notice of the user read; returns how many changed.
    pub async fn segna_tutte_lette(&self, utente_id: i64, ora_ms: i64) -> Result<u64, ErroreStore> {
        let sql = format!(
            "UPDATE notifiche SET letta_ms = $2 WHERE utente_id = $1 AND letta_ms IS NULL \
             AND {VISIBILE}"
        );
        Ok(scrivi!(self, |tx| {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(utente_id)
                .bind(ora_ms)
                .execute(&mut *tx)
                .await?
                .rows_affected()
        }))
    }
}

impl Store {
    /// Claims up to `limite` notices due for e-mail at `ora_ms`, leased to `proprietario` until
    /// `ora_ms + lease_ms`; a lease that expires (its holder died) makes them claimable again.
    /// Safe with several processes: PostgreSQL skips rows another claim holds, SQLite
    /// serialises writers. Notices whose user has no address, or older than a week, are
    /// closed without sending.
    pub async fn reclama_email(
        &self,
        proprietario: &str,
        ora_ms: i64,
        lease_ms: i64,
        limite: i64,
    ) -> Result<Vec<EmailDaInviare>, ErroreStore> {
        Ok(scrivi!(self, |tx, pg| {
            sqlx::query(
                "UPDATE notifiche SET email_stato = CASE WHEN creata_ms < $1 THEN 'SCADUTA' \
                 ELSE 'NON_PREVISTA' END WHERE email_stato = 'DA_INVIARE' AND (creata_ms < $1 \
                 OR utente_id IN (SELECT id FROM utenti WHERE email IS NULL OR email = ''))",
            )
            .bind(ora_ms - SCADENZA_EMAIL_MS)
            .execute(&mut *tx)
            .await?;
            let sql = if pg {
                "SELECT id FROM notifiche WHERE ((email_stato = 'DA_INVIARE' \
                 AND email_prossimo_ms <= $1) OR (email_stato = 'IN_INVIO' \
                 AND email_lease_scadenza_ms < $1)) \
                 AND (visibile_dal_ms IS NULL OR visibile_dal_ms <= $1) \
                 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED"
            } else {
                "SELECT id FROM notifiche WHERE ((email_stato = 'DA_INVIARE' \
                 AND email_prossimo_ms <= $1) OR (email_stato = 'IN_INVIO' \
                 AND email_lease_scadenza_ms < $1)) \
                 AND (visibile_dal_ms IS NULL OR visibile_dal_ms <= $1) \
                 ORDER BY id LIMIT $2"
            };
            let ids = sqlx::query(sql)
                .bind(ora_ms)
                .bind(limite)
                .fetch_all(&mut *tx)
                .await?;
            let mut presi = Vec::with_capacity(ids.len());
            for r in &ids {
                let id: i64 = r.try_get(0)?;
                let r = sqlx::query(
                    "UPDATE notifiche SET email_stato = 'IN_INVIO', email_lease_proprietario = $1, \
                     email_lease_scadenza_ms = $2, email_tentativi = email_tentativi + 1 \
                     WHERE id = $3 RETURNING id, utente_id, richiesta_id, tipo, titolo, \
                     email_tentativi, (SELECT email FROM utenti u WHERE u.id = utente_id) AS email",
                )
                .bind(proprietario)
                .bind(ora_ms + lease_ms)
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
                presi.push(EmailDaInviare {
                    id: r.try_get("id")?,
                    utente_id: r.try_get("utente_id")?,
                    email: r.try_get::<Option<String>, _>("email")?.unwrap_or_default(),
                    richiesta_id: r.try_get("richiesta_id")?,
                    tipo: r.try_get("tipo")?,
                    titolo: r.try_get("titolo")?,
                    tentativi: r.try_get("email_tentativi")?,
                });
            }
            presi
        }))
    }

    /// Records the outcome of a claimed e-mail: sent (`errore` None), or failed: queued again
    /// after a growing pause (1, 4, 9, 16 minutes), given up as FALLITA after
    /// [`MAX_TENTATIVI_EMAIL`] attempts. A claim that is no longer `proprietario`'s is left
    /// alone (its lease expired and another process took it).
    pub async fn concludi_email(
        &self,
        id: i64,
        proprietario: &str,
        errore: Option<&str>,
        ora_ms: i64,
    ) -> Result<(), ErroreStore> {
        let (inviata, errore) = match errore {
            None => (true, String::new()),
            Some(e) => (false, e.chars().take(500).collect()),
        };
        scrivi!(self, |tx| {
            sqlx::query(
                "UPDATE notifiche SET email_stato = CASE WHEN $1 THEN 'INVIATA' \
                 WHEN email_tentativi >= $2 THEN 'FALLITA' ELSE 'DA_INVIARE' END, \
                 email_errore = CASE WHEN $1 THEN NULL ELSE $3 END, \
                 email_prossimo_ms = $4 + $5 * email_tentativi * email_tentativi, \
                 email_lease_proprietario = NULL, email_lease_scadenza_ms = NULL \
                 WHERE id = $6 AND email_stato = 'IN_INVIO' AND email_lease_proprietario = $7",
            )
            .bind(inviata)
            .bind(MAX_TENTATIVI_EMAIL)
            .bind(&errore)
            .bind(ora_ms)
            .bind(PRIMA_ATTESA_EMAIL_MS)
            .bind(id)
            .bind(proprietario)
            .execute(&mut *tx)
            .await?;
        });
        Ok(())
    }

    /// The e-mail state of a notice and its last error (for tests and the operator).
    pub async fn stato_email_notifica(
        &self,
        id: i64,
    ) -> Result<(String, i64, Option<String>), ErroreStore> {
        leggi!(self, |ex| {
            let r = sqlx::query(
                "SELECT email_stato, email_tentativi, email_errore FROM notifiche WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(ex)
            .await?
            .ok_or_else(|| ErroreStore::non_trovato(format!("notifica {id}")))?;
            Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contesto(silenzio_ms: Option<i64>) -> Contesto {
        Contesto {
            ente: "ASL Roma 1".into(),
            convenzione: "Assistiti".into(),
            righe: 3,
            silenzio_ms,
            // 2026-03-02 10:00 UTC: 11:00 in Rome.
            inviata_ms: 1_772_445_600_000,
        }
    }

    fn transizione<'a>(da: &'a str, a: &'a str, attore: &'a Attore) -> Transizione<'a> {
        Transizione {
            richiesta_id: 7,
            da,
            a,
            nota: Some("motivo del rifiuto"),
            attore,
            ora_ms: 0,
        }
    }

    #[test]
    fn attesa_con_silenzio_lungo_ha_promemoria_un_ora_prima() {
        let s = Attore::sistema();
        let m = messaggi(
            &transizione("BOZZA", "IN_ATTESA_CONVALIDA", &s),
            &contesto(Some(3 * 3_600_000)),
        );
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].destinatari, Destinatari::TopDelComune);
        assert!(
            m[0].testo.contains("il 02/03/2026 alle 14:00"),
            "{}",
            m[0].testo
        );
        assert_eq!(m[1].tipo, tipo::PROMEMORIA_SILENZIO);
        assert_eq!(
            m[1].visibile_dal_ms,
            Some(1_772_445_600_000 + 2 * 3_600_000)
        );
    }

    #[test]
    fn attesa_manuale_o_silenzio_breve_senza_promemoria() {
        let s = Attore::sistema();
        let t = transizione("BOZZA", "IN_ATTESA_CONVALIDA", &s);
        let manuale = messaggi(&t, &contesto(None));
        assert_eq!(manuale.len(), 1);
        assert!(!manuale[0].testo.contains("silenzio"));
        assert_eq!(messaggi(&t, &contesto(Some(3_600_000))).len(), 1);
    }

    #[test]
    fn al_richiedente_con_chi_approva_e_il_motivo() {
        let s = Attore::sistema();
        let top = Attore {
            nome: "top.roma".into(),
            ..Attore::sistema()
        };
        let c = contesto(None);
        let m = messaggi(&transizione("IN_ATTESA_CONVALIDA", "CONVALIDATA", &s), &c);
        assert!(m[0].testo.contains("silenzio-assenso"));
        let m = messaggi(&transizione("IN_ATTESA_CONVALIDA", "CONVALIDATA", &top), &c);
        assert!(m[0].testo.contains("convalidata dall'Anagrafe"));
        let m = messaggi(&transizione("IN_ATTESA_CONVALIDA", "RESPINTA", &top), &c);
        assert_eq!(m[0].destinatari, Destinatari::Richiedente);
        assert!(m[0].testo.ends_with("Motivo: motivo del rifiuto"));
        // Resuming a failed request, starting work, cancelling: no notice.
        for (da, a) in [
            ("FALLITA", "CONVALIDATA"),
            ("CONVALIDATA", "IN_ELABORAZIONE"),
            ("IN_ATTESA_CONVALIDA", "ANNULLATA"),
        ] {
            assert!(
                messaggi(&transizione(da, a, &top), &c).is_empty(),
                "{da}→{a}"
            );
        }
    }
}
