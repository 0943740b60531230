//! TOTP (RFC 6238 over RFC 4226): HMAC-SHA1, 6 digits, 30-second steps, one step of drift
//! either way. These are the settings every authenticator app reads from an `otpauth://` URI.
//! Reuse of a step is refused by the store (`usa_passo_totp`), not here.

use aws_lc_rs::hmac;
use subtle::ConstantTimeEq as _;

pub const PASSO_MS: i64 = 30_000;
const CIFRE: u32 = 6;
/// RFC 4226 §4 asks for at least 128 bits; 160 is the usual SHA-1 key length.
const LUNGHEZZA_SEGRETO: usize = 20;

/// A fresh random secret.
pub fn nuovo_segreto() -> Vec<u8> {
    let mut s = vec![0u8; LUNGHEZZA_SEGRETO];
    rand::fill(&mut s[..]);
    s
}

/// The secret as authenticator apps want it typed: base32 without padding.
pub fn base32(segreto: &[u8]) -> String {
    data_encoding::BASE32_NOPAD.encode(segreto)
}

/// The base32 text in groups of four, easier to copy by hand.
pub fn base32_a_gruppi(segreto: &[u8]) -> String {
    let testo = base32(segreto);
    let gruppi: Vec<&str> = testo
        .as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap_or(""))
        .collect();
    gruppi.join(" ")
}

/// The 30-second step that contains `ora_ms`.
pub fn passo(ora_ms: i64) -> i64 {
    ora_ms.div_euclid(PASSO_MS)
}

/// The code of step `passo` (RFC 4226 §5.3 dynamic truncation).
pub fn codice(segreto: &[u8], passo: i64) -> u32 {
    let chiave = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, segreto);
    let firma = hmac::sign(&chiave, &passo.to_be_bytes());
    let h = firma.as_ref();
    let i = usize::from(h[h.len() - 1] & 0x0f);
    let numero = u32::from_be_bytes([h[i] & 0x7f, h[i + 1], h[i + 2], h[i + 3]]);
    numero % 10u32.pow(CIFRE)
}

/// The step whose code is `inserito` (spaces ignored), looking one step back and one ahead;
/// `None` if no step matches. Each comparison takes the same time whatever the digits.
pub fn verifica(segreto: &[u8], inserito: &str, ora_ms: i64) -> Option<i64> {
    let pulito: String = inserito.chars().filter(|c| !c.is_whitespace()).collect();
    if pulito.len() != CIFRE as usize || !pulito.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let attuale = passo(ora_ms);
    let mut trovato = None;
    for p in [attuale - 1, attuale, attuale + 1] {
        let atteso = format!("{:06}", codice(segreto, p));
        if bool::from(atteso.as_bytes().ct_eq(pulito.as_bytes())) {
            trovato = Some(p);
        }
    }
    trovato
}

/// The `otpauth://` URI of the QR code (Key Uri Format), labelled `Rivesto:<username>`.
pub fn uri(segreto: &[u8], username: &str) -> String {
    let etichetta: String =
        url::form_urlencoded::byte_serialize(format!("Rivesto:{username}").as_bytes()).collect();
    format!(
        "otpauth://totp/{etichetta}?secret={}&issuer=Rivesto&algorithm=SHA1&digits=6&period=30",
        base32(segreto)
    )
}

/// The QR code of `uri` as an SVG document (presentation attributes only: no style, which the
/// CSP would refuse).
pub fn qr_svg(uri: &str) -> Result<String, crate::ErroreWeb> {
    let qr = qrcode::QrCode::with_error_correction_level(uri.as_bytes(), qrcode::EcLevel::M)
        .map_err(crate::ErroreWeb::interno)?;
    Ok(qr
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(240, 240)
        .build())
}

#[cfg(test)]
mod test {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1 column (8 digits there; the last 6 are ours).
    #[test]
    fn vettori_rfc6238() {
        let segreto = b"12345678901234567890";
        for (secondi, otto_cifre) in [
            (59i64, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            let p = passo(secondi * 1000);
            assert_eq!(format!("{:06}", codice(segreto, p)), otto_cifre[2..]);
        }
    }

    #[test]
    fn finestra_di_un_passo() {
        let s = b"12345678901234567890";
        let ora = 1_111_111_111_000;
        let p = passo(ora);
        let c = |p| format!("{:06}", codice(s, p));
        assert_eq!(verifica(s, &c(p), ora), Some(p));
        assert_eq!(verifica(s, &c(p - 1), ora), Some(p - 1));
        assert_eq!(verifica(s, &c(p + 1), ora), Some(p + 1));
        assert_eq!(verifica(s, &c(p - 2), ora), None);
        assert_eq!(verifica(s, &c(p + 2), ora), None);
        let con_spazio = format!("{} {}", &c(p)[..3], &c(p)[3..]);
        assert_eq!(verifica(s, &con_spazio, ora), Some(p));
        assert_eq!(verifica(s, "12345", ora), None);
        assert_eq!(verifica(s, "abcdef", ora), None);
    }

    #[test]
    fn uri_e_qr() {
        let s = nuovo_segreto();
        assert_eq!(s.len(), 20);
        assert_eq!(base32(&s).len(), 32);
        let u = uri(&s, "top.roma");
        assert!(u.starts_with("otpauth://totp/Rivesto%3Atop.roma?secret="));
        let svg = qr_svg(&u).unwrap();
        assert!(svg.contains("<svg") && !svg.contains("style"));
        assert_eq!(
            base32_a_gruppi(b"12345678901234567890").split(' ').count(),
            8
        );
    }
}
