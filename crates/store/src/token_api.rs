//! API tokens of the JSON API (web W4). Rows are keyed by the SHA-256 of the token, as sessions
//! are: a copy of the table gives no token that works, and the token itself is never stored,
//! logged or audited. Creation and revocation are audited; use only updates `ultimo_uso_ms`.

use crate::audit::ConnessioneAudit as _;
use crate::{Attore, Audit, ErroreStore, Store};
use serde_json::json;
use sha2::{Digest as _, Sha256};
use sqlx::Row as _;

/// The last use is written back at most this often, so a busy script does not turn every API
/// call into a write.
const AGGIORNA_USO_OGNI_MS: i64 = 60 * 1000;

fn impronta(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A token to create. The secret itself is passed apart, to [`Store::crea_token_api`], and only
/// its hash is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NuovoTokenApi {
    pub utente_id: i64,
    /// The owner's label ("script protocollo").
    pub nome: String,
    /// `LoA1` or `LoA2`: the sign-in level of the session that created it (DESIGN §4).
    pub loa: String,
}

/// A stored token, without its secret (which is not kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenApi {
    pub id: i64,
    pub utente_id: i64,
    pub nome: String,
    pub loa: String,
    pub creato_ms: i64,
    pub ultimo_uso_ms: Option<i64>,
    pub revocato_ms: Option<i64>,
}

const COLONNE: &str = "id, utente_id, nome, loa, creato_ms, ultimo_uso_ms, revocato_ms";

macro_rules! token_da_riga {
    ($r:expr) => {
        TokenApi {
            id: $r.try_get("id")?,
            utente_id: $r.try_get("utente_id")?,
            nome: $r.try_get("nome")?,
            loa: $r.try_get("loa")?,
            creato_ms: $r.try_get("creato_ms")?,
            ultimo_uso_ms: $r.try_get("ultimo_uso_ms")?,
            revocato_ms: $r.try_get("revocato_ms")?,
        }
    };
}

impl Store {
    /// Stores the hash of `token` for the user, and audits it (name and LoA, never the token).
    pub async fn crea_token_api(
        &self,
        nuovo: &NuovoTokenApi,
        token: &str,
        ora_ms: i64,
        attore: &Attore,
    ) -> Result<i64, ErroreStore> {
        let u = self.utente(nuovo.utente_id).await?;
        Ok(scrivi!(self, |tx| {
            let id: i64 = sqlx::query(
                "INSERT INTO token_api (utente_id, nome, hash, loa, creato_ms) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(nuovo.utente_id)
            .bind(&nuovo.nome)
            .bind(impronta(token))
            .bind(&nuovo.loa)
            .bind(ora_ms)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
            let audit = Audit::nuovo(attore, format!("utente:{}", u.username), "TOKEN_API_CREATO")
                .con_dettagli(json!({"token_id": id, "nome": nuovo.nome, "loa": nuovo.loa}));
            tx.appendi_audit(&audit).await?;
            id
        }))
    }

    /// The user's tokens, revoked ones included, newest first.
    pub async fn token_api_utente(&self, utente_id: i64) -> Result<Vec<TokenApi>, ErroreStore> {
        let sql = format!("SELECT {COLONNE} FROM token_api WHERE utente_id = $1 ORDER BY id DESC");
        leggi!(self, |ex| {
            let righe = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(utente_id)
                .fetch_all(ex)
                .await?;
            let mut v = Vec::with_capacity(righe.len());
            for r in &righe {
                v.push(token_da_riga!(r));
            }
            Ok(v)
        })
    }

    /// Revokes token `id` of user `utente_id`. A token of another user is `NonTrovato`, exactly
    /// like a missing one. Returns false (and audits nothing) when it was already revoked.
    pub async fn revoca_token_api(
        &self,
        utente_id: i64,
        id: i64,
        ora_ms: i64,
        attore: &Attore,
    ) -> Result<bool, ErroreStore> {
        let u = self.utente(utente_id).await?;
        Ok(scrivi!(self, |tx| {
            let r = sqlx::query(
                "SELECT nome, revocato_ms FROM token_api WHERE id = $1 AND utente_id = $2",
            )
            .bind(id)
            .bind(utente_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| ErroreStore::non_trovato(format!("token {id}")))?;
            if r.try_get::<Option<i64>, _>("revocato_ms")?.is_some() {
                false
            } else {
                let nome: String = r.try_get("nome")?;
                sqlx::query("UPDATE token_api SET revocato_ms = $1 WHERE id = $2")
                    .bind(ora_ms)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                let audit = Audit::nuovo(
                    attore,
                    format!("utente:{}", u.username),
                    "TOKEN_API_REVOCATO",
                )
                .con_dettagli(json!({"token_id": id, "nome": nome}));
                tx.appendi_audit(&audit).await?;
                true
            }
        }))
    }

    /// The live (not revoked) token whose secret is `token`, recording its use at `ora_ms`.
    /// Whether its owner may still act (an enabled account) is the caller's check.
    pub async fn usa_token_api(
        &self,
        token: &str,
        ora_ms: i64,
    ) -> Result<Option<TokenApi>, ErroreStore> {
        let sql =
            format!("SELECT {COLONNE} FROM token_api WHERE hash = $1 AND revocato_ms IS NULL");
        let trovato: Option<TokenApi> = leggi!(self, |ex| {
            match sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(impronta(token))
                .fetch_optional(ex)
                .await?
            {
                Some(r) => Some(token_da_riga!(r)),
                None => None,
            }
        });
        let Some(mut t) = trovato else {
            return Ok(None);
        };
        if t.ultimo_uso_ms
            .is_none_or(|u| ora_ms - u >= AGGIORNA_USO_OGNI_MS)
        {
            scrivi!(self, |tx| {
                sqlx::query("UPDATE token_api SET ultimo_uso_ms = $1 WHERE id = $2")
                    .bind(ora_ms)
                    .bind(t.id)
                    .execute(&mut *tx)
                    .await?;
            });
            t.ultimo_uso_ms = Some(ora_ms);
        }
        Ok(Some(t))
    }
}
