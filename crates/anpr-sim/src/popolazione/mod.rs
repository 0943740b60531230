//! The simulated registry: ANPR's published test subjects (fixtures) plus a deterministic
//! synthetic population of any size, generated on demand (person `i` is a pure function of
//! `(seed, i)`; lookups by CF, ID ANPR or personal data are computed, never scanned).

mod fixture;
mod luoghi;
mod sintetica;

pub use luoghi::{LuogoNascita, LuogoResidenza, belfiore_comune, belfiore_stato};
pub use sintetica::CAPIENZA;

use chrono::NaiveDate;
use domain::Sesso;

/// A residence from a date on (until the next one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Residenza {
    pub dal: NaiveDate,
    pub luogo: LuogoResidenza,
}

/// Membership of a family (C021): a key shared by its members, and the Tabella 05 code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Famiglia {
    pub chiave: String,
    pub legame: u8,
    pub dal: NaiveDate,
}

/// One person as ANPR holds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Soggetto {
    pub id_anpr: String,
    pub codice_fiscale: String,
    /// `None` for a person registered without a surname (`senzaCognome`).
    pub cognome: Option<String>,
    /// `None` for a person registered without a name (`senzaNome`).
    pub nome: Option<String>,
    pub sesso: Sesso,
    /// With `senza_giorno` the day is 1; with `senza_giorno_mese` day and month are 1.
    pub data_nascita: NaiveDate,
    pub senza_giorno: bool,
    pub senza_giorno_mese: bool,
    pub luogo_nascita: LuogoNascita,
    /// Ascending by `dal`; the first starts at birth.
    pub residenze: Vec<Residenza>,
    pub decesso: Option<NaiveDate>,
    /// Cancelled for a reason other than death: PDND answers EN122.
    pub cancellato: bool,
    /// Tabella 01 code.
    pub stato_civile: u8,
    /// (ISTAT state code, description); Italia is ("100", "ITALIA").
    pub cittadinanze: Vec<(String, String)>,
    pub famiglia: Famiglia,
    pub domicilio_digitale: Option<String>,
    /// Date of marriage, for the members with legame 1 or 2 of a married couple.
    pub matrimonio: Option<NaiveDate>,
}

impl Soggetto {
    /// Exists in the registry at `data`: born, and not cancelled.
    pub fn esiste_al(&self, data: NaiveDate) -> bool {
        !self.cancellato && self.data_nascita <= data
    }

    /// Death shows from the day after the registered date (italia/anpr#4984).
    pub fn deceduto_al(&self, data: NaiveDate) -> Option<NaiveDate> {
        self.decesso.filter(|d| *d < data)
    }

    pub fn residenza_al(&self, data: NaiveDate) -> Option<&Residenza> {
        self.residenze.iter().rev().find(|r| r.dal <= data)
    }

    pub fn aire_al(&self, data: NaiveDate) -> bool {
        matches!(
            self.residenza_al(data).map(|r| &r.luogo),
            Some(LuogoResidenza::Estero { .. })
        )
    }
}

/// Search by personal data (`criteriRicerca` without CF or ID ANPR).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anagrafici {
    pub cognome: Option<String>,
    pub nome: Option<String>,
    pub sesso: Option<Sesso>,
    pub data_nascita: NaiveDate,
    pub senza_giorno: bool,
    pub senza_giorno_mese: bool,
    /// Belfiore code of the birth place, when the request named a comune or state we know.
    pub belfiore: Option<String>,
    /// The place's name as written (for exceptional places and unknown states).
    pub nome_luogo: Option<String>,
}

/// Subjects of each kind, for tests and the demo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Esempi {
    /// (CF, idANPR) of living residents in Italy.
    pub normali: Vec<(String, String)>,
    pub deceduti: Vec<(String, String)>,
    pub aire: Vec<(String, String)>,
    pub cancellati: Vec<(String, String)>,
    /// Two people whose codes differ only by omocodia (base, variant).
    pub omocodici: Vec<((String, String), (String, String))>,
    /// The members of one family, intestatario first.
    pub famiglia: Vec<(String, String)>,
    pub senza_nome: Vec<(String, String)>,
    pub senza_giorno: Vec<(String, String)>,
}

/// The whole registry. Building it costs nothing noticeable at any size.
#[derive(Debug, Clone)]
pub struct Popolazione {
    sintetica: sintetica::Sintetica,
    fixture: fixture::Fixture,
}

impl Popolazione {
    pub fn new(seed: u64, n: u32) -> Self {
        Self {
            sintetica: sintetica::Sintetica::new(seed, n),
            fixture: fixture::Fixture::new(),
        }
    }

    pub fn dimensione_sintetica(&self) -> u32 {
        self.sintetica.n()
    }

    /// Person `i` of the synthetic population.
    pub fn sintetico(&self, i: u32) -> Option<Soggetto> {
        (i < self.sintetica.n()).then(|| self.sintetica.soggetto(i))
    }

    pub fn per_cf(&self, cf: &str) -> Option<Soggetto> {
        let cf = cf.trim().to_ascii_uppercase();
        self.fixture
            .per_cf(&cf)
            .or_else(|| self.sintetica.per_cf(&cf))
    }

    pub fn per_id_anpr(&self, id: &str) -> Option<Soggetto> {
        let id = id.trim().to_ascii_uppercase();
        self.fixture
            .per_id_anpr(&id)
            .or_else(|| self.sintetica.per_id_anpr(&id))
    }

    /// Everyone matching the personal data: several people for omocodia or duplicates.
    pub fn per_anagrafici(&self, q: &Anagrafici) -> Vec<Soggetto> {
        let mut v = self.fixture.per_anagrafici(q);
        v.extend(self.sintetica.per_anagrafici(q));
        v
    }

    /// The members of `s`'s family, `s` included, in family order.
    pub fn famiglia(&self, s: &Soggetto) -> Vec<Soggetto> {
        if let Some(v) = self.fixture.famiglia(&s.famiglia.chiave) {
            return v;
        }
        self.sintetica
            .famiglia(&s.famiglia.chiave)
            .unwrap_or_else(|| vec![s.clone()])
    }

    /// The spouse: the other member with legame 1 or 2, when `s` is married.
    pub fn coniuge(&self, s: &Soggetto) -> Option<Soggetto> {
        s.matrimonio?;
        self.famiglia(s)
            .into_iter()
            .find(|m| m.id_anpr != s.id_anpr && m.matrimonio.is_some() && m.famiglia.legame <= 2)
    }

    pub fn esempi(&self) -> Esempi {
        let mut e = self.fixture.esempi();
        self.sintetica.aggiungi_esempi(&mut e);
        e
    }
}

fn coppia(s: &Soggetto) -> (String, String) {
    (s.codice_fiscale.clone(), s.id_anpr.clone())
}
