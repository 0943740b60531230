//! CSV records, read incrementally.
//!
//! A hand-written tokenizer rather than the `csv` crate because DESIGN §5 numbers rows by the
//! physical line where the record starts, with CR, LF and CRLF each ending a line; `csv` counts
//! LF only. Owning the loop also lets a field stop growing at the length limit, so a single
//! 50 MB "field" costs no more memory than a normal one.

use std::io::{self, BufRead};

use super::esame::Codifica;
use super::record::{Campo, MAX_COLONNE, Record};

/// Picks `;`, `,` or tab: the one that occurs most often, outside quotes, on the first
/// non-blank line. Ties go to `;`, then tab, then `,` (`;` is what Italian Excel writes).
/// `None` means a single-column file.
pub(crate) fn rileva_delimitatore(anteprima: &[u8]) -> Option<u8> {
    let candidati = [b';', b'\t', b','];
    let mut conti = [0usize; 3];
    let mut tra_virgolette = false;
    let mut contenuto = false;
    for &b in anteprima {
        match b {
            b'"' => {
                tra_virgolette = !tra_virgolette;
                contenuto = true;
            }
            // Lines of blanks and delimiters (Excel's empty rows) do not decide.
            b'\r' | b'\n' if !tra_virgolette => {
                if contenuto {
                    break;
                }
                conti = [0; 3];
            }
            _ if tra_virgolette => {}
            _ => match candidati.iter().position(|&c| c == b) {
                Some(i) => conti[i] += 1,
                None => contenuto |= !b.is_ascii_whitespace(),
            },
        }
    }
    let (i, &massimo) = conti
        .iter()
        .enumerate()
        .rev()
        .max_by_key(|&(_, n)| *n)
        .expect("three candidates");
    (massimo > 0).then_some(candidati[i])
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Stato {
    InizioCampo,
    NonQuotato,
    Quotato,
    /// Just saw a `"` inside a quoted field: either `""` or the end of the quotes.
    VirgolettaInQuotato,
}

pub(crate) struct LettoreCsv<R> {
    sorgente: R,
    codifica: Codifica,
    max_caratteri: usize,
    scansione: Scansione,
}

/// The tokenizer's state that outlives one record.
struct Scansione {
    delimitatore: Option<u8>,
    /// Bytes kept per field: enough to hold `max_campo` characters plus one in UTF-8.
    cap_byte: usize,
    /// Physical line (1-based) of the next byte.
    riga: u64,
    dopo_cr: bool,
}

/// A record being assembled; lives only inside one call to `prossimo`.
struct InCorso {
    inizio: Option<u64>,
    stato: Stato,
    campi: Vec<Vec<u8>>,
    lunghi: Vec<bool>,
    campo: Vec<u8>,
    lungo: bool,
    troppe_colonne: bool,
}

impl InCorso {
    fn new() -> Self {
        InCorso {
            inizio: None,
            stato: Stato::InizioCampo,
            campi: Vec::new(),
            lunghi: Vec::new(),
            campo: Vec::new(),
            lungo: false,
            troppe_colonne: false,
        }
    }

    fn aggiungi(&mut self, b: u8, cap: usize) {
        if self.campo.len() < cap {
            self.campo.push(b);
        } else {
            self.lungo = true;
        }
    }

    fn chiudi_campo(&mut self) {
        if self.campi.len() < MAX_COLONNE {
            self.campi.push(std::mem::take(&mut self.campo));
            self.lunghi.push(self.lungo);
        } else {
            self.troppe_colonne = true;
            self.campo.clear();
        }
        self.lungo = false;
    }
}

impl<R: BufRead> LettoreCsv<R> {
    pub(crate) fn new(
        sorgente: R,
        delimitatore: Option<u8>,
        codifica: Codifica,
        max_caratteri: usize,
    ) -> Self {
        LettoreCsv {
            sorgente,
            codifica,
            max_caratteri,
            scansione: Scansione {
                delimitatore,
                cap_byte: max_caratteri.saturating_add(1).saturating_mul(4),
                riga: 1,
                dopo_cr: false,
            },
        }
    }

    /// The next non-blank record, or `None` at the end of the input.
    pub(crate) fn prossimo(&mut self) -> io::Result<Option<Record>> {
        let mut rec = InCorso::new();
        loop {
            let buf = self.sorgente.fill_buf()?;
            if buf.is_empty() {
                return Ok(rec.inizio.is_some().then(|| self.completa(rec, true)));
            }
            let (usati, finito) = self.scansione.scandisci(buf, &mut rec);
            self.sorgente.consume(usati);
            if finito {
                return Ok(Some(self.completa(rec, false)));
            }
        }
    }

    fn completa(&self, mut rec: InCorso, a_fine_file: bool) -> Record {
        let virgolette_aperte = a_fine_file && rec.stato == Stato::Quotato;
        if a_fine_file {
            rec.chiudi_campo();
        }
        let campi = rec
            .campi
            .into_iter()
            .zip(rec.lunghi)
            .map(|(byte, lungo)| self.campo(&byte, lungo))
            .collect();
        Record {
            riga: rec.inizio.unwrap_or(self.scansione.riga),
            campi,
            troppe_colonne: rec.troppe_colonne,
            virgolette_aperte,
        }
    }

    fn campo(&self, byte: &[u8], lungo: bool) -> Campo {
        let testo = match self.codifica {
            // The first pass proved the file is UTF-8; only a cut at the byte cap can split a
            // character, and such a field is reported as too long anyway.
            Codifica::Utf8 { .. } => String::from_utf8_lossy(byte).into_owned(),
            Codifica::Windows1252 => encoding_rs::WINDOWS_1252
                .decode_without_bom_handling(byte)
                .0
                .into_owned(),
        };
        let troppo_lungo = lungo || testo.chars().count() > self.max_caratteri;
        Campo {
            testo,
            numerico: false,
            troppo_lungo,
        }
    }
}

impl Scansione {
    /// Feeds bytes into `rec`; returns how many were used and whether the record ended.
    fn scandisci(&mut self, buf: &[u8], rec: &mut InCorso) -> (usize, bool) {
        let delim = self.delimitatore;
        for (i, &b) in buf.iter().enumerate() {
            let riga_byte = self.riga;
            self.conta_riga(b);
            let fine_riga = b == b'\r' || b == b'\n';
            if rec.inizio.is_none() {
                if fine_riga {
                    continue;
                }
                rec.inizio = Some(riga_byte);
            }
            match rec.stato {
                Stato::Quotato => {
                    if b == b'"' {
                        rec.stato = Stato::VirgolettaInQuotato;
                    } else {
                        rec.aggiungi(b, self.cap_byte);
                    }
                }
                Stato::VirgolettaInQuotato if b == b'"' => {
                    rec.aggiungi(b'"', self.cap_byte);
                    rec.stato = Stato::Quotato;
                }
                Stato::InizioCampo if b == b'"' => rec.stato = Stato::Quotato,
                _ if fine_riga => {
                    rec.chiudi_campo();
                    return (i + 1, true);
                }
                _ if Some(b) == delim => {
                    rec.chiudi_campo();
                    rec.stato = Stato::InizioCampo;
                }
                // Text after a closing quote, or any ordinary byte: kept as it is, as Excel does.
                _ => {
                    rec.aggiungi(b, self.cap_byte);
                    rec.stato = Stato::NonQuotato;
                }
            }
        }
        (buf.len(), false)
    }

    fn conta_riga(&mut self, b: u8) {
        match b {
            b'\r' => {
                self.riga += 1;
                self.dopo_cr = true;
            }
            b'\n' => {
                if !self.dopo_cr {
                    self.riga += 1;
                }
                self.dopo_cr = false;
            }
            _ => self.dopo_cr = false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(testo: &str, delim: Option<u8>) -> Vec<(u64, Vec<String>)> {
        let mut l = LettoreCsv::new(testo.as_bytes(), delim, Codifica::Utf8 { bom: false }, 256);
        let mut out = Vec::new();
        while let Some(r) = l.prossimo().unwrap() {
            out.push((r.riga, r.campi.into_iter().map(|c| c.testo).collect()));
        }
        out
    }

    fn v(c: &[&str]) -> Vec<String> {
        c.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn lines_count_cr_lf_and_crlf_and_skip_blanks() {
        let r = record("a;b\r\n\r\nc;d\re\n\nf", Some(b';'));
        assert_eq!(
            r,
            vec![
                (1, v(&["a", "b"])),
                (3, v(&["c", "d"])),
                (4, v(&["e"])),
                (6, v(&["f"])),
            ]
        );
    }

    #[test]
    fn quotes_escape_delimiters_quotes_and_newlines() {
        let r = record("\"a;1\";\"b\"\"c\"\n\"x\r\ny\";z\nw", Some(b';'));
        assert_eq!(
            r,
            vec![
                (1, v(&["a;1", "b\"c"])),
                (2, v(&["x\r\ny", "z"])),
                (4, v(&["w"])),
            ]
        );
    }

    #[test]
    fn unclosed_quote_runs_to_end_of_file() {
        let mut l = LettoreCsv::new(
            &b"a;\"b\nc"[..],
            Some(b';'),
            Codifica::Utf8 { bom: false },
            256,
        );
        let r = l.prossimo().unwrap().unwrap();
        assert!(r.virgolette_aperte);
        assert_eq!(r.campi[1].testo, "b\nc");
        assert!(l.prossimo().unwrap().is_none());
    }

    #[test]
    fn field_stops_growing_at_the_cap() {
        let lungo = "x".repeat(10_000);
        let mut l = LettoreCsv::new(lungo.as_bytes(), None, Codifica::Utf8 { bom: false }, 10);
        let r = l.prossimo().unwrap().unwrap();
        assert!(r.campi[0].troppo_lungo);
        assert!(r.campi[0].testo.len() <= 44);
    }

    #[test]
    fn delimiter_is_the_most_frequent_outside_quotes() {
        assert_eq!(
            rileva_delimitatore(b"\r\ntipo,identificativo;x,y"),
            Some(b',')
        );
        assert_eq!(rileva_delimitatore(b"a;b,c"), Some(b';'));
        assert_eq!(rileva_delimitatore(b"\"a;b;c\"\tx"), Some(b'\t'));
        assert_eq!(rileva_delimitatore(b"RSSMRA85T10A562S\nx;y"), None);
        assert_eq!(rileva_delimitatore(b";;;;\r\n  \r\nx,y"), Some(b','));
    }
}
