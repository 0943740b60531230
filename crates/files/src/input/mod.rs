//! The tracciato di input (DESIGN §5 "Input"): CSV or XLSX lists of identifiers, checked row by
//! row while streaming.
//!
//! Two passes over the bytes. The first decides the file type and encoding over the whole file
//! and enforces the size limit; the second reads the records and hands each row to the caller.
//! Neither holds the file in memory. A stream that cannot seek is copied to an anonymous
//! temporary file during the first pass.
//!
//! When [`analizza`] returns a [`RifiutoFile`], rows may already have been handed to `visita`
//! (the row limit, for one, is only known when it is passed): a submission is all-or-nothing,
//! so the caller discards them.

mod csv;
mod duplicati;
mod esame;
mod prova;
mod rapporto;
mod record;
mod righe;
mod xlsx;

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Cursor, Read, Seek, SeekFrom, Write};
use std::path::Path;

use chrono::NaiveDate;

use esame::{Codifica, Contenuto};
pub use prova::genera_file_prova;
pub use rapporto::{Formato, MAX_PROBLEMI, Problema, Rapporto, RifiutoFile, Totali, TotaliTipo};
pub use righe::{ErroreRiga, EsitoRiga, MAX_RIFERIMENTO, RigaAnalizzata, Rilascio};

/// Limits checked while streaming. A file over `max_byte`, `max_righe` or (XLSX)
/// `max_decompresso` is refused; a field over `max_campo` makes its row invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limiti {
    /// File size in bytes. Values above 4 GiB are treated as 4 GiB, which keeps line numbers
    /// within 32 bits in the duplicate table.
    pub max_byte: u64,
    /// Data rows: the header and blank lines do not count.
    pub max_righe: u64,
    /// Characters in one field.
    pub max_campo: usize,
    /// Total uncompressed size of an XLSX's entries, in bytes.
    pub max_decompresso: u64,
}

impl Default for Limiti {
    fn default() -> Self {
        Limiti {
            max_byte: 50_000_000,
            max_righe: 1_000_000,
            max_campo: 256,
            max_decompresso: 250_000_000,
        }
    }
}

impl Limiti {
    fn effettivi(mut self) -> Self {
        self.max_byte = self.max_byte.min(u64::from(u32::MAX) - 1);
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opzioni {
    /// Decides the century of a CF's birth year, hence whether 29 February existed.
    pub riferimento: NaiveDate,
}

impl Opzioni {
    pub fn oggi() -> Self {
        Opzioni {
            riferimento: chrono::Local::now().date_naive(),
        }
    }
}

/// Checks a stream, calling `visita` with each data row in order.
pub fn analizza<R: Read>(
    sorgente: R,
    nome_file: Option<&str>,
    limiti: Limiti,
    opzioni: Opzioni,
    visita: impl FnMut(RigaAnalizzata),
) -> Result<Rapporto, RifiutoFile> {
    let limiti = limiti.effettivi();
    let mut copia = tempfile::tempfile().map_err(|e| RifiutoFile::lettura(&e))?;
    let contenuto = {
        let mut scrittore = BufWriter::new(&mut copia);
        let esame = esame::esamina_contando(sorgente, &limiti, Some(&mut scrittore))?;
        scrittore.flush().map_err(|e| RifiutoFile::lettura(&e))?;
        esame
    };
    copia
        .seek(SeekFrom::Start(0))
        .map_err(|e| RifiutoFile::lettura(&e))?;
    leggi(copia, contenuto, nome_file, limiti, opzioni, visita)
}

/// Like [`analizza`], re-reading the source instead of copying it.
pub fn analizza_ripetibile<R: Read + Seek>(
    mut sorgente: R,
    nome_file: Option<&str>,
    limiti: Limiti,
    opzioni: Opzioni,
    visita: impl FnMut(RigaAnalizzata),
) -> Result<Rapporto, RifiutoFile> {
    let limiti = limiti.effettivi();
    let contenuto = esame::esamina_contando(&mut sorgente, &limiti, None)?;
    sorgente
        .seek(SeekFrom::Start(0))
        .map_err(|e| RifiutoFile::lettura(&e))?;
    leggi(sorgente, contenuto, nome_file, limiti, opzioni, visita)
}

pub fn analizza_file(
    percorso: &Path,
    limiti: Limiti,
    opzioni: Opzioni,
    visita: impl FnMut(RigaAnalizzata),
) -> Result<Rapporto, RifiutoFile> {
    let file = File::open(percorso).map_err(|e| RifiutoFile::lettura(&e))?;
    let nome = percorso.file_name().map(|n| n.to_string_lossy());
    analizza_ripetibile(file, nome.as_deref(), limiti, opzioni, visita)
}

/// The web page's manual-entry box: the same parser over the typed text.
pub fn analizza_testo(
    testo: &str,
    limiti: Limiti,
    opzioni: Opzioni,
    visita: impl FnMut(RigaAnalizzata),
) -> Result<Rapporto, RifiutoFile> {
    analizza_ripetibile(Cursor::new(testo.as_bytes()), None, limiti, opzioni, visita)
}

/// `rivesto input check FILE [--json]`: prints the report and returns the exit code
/// (0 all valid, 1 some row invalid, 2 file refused).
pub fn controlla_file(percorso: &Path, limiti: Limiti, json: bool, out: &mut dyn Write) -> i32 {
    let (testo, codice) = match analizza_file(percorso, limiti, Opzioni::oggi(), |_| {}) {
        Ok(r) if json => (r.json() + "\n", r.exit_code()),
        Ok(r) => (r.testo(), r.exit_code()),
        Err(e) if json => (e.json() + "\n", e.exit_code()),
        Err(e) => (e.testo(), e.exit_code()),
    };
    // The exit code still tells a script what happened if stdout is closed.
    let _ = out.write_all(testo.as_bytes()).and_then(|()| out.flush());
    codice
}

/// The second pass.
fn leggi<R: Read + Seek>(
    sorgente: R,
    (contenuto, righe_fisiche): (Contenuto, u64),
    nome_file: Option<&str>,
    limiti: Limiti,
    opzioni: Opzioni,
    visita: impl FnMut(RigaAnalizzata),
) -> Result<Rapporto, RifiutoFile> {
    let formato = match contenuto {
        Contenuto::Csv(_) => Formato::Csv,
        Contenuto::Xlsx => Formato::Xlsx,
    };
    let mut rapporto = Rapporto::new(nome_file.map(str::to_owned), formato);
    if let Some(avviso) = nome_file.and_then(|n| nome_ingannevole(n, formato)) {
        rapporto.avvisi_file.push(avviso);
    }
    match contenuto {
        Contenuto::Xlsx => {
            let rif = opzioni.riferimento;
            let mut interprete = righe::Interprete::new(limiti, rif, None, rapporto, visita, 0);
            xlsx::leggi(sorgente, &limiti, |rec| interprete.record(rec))?;
            interprete.fine()
        }
        Contenuto::Csv(codifica) => leggi_csv(
            sorgente,
            codifica,
            limiti,
            opzioni,
            rapporto,
            visita,
            righe_fisiche,
        ),
    }
}

fn leggi_csv<R: Read>(
    sorgente: R,
    codifica: Codifica,
    limiti: Limiti,
    opzioni: Opzioni,
    mut rapporto: Rapporto,
    visita: impl FnMut(RigaAnalizzata),
    righe_fisiche: u64,
) -> Result<Rapporto, RifiutoFile> {
    let errore = |e: io::Error| RifiutoFile::lettura(&e);
    let mut br = BufReader::with_capacity(64 * 1024, sorgente);
    if codifica == (Codifica::Utf8 { bom: true }) {
        let bom = br.fill_buf().map_err(errore)?.len().min(3);
        br.consume(bom);
    }
    let separatore = csv::rileva_delimitatore(br.fill_buf().map_err(errore)?);
    rapporto.codifica = Some(match codifica {
        Codifica::Utf8 { bom: false } => "UTF-8",
        Codifica::Utf8 { bom: true } => "UTF-8 con BOM",
        Codifica::Windows1252 => "Windows-1252",
    });
    rapporto.separatore = separatore.map(|s| match s {
        b';' => ";",
        b',' => ",",
        _ => "tab",
    });
    let rif = opzioni.riferimento;
    let mut interprete =
        righe::Interprete::new(limiti, rif, separatore, rapporto, visita, righe_fisiche);
    let mut lettore = csv::LettoreCsv::new(br, separatore, codifica, limiti.max_campo);
    while let Some(rec) = lettore.prossimo().map_err(errore)? {
        interprete.record(rec)?;
    }
    interprete.fine()
}

/// The type comes from the content; a name that says otherwise earns a warning (DESIGN §5).
fn nome_ingannevole(nome: &str, formato: Formato) -> Option<String> {
    let estensione = Path::new(nome)
        .extension()?
        .to_string_lossy()
        .to_ascii_lowercase();
    match (formato, estensione.as_str()) {
        (Formato::Xlsx, "csv" | "txt") => Some(format!(
            "il file si chiama \"{nome}\" ma il contenuto è un XLSX: letto come XLSX"
        )),
        (Formato::Csv, "xlsx" | "xls") => Some(format!(
            "il file si chiama \"{nome}\" ma il contenuto è testo CSV: letto come CSV"
        )),
        _ => None,
    }
}
