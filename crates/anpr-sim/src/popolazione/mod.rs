//! The simulated registry: ANPR's published test subjects (fixtures) plus a deterministic
//! synthetic population of any size, generated on demand (person `i` is a pure function of
//! `(seed, i)`; lookups by CF, ID ANPR, personal data or document number are computed, never
//! scanned).

mod documenti;
mod fixture;
mod luoghi;
mod sintetica;

pub use documenti::{CartaIdentita, PermessoSoggiorno};
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
    /// The current (last issued) carta d'identità. Most people have one; a deceased person keeps
    /// the one held at death; cancelled people and a few others have none.
    pub carta_identita: Option<CartaIdentita>,
    /// Only for foreign citizens (no Italian cittadinanza) living in Italy (at death, for the
    /// deceased) whose stay needs a questura's document: citizens of the EU, the EEA and
    /// Switzerland have none. The foreign passport, when recorded, is here.
    pub permesso: Option<PermessoSoggiorno>,
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
    /// (CF, numero) of living people with a card valid on 2026-01-01, both CIE and paper.
    pub carte_identita: Vec<(String, String)>,
    /// (CF, questura, numero) of living people with a permesso di soggiorno.
    pub permessi: Vec<(String, String, String)>,
    /// (CF, numero) of living foreigners whose permesso records a passport.
    pub passaporti: Vec<(String, String)>,
    /// Two distinct people (different idANPR) who share a carta d'identità number (ANPR data
    /// error the channel must report as several subjects): (numero, [cf1, cf2]).
    pub documento_condiviso: (String, [String; 2]),
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

    /// Everyone whose carta d'identità has this number: one person, or two for the shared number
    /// of [`Esempi::documento_condiviso`]. Trimmed and upper-cased before the exact comparison.
    pub fn per_carta_identita(&self, numero: &str) -> Vec<Soggetto> {
        let numero = normalizza(numero);
        let mut v = self.fixture.per_carta_identita(&numero);
        v.extend(self.sintetica.per_carta_identita(&numero));
        v
    }

    /// Everyone whose permesso di soggiorno was issued by `questura` with this number (both are
    /// required by ANPR, EHR68). Both are trimmed and upper-cased, then compared exactly.
    pub fn per_permesso(&self, questura: &str, numero: &str) -> Vec<Soggetto> {
        let (questura, numero) = (normalizza(questura), normalizza(numero));
        let mut v = self.fixture.per_permesso(&questura, &numero);
        v.extend(self.sintetica.per_permesso(&questura, &numero));
        v
    }

    /// Everyone whose permesso di soggiorno records this passport number. ANPR holds passport
    /// numbers only there, so an Italian's passport finds nobody.
    pub fn per_passaporto(&self, numero: &str) -> Vec<Soggetto> {
        let numero = normalizza(numero);
        let mut v = self.fixture.per_passaporto(&numero);
        v.extend(self.sintetica.per_passaporto(&numero));
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

fn normalizza(s: &str) -> String {
    s.trim().to_ascii_uppercase()
}

fn coppia(s: &Soggetto) -> (String, String) {
    (s.codice_fiscale.clone(), s.id_anpr.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(a: i32, m: u32, g: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(a, m, g).unwrap()
    }

    #[test]
    fn il_numero_condiviso_trova_due_persone_distinte() {
        let p = Popolazione::new(1, 50_000);
        let (numero, cfs) = p.esempi().documento_condiviso;
        let chi = p.per_carta_identita(&numero);
        assert_eq!(chi.len(), 2);
        assert_ne!(chi[0].id_anpr, chi[1].id_anpr);
        let mut trovati: Vec<_> = chi.iter().map(|s| s.codice_fiscale.clone()).collect();
        let mut attesi = cfs.to_vec();
        trovati.sort();
        attesi.sort();
        assert_eq!(trovati, attesi);
    }

    #[test]
    fn gli_esempi_di_documenti_si_ritrovano_uno_per_uno() {
        let p = Popolazione::new(2, 50_000);
        let e = p.esempi();
        let oggi = d(2026, 1, 1);
        let mut formati = std::collections::HashSet::new();
        for (cf, numero) in &e.carte_identita {
            assert_ne!(numero, &e.documento_condiviso.0);
            let chi = p.per_carta_identita(numero);
            assert_eq!(chi.len(), 1, "{numero}");
            assert_eq!(&chi[0].codice_fiscale, cf);
            let c = chi[0].carta_identita.as_ref().unwrap();
            assert!(c.valida_al(oggi));
            formati.insert(c.elettronica);
        }
        assert_eq!(formati.len(), 2, "servono CIE e carte cartacee");
        assert!(e.permessi.len() >= 4 && e.passaporti.len() >= 4);
        for (cf, questura, numero) in &e.permessi {
            let chi = p.per_permesso(questura, numero);
            assert_eq!(chi.len(), 1);
            assert_eq!(&chi[0].codice_fiscale, cf);
        }
        for (cf, numero) in &e.passaporti {
            let chi = p.per_passaporto(numero);
            assert_eq!(chi.len(), 1);
            assert_eq!(&chi[0].codice_fiscale, cf);
        }
    }

    #[test]
    fn le_ricerche_per_documento_ignorano_spazi_esterni_e_maiuscole() {
        let p = Popolazione::new(3, 10_000);
        let e = p.esempi();
        for (cf, numero) in &e.carte_identita {
            let scritto = format!("  {} ", numero.to_lowercase());
            assert_eq!(&p.per_carta_identita(&scritto)[0].codice_fiscale, cf);
        }
        let (cf, questura, numero) = &e.permessi[2];
        let trovati = p.per_permesso(
            &format!(" {} ", questura.to_lowercase()),
            &numero.to_lowercase(),
        );
        assert_eq!(&trovati[0].codice_fiscale, cf);
        // Exact otherwise: a space inside the number is another number.
        let (_, numero) = &e.carte_identita[0];
        let spezzato = format!("{} {}", &numero[..2], &numero[2..]);
        assert!(p.per_carta_identita(&spezzato).is_empty());
    }

    #[test]
    fn una_questura_sbagliata_non_trova_nessuno() {
        let p = Popolazione::new(4, 10_000);
        for (_, questura, numero) in p.esempi().permessi {
            assert_eq!(p.per_permesso(&questura, &numero).len(), 1);
            for altra in ["NAPOLI", "ROMA", "", "QUESTURA DI ROMA"] {
                if altra != questura {
                    assert!(
                        p.per_permesso(altra, &numero).is_empty(),
                        "{altra} {numero}"
                    );
                }
            }
        }
    }

    #[test]
    fn i_passaporti_sono_solo_degli_stranieri() {
        let p = Popolazione::new(5, 20_000);
        let e = p.esempi();
        for (cf, numero) in &e.passaporti {
            let s = p.per_passaporto(numero).pop().unwrap();
            assert_eq!(&s.codice_fiscale, cf);
            assert!(s.cittadinanze.iter().all(|(c, _)| c != "100"), "{cf}");
        }
        for i in 0..20_000 {
            let s = p.sintetico(i).unwrap();
            if s.cittadinanze.iter().any(|(c, _)| c == "100") {
                assert!(s.permesso.is_none(), "{}", s.codice_fiscale);
            }
        }
        // An Italian passport (and a card number used as one) finds nobody.
        assert!(p.per_passaporto("YA1234567").is_empty());
        for (_, numero) in &e.carte_identita {
            assert!(p.per_passaporto(numero).is_empty());
        }
    }

    #[test]
    fn senza_popolazione_sintetica_restano_le_fixture() {
        let p = Popolazione::new(6, 0);
        let e = p.esempi();
        assert_eq!(e.carte_identita.len(), 2);
        assert_eq!(p.per_carta_identita(&e.documento_condiviso.0).len(), 2);
        assert_eq!(p.per_passaporto(&e.passaporti[0].1).len(), 1);
    }
}
