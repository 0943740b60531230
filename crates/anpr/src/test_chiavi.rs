//! Test keys, generated at run time (never committed): one RSA 2048 pair per process.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::KeyPair as _;
use std::sync::OnceLock;

struct Coppia {
    pkcs8: Vec<u8>,
    spki: Vec<u8>,
}

fn coppia() -> &'static Coppia {
    static C: OnceLock<Coppia> = OnceLock::new();
    C.get_or_init(|| {
        let kp = KeyPair::generate(KeySize::Rsa2048).unwrap();
        Coppia {
            pkcs8: kp.as_der().unwrap().as_ref().to_vec(),
            spki: kp.public_key().as_der().unwrap().as_ref().to_vec(),
        }
    })
}

/// The private key as PKCS#8 (`PRIVATE KEY`) or PKCS#1 (`RSA PRIVATE KEY`) PEM.
pub fn chiave_pem(pkcs8: bool) -> String {
    let der = &coppia().pkcs8;
    if pkcs8 {
        pem::encode(&pem::Pem::new("PRIVATE KEY", der.clone()))
    } else {
        pem::encode(&pem::Pem::new("RSA PRIVATE KEY", pkcs1_da_pkcs8(der)))
    }
}

/// The public key (SubjectPublicKeyInfo PEM), to verify what the client signed.
pub fn pubblica_pem() -> String {
    pem::encode(&pem::Pem::new("PUBLIC KEY", coppia().spki.clone()))
}

// PKCS#8 is SEQUENCE { INTEGER 0, SEQUENCE rsaEncryption (15 bytes), OCTET STRING pkcs1 }.
fn pkcs1_da_pkcs8(der: &[u8]) -> Vec<u8> {
    let (_, inizio) = lunghezza(der, 1);
    let mut i = inizio + 3 + 15;
    assert_eq!(der[i], 0x04, "PKCS#8 inatteso");
    i += 1;
    let (n, dopo) = lunghezza(der, i);
    der[dopo..dopo + n].to_vec()
}

fn lunghezza(der: &[u8], i: usize) -> (usize, usize) {
    let b = der[i] as usize;
    if b < 0x80 {
        return (b, i + 1);
    }
    let k = b & 0x7f;
    let n = der[i + 1..i + 1 + k]
        .iter()
        .fold(0usize, |acc, x| (acc << 8) | *x as usize);
    (n, i + 1 + k)
}
