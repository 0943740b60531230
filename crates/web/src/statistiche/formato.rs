//! Numbers, shares, durations and periods as an Italian reader expects them: `1.234`,
//! `1.234,5`, `12,5 %`, `2 ore e 5 minuti`, `settimana 10 del 2026`.

use chrono::NaiveDate;
use store::statistiche::{Periodo, PeriodoStatistico};

/// `1234567` → `1.234.567`.
pub fn intero(n: i64) -> String {
    let cifre = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(cifre.len() + cifre.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in cifre.chars().enumerate() {
        if i > 0 && (cifre.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    out
}

/// `x` rounded to `decimali` places, with a decimal comma and thousands dots: `1.234,5`.
pub fn decimale(x: f64, decimali: u32) -> String {
    let scala = 10i64.pow(decimali);
    let arrotondato = (x * scala as f64).round() as i64;
    let intera = intero(arrotondato / scala);
    if decimali == 0 {
        return intera;
    }
    let segno = if arrotondato < 0 && arrotondato / scala == 0 {
        "-"
    } else {
        ""
    };
    let frazione = (arrotondato % scala).unsigned_abs();
    format!(
        "{segno}{intera},{frazione:0width$}",
        width = decimali as usize
    )
}

/// A fraction as a percentage with one decimal and a space before the sign: `12,5 %`. A share
/// above zero that would round to `0,0 %` reads `< 0,1 %`: something was used.
pub fn percentuale(frazione: f64) -> String {
    if frazione > 0.0 && frazione < 0.0005 {
        return "< 0,1 %".into();
    }
    format!("{} %", decimale(frazione * 100.0, 1))
}

/// A duration in the two largest units that are not zero: `45 secondi`, `12 minuti`,
/// `2 ore e 5 minuti`, `1 giorno e 3 ore`. Under a second: `meno di un secondo`.
pub fn durata(ms: i64) -> String {
    const UNITA: [(i64, &str, &str); 4] = [
        (86_400, "giorno", "giorni"),
        (3_600, "ora", "ore"),
        (60, "minuto", "minuti"),
        (1, "secondo", "secondi"),
    ];
    let mut secondi = ms.max(0) / 1_000;
    if secondi == 0 {
        return "meno di un secondo".into();
    }
    let mut parti = Vec::new();
    for (misura, uno, molti) in UNITA {
        let n = secondi / misura;
        secondi %= misura;
        if n > 0 {
            parti.push(format!("{n} {}", if n == 1 { uno } else { molti }));
        } else if !parti.is_empty() {
            // Two adjacent units at most: "1 giorno e 5 minuti" reads as more precise than it is.
            break;
        }
        if parti.len() == 2 {
            break;
        }
    }
    parti.join(" e ")
}

/// `dd/mm/yyyy`.
pub fn data(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

const MESI: [&str; 12] = [
    "gennaio",
    "febbraio",
    "marzo",
    "aprile",
    "maggio",
    "giugno",
    "luglio",
    "agosto",
    "settembre",
    "ottobre",
    "novembre",
    "dicembre",
];

/// How a period is named on the page: `02/03/2026`, `settimana 10 del 2026`, `marzo 2026`.
pub fn periodo(unita: Periodo, p: &PeriodoStatistico) -> String {
    use chrono::Datelike as _;
    match unita {
        Periodo::Giorno => data(p.dal),
        Periodo::Settimana => {
            let s = p.dal.iso_week();
            format!("settimana {} del {}", s.week(), s.year())
        }
        Periodo::Mese => format!("{} {}", MESI[p.dal.month0() as usize], p.dal.year()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeri_all_italiana() {
        assert_eq!(intero(0), "0");
        assert_eq!(intero(999), "999");
        assert_eq!(intero(1_000), "1.000");
        assert_eq!(intero(1_234_567), "1.234.567");
        assert_eq!(intero(-1_234), "-1.234");
        assert_eq!(decimale(1_234.5, 1), "1.234,5");
        assert_eq!(decimale(0.05, 1), "0,1");
        assert_eq!(decimale(12.0, 2), "12,00");
        assert_eq!(decimale(-0.4, 1), "-0,4");
        assert_eq!(decimale(2.6, 0), "3");
        assert_eq!(percentuale(0.125), "12,5 %");
        assert_eq!(percentuale(4.0 / 9.0), "44,4 %");
        assert_eq!(percentuale(1.0), "100,0 %");
        assert_eq!(percentuale(0.0), "0,0 %");
        assert_eq!(percentuale(2.0 / 5_000.0), "< 0,1 %");
        assert_eq!(percentuale(3.0 / 5_000.0), "0,1 %");
    }

    #[test]
    fn durate_leggibili() {
        assert_eq!(durata(400), "meno di un secondo");
        assert_eq!(durata(1_000), "1 secondo");
        assert_eq!(durata(45_000), "45 secondi");
        assert_eq!(durata(10 * 60_000), "10 minuti");
        assert_eq!(durata(12 * 60_000 + 5_000), "12 minuti e 5 secondi");
        assert_eq!(durata(3_600_000), "1 ora");
        assert_eq!(durata(2 * 3_600_000 + 5 * 60_000), "2 ore e 5 minuti");
        assert_eq!(durata(16 * 3_600_000), "16 ore");
        assert_eq!(durata(27 * 3_600_000), "1 giorno e 3 ore");
        // Minutes after whole days are not shown: the next unit down is hours.
        assert_eq!(durata(2 * 86_400_000 + 5 * 60_000), "2 giorni");
    }

    #[test]
    fn nomi_dei_periodi() {
        let d = |g| NaiveDate::from_ymd_opt(2026, 3, g).unwrap();
        let p = |dal, al| PeriodoStatistico {
            chiave: String::new(),
            dal,
            al,
            giorni_nel_filtro: 1,
        };
        assert_eq!(periodo(Periodo::Giorno, &p(d(2), d(2))), "02/03/2026");
        assert_eq!(
            periodo(Periodo::Settimana, &p(d(2), d(8))),
            "settimana 10 del 2026"
        );
        assert_eq!(periodo(Periodo::Mese, &p(d(1), d(31))), "marzo 2026");
    }
}
