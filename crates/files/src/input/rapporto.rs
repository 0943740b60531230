//! The report of `rivesto input check`: problems by line, then totals (DESIGN §5).

use domain::numeri::migliaia;
use std::fmt;

use domain::tipo::TipoIdentificativo;
use serde::Serialize;

use super::righe::{EsitoRiga, RigaAnalizzata};

/// Problems listed in full; the rest are only counted.
pub const MAX_PROBLEMI: usize = 1000;

/// Why a file is refused as a whole (exit code 2). Nothing from a refused file may be stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RifiutoFile {
    #[error("il file è vuoto: nessuna riga da elaborare")]
    Vuoto,
    #[error("il file contiene solo l'intestazione (riga {riga}): nessuna riga da elaborare")]
    SoloIntestazione { riga: u64 },
    #[error(
        "tipo di file non supportato: {descrizione}; sono accettati CSV (UTF-8 o Windows-1252) e XLSX"
    )]
    TipoNonSupportato { descrizione: String },
    #[error("il file contiene byte NUL (il primo alla riga {riga}): non è un file di testo CSV")]
    ByteNul { riga: u64 },
    #[error("codifica non riconosciuta: il file {dettaglio}; sono accettati UTF-8 e Windows-1252")]
    Codifica { dettaglio: String },
    #[error(
        "il file è in UTF-16 (\"Testo Unicode\" di Excel): salvarlo come \"CSV UTF-8\" o come XLSX"
    )]
    Utf16,
    #[error("il file supera il limite di {} byte", migliaia(*.limite))]
    TroppoGrande { limite: u64 },
    #[error("il file supera il limite di {} righe", migliaia(*.limite))]
    TroppeRighe { limite: u64 },
    #[error("il file XLSX, decompresso, supera il limite di {} byte", migliaia(*.limite))]
    XlsxTroppoGrande { limite: u64 },
    #[error("file XLSX illeggibile: {dettaglio}")]
    XlsxIlleggibile { dettaglio: String },
    #[error("errore di lettura del file: {dettaglio}")]
    Lettura { dettaglio: String },
}

impl RifiutoFile {
    pub fn exit_code(&self) -> i32 {
        2
    }

    pub(crate) fn lettura(e: &std::io::Error) -> Self {
        RifiutoFile::Lettura {
            dettaglio: e.to_string(),
        }
    }

    pub fn testo(&self) -> String {
        format!("file rifiutato: {self}\n")
    }

    pub fn json(&self) -> String {
        serde_json::json!({
            "rifiutato": true,
            "motivo": self.to_string(),
            "exit_code": self.exit_code(),
        })
        .to_string()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problema {
    pub riga: u64,
    pub problema: String,
}

impl fmt::Display for Problema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "riga {}: {}", self.riga, self.problema)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TotaliTipo {
    pub tipo: TipoIdentificativo,
    pub righe: u64,
    pub valide: u64,
    pub non_valide: u64,
    pub duplicate: u64,
}

/// `righe = valide + non_valide`; duplicates are valid rows (they get the first row's lookup).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Totali {
    pub righe: u64,
    pub valide: u64,
    pub non_valide: u64,
    pub duplicate: u64,
    pub con_avvisi: u64,
    pub per_tipo: Vec<TotaliTipo>,
    /// Invalid rows whose kind could not be told.
    pub senza_tipo: u64,
}

impl Default for Totali {
    fn default() -> Self {
        Totali {
            righe: 0,
            valide: 0,
            non_valide: 0,
            duplicate: 0,
            con_avvisi: 0,
            per_tipo: TipoIdentificativo::ALL
                .iter()
                .map(|&tipo| TotaliTipo {
                    tipo,
                    righe: 0,
                    valide: 0,
                    non_valide: 0,
                    duplicate: 0,
                })
                .collect(),
            senza_tipo: 0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Formato {
    Csv,
    Xlsx,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rapporto {
    pub file: Option<String>,
    pub formato: Formato,
    /// `UTF-8`, `UTF-8 con BOM` or `Windows-1252`; none for XLSX.
    pub codifica: Option<&'static str>,
    /// `;`, `,` or `tab`; none for XLSX and single-column files.
    pub separatore: Option<&'static str>,
    /// Line of the header, when the file has one.
    pub intestazione: Option<u64>,
    /// Warnings about the file as a whole, not about a line.
    pub avvisi_file: Vec<String>,
    /// The first [`MAX_PROBLEMI`] problems, in line order.
    pub problemi: Vec<Problema>,
    pub problemi_totali: u64,
    pub totali: Totali,
}

impl Rapporto {
    pub(crate) fn new(file: Option<String>, formato: Formato) -> Self {
        Rapporto {
            file,
            formato,
            codifica: None,
            separatore: None,
            intestazione: None,
            avvisi_file: Vec::new(),
            problemi: Vec::new(),
            problemi_totali: 0,
            totali: Totali::default(),
        }
    }

    /// 1 when at least one row is invalid, else 0: duplicates and warnings do not count.
    pub fn exit_code(&self) -> i32 {
        i32::from(self.totali.non_valide > 0)
    }

    pub(crate) fn problema(&mut self, riga: u64, problema: String) {
        self.problemi_totali += 1;
        if self.problemi.len() < MAX_PROBLEMI {
            self.problemi.push(Problema { riga, problema });
        }
    }

    pub(crate) fn registra(&mut self, r: &RigaAnalizzata) {
        let t = &mut self.totali;
        t.righe += 1;
        let per_tipo = r
            .tipo
            .and_then(|tipo| t.per_tipo.iter_mut().find(|x| x.tipo == tipo));
        let valida = !matches!(r.esito, EsitoRiga::NonValida(_));
        match per_tipo {
            Some(x) => {
                x.righe += 1;
                if valida {
                    x.valide += 1;
                } else {
                    x.non_valide += 1;
                }
                if matches!(r.esito, EsitoRiga::Duplicata { .. }) {
                    x.duplicate += 1;
                }
            }
            None => t.senza_tipo += 1,
        }
        if valida {
            t.valide += 1;
        } else {
            t.non_valide += 1;
        }
        if !r.avvisi.is_empty() {
            t.con_avvisi += 1;
        }
        match &r.esito {
            EsitoRiga::Valida => {}
            EsitoRiga::Duplicata { di } => {
                t.duplicate += 1;
                self.problema(r.riga, format!("duplicato della riga {di}"));
            }
            EsitoRiga::NonValida(e) => self.problema(r.riga, e.to_string()),
        }
        for avviso in &r.avvisi {
            self.problema(r.riga, format!("avviso: {avviso}"));
        }
    }

    /// The report for an operator.
    pub fn testo(&self) -> String {
        let mut s = String::new();
        if let Some(file) = &self.file {
            s.push_str(&format!("file: {file}\n"));
        }
        s.push_str(&format!("formato: {}\n", self.descrizione_formato()));
        for avviso in &self.avvisi_file {
            s.push_str(&format!("avviso: {avviso}\n"));
        }
        for p in &self.problemi {
            s.push_str(&format!("{p}\n"));
        }
        let omessi = self.problemi_totali - self.problemi.len() as u64;
        if omessi > 0 {
            s.push_str(&format!("… e altri {omessi} problemi non elencati\n"));
        }
        let t = &self.totali;
        s.push_str(&format!(
            "righe: {}; valide: {} (di cui duplicate: {}, con avvisi: {}); non valide: {}\n",
            t.righe, t.valide, t.duplicate, t.con_avvisi, t.non_valide
        ));
        for x in t.per_tipo.iter().filter(|x| x.righe > 0) {
            s.push_str(&format!(
                "{}: {} righe, {} valide, {} non valide, {} duplicate\n",
                x.tipo.as_str(),
                x.righe,
                x.valide,
                x.non_valide,
                x.duplicate
            ));
        }
        if t.senza_tipo > 0 {
            s.push_str(&format!(
                "tipo non determinabile: {} righe non valide\n",
                t.senza_tipo
            ));
        }
        s
    }

    fn descrizione_formato(&self) -> String {
        let mut parti = vec![match self.formato {
            Formato::Csv => "CSV".to_owned(),
            Formato::Xlsx => "XLSX".to_owned(),
        }];
        if let Some(c) = self.codifica {
            parti.push(format!("codifica {c}"));
        }
        if let Some(sep) = self.separatore {
            parti.push(format!("separatore {sep}"));
        }
        parti.push(match self.intestazione {
            Some(riga) => format!("intestazione alla riga {riga}"),
            None => "senza intestazione".to_owned(),
        });
        parti.join(", ")
    }

    /// The report for a script: this struct plus `exit_code`.
    pub fn json(&self) -> String {
        let mut v = serde_json::to_value(self).expect("the report is plain data");
        v["exit_code"] = self.exit_code().into();
        v.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_exit_with_2() {
        assert_eq!(RifiutoFile::Vuoto.exit_code(), 2);
        assert_eq!(
            RifiutoFile::TroppeRighe { limite: 1_000_000 }.to_string(),
            "il file supera il limite di 1.000.000 righe"
        );
    }
}
