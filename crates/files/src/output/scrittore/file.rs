//! Atomic publication: a part is written to a hidden temp file beside its final name, synced,
//! then renamed, so a reader never sees half a file. A part left unfinished (error, crash of the
//! caller's loop) is removed when dropped.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{ErroreOutput, FileScritto};

pub(super) fn errore_io(percorso: &Path) -> impl FnOnce(io::Error) -> ErroreOutput + '_ {
    move |fonte| ErroreOutput::Io {
        percorso: percorso.to_path_buf(),
        fonte,
    }
}

/// The temp path and final path of a part; removes the temp file unless published.
pub(super) struct Destinazione {
    pub(super) tmp: PathBuf,
    pub(super) finale: PathBuf,
    nome: String,
    pubblicato: bool,
}

impl Destinazione {
    pub(super) fn new(cartella: &Path, nome: &str) -> Destinazione {
        Destinazione {
            tmp: cartella.join(format!(".{nome}.tmp")),
            finale: cartella.join(nome),
            nome: nome.to_owned(),
            pubblicato: false,
        }
    }

    /// Renames the synced temp file to its final name.
    pub(super) fn pubblica(
        mut self,
        righe: u64,
        sha256: [u8; 32],
        byte: u64,
    ) -> Result<FileScritto, ErroreOutput> {
        std::fs::rename(&self.tmp, &self.finale).map_err(errore_io(&self.finale))?;
        self.pubblicato = true;
        Ok(FileScritto {
            nome: std::mem::take(&mut self.nome),
            percorso: self.finale.clone(),
            righe,
            sha256_hex: hex::encode(sha256),
            byte,
        })
    }
}

impl Drop for Destinazione {
    fn drop(&mut self) {
        if !self.pubblicato {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// A temp file that hashes and counts what goes through it.
pub(super) struct FileConImpronta {
    file: File,
    impronta: Sha256,
    byte: u64,
    pub(super) destinazione: Destinazione,
}

impl FileConImpronta {
    pub(super) fn crea(cartella: &Path, nome: &str) -> Result<FileConImpronta, ErroreOutput> {
        let destinazione = Destinazione::new(cartella, nome);
        let file = File::create(&destinazione.tmp).map_err(errore_io(&destinazione.tmp))?;
        Ok(FileConImpronta {
            file,
            impronta: Sha256::new(),
            byte: 0,
            destinazione,
        })
    }

    pub(super) fn completa(mut self, righe: u64) -> Result<FileScritto, ErroreOutput> {
        let tmp = self.destinazione.tmp.clone();
        self.file.flush().map_err(errore_io(&tmp))?;
        self.file.sync_all().map_err(errore_io(&tmp))?;
        let sha = self.impronta.finalize().into();
        self.destinazione.pubblica(righe, sha, self.byte)
    }
}

impl Write for FileConImpronta {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.impronta.update(&buf[..n]);
        self.byte += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// Hashes a file written by someone else (the XLSX library), reading it in chunks.
pub(super) fn impronta_file(percorso: &Path) -> Result<([u8; 32], u64), ErroreOutput> {
    let mut f = File::open(percorso).map_err(errore_io(percorso))?;
    f.sync_all().map_err(errore_io(percorso))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut byte = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(errore_io(percorso))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        byte += n as u64;
    }
    Ok((h.finalize().into(), byte))
}

/// Makes the renames durable (a directory can be synced only on Unix).
pub(super) fn sincronizza_cartella(cartella: &Path) -> Result<(), ErroreOutput> {
    if cfg!(unix) {
        File::open(cartella)
            .and_then(|d| d.sync_all())
            .map_err(errore_io(cartella))?;
    }
    Ok(())
}
