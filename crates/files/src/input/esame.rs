//! First pass over the raw bytes: type, encoding, NUL bytes and size.
//!
//! DESIGN §5 decides the encoding over the *whole* file ("UTF-8 if all of it is valid UTF-8"),
//! and rows already handed to the caller cannot be taken back, so the decision is made in a
//! pass of its own that keeps nothing but a few counters. The rows are read in a second pass.

use std::io::{self, Read, Write};

use super::{Limiti, RifiutoFile};

/// What the content says the file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Contenuto {
    Csv(Codifica),
    Xlsx,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Codifica {
    Utf8 { bom: bool },
    Windows1252,
}

/// Bytes that Windows-1252 leaves undefined (DESIGN §5).
const INDEFINITI_1252: [u8; 5] = [0x81, 0x8D, 0x8F, 0x90, 0x9D];

/// Reads `sorgente` to the end (or to one byte past the size limit), copying every byte to
/// `copia` when the caller needs a second read of a stream that cannot seek.
#[cfg(test)]
pub(crate) fn esamina<R: Read>(
    sorgente: R,
    limiti: &Limiti,
    copia: Option<&mut dyn Write>,
) -> Result<Contenuto, RifiutoFile> {
    esamina_contando(sorgente, limiti, copia).map(|(c, _)| c)
}

/// [`esamina`], with the number of physical lines read (CR, LF and CRLF each end one): an
/// upper bound of the rows, so the second pass can size its tables once.
pub(crate) fn esamina_contando<R: Read>(
    mut sorgente: R,
    limiti: &Limiti,
    mut copia: Option<&mut dyn Write>,
) -> Result<(Contenuto, u64), RifiutoFile> {
    let mut controllo = Controllo::default();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match sorgente.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(RifiutoFile::lettura(&e)),
        };
        if controllo.byte + n as u64 > limiti.max_byte {
            return Err(RifiutoFile::TroppoGrande {
                limite: limiti.max_byte,
            });
        }
        if let Some(c) = copia.as_deref_mut() {
            c.write_all(&buf[..n])
                .map_err(|e| RifiutoFile::lettura(&e))?;
        }
        controllo.alimenta(&buf[..n]);
    }
    let righe = controllo.riga;
    controllo.verdetto().map(|c| (c, righe))
}

/// Streaming state: nothing here grows with the file.
#[derive(Default)]
struct Controllo {
    byte: u64,
    testa: Vec<u8>,
    /// Physical line (1-based) of the next byte; CR, LF and CRLF each end a line.
    riga: u64,
    dopo_cr: bool,
    prima_nul: Option<u64>,
    primo_indefinito: Option<(u8, u64)>,
    /// Line of the first byte that breaks UTF-8, once one is found.
    utf8_rotto: Option<u64>,
    /// An incomplete UTF-8 sequence at the end of the previous chunk.
    sospesi: Vec<u8>,
}

impl Controllo {
    fn alimenta(&mut self, dati: &[u8]) {
        if self.riga == 0 {
            self.riga = 1;
        }
        if self.testa.len() < 8 {
            let manca = (8 - self.testa.len()).min(dati.len());
            self.testa.extend_from_slice(&dati[..manca]);
        }
        self.byte += dati.len() as u64;
        if self.utf8_rotto.is_none() {
            self.valida_utf8(dati);
        }
        for &b in dati {
            match b {
                0 if self.prima_nul.is_none() => self.prima_nul = Some(self.riga),
                b if INDEFINITI_1252.contains(&b) && self.primo_indefinito.is_none() => {
                    self.primo_indefinito = Some((b, self.riga));
                }
                _ => {}
            }
            self.conta_riga(b);
        }
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

    /// Validates UTF-8 across chunk boundaries. The line reported is approximate only in that
    /// it is the line where the broken chunk's scan started, which is enough to find it.
    fn valida_utf8(&mut self, dati: &[u8]) {
        let mut resto = dati;
        while !self.sospesi.is_empty() {
            let Some((&b, dopo)) = resto.split_first() else {
                return;
            };
            self.sospesi.push(b);
            resto = dopo;
            match std::str::from_utf8(&self.sospesi) {
                Ok(_) => self.sospesi.clear(),
                Err(e) if e.error_len().is_some() => {
                    self.utf8_rotto = Some(self.riga);
                    return;
                }
                Err(_) => {}
            }
        }
        match std::str::from_utf8(resto) {
            Ok(_) => {}
            Err(e) => match e.error_len() {
                Some(_) => {
                    let prima = &resto[..e.valid_up_to()];
                    self.utf8_rotto = Some(self.riga + righe_in(prima));
                }
                None => self.sospesi = resto[e.valid_up_to()..].to_vec(),
            },
        }
    }

    fn verdetto(self) -> Result<Contenuto, RifiutoFile> {
        let testa = self.testa.as_slice();
        if self.byte == 0 {
            return Err(RifiutoFile::Vuoto);
        }
        if testa.starts_with(b"PK\x03\x04") {
            return Ok(Contenuto::Xlsx);
        }
        if testa.starts_with(&[0xFF, 0xFE]) || testa.starts_with(&[0xFE, 0xFF]) {
            return Err(RifiutoFile::Utf16);
        }
        if let Some(descrizione) = tipo_binario(testa) {
            return Err(RifiutoFile::TipoNonSupportato {
                descrizione: descrizione.to_owned(),
            });
        }
        if let Some(riga) = self.prima_nul {
            return Err(RifiutoFile::ByteNul { riga });
        }
        let bom = testa.starts_with(&[0xEF, 0xBB, 0xBF]);
        let utf8_rotto = self
            .utf8_rotto
            .or((!self.sospesi.is_empty()).then_some(self.riga));
        match (utf8_rotto, self.primo_indefinito) {
            (None, _) => Ok(Contenuto::Csv(Codifica::Utf8 { bom })),
            (Some(riga), _) if bom => Err(RifiutoFile::Codifica {
                dettaglio: format!(
                    "inizia con il BOM UTF-8 ma alla riga {riga} contiene byte non validi in UTF-8"
                ),
            }),
            (Some(_), Some((byte, riga))) => Err(RifiutoFile::Codifica {
                dettaglio: format!(
                    "non è UTF-8 valido e alla riga {riga} contiene il byte 0x{byte:02X}, \
                     che Windows-1252 non definisce"
                ),
            }),
            (Some(_), None) => Ok(Contenuto::Csv(Codifica::Windows1252)),
        }
    }
}

fn righe_in(dati: &[u8]) -> u64 {
    let mut n = 0;
    let mut dopo_cr = false;
    for &b in dati {
        match b {
            b'\r' => {
                n += 1;
                dopo_cr = true;
            }
            b'\n' => {
                if !dopo_cr {
                    n += 1;
                }
                dopo_cr = false;
            }
            _ => dopo_cr = false,
        }
    }
    n
}

/// Well-known binary formats an operator might hand in by mistake, named so the message helps.
fn tipo_binario(testa: &[u8]) -> Option<&'static str> {
    const NOTI: [(&[u8], &str); 7] = [
        (
            &[0xD0, 0xCF, 0x11, 0xE0],
            "XLS (Excel 97-2003): salvarlo come XLSX o CSV",
        ),
        (b"%PDF", "PDF"),
        (b"PK\x05\x06", "archivio ZIP vuoto"),
        (b"PK\x07\x08", "archivio ZIP"),
        (&[0x1F, 0x8B], "archivio gzip"),
        (b"{\\rtf", "RTF"),
        (&[0x89, b'P', b'N', b'G'], "immagine PNG"),
    ];
    NOTI.iter()
        .find(|(magia, _)| testa.starts_with(magia))
        .map(|(_, nome)| *nome)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn esito(dati: &[u8]) -> Result<Contenuto, RifiutoFile> {
        esamina(dati, &Limiti::default(), None)
    }

    #[test]
    fn utf8_split_across_chunks_is_still_utf8() {
        // "è" is C3 A8: a reader that returns one byte at a time splits it.
        struct UnByte<'a>(&'a [u8]);
        impl Read for UnByte<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let Some((&b, resto)) = self.0.split_first() else {
                    return Ok(0);
                };
                buf[0] = b;
                self.0 = resto;
                Ok(1)
            }
        }
        let dati = "CF;città\r\nè".as_bytes();
        let r = esamina(UnByte(dati), &Limiti::default(), None);
        assert_eq!(r, Ok(Contenuto::Csv(Codifica::Utf8 { bom: false })));
    }

    #[test]
    fn windows_1252_when_not_utf8() {
        assert_eq!(
            esito(b"citt\xE0"),
            Ok(Contenuto::Csv(Codifica::Windows1252))
        );
        // 0x81 is legal inside UTF-8 ("Á" = C3 81), so it only matters once UTF-8 fails.
        assert_eq!(
            esito("Á".as_bytes()),
            Ok(Contenuto::Csv(Codifica::Utf8 { bom: false }))
        );
        assert!(matches!(
            esito(b"a\nb\n\xE0\x81"),
            Err(RifiutoFile::Codifica { .. })
        ));
    }

    #[test]
    fn truncated_utf8_at_end_is_not_utf8() {
        assert_eq!(esito(b"abc\xC3"), Ok(Contenuto::Csv(Codifica::Windows1252)));
    }

    #[test]
    fn nul_is_reported_with_its_line() {
        assert_eq!(
            esito(b"a\r\nb\rc\n\0"),
            Err(RifiutoFile::ByteNul { riga: 4 })
        );
    }

    #[test]
    fn size_limit_is_checked_while_reading() {
        let limiti = Limiti {
            max_byte: 3,
            ..Limiti::default()
        };
        assert_eq!(
            esamina(&b"abcd"[..], &limiti, None),
            Err(RifiutoFile::TroppoGrande { limite: 3 })
        );
        assert!(esamina(&b"abc"[..], &limiti, None).is_ok());
    }
}
