//! Retention (DESIGN §2): result fields leave the database once the files are final; at the end
//! of the retention period the identifiers go too, and only their keyed hashes stay.

use crate::audit::ConnessioneAudit as _;
use crate::richieste::tipo_da;
use crate::{Attore, Audit, ErroreStore, Segreto, Store};
use aws_lc_rs::hmac;
use domain::tipo::TipoIdentificativo;
use serde_json::json;
use sqlx::Row as _;

/// The keyed hash kept for an identifier: HMAC-SHA256 over `tipo`, a newline and the value,
/// its first 128 bits in lowercase hex. The same person asked twice gives the same hash;
/// without the key the hash reveals nothing.
pub fn hmac_identificativo(chiave: &Segreto, tipo: &str, identificativo: &str) -> String {
    ChiaveHmac::new(chiave).hmac_identificativo(tipo, identificativo)
}

/// The HMAC key for identifiers, prepared once for many rows: [`hmac_identificativo`] and
/// [`hmac_normalizzato`] with the key's padding computed once instead of once per hash (an
/// upload hashes every row).
pub(crate) struct ChiaveHmac(hmac::Key);

/// Bytes of the HMAC-SHA256 tag that are kept: 128 bits, 32 hex digits (RFC 2104 §5 allows a
/// tag truncated to half the hash). Two different identifiers share a hash with probability
/// 2^-128, and the index of a million rows' hashes is half as big as with the whole tag: an
/// upload inserts into it at random places (migration 0012).
const LUNGHEZZA_HMAC: usize = 16;

impl ChiaveHmac {
    pub(crate) fn new(chiave: &Segreto) -> ChiaveHmac {
        ChiaveHmac(hmac::Key::new(hmac::HMAC_SHA256, chiave.esponi()))
    }

    pub(crate) fn hmac_identificativo(&self, tipo: &str, identificativo: &str) -> String {
        let mut ctx = hmac::Context::with_key(&self.0);
        ctx.update(tipo.as_bytes());
        ctx.update(b"\n");
        ctx.update(identificativo.as_bytes());
        hex::encode(&ctx.sign().as_ref()[..LUNGHEZZA_HMAC])
    }

    pub(crate) fn hmac_normalizzato(&self, tipo: TipoIdentificativo, valore: &str) -> String {
        self.hmac_identificativo(tipo.as_str(), &identificativo_normalizzato(tipo, valore))
    }
}

/// The identifier as the domain's parsers write it (CF and idANPR upper case without spaces,
/// document numbers upper case with single spaces), so that the same person typed two ways
/// gives one hash. A value the parser refuses (a NON_VALIDO row) is only trimmed: it can
/// never equal a valid searched value anyway.
pub fn identificativo_normalizzato(tipo: TipoIdentificativo, valore: &str) -> String {
    let normale = match tipo {
        TipoIdentificativo::Cf => domain::CodiceFiscale::parse(valore)
            .ok()
            .map(|v| v.as_str().to_string()),
        TipoIdentificativo::IdAnpr => domain::IdAnpr::parse(valore)
            .ok()
            .map(|v| v.as_str().to_string()),
        TipoIdentificativo::Ci => domain::CartaIdentita::parse(valore)
            .ok()
            .map(|v| v.as_str().to_string()),
        TipoIdentificativo::Pds => domain::PermessoSoggiorno::parse(valore)
            .ok()
            .map(|v| v.as_str().to_string()),
        TipoIdentificativo::Pass => domain::Passaporto::parse(valore)
            .ok()
            .map(|v| v.as_str().to_string()),
    };
    normale.unwrap_or_else(|| valore.trim().to_string())
}

/// [`hmac_identificativo`] of the normalised identifier, with the kind's stored code (`CF`,
/// `IDANPR`, …). The archive writes every hash through here: a CF that ANPR returned is hashed
/// exactly like a submitted CF, so one search finds both.
pub fn hmac_normalizzato(chiave: &Segreto, tipo: TipoIdentificativo, valore: &str) -> String {
    ChiaveHmac::new(chiave).hmac_normalizzato(tipo, valore)
}

impl Store {
    /// Deletes the encrypted result fields of a request's rows (its files are final).
    pub async fn elimina_risultati(
        &self,
        richiesta_id: i64,
        attore: &Attore,
    ) -> Result<u64, ErroreStore> {
        let audit = Audit::nuovo(
            attore,
            format!("richiesta:{richiesta_id}"),
            "RISULTATI_ELIMINATI",
        );
        Ok(scrivi!(self, |tx| {
            let n = sqlx::query("UPDATE righe SET risultato_cifrato = NULL WHERE richiesta_id = $1 AND risultato_cifrato IS NOT NULL")
                .bind(richiesta_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            let (comune, ente) = parti_richiesta!(tx, richiesta_id);
            let audit = audit.con_comune(comune).con_ente(ente);
            tx.appendi_audit(&audit.con_dettagli(json!({"righe": n})))
                .await?;
            n
        }))
    }

    /// The retention purge of one request: every identifier, caller reference, rilascio and
    /// per-row motivo is replaced by the keyed hash, result fields are deleted and the files
    /// are marked deleted (the caller removes them from disk). Returns the rows purged.
    pub async fn purga_richiesta(
        &self,
        richiesta_id: i64,
        chiave_hmac: &Segreto,
        attore: &Attore,
    ) -> Result<u64, ErroreStore> {
        let ora = self.adesso_ms();
        Ok(scrivi!(self, |tx| {
            let righe = sqlx::query(
                "SELECT id, tipo, identificativo FROM righe \
                 WHERE richiesta_id = $1 AND identificativo IS NOT NULL",
            )
            .bind(richiesta_id)
            .fetch_all(&mut *tx)
            .await?;
            for r in &righe {
                let (id, tipo, valore): (i64, String, String) =
                    (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
                // The hash written at creation stays; rows made by a store without the key
                // get theirs now, from the same normalisation.
                sqlx::query(
                    "UPDATE righe SET identificativo_hmac = COALESCE(identificativo_hmac, $1), \
                     identificativo = NULL, riferimento = NULL, rilascio = NULL, motivo = NULL, \
                     risultato_cifrato = NULL WHERE id = $2",
                )
                .bind(hmac_normalizzato(chiave_hmac, tipo_da(tipo)?, &valore))
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
            let file = sqlx::query(
                "UPDATE file_risposta SET eliminato_ms = $1 WHERE richiesta_id = $2 AND eliminato_ms IS NULL",
            )
            .bind(ora)
            .bind(richiesta_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            let audit = Audit::nuovo(
                attore,
                format!("richiesta:{richiesta_id}"),
                "RICHIESTA_PURGATA",
            )
            .con_dettagli(json!({"righe": righe.len(), "file": file}));
            let (comune, ente) = parti_richiesta!(tx, richiesta_id);
            tx.appendi_audit(&audit.con_comune(comune).con_ente(ente))
                .await?;
            righe.len() as u64
        }))
    }

    /// Hashes kept for a request's rows, by line number (for the archive).
    pub async fn hash_identificativi(
        &self,
        richiesta_id: i64,
    ) -> Result<Vec<(i64, Option<String>)>, ErroreStore> {
        leggi!(self, |ex| {
            let righe = sqlx::query("SELECT numero, identificativo_hmac FROM righe WHERE richiesta_id = $1 ORDER BY numero")
                .bind(richiesta_id)
                .fetch_all(ex)
                .await?;
            let mut v = Vec::with_capacity(righe.len());
            for r in &righe {
                v.push((r.try_get(0)?, r.try_get(1)?));
            }
            Ok(v)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_per_tipo_e_valore() {
        let k = Segreto::new(vec![5u8; 32]);
        let a = hmac_identificativo(&k, "CF", "RSSMRA80A01F205X");
        assert_eq!(a.len(), 32);
        assert_eq!(a, hmac_identificativo(&k, "CF", "RSSMRA80A01F205X"));
        assert_ne!(a, hmac_identificativo(&k, "IDANPR", "RSSMRA80A01F205X"));
        assert_ne!(
            a,
            hmac_identificativo(&Segreto::new(vec![6u8; 32]), "CF", "RSSMRA80A01F205X")
        );
    }

    #[test]
    fn normalizzazione_come_i_parser() {
        use TipoIdentificativo as T;
        assert_eq!(
            identificativo_normalizzato(T::Cf, " sttsgt90a01h501j "),
            "STTSGT90A01H501J"
        );
        assert_eq!(
            identificativo_normalizzato(T::IdAnpr, "ev45959ww"),
            "EV45959WW"
        );
        assert_eq!(
            identificativo_normalizzato(T::Ci, " ca 00000 aa"),
            "CA00000AA"
        );
        // Refused by the parser: kept as written, trimmed.
        assert_eq!(identificativo_normalizzato(T::Cf, " xxx "), "xxx");
        let k = Segreto::new(vec![5u8; 32]);
        assert_eq!(
            hmac_normalizzato(&k, T::Cf, "sttsgt90a01h501j"),
            hmac_identificativo(&k, "CF", "STTSGT90A01H501J")
        );
        assert_eq!(
            hmac_normalizzato(&k, T::IdAnpr, " ev45959ww"),
            hmac_identificativo(&k, "IDANPR", "EV45959WW")
        );
    }
}
