//! The simple types of `tipoDato.xsd` that a `Richiesta3002` uses, as Rust predicates
//! (patterns, lengths, xs:date and xs:dateTime). Leaf values are trimmed before the check.

use chrono::NaiveDate;

fn lunghezza_in(s: &str, min: usize, max: usize) -> bool {
    let n = s.chars().count();
    n >= min && n <= max
}

/// `numerico` restricted by length: digits only.
pub fn numerico(min: usize, max: usize) -> impl Fn(&str) -> bool {
    move |s| lunghezza_in(s, min, max) && s.bytes().all(|b| b.is_ascii_digit())
}

/// `[0-9a-zA-Z]` with a length range.
pub fn alfanumerico(min: usize, max: usize) -> impl Fn(&str) -> bool {
    move |s| lunghezza_in(s, min, max) && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Any characters, with a length range (`charMaxN`, `tipoInvioAmmesso`…).
pub fn lunghezza(min: usize, max: usize) -> impl Fn(&str) -> bool {
    move |s| lunghezza_in(s, min, max)
}

/// Characters allowed by `ammesso`, with a length range.
pub fn caratteri(min: usize, max: usize, ammesso: fn(char) -> bool) -> impl Fn(&str) -> bool {
    move |s| lunghezza_in(s, min, max) && s.chars().all(ammesso)
}

pub fn qualsiasi(_: &str) -> bool {
    true
}

/// The letters of ANPR's name patterns: `I i &#138; &#140; &#142; &#154; &#156; &#158;-&#159;
/// &#192;-&#382; &#393; a-zA-Z`.
fn lettera(c: char) -> bool {
    c.is_ascii_alphabetic()
        || matches!(c as u32, 138 | 140 | 142 | 154 | 156 | 158 | 159 | 393)
        || (192..=382).contains(&(c as u32))
}

/// `alfabeticoNomiCognomi`: letters, `- ' . ,` and space.
pub fn nome_cognome(c: char) -> bool {
    lettera(c) || matches!(c, '-' | ' ' | '\'' | '.' | ',')
}

/// `alfanumericobase`: digits, letters, `- ' . ,` and space.
pub fn alfanumerico_base(c: char) -> bool {
    c.is_ascii_digit() || nome_cognome(c)
}

/// `alfanumericoslashbase`: as `alfanumericobase` plus `/ ( )`.
pub fn alfanumerico_slash(c: char) -> bool {
    alfanumerico_base(c) || matches!(c, '/' | '(' | ')')
}

/// `alfabeticoProvincia`: two characters of the name alphabet.
pub fn provincia(s: &str) -> bool {
    s.chars().count() == 2 && s.chars().all(nome_cognome)
}

/// `tipoQuesturaRilascio`: `[0-9a-zA-Z'\-. ()]`, 1 to 50.
pub fn questura(s: &str) -> bool {
    caratteri(1, 50, |c| {
        c.is_ascii_alphanumeric() || matches!(c, '\'' | '-' | '.' | ' ' | '(' | ')')
    })(s)
}

/// `tipoNumeroCartaIdentita`: `[0-9a-zA-Z ]`, 1 to 20.
pub fn numero_carta(s: &str) -> bool {
    caratteri(1, 20, |c| c.is_ascii_alphanumeric() || c == ' ')(s)
}

/// `tipoNumeroPassaporto`: `[0-9a-zA-Z ]`, 1 to 30.
pub fn numero_passaporto(s: &str) -> bool {
    caratteri(1, 30, |c| c.is_ascii_alphanumeric() || c == ' ')(s)
}

/// `tipoNumeroSoggiorno`: `[0-9a-zA-Z\-./ ]`, 1 to 20.
pub fn numero_soggiorno(s: &str) -> bool {
    caratteri(1, 20, |c| {
        c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '/' | ' ')
    })(s)
}

/// `tipoProtocolloComune`: `[0-9a-zA-Z\-_/]`, 1 to 20.
pub fn protocollo(s: &str) -> bool {
    caratteri(1, 20, |c| {
        c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '/')
    })(s)
}

/// `tipoCodMittente` / `tipoCodDestinatario`: `[0-9a-zA-Z ]`, 1 to 6.
pub fn codice_6(s: &str) -> bool {
    caratteri(1, 6, |c| c.is_ascii_alphanumeric() || c == ' ')(s)
}

/// `tipoNomeApplicativo`: `[0-9a-zA-Z. ]`, 1 to 80.
pub fn nome_applicativo(s: &str) -> bool {
    caratteri(1, 80, |c| {
        c.is_ascii_alphanumeric() || matches!(c, '.' | ' ')
    })(s)
}

/// `tipoVersioneApplicativo` / `tipoFornitoreApplicativo`: `[0-9a-zA-Z.\- ]`, 1 to 80.
pub fn versione_applicativo(s: &str) -> bool {
    caratteri(1, 80, |c| {
        c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ' ')
    })(s)
}

/// `tipoIdSchedaSoggetto`: `[0-9a-zA-Z\-]`, 1 to 20.
pub fn id_scheda(s: &str) -> bool {
    caratteri(1, 20, |c| c.is_ascii_alphanumeric() || c == '-')(s)
}

pub fn sesso(s: &str) -> bool {
    matches!(s, "M" | "F" | "N" | "m" | "f" | "n")
}

/// `tipoSN1`.
pub fn sn(s: &str) -> bool {
    matches!(s, "S" | "N" | "s" | "n")
}

/// `tipoSenza`: the value 1.
pub fn senza(s: &str) -> bool {
    s == "1"
}

/// Splits an optional time zone (`Z` or `±hh:mm`) off the end of an XSD date or time.
fn senza_fuso(s: &str) -> Option<&str> {
    if let Some(r) = s.strip_suffix('Z') {
        return Some(r);
    }
    if s.len() > 6 {
        let (testa, fuso) = s.split_at(s.len() - 6);
        let b = fuso.as_bytes();
        if (b[0] == b'+' || b[0] == b'-') && b[3] == b':' {
            let ore = fuso[1..3].parse::<u8>().ok()?;
            let minuti = fuso[4..6].parse::<u8>().ok()?;
            return (ore <= 14 && minuti < 60 && fuso[1..3].bytes().all(|c| c.is_ascii_digit()))
                .then_some(testa);
        }
    }
    Some(s)
}

/// An `xs:date` (`YYYY-MM-DD` with an optional time zone); the zone is dropped.
pub fn leggi_data(s: &str) -> Option<NaiveDate> {
    let d = senza_fuso(s)?;
    if d.len() != 10 {
        return None;
    }
    NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()
}

pub fn data(s: &str) -> bool {
    leggi_data(s).is_some()
}

/// An `xs:dateTime` (`YYYY-MM-DDThh:mm:ss[.fff][zone]`).
pub fn data_ora(s: &str) -> bool {
    let Some(d) = senza_fuso(s) else {
        return false;
    };
    let Some((giorno, ora)) = d.split_once('T') else {
        return false;
    };
    let (hms, frazione) = match ora.split_once('.') {
        Some((h, f)) => (h, Some(f)),
        None => (ora, None),
    };
    giorno.len() == 10
        && NaiveDate::parse_from_str(giorno, "%Y-%m-%d").is_ok()
        && hms.len() == 8
        && chrono::NaiveTime::parse_from_str(hms, "%H:%M:%S").is_ok()
        && frazione.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_e_date_ora_xsd() {
        assert!(data("2025-03-01"));
        assert!(data("2017-03-27+02:00"));
        assert!(data("2025-03-01Z"));
        assert!(!data("2025-3-1"));
        assert!(!data("2025-02-30"));
        assert_eq!(
            leggi_data("2017-03-27+02:00"),
            NaiveDate::from_ymd_opt(2017, 3, 27)
        );
        assert!(data_ora("2017-03-27T19:20:11.543+02:00"));
        assert!(data_ora("2025-03-01T10:00:00Z"));
        assert!(data_ora("2025-03-01T10:00:00"));
        assert!(!data_ora("2025-03-01 10:00:00"));
        assert!(!data_ora("2025-03-01T10:00:00."));
        assert!(!data_ora("2025-03-01T25:00:00"));
    }

    #[test]
    fn schemi_dei_nomi_e_dei_documenti() {
        let nomi = caratteri(1, 80, nome_cognome);
        assert!(nomi("D'ANGELO-ROSSI"));
        assert!(nomi("NICOLÒ"));
        assert!(!nomi("ROSSI2"));
        assert!(!nomi(""));
        assert!(numero_carta("CA00000AA"));
        assert!(!numero_carta("CA-0000"));
        assert!(numero_soggiorno("I-0000/1.2"));
        assert!(questura("L'AQUILA (AQ)"));
        assert!(!questura("ROMA_1"));
        assert!(numerico(6, 6)("058091"));
        assert!(!numerico(6, 6)("58091"));
        assert!(alfanumerico(11, 16)("RSSMRA80A01H501U"));
        assert!(provincia("RM"));
        assert!(!provincia("R"));
    }
}
