//! Small text helpers shared by the identifier and place modules.

/// The base letter of an accented Latin letter, so that "Agliè", "AGLIE'" and "aglie" compare equal.
/// The table covers Latin-1 and the Latin Extended-A letters found in the names of comuni and
/// people; anything else is returned unchanged.
pub(crate) fn senza_accento(c: char) -> char {
    match c {
        'À'..='Å' | 'Ā' | 'Ă' | 'Ą' => 'A',
        'à'..='å' | 'ā' | 'ă' | 'ą' => 'a',
        'Ç' | 'Ć' | 'Č' => 'C',
        'ç' | 'ć' | 'č' => 'c',
        'Ď' => 'D',
        'ď' => 'd',
        'È'..='Ë' | 'Ē' | 'Ė' | 'Ę' | 'Ě' => 'E',
        'è'..='ë' | 'ē' | 'ė' | 'ę' | 'ě' => 'e',
        'Ì'..='Ï' | 'Ī' | 'Į' | 'İ' => 'I',
        'ì'..='ï' | 'ī' | 'į' | 'ı' => 'i',
        'Ł' => 'L',
        'ł' => 'l',
        'Ñ' | 'Ń' | 'Ň' => 'N',
        'ñ' | 'ń' | 'ň' => 'n',
        'Ò'..='Ö' | 'Ø' | 'Ō' | 'Ő' => 'O',
        'ò'..='ö' | 'ø' | 'ō' | 'ő' => 'o',
        'Ř' => 'R',
        'ř' => 'r',
        'Ś' | 'Š' | 'Ş' => 'S',
        'ś' | 'š' | 'ş' => 's',
        'Ť' | 'Ţ' => 'T',
        'ť' | 'ţ' => 't',
        'Ù'..='Ü' | 'Ū' | 'Ů' | 'Ű' => 'U',
        'ù'..='ü' | 'ū' | 'ů' | 'ű' => 'u',
        'Ý' | 'Ÿ' => 'Y',
        'ý' | 'ÿ' => 'y',
        'Ź' | 'Ż' | 'Ž' => 'Z',
        'ź' | 'ż' | 'ž' => 'z',
        _ => c,
    }
}

/// A comparison key for names of places: lower case, accents dropped, and every run of
/// punctuation or spaces turned into one space ("Sant'Agata  de' Goti" = "sant agata de goti").
pub(crate) fn chiave_nome(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut separatore = false;
    for c in s.chars().map(senza_accento) {
        if c.is_alphanumeric() {
            if separatore && !out.is_empty() {
                out.push(' ');
            }
            separatore = false;
            out.extend(c.to_lowercase());
        } else {
            separatore = true;
        }
    }
    out
}

/// A character as an error message shows it: printable ones as they are, the others by code
/// point, so that a tab or a NUL in a cell is visible in the report.
pub(crate) fn mostra(c: char) -> String {
    if c.is_control() || c.is_whitespace() {
        format!("U+{:04X}", c as u32)
    } else {
        c.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chiave_nome_ignores_case_accents_and_punctuation() {
        assert_eq!(chiave_nome("Agliè"), "aglie");
        assert_eq!(chiave_nome("AGLIE'"), "aglie");
        assert_eq!(chiave_nome("Sant'Agata  de' Goti"), "sant agata de goti");
        assert_eq!(chiave_nome("  Reggio nell'Emilia "), "reggio nell emilia");
        assert_eq!(chiave_nome("Forlì-Cesena"), "forli cesena");
    }

    #[test]
    fn mostra_makes_invisible_characters_visible() {
        assert_eq!(mostra('Z'), "Z");
        assert_eq!(mostra('\t'), "U+0009");
        assert_eq!(mostra('\u{a0}'), "U+00A0");
    }
}
