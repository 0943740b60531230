//! Identity documents: carta d'identità (electronic or paper), passaporto, permesso di soggiorno
//! (number, plus the issuing questura as separate text).
//!
//! Validation is as loose as ANPR's own schema (`tipoDato.xsd`: `tipoNumeroCartaIdentita`,
//! `tipoNumeroPassaporto`, `tipoNumeroSoggiorno`, `tipoQuesturaRilascio`): characters and length
//! only. A number in an unusual format is a warning, never a rejection: formats changed over the
//! decades and foreign passports follow no Italian rule.

use std::fmt;

use crate::testo::{mostra, senza_accento};

const CI: &str = "della carta d'identità";
const PASSAPORTO: &str = "del passaporto";
const PERMESSO: &str = "del permesso di soggiorno";

const AMMESSI_CI: &str = "lettere, cifre e spazi";
const AMMESSI_PERMESSO: &str = "lettere, cifre, spazi e - . /";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErroreDocumento {
    #[error("numero {documento} vuoto")]
    Vuoto { documento: &'static str },
    #[error("numero {documento} troppo lungo: {trovati} caratteri, al massimo {massimo}")]
    TroppoLungo {
        documento: &'static str,
        trovati: usize,
        massimo: usize,
    },
    #[error("carattere non ammesso in posizione {posizione} del numero {documento}: '{}' (ammessi {ammessi})", mostra(*.trovato))]
    CarattereNonAmmesso {
        documento: &'static str,
        posizione: usize,
        trovato: char,
        ammessi: &'static str,
    },
}

/// A document number that is accepted but looks odd.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AvvisoDocumento {
    FormatoInsolito {
        documento: &'static str,
        attesi: &'static str,
    },
    SenzaCifre {
        documento: &'static str,
    },
}

impl fmt::Display for AvvisoDocumento {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AvvisoDocumento::FormatoInsolito { documento, attesi } => write!(
                f,
                "formato insolito per il numero {documento} (formati noti: {attesi}); il numero è accettato"
            ),
            AvvisoDocumento::SenzaCifre { documento } => write!(
                f,
                "il numero {documento} non contiene cifre; il numero è accettato"
            ),
        }
    }
}

/// Which generation of carta d'identità a number looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FormatoCartaIdentita {
    /// CIE 3.0: 2 letters, 5 digits, 2 letters (`CA00000AA`).
    Elettronica,
    /// Paper card: 2 letters, 7 digits (`AA1234567`).
    Cartacea,
    /// Older cards: digits only (5 to 10).
    Numerica,
    /// Valid characters and length, but none of the above.
    Insolito,
}

/// The number of a carta d'identità: upper case, at most 20 letters, digits and spaces.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CartaIdentita(String);

impl CartaIdentita {
    pub fn parse(s: &str) -> Result<CartaIdentita, ErroreDocumento> {
        normalizza(s, CI, 20, "", AMMESSI_CI, |n| formato_ci(n).is_some()).map(CartaIdentita)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn formato(&self) -> FormatoCartaIdentita {
        formato_ci(&self.0).unwrap_or(FormatoCartaIdentita::Insolito)
    }

    pub fn avvisi(&self) -> Vec<AvvisoDocumento> {
        let mut avvisi = senza_cifre(&self.0, CI);
        if self.formato() == FormatoCartaIdentita::Insolito && avvisi.is_empty() {
            avvisi.push(AvvisoDocumento::FormatoInsolito {
                documento: CI,
                attesi: "CIE come CA00000AA, cartacea come AA1234567, solo cifre",
            });
        }
        avvisi
    }
}

/// The number of a passaporto: upper case, at most 30 letters, digits and spaces.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Passaporto(String);

impl Passaporto {
    pub fn parse(s: &str) -> Result<Passaporto, ErroreDocumento> {
        normalizza(s, PASSAPORTO, 30, "", AMMESSI_CI, passaporto_italiano).map(Passaporto)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The Italian format: 2 letters, 7 digits (`YA1234567`). Foreign passports differ.
    pub fn is_formato_italiano(&self) -> bool {
        passaporto_italiano(&self.0)
    }

    pub fn avvisi(&self) -> Vec<AvvisoDocumento> {
        let mut avvisi = senza_cifre(&self.0, PASSAPORTO);
        if !self.is_formato_italiano() && avvisi.is_empty() {
            avvisi.push(AvvisoDocumento::FormatoInsolito {
                documento: PASSAPORTO,
                attesi: "passaporto italiano come YA1234567; un passaporto estero può differire",
            });
        }
        avvisi
    }
}

/// The number of a permesso di soggiorno: upper case, at most 20 letters, digits, spaces and
/// `- . /`. The questura that issued it is a separate [`Questura`]: ANPR searches by both.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PermessoSoggiorno(String);

impl PermessoSoggiorno {
    pub fn parse(s: &str) -> Result<PermessoSoggiorno, ErroreDocumento> {
        normalizza(s, PERMESSO, 20, "-./", AMMESSI_PERMESSO, |_| false).map(PermessoSoggiorno)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// No format of the number has been published, so the only oddity reported is a number
    /// without digits.
    pub fn avvisi(&self) -> Vec<AvvisoDocumento> {
        senza_cifre(&self.0, PERMESSO)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErroreQuestura {
    #[error("questura di rilascio mancante: per il permesso di soggiorno è obbligatoria")]
    Vuota,
    #[error("nome della questura troppo lungo: {trovati} caratteri, al massimo 50")]
    TroppoLunga { trovati: usize },
    #[error("carattere non ammesso in posizione {posizione} del nome della questura: '{}' (ammessi lettere, cifre, spazi e ' - . ( ))", mostra(*.trovato))]
    CarattereNonAmmesso { posizione: usize, trovato: char },
}

/// The questura that issued a permesso di soggiorno, by name (`ROMA`). No public list of
/// questure exists, so this is checked as ANPR's schema does: at most 50 characters among
/// letters, digits, spaces and `' - . ( )`. Accents are dropped (`Forlì` → `FORLI`), as the
/// schema holds no accented letter.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Questura(String);

impl Questura {
    pub fn parse(s: &str) -> Result<Questura, ErroreQuestura> {
        let nome: String = spazi_singoli(s)
            .map(|c| match senza_accento(c) {
                '\u{2018}' | '\u{2019}' | '`' => '\'',
                c => c,
            })
            .flat_map(char::to_uppercase)
            .collect();
        let trovati = nome.chars().count();
        if trovati == 0 {
            return Err(ErroreQuestura::Vuota);
        }
        if let Some((i, c)) = nome
            .chars()
            .enumerate()
            .find(|&(_, c)| !(c.is_ascii_alphanumeric() || " '-.()".contains(c)))
        {
            return Err(ErroreQuestura::CarattereNonAmmesso {
                posizione: i + 1,
                trovato: c,
            });
        }
        if trovati > 50 {
            return Err(ErroreQuestura::TroppoLunga { trovati });
        }
        Ok(Questura(nome))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// True when `s` (spaces ignored, any case) has the CIE number format, 2 letters, 5 digits and
/// 2 letters. Such a value also fits the ID ANPR format, so a list must say which it holds.
pub fn ha_formato_cie(s: &str) -> bool {
    let compatto: String = s
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    formato_ci(&compatto) == Some(FormatoCartaIdentita::Elettronica)
}

macro_rules! impl_display {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl AsRef<str> for $t {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    )*};
}
impl_display!(CartaIdentita, Passaporto, PermessoSoggiorno, Questura);

/// Trims, upper-cases and collapses runs of spaces; then checks characters and length. When the
/// number without its spaces has a recognised format (`CA 00000 AA`), the spaces go: that is
/// how the number is printed on the document and stored by ANPR.
fn normalizza(
    s: &str,
    documento: &'static str,
    massimo: usize,
    altri_ammessi: &str,
    ammessi: &'static str,
    riconosciuto: fn(&str) -> bool,
) -> Result<String, ErroreDocumento> {
    let numero: String = spazi_singoli(s).flat_map(char::to_uppercase).collect();
    if numero.is_empty() {
        return Err(ErroreDocumento::Vuoto { documento });
    }
    if let Some((i, c)) = numero
        .chars()
        .enumerate()
        .find(|&(_, c)| !(c.is_ascii_alphanumeric() || c == ' ' || altri_ammessi.contains(c)))
    {
        return Err(ErroreDocumento::CarattereNonAmmesso {
            documento,
            posizione: i + 1,
            trovato: c,
            ammessi,
        });
    }
    let trovati = numero.chars().count();
    if trovati > massimo {
        return Err(ErroreDocumento::TroppoLungo {
            documento,
            trovati,
            massimo,
        });
    }
    let compatto = numero.replace(' ', "");
    if riconosciuto(&compatto) {
        return Ok(compatto);
    }
    Ok(numero)
}

/// The text trimmed, with every run of whitespace inside turned into one space.
fn spazi_singoli(s: &str) -> impl Iterator<Item = char> + '_ {
    let mut parole = s.split_whitespace().peekable();
    std::iter::from_fn(move || {
        let parola = parole.next()?;
        let spazio = parole.peek().map(|_| ' ');
        Some(parola.chars().chain(spazio))
    })
    .flatten()
}

fn senza_cifre(numero: &str, documento: &'static str) -> Vec<AvvisoDocumento> {
    if numero.chars().any(|c| c.is_ascii_digit()) {
        Vec::new()
    } else {
        vec![AvvisoDocumento::SenzaCifre { documento }]
    }
}

/// Letters and digits in the given pattern: `L` a letter, `9` a digit.
fn forma(s: &str, schema: &str) -> bool {
    s.len() == schema.len()
        && s.bytes().zip(schema.bytes()).all(|(c, p)| match p {
            b'L' => c.is_ascii_uppercase(),
            _ => c.is_ascii_digit(),
        })
}

fn formato_ci(s: &str) -> Option<FormatoCartaIdentita> {
    if forma(s, "LL99999LL") {
        Some(FormatoCartaIdentita::Elettronica)
    } else if forma(s, "LL9999999") {
        Some(FormatoCartaIdentita::Cartacea)
    } else if (5..=10).contains(&s.len()) && s.bytes().all(|c| c.is_ascii_digit()) {
        Some(FormatoCartaIdentita::Numerica)
    } else {
        None
    }
}

fn passaporto_italiano(s: &str) -> bool {
    forma(s, "LL9999999")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carta_identita_formats() {
        let cie = CartaIdentita::parse(" ca00000aa ").unwrap();
        assert_eq!(cie.as_str(), "CA00000AA");
        assert_eq!(cie.formato(), FormatoCartaIdentita::Elettronica);
        assert!(cie.avvisi().is_empty());

        let spaziata = CartaIdentita::parse("CA 00000  AA").unwrap();
        assert_eq!(spaziata.as_str(), "CA00000AA");

        let carta = CartaIdentita::parse("AA1234567").unwrap();
        assert_eq!(carta.formato(), FormatoCartaIdentita::Cartacea);
        assert!(carta.avvisi().is_empty());

        let vecchia = CartaIdentita::parse("12345678").unwrap();
        assert_eq!(vecchia.formato(), FormatoCartaIdentita::Numerica);
        assert!(vecchia.avvisi().is_empty());
    }

    #[test]
    fn unusual_ci_is_a_warning_not_an_error() {
        let strana = CartaIdentita::parse("AB 12 CD 34").unwrap();
        assert_eq!(strana.as_str(), "AB 12 CD 34");
        assert_eq!(strana.formato(), FormatoCartaIdentita::Insolito);
        assert_eq!(
            strana
                .avvisi()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            [
                "formato insolito per il numero della carta d'identità (formati noti: CIE come CA00000AA, cartacea come AA1234567, solo cifre); il numero è accettato"
            ]
        );
        let lettere = CartaIdentita::parse("ABCDEF").unwrap();
        assert_eq!(
            lettere.avvisi(),
            [AvvisoDocumento::SenzaCifre { documento: CI }]
        );
    }

    #[test]
    fn ci_errors_name_the_problem() {
        assert_eq!(
            CartaIdentita::parse("  ").unwrap_err().to_string(),
            "numero della carta d'identità vuoto"
        );
        assert_eq!(
            CartaIdentita::parse("CA00000-AA").unwrap_err().to_string(),
            "carattere non ammesso in posizione 8 del numero della carta d'identità: '-' (ammessi lettere, cifre e spazi)"
        );
        assert_eq!(
            CartaIdentita::parse("123456789012345678901").unwrap_err(),
            ErroreDocumento::TroppoLungo {
                documento: CI,
                trovati: 21,
                massimo: 20
            }
        );
        assert!(CartaIdentita::parse("12345678901234567890").is_ok());
        assert_eq!(
            CartaIdentita::parse("CA0000ÀAA").unwrap_err(),
            ErroreDocumento::CarattereNonAmmesso {
                documento: CI,
                posizione: 7,
                trovato: 'À',
                ammessi: AMMESSI_CI
            }
        );
    }

    #[test]
    fn passaporto_limits_and_formats() {
        let it = Passaporto::parse("ya1234567").unwrap();
        assert_eq!(it.as_str(), "YA1234567");
        assert!(it.is_formato_italiano());
        assert!(it.avvisi().is_empty());

        let estero = Passaporto::parse("C01X00T47").unwrap();
        assert!(!estero.is_formato_italiano());
        assert_eq!(estero.avvisi().len(), 1);

        assert!(Passaporto::parse(&"1".repeat(30)).is_ok());
        assert_eq!(
            Passaporto::parse(&"1".repeat(31)).unwrap_err().to_string(),
            "numero del passaporto troppo lungo: 31 caratteri, al massimo 30"
        );
    }

    #[test]
    fn permesso_accepts_the_schema_punctuation() {
        let p = PermessoSoggiorno::parse("RM/2020-12.345").unwrap();
        assert_eq!(p.as_str(), "RM/2020-12.345");
        assert!(p.avvisi().is_empty());
        assert_eq!(
            PermessoSoggiorno::parse("12_34").unwrap_err().to_string(),
            "carattere non ammesso in posizione 3 del numero del permesso di soggiorno: '_' (ammessi lettere, cifre, spazi e - . /)"
        );
        assert_eq!(
            PermessoSoggiorno::parse(&"9".repeat(21)).unwrap_err(),
            ErroreDocumento::TroppoLungo {
                documento: PERMESSO,
                trovati: 21,
                massimo: 20
            }
        );
    }

    #[test]
    fn questura_is_loose_text() {
        assert_eq!(Questura::parse(" roma ").unwrap().as_str(), "ROMA");
        assert_eq!(
            Questura::parse("Forlì-Cesena").unwrap().as_str(),
            "FORLI-CESENA"
        );
        assert_eq!(Questura::parse("L’Aquila").unwrap().as_str(), "L'AQUILA");
        assert_eq!(
            Questura::parse("Reggio  nell'Emilia").unwrap().as_str(),
            "REGGIO NELL'EMILIA"
        );
        assert_eq!(
            Questura::parse("").unwrap_err().to_string(),
            "questura di rilascio mancante: per il permesso di soggiorno è obbligatoria"
        );
        assert_eq!(
            Questura::parse(&"A".repeat(51)).unwrap_err(),
            ErroreQuestura::TroppoLunga { trovati: 51 }
        );
        assert!(Questura::parse(&"A".repeat(50)).is_ok());
        assert_eq!(
            Questura::parse("ROMA;1").unwrap_err(),
            ErroreQuestura::CarattereNonAmmesso {
                posizione: 5,
                trovato: ';'
            }
        );
    }

    #[test]
    fn cie_format_detection_for_single_column_lists() {
        assert!(ha_formato_cie("CA00000AA"));
        assert!(ha_formato_cie("ca 00000 aa"));
        assert!(!ha_formato_cie("RE03592S1"));
        assert!(!ha_formato_cie("AA1234567"));
    }
}
