//! Values given on the command line, parsed into the domain's types with Italian messages that
//! name the flag at fault.

use anyhow::Context as _;
use domain::ambito::Ambito;
use domain::gruppi::GruppoCampi;
use std::collections::BTreeMap;
use store::anagrafiche::{Approvazione, Convenzione};

pub fn non_vuoto(flag: &str, s: &str) -> anyhow::Result<String> {
    let s = s.trim();
    anyhow::ensure!(!s.is_empty(), "{flag}: valore vuoto");
    Ok(s.to_string())
}

pub fn codice_istat(s: &str) -> anyhow::Result<String> {
    let s = s.trim();
    anyhow::ensure!(
        s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit()),
        "codice ISTAT {s:?}: servono 6 cifre (es. 058091)"
    );
    Ok(s.to_string())
}

pub fn belfiore(s: &str) -> anyhow::Result<String> {
    let s = s.trim().to_ascii_uppercase();
    let b = s.as_bytes();
    anyhow::ensure!(
        b.len() == 4 && b[0].is_ascii_uppercase() && b[1..].iter().all(u8::is_ascii_digit),
        "--belfiore {s:?}: atteso una lettera e tre cifre (es. H501)"
    );
    Ok(s)
}

pub fn sigla(s: &str) -> anyhow::Result<String> {
    let s = s.trim().to_ascii_uppercase();
    anyhow::ensure!(
        s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase()),
        "--sigla {s:?}: attese due lettere (es. RM)"
    );
    Ok(s)
}

/// The numeric codice fiscale of a body: 11 digits, the last a check digit (the same algorithm
/// as the partita IVA).
pub fn cf_ente(s: &str) -> anyhow::Result<String> {
    let s = s.trim();
    anyhow::ensure!(
        s.len() == 11 && s.bytes().all(|b| b.is_ascii_digit()),
        "--cf {s:?}: il codice fiscale di un Ente ha 11 cifre"
    );
    let cifre: Vec<u32> = s.bytes().map(|b| u32::from(b - b'0')).collect();
    let somma: u32 = cifre[..10]
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            if i % 2 == 0 {
                c
            } else if c * 2 > 9 {
                c * 2 - 9
            } else {
                c * 2
            }
        })
        .sum();
    let attesa = (10 - somma % 10) % 10;
    anyhow::ensure!(
        cifre[10] == attesa,
        "--cf {s}: cifra di controllo errata: attesa {attesa}, trovata {}",
        cifre[10]
    );
    Ok(s.to_string())
}

pub fn codice_ipa(s: &str) -> anyhow::Result<String> {
    let s = s.trim().to_ascii_lowercase();
    anyhow::ensure!(
        (1..=20).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'),
        "--ipa {s:?}: il codice IPA ha da 1 a 20 caratteri tra lettere, cifre e _"
    );
    Ok(s)
}

/// The `userLocation`/`userID` claims: ANPR's gateway refuses more than 20 characters.
pub fn codice_ufficio(s: &str) -> anyhow::Result<String> {
    let s = s.trim();
    anyhow::ensure!(
        !s.is_empty() && s.chars().count() <= 20,
        "codice {s:?}: da 1 a 20 caratteri (il gateway ANPR rifiuta valori più lunghi)"
    );
    Ok(s.to_string())
}

pub fn username(s: &str) -> anyhow::Result<String> {
    let s = s.trim();
    anyhow::ensure!(
        (3..=64).contains(&s.len())
            && s.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
            }),
        "--username {s:?}: da 3 a 64 caratteri tra lettere minuscole, cifre, '.', '_' e '-'"
    );
    Ok(s.to_string())
}

/// The same policy as the web app: at least 12 characters, not a common password, not the
/// username.
pub fn password(p: &str, username: &str) -> anyhow::Result<()> {
    web::auth::controlla_password(p, username).map_err(|e| anyhow::anyhow!("password: {e}"))
}

pub fn gruppi(voci: &[String]) -> anyhow::Result<Vec<GruppoCampi>> {
    let mut v = Vec::new();
    for voce in voci.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        let g: GruppoCampi =
            serde_json::from_value(serde_json::Value::String(voce.to_ascii_lowercase()))
                .ok()
                .with_context(|| {
                    let ammessi: Vec<String> = GruppoCampi::ALL
                        .iter()
                        .map(|g| serde_json::to_value(g).unwrap_or_default().to_string())
                        .collect();
                    format!(
                        "--campi: gruppo sconosciuto {voce:?}; ammessi: {}",
                        ammessi.join(", ").replace('"', "")
                    )
                })?;
        if !v.contains(&g) {
            v.push(g);
        }
    }
    anyhow::ensure!(!v.is_empty(), "--campi: nessun gruppo di campi");
    Ok(v)
}

pub fn ambito(s: &str) -> anyhow::Result<Ambito> {
    let s = s.trim().to_ascii_uppercase().replace('-', "_");
    serde_json::from_value(serde_json::Value::String(s.clone())).map_err(|_| {
        anyhow::anyhow!("--ambito {s:?}: atteso COMUNE, COMUNI_CONVENZIONATI o ITALIA")
    })
}

pub fn approvazione(s: &str) -> anyhow::Result<Approvazione> {
    let s = s.trim().to_ascii_lowercase();
    if s == "manuale" {
        return Ok(Approvazione::Manuale);
    }
    let ms = s
        .strip_prefix("silenzio:")
        .and_then(|ms| ms.parse::<i64>().ok())
        .filter(|ms| *ms >= 0)
        .with_context(|| {
            format!("--approvazione {s:?}: atteso manuale oppure silenzio:MS (es. silenzio:0)")
        })?;
    Ok(Approvazione::SilenzioAssenso { ritardo_ms: ms })
}

pub fn finalita(voci: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    let mut m = BTreeMap::new();
    for voce in voci {
        let (servizio, purpose) = voce
            .split_once('=')
            .with_context(|| format!("--finalita {voce:?}: atteso SERVIZIO=PURPOSE_ID"))?;
        let servizio = anpr::servizi::Servizio::parse(&servizio.trim().to_ascii_uppercase())
            .with_context(|| format!("--finalita {voce:?}: servizio ANPR sconosciuto"))?;
        let purpose = non_vuoto("--finalita", purpose)?;
        m.insert(servizio.codice().to_string(), purpose);
    }
    Ok(m)
}

fn data(s: &str) -> anyhow::Result<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .with_context(|| format!("data {s:?}: attesa nel formato AAAA-MM-GG"))
}

/// Midday UTC falls inside the same Europe/Rome calendar day.
fn mezzogiorno_ms(d: chrono::NaiveDate) -> i64 {
    d.and_hms_opt(12, 0, 0)
        .unwrap_or_default()
        .and_utc()
        .timestamp_millis()
}

/// The first millisecond of the Europe/Rome day `AAAA-MM-GG`.
pub fn inizio_giorno(s: &str) -> anyhow::Result<i64> {
    Ok(store::limiti_giorno_roma(mezzogiorno_ms(data(s)?)).0)
}

/// The last millisecond of the Europe/Rome day `AAAA-MM-GG` (the day is included).
pub fn fine_giorno(s: &str) -> anyhow::Result<i64> {
    Ok(store::limiti_giorno_roma(mezzogiorno_ms(data(s)?)).1 - 1)
}

/// The convention's default output layout: every field of its groups, with DESIGN §5's
/// defaults, in the form the `files` crate reads.
pub fn tracciato(campi: &[GruppoCampi]) -> anyhow::Result<serde_json::Value> {
    Ok(serde_json::to_value(files::output::Layout::per_gruppi(
        campi,
    ))?)
}

fn ampiezza(a: Ambito) -> u8 {
    match a {
        Ambito::Comune => 0,
        Ambito::ComuniConvenzionati => 1,
        Ambito::Italia => 2,
    }
}

/// A profile may narrow its convention, never widen it (DESIGN §1).
pub fn profilo_entro(campi: &[GruppoCampi], ambito: Ambito, c: &Convenzione) -> anyhow::Result<()> {
    if let Some(g) = campi.iter().find(|g| !c.campi.contains(g)) {
        anyhow::bail!(
            "--campi: il gruppo {} non è tra quelli della convenzione {}",
            serde_json::to_value(g)?.as_str().unwrap_or_default(),
            c.id
        );
    }
    anyhow::ensure!(
        ampiezza(ambito) <= ampiezza(c.ambito),
        "--ambito {}: più ampio di quello della convenzione ({})",
        ambito.as_str(),
        c.ambito.as_str()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cf_ente_con_cifra_di_controllo() {
        // The Agenzia delle Entrate's own codice fiscale, and the INPS one.
        assert!(cf_ente("06363391001").is_ok());
        assert!(cf_ente("80078750587").is_ok());
        let e = cf_ente("06363391002").unwrap_err().to_string();
        assert!(e.contains("attesa 1, trovata 2"), "{e}");
        assert!(cf_ente("0636339100").is_err());
    }

    #[test]
    fn codici_dei_comuni() {
        assert_eq!(codice_istat(" 058091 ").unwrap(), "058091");
        assert!(codice_istat("58091").is_err());
        assert_eq!(belfiore("h501").unwrap(), "H501");
        assert!(belfiore("H50").is_err());
        assert_eq!(sigla("rm").unwrap(), "RM");
        assert!(sigla("R1").is_err());
    }

    #[test]
    fn approvazioni() {
        assert_eq!(approvazione("manuale").unwrap(), Approvazione::Manuale);
        assert_eq!(
            approvazione("silenzio:0").unwrap(),
            Approvazione::SilenzioAssenso { ritardo_ms: 0 }
        );
        assert_eq!(
            approvazione("SILENZIO:86400000").unwrap(),
            Approvazione::SilenzioAssenso {
                ritardo_ms: 86_400_000
            }
        );
        assert!(approvazione("silenzio:-1").is_err());
        assert!(approvazione("tacito").is_err());
    }

    #[test]
    fn gruppi_e_ambiti() {
        let g = gruppi(&["generalita".into(), "RESIDENZA".into(), "generalita".into()]).unwrap();
        assert_eq!(g, vec![GruppoCampi::Generalita, GruppoCampi::Residenza]);
        let e = gruppi(&["indirizzo".into()]).unwrap_err().to_string();
        assert!(e.contains("gruppo sconosciuto \"indirizzo\""), "{e}");
        assert!(e.contains("esistenza_in_vita"), "{e}");
        assert_eq!(
            ambito("comuni-convenzionati").unwrap(),
            Ambito::ComuniConvenzionati
        );
        assert!(ambito("regione").is_err());
    }

    #[test]
    fn finalita_per_servizio() {
        let f = finalita(&["c030=p-1".into(), "C001=p-2".into()]).unwrap();
        assert_eq!(f["C030"], "p-1");
        assert_eq!(f["C001"], "p-2");
        assert!(finalita(&["C999=x".into()]).is_err());
        assert!(finalita(&["C030".into()]).is_err());
    }

    #[test]
    fn giorni_di_roma() {
        // 2026-07-01 starts at 22:00 UTC of the day before (CEST, UTC+2).
        assert_eq!(inizio_giorno("2026-07-01").unwrap(), 1_782_856_800_000);
        assert_eq!(fine_giorno("2026-07-01").unwrap(), 1_782_943_199_999);
        assert!(inizio_giorno("01/07/2026").is_err());
    }

    #[test]
    fn password_corta_rifiutata() {
        assert!(password("undici car.", "mario.rossi").is_err());
        assert!(password("passwordpassword", "mario.rossi").is_err());
        assert!(password("Vq7-lampione-ottobre", "mario.rossi").is_ok());
    }
}
