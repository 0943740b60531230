//! Result files at rest (DESIGN §2, §6): encrypted with age to the server's X25519 identity,
//! streamed so a file of any size never sits whole in memory, and written atomically (a temp
//! file in the same folder, synced, then renamed) so a crash leaves either nothing or the whole
//! file. The SHA-256 and size recorded are the plaintext's: they are what the archive keeps and
//! what a downloaded file can be checked against.

use age::secrecy::ExposeSecret as _;
use age::x25519;
use sha2::{Digest as _, Sha256};
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr as _;
use tempfile::NamedTempFile;

#[derive(Debug, thiserror::Error)]
pub enum ErroreCifratura {
    #[error("{operazione} di {}: {fonte}", percorso.display())]
    Io {
        operazione: &'static str,
        percorso: PathBuf,
        fonte: io::Error,
    },
    /// Never carries the key text: it may be a secret.
    #[error("chiave age non valida: {0}")]
    Chiave(&'static str),
    #[error(
        "{}: impossibile decifrare con l'identità configurata (identità diversa o file danneggiato): {dettaglio}",
        percorso.display()
    )]
    Decifratura {
        percorso: PathBuf,
        dettaglio: String,
    },
}

fn io_err(operazione: &'static str, percorso: &Path) -> impl FnOnce(io::Error) -> ErroreCifratura {
    let percorso = percorso.to_path_buf();
    move |fonte| ErroreCifratura::Io {
        operazione,
        percorso,
        fonte,
    }
}

/// The server's age identity. The store keeps it encrypted with the master key.
pub struct IdentitaFile(x25519::Identity);

impl IdentitaFile {
    pub fn genera() -> Self {
        IdentitaFile(x25519::Identity::generate())
    }

    /// Reads an `AGE-SECRET-KEY-1…` string.
    pub fn da_testo(testo: &str) -> Result<Self, ErroreCifratura> {
        x25519::Identity::from_str(testo.trim())
            .map(IdentitaFile)
            .map_err(|_| ErroreCifratura::Chiave("identità X25519 attesa (AGE-SECRET-KEY-1…)"))
    }

    /// The secret text, only to be stored encrypted.
    pub fn esporta_segreto(&self) -> String {
        self.0.to_string().expose_secret().to_string()
    }

    pub fn destinatario(&self) -> Destinatario {
        Destinatario(self.0.to_public())
    }
}

impl std::fmt::Debug for IdentitaFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdentitaFile(«riservata»)")
    }
}

/// The public half (`age1…`): enough to encrypt, not to decrypt.
#[derive(Clone)]
pub struct Destinatario(x25519::Recipient);

impl Destinatario {
    pub fn da_testo(testo: &str) -> Result<Self, ErroreCifratura> {
        x25519::Recipient::from_str(testo.trim())
            .map(Destinatario)
            .map_err(|_| ErroreCifratura::Chiave("destinatario X25519 atteso (age1…)"))
    }
}

impl std::fmt::Display for Destinatario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::fmt::Debug for Destinatario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Destinatario({})", self.0)
    }
}

/// An encrypted file in place, with its plaintext's fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileCifrato {
    pub percorso: PathBuf,
    /// Lowercase hex SHA-256 of the plaintext.
    pub sha256: String,
    /// Plaintext size in bytes.
    pub byte: u64,
}

type Flusso = age::stream::StreamWriter<BufWriter<NamedTempFile>>;

/// A `Write` that encrypts what it is given into `destinazione`: the result writers can stream
/// straight into it, so the plaintext never touches the disk. Nothing appears at `destinazione`
/// until `completa`; dropped before that, it leaves nothing behind.
pub struct ScrittoreCifrato {
    destinazione: PathBuf,
    flusso: Flusso,
    hash: Sha256,
    byte: u64,
}

impl ScrittoreCifrato {
    pub fn crea(destinazione: &Path, destinatario: &Destinatario) -> Result<Self, ErroreCifratura> {
        let cartella = match destinazione.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let temp = tempfile::Builder::new()
            .prefix(".rivesto-")
            .suffix(".tmp")
            .tempfile_in(cartella)
            .map_err(io_err("creazione del file temporaneo", cartella))?;
        let destinatari = [&destinatario.0 as &dyn age::Recipient];
        let flusso = age::Encryptor::with_recipients(destinatari.into_iter())
            .map_err(|e| ErroreCifratura::Io {
                operazione: "preparazione della cifratura",
                percorso: destinazione.to_path_buf(),
                fonte: io::Error::other(e.to_string()),
            })?
            .wrap_output(BufWriter::with_capacity(64 * 1024, temp))
            .map_err(io_err("scrittura dell'intestazione age", destinazione))?;
        Ok(ScrittoreCifrato {
            destinazione: destinazione.to_path_buf(),
            flusso,
            hash: Sha256::new(),
            byte: 0,
        })
    }

    /// Seals the stream, syncs it and renames it into place.
    pub fn completa(self) -> Result<FileCifrato, ErroreCifratura> {
        let d = &self.destinazione;
        let temp = self
            .flusso
            .finish()
            .map_err(io_err("chiusura del flusso cifrato", d))?
            .into_inner()
            .map_err(|e| io_err("scrittura", d)(e.into_error()))?;
        temp.as_file()
            .sync_all()
            .map_err(io_err("sincronizzazione su disco", d))?;
        temp.persist(d)
            .map_err(|e| io_err("spostamento nella destinazione", d)(e.error))?;
        Ok(FileCifrato {
            percorso: self.destinazione,
            sha256: hex::encode(self.hash.finalize()),
            byte: self.byte,
        })
    }
}

impl Write for ScrittoreCifrato {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.flusso.write(buf)?;
        self.hash.update(&buf[..n]);
        self.byte += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flusso.flush()
    }
}

/// Encrypts `chiaro` into `chiaro` + `.age`, beside it. The caller deletes the plaintext.
pub fn cifra_file(
    chiaro: &Path,
    destinatario: &Destinatario,
) -> Result<FileCifrato, ErroreCifratura> {
    let mut nome = chiaro.as_os_str().to_owned();
    nome.push(".age");
    cifra_in(chiaro, Path::new(&nome), destinatario)
}

/// Encrypts `chiaro` into `destinazione`.
pub fn cifra_in(
    chiaro: &Path,
    destinazione: &Path,
    destinatario: &Destinatario,
) -> Result<FileCifrato, ErroreCifratura> {
    let mut ingresso = File::open(chiaro).map_err(io_err("apertura", chiaro))?;
    let mut s = ScrittoreCifrato::crea(destinazione, destinatario)?;
    io::copy(&mut ingresso, &mut s).map_err(io_err("cifratura", chiaro))?;
    s.completa()
}

/// Decrypts `cifrato` into `uscita`, streaming; returns the plaintext's size and SHA-256.
pub fn decifra(
    cifrato: &Path,
    identita: &IdentitaFile,
    uscita: &mut impl Write,
) -> Result<(u64, String), ErroreCifratura> {
    decifra_con(cifrato, std::slice::from_ref(identita), uscita)
}

/// As [`decifra`], with any of several identities: the current one and those retired by a
/// key rotation, so files written before the rotation still open.
pub fn decifra_con(
    cifrato: &Path,
    identita: &[IdentitaFile],
    uscita: &mut impl Write,
) -> Result<(u64, String), ErroreCifratura> {
    let non_decifrabile = |dettaglio: String| ErroreCifratura::Decifratura {
        percorso: cifrato.to_path_buf(),
        dettaglio,
    };
    let f = File::open(cifrato).map_err(io_err("apertura", cifrato))?;
    let mut lettore = age::Decryptor::new_buffered(BufReader::with_capacity(64 * 1024, f))
        .map_err(|e| non_decifrabile(e.to_string()))?
        .decrypt(identita.iter().map(|i| &i.0 as &dyn age::Identity))
        .map_err(|e| non_decifrabile(e.to_string()))?;
    let mut hash = Sha256::new();
    let mut byte = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        // A read error here is a failed authentication tag: the file was altered.
        let n = lettore
            .read(&mut buf)
            .map_err(|e| non_decifrabile(e.to_string()))?;
        if n == 0 {
            break;
        }
        hash.update(&buf[..n]);
        byte += n as u64;
        uscita
            .write_all(&buf[..n])
            .map_err(|e| ErroreCifratura::Io {
                operazione: "scrittura del testo in chiaro",
                percorso: cifrato.to_path_buf(),
                fonte: e,
            })?;
    }
    Ok((byte, hex::encode(hash.finalize())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn le_chiavi_non_compaiono_nei_messaggi() {
        let id = IdentitaFile::genera();
        let segreto = id.esporta_segreto();
        assert!(segreto.starts_with("AGE-SECRET-KEY-1"));
        assert_eq!(format!("{id:?}"), "IdentitaFile(«riservata»)");
        let di_nuovo = IdentitaFile::da_testo(&segreto).unwrap();
        assert_eq!(
            di_nuovo.destinatario().to_string(),
            id.destinatario().to_string()
        );
        assert!(id.destinatario().to_string().starts_with("age1"));
        // One character changed (bech32's checksum catches any): not to itself, which would
        // leave the key valid once in 32 runs.
        let sostituto = if segreto.ends_with('X') { 'Q' } else { 'X' };
        let guasto = format!("{}{sostituto}", &segreto[..segreto.len() - 1]);
        let e = IdentitaFile::da_testo(&guasto).unwrap_err().to_string();
        assert!(!e.contains(&segreto[20..]), "{e}");
        assert_eq!(
            e,
            "chiave age non valida: identità X25519 attesa (AGE-SECRET-KEY-1…)"
        );
    }

    #[test]
    fn abbandonato_non_lascia_nulla() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("r.csv.age");
        let mut s = ScrittoreCifrato::crea(&dest, &IdentitaFile::genera().destinatario()).unwrap();
        s.write_all(b"cf;esito\n").unwrap();
        drop(s);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
