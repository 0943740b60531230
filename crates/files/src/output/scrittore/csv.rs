//! CSV parts: `;`, CRLF, header row, UTF-8 with BOM or Windows-1252, formula cells neutralised.

use std::path::Path;

use csv::{QuoteStyle, Terminator, Writer, WriterBuilder};

use super::file::{FileConImpronta, errore_io};
use super::{Codifica, ErroreOutput, FileScritto};
use crate::output::cella::neutralizza;
use crate::output::cp1252::{self, Conteggi};

const BOM: &[u8] = b"\xEF\xBB\xBF";

pub(super) struct ParteCsv {
    w: Writer<FileConImpronta>,
    codifica: Codifica,
    /// Reused for each Windows-1252 cell.
    buf: Vec<u8>,
}

impl ParteCsv {
    pub(super) fn apri(
        cartella: &Path,
        nome: &str,
        codifica: Codifica,
        intestazione: &[String],
        conteggi: &mut Conteggi,
    ) -> Result<ParteCsv, ErroreOutput> {
        let mut file = FileConImpronta::crea(cartella, nome)?;
        if codifica == Codifica::Utf8Bom {
            std::io::Write::write_all(&mut file, BOM).map_err(errore_io(&file.destinazione.tmp))?;
        }
        let w = WriterBuilder::new()
            .delimiter(b';')
            .terminator(Terminator::CRLF)
            .quote_style(QuoteStyle::Necessary)
            .flexible(false)
            .buffer_capacity(64 * 1024)
            .from_writer(file);
        let mut parte = ParteCsv {
            w,
            codifica,
            buf: Vec::new(),
        };
        parte.scrivi(intestazione.iter().map(String::as_str), conteggi)?;
        Ok(parte)
    }

    /// Windows-1252 cells are transliterated before the formula check, so that a character
    /// transliterated to `-` (like U+2212) is neutralised too.
    pub(super) fn scrivi<'a>(
        &mut self,
        celle: impl Iterator<Item = &'a str>,
        conteggi: &mut Conteggi,
    ) -> Result<(), ErroreOutput> {
        for cella in celle {
            let esito = match self.codifica {
                Codifica::Utf8Bom => self.w.write_field(neutralizza(cella).as_bytes()),
                Codifica::Windows1252 => {
                    let adattata = cp1252::adatta(cella, conteggi);
                    self.buf.clear();
                    cp1252::codifica(&neutralizza(&adattata), &mut self.buf);
                    self.w.write_field(&self.buf)
                }
            };
            esito.map_err(|e| self.errore(e))?;
        }
        self.w
            .write_record(std::iter::empty::<&[u8]>())
            .map_err(|e| self.errore(e))
    }

    fn errore(&self, e: csv::Error) -> ErroreOutput {
        let percorso = &self.w.get_ref().destinazione.finale;
        match e.into_kind() {
            csv::ErrorKind::Io(fonte) => errore_io(percorso)(fonte),
            altro => errore_io(percorso)(std::io::Error::other(format!("{altro:?}"))),
        }
    }

    pub(super) fn completa(self, righe: u64) -> Result<FileScritto, ErroreOutput> {
        let percorso = self.w.get_ref().destinazione.finale.clone();
        let file = self
            .w
            .into_inner()
            .map_err(|e| errore_io(&percorso)(e.into_error()))?;
        file.completa(righe)
    }
}
