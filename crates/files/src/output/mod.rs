//! The tracciato di risposta (DESIGN §5 "Output").
//!
//! - [`catalogo`]: every output field, its Italian label, its ANPR source and the services that carry it;
//! - [`estrazione`]: reads those fields out of a merged ANPR `datiSoggetto`;
//! - [`scrittore`]: writes result rows as CSV, XLSX or JSON Lines, split into parts, atomically;
//! - [`cella`] and [`cp1252`]: formula neutralisation and the Windows-1252 transliteration.

pub mod catalogo;
pub mod cella;
pub mod cp1252;
pub mod estrazione;
pub mod scrittore;
pub mod tabelle;

pub use catalogo::{CodiceCampo, DefinizioneCampo, Fonte};
pub use estrazione::{
    CAMPI_COMPONENTE, FormatoData, OpzioniEstrazione, ValoriCodificati, estrai, estrai_componenti,
    estrai_con_famiglia,
};
pub use scrittore::{
    Codifica, ErroreOutput, FileScritto, Formato, Layout, ModoFamiglia, Resoconto, RigaRisultato,
    ScrittoreRisultati,
};
pub use tabelle::Tabella;
