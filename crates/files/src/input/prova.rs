//! A realistic input file for `rivesto bench files`.

use std::io::{self, Write};

use chrono::{Days, NaiveDate};
use domain::cf::{self, Sesso};

const COGNOMI: [&str; 12] = [
    "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino",
    "Greco", "Bruno", "Gallo",
];
const NOMI: [&str; 12] = [
    "Mario",
    "Giulia",
    "Luca",
    "Francesca",
    "Marco",
    "Chiara",
    "Andrea",
    "Sara",
    "Giuseppe",
    "Anna",
    "Paolo",
    "Elena",
];
/// Belfiore codes with their ISTAT codes: Roma, Milano, Napoli, Torino, Palermo, Bari.
const LUOGHI: [(&str, &str); 6] = [
    ("H501", "058091"),
    ("F205", "015146"),
    ("F839", "063049"),
    ("L219", "001272"),
    ("G273", "082053"),
    ("A662", "072006"),
];
const QUESTURE: [&str; 4] = ["ROMA", "MILANO", "NAPOLI", "TORINO"];

/// SplitMix64: deterministic for a seed, and no dependency for a test helper.
struct Caso(u64);

impl Caso {
    fn prossimo(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn sotto(&mut self, n: u64) -> u64 {
        self.prossimo() % n
    }

    fn scegli<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[self.sotto(v.len() as u64) as usize]
    }

    fn lettere(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'A' + self.sotto(26) as u8))
            .collect()
    }

    fn cifre(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.sotto(10) as u8))
            .collect()
    }
}

/// Writes an `n_righe`-row CSV (header included on top) with the columns of DESIGN §5: about
/// 72% valid CFs (some omocodic), 8% ID ANPR, 6% CI with the issuing comune, 4% PDS with the
/// questura, 3% passports, 4% invalid CFs and 3% duplicates of a recent row. The same seed
/// gives the same file.
pub fn genera_file_prova(n_righe: u64, seed: u64, out: &mut impl Write) -> io::Result<()> {
    let mut caso = Caso(seed);
    let mut recenti: Vec<(&str, String, String)> = Vec::with_capacity(64);
    out.write_all(b"tipo;identificativo;riferimento;rilascio;motivo\r\n")?;
    for i in 1..=n_righe {
        let quale = caso.sotto(100);
        // A duplicate keeps kind, identifier and rilascio, with another riferimento (DESIGN §3).
        let (tipo, id, rilascio) = if quale < 3 && !recenti.is_empty() {
            recenti[caso.sotto(recenti.len() as u64) as usize].clone()
        } else {
            identificativo(&mut caso, quale)
        };
        write!(out, "{tipo};{id};P{i:07};{rilascio};\r\n")?;
        let voce = (tipo, id, rilascio);
        if recenti.len() < 64 {
            recenti.push(voce);
        } else {
            let posto = caso.sotto(64) as usize;
            recenti[posto] = voce;
        }
    }
    out.flush()
}

fn identificativo(caso: &mut Caso, quale: u64) -> (&'static str, String, String) {
    match quale {
        0..=74 => ("CF", cf_valido(caso), String::new()),
        75..=82 => (
            "IDANPR",
            format!("{}{}{}", caso.lettere(2), caso.cifre(5), caso.lettere(2)),
            String::new(),
        ),
        83..=88 => {
            let (_, istat) = LUOGHI[caso.sotto(LUOGHI.len() as u64) as usize];
            (
                "CI",
                format!("CA{}{}", caso.cifre(5), caso.lettere(2)),
                istat.to_owned(),
            )
        }
        89..=92 => (
            "PDS",
            format!("I{}", caso.cifre(9)),
            caso.scegli(&QUESTURE).to_owned(),
        ),
        93..=95 => ("PASS", format!("YA{}", caso.cifre(7)), String::new()),
        _ => {
            // A valid code with its check character moved one letter on: always wrong.
            let mut cf = cf_valido(caso);
            let ultimo = cf.pop().expect("16 characters");
            cf.push(char::from(b'A' + (ultimo as u8 - b'A' + 1) % 26));
            ("CF", cf, String::new())
        }
    }
}

fn cf_valido(caso: &mut Caso) -> String {
    let sesso = if caso.sotto(2) == 0 {
        Sesso::M
    } else {
        Sesso::F
    };
    let nascita =
        NaiveDate::from_ymd_opt(1930, 1, 1).expect("valid date") + Days::new(caso.sotto(80 * 365));
    let (belfiore, _) = LUOGHI[caso.sotto(LUOGHI.len() as u64) as usize];
    let codice = cf::calcola(
        caso.scegli(&COGNOMI),
        caso.scegli(&NOMI),
        sesso,
        nascita,
        belfiore,
    );
    if caso.sotto(50) == 0 {
        let livello = 1 + caso.sotto(3) as u8;
        if let Some(variante) = codice.variante_omocodica(livello) {
            return variante.as_str().to_owned();
        }
    }
    codice.as_str().to_owned()
}
