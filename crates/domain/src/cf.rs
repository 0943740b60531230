//! The codice fiscale of a person: the 16-character personal code, with its omocodic variants,
//! and the 11-digit temporary code (codice fiscale provvisorio).
//!
//! Parsing rejects only what cannot be a codice fiscale (wrong structure or check character).
//! An impossible date or an unknown Belfiore code is only a warning ([`CodiceFiscale::avvisi`]):
//! ANPR is the authority on people, and real codes with such oddities exist (DESIGN §5).

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::luoghi;
use crate::testo::{mostra, senza_accento};

/// Month letters, January to December.
const MESI: &[u8; 12] = b"ABCDEHLMPRST";
/// The letters that stand for the digits 0–9 in an omocodic code.
const OMOCODIA: &[u8; 10] = b"LMNPQRSTUV";
/// 0-based positions that hold a digit or its omocodia letter, from the left.
const POSIZIONI_NUMERICHE: [usize; 7] = [6, 7, 9, 10, 12, 13, 14];
/// Values of the characters in odd (1-based) positions, indexed by the even-position value
/// (0–9 for digits, 0–25 for A–Z).
const DISPARI: [u32; 26] = [
    1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23,
];

const ATTESO_LETTERA: &str = "una lettera";
const ATTESO_NUMERICO: &str = "una cifra o una lettera di omocodia: L M N P Q R S T U V";
const ATTESO_MESE: &str = "il mese: A B C D E H L M P R S T";
const ATTESO_LUOGO: &str = "una lettera, inizio del codice del luogo di nascita";
const ATTESO_CONTROLLO: &str = "una lettera, il carattere di controllo";
const ATTESO_PROVVISORIO: &str = "una cifra del codice provvisorio";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Sesso {
    M,
    F,
}

impl fmt::Display for Sesso {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Sesso::M => "M",
            Sesso::F => "F",
        })
    }
}

/// Why a string is not a codice fiscale. Positions are 1-based, counted after normalisation
/// (upper case, spaces removed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErroreCf {
    #[error("codice fiscale vuoto")]
    Vuoto,
    #[error(
        "lunghezza errata: {trovati} caratteri, attesi 16 (o 11 cifre per il codice provvisorio)"
    )]
    Lunghezza { trovati: usize },
    #[error("carattere non ammesso in posizione {posizione}: '{}' (atteso {atteso})", mostra(*.trovato))]
    CarattereNonAmmesso {
        posizione: usize,
        trovato: char,
        atteso: &'static str,
    },
    #[error(
        "giorno di nascita non ammesso: {giorno:02} (atteso da 01 a 31 per i maschi, da 41 a 71 per le femmine)"
    )]
    Giorno { giorno: u8 },
    #[error("carattere di controllo errato: atteso {atteso}, trovato {trovato}")]
    Controllo { atteso: char, trovato: char },
}

/// Something odd about a valid codice fiscale, worth telling the operator but not a reason to
/// reject it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AvvisoCf {
    /// Day and month (and year, for 29 February) that no calendar holds.
    DataImpossibile { giorno: u8, mese: u8, anno: u8 },
    /// A Belfiore code in neither the comuni (current or historical) nor the foreign states.
    BelfioreSconosciuto { codice: String },
}

impl fmt::Display for AvvisoCf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AvvisoCf::DataImpossibile { giorno, mese, anno } => write!(
                f,
                "data di nascita impossibile: {giorno:02}/{mese:02}/{anno:02} (il codice è accettato, ANPR ne è l'autorità)"
            ),
            AvvisoCf::BelfioreSconosciuto { codice } => write!(
                f,
                "codice del luogo di nascita sconosciuto: {codice} (né un comune né uno stato estero noti; il codice è accettato)"
            ),
        }
    }
}

/// A codice fiscale, normalised (upper case, no spaces).
///
/// Equality and hashing are on the exact string: an omocodic variant belongs to a different
/// person than its base code, so the two are never equal. Use [`CodiceFiscale::base`] only to
/// *detect* a near-duplicate for the operator, never to merge rows.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CodiceFiscale(String);

impl CodiceFiscale {
    pub fn parse(s: &str) -> Result<CodiceFiscale, ErroreCf> {
        let codice: String = s
            .chars()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_uppercase)
            .collect();
        match codice.chars().count() {
            0 => Err(ErroreCf::Vuoto),
            16 => verifica_personale(&codice).map(|()| CodiceFiscale(codice)),
            11 => verifica_provvisorio(&codice).map(|()| CodiceFiscale(codice)),
            trovati => Err(ErroreCf::Lunghezza { trovati }),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 11-digit temporary code, which carries no personal data.
    pub fn is_provvisorio(&self) -> bool {
        self.0.len() == 11
    }

    /// True when at least one digit position holds an omocodia letter.
    pub fn is_omocodico(&self) -> bool {
        !self.is_provvisorio()
            && POSIZIONI_NUMERICHE
                .iter()
                .any(|&i| self.0.as_bytes()[i].is_ascii_uppercase())
    }

    pub fn sesso(&self) -> Option<Sesso> {
        if self.is_provvisorio() {
            return None;
        }
        Some(if self.giorno_codificato() > 40 {
            Sesso::F
        } else {
            Sesso::M
        })
    }

    /// The birth date. The code holds only two digits of the year: the century is the one that
    /// gives the latest date not after `riferimento`. `None` for a temporary code or a date no
    /// calendar holds (see [`AvvisoCf::DataImpossibile`]).
    pub fn data_nascita(&self, riferimento: NaiveDate) -> Option<NaiveDate> {
        if self.is_provvisorio() {
            return None;
        }
        let (giorno, mese, anno) = self.giorno_mese_anno();
        let ultimo = riferimento.year() - (riferimento.year() - i32::from(anno)).rem_euclid(100);
        [ultimo, ultimo - 100].into_iter().find_map(|a| {
            NaiveDate::from_ymd_opt(a, u32::from(mese), u32::from(giorno))
                .filter(|d| *d <= riferimento)
        })
    }

    /// The Belfiore code of the birth place (a comune, or a foreign state `Z…`), with omocodia
    /// undone.
    pub fn belfiore(&self) -> Option<String> {
        if self.is_provvisorio() {
            return None;
        }
        let b = self.0.as_bytes();
        let mut out = String::with_capacity(4);
        out.push(char::from(b[11]));
        for &c in &b[12..15] {
            out.push(char::from(b'0' + cifra(c)));
        }
        Some(out)
    }

    /// The code with every omocodia letter turned back into its digit and the check character
    /// recomputed. That is the code of a *different* person when `self` is omocodic.
    pub fn base(&self) -> CodiceFiscale {
        if !self.is_omocodico() {
            return self.clone();
        }
        let mut b = self.0.as_bytes()[..15].to_vec();
        for &i in &POSIZIONI_NUMERICHE {
            b[i] = b'0' + cifra(b[i]);
        }
        con_controllo(b)
    }

    /// The omocodic variant of level `livello` (1–7) of this code's base: the `livello`
    /// rightmost digit positions get their omocodia letters, as the Agenzia delle Entrate does
    /// for each further person who would otherwise share a code.
    pub fn variante_omocodica(&self, livello: u8) -> Option<CodiceFiscale> {
        if self.is_provvisorio() || !(1..=7).contains(&livello) {
            return None;
        }
        let mut b = self.base().0.into_bytes();
        b.truncate(15);
        for &i in POSIZIONI_NUMERICHE.iter().rev().take(usize::from(livello)) {
            b[i] = OMOCODIA[usize::from(b[i] - b'0')];
        }
        Some(con_controllo(b))
    }

    /// Warnings for a code that is valid but odd. `riferimento` picks the century of the birth
    /// year, which decides whether 29 February exists.
    pub fn avvisi(&self, riferimento: NaiveDate) -> Vec<AvvisoCf> {
        let mut avvisi = Vec::new();
        if self.is_provvisorio() {
            return avvisi;
        }
        if self.data_nascita(riferimento).is_none() {
            let (giorno, mese, anno) = self.giorno_mese_anno();
            avvisi.push(AvvisoCf::DataImpossibile { giorno, mese, anno });
        }
        if let Some(codice) = self.belfiore()
            && !luoghi::belfiore_noto(&codice)
        {
            avvisi.push(AvvisoCf::BelfioreSconosciuto { codice });
        }
        avvisi
    }

    fn giorno_codificato(&self) -> u8 {
        let b = self.0.as_bytes();
        cifra(b[9]) * 10 + cifra(b[10])
    }

    /// Day (1–31), month (1–12) and two-digit year as written in the code.
    fn giorno_mese_anno(&self) -> (u8, u8, u8) {
        let b = self.0.as_bytes();
        let giorno = self.giorno_codificato() % 40;
        let mese = MESI.iter().position(|&m| m == b[8]).map_or(0, |i| i + 1);
        let anno = cifra(b[6]) * 10 + cifra(b[7]);
        (giorno, mese as u8, anno)
    }
}

/// The check character of the first 15 characters of a personal codice fiscale.
///
/// # Panics
/// If `first15` is not 15 ASCII letters or digits (either case): the caller builds it.
pub fn carattere_controllo(first15: &str) -> char {
    let b = first15.as_bytes();
    assert!(
        b.len() == 15 && b.iter().all(u8::is_ascii_alphanumeric),
        "carattere_controllo: attesi 15 caratteri alfanumerici, ricevuto {first15:?}"
    );
    controllo(&b.to_ascii_uppercase())
}

/// The codice fiscale of a person, by the standard algorithm (D.M. 23/12/1976): three letters of
/// the surname, three of the name, year, month letter, day (+40 for women), Belfiore code and
/// check character. Homonyms get the same code: the Agenzia delle Entrate then assigns an
/// omocodic variant ([`CodiceFiscale::variante_omocodica`]).
///
/// # Panics
/// If `belfiore` is not a letter followed by three digits.
pub fn calcola(
    cognome: &str,
    nome: &str,
    sesso: Sesso,
    data: NaiveDate,
    belfiore: &str,
) -> CodiceFiscale {
    let luogo = belfiore.to_ascii_uppercase();
    let lb = luogo.as_bytes();
    assert!(
        lb.len() == 4 && lb[0].is_ascii_uppercase() && lb[1..].iter().all(u8::is_ascii_digit),
        "calcola: codice Belfiore non valido: {belfiore:?}"
    );
    let mut b = Vec::with_capacity(16);
    b.extend(lettere_cognome(cognome));
    b.extend(lettere_nome(nome));
    let anno = data.year().rem_euclid(100) as u32;
    let giorno = data.day() + if sesso == Sesso::F { 40 } else { 0 };
    b.extend(format!("{anno:02}").bytes());
    b.push(MESI[data.month0() as usize]);
    b.extend(format!("{giorno:02}").bytes());
    b.extend_from_slice(lb);
    con_controllo(b)
}

fn lettere_cognome(cognome: &str) -> [u8; 3] {
    let (consonanti, vocali) = consonanti_vocali(cognome);
    tre_lettere(consonanti.into_iter().chain(vocali))
}

fn lettere_nome(nome: &str) -> [u8; 3] {
    let (consonanti, vocali) = consonanti_vocali(nome);
    if consonanti.len() >= 4 {
        return [consonanti[0], consonanti[2], consonanti[3]];
    }
    tre_lettere(consonanti.into_iter().chain(vocali))
}

fn tre_lettere(lettere: impl Iterator<Item = u8>) -> [u8; 3] {
    let mut out = [b'X'; 3];
    for (slot, c) in out.iter_mut().zip(lettere) {
        *slot = c;
    }
    out
}

/// The consonants and the vowels of a name, in order, accents dropped and anything that is not
/// a Latin letter (apostrophes, spaces, hyphens) ignored.
fn consonanti_vocali(s: &str) -> (Vec<u8>, Vec<u8>) {
    let (mut consonanti, mut vocali) = (Vec::new(), Vec::new());
    for c in s.chars().map(senza_accento) {
        let c = c.to_ascii_uppercase();
        if !c.is_ascii_uppercase() {
            continue;
        }
        if matches!(c, 'A' | 'E' | 'I' | 'O' | 'U') {
            vocali.push(c as u8);
        } else {
            consonanti.push(c as u8);
        }
    }
    (consonanti, vocali)
}

fn con_controllo(mut primi15: Vec<u8>) -> CodiceFiscale {
    let c = controllo(&primi15);
    primi15.push(c as u8);
    CodiceFiscale(String::from_utf8(primi15).expect("ASCII"))
}

/// Value of a character in an even (1-based) position: 0–9 for digits, 0–25 for letters.
fn valore_pari(c: u8) -> u32 {
    u32::from(if c.is_ascii_digit() {
        c - b'0'
    } else {
        c - b'A'
    })
}

fn controllo(primi15: &[u8]) -> char {
    let somma: u32 = primi15
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            // i is 0-based, so an even i is an odd 1-based position.
            if i % 2 == 0 {
                DISPARI[valore_pari(c) as usize]
            } else {
                valore_pari(c)
            }
        })
        .sum();
    char::from(b'A' + (somma % 26) as u8)
}

/// The digit a digit position stands for, omocodia undone. Only called on validated codes.
fn cifra(c: u8) -> u8 {
    if c.is_ascii_digit() {
        c - b'0'
    } else {
        OMOCODIA.iter().position(|&o| o == c).unwrap_or(0) as u8
    }
}

fn verifica_personale(codice: &str) -> Result<(), ErroreCf> {
    for (i, c) in codice.chars().enumerate() {
        let (ammesso, atteso) = match i {
            0..=5 => (c.is_ascii_uppercase(), ATTESO_LETTERA),
            8 => (c.is_ascii() && MESI.contains(&(c as u8)), ATTESO_MESE),
            11 => (c.is_ascii_uppercase(), ATTESO_LUOGO),
            15 => (c.is_ascii_uppercase(), ATTESO_CONTROLLO),
            _ => (
                c.is_ascii_digit() || (c.is_ascii() && OMOCODIA.contains(&(c as u8))),
                ATTESO_NUMERICO,
            ),
        };
        if !ammesso {
            return Err(ErroreCf::CarattereNonAmmesso {
                posizione: i + 1,
                trovato: c,
                atteso,
            });
        }
    }
    let b = codice.as_bytes();
    let giorno = cifra(b[9]) * 10 + cifra(b[10]);
    if !(1..=31).contains(&giorno) && !(41..=71).contains(&giorno) {
        return Err(ErroreCf::Giorno { giorno });
    }
    let atteso = controllo(&b[..15]);
    let trovato = char::from(b[15]);
    if atteso != trovato {
        return Err(ErroreCf::Controllo { atteso, trovato });
    }
    Ok(())
}

/// The temporary code: 11 digits, the last a check digit computed like a partita IVA's.
fn verifica_provvisorio(codice: &str) -> Result<(), ErroreCf> {
    if let Some((i, c)) = codice
        .chars()
        .enumerate()
        .find(|(_, c)| !c.is_ascii_digit())
    {
        return Err(ErroreCf::CarattereNonAmmesso {
            posizione: i + 1,
            trovato: c,
            atteso: ATTESO_PROVVISORIO,
        });
    }
    let b = codice.as_bytes();
    let atteso = char::from(b'0' + cifra_controllo_provvisorio(&b[..10]));
    let trovato = char::from(b[10]);
    if atteso != trovato {
        return Err(ErroreCf::Controllo { atteso, trovato });
    }
    Ok(())
}

fn cifra_controllo_provvisorio(dieci: &[u8]) -> u8 {
    let somma: u32 = dieci
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let d = u32::from(c - b'0');
            if i % 2 == 0 {
                d
            } else if d * 2 > 9 {
                d * 2 - 9
            } else {
                d * 2
            }
        })
        .sum();
    ((10 - somma % 10) % 10) as u8
}

impl fmt::Display for CodiceFiscale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for CodiceFiscale {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for CodiceFiscale {
    type Err = ErroreCf;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CodiceFiscale::parse(s)
    }
}

impl Serialize for CodiceFiscale {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for CodiceFiscale {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        CodiceFiscale::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(a: i32, m: u32, g: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(a, m, g).unwrap()
    }

    fn rif() -> NaiveDate {
        d(2025, 6, 1)
    }

    fn cf(s: &str) -> CodiceFiscale {
        CodiceFiscale::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    /// Sex, birth date and Belfiore code as decoded with reference date 2025-06-01.
    fn decodifica(s: &str) -> (Option<Sesso>, Option<NaiveDate>, Option<String>) {
        let c = cf(s);
        (c.sesso(), c.data_nascita(rif()), c.belfiore())
    }

    #[test]
    fn rossi_mario_decodes() {
        // Check character worked by hand: odd positions 8+12+8+19+14+1+13+5 = 80, even positions
        // 18+12+0+5+1+0+6 = 42, 122 mod 26 = 18 → S.
        let c = cf("RSSMRA85T10A562S");
        assert_eq!(c.as_str(), "RSSMRA85T10A562S");
        assert!(!c.is_provvisorio() && !c.is_omocodico());
        assert_eq!(
            decodifica("RSSMRA85T10A562S"),
            (Some(Sesso::M), Some(d(1985, 12, 10)), Some("A562".into()))
        );
        assert!(c.avvisi(rif()).is_empty());
        assert_eq!(c.base(), c);
    }

    #[test]
    fn anpr_test_subjects_decode_as_notes_say() {
        // NOTES §2.7. Every check character was verified before writing these lines.
        let casi = [
            ("STTSGT90A01H501J", Sesso::M, d(1990, 1, 1), "H501"),
            ("QNTSGT90A01H501X", Sesso::M, d(1990, 1, 1), "H501"),
            ("SGGNNA90R50F839T", Sesso::F, d(1990, 10, 10), "F839"),
            ("DLGBNC70E60Z509S", Sesso::F, d(1970, 5, 20), "Z509"),
            ("SGGSTM60A01H501J", Sesso::M, d(1960, 1, 1), "H501"),
            ("TTRPNN00R50F839W", Sesso::F, d(2000, 10, 10), "F839"),
            ("TTRPNN00R51F839V", Sesso::F, d(2000, 10, 11), "F839"),
            ("NRENTN80B22G393L", Sesso::M, d(1980, 2, 22), "G393"),
            ("DLGPPE90R10E329Q", Sesso::M, d(1990, 10, 10), "E329"),
            ("RSSGLC20T24H501W", Sesso::M, d(2020, 12, 24), "H501"),
            ("SNGXXX00R10Z222D", Sesso::M, d(2000, 10, 10), "Z222"),
            ("XXXPYN00D60Z222V", Sesso::F, d(2000, 4, 20), "Z222"),
            ("SNZGNM02A01Z329P", Sesso::M, d(2002, 1, 1), "Z329"),
            ("LGUCCE40R10Z600T", Sesso::M, d(1940, 10, 10), "Z600"),
            ("DPLPRM90R10H501I", Sesso::M, d(1990, 10, 10), "H501"),
        ];
        for (s, sesso, data, luogo) in casi {
            assert_eq!(
                decodifica(s),
                (Some(sesso), Some(data), Some(luogo.to_string())),
                "{s}"
            );
            assert!(cf(s).avvisi(rif()).is_empty(), "{s}");
        }
    }

    #[test]
    fn century_is_the_latest_not_after_the_reference() {
        let c = cf("RSSGLC20T24H501W");
        assert_eq!(c.data_nascita(d(2025, 1, 1)), Some(d(2020, 12, 24)));
        assert_eq!(c.data_nascita(d(2020, 12, 24)), Some(d(2020, 12, 24)));
        assert_eq!(c.data_nascita(d(2020, 12, 23)), Some(d(1920, 12, 24)));
    }

    #[test]
    fn normalises_case_and_spaces() {
        assert_eq!(cf(" rssmra 85t10\ta562s ").as_str(), "RSSMRA85T10A562S");
        assert_eq!(cf("RSSMRA85T10A562S").to_string(), "RSSMRA85T10A562S");
    }

    #[test]
    fn errors_name_the_problem() {
        let msg = |s: &str| CodiceFiscale::parse(s).unwrap_err().to_string();
        assert_eq!(msg(""), "codice fiscale vuoto");
        assert_eq!(
            msg("RSSMRA85T10A562"),
            "lunghezza errata: 15 caratteri, attesi 16 (o 11 cifre per il codice provvisorio)"
        );
        assert_eq!(
            msg("RSSMRA85Z10A562S"),
            "carattere non ammesso in posizione 9: 'Z' (atteso il mese: A B C D E H L M P R S T)"
        );
        assert_eq!(
            msg("RSSMRA85T10A562X"),
            "carattere di controllo errato: atteso S, trovato X"
        );
        assert_eq!(
            msg("R5SMRA85T10A562S"),
            "carattere non ammesso in posizione 2: '5' (atteso una lettera)"
        );
        assert_eq!(
            msg("RSSMRAA5T10A562S"),
            "carattere non ammesso in posizione 7: 'A' (atteso una cifra o una lettera di omocodia: L M N P Q R S T U V)"
        );
        assert_eq!(
            msg("RSSMRA85T10A56-S"),
            "carattere non ammesso in posizione 15: '-' (atteso una cifra o una lettera di omocodia: L M N P Q R S T U V)"
        );
        assert_eq!(
            msg("RSSMRA85T10A5628"),
            "carattere non ammesso in posizione 16: '8' (atteso una lettera, il carattere di controllo)"
        );
        assert_eq!(
            msg("RSSMRA85T10556 2S"),
            "carattere non ammesso in posizione 12: '5' (atteso una lettera, inizio del codice del luogo di nascita)"
        );
        // The check character of this one is right (G): only the day is wrong.
        assert_eq!(
            msg("RSSMRA85T35A562G"),
            "giorno di nascita non ammesso: 35 (atteso da 01 a 31 per i maschi, da 41 a 71 per le femmine)"
        );
        assert_eq!(
            CodiceFiscale::parse("RSSMRA85T00A562S"),
            Err(ErroreCf::Giorno { giorno: 0 })
        );
        assert_eq!(
            CodiceFiscale::parse("RSSMRA85T72A562S"),
            Err(ErroreCf::Giorno { giorno: 72 })
        );
        assert_eq!(
            CodiceFiscale::parse("RSSMRA85T1\u{0}A562S"),
            Err(ErroreCf::CarattereNonAmmesso {
                posizione: 11,
                trovato: '\u{0}',
                atteso: ATTESO_NUMERICO
            })
        );
    }

    #[test]
    fn temporary_code_has_a_partita_iva_check_digit() {
        // 1+3+5+7+9 = 25 on odd positions; 2,4,6,8,0 doubled (digits summed) = 4+8+3+7+0 = 22;
        // 47 → check digit 3.
        let p = cf("12345678903");
        assert!(p.is_provvisorio());
        assert_eq!(
            (p.sesso(), p.data_nascita(rif()), p.belfiore()),
            (None, None, None)
        );
        assert!(!p.is_omocodico());
        assert_eq!(p.variante_omocodica(1), None);
        assert!(p.avvisi(rif()).is_empty());
        // The Agenzia delle Entrate's own number.
        assert!(CodiceFiscale::parse("06363391001").is_ok());
        assert_eq!(
            CodiceFiscale::parse("12345678901").unwrap_err().to_string(),
            "carattere di controllo errato: atteso 3, trovato 1"
        );
        assert_eq!(
            CodiceFiscale::parse("1234567890A").unwrap_err().to_string(),
            "carattere non ammesso in posizione 11: 'A' (atteso una cifra del codice provvisorio)"
        );
    }

    #[test]
    fn omocodic_variants_by_level() {
        let base = cf("RSSMRA85T10A562S");
        // Worked by hand from the base sum 122: position 15 '2'→'N' adds 20-5, 137 mod 26 = 7 → H.
        assert_eq!(
            base.variante_omocodica(1).unwrap().as_str(),
            "RSSMRA85T10A56NH"
        );
        // Position 14 '6'→'S' adds 18-6: 149 mod 26 = 19 → T.
        assert_eq!(
            base.variante_omocodica(2).unwrap().as_str(),
            "RSSMRA85T10A5SNT"
        );
        assert_eq!(
            base.variante_omocodica(7).unwrap().as_str(),
            "RSSMRAURTMLARSNL"
        );
        assert_eq!(base.variante_omocodica(0), None);
        assert_eq!(base.variante_omocodica(8), None);
    }

    #[test]
    fn an_omocodic_variant_is_another_person_but_decodes_the_same() {
        let base = cf("RSSMRA85T10A562S");
        let variante = cf("RSSMRAURTMLARSNL");
        assert!(variante.is_omocodico());
        assert_ne!(variante, base);
        assert_eq!(variante.base(), base);
        assert_eq!(
            decodifica("RSSMRAURTMLARSNL"),
            (Some(Sesso::M), Some(d(1985, 12, 10)), Some("A562".into()))
        );
        let mut insieme = std::collections::HashSet::new();
        insieme.insert(base.clone());
        assert!(!insieme.contains(&variante));
        // A variant of a variant is a variant of the base.
        assert_eq!(variante.variante_omocodica(1), base.variante_omocodica(1));
    }

    #[test]
    fn impossible_date_is_a_warning() {
        // 31 February: check character F worked by hand (sum 109).
        let c = cf("RSSMRA85B31A562F");
        assert_eq!(c.data_nascita(rif()), None);
        assert_eq!(c.sesso(), Some(Sesso::M));
        assert_eq!(
            c.avvisi(rif()),
            [AvvisoCf::DataImpossibile {
                giorno: 31,
                mese: 2,
                anno: 85
            }]
        );
        assert_eq!(
            c.avvisi(rif())[0].to_string(),
            "data di nascita impossibile: 31/02/85 (il codice è accettato, ANPR ne è l'autorità)"
        );
    }

    #[test]
    fn february_29_depends_on_the_inferred_century() {
        let c = cf("RSSMRA00B29A562C");
        assert_eq!(c.data_nascita(rif()), Some(d(2000, 2, 29)));
        assert!(c.avvisi(rif()).is_empty());
        // Before that date the century is 1900, which had no 29 February.
        assert_eq!(c.data_nascita(d(2000, 1, 15)), None);
        assert_eq!(c.avvisi(d(2000, 1, 15)).len(), 1);
    }

    #[test]
    fn unknown_belfiore_is_a_warning() {
        let c = cf("RSSMRA85T10Z999S");
        assert_eq!(
            c.avvisi(rif()),
            [AvvisoCf::BelfioreSconosciuto {
                codice: "Z999".into()
            }]
        );
        assert_eq!(
            c.avvisi(rif())[0].to_string(),
            "codice del luogo di nascita sconosciuto: Z999 (né un comune né uno stato estero noti; il codice è accettato)"
        );
    }

    #[test]
    fn calcola_follows_the_standard_rules() {
        let m = Sesso::M;
        assert_eq!(
            calcola("Rossi", "Mario", m, d(1985, 12, 10), "A562").as_str(),
            "RSSMRA85T10A562S"
        );
        assert_eq!(
            calcola("Soggetta", "Anna", Sesso::F, d(1990, 10, 10), "F839").as_str(),
            "SGGNNA90R50F839T"
        );
        // A name with four or more consonants takes the 1st, 3rd and 4th: B(L)NC.
        assert_eq!(
            calcola("Delgado", "Blanca", Sesso::F, d(1970, 5, 20), "z509").as_str(),
            "DLGBNC70E60Z509S"
        );
        let prime6 =
            |c: &str, n: &str| calcola(c, n, m, d(1985, 12, 10), "A562").as_str()[..6].to_string();
        assert_eq!(prime6("Rossi", "Gianfranco"), "RSSGFR");
        assert_eq!(prime6("Fo", "Li"), "FOXLIX");
        assert_eq!(prime6("D'Amico", "Nicolò"), "DMCNCL");
        assert_eq!(prime6("", ""), "XXXXXX");
        assert_eq!(prime6("De Rosa", "Ugo"), "DRSGUO");
    }

    #[test]
    fn carattere_controllo_is_public_and_case_insensitive() {
        assert_eq!(carattere_controllo("RSSMRA85T10A562"), 'S');
        assert_eq!(carattere_controllo("rssmra85t10a562"), 'S');
    }

    #[test]
    fn deserialising_validates_and_normalises() {
        use serde::de::value::{Error, StrDeserializer};
        let c =
            CodiceFiscale::deserialize(StrDeserializer::<Error>::new("rssmra85t10a562s")).unwrap();
        assert_eq!(c.as_str(), "RSSMRA85T10A562S");
        let err = CodiceFiscale::deserialize(StrDeserializer::<Error>::new("RSSMRA85T10A562X"))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "carattere di controllo errato: atteso S, trovato X"
        );
    }
}
