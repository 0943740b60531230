//! XLSX parts through rust_xlsxwriter in constant-memory mode, with fixed document properties so
//! the same rows give the same bytes. Formula-like cells carry Excel's own quote prefix (the cell
//! shows the text, and editing it never turns it into a formula).

use std::path::Path;

use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, XlsxError};

use super::file::{Destinazione, impronta_file};
use super::{ErroreOutput, FileScritto};
use crate::output::cella::da_neutralizzare;

pub(super) struct ParteXlsx {
    libro: Workbook,
    riga: u32,
    prefisso: Format,
    destinazione: Destinazione,
}

impl ParteXlsx {
    pub(super) fn apri(
        cartella: &Path,
        nome: &str,
        foglio: &str,
        intestazione: &[String],
    ) -> Result<ParteXlsx, ErroreOutput> {
        let destinazione = Destinazione::new(cartella, nome);
        let errore = |e: XlsxError| errore_xlsx(&destinazione, e);
        let data = ExcelDateTime::from_ymd(2000, 1, 1).map_err(errore)?;
        let proprieta = DocProperties::new()
            .set_creation_datetime(&data)
            .set_author("Rivesto")
            .set_title(nome);
        let mut libro = Workbook::new();
        libro.set_properties(&proprieta);
        // The worksheet's rows spill to a temp file beside the result, not to the system's /tmp.
        libro.set_tempdir(cartella).map_err(errore)?;
        libro
            .add_worksheet_with_constant_memory()
            .map_err(errore)?
            .set_name(foglio)
            .map_err(errore)?;
        let mut parte = ParteXlsx {
            libro,
            riga: 0,
            prefisso: Format::new().set_quote_prefix(),
            destinazione,
        };
        parte.scrivi(intestazione.iter().map(String::as_str))?;
        Ok(parte)
    }

    pub(super) fn scrivi<'a>(
        &mut self,
        celle: impl Iterator<Item = &'a str>,
    ) -> Result<(), ErroreOutput> {
        let foglio = self
            .libro
            .worksheet_from_index(0)
            .map_err(|e| errore_xlsx(&self.destinazione, e))?;
        for (colonna, cella) in celle.enumerate() {
            let colonna = colonna as u16;
            let esito = if da_neutralizzare(cella) {
                foglio.write_string_with_format(self.riga, colonna, cella, &self.prefisso)
            } else {
                foglio.write_string(self.riga, colonna, cella)
            };
            esito.map_err(|e| errore_xlsx(&self.destinazione, e))?;
        }
        self.riga += 1;
        Ok(())
    }

    pub(super) fn completa(mut self, righe: u64) -> Result<FileScritto, ErroreOutput> {
        self.libro
            .save(&self.destinazione.tmp)
            .map_err(|e| errore_xlsx(&self.destinazione, e))?;
        let (sha, byte) = impronta_file(&self.destinazione.tmp)?;
        self.destinazione.pubblica(righe, sha, byte)
    }
}

fn errore_xlsx(d: &Destinazione, e: XlsxError) -> ErroreOutput {
    ErroreOutput::Xlsx {
        percorso: d.finale.clone(),
        messaggio: e.to_string(),
    }
}
