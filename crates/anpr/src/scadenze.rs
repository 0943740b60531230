//! What in a Comune's stored ANPR access runs out: the X.509 certificates among its files (the
//! PDND mTLS client certificate, the CA file, and any certificate a later channel adds under its
//! own `*_file` key) and the daily quota shares. Metrics and the TOP banner read them.

use crate::servizi::Servizio;
use std::collections::BTreeMap;
use toml::{Table, Value};
use x509_parser::pem::Pem;

/// One certificate found in the stored access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificatoAccesso {
    /// The TOML key that names the file, e.g. `anpr.client_cert_file`.
    pub chiave: String,
    /// The stored file's bare name.
    pub file: String,
    /// The subject's common name (or the whole subject when it has none).
    pub soggetto: String,
    /// `notAfter`, in milliseconds since the Unix epoch.
    pub scadenza_ms: i64,
}

/// Every certificate in the files that the access's TOML names with a `*_file` key, in key
/// order; `file` gives a stored file's content by bare name. Private keys and unreadable files
/// are skipped: the import already refused broken configurations, and an expiry check must
/// never stop the page or the scrape that runs it.
pub fn certificati_accesso<'a>(
    toml: &str,
    file: impl Fn(&str) -> Option<&'a [u8]>,
) -> Vec<CertificatoAccesso> {
    let Ok(radice) = toml.parse::<Table>() else {
        return Vec::new();
    };
    let mut nomi = Vec::new();
    chiavi_file("", &radice, &mut nomi);
    let mut out = Vec::new();
    for (chiave, nome) in nomi {
        if let Some(contenuto) = file(&nome) {
            for (soggetto, scadenza_ms) in leggi_certificati(contenuto) {
                out.push(CertificatoAccesso {
                    chiave: chiave.clone(),
                    file: nome.clone(),
                    soggetto,
                    scadenza_ms,
                });
            }
        }
    }
    out
}

/// `(key path, file name)` of every string value under a key ending in `_file`.
fn chiavi_file(prefisso: &str, t: &Table, out: &mut Vec<(String, String)>) {
    for (k, v) in t {
        let percorso = if prefisso.is_empty() {
            k.clone()
        } else {
            format!("{prefisso}.{k}")
        };
        match v {
            Value::Table(sotto) => chiavi_file(&percorso, sotto, out),
            Value::String(nome) if k.ends_with("_file") => out.push((percorso, nome.clone())),
            _ => {}
        }
    }
}

/// `(subject, notAfter ms)` of each certificate in a PEM file (a chain or a CA bundle may hold
/// several), or of the file itself when it is one DER certificate.
fn leggi_certificati(contenuto: &[u8]) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for pem in Pem::iter_from_buffer(contenuto).map_while(Result::ok) {
        if pem.label == "CERTIFICATE"
            && let Ok(c) = pem.parse_x509()
        {
            out.push(descrivi(&c));
        }
    }
    if out.is_empty()
        && let Ok((_, c)) = x509_parser::parse_x509_certificate(contenuto)
    {
        out.push(descrivi(&c));
    }
    out
}

fn descrivi(c: &x509_parser::certificate::X509Certificate<'_>) -> (String, i64) {
    let soggetto = c
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| c.subject().to_string());
    let scadenza_ms = c.validity().not_after.timestamp().saturating_mul(1000);
    (soggetto, scadenza_ms)
}

/// The daily share per service of `[anpr.quotas]`; empty when there is none (or the TOML is
/// unreadable, which the import does not allow).
pub fn quote_giornaliere(toml: &str) -> BTreeMap<Servizio, u64> {
    let Ok(radice) = toml.parse::<Table>() else {
        return BTreeMap::new();
    };
    match radice.get("anpr") {
        Some(Value::Table(t)) => crate::config::quotas(t).unwrap_or_default(),
        _ => BTreeMap::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A self-signed certificate valid until midnight UTC of `fine` (year, month, day), as PEM.
    fn certificato(cn: &str, fine: (i32, u8, u8)) -> String {
        let mut p = rcgen::CertificateParams::new(vec![]).unwrap();
        p.distinguished_name
            .push(rcgen::DnType::CommonName, cn.to_string());
        p.not_before = rcgen::date_time_ymd(2025, 1, 1);
        p.not_after = rcgen::date_time_ymd(fine.0, fine.1, fine.2);
        let chiave = rcgen::KeyPair::generate().unwrap();
        p.self_signed(&chiave).unwrap().pem()
    }

    #[test]
    fn trova_i_certificati_di_ogni_chiave_file() {
        // 2026-04-01T00:00:00Z and 2027-01-01T00:00:00Z.
        let client = certificato("client-mtls.comune.example.it", (2026, 4, 1));
        let ca = format!(
            "{}{}",
            certificato("CA uno", (2027, 1, 1)),
            certificato("CA due", (2026, 4, 1))
        );
        let toml = "[anpr]\nprivate_key_file = \"k.pem\"\nclient_cert_file = \"c.pem\"\n\
                    ca_file = \"ca.pem\"\n[ws]\nfirma_file = \"manca.pem\"\n";
        let file: BTreeMap<&str, Vec<u8>> = [
            (
                "k.pem",
                b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".to_vec(),
            ),
            ("c.pem", client.into_bytes()),
            ("ca.pem", ca.into_bytes()),
        ]
        .into();
        let v = certificati_accesso(toml, |n| file.get(n).map(Vec::as_slice));
        // Keys in any order (the TOML table's); certificates of one file in file order.
        let mut visti: Vec<(&str, &str, &str, i64)> = v
            .iter()
            .map(|c| {
                (
                    c.chiave.as_str(),
                    c.file.as_str(),
                    c.soggetto.as_str(),
                    c.scadenza_ms,
                )
            })
            .collect();
        visti.sort_by_key(|c| c.0);
        assert_eq!(
            visti,
            [
                ("anpr.ca_file", "ca.pem", "CA uno", 1_798_761_600_000),
                ("anpr.ca_file", "ca.pem", "CA due", 1_775_001_600_000),
                (
                    "anpr.client_cert_file",
                    "c.pem",
                    "client-mtls.comune.example.it",
                    1_775_001_600_000
                ),
            ]
        );
    }

    #[test]
    fn quote_dalla_sezione_anpr() {
        let q = quote_giornaliere("[anpr]\n[anpr.quotas]\nC030 = 5000\nC020 = 10\n");
        assert_eq!(q.get(&Servizio::C030), Some(&5000));
        assert_eq!(q.get(&Servizio::C020), Some(&10));
        assert_eq!(q.len(), 2);
        assert!(quote_giornaliere("non toml [").is_empty());
    }
}
