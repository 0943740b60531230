//! Output writing: formats, encodings, snapshots.

mod esatti;
mod istantanee;
mod proprieta;

use std::path::Path;

use domain::esito::Esito;
use files::output::{FileScritto, Layout, Resoconto, RigaRisultato, ScrittoreRisultati};

pub fn riga(
    riferimento: &str,
    esito: Esito,
    messaggio: &str,
    ids: &[&str],
    valori: &[&str],
) -> RigaRisultato {
    RigaRisultato {
        riferimento: riferimento.into(),
        tipo: "CF".into(),
        identificativo: "STTSGT90A01H501J".into(),
        esito,
        messaggio: messaggio.into(),
        id_operazione_anpr: ids.iter().map(|s| (*s).to_owned()).collect(),
        valori: valori.iter().map(|s| (*s).to_owned()).collect(),
        componenti_famiglia: Vec::new(),
    }
}

pub fn scrivi_tutto(
    cartella: &Path,
    id: &str,
    layout: Layout,
    righe: &[RigaRisultato],
) -> Resoconto {
    let mut w = ScrittoreRisultati::nuovo(cartella, id, layout).unwrap();
    for r in righe {
        w.scrivi(r).unwrap();
    }
    w.chiudi().unwrap()
}

pub fn leggi(f: &FileScritto) -> Vec<u8> {
    std::fs::read(&f.percorso).unwrap()
}

/// Every entry of the folder, sorted, so a leftover temp file shows up.
pub fn contenuto_cartella(cartella: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(cartella)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}
