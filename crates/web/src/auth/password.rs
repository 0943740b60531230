//! The password policy (at least 12 characters, not a common password, not the username) and
//! the administrator-issued reset codes.

use crate::ErroreWeb;
use crate::stato::StatoApp;
use std::collections::HashSet;
use std::sync::LazyLock;

pub const LUNGHEZZA_MINIMA: usize = 12;
/// A reset code lasts one day.
pub const VALIDITA_RESET_MS: i64 = 24 * 60 * 60 * 1000;
/// Where the words of a "common" password must be at least this long to count.
const BASE_MINIMA: usize = 4;

/// The common-password list (source and licence in `data/README.md`).
static COMUNI: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../../data/password-comuni.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect()
});

/// Checks the policy; the error is an Italian sentence to show the user.
pub fn controlla_password(password: &str, username: &str) -> Result<(), String> {
    if password.chars().count() < LUNGHEZZA_MINIMA {
        return Err(format!(
            "La password deve avere almeno {LUNGHEZZA_MINIMA} caratteri."
        ));
    }
    let minuscola = password.to_lowercase();
    let utente = username.trim().to_lowercase();
    if utente.chars().count() >= 3 && minuscola.contains(&utente) {
        return Err("La password non può contenere il nome utente.".into());
    }
    if comune(&minuscola) {
        return Err(
            "Questa password è tra quelle più usate e facili da indovinare: ne scelga un'altra \
             (per esempio alcune parole senza legame tra loro)."
                .into(),
        );
    }
    Ok(())
}

fn comune(minuscola: &str) -> bool {
    if COMUNI.contains(minuscola) {
        return true;
    }
    // "juventus2024!!": a listed word dressed up with digits and symbols.
    let nucleo = minuscola.trim_matches(|c: char| !c.is_alphabetic());
    if nucleo.chars().count() >= BASE_MINIMA && COMUNI.contains(nucleo) {
        return true;
    }
    ripetizione(minuscola)
        .is_some_and(|unita| unita.chars().count() < BASE_MINIMA || COMUNI.contains(unita))
}

/// The shortest unit that `s` repeats at least twice ("abcabcabcabc" → "abc").
fn ripetizione(s: &str) -> Option<&str> {
    let n = s.len();
    (1..=n / 2)
        .filter(|l| n.is_multiple_of(*l) && s.is_char_boundary(*l))
        .map(|l| &s[..l])
        .find(|u| u.repeat(n / u.len()) == s)
}

/// A fresh one-time reset code, for an account created with its first code
/// (`Store::crea_account`).
pub fn codice_reset() -> String {
    codice_casuale()
}

/// 16 characters from a 32-letter alphabet without look-alikes (80 bits, no modulo bias), in
/// groups of four; with that entropy storing only its SHA-256 is safe.
fn codice_casuale() -> String {
    const ALFABETO: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut byte = [0u8; 16];
    rand::fill(&mut byte);
    let caratteri: Vec<char> = byte
        .iter()
        .map(|b| char::from(ALFABETO[usize::from(*b) % ALFABETO.len()]))
        .collect();
    caratteri
        .chunks(4)
        .map(|g| g.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// Issues a one-time reset code for `utente_id` (shown once to the administrator, stored
/// hashed, valid 24 hours, audited). The user signs in with it as the password, then must
/// choose a new password and enrol a new TOTP where required.
pub async fn emetti_codice_reset(
    stato: &StatoApp,
    utente_id: i64,
    attore: &store::Attore,
) -> Result<String, ErroreWeb> {
    let codice = codice_casuale();
    let ora = stato.adesso_ms();
    stato
        .store
        .emetti_codice_reset(utente_id, &codice, ora, ora + VALIDITA_RESET_MS, attore)
        .await?;
    Ok(codice)
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn politica() {
        assert!(controlla_password("corto", "x").unwrap_err().contains("12"));
        assert!(controlla_password("cavallo batteria graffetta", "mario.rossi").is_ok());
        // Common: listed as is, dressed with digits, or a listed word repeated.
        for p in [
            "qazwsxedcrfv",
            "1qaz2wsx3edc",
            "Juventus2024!!",
            "password123456",
            "passwordpassword",
            "aaaaaaaaaaaaaaa",
            "abcabcabcabc",
        ] {
            assert!(controlla_password(p, "x").is_err(), "{p}");
        }
        assert!(
            controlla_password("xx-mario.rossi-2026", "Mario.Rossi")
                .unwrap_err()
                .contains("nome utente")
        );
    }

    #[test]
    fn codici_reset() {
        let c = codice_casuale();
        assert_eq!(c.len(), 19);
        assert_eq!(c.split('-').count(), 4);
        assert_ne!(c, codice_casuale());
    }
}
