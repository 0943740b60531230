//! The result-file writer (DESIGN §5 "Output").
//!
//! Rows stream through: each part file is open while it fills and is published (temp file, fsync,
//! rename) when it is full or when the writer closes, so memory does not grow with the rows. The
//! same rows give the same bytes, in every format.

mod csv;
mod file;
mod jsonl;
mod xlsx;

use std::path::{Path, PathBuf};

use domain::esito::Esito;
use serde::{Deserialize, Serialize};

use super::catalogo::CodiceCampo;
use super::cp1252::Conteggi;
use super::estrazione::{CAMPI_COMPONENTE, FormatoData, OpzioniEstrazione, ValoriCodificati};

/// The leading columns of the main file, before the layout's fields.
pub const COLONNE_FISSE: [&str; 6] = [
    "riferimento",
    "tipo",
    "identificativo",
    "esito",
    "messaggio",
    "id_operazione_anpr",
];

/// The leading columns of the family file, before [`CAMPI_COMPONENTE`].
pub const COLONNE_FISSE_FAMIGLIE: [&str; 3] = ["riferimento", "tipo", "identificativo"];

/// Excel's sheet holds 1,048,576 rows, the header included.
const MAX_RIGHE_XLSX: usize = 1_048_575;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Formato {
    #[default]
    Csv,
    Xlsx,
    /// One JSON object per line, UTF-8, for software; family members are nested in their row.
    JsonLines,
}

impl Formato {
    pub fn estensione(self) -> &'static str {
        match self {
            Formato::Csv => "csv",
            Formato::Xlsx => "xlsx",
            Formato::JsonLines => "jsonl",
        }
    }
}

/// The CSV encoding; XLSX and JSON Lines are always UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Codifica {
    /// UTF-8 with a byte-order mark, so Excel reads accents right.
    #[default]
    Utf8Bom,
    Windows1252,
}

/// How family data is delivered (profile setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModoFamiglia {
    /// Only the fields `famiglia_componenti` and `famiglia_legame_intestatario`, in the main file.
    #[default]
    Conteggi,
    /// Also one row per member in `richiesta-<id>-famiglie-parte-NNN` (nested in JSON Lines).
    FilePerComponente,
}

/// The tracciato di risposta of a request: fields and how they are written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layout {
    pub campi: Vec<CodiceCampo>,
    pub formato: Formato,
    pub codifica: Codifica,
    pub formato_data: FormatoData,
    pub righe_per_parte: usize,
    pub valori_codificati: ValoriCodificati,
    pub famiglia: ModoFamiglia,
}

impl Layout {
    /// The default layout of a convention or profile: every field of each group, in catalogue
    /// order.
    pub fn per_gruppi(gruppi: &[domain::gruppi::GruppoCampi]) -> Layout {
        Layout::new(
            gruppi
                .iter()
                .flat_map(|g| super::catalogo::campi_del_gruppo(*g))
                .collect(),
        )
    }

    /// The defaults of DESIGN §5: CSV, UTF-8 with BOM, `gg/mm/aaaa`, 100,000 rows per part.
    pub fn new(campi: Vec<CodiceCampo>) -> Layout {
        Layout {
            campi,
            formato: Formato::Csv,
            codifica: Codifica::Utf8Bom,
            formato_data: FormatoData::GgMmAaaa,
            righe_per_parte: 100_000,
            valori_codificati: ValoriCodificati::Testo,
            famiglia: ModoFamiglia::Conteggi,
        }
    }

    /// The options the extraction needs to fill `RigaRisultato::valori` for this layout.
    pub fn opzioni_estrazione(&self) -> OpzioniEstrazione {
        OpzioniEstrazione {
            formato_data: self.formato_data,
            valori_codificati: self.valori_codificati,
        }
    }
}

/// One output row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RigaRisultato {
    pub riferimento: String,
    /// The kind as the input gave it (normalised when valid), echoed as is.
    pub tipo: String,
    pub identificativo: String,
    pub esito: Esito,
    pub messaggio: String,
    /// ANPR's idOperazioneANPR of each call, in call order.
    pub id_operazione_anpr: Vec<String>,
    /// One value per layout field, in layout order (empty strings when there is no data).
    pub valori: Vec<String>,
    /// One entry per family member, with the columns of [`CAMPI_COMPONENTE`].
    pub componenti_famiglia: Vec<Vec<String>>,
}

/// A published file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileScritto {
    pub nome: String,
    pub percorso: PathBuf,
    /// Data rows, header excluded.
    pub righe: u64,
    pub sha256_hex: String,
    pub byte: u64,
}

/// What the writer produced.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Resoconto {
    pub file: Vec<FileScritto>,
    pub righe: u64,
    pub righe_famiglie: u64,
    /// Windows-1252 only: characters written as their transliteration.
    pub caratteri_traslitterati: u64,
    /// Windows-1252 only: characters with no transliteration, written as `?`.
    pub caratteri_sostituiti: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ErroreOutput {
    #[error(
        "identificativo di richiesta non utilizzabile nel nome del file: {0:?} (ammessi lettere, cifre, '-' e '_', al massimo 64)"
    )]
    IdRichiesta(String),
    #[error("righe per parte non valido: {0} (da 1 a {max} per XLSX, almeno 1 altrimenti)", max = MAX_RIGHE_XLSX)]
    RighePerParte(usize),
    #[error("riga {riga}: il tracciato ha {attesi} campi ma la riga ha {trovati} valori")]
    NumeroValori {
        riga: u64,
        attesi: usize,
        trovati: usize,
    },
    #[error(
        "riga {riga}, componente {componente} della famiglia: attesi {attesi} valori, trovati {trovati}"
    )]
    NumeroValoriComponente {
        riga: u64,
        componente: usize,
        attesi: usize,
        trovati: usize,
    },
    #[error("impossibile scrivere il file {percorso}: {fonte}")]
    Io {
        percorso: PathBuf,
        #[source]
        fonte: std::io::Error,
    },
    #[error("impossibile scrivere il file XLSX {percorso}: {messaggio}")]
    Xlsx {
        percorso: PathBuf,
        messaggio: String,
    },
}

/// The file of one part and its format-specific writer.
enum Parte {
    Csv(Box<csv::ParteCsv>),
    Xlsx(Box<xlsx::ParteXlsx>),
    Jsonl(Box<jsonl::ParteJsonl>),
}

/// A sequence of part files with the same header: the main file, or the family file.
struct Flusso {
    cartella: PathBuf,
    base: String,
    /// The XLSX sheet name.
    foglio: &'static str,
    intestazione: Vec<String>,
    formato: Formato,
    codifica: Codifica,
    righe_per_parte: usize,
    numero: u32,
    righe_parte: usize,
    righe: u64,
    parte: Option<Parte>,
    pubblicati: Vec<FileScritto>,
}

impl Flusso {
    fn nome_parte(&self) -> String {
        format!(
            "{}-parte-{:03}.{}",
            self.base,
            self.numero,
            self.formato.estensione()
        )
    }

    fn apri_parte(&mut self, conteggi: &mut Conteggi) -> Result<(), ErroreOutput> {
        self.numero += 1;
        self.righe_parte = 0;
        let nome = self.nome_parte();
        let cartella = &self.cartella;
        self.parte = Some(match self.formato {
            Formato::Csv => Parte::Csv(Box::new(csv::ParteCsv::apri(
                cartella,
                &nome,
                self.codifica,
                &self.intestazione,
                conteggi,
            )?)),
            Formato::Xlsx => Parte::Xlsx(Box::new(xlsx::ParteXlsx::apri(
                cartella,
                &nome,
                self.foglio,
                &self.intestazione,
            )?)),
            Formato::JsonLines => Parte::Jsonl(Box::new(jsonl::ParteJsonl::apri(cartella, &nome)?)),
        });
        Ok(())
    }

    /// The part for the next row, publishing the current one when it is full.
    fn parte_per_riga(&mut self, conteggi: &mut Conteggi) -> Result<&mut Parte, ErroreOutput> {
        if self.righe_parte >= self.righe_per_parte {
            self.chiudi_parte()?;
            self.apri_parte(conteggi)?;
        }
        self.righe_parte += 1;
        self.righe += 1;
        Ok(self
            .parte
            .as_mut()
            .expect("una parte è sempre aperta fino a chiudi()"))
    }

    fn chiudi_parte(&mut self) -> Result<(), ErroreOutput> {
        let righe = self.righe_parte as u64;
        let scritto = match self
            .parte
            .take()
            .expect("una parte è sempre aperta fino a chiudi()")
        {
            Parte::Csv(p) => p.completa(righe),
            Parte::Xlsx(p) => p.completa(righe),
            Parte::Jsonl(p) => p.completa(righe),
        }?;
        self.pubblicati.push(scritto);
        Ok(())
    }
}

/// Writes the result files of one request.
pub struct ScrittoreRisultati {
    layout: Layout,
    principale: Flusso,
    famiglie: Option<Flusso>,
    conteggi: Conteggi,
    righe: u64,
    /// Reused for the joined operation ids, so a row does not allocate one.
    ids: String,
}

fn id_valido(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl ScrittoreRisultati {
    /// Opens the first part (and the first family part, if the profile wants that file).
    pub fn nuovo(
        cartella: impl AsRef<Path>,
        id_richiesta: &str,
        layout: Layout,
    ) -> Result<ScrittoreRisultati, ErroreOutput> {
        if !id_valido(id_richiesta) {
            return Err(ErroreOutput::IdRichiesta(id_richiesta.to_owned()));
        }
        let n = layout.righe_per_parte;
        if n == 0 || (layout.formato == Formato::Xlsx && n > MAX_RIGHE_XLSX) {
            return Err(ErroreOutput::RighePerParte(n));
        }
        let mut conteggi = Conteggi::default();
        let flusso = |base: String, foglio, intestazione: Vec<String>| Flusso {
            cartella: cartella.as_ref().to_path_buf(),
            base,
            foglio,
            intestazione,
            formato: layout.formato,
            codifica: layout.codifica,
            righe_per_parte: n,
            numero: 0,
            righe_parte: 0,
            righe: 0,
            parte: None,
            pubblicati: Vec::new(),
        };
        let mut principale = flusso(
            format!("richiesta-{id_richiesta}"),
            "Risultati",
            intestazione(&layout.campi),
        );
        principale.apri_parte(&mut conteggi)?;
        let famiglie = if layout.famiglia == ModoFamiglia::FilePerComponente
            && layout.formato != Formato::JsonLines
        {
            let mut f = flusso(
                format!("richiesta-{id_richiesta}-famiglie"),
                "Famiglie",
                intestazione_famiglie(),
            );
            f.apri_parte(&mut conteggi)?;
            Some(f)
        } else {
            None
        };
        Ok(ScrittoreRisultati {
            layout,
            principale,
            famiglie,
            conteggi,
            righe: 0,
            ids: String::new(),
        })
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Writes one row (and its family members, when the profile has the family file).
    pub fn scrivi(&mut self, r: &RigaRisultato) -> Result<(), ErroreOutput> {
        self.righe += 1;
        self.controlla(r)?;
        let famiglia_annidata = self.layout.famiglia == ModoFamiglia::FilePerComponente;
        let parte = self.principale.parte_per_riga(&mut self.conteggi)?;
        if let Parte::Jsonl(p) = parte {
            return p.scrivi(r, &self.layout.campi, famiglia_annidata);
        }
        self.ids.clear();
        for (i, id) in r.id_operazione_anpr.iter().enumerate() {
            if i > 0 {
                self.ids.push('|');
            }
            self.ids.push_str(id);
        }
        let fisse = [
            r.riferimento.as_str(),
            &r.tipo,
            &r.identificativo,
            r.esito.as_str(),
            &r.messaggio,
            &self.ids,
        ];
        scrivi_celle(
            parte,
            fisse.into_iter().chain(r.valori.iter().map(String::as_str)),
            &mut self.conteggi,
        )?;
        if let Some(f) = &mut self.famiglie {
            for membro in &r.componenti_famiglia {
                let parte = f.parte_per_riga(&mut self.conteggi)?;
                let celle = fisse[..3]
                    .iter()
                    .copied()
                    .chain(membro.iter().map(String::as_str));
                scrivi_celle(parte, celle, &mut self.conteggi)?;
            }
        }
        Ok(())
    }

    fn controlla(&self, r: &RigaRisultato) -> Result<(), ErroreOutput> {
        if r.valori.len() != self.layout.campi.len() {
            return Err(ErroreOutput::NumeroValori {
                riga: self.righe,
                attesi: self.layout.campi.len(),
                trovati: r.valori.len(),
            });
        }
        match r
            .componenti_famiglia
            .iter()
            .enumerate()
            .find(|(_, m)| m.len() != CAMPI_COMPONENTE.len())
        {
            Some((i, m)) => Err(ErroreOutput::NumeroValoriComponente {
                riga: self.righe,
                componente: i + 1,
                attesi: CAMPI_COMPONENTE.len(),
                trovati: m.len(),
            }),
            None => Ok(()),
        }
    }

    /// Publishes the last parts and returns every file (main parts, then family parts) with
    /// its hash, plus the counts.
    pub fn chiudi(mut self) -> Result<Resoconto, ErroreOutput> {
        self.principale.chiudi_parte()?;
        let mut file = std::mem::take(&mut self.principale.pubblicati);
        let mut righe_famiglie = 0;
        if let Some(f) = &mut self.famiglie {
            f.chiudi_parte()?;
            file.append(&mut f.pubblicati);
            righe_famiglie = f.righe;
        }
        file::sincronizza_cartella(&self.principale.cartella)?;
        Ok(Resoconto {
            file,
            righe: self.principale.righe,
            righe_famiglie,
            caratteri_traslitterati: self.conteggi.traslitterati,
            caratteri_sostituiti: self.conteggi.sostituiti,
        })
    }
}

fn scrivi_celle<'a>(
    parte: &mut Parte,
    celle: impl Iterator<Item = &'a str>,
    conteggi: &mut Conteggi,
) -> Result<(), ErroreOutput> {
    match parte {
        Parte::Csv(p) => p.scrivi(celle, conteggi),
        Parte::Xlsx(p) => p.scrivi(celle),
        Parte::Jsonl(_) => unreachable!("JSON Lines scrive la riga intera"),
    }
}

fn intestazione(campi: &[CodiceCampo]) -> Vec<String> {
    COLONNE_FISSE
        .iter()
        .map(|s| (*s).to_owned())
        .chain(campi.iter().map(|c| c.etichetta().to_owned()))
        .collect()
}

fn intestazione_famiglie() -> Vec<String> {
    COLONNE_FISSE_FAMIGLIE
        .iter()
        .map(|s| (*s).to_owned())
        .chain(CAMPI_COMPONENTE.iter().map(|c| c.etichetta().to_owned()))
        .collect()
}
