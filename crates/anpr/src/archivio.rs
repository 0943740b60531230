//! Operation ids (`idOperazioneClient`, DESIGN §4): numeric, at most 30 digits, derived from the
//! clock, never below a persisted high-water mark, unique across processes, and stored before
//! the call so that a call redone after a crash reuses its id (ANPR then replays its answer).
//!
//! The database takes this over later; until then [`ArchivioFile`] keeps it under the data dir.

use crate::security::Orologio;
use sha2::{Digest as _, Sha256};
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// A numeric idOperazioneClient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IdOperazione(pub u128);

impl std::fmt::Display for IdOperazione {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Ids are `epoch_ms × 1000 + n`: 16 digits today, far below the 30 allowed, and a thousand
/// ids per millisecond before they run ahead of the clock.
pub const MOLTIPLICATORE: u128 = 1000;
const MASSIMO: u128 = 10u128.pow(30) - 1;

#[derive(Debug, thiserror::Error)]
pub enum ErroreArchivio {
    #[error("archivio degli id di operazione ({percorso}): {motivo}")]
    Io { percorso: String, motivo: String },
    #[error("archivio degli id di operazione: contenuto non valido in {percorso}")]
    Corrotto { percorso: String },
    #[error("id di operazione esauriti: oltre 30 cifre")]
    Esaurito,
}

/// Where operation ids come from.
pub trait ArchivioIdOperazione: Send + Sync {
    /// The id stored for this call key, or a fresh one above the high-water mark, persisted
    /// before it is returned.
    fn id_per(&self, chiave_chiamata: &str) -> Result<IdOperazione, ErroreArchivio>;

    /// A fresh id for a call key that ANPR refused for a low id it never answered: it replaces
    /// the stored one.
    fn nuovo_id(&self, chiave_chiamata: &str) -> Result<IdOperazione, ErroreArchivio>;

    /// The call got its final answer: its key may be forgotten.
    fn completa(&self, chiave_chiamata: &str) -> Result<(), ErroreArchivio>;
}

fn prossimo(ora_ms: i64, ultimo: u128) -> Result<u128, ErroreArchivio> {
    let dal_clock = (ora_ms.max(0) as u128) * MOLTIPLICATORE;
    let id = dal_clock.max(ultimo + 1);
    if id > MASSIMO {
        return Err(ErroreArchivio::Esaurito);
    }
    Ok(id)
}

/// In memory: for tests, benchmarks and one-shot commands.
pub struct ArchivioMemoria {
    orologio: Arc<dyn Orologio>,
    stato: Mutex<(u128, HashMap<String, u128>)>,
}

impl ArchivioMemoria {
    pub fn new(orologio: Arc<dyn Orologio>) -> Self {
        ArchivioMemoria {
            orologio,
            stato: Mutex::new((0, HashMap::new())),
        }
    }

    fn assegna(&self, chiave: &str, riusa: bool) -> Result<IdOperazione, ErroreArchivio> {
        let mut g = self.stato.lock().unwrap_or_else(|e| e.into_inner());
        if riusa && let Some(id) = g.1.get(chiave) {
            return Ok(IdOperazione(*id));
        }
        let id = prossimo(self.orologio.adesso_ms(), g.0)?;
        g.0 = id;
        g.1.insert(chiave.to_string(), id);
        Ok(IdOperazione(id))
    }
}

impl ArchivioIdOperazione for ArchivioMemoria {
    fn id_per(&self, chiave: &str) -> Result<IdOperazione, ErroreArchivio> {
        self.assegna(chiave, true)
    }
    fn nuovo_id(&self, chiave: &str) -> Result<IdOperazione, ErroreArchivio> {
        self.assegna(chiave, false)
    }
    fn completa(&self, chiave: &str) -> Result<(), ErroreArchivio> {
        let mut g = self.stato.lock().unwrap_or_else(|e| e.into_inner());
        g.1.remove(chiave);
        Ok(())
    }
}

/// Files under `<data dir>/anpr-id/`: `ultimo` holds the high-water mark, `chiamate/<hash>` the
/// id of each open call. An OS file lock on `lock` serialises processes; the lock dies with its
/// process, so a crash never leaves it held.
///
/// Writes are not fsynced: after a power loss the clock has moved on, and the clock, not the
/// file, is what keeps fresh ids above those already sent.
pub struct ArchivioFile {
    cartella: PathBuf,
    orologio: Arc<dyn Orologio>,
    // Threads of one process queue here before taking the OS lock.
    locale: Mutex<()>,
}

impl ArchivioFile {
    /// Opens (creating it if needed) the store under `data_dir`.
    pub fn apri(data_dir: &Path, orologio: Arc<dyn Orologio>) -> Result<Self, ErroreArchivio> {
        let cartella = data_dir.join("anpr-id");
        std::fs::create_dir_all(cartella.join("chiamate")).map_err(|e| io(&cartella, e))?;
        Ok(ArchivioFile {
            cartella,
            orologio,
            locale: Mutex::new(()),
        })
    }

    fn file_chiamata(&self, chiave: &str) -> PathBuf {
        let h = hex::encode(Sha256::digest(chiave.as_bytes()));
        self.cartella.join("chiamate").join(h)
    }

    fn con_lock<T>(
        &self,
        f: impl FnOnce() -> Result<T, ErroreArchivio>,
    ) -> Result<T, ErroreArchivio> {
        let _g = self.locale.lock().unwrap_or_else(|e| e.into_inner());
        let percorso = self.cartella.join("lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&percorso)
            .map_err(|e| io(&percorso, e))?;
        file.lock().map_err(|e| io(&percorso, e))?;
        let esito = f();
        // Closing the file releases the lock as well; unlocking first makes it explicit.
        let _ = file.unlock();
        esito
    }

    fn assegna(&self, chiave: &str, riusa: bool) -> Result<IdOperazione, ErroreArchivio> {
        self.con_lock(|| {
            let file = self.file_chiamata(chiave);
            if riusa && let Some(id) = leggi_numero(&file)? {
                return Ok(IdOperazione(id));
            }
            let ultimo_file = self.cartella.join("ultimo");
            let ultimo = leggi_numero(&ultimo_file)?.unwrap_or(0);
            let id = prossimo(self.orologio.adesso_ms(), ultimo)?;
            scrivi_atomico(&ultimo_file, id)?;
            scrivi_atomico(&file, id)?;
            Ok(IdOperazione(id))
        })
    }
}

impl ArchivioIdOperazione for ArchivioFile {
    fn id_per(&self, chiave: &str) -> Result<IdOperazione, ErroreArchivio> {
        self.assegna(chiave, true)
    }
    fn nuovo_id(&self, chiave: &str) -> Result<IdOperazione, ErroreArchivio> {
        self.assegna(chiave, false)
    }
    fn completa(&self, chiave: &str) -> Result<(), ErroreArchivio> {
        let file = self.file_chiamata(chiave);
        match std::fs::remove_file(&file) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(&file, e)),
            _ => Ok(()),
        }
    }
}

fn io(p: &Path, e: std::io::Error) -> ErroreArchivio {
    ErroreArchivio::Io {
        percorso: p.display().to_string(),
        motivo: e.to_string(),
    }
}

fn leggi_numero(p: &Path) -> Result<Option<u128>, ErroreArchivio> {
    let mut testo = String::new();
    match File::open(p) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(p, e)),
        Ok(mut f) => f.read_to_string(&mut testo).map_err(|e| io(p, e))?,
    };
    testo
        .trim()
        .parse()
        .map(Some)
        .map_err(|_| ErroreArchivio::Corrotto {
            percorso: p.display().to_string(),
        })
}

// Write-then-rename: a reader never sees half a number.
fn scrivi_atomico(p: &Path, n: u128) -> Result<(), ErroreArchivio> {
    let tmp = p.with_extension("tmp");
    let mut f = File::create(&tmp).map_err(|e| io(&tmp, e))?;
    f.write_all(n.to_string().as_bytes())
        .map_err(|e| io(&tmp, e))?;
    drop(f);
    std::fs::rename(&tmp, p).map_err(|e| io(p, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicI64, Ordering};

    struct Fermo(AtomicI64);
    impl Orologio for Fermo {
        fn adesso_ms(&self) -> i64 {
            self.0.load(Ordering::SeqCst)
        }
    }

    #[test]
    fn ids_come_from_the_clock_and_never_go_back() {
        let o = Arc::new(Fermo(AtomicI64::new(1_750_000_000_000)));
        let a = ArchivioMemoria::new(o.clone());
        assert_eq!(a.id_per("x").unwrap(), IdOperazione(1_750_000_000_000_000));
        // Same millisecond: the next id is one above.
        assert_eq!(a.id_per("y").unwrap(), IdOperazione(1_750_000_000_000_001));
        // The clock goes back: the high-water mark wins.
        o.0.store(1_700_000_000_000, Ordering::SeqCst);
        assert_eq!(a.id_per("z").unwrap(), IdOperazione(1_750_000_000_000_002));
        // Replay: the same key gets the same id.
        assert_eq!(a.id_per("x").unwrap(), IdOperazione(1_750_000_000_000_000));
        assert_eq!(
            a.nuovo_id("x").unwrap(),
            IdOperazione(1_750_000_000_000_003)
        );
        assert_eq!(a.id_per("x").unwrap(), IdOperazione(1_750_000_000_000_003));
        assert!(a.id_per("x").unwrap().to_string().len() <= 30);
    }

    #[test]
    fn file_store_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let o = Arc::new(Fermo(AtomicI64::new(1_750_000_000_000)));
        let id = {
            let a = ArchivioFile::apri(dir.path(), o.clone()).unwrap();
            a.id_per("riga-1:C030").unwrap()
        };
        // A "crash" later, with the clock set back: the same call gets the same id, a new call
        // gets a higher one.
        o.0.store(1_600_000_000_000, Ordering::SeqCst);
        let a = ArchivioFile::apri(dir.path(), o).unwrap();
        assert_eq!(a.id_per("riga-1:C030").unwrap(), id);
        let nuovo = a.id_per("riga-2:C030").unwrap();
        assert_eq!(nuovo, IdOperazione(id.0 + 1));
        a.completa("riga-1:C030").unwrap();
        assert_eq!(a.id_per("riga-1:C030").unwrap(), IdOperazione(id.0 + 2));
    }

    #[test]
    fn file_store_is_unique_across_handles_and_threads() {
        // Two handles on one folder stand for two processes; both share the OS lock.
        let dir = tempfile::tempdir().unwrap();
        let o: Arc<dyn Orologio> = Arc::new(Fermo(AtomicI64::new(1_750_000_000_000)));
        let a = Arc::new(ArchivioFile::apri(dir.path(), o.clone()).unwrap());
        let b = Arc::new(ArchivioFile::apri(dir.path(), o).unwrap());
        let mut fili = Vec::new();
        for (n, arch) in [a, b].into_iter().enumerate() {
            for t in 0..4 {
                let arch = arch.clone();
                fili.push(std::thread::spawn(move || {
                    (0..25)
                        .map(|i| arch.id_per(&format!("{n}-{t}-{i}")).unwrap())
                        .collect::<Vec<_>>()
                }));
            }
        }
        let mut tutti: Vec<IdOperazione> =
            fili.into_iter().flat_map(|f| f.join().unwrap()).collect();
        tutti.sort();
        tutti.dedup();
        assert_eq!(tutti.len(), 200);
    }

    #[test]
    fn corrupt_mark_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let a = ArchivioFile::apri(dir.path(), Arc::new(crate::security::OrologioSistema)).unwrap();
        std::fs::write(dir.path().join("anpr-id").join("ultimo"), "abc").unwrap();
        let e = a.id_per("k").unwrap_err().to_string();
        assert!(e.contains("contenuto non valido"), "{e}");
    }
}
