//! Identity documents of the simulated registry, as 3002 returns them (NOTES-ws-comuni §6
//! `cartaIdentita`, `permessoSoggiorno`): the current carta d'identità of a person and, for
//! foreigners, the current permesso di soggiorno with the passport it records.
//!
//! A synthetic person's document numbers encode their index, as idANPRs do: a lookup decodes
//! the index from the number, regenerates that person and compares the whole number, so it
//! costs a few hashes at any population size. The synthetic formats leave room that the
//! fixtures' numbers use (each encoder says where), so the two sources never hold the same
//! number.
//!
//! Choices of the simulator (ANPR publishes no distribution): 5% of the people never had a
//! card and 6% hold one they never renewed; the others hold one issued within its validity
//! before the end of 2025 (or before death: a deceased person keeps the card held at death).
//! Cancelled people have no documents, so a document search never reaches them.

use super::Soggetto;
use super::luoghi::{self, LuogoResidenza};
use super::sintetica::h;
use chrono::{Datelike, Days, Months, NaiveDate};

/// The current carta d'identità (`datiSoggetto/cartaIdentita`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CartaIdentita {
    /// CIE `CA12345AB` (2 letters, 5 digits, 2 letters) or paper `AA1234567`, upper case.
    pub numero: String,
    pub elettronica: bool,
    pub data_rilascio: NaiveDate,
    pub data_scadenza: NaiveDate,
    /// Issuing Comune (nome, codice ISTAT, sigla provincia): the Comune of residence at issue
    /// time…
    pub comune_rilascio: Option<(String, String, String)>,
    /// …or, for a person living abroad at issue time, the consulate (codice ≤7 digits,
    /// descrizione). Exactly one of the two is set.
    pub consolato_rilascio: Option<(String, String)>,
    /// "Non valida per l'espatrio": always for foreigners (their card is not a travel
    /// document), rarely for Italians.
    pub interdizione_espatrio: bool,
}

impl CartaIdentita {
    /// Issued on or before `data` and not yet expired (it is valid on its expiry day).
    pub fn valida_al(&self, data: NaiveDate) -> bool {
        self.data_rilascio <= data && data <= self.data_scadenza
    }
}

/// The current permesso di soggiorno (`datiSoggetto/permessoSoggiorno`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermessoSoggiorno {
    /// `[0-9a-zA-Z\-./ ]{1,20}`; synthetic ones are `I` and 8 digits.
    pub numero: String,
    /// Tabella 8: 1 permesso, 2 permesso UE per soggiornanti di lungo periodo (no expiry),
    /// 6 rinnovo in corso (the expired permesso whose renewal is pending).
    pub tipo: u8,
    /// Upper-case name of the questura's city (`ROMA`): the province of residence at issue.
    pub questura: String,
    pub data_rilascio: NaiveDate,
    pub data_scadenza: Option<NaiveDate>,
    /// The foreign passport shown for the permesso, `[0-9a-zA-Z ]{1,30}`.
    pub numero_passaporto: Option<String>,
}

/// The last day the synthetic data describe (as the AIRE moves of `sintetica` do).
fn fine_dati() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 12, 31).expect("data fissa valida")
}

/// First CIE 3.0 issued (July 2016); from 2018 every Comune and consulate issued only CIE.
fn cie_inizio() -> NaiveDate {
    NaiveDate::from_ymd_opt(2016, 7, 4).expect("data fissa valida")
}
fn cie_ovunque() -> NaiveDate {
    NaiveDate::from_ymd_opt(2018, 1, 1).expect("data fissa valida")
}

fn anni(n: u32) -> Months {
    Months::new(12 * n)
}

/// `data` plus `n` years; 29 February becomes 28 February in a common year.
fn piu_anni(data: NaiveDate, n: u32) -> NaiveDate {
    data.checked_add_months(anni(n)).unwrap_or(NaiveDate::MAX)
}

fn meno_anni(data: NaiveDate, n: u32) -> NaiveDate {
    data.checked_sub_months(anni(n)).unwrap_or(NaiveDate::MIN)
}

/// Completed years of age at `data`.
fn eta(nascita: NaiveDate, data: NaiveDate) -> i32 {
    let compiuti = (data.month(), data.day()) >= (nascita.month(), nascita.day());
    data.year() - nascita.year() - i32::from(!compiuti)
}

/// Expiry of a carta d'identità issued on `rilascio`. Before the 2008 reform every card lasted
/// 5 years; since then 10 years from age 18, 5 years from 3 to 18, 3 years below 3. From
/// 10 February 2012 the expiry moves to the holder's first birthday on or after that date.
pub fn scadenza_carta(nascita: NaiveDate, rilascio: NaiveDate) -> NaiveDate {
    let riforma_2008 = NaiveDate::from_ymd_opt(2008, 6, 26).expect("data fissa valida");
    let riforma_2012 = NaiveDate::from_ymd_opt(2012, 2, 10).expect("data fissa valida");
    let durata = match eta(nascita, rilascio) {
        _ if rilascio < riforma_2008 => 5,
        e if e < 3 => 3,
        e if e < 18 => 5,
        _ => 10,
    };
    let nominale = piu_anni(rilascio, durata);
    if rilascio < riforma_2012 {
        return nominale;
    }
    let compleanno = |anno: i32| {
        NaiveDate::from_ymd_opt(anno, nascita.month(), nascita.day())
            .or_else(|| NaiveDate::from_ymd_opt(anno, 2, 28))
            .unwrap_or(nominale)
    };
    let stesso_anno = compleanno(nominale.year());
    if stesso_anno >= nominale {
        stesso_anno
    } else {
        compleanno(nominale.year() + 1)
    }
}

/// The issuer of a card: (Comune, consulate), one of them set.
type Ente = (Option<(String, String, String)>, Option<(String, String)>);

/// Who issues a document on `data`: the Comune of residence (nome, ISTAT, sigla), or the
/// consulate of a person living abroad (codice, descrizione).
pub fn ente_rilascio(s: &Soggetto, data: NaiveDate) -> Ente {
    // A date before the first residence (never after birth) counts as the first residence.
    let residenza = s.residenza_al(data).or_else(|| s.residenze.first());
    match residenza.map(|r| &r.luogo) {
        Some(LuogoResidenza::Italia {
            istat,
            comune,
            sigla,
            ..
        }) => (Some((comune.clone(), istat.clone(), sigla.clone())), None),
        Some(LuogoResidenza::Estero {
            codice_stato,
            consolato,
            ..
        }) => (
            None,
            Some((luoghi::codice_consolato(codice_stato), consolato.clone())),
        ),
        None => (None, None),
    }
}

/// The questura for a person living in Italy on `data` (else on `riserva`).
pub fn questura_al(s: &Soggetto, data: NaiveDate, riserva: NaiveDate) -> Option<String> {
    let in_italia = |d: NaiveDate| match &s.residenza_al(d)?.luogo {
        LuogoResidenza::Italia { sigla, .. } => luoghi::questura(sigla),
        LuogoResidenza::Estero { .. } => None,
    };
    in_italia(data)
        .or_else(|| in_italia(riserva))
        .map(str::to_owned)
}

pub fn italiano(s: &Soggetto) -> bool {
    s.cittadinanze.iter().any(|(codice, _)| codice == "100")
}

/// ISTAT codes of the states in `luoghi::STATI` whose citizens live in Italy without a
/// permesso (EU, EEA and Switzerland: the Comune attests their stay).
const SENZA_PERMESSO: &[&str] = &["206", "215", "216", "235", "239", "241"];

fn ha_bisogno_di_permesso(s: &Soggetto) -> bool {
    !s.cittadinanze.is_empty()
        && !italiano(s)
        && s.cittadinanze
            .iter()
            .all(|(codice, _)| !SENZA_PERMESSO.contains(&codice.as_str()))
}

/// The card of synthetic person `i` (`s` without documents yet).
pub fn carta_sintetica(seed: u64, i: u32, s: &Soggetto) -> Option<CartaIdentita> {
    if s.cancellato {
        return None;
    }
    let k = h(seed, 20, u64::from(i));
    let fine = s.decesso.unwrap_or(fine_dati()).min(fine_dati());
    let caso = k % 100;
    if caso < 5 {
        return None;
    }
    let rilascio = if caso < 11 {
        // Never renewed: issued 10 to 16 years before, so expired by now.
        meno_anni(fine, 10) - Days::new((k >> 8) % 2190)
    } else {
        // Within the validity of the card the person would get: 10 years for someone who was
        // an adult all along, 5 for the younger ones (cards of children last 5 years).
        let finestra = if eta(s.data_nascita, fine) >= 28 {
            3652
        } else {
            1826
        };
        fine - Days::new((k >> 8) % finestra)
    };
    let rilascio = rilascio.max(s.data_nascita + Days::new(60)).min(fine);
    let elettronica =
        rilascio >= cie_ovunque() || (rilascio >= cie_inizio() && (k >> 40).is_multiple_of(2));
    let lettere = h(seed, 21, u64::from(i));
    let (comune_rilascio, consolato_rilascio) = ente_rilascio(s, rilascio);
    Some(CartaIdentita {
        numero: if elettronica {
            numero_cie(seed, i, lettere)
        } else {
            numero_cartaceo(seed, i, lettere)
        },
        elettronica,
        data_rilascio: rilascio,
        data_scadenza: scadenza_carta(s.data_nascita, rilascio),
        comune_rilascio,
        consolato_rilascio,
        interdizione_espatrio: !italiano(s) || (k >> 48).is_multiple_of(150),
    })
}

/// The permesso of synthetic person `i`: only a foreigner needing one who lives in Italy at
/// the end of the data (or at death).
pub fn permesso_sintetico(seed: u64, i: u32, s: &Soggetto) -> Option<PermessoSoggiorno> {
    if s.cancellato || !ha_bisogno_di_permesso(s) {
        return None;
    }
    let fine = s.decesso.unwrap_or(fine_dati()).min(fine_dati());
    let k = h(seed, 22, u64::from(i));
    let eta_fine = eta(s.data_nascita, fine);
    let caso = k % 100;
    // Long-term permits need five years of legal stay; "rinnovo in corso" is an adult's
    // permit that expired while its renewal is pending.
    let tipo = if caso < 45 && eta_fine >= 23 {
        2
    } else if caso >= 94 && eta_fine >= 18 {
        6
    } else {
        1
    };
    let indietro = match tipo {
        2 => (k >> 8) % 3650,
        6 => 760 + (k >> 8) % 300,
        _ => (k >> 8) % 700,
    };
    // A child's stay is on the parents' permit until 14.
    let rilascio = (fine - Days::new(indietro))
        .max(piu_anni(s.data_nascita, 14))
        .min(fine);
    let questura = questura_al(s, rilascio, fine)?;
    let passaporto = (k >> 40) % 10 < 8;
    Some(PermessoSoggiorno {
        numero: numero_permesso(seed, i),
        tipo,
        questura,
        data_rilascio: rilascio,
        data_scadenza: (tipo != 2).then(|| piu_anni(rilascio, 2)),
        numero_passaporto: passaporto
            .then(|| numero_passaporto(seed, i, h(seed, 23, u64::from(i)))),
    })
}

/// An affine bijection of `0..modulo` (`modulo` a power of ten, `moltiplicatore` prime to
/// it): it spreads consecutive indexes over the number space, and it is undone exactly.
struct Cifre {
    modulo: u64,
    moltiplicatore: u64,
    larghezza: usize,
}

const CIFRE_5: Cifre = Cifre {
    modulo: 100_000,
    moltiplicatore: 38_447,
    larghezza: 5,
};
const CIFRE_7: Cifre = Cifre {
    modulo: 10_000_000,
    moltiplicatore: 3_141_593,
    larghezza: 7,
};
const CIFRE_8: Cifre = Cifre {
    modulo: 100_000_000,
    moltiplicatore: 27_182_819,
    larghezza: 8,
};

impl Cifre {
    fn avanti(&self, r: u64, scarto: u64) -> String {
        let d = (r % self.modulo * self.moltiplicatore + scarto % self.modulo) % self.modulo;
        format!("{d:0w$}", w = self.larghezza)
    }

    fn indietro(&self, cifre: &str, scarto: u64) -> Option<u64> {
        if cifre.len() != self.larghezza || !cifre.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let d: u64 = cifre.parse().ok()?;
        let x = (d + self.modulo - scarto % self.modulo) % self.modulo;
        Some(x * inverso(self.moltiplicatore, self.modulo) % self.modulo)
    }
}

/// `a⁻¹ mod m` by the extended Euclidean algorithm (`a` prime to `m`).
fn inverso(a: u64, m: u64) -> u64 {
    let (mut r0, mut r1) = (i128::from(m), i128::from(a));
    let (mut t0, mut t1) = (0i128, 1i128);
    while r1 != 0 {
        let q = r0 / r1;
        (r0, r1) = (r1, r0 - q * r1);
        (t0, t1) = (t1, t0 - q * t1);
    }
    u64::try_from(t0.rem_euclid(i128::from(m))).unwrap_or(0)
}

fn lettera(n: u64) -> char {
    char::from(b'A' + (n % 26) as u8)
}

/// Index of an upper-case letter, when `b` is one in `da..=a`.
fn posizione(b: u8, da: u8, a: u8) -> Option<u64> {
    (da..=a).contains(&b).then(|| u64::from(b - da))
}

/// CIE `C X ddddd Y Z`: with `i = q·100000 + r`, X carries `q mod 26`, Y `q div 26` (0..4,
/// plus a multiple of 4 for variety, so Y stays in A..X), the digits carry `r`, Z is free.
/// Fixtures use Y = `Z`.
fn numero_cie(seed: u64, i: u32, k: u64) -> String {
    let (q, r) = (u64::from(i) / 100_000, u64::from(i) % 100_000);
    format!(
        "C{}{}{}{}",
        lettera(q % 26),
        CIFRE_5.avanti(r, h(seed, 30, q)),
        char::from(b'A' + (q / 26 + 4 * (k % 6)) as u8),
        lettera(k >> 8)
    )
}

/// Paper `A X ddddddd`: with `i = q·10⁷ + r`, X carries `q` (0 or 1, plus an even number up
/// to 22, so X stays in A..X), the digits carry `r`. Fixtures use X = `Z`.
fn numero_cartaceo(seed: u64, i: u32, k: u64) -> String {
    let (q, r) = (u64::from(i) / 10_000_000, u64::from(i) % 10_000_000);
    format!(
        "A{}{}",
        char::from(b'A' + (q + 2 * (k % 12)) as u8),
        CIFRE_7.avanti(r, h(seed, 31, q))
    )
}

/// Permesso `I dddddddd`, the digits carrying `i`. Fixtures use `IZ` and 7 digits.
fn numero_permesso(seed: u64, i: u32) -> String {
    format!("I{}", CIFRE_8.avanti(u64::from(i), h(seed, 32, 0)))
}

/// Passport `L M ddddddd`: with `i = q·10⁷ + r`, L carries `q` (plus an even number up to 18,
/// so L stays in D..W, apart from the cards' A and C), the digits carry `r`, M is free.
/// Fixtures start with `Y`.
fn numero_passaporto(seed: u64, i: u32, k: u64) -> String {
    let (q, r) = (u64::from(i) / 10_000_000, u64::from(i) % 10_000_000);
    format!(
        "{}{}{}",
        char::from(b'D' + (q + 2 * (k % 10)) as u8),
        lettera(k >> 8),
        CIFRE_7.avanti(r, h(seed, 33, q))
    )
}

/// The synthetic index a carta d'identità number (upper case) would belong to. The caller
/// regenerates that person and compares the whole number.
pub fn indice_da_carta(seed: u64, numero: &str) -> Option<u32> {
    let b = numero.as_bytes();
    if b.len() == 9 && b[0] == b'C' {
        let x = posizione(b[1], b'A', b'Z')?;
        let y = posizione(b[7], b'A', b'X')?;
        posizione(b[8], b'A', b'Z')?;
        let q = x + 26 * (y % 4);
        let r = CIFRE_5.indietro(numero.get(2..7)?, h(seed, 30, q))?;
        return u32::try_from(q * 100_000 + r).ok();
    }
    if b.len() == 9 && b[0] == b'A' {
        let q = posizione(b[1], b'A', b'X')? % 2;
        let r = CIFRE_7.indietro(numero.get(2..)?, h(seed, 31, q))?;
        return u32::try_from(q * 10_000_000 + r).ok();
    }
    None
}

pub fn indice_da_permesso(seed: u64, numero: &str) -> Option<u32> {
    let cifre = numero.strip_prefix('I')?;
    u32::try_from(CIFRE_8.indietro(cifre, h(seed, 32, 0))?).ok()
}

pub fn indice_da_passaporto(seed: u64, numero: &str) -> Option<u32> {
    let b = numero.as_bytes();
    if b.len() != 9 {
        return None;
    }
    let q = posizione(b[0], b'D', b'W')? % 2;
    posizione(b[1], b'A', b'Z')?;
    let r = CIFRE_7.indietro(numero.get(2..)?, h(seed, 33, q))?;
    u32::try_from(q * 10_000_000 + r).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(a: i32, m: u32, g: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(a, m, g).unwrap()
    }

    #[test]
    fn le_cifre_si_invertono() {
        for c in [&CIFRE_5, &CIFRE_7, &CIFRE_8] {
            assert_eq!(
                c.moltiplicatore * inverso(c.moltiplicatore, c.modulo) % c.modulo,
                1
            );
            for r in [0, 1, 2, 12_345, c.modulo / 2, c.modulo - 1] {
                let s = c.avanti(r, 987_654_321);
                assert_eq!(s.len(), c.larghezza);
                assert_eq!(c.indietro(&s, 987_654_321), Some(r));
            }
        }
        assert_eq!(CIFRE_5.indietro("+1234", 0), None);
        assert_eq!(CIFRE_5.indietro("1234", 0), None);
    }

    #[test]
    fn i_numeri_si_decodificano_all_indice() {
        let massimo = super::super::CAPIENZA - 1;
        for i in [
            0, 1, 99_999, 100_000, 2_599_999, 2_600_000, 9_999_999, 10_000_000, massimo,
        ] {
            for k in [0, 5, 11, u64::MAX] {
                let cie = numero_cie(7, i, k);
                let carta = numero_cartaceo(7, i, k);
                let pass = numero_passaporto(7, i, k);
                assert_eq!(indice_da_carta(7, &cie), Some(i), "{cie}");
                assert_eq!(indice_da_carta(7, &carta), Some(i), "{carta}");
                assert_eq!(indice_da_passaporto(7, &pass), Some(i), "{pass}");
                use domain::documenti::{CartaIdentita as Ci, FormatoCartaIdentita as F};
                assert_eq!(Ci::parse(&cie).unwrap().formato(), F::Elettronica);
                assert_eq!(Ci::parse(&carta).unwrap().formato(), F::Cartacea);
                assert!(domain::documenti::Passaporto::parse(&pass).is_ok());
            }
            let permesso = numero_permesso(7, i);
            assert_eq!(indice_da_permesso(7, &permesso), Some(i));
            assert!(domain::documenti::PermessoSoggiorno::parse(&permesso).is_ok());
        }
    }

    #[test]
    fn i_formati_delle_fixture_non_sono_sintetici() {
        for n in ["CA00001ZA", "AZ0000505", "CA12345ZZ"] {
            assert_eq!(indice_da_carta(1, n), None, "{n}");
        }
        assert_eq!(indice_da_permesso(1, "IZ0000012"), None);
        assert_eq!(indice_da_passaporto(1, "YA0000012"), None);
        // Nor is anything else that merely resembles a synthetic number.
        assert_eq!(indice_da_carta(1, "CA1234AB"), None);
        assert_eq!(indice_da_carta(1, "ca12345ab"), None);
        assert_eq!(indice_da_passaporto(1, "AA1234567"), None);
    }

    #[test]
    fn la_scadenza_segue_eta_e_compleanno() {
        let nascita = d(1990, 3, 24);
        // Adult, after 2012: 10 years, then the next birthday.
        assert_eq!(scadenza_carta(nascita, d(2020, 7, 7)), d(2031, 3, 24));
        assert_eq!(scadenza_carta(nascita, d(2020, 3, 1)), d(2030, 3, 24));
        // Before 2008: 5 years; between 2008 and 2012: 10 years, no birthday rule.
        assert_eq!(scadenza_carta(nascita, d(2005, 5, 5)), d(2010, 5, 5));
        assert_eq!(scadenza_carta(nascita, d(2010, 5, 5)), d(2020, 5, 5));
        // Children: 3 years below 3, 5 years below 18.
        let bimbo = d(2020, 12, 24);
        assert_eq!(scadenza_carta(bimbo, d(2021, 3, 10)), d(2024, 12, 24));
        assert_eq!(scadenza_carta(bimbo, d(2024, 1, 15)), d(2029, 12, 24));
        // 29 February: 28 February in common years.
        assert_eq!(
            scadenza_carta(d(2000, 2, 29), d(2019, 1, 10)),
            d(2029, 2, 28)
        );
    }

    #[test]
    fn eta_in_anni_compiuti() {
        assert_eq!(eta(d(1990, 3, 24), d(2020, 3, 23)), 29);
        assert_eq!(eta(d(1990, 3, 24), d(2020, 3, 24)), 30);
    }
}
