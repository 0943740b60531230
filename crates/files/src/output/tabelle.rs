//! ANPR decode tables for coded values (NOTES §5; NOTES-ws-comuni §6 for Tabella 8).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Tabella {
    /// Tabella 01, stato civile.
    StatoCivile,
    /// Tabella 05, relazione di parentela (`legameSoggetto.codiceLegame`).
    Legame,
    /// Tabella 25, tipo indirizzo.
    TipoIndirizzo,
    /// Tabella 8, tipo soggiorno (permesso di soggiorno, 3002).
    TipoSoggiorno,
}

const STATO_CIVILE: &[(u16, &str)] = &[
    (1, "Celibe/Nubile"),
    (2, "Coniugato/a"),
    (3, "Vedovo/a"),
    (4, "Divorziato/a"),
    (6, "Unito civilmente"),
    (
        7,
        "Stato libero a seguito di decesso della parte unita civilmente",
    ),
    (8, "Stato libero a seguito di scioglimento dell'unione"),
    (9, "Non classificabile/ignoto/n.c."),
];

const LEGAME: &[(u16, &str)] = &[
    (1, "Intestatario scheda"),
    (2, "Marito/Moglie"),
    (3, "Figlio/Figlia"),
    (4, "Nipote (discendente)"),
    (5, "Pronipote"),
    (6, "Padre/Madre"),
    (7, "Nonno/Nonna"),
    (8, "Bisnonno/a"),
    (9, "Fratello/Sorella"),
    (10, "Nipote (collaterale)"),
    (11, "Zio/Zia (collaterale)"),
    (12, "Cugino/a"),
    (13, "Altro parente"),
    (14, "Figliastro/a"),
    (15, "Patrigno/Matrigna"),
    (16, "Genero/Nuora"),
    (17, "Suocero/a"),
    (18, "Cognato/a"),
    (19, "Fratellastro/Sorellastra"),
    (20, "Nipote (affine)"),
    (21, "Zio/Zia (affine)"),
    (22, "Altro affine"),
    (23, "Convivente (vincoli adozione/affettivi)"),
    (24, "Responsabile convivenza non affettiva"),
    (25, "Convivente in convivenza non affettiva"),
    (26, "Tutore"),
    (28, "Unito civilmente"),
    (80, "Adottato"),
    (81, "Nipote"),
    (99, "Non definito/comunicato"),
];

const TIPO_INDIRIZZO: &[(u16, &str)] = &[
    (1, "Residenza"),
    (2, "Dimora abituale"),
    (3, "Domicilio eletto"),
    (4, "Residenza estera"),
    (5, "Presso (località italiana)"),
    (6, "Presso (località estera)"),
    (7, "Ultima residenza italiana"),
    (8, "Residenza temporanea"),
    (9, "Altro"),
    (10, "Revisione onomastica stradale"),
    (11, "Rettifica post accertamenti"),
];

const TIPO_SOGGIORNO: &[(u16, &str)] = &[
    (1, "Permesso"),
    (2, "Carta/Permesso CE"),
    (3, "Attestazione permanente"),
    (4, "Attestazione di regolarità"),
    (5, "Ricevuta"),
    (6, "Rinnovo in corso"),
    (7, "Senza permesso"),
    (8, "Altro titolo"),
    (9, "Non conosciuto"),
];

impl Tabella {
    pub fn numero(self) -> &'static str {
        match self {
            Tabella::StatoCivile => "01",
            Tabella::Legame => "05",
            Tabella::TipoIndirizzo => "25",
            Tabella::TipoSoggiorno => "08",
        }
    }

    fn voci(self) -> &'static [(u16, &'static str)] {
        match self {
            Tabella::StatoCivile => STATO_CIVILE,
            Tabella::Legame => LEGAME,
            Tabella::TipoIndirizzo => TIPO_INDIRIZZO,
            Tabella::TipoSoggiorno => TIPO_SOGGIORNO,
        }
    }

    /// The Italian text of a code; ANPR may send it zero-padded ("02").
    pub fn descrizione(self, codice: &str) -> Option<&'static str> {
        let n: u16 = codice.trim().parse().ok()?;
        self.voci().iter().find(|(c, _)| *c == n).map(|(_, d)| *d)
    }

    /// The code without ANPR's zero padding, so "02" and "2" are written alike.
    pub fn codice_normalizzato(codice: &str) -> String {
        let t = codice.trim();
        match t.parse::<u16>() {
            Ok(n) => n.to_string(),
            Err(_) => t.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_from_notes() {
        assert_eq!(Tabella::StatoCivile.descrizione("2"), Some("Coniugato/a"));
        assert_eq!(Tabella::StatoCivile.descrizione("5"), None);
        assert_eq!(Tabella::Legame.descrizione("02"), Some("Marito/Moglie"));
        assert_eq!(Tabella::Legame.descrizione("28"), Some("Unito civilmente"));
        assert_eq!(
            Tabella::TipoIndirizzo.descrizione("4"),
            Some("Residenza estera")
        );
        assert_eq!(
            Tabella::TipoSoggiorno.descrizione("6"),
            Some("Rinnovo in corso")
        );
        assert_eq!(Tabella::Legame.descrizione("x"), None);
        assert_eq!(Tabella::codice_normalizzato(" 03"), "3");
        assert_eq!(Tabella::codice_normalizzato("AB"), "AB");
    }
}
