//! Administration queries: Enti by Comune, users by Ente, lookups by code, users' e-mail
//! addresses, and the audit entries of the ANPR connection check (web W3).
//!
//! Tenancy is decided by the caller from these answers: a TOP sees an Ente only when
//! [`Store::ente_convenzionato`] holds for its Comune; an ADMIN only its own Ente's users.

use crate::anagrafiche::{
    COLONNE_UTENTE, Ente, Profilo, TipoCodiceEnte, Utente, ente_da_riga, utente_da_riga,
};
use crate::audit::ConnessioneAudit as _;
use crate::{Attore, Audit, ErroreStore, Store};
use serde_json::json;
use sqlx::Row as _;

const COLONNE_ENTE: &str = "e.id, e.codice, e.tipo_codice, e.nome, e.codice_ufficio";
macro_rules! utente_gestito_da_riga {
    ($r:expr) => {
        UtenteGestito {
            utente: utente_da_riga!($r),
            email: $r.try_get("email")?,
        }
    };
}

/// A user as the administration pages list them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UtenteGestito {
    pub utente: Utente,
    pub email: Option<String>,
}

impl Store {
    /// The Enti with at least one convention with the Comune, by name.
    pub async fn enti_convenzionati(&self, comune_id: i64) -> Result<Vec<Ente>, ErroreStore> {
        let sql = format!(
            "SELECT {COLONNE_ENTE} FROM enti e WHERE EXISTS (SELECT 1 FROM convenzioni v \
             WHERE v.ente_id = e.id AND v.comune_id = $1) ORDER BY e.nome, e.id"
        );
        leggi!(self, |ex| {
            let righe = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(comune_id)
                .fetch_all(ex)
                .await?;
            let mut v = Vec::with_capacity(righe.len());
            for r in &righe {
                v.push(ente_da_riga!(r));
            }
            Ok(v)
        })
    }

    /// Whether the Ente has a convention with the Comune (the TOP's view of it).
    pub async fn ente_convenzionato(
        &self,
        comune_id: i64,
        ente_id: i64,
    ) -> Result<bool, ErroreStore> {
        Ok(leggi!(self, |ex| {
            sqlx::query("SELECT 1 FROM convenzioni WHERE comune_id = $1 AND ente_id = $2 LIMIT 1")
                .bind(comune_id)
                .bind(ente_id)
                .fetch_optional(ex)
                .await?
                .is_some()
        }))
    }

    /// The Ente with this codice fiscale or IPA code (Enti are global, DESIGN §1). IPA codes
    /// are compared without regard to case.
    pub async fn ente_per_codice(&self, codice: &str) -> Result<Option<Ente>, ErroreStore> {
        let sql = format!(
            "SELECT {COLONNE_ENTE} FROM enti e WHERE e.codice = $1 \
             OR (e.tipo_codice = 'IPA' AND LOWER(e.codice) = LOWER($1)) ORDER BY e.id LIMIT 1"
        );
        leggi!(self, |ex| {
            let r = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(codice.trim())
                .fetch_optional(ex)
                .await?;
            Ok(match r {
                Some(r) => Some(ente_da_riga!(r)),
                None => None,
            })
        })
    }

    /// The users of an Ente with role `ruolo`, by username, with their e-mail addresses.
    pub async fn utenti_di_ente(
        &self,
        ente_id: i64,
        ruolo: &str,
    ) -> Result<Vec<UtenteGestito>, ErroreStore> {
        let sql = format!(
            "SELECT {COLONNE_UTENTE}, email FROM utenti WHERE ente_id = $1 AND ruolo = $2 \
             ORDER BY username"
        );
        leggi!(self, |ex| {
            let righe = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(ente_id)
                .bind(ruolo)
                .fetch_all(ex)
                .await?;
            let mut v = Vec::with_capacity(righe.len());
            for r in &righe {
                v.push(utente_gestito_da_riga!(r));
            }
            Ok(v)
        })
    }

    /// Every profile of a user, by convention.
    pub async fn profili_di_utente(&self, utente_id: i64) -> Result<Vec<Profilo>, ErroreStore> {
        let ids: Vec<i64> = leggi!(self, |ex| {
            let righe = sqlx::query(
                "SELECT convenzione_id FROM profili WHERE utente_id = $1 ORDER BY convenzione_id",
            )
            .bind(utente_id)
            .fetch_all(ex)
            .await?;
            let mut v = Vec::with_capacity(righe.len());
            for r in &righe {
                v.push(r.try_get::<i64, _>(0)?);
            }
            v
        });
        let mut profili = Vec::with_capacity(ids.len());
        for c in ids {
            if let Some(p) = self.profilo(utente_id, c).await? {
                profili.push(p);
            }
        }
        Ok(profili)
    }

    /// Sets (`Some`) or removes (`None`) the address e-mail notices go to. The archive records
    /// that it changed, not the address.
    pub async fn imposta_email(
        &self,
        utente_id: i64,
        email: Option<&str>,
        attore: &Attore,
    ) -> Result<(), ErroreStore> {
        let u = self.utente(utente_id).await?;
        let email = email.map(str::trim).filter(|e| !e.is_empty());
        let audit = Audit::nuovo(
            attore,
            format!("utente:{}", u.username),
            "UTENTE_EMAIL_IMPOSTATA",
        )
        .con_dettagli(json!({"email": email.is_some()}));
        let audit = self
            .con_ambito_utente(audit, u.comune_id, u.ente_id)
            .await?;
        scrivi!(self, |tx| {
            sqlx::query("UPDATE utenti SET email = $1 WHERE id = $2")
                .bind(email)
                .bind(utente_id)
                .execute(&mut *tx)
                .await?;
            tx.appendi_audit(&audit).await?;
        });
        Ok(())
    }

    pub async fn email_utente(&self, utente_id: i64) -> Result<Option<String>, ErroreStore> {
        leggi!(self, |ex| {
            let r = sqlx::query("SELECT email FROM utenti WHERE id = $1")
                .bind(utente_id)
                .fetch_optional(ex)
                .await?
                .ok_or_else(|| ErroreStore::non_trovato(format!("utente {utente_id}")))?;
            Ok(r.try_get(0)?)
        })
    }

    /// When the archive last recorded `azione` on `oggetto` (e.g. when a Comune's ANPR access
    /// was last uploaded); `None` if never.
    pub async fn ultimo_audit(
        &self,
        oggetto: &str,
        azione: &str,
    ) -> Result<Option<i64>, ErroreStore> {
        leggi!(self, |ex| {
            let r = sqlx::query(
                "SELECT MAX(istante_ms) FROM audit_entries WHERE oggetto = $1 AND azione = $2",
            )
            .bind(oggetto)
            .bind(azione)
            .fetch_one(ex)
            .await?;
            Ok(r.try_get::<Option<i64>, _>(0)?)
        })
    }

    /// Records a connection check of the Comune's ANPR access (`ANPR_VERIFICA_STATUS`) or a
    /// real lookup (`ANPR_VERIFICA_RICERCA`). `dettagli` must hold no personal data: the
    /// caller puts a keyed hash of the identifier, never the identifier.
    pub async fn registra_verifica_anpr(
        &self,
        comune_id: i64,
        azione: &str,
        dettagli: serde_json::Value,
        attore: &Attore,
    ) -> Result<(), ErroreStore> {
        let comune = self.comune(comune_id).await?;
        let audit = Audit::nuovo(attore, format!("comune:{}", comune.codice_istat), azione)
            .con_comune(Some(comune.codice_istat))
            .con_dettagli(dettagli);
        scrivi!(self, |tx| {
            tx.appendi_audit(&audit).await?;
        });
        Ok(())
    }
}
