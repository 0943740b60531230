//! The input parser (DESIGN §5) against arbitrary bytes: no panic, and a report that adds up.
#![no_main]

use std::io::Cursor;

use chrono::NaiveDate;
use files::input::{EsitoRiga, Limiti, Opzioni, analizza_ripetibile};
use libfuzzer_sys::fuzz_target;

/// CR, LF and CRLF each end a line (DESIGN §5); an XLSX's rows are not bounded by this, so
/// the check is skipped for zip content.
fn righe_fisiche(byte: &[u8]) -> u64 {
    if byte.starts_with(b"PK") {
        return u64::MAX;
    }
    let mut n = 1;
    let mut dopo_cr = false;
    for &b in byte {
        match b {
            b'\r' => {
                n += 1;
                dopo_cr = true;
            }
            b'\n' if dopo_cr => dopo_cr = false,
            b'\n' => n += 1,
            _ => dopo_cr = false,
        }
    }
    n
}

fuzz_target!(|byte: &[u8]| {
    let opzioni = Opzioni {
        riferimento: NaiveDate::from_ymd_opt(2025, 6, 1).expect("valid date"),
    };
    // Small limits reach the limit paths with small inputs.
    let piccoli = Limiti {
        max_byte: 64 * 1024,
        max_righe: 50,
        max_campo: 24,
        max_decompresso: 1024 * 1024,
    };
    for limiti in [Limiti::default(), piccoli] {
        let mut righe = 0u64;
        let mut non_valide = 0u64;
        let esito = analizza_ripetibile(Cursor::new(byte), Some("f.csv"), limiti, opzioni, |r| {
            righe += 1;
            if matches!(r.esito, EsitoRiga::NonValida(_)) {
                non_valide += 1;
            }
        });
        if let Ok(r) = esito {
            let t = &r.totali;
            assert_eq!(t.righe, righe);
            assert_eq!(t.non_valide, non_valide);
            assert_eq!(t.righe, t.valide + t.non_valide);
            assert!(t.righe <= limiti.max_righe);
            let linee = righe_fisiche(byte);
            assert!(r.problemi.iter().all(|p| p.riga >= 1 && p.riga <= linee));
            let _ = (r.testo(), r.json());
        }
    }
});
