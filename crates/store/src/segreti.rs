//! Server secrets (DESIGN §6): the master key file, AES-256-GCM encryption of everything secret
//! stored in the database, and the generated keys kept encrypted in the table `segreti`.

use crate::{ErroreStore, Store};
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom as _, SystemRandom};
use aws_lc_rs::signature::Ed25519KeyPair;
use sqlx::Row as _;
use std::io::Write as _;
use std::path::Path;

/// Length of the master key file: 32 random bytes, nothing else.
pub const LUNGHEZZA_MASTER_KEY: usize = 32;

/// Name in `segreti` of the HMAC key for identifiers (32 bytes).
pub const SEGRETO_HMAC_IDENTIFICATIVI: &str = "hmac_identificativi";
/// Name in `segreti` of the Ed25519 key that signs audit checkpoints (a PKCS#8 document).
pub const SEGRETO_CHECKPOINT_AUDIT: &str = "ed25519_checkpoint_audit";

/// Bytes of a secret. Debug never shows them.
#[derive(Clone, PartialEq, Eq)]
pub struct Segreto(Vec<u8>);

impl Segreto {
    pub fn new(byte: Vec<u8>) -> Self {
        Segreto(byte)
    }
    pub fn esponi(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Segreto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Segreto({} byte, nascosto)", self.0.len())
    }
}

/// The master key. It encrypts each stored secret with a fresh random 96-bit nonce; stored form
/// is `nonce ‖ ciphertext ‖ tag`. The `contesto` string is bound as associated data, so a value
/// copied into another column or row under another context does not decrypt.
pub struct ChiaveMaestra {
    chiave: LessSafeKey,
}

impl std::fmt::Debug for ChiaveMaestra {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChiaveMaestra(nascosta)")
    }
}

impl ChiaveMaestra {
    pub fn da_byte(byte: &[u8]) -> Result<Self, ErroreStore> {
        if byte.len() != LUNGHEZZA_MASTER_KEY {
            return Err(ErroreStore::Cifratura(
                "la master key deve essere lunga 32 byte",
            ));
        }
        let chiave = UnboundKey::new(&AES_256_GCM, byte)
            .map_err(|_| ErroreStore::Cifratura("master key rifiutata"))?;
        Ok(ChiaveMaestra {
            chiave: LessSafeKey::new(chiave),
        })
    }

    /// Reads the key file (`RIVESTO_MASTER_KEY_FILE`).
    pub fn da_file(percorso: &Path) -> Result<Self, ErroreStore> {
        let errore = |motivo: String| ErroreStore::ChiaveMaestra {
            percorso: percorso.display().to_string(),
            motivo,
        };
        let byte = std::fs::read(percorso).map_err(|e| {
            errore(format!(
                "{e}; per crearla: rivesto admin gen-master-key (32 byte casuali)"
            ))
        })?;
        if byte.len() != LUNGHEZZA_MASTER_KEY {
            return Err(errore(format!(
                "lunghezza {} byte, attesi {LUNGHEZZA_MASTER_KEY}",
                byte.len()
            )));
        }
        Self::da_byte(&byte)
    }

    pub fn cifra(&self, contesto: &str, testo: &[u8]) -> Result<Vec<u8>, ErroreStore> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| ErroreStore::Cifratura("generatore casuale non disponibile"))?;
        let mut dati = testo.to_vec();
        self.chiave
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(contesto.as_bytes()),
                &mut dati,
            )
            .map_err(|_| ErroreStore::Cifratura("cifratura non riuscita"))?;
        let mut uscita = nonce.to_vec();
        uscita.extend_from_slice(&dati);
        Ok(uscita)
    }

    pub fn decifra(&self, contesto: &str, cifrato: &[u8]) -> Result<Segreto, ErroreStore> {
        let rifiuto = ErroreStore::Cifratura(
            "dato cifrato non decifrabile: master key diversa o dato alterato",
        );
        if cifrato.len() < NONCE_LEN {
            return Err(rifiuto);
        }
        let (nonce, resto) = cifrato.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce)
            .map_err(|_| ErroreStore::Cifratura("nonce non valido"))?;
        let mut dati = resto.to_vec();
        let lunghezza = self
            .chiave
            .open_in_place(nonce, Aad::from(contesto.as_bytes()), &mut dati)
            .map_err(|_| rifiuto)?
            .len();
        dati.truncate(lunghezza);
        Ok(Segreto(dati))
    }
}

/// Writes a new master key of 32 random bytes at `percorso`, readable only by its owner (0600).
/// It never overwrites an existing file: losing the key loses every stored secret.
pub fn genera_master_key(percorso: &Path) -> Result<(), ErroreStore> {
    let errore = |motivo: String| ErroreStore::ChiaveMaestra {
        percorso: percorso.display().to_string(),
        motivo,
    };
    if let Some(cartella) = percorso.parent().filter(|c| !c.as_os_str().is_empty()) {
        std::fs::create_dir_all(cartella).map_err(|e| errore(e.to_string()))?;
    }
    let mut chiave = [0u8; LUNGHEZZA_MASTER_KEY];
    SystemRandom::new()
        .fill(&mut chiave)
        .map_err(|_| errore("generatore casuale non disponibile".into()))?;
    let mut opzioni = std::fs::OpenOptions::new();
    opzioni.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opzioni, 0o600);
    let mut file = opzioni.open(percorso).map_err(|e| errore(e.to_string()))?;
    file.write_all(&chiave)
        .and_then(|_| file.sync_all())
        .map_err(|e| errore(e.to_string()))
}

fn contesto_segreto(nome: &str) -> String {
    format!("segreti:{nome}")
}

impl Store {
    /// The generated secret `nome`, created by `genera` on first use and stored encrypted. When
    /// two processes create it at once, the first insert wins and both return that one.
    pub async fn segreto_o_genera(
        &self,
        nome: &str,
        chiave: &ChiaveMaestra,
        genera: impl FnOnce() -> Result<Vec<u8>, ErroreStore>,
    ) -> Result<Segreto, ErroreStore> {
        if let Some(s) = self.segreto(nome, chiave).await? {
            return Ok(s);
        }
        let cifrato = chiave.cifra(&contesto_segreto(nome), &genera()?)?;
        scrivi!(self, |tx| {
            sqlx::query(
                "INSERT INTO segreti (nome, valore_cifrato, creato_ms) VALUES ($1, $2, $3) \
                 ON CONFLICT (nome) DO NOTHING",
            )
            .bind(nome)
            .bind(cifrato)
            .bind(self.adesso_ms())
            .execute(&mut *tx)
            .await?;
        });
        self.segreto(nome, chiave)
            .await?
            .ok_or_else(|| ErroreStore::non_trovato(format!("segreto {nome}")))
    }

    /// A stored secret, decrypted.
    pub async fn segreto(
        &self,
        nome: &str,
        chiave: &ChiaveMaestra,
    ) -> Result<Option<Segreto>, ErroreStore> {
        let riga = leggi!(self, |ex| {
            sqlx::query("SELECT valore_cifrato FROM segreti WHERE nome = $1")
                .bind(nome)
                .fetch_optional(ex)
                .await?
                .map(|r| r.try_get::<Vec<u8>, _>(0))
                .transpose()?
        });
        riga.map(|c| chiave.decifra(&contesto_segreto(nome), &c))
            .transpose()
    }

    /// Replaces the secret `nome` with `nuovo` and keeps the previous value under
    /// `ritirato` (re-encrypted for that name), with an audit entry, in one transaction.
    /// Nothing is kept when `nome` did not exist yet.
    pub async fn ruota_segreto(
        &self,
        nome: &str,
        ritirato: &str,
        nuovo: &[u8],
        chiave: &ChiaveMaestra,
        attore: &crate::Attore,
    ) -> Result<(), ErroreStore> {
        use crate::audit::ConnessioneAudit as _;
        let precedente = self.segreto(nome, chiave).await?;
        let nuovo_cifrato = chiave.cifra(&contesto_segreto(nome), nuovo)?;
        let ritirato_cifrato = precedente
            .map(|p| chiave.cifra(&contesto_segreto(ritirato), p.esponi()))
            .transpose()?;
        // Names only: the values never reach the archive.
        let audit = crate::Audit::nuovo(attore, format!("segreto:{nome}"), "SEGRETO_RUOTATO")
            .con_dettagli(serde_json::json!({"segreto": nome, "precedente": ritirato}));
        let ora = self.adesso_ms();
        scrivi!(self, |tx| {
            if let Some(c) = &ritirato_cifrato {
                sqlx::query(
                    "INSERT INTO segreti (nome, valore_cifrato, creato_ms) VALUES ($1, $2, $3)",
                )
                .bind(ritirato)
                .bind(c)
                .bind(ora)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query(
                "INSERT INTO segreti (nome, valore_cifrato, creato_ms) VALUES ($1, $2, $3) \
                 ON CONFLICT (nome) DO UPDATE SET valore_cifrato = excluded.valore_cifrato, \
                 creato_ms = excluded.creato_ms",
            )
            .bind(nome)
            .bind(&nuovo_cifrato)
            .bind(ora)
            .execute(&mut *tx)
            .await?;
            tx.appendi_audit(&audit).await?;
        });
        Ok(())
    }

    /// The stored secrets whose name starts with `prefisso`, decrypted, oldest first.
    pub async fn segreti_con_prefisso(
        &self,
        prefisso: &str,
        chiave: &ChiaveMaestra,
    ) -> Result<Vec<(String, Segreto)>, ErroreStore> {
        let righe: Vec<(String, Vec<u8>)> = leggi!(self, |ex| {
            sqlx::query(
                "SELECT nome, valore_cifrato FROM segreti WHERE substr(nome, 1, $1) = $2 \
                 ORDER BY creato_ms, nome",
            )
            .bind(i32::try_from(prefisso.len()).unwrap_or(i32::MAX))
            .bind(prefisso)
            .fetch_all(ex)
            .await?
            .into_iter()
            .map(|r| Ok::<_, sqlx::Error>((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_, _>>()?
        });
        righe
            .into_iter()
            .map(|(n, c)| Ok((n.clone(), chiave.decifra(&contesto_segreto(&n), &c)?)))
            .collect()
    }

    /// SQLite only: a consistent copy of the live database into `destinazione` (`VACUUM
    /// INTO`), while other connections keep reading and writing.
    pub async fn copia_sqlite(&self, destinazione: &Path) -> Result<(), ErroreStore> {
        match &self.motore {
            crate::connessione::Motore::Sqlite(s) => {
                let percorso = destinazione.to_str().ok_or_else(|| ErroreStore::Io {
                    percorso: destinazione.display().to_string(),
                    motivo: "percorso non in UTF-8".into(),
                })?;
                sqlx::query("VACUUM INTO $1")
                    .bind(percorso)
                    .execute(&s.lettura)
                    .await?;
                Ok(())
            }
            crate::connessione::Motore::Postgres(_) => Err(ErroreStore::NonSupportato(
                "la copia con VACUUM INTO è solo per SQLite: su PostgreSQL usare pg_dump \
                 (docs/deployment-postgres.md, «Backup e ripristino»)",
            )),
        }
    }

    /// The HMAC key for identifiers (32 random bytes), generated on first use.
    pub async fn chiave_hmac_identificativi(
        &self,
        chiave: &ChiaveMaestra,
    ) -> Result<Segreto, ErroreStore> {
        self.segreto_o_genera(SEGRETO_HMAC_IDENTIFICATIVI, chiave, || {
            let mut k = vec![0u8; 32];
            SystemRandom::new()
                .fill(&mut k)
                .map_err(|_| ErroreStore::Cifratura("generatore casuale non disponibile"))?;
            Ok(k)
        })
        .await
    }

    /// The Ed25519 audit-checkpoint key as PKCS#8, generated on first use.
    pub async fn chiave_checkpoint_audit(
        &self,
        chiave: &ChiaveMaestra,
    ) -> Result<Segreto, ErroreStore> {
        self.segreto_o_genera(SEGRETO_CHECKPOINT_AUDIT, chiave, || {
            Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
                .map(|d| d.as_ref().to_vec())
                .map_err(|_| {
                    ErroreStore::Cifratura("generazione della chiave Ed25519 non riuscita")
                })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cifra_e_decifra_con_contesto() {
        let k = ChiaveMaestra::da_byte(&[7u8; 32]).unwrap();
        let c = k.cifra("a", b"segreto").unwrap();
        assert_eq!(c.len(), NONCE_LEN + 7 + 16);
        assert_eq!(k.decifra("a", &c).unwrap().esponi(), b"segreto");
        // Another context, a flipped bit or another key: all refused.
        assert!(k.decifra("b", &c).is_err());
        let mut alterato = c.clone();
        alterato[NONCE_LEN] ^= 1;
        assert!(k.decifra("a", &alterato).is_err());
        let altra = ChiaveMaestra::da_byte(&[8u8; 32]).unwrap();
        assert!(altra.decifra("a", &c).is_err());
        // Fresh nonce per value.
        assert_ne!(k.cifra("a", b"segreto").unwrap(), c);
    }

    #[test]
    fn debug_non_mostra_segreti() {
        let s = Segreto::new(b"password-di-prova".to_vec());
        assert!(!format!("{s:?}").contains("password"));
        let k = ChiaveMaestra::da_byte(&[7u8; 32]).unwrap();
        assert_eq!(format!("{k:?}"), "ChiaveMaestra(nascosta)");
    }

    #[test]
    fn master_key_generata_0600_e_mai_sovrascritta() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sotto/master.key");
        genera_master_key(&p).unwrap();
        assert_eq!(std::fs::read(&p).unwrap().len(), 32);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let modo = std::fs::metadata(&p).unwrap().permissions().mode();
            assert_eq!(modo & 0o777, 0o600);
        }
        assert!(genera_master_key(&p).is_err());
        assert!(ChiaveMaestra::da_file(&p).is_ok());
        std::fs::write(dir.path().join("corta"), [1u8; 16]).unwrap();
        assert!(ChiaveMaestra::da_file(&dir.path().join("corta")).is_err());
    }
}
