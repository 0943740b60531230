//! Sign-in data of the web app: TOTP secrets (encrypted by the caller with the master key),
//! administrator-issued password resets, and failed sign-ins for throttling.
//!
//! Throttling lives in the database, not in process memory, so several `rivesto serve`
//! processes behind one proxy count the same failures (DESIGN §6). Keys are stored as SHA-256,
//! so the table never holds what somebody typed in the username field.

use crate::audit::ConnessioneAudit as _;
use crate::{Attore, Audit, ErroreStore, Store, anagrafiche::hash_password};
use serde_json::json;
use sha2::{Digest as _, Sha256};
use sqlx::Row as _;

/// Failed sign-ins older than this are deleted when new ones are written.
const CONSERVA_FALLITI_MS: i64 = 24 * 60 * 60 * 1000;

pub(crate) fn sha256_hex(testo: &str) -> String {
    hex::encode(Sha256::digest(testo.as_bytes()))
}

/// A user's enrolled TOTP.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpUtente {
    /// Encrypted with the master key by the web app (context chosen there).
    pub segreto_cifrato: Vec<u8>,
    /// The last 30-second step accepted.
    pub ultimo_passo: i64,
}

impl std::fmt::Debug for TotpUtente {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpUtente")
            .field("ultimo_passo", &self.ultimo_passo)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// The user's enrolled TOTP, if any.
    pub async fn totp_utente(&self, utente_id: i64) -> Result<Option<TotpUtente>, ErroreStore> {
        leggi!(self, |ex| {
            let r = sqlx::query(
                "SELECT segreto_cifrato, ultimo_passo FROM totp_utenti WHERE utente_id = $1",
            )
            .bind(utente_id)
            .fetch_optional(ex)
            .await?;
            Ok(match r {
                Some(r) => Some(TotpUtente {
                    segreto_cifrato: r.try_get(0)?,
                    ultimo_passo: r.try_get(1)?,
                }),
                None => None,
            })
        })
    }

    /// Enrols (or replaces) the user's TOTP; `passo` is the step of the code that confirmed it,
    /// which can then not be used again.
    pub async fn imposta_totp(
        &self,
        utente_id: i64,
        segreto_cifrato: &[u8],
        passo: i64,
        ora_ms: i64,
        attore: &Attore,
    ) -> Result<(), ErroreStore> {
        let u = self.utente(utente_id).await?;
        let audit = Audit::nuovo(attore, format!("utente:{}", u.username), "TOTP_ISCRITTO");
        let audit = self
            .con_ambito_utente(audit, u.comune_id, u.ente_id)
            .await?;
        scrivi!(self, |tx| {
            sqlx::query(
                "INSERT INTO totp_utenti (utente_id, segreto_cifrato, ultimo_passo, creato_ms) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (utente_id) DO UPDATE SET \
                 segreto_cifrato = excluded.segreto_cifrato, ultimo_passo = excluded.ultimo_passo, \
                 creato_ms = excluded.creato_ms",
            )
            .bind(utente_id)
            .bind(segreto_cifrato)
            .bind(passo)
            .bind(ora_ms)
            .execute(&mut *tx)
            .await?;
            tx.appendi_audit(&audit).await?;
        });
        Ok(())
    }

    /// Removes the user's TOTP (a STANDARD user's choice). Returns whether there was one.
    pub async fn rimuovi_totp(&self, utente_id: i64, attore: &Attore) -> Result<bool, ErroreStore> {
        let u = self.utente(utente_id).await?;
        let audit = Audit::nuovo(attore, format!("utente:{}", u.username), "TOTP_RIMOSSO");
        let audit = self
            .con_ambito_utente(audit, u.comune_id, u.ente_id)
            .await?;
        Ok(scrivi!(self, |tx| {
            let n = sqlx::query("DELETE FROM totp_utenti WHERE utente_id = $1")
                .bind(utente_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n > 0 {
                tx.appendi_audit(&audit).await?;
            }
            n > 0
        }))
    }

    /// Accepts the TOTP step `passo` once: true when it is later than every step accepted
    /// before (atomic, so two concurrent sign-ins cannot both use one code).
    pub async fn usa_passo_totp(&self, utente_id: i64, passo: i64) -> Result<bool, ErroreStore> {
        Ok(scrivi!(self, |tx| {
            sqlx::query(
                "UPDATE totp_utenti SET ultimo_passo = $2 WHERE utente_id = $1 AND ultimo_passo < $2",
            )
            .bind(utente_id)
            .bind(passo)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1
        }))
    }

    /// Sets a new password (Argon2id). `azzera_totp`: after an administrator's reset the TOTP
    /// goes too, so a user who lost the phone enrols a new one. Any pending reset code is
    /// withdrawn.
    pub async fn imposta_password(
        &self,
        utente_id: i64,
        password: &str,
        azzera_totp: bool,
        attore: &Attore,
    ) -> Result<(), ErroreStore> {
        let u = self.utente(utente_id).await?;
        let hash = hash_password(password)?;
        let audit = Audit::nuovo(
            attore,
            format!("utente:{}", u.username),
            "PASSWORD_CAMBIATA",
        )
        .con_dettagli(json!({ "totp_azzerato": azzera_totp }));
        let audit = self
            .con_ambito_utente(audit, u.comune_id, u.ente_id)
            .await?;
        scrivi!(self, |tx| {
            sqlx::query("UPDATE utenti SET password_hash = $1 WHERE id = $2")
                .bind(&hash)
                .bind(utente_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM reset_password WHERE utente_id = $1")
                .bind(utente_id)
                .execute(&mut *tx)
                .await?;
            if azzera_totp {
                sqlx::query("DELETE FROM totp_utenti WHERE utente_id = $1")
                    .bind(utente_id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.appendi_audit(&audit).await?;
        });
        Ok(())
    }

    /// Stores a one-time reset code (only its SHA-256; the code must carry enough entropy for
    /// that, which the web app's 80-bit codes do), replacing any earlier one.
    pub async fn emetti_codice_reset(
        &self,
        utente_id: i64,
        codice: &str,
        ora_ms: i64,
        scadenza_ms: i64,
        attore: &Attore,
    ) -> Result<(), ErroreStore> {
        let u = self.utente(utente_id).await?;
        let audit = Audit::nuovo(
            attore,
            format!("utente:{}", u.username),
            "RESET_PASSWORD_EMESSO",
        )
        .con_dettagli(json!({ "scadenza_ms": scadenza_ms }));
        let audit = self
            .con_ambito_utente(audit, u.comune_id, u.ente_id)
            .await?;
        scrivi!(self, |tx| {
            sqlx::query(
                "INSERT INTO reset_password (utente_id, codice_hash, scadenza_ms, creato_ms) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (utente_id) DO UPDATE SET \
                 codice_hash = excluded.codice_hash, scadenza_ms = excluded.scadenza_ms, \
                 creato_ms = excluded.creato_ms",
            )
            .bind(utente_id)
            .bind(sha256_hex(codice))
            .bind(scadenza_ms)
            .bind(ora_ms)
            .execute(&mut *tx)
            .await?;
            tx.appendi_audit(&audit).await?;
        });
        Ok(())
    }

    /// Consumes the user's reset code if `codice` is it and it has not expired at `ora_ms`:
    /// true at most once per code.
    pub async fn usa_codice_reset(
        &self,
        utente_id: i64,
        codice: &str,
        ora_ms: i64,
        attore: &Attore,
    ) -> Result<bool, ErroreStore> {
        let u = self.utente(utente_id).await?;
        let audit = Audit::nuovo(
            attore,
            format!("utente:{}", u.username),
            "RESET_PASSWORD_USATO",
        );
        let audit = self
            .con_ambito_utente(audit, u.comune_id, u.ente_id)
            .await?;
        Ok(scrivi!(self, |tx| {
            let n = sqlx::query(
                "DELETE FROM reset_password WHERE utente_id = $1 AND codice_hash = $2 \
                 AND scadenza_ms > $3",
            )
            .bind(utente_id)
            .bind(sha256_hex(codice))
            .bind(ora_ms)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 1 {
                tx.appendi_audit(&audit).await?;
            }
            n == 1
        }))
    }

    /// Records one failed sign-in under each of `chiavi` (e.g. `utente:mario.rossi`,
    /// `indirizzo:192.0.2.7`) with its audit entry, and drops failures older than a day.
    pub async fn registra_accesso_fallito(
        &self,
        chiavi: &[String],
        ora_ms: i64,
        audit: &Audit,
    ) -> Result<(), ErroreStore> {
        scrivi!(self, |tx| {
            sqlx::query("DELETE FROM accessi_falliti WHERE istante_ms < $1")
                .bind(ora_ms - CONSERVA_FALLITI_MS)
                .execute(&mut *tx)
                .await?;
            for c in chiavi {
                sqlx::query("INSERT INTO accessi_falliti (chiave, istante_ms) VALUES ($1, $2)")
                    .bind(sha256_hex(c))
                    .bind(ora_ms)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.appendi_audit(audit).await?;
        });
        Ok(())
    }

    /// When `chiave` has `massimo` or more failures in the `finestra_ms` before `ora_ms`: the
    /// instant the block ends (when the `massimo`-th most recent failure leaves the window).
    pub async fn blocco_accesso(
        &self,
        chiave: &str,
        ora_ms: i64,
        finestra_ms: i64,
        massimo: i64,
    ) -> Result<Option<i64>, ErroreStore> {
        let istanti: Vec<i64> = leggi!(self, |ex| {
            let righe = sqlx::query(
                "SELECT istante_ms FROM accessi_falliti WHERE chiave = $1 AND istante_ms > $2 \
                 ORDER BY istante_ms DESC LIMIT $3",
            )
            .bind(sha256_hex(chiave))
            .bind(ora_ms - finestra_ms)
            .bind(massimo)
            .fetch_all(ex)
            .await?;
            let mut v = Vec::with_capacity(righe.len());
            for r in &righe {
                v.push(r.try_get::<i64, _>(0)?);
            }
            v
        });
        Ok(match istanti.last() {
            Some(piu_vecchio) if massimo > 0 && istanti.len() as i64 >= massimo => {
                Some(piu_vecchio + finestra_ms)
            }
            _ => None,
        })
    }

    /// Forgets the failures of `chiave` (after a successful sign-in of that account).
    pub async fn azzera_accessi_falliti(&self, chiave: &str) -> Result<(), ErroreStore> {
        scrivi!(self, |tx| {
            sqlx::query("DELETE FROM accessi_falliti WHERE chiave = $1")
                .bind(sha256_hex(chiave))
                .execute(&mut *tx)
                .await?;
        });
        Ok(())
    }
}
