//! JSON Lines parts: one object per row, keys in layout order, UTF-8 without BOM, LF endings.
//! Values are written as ANPR gave them: no formula neutralisation, since no spreadsheet reads
//! this format.

use std::io::{BufWriter, Write};
use std::path::Path;

use super::file::{FileConImpronta, errore_io};
use super::{COLONNE_FISSE, ErroreOutput, FileScritto, RigaRisultato};
use crate::output::catalogo::CodiceCampo;
use crate::output::estrazione::CAMPI_COMPONENTE;

pub(super) struct ParteJsonl {
    w: BufWriter<FileConImpronta>,
    riga: Vec<u8>,
}

fn stringa(out: &mut Vec<u8>, s: &str) {
    serde_json::to_writer(&mut *out, s).expect("scrivere una stringa JSON in memoria non fallisce");
}

fn chiave(out: &mut Vec<u8>, primo: bool, k: &str) {
    if !primo {
        out.push(b',');
    }
    stringa(out, k);
    out.push(b':');
}

fn oggetto<'a>(out: &mut Vec<u8>, coppie: impl Iterator<Item = (&'a str, &'a str)>) {
    out.push(b'{');
    for (i, (k, v)) in coppie.enumerate() {
        chiave(out, i == 0, k);
        stringa(out, v);
    }
    out.push(b'}');
}

impl ParteJsonl {
    pub(super) fn apri(cartella: &Path, nome: &str) -> Result<ParteJsonl, ErroreOutput> {
        Ok(ParteJsonl {
            w: BufWriter::with_capacity(64 * 1024, FileConImpronta::crea(cartella, nome)?),
            riga: Vec::new(),
        })
    }

    pub(super) fn scrivi(
        &mut self,
        r: &RigaRisultato,
        campi: &[CodiceCampo],
        con_famiglia: bool,
    ) -> Result<(), ErroreOutput> {
        let out = &mut self.riga;
        out.clear();
        let fisse = [
            r.riferimento.as_str(),
            &r.tipo,
            &r.identificativo,
            r.esito.as_str(),
            &r.messaggio,
        ];
        oggetto(out, COLONNE_FISSE.into_iter().zip(fisse));
        out.pop(); // reopen the object to append the rest
        chiave(out, false, COLONNE_FISSE[5]);
        out.push(b'[');
        for (i, id) in r.id_operazione_anpr.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            stringa(out, id);
        }
        out.push(b']');
        for (c, v) in campi.iter().zip(&r.valori) {
            chiave(out, false, c.as_str());
            stringa(out, v);
        }
        if con_famiglia {
            chiave(out, false, "componenti_famiglia");
            out.push(b'[');
            for (i, m) in r.componenti_famiglia.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                let coppie = CAMPI_COMPONENTE
                    .iter()
                    .map(|c| c.as_str())
                    .zip(m.iter().map(String::as_str));
                oggetto(out, coppie);
            }
            out.push(b']');
        }
        out.extend_from_slice(b"}\n");
        match self.w.write_all(out) {
            Ok(()) => Ok(()),
            Err(e) => Err(errore_io(&self.w.get_ref().destinazione.finale)(e)),
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
