//! Windows-1252 output: what the code page holds is kept, what it lacks is transliterated where a
//! standard transliteration exists (Ł→L, ș→s, ‐→-), otherwise replaced with `?`. Both are counted
//! for the report.
//!
//! The five bytes Windows-1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) are never written:
//! our own input parser refuses a file that holds them (DESIGN §5 "Input").

use std::borrow::Cow;

/// Characters changed while converting, for the report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Conteggi {
    /// Characters written as their transliteration (or dropped, for invisible ones).
    pub traslitterati: u64,
    /// Characters with no transliteration, written as `?`.
    pub sostituiti: u64,
}

/// Characters at 0x80..=0x9F; `\0` marks the undefined bytes.
const ALTI: [char; 32] = [
    '€', '\0', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\0', 'Ž', '\0', //
    '\0', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\0', 'ž', 'Ÿ',
];

/// Latin Extended-A (U+0100..=U+017F), one base letter each; `*` marks the entries that are
/// either in Windows-1252 already or need more than one letter ([`traslittera`] handles them).
const LATINO_ESTESO_A: &str = concat!(
    "AaAaAaCcCcCcCcDd",
    "DdEeEeEeEeEeGgGg",
    "GgGgHhHhIiIiIiIi",
    "Ii**JjKkkLlLlLlL",
    "lLlNnNnNn*NnOoOo",
    "Oo**RrRrRrSsSsSs",
    "**TtTtTtUuUuUuUu",
    "UuUuWwYy*ZzZz**s",
);

/// Latin Extended-B U+0200..=U+0217 (double grave and inverted breve).
const LATINO_ESTESO_B_200: &str = "AaAaEeEeIiIiOoOoRrRrUuUu";

/// The Windows-1252 byte of a character, if the code page holds it.
pub fn byte(c: char) -> Option<u8> {
    let u = c as u32;
    if u < 0x80 || (0xA0..=0xFF).contains(&u) {
        return Some(u as u8);
    }
    ALTI.iter()
        .position(|&x| x == c && x != '\0')
        .map(|i| 0x80 + i as u8)
}

/// The standard transliteration of a character Windows-1252 lacks (`""` drops an invisible one).
pub fn traslittera(c: char) -> Option<&'static str> {
    let u = c as u32;
    match u {
        0x0300..=0x036F => Some(""), // combining marks: decomposed text keeps its base letter
        0x0100..=0x017F => latino_esteso_a(u),
        0x0180..=0x024F => latino_esteso_b(u),
        0xFF01..=0xFF5E => {
            ASCII_STAMPABILE.get((u - 0xFF01 + 1) as usize..(u - 0xFF01 + 2) as usize)
        }
        _ => punteggiatura(u),
    }
}

const ASCII_STAMPABILE: &str = " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~";

fn latino_esteso_a(u: u32) -> Option<&'static str> {
    match u {
        0x0132 => Some("IJ"),
        0x0133 => Some("ij"),
        0x0149 => Some("'n"),
        _ => {
            let i = (u - 0x0100) as usize;
            let s = &LATINO_ESTESO_A[i..i + 1];
            (s != "*").then_some(s)
        }
    }
}

fn latino_esteso_b(u: u32) -> Option<&'static str> {
    Some(match u {
        0x0200..=0x0217 => {
            let i = (u - 0x0200) as usize;
            &LATINO_ESTESO_B_200[i..i + 1]
        }
        0x0180 => "b",
        0x0181 => "B",
        0x0187 | 0x023B => "C",
        0x0188 | 0x023C => "c",
        0x0189 | 0x018A => "D",
        0x0191 => "F",
        0x0193 | 0x01E4 | 0x01E6 | 0x01F4 => "G",
        0x01E5 | 0x01E7 | 0x01F5 => "g",
        0x0197 | 0x01CF => "I",
        0x01D0 => "i",
        0x0198 | 0x01E8 => "K",
        0x0199 | 0x01E9 => "k",
        0x019A => "l",
        0x019D | 0x01F8 => "N",
        0x019E | 0x01F9 => "n",
        0x01A0 | 0x01D1 | 0x01EA | 0x01EC | 0x022E | 0x0230 => "O",
        0x01A1 | 0x01D2 | 0x01EB | 0x01ED | 0x022F | 0x0231 => "o",
        0x01A4 => "P",
        0x01A5 => "p",
        0x01AC | 0x01AE | 0x021A => "T",
        0x01AB | 0x01AD | 0x021B => "t",
        0x01AF | 0x01D3 => "U",
        0x01B0 | 0x01D4 => "u",
        0x01B2 => "V",
        0x01B3 | 0x0232 => "Y",
        0x01B4 | 0x0233 => "y",
        0x01B5 => "Z",
        0x01B6 => "z",
        0x01C4 | 0x01F1 => "DZ",
        0x01C5 | 0x01F2 => "Dz",
        0x01C6 | 0x01F3 => "dz",
        0x01C7 => "LJ",
        0x01C8 => "Lj",
        0x01C9 => "lj",
        0x01CA => "NJ",
        0x01CB => "Nj",
        0x01CC => "nj",
        0x01CD | 0x01E0 | 0x0226 => "A",
        0x01CE | 0x01E1 | 0x0227 => "a",
        0x01D5 | 0x01D7 | 0x01D9 | 0x01DB => "Ü",
        0x01D6 | 0x01D8 | 0x01DA | 0x01DC => "ü",
        0x01DE => "Ä",
        0x01DF => "ä",
        0x01E2 | 0x01FC => "Æ",
        0x01E3 | 0x01FD => "æ",
        0x01F0 => "j",
        0x01FA => "Å",
        0x01FB => "å",
        0x01FE => "Ø",
        0x01FF => "ø",
        0x0218 => "S",
        0x0219 => "s",
        0x021E => "H",
        0x021F => "h",
        0x0228 => "E",
        0x0229 => "e",
        0x022A => "Ö",
        0x022B => "ö",
        0x022C => "Õ",
        0x022D => "õ",
        _ => return None,
    })
}

fn punteggiatura(u: u32) -> Option<&'static str> {
    Some(match u {
        0x2000..=0x200A | 0x2028 | 0x2029 | 0x205F | 0x3000 => " ",
        0x200B..=0x200D | 0x2060 | 0xFEFF => "",
        0x202F => "\u{A0}",
        0x2010..=0x2012 | 0x2043 | 0x2212 => "-",
        0x2015 => "—",
        0x2017 => "_",
        0x201B | 0x2032 | 0x02B9 | 0x02BC | 0x02C8 => "'",
        0x201F | 0x2033 | 0x02BA => "\"",
        0x02CB => "`",
        0x02D0 | 0x2236 => ":",
        0x2024 => ".",
        0x2025 => "..",
        0x2027 => "·",
        0x2044 | 0x2215 => "/",
        0x2217 => "*",
        0x223C => "~",
        0x2260 => "!=",
        0x2264 => "<=",
        0x2265 => ">=",
        0x2116 => "No",
        0x1E9E => "SS",
        _ => return None,
    })
}

/// The text restricted to what Windows-1252 holds; borrowed when nothing changes.
pub fn adatta<'a>(s: &'a str, conteggi: &mut Conteggi) -> Cow<'a, str> {
    let Some(primo) = s.char_indices().find(|(_, c)| byte(*c).is_none()) else {
        return Cow::Borrowed(s);
    };
    let mut out = String::with_capacity(s.len());
    out.push_str(&s[..primo.0]);
    for c in s[primo.0..].chars() {
        if byte(c).is_some() {
            out.push(c);
        } else if let Some(t) = traslittera(c) {
            conteggi.traslitterati += 1;
            out.push_str(t);
        } else {
            conteggi.sostituiti += 1;
            out.push('?');
        }
    }
    Cow::Owned(out)
}

/// Appends the Windows-1252 bytes of text already passed through [`adatta`].
pub fn codifica(s: &str, out: &mut Vec<u8>) {
    if s.is_ascii() {
        out.extend_from_slice(s.as_bytes());
        return;
    }
    out.extend(s.chars().map(|c| byte(c).unwrap_or(b'?')));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(s: &str) -> (String, Conteggi) {
        let mut c = Conteggi::default();
        (adatta(s, &mut c).into_owned(), c)
    }

    #[test]
    fn kept_transliterated_replaced() {
        assert_eq!(
            conv("NICOLÒ D’ANNA “€”"),
            ("NICOLÒ D’ANNA “€”".into(), Conteggi::default())
        );
        let (s, c) = conv("Łukasz Wałęsa, Ștefan Țuțea, Erdős");
        assert_eq!(s, "Lukasz Walesa, Stefan Tutea, Erdos");
        assert_eq!(
            c,
            Conteggi {
                traslitterati: 7,
                sostituiti: 0
            }
        );
        let (s, c) = conv("Иван 王");
        assert_eq!(s, "???? ?");
        assert_eq!(
            c,
            Conteggi {
                traslitterati: 0,
                sostituiti: 5
            }
        );
        // Decomposed "è" (e + U+0300) keeps its base letter.
        assert_eq!(conv("Rose\u{300}").0, "Rose");
        assert_eq!(conv("\u{2212}5").0, "-5");
        assert_eq!(conv("Ĳssel ŉ").0, "IJssel 'n");
        assert_eq!(conv("ＡＢＣ１").0, "ABC1");
        assert_eq!(conv("Nguyễn").0, "Nguy?n");
    }

    #[test]
    fn table_rows_line_up_with_the_code_points() {
        assert_eq!(LATINO_ESTESO_A.len(), 128);
        assert_eq!(traslittera('Ā'), Some("A"));
        assert_eq!(traslittera('ď'), Some("d"));
        assert_eq!(traslittera('ĸ'), Some("k"));
        assert_eq!(traslittera('Ŀ'), Some("L"));
        assert_eq!(traslittera('ł'), Some("l"));
        assert_eq!(traslittera('ő'), Some("o"));
        assert_eq!(traslittera('ş'), Some("s"));
        assert_eq!(traslittera('Ŧ'), Some("T"));
        assert_eq!(traslittera('ű'), Some("u"));
        assert_eq!(traslittera('ž'), None); // in Windows-1252 already
        assert_eq!(traslittera('ſ'), Some("s"));
        assert_eq!(traslittera('ȗ'), Some("u"));
        // Every transliteration is itself Windows-1252 text.
        for u in 0..0x3001u32 {
            if let Some(t) = char::from_u32(u).and_then(traslittera) {
                assert!(t.chars().all(|c| byte(c).is_some()), "U+{u:04X}");
            }
        }
    }

    #[test]
    fn bytes_agree_with_encoding_rs_and_skip_undefined() {
        for b in 0x80u8..=0xFF {
            let sorgente = [b];
            let (dec, _, _) = encoding_rs::WINDOWS_1252.decode(&sorgente);
            let c = dec.chars().next().unwrap();
            let atteso = if [0x81, 0x8D, 0x8F, 0x90, 0x9D].contains(&b) {
                None
            } else {
                Some(b)
            };
            assert_eq!(byte(c), atteso, "0x{b:02X}");
        }
        let mut out = Vec::new();
        codifica("è€\u{81}", &mut out);
        assert_eq!(out, [0xE8, 0x80, b'?']);
    }
}
