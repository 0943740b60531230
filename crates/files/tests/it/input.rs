//! Input parsing: the hand-written corpus and properties.
//!
//! Every expected report below is written by hand from DESIGN §3 and §5 (which row is valid,
//! invalid or a duplicate, which line it is on, why) and from the wording of the error types;
//! the check characters come from an independent implementation of the CF algorithm verified on
//! RSSMRA85T10A562S and on published partite IVA. Nothing here was pasted from program output.

mod corpus;
mod generati;
mod proprieta;

use std::fs::File;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use files::input::{
    Limiti, Opzioni, Rapporto, RifiutoFile, RigaAnalizzata, analizza, analizza_file,
};

pub fn opzioni() -> Opzioni {
    Opzioni {
        riferimento: NaiveDate::from_ymd_opt(2025, 6, 1).expect("valid date"),
    }
}

pub fn cartella_corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

/// A hand-written expectation for a file that is not refused.
pub struct Atteso<'a> {
    pub exit: i32,
    pub problemi: &'a [&'a str],
    /// righe, valide, non valide, duplicate, con avvisi.
    pub totali: [u64; 5],
    /// Kind, righe, valide, non valide, duplicate; kinds with no rows are left out.
    pub per_tipo: &'a [(&'a str, [u64; 4])],
    pub senza_tipo: u64,
}

pub fn controlla(r: &Rapporto, atteso: &Atteso<'_>) {
    let problemi: Vec<String> = r.problemi.iter().map(ToString::to_string).collect();
    assert_eq!(problemi, atteso.problemi, "problemi");
    let t = &r.totali;
    assert_eq!(
        [t.righe, t.valide, t.non_valide, t.duplicate, t.con_avvisi],
        atteso.totali,
        "totali: righe, valide, non valide, duplicate, con avvisi"
    );
    let per_tipo: Vec<(&str, [u64; 4])> = t
        .per_tipo
        .iter()
        .filter(|x| x.righe > 0)
        .map(|x| {
            (
                x.tipo.as_str(),
                [x.righe, x.valide, x.non_valide, x.duplicate],
            )
        })
        .collect();
    assert_eq!(per_tipo, atteso.per_tipo, "totali per tipo");
    assert_eq!(t.senza_tipo, atteso.senza_tipo, "senza tipo");
    assert_eq!(r.exit_code(), atteso.exit, "exit code");
}

/// Reads a file both ways (seekable, and as a plain stream copied to a temporary file) and
/// checks that they agree before returning the rows and the outcome.
pub fn leggi_file(
    percorso: &Path,
    limiti: Limiti,
) -> (Result<Rapporto, RifiutoFile>, Vec<RigaAnalizzata>) {
    let mut righe = Vec::new();
    let esito = analizza_file(percorso, limiti, opzioni(), |r| righe.push(r));
    let nome = percorso
        .file_name()
        .map(|n| n.to_string_lossy().into_owned());
    let mut righe_flusso = Vec::new();
    let flusso = analizza(
        File::open(percorso).expect("corpus file"),
        nome.as_deref(),
        limiti,
        opzioni(),
        |r| righe_flusso.push(r),
    );
    assert_eq!(esito, flusso, "seekable and streamed reads differ");
    assert_eq!(righe, righe_flusso);
    (esito, righe)
}
