//! A certificate with its RSA private key, as ANPR issues them to a Comune (NOTES-ws-comuni §7):
//! the server certificate `<ISTAT>-CO-nnnn`, which signs the messages and the SAML assertion, and
//! the workstation certificates `<ISTAT>-PC-nnnn`, which sign `IdPostazione`. The web app hands
//! them out as PKCS#12 files; a PEM pair (converted by the Comune) is accepted too.

use super::sicurezza::AlgoritmoFirma;
use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rsa::KeyPair;
use aws_lc_rs::signature::KeyPair as _;
use chrono::{DateTime, Utc};
use std::sync::{Arc, OnceLock};
use zeroize::Zeroizing;

/// OID of rsaEncryption (PKCS#1), the only key type ANPR issues.
const OID_RSA: &str = "1.2.840.113549.1.1.1";

/// A certificate with its RSA private key (the Comune's "CO" certificate or a workstation's).
///
/// Cheap to clone: the parsed key is shared.
#[derive(Clone)]
pub struct Credenziali(Arc<Interno>);

struct Interno {
    certificato_der: Vec<u8>,
    cn: Option<String>,
    scadenza: Option<DateTime<Utc>>,
    /// Signs RSA-SHA256 (the CMS of `IdPostazioneFirmato`, [`Credenziali::firma`]).
    chiave: KeyPair,
    /// The same key for bergshamra, which makes the RSA-SHA256 XML signatures with it.
    chiave_xml: bergshamra::Key,
    /// The same key for RSA-SHA1, made on first use: only a Comune on the 2017 policy needs it.
    chiave_sha1: OnceLock<Result<ChiaveSha1, String>>,
}

/// RSASSA-PKCS1-v1_5 with SHA-1 by the RustCrypto `rsa` crate, because AWS-LC (bergshamra's
/// provider, and aws-lc-rs) verifies that algorithm but does not sign with it.
///
/// The `rsa` crate carries advisory RUSTSEC-2023-0071 ("Marvin": a timing side channel in its
/// private-key operation, which may leak the key to someone who can time many operations
/// precisely). That is why it is used for this legacy algorithm only, which ANPR's 2017 policy
/// may require; every RSA-SHA256 signature (the default) stays on AWS-LC. Signatures are made with
/// blinding (a random factor per signature), which narrows the leak but does not close it.
type ChiaveSha1 = rsa::pkcs1v15::SigningKey<sha1::Sha1>;

/// Never shows the key: only what identifies the certificate.
impl std::fmt::Debug for Credenziali {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credenziali")
            .field("cn", &self.0.cn)
            .field("scadenza", &self.0.scadenza)
            .field("chiave", &"<redatta>")
            .finish()
    }
}

impl Credenziali {
    /// PEM certificate (first CERTIFICATE block) + PEM RSA key (PKCS#1 or PKCS#8). Checks the key matches the cert.
    pub fn da_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<Self, String> {
        let blocchi = pem::parse_many(cert_pem)
            .map_err(|e| format!("file del certificato non è PEM valido: {e}"))?;
        let certificato = blocchi
            .into_iter()
            .find(|b| b.tag() == "CERTIFICATE")
            .ok_or("il file del certificato non contiene un blocco CERTIFICATE")?;
        // The pem crate's errors may quote the base64 they choke on: none reaches a message.
        let blocchi = pem::parse_many(key_pem).map_err(|_| {
            "file della chiave non è PEM valido (intestazioni o base64 non leggibili)".to_string()
        })?;
        let chiave = chiave_da_blocchi(&blocchi)?;
        Self::nuove(certificato.into_contents(), chiave)
    }

    /// PKCS#12 (.p12 as downloaded from the ANPR web app) with its password.
    ///
    /// Files with PBES2 (OpenSSL 3, Java since 2021: AES and a SHA-256 MAC) are read by
    /// bergshamra. Those with the older PKCS#12 PBEs (3DES for the key, RC2-40 or 3DES for the
    /// certificates, a SHA-1 MAC: OpenSSL 1.x, older Java), which bergshamra's provider does
    /// not decrypt, are read by `leggi_p12_legacy`. Either way the MAC is checked first, so
    /// that a wrong password is told as such.
    pub fn da_p12(p12: &[u8], password: &str) -> Result<Self, String> {
        let (pkcs8, certificati) = match bergshamra::keys::loader::load_pkcs12(p12, password) {
            Ok(letto) => {
                let pkcs8 = letto
                    .data
                    .export_private()
                    .map_err(|e| format!("chiave privata del PKCS#12 non esportabile: {e}"))?;
                (pkcs8, letto.x509_chain)
            }
            Err(e) if e.to_string().contains("MAC verification failed") => {
                return Err(PASSWORD_P12_ERRATA.into());
            }
            Err(e) => match leggi_p12_legacy(p12, password) {
                Ok(ContenutoP12 {
                    mut chiavi,
                    certificati,
                }) => {
                    if chiavi.is_empty() {
                        return Err("il PKCS#12 non contiene una chiave privata".into());
                    }
                    (chiavi.swap_remove(0), certificati)
                }
                // Not one for the legacy reader either: bergshamra's error says why.
                Err(ErroreP12Legacy::NonLegacy) => return Err(errore_p12(&e)),
                Err(altro) => return Err(altro.to_string()),
            },
        };
        let chiave = KeyPair::from_pkcs8(&pkcs8)
            .map_err(|e| format!("la chiave privata del PKCS#12 non è RSA valida: {e}"))?;
        // The file may carry the CA chain too, in any order: the certificate is the one whose
        // public key is the private key's.
        let pubblica = chiave.public_key().as_ref().to_vec();
        let certificato = certificati
            .iter()
            .find(|c| chiave_rsa_certificato(c).ok().as_deref() == Some(pubblica.as_slice()))
            .ok_or("nel PKCS#12 nessun certificato corrisponde alla chiave privata")?;
        Self::nuove(certificato.clone(), chiave)
    }

    pub fn certificato_der(&self) -> &[u8] {
        &self.0.certificato_der
    }

    /// Subject CN (for ANPR certs e.g. "058091-CO-0001"); None if absent.
    pub fn cn(&self) -> Option<String> {
        self.0.cn.clone()
    }

    /// notAfter as a UTC datetime.
    pub fn scadenza(&self) -> Option<DateTime<Utc>> {
        self.0.scadenza
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256 or SHA-1 of `dati` (aws-lc-rs).
    ///
    /// SHA-1 (the 2017 policy's `Basic128Rsa15`) is signed by the RustCrypto `rsa` crate instead,
    /// because aws-lc-rs signs PKCS#1 v1.5 only with SHA-2 (see `ChiaveSha1`).
    pub fn firma(&self, algoritmo: AlgoritmoFirma, dati: &[u8]) -> Result<Vec<u8>, String> {
        match algoritmo {
            AlgoritmoFirma::RsaSha256 => {
                let mut firma = vec![0; self.0.chiave.public_modulus_len()];
                self.0
                    .chiave
                    .sign(
                        &aws_lc_rs::signature::RSA_PKCS1_SHA256,
                        &aws_lc_rs::rand::SystemRandom::new(),
                        dati,
                        &mut firma,
                    )
                    .map_err(|_| "firma RSA-SHA256 non riuscita".to_string())?;
                Ok(firma)
            }
            AlgoritmoFirma::RsaSha1 => self.firma_sha1(dati),
        }
    }

    fn firma_sha1(&self, dati: &[u8]) -> Result<Vec<u8>, String> {
        use rsa::pkcs8::DecodePrivateKey as _;
        use rsa::signature::{RandomizedSigner as _, SignatureEncoding as _};
        let chiave = self.0.chiave_sha1.get_or_init(|| {
            let pkcs8 = self
                .0
                .chiave
                .as_der()
                .map_err(|_| "chiave privata non esportabile in PKCS#8".to_string())?;
            // The crate's errors name only the ASN.1 position, never key material.
            let privata = rsa::RsaPrivateKey::from_pkcs8_der(pkcs8.as_ref())
                .map_err(|e| format!("chiave privata non utilizzabile per RSA-SHA1: {e}"))?;
            Ok(ChiaveSha1::new(privata))
        });
        let chiave = chiave.as_ref().map_err(Clone::clone)?;
        let firma = chiave
            .try_sign_with_rng(&mut rsa::rand_core::OsRng, dati)
            .map_err(|e| format!("firma RSA-SHA1 non riuscita: {e}"))?;
        Ok(firma.to_vec())
    }

    /// bergshamra's signer for RSA-SHA1 XML signatures (`DsigContext::with_hsm_signer`): its own
    /// provider (AWS-LC) cannot make them. RSA-SHA256 ones use [`Self::chiave_xml`].
    pub(crate) fn firmatario_sha1(&self) -> Box<dyn kryptering::Signer> {
        Box::new(FirmatarioSha1(self.clone()))
    }

    /// The key in bergshamra's form, for the XML signatures.
    pub(crate) fn chiave_xml(&self) -> &bergshamra::Key {
        &self.0.chiave_xml
    }

    fn nuove(certificato_der: Vec<u8>, chiave: KeyPair) -> Result<Self, String> {
        let (_, cert) = x509_parser::parse_x509_certificate(&certificato_der)
            .map_err(|e| format!("certificato X.509 non valido: {e}"))?;
        if chiave_rsa_certificato(&certificato_der)? != chiave.public_key().as_ref() {
            return Err("la chiave privata non corrisponde al certificato".into());
        }
        let cn = cert
            .subject()
            .iter_common_name()
            .next()
            .and_then(|a| a.as_str().ok())
            .map(str::to_string);
        let scadenza = DateTime::from_timestamp(cert.validity().not_after.timestamp(), 0);
        let pkcs8 = chiave
            .as_der()
            .map_err(|_| "chiave privata non esportabile in PKCS#8".to_string())?;
        let pem_pkcs8 = pem::encode(&pem::Pem::new("PRIVATE KEY", pkcs8.as_ref().to_vec()));
        let chiave_xml = bergshamra::keys::loader::load_rsa_private_pem(pem_pkcs8.as_bytes())
            .map_err(|e| format!("chiave privata non utilizzabile per la firma XML: {e}"))?;
        Ok(Credenziali(Arc::new(Interno {
            certificato_der,
            cn,
            scadenza,
            chiave,
            chiave_xml,
            chiave_sha1: OnceLock::new(),
        })))
    }
}

/// The first private key among the PEM blocks (a file may hold the certificate too).
fn chiave_da_blocchi(blocchi: &[pem::Pem]) -> Result<KeyPair, String> {
    for b in blocchi {
        match b.tag() {
            "PRIVATE KEY" => {
                return KeyPair::from_pkcs8(b.contents())
                    .map_err(|e| format!("chiave PKCS#8 non RSA o non valida: {e}"));
            }
            "RSA PRIVATE KEY" => {
                return KeyPair::from_der(b.contents())
                    .map_err(|e| format!("chiave PKCS#1 non valida: {e}"));
            }
            "ENCRYPTED PRIVATE KEY" => {
                return Err(
                    "la chiave privata è cifrata: serve in chiaro (PKCS#1 o PKCS#8), \
                            oppure il file .p12 con la sua password"
                        .into(),
                );
            }
            "EC PRIVATE KEY" => return Err("la chiave privata è EC, ANPR usa chiavi RSA".into()),
            _ => {}
        }
    }
    Err("il file della chiave non contiene PRIVATE KEY né RSA PRIVATE KEY".into())
}

/// The certificate's `RSAPublicKey` (the content of its subjectPublicKey), to compare with a
/// private key's public half.
fn chiave_rsa_certificato(der: &[u8]) -> Result<Vec<u8>, String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| format!("certificato X.509 non valido: {e}"))?;
    let spki = cert.public_key();
    if spki.algorithm.algorithm.to_id_string() != OID_RSA {
        return Err("il certificato non ha una chiave RSA".into());
    }
    Ok(spki.subject_public_key.data.to_vec())
}

/// bergshamra's hook for RSA-SHA1: signs the canonical SignedInfo with [`Credenziali::firma`].
struct FirmatarioSha1(Credenziali);

impl kryptering::Signer for FirmatarioSha1 {
    fn algorithm(&self) -> kryptering::SignatureAlgorithm {
        kryptering::SignatureAlgorithm::RsaPkcs1v15(kryptering::HashAlgorithm::Sha1)
    }

    fn sign(&self, dati: &[u8]) -> kryptering::Result<Vec<u8>> {
        self.0.firma_sha1(dati).map_err(kryptering::Error::Crypto)
    }
}

const PASSWORD_P12_ERRATA: &str =
    "password del PKCS#12 errata (la verifica di integrità del file non riesce)";

/// How to get a PKCS#12 that Rivesto reads out of one it does not.
const RIESPORTA: &str = "riesportarlo con OpenSSL 3 (`openssl pkcs12 -legacy -in vecchio.p12 \
                         -nodes -out tmp.pem`, poi `openssl pkcs12 -export -in tmp.pem -out \
                         nuovo.p12`, e cancellare tmp.pem) oppure indicare certificato e \
                         chiave in PEM";

/// Says why bergshamra could not read a PKCS#12 (that is not a legacy one either), in terms a
/// Comune's technician can act on. Its messages name algorithms and ASN.1, never the password.
fn errore_p12(e: &bergshamra::Error) -> String {
    let testo = e.to_string();
    match e {
        bergshamra::Error::UnsupportedAlgorithm(_) => format!(
            "il PKCS#12 usa una cifratura che questa build non decifra ({testo}): {RIESPORTA}"
        ),
        bergshamra::Error::Crypto(_) => {
            format!("PKCS#12 non decifrabile: password errata o file danneggiato ({testo})")
        }
        _ => format!("PKCS#12 non leggibile: {testo}"),
    }
}

/// Upper bound on the iterations of a PKCS#12 KDF: real files use 2048 (OpenSSL) to a few
/// hundred thousand; a crafted one must not keep a thread busy for minutes.
const ITERAZIONI_MAX: u64 = 10_000_000;

/// The PKCS#12 PBEs (RFC 7292 appendix C): the `p12` crate decrypts two of them, 3DES and RC2-40.
const ARCO_PBE_PKCS12: &str = "1.2.840.113549.1.12.1.";
const OID_SHA256: &str = "2.16.840.1.101.3.4.2.1";
/// keyBag: a private key in clear (PKCS#8), which the `p12` crate leaves as an unknown bag.
const OID_KEY_BAG: &str = "1.2.840.113549.1.12.10.1.1";

/// What a PKCS#12 holds: the private keys (PKCS#8 DER) and the certificates (DER).
struct ContenutoP12 {
    chiavi: Vec<Zeroizing<Vec<u8>>>,
    certificati: Vec<Vec<u8>>,
}

/// Counts only: never the keys.
impl std::fmt::Debug for ContenutoP12 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContenutoP12")
            .field("chiavi", &self.chiavi.len())
            .field("certificati", &self.certificati.len())
            .finish()
    }
}

/// Why [`leggi_p12_legacy`] failed. No variant carries the password or decrypted bytes.
#[derive(Debug, thiserror::Error)]
enum ErroreP12Legacy {
    /// Not a PKCS#12 with legacy encryption (not parseable, or encrypted with something
    /// else, such as PBES2): the modern reader's error is the one to tell.
    #[error("PKCS#12 senza cifratura legacy")]
    NonLegacy,
    #[error("{PASSWORD_P12_ERRATA}")]
    PasswordErrata,
    /// No MAC, and decryption gives nothing readable.
    #[error("PKCS#12 non decifrabile: password errata o file danneggiato")]
    PasswordOFileDanneggiato,
    #[error("il PKCS#12 usa una cifratura che Rivesto non decifra ({0}): {RIESPORTA}")]
    Cifratura(String),
    #[error("il PKCS#12 è protetto da un MAC che Rivesto non verifica ({0}): {RIESPORTA}")]
    Mac(String),
    #[error("PKCS#12 con un numero di iterazioni fuori misura ({0}, al massimo {ITERAZIONI_MAX})")]
    Iterazioni(u64),
    #[error("PKCS#12 danneggiato: {0}")]
    Danneggiato(String),
}

/// Reads a PKCS#12 whose contents are encrypted with pbeWithSHAAnd3-KeyTripleDES-CBC or
/// pbeWithSHAAnd40BitRC2-CBC, the defaults of OpenSSL before 3.0 (and of `openssl pkcs12
/// -legacy`) and of Java before 8u301/11.0.12. The `p12` crate has the ASN.1 types and the
/// ciphers; the structure is walked here so that BER (BouncyCastle writes indefinite lengths)
/// is read too, the MAC is verified whatever its hash (SHA-1 or SHA-256, with the PKCS#12 KDF
/// of kryptering and HMAC of aws-lc-rs), and each failure has its own cause.
fn leggi_p12_legacy(p12: &[u8], password: &str) -> Result<ContenutoP12, ErroreP12Legacy> {
    use ErroreP12Legacy as E;
    let (auth_safe, mac) = yasna::parse_ber(p12, |r| {
        r.read_sequence(|r| {
            let _versione = r.next().read_u64()?;
            let auth_safe = p12::ContentInfo::parse(r.next())?;
            let mac = r.read_optional(p12::MacData::parse)?;
            Ok((auth_safe, mac))
        })
    })
    .map_err(|_| E::NonLegacy)?;
    let p12::ContentInfo::Data(auth_safe) = auth_safe else {
        // Public-key integrity mode (signed authSafe): not what the ANPR web app issues.
        return Err(E::NonLegacy);
    };
    // It may hold a private key in clear (keyBag).
    let auth_safe = Zeroizing::new(auth_safe);
    let contenuti = yasna::parse_ber(&auth_safe, |r| {
        r.collect_sequence_of(p12::ContentInfo::parse)
    })
    .map_err(|_| E::NonLegacy)?;
    if let Some(mac) = &mac {
        verifica_mac_p12(mac, &auth_safe, password)?;
    }
    // Without a MAC a wrong password shows only as undecryptable or unreadable contents.
    let illeggibile = |causa: &str| {
        if mac.is_some() {
            E::Danneggiato(causa.to_string())
        } else {
            E::PasswordOFileDanneggiato
        }
    };
    let bmp = password_bmp(password);
    let decifra = |alg: &p12::AlgorithmIdentifier, cifrato: &[u8], cosa: &str| {
        let iterazioni = match alg {
            p12::AlgorithmIdentifier::PbeWithSHAAnd3KeyTripleDESCBC(p)
            | p12::AlgorithmIdentifier::PbewithSHAAnd40BitRC2CBC(p) => p.iterations,
            // Another PKCS#12 PBE (RC2-128, RC4, 2-key 3DES) is a legacy file this reader
            // cannot decrypt; anything else (PBES2) is the modern reader's.
            altro => {
                return Err(match nome_oid(altro) {
                    Some(oid) if oid.starts_with(ARCO_PBE_PKCS12) => E::Cifratura(nome_pbe(&oid)),
                    _ => E::NonLegacy,
                });
            }
        };
        if iterazioni > ITERAZIONI_MAX {
            return Err(E::Iterazioni(iterazioni));
        }
        alg.decrypt_pbe(cifrato, &bmp)
            .map(Zeroizing::new)
            .ok_or_else(|| illeggibile(&format!("{cosa} non decifrabile")))
    };
    let mut letto = ContenutoP12 {
        chiavi: Vec::new(),
        certificati: Vec::new(),
    };
    for contenuto in contenuti {
        let borse = match contenuto {
            p12::ContentInfo::Data(d) => Zeroizing::new(d),
            p12::ContentInfo::EncryptedData(d) => {
                let info = d.encrypted_content_info;
                decifra(
                    &info.content_encryption_algorithm,
                    &info.encrypted_content,
                    "contenuto cifrato",
                )?
            }
            p12::ContentInfo::OtherContext(_) => continue,
        };
        let borse = yasna::parse_ber(&borse, |r| r.collect_sequence_of(p12::SafeBag::parse))
            .map_err(|_| illeggibile("SafeContents non leggibile"))?;
        for borsa in borse {
            match borsa.bag {
                p12::SafeBagKind::CertBag(p12::CertBag::X509(der)) => letto.certificati.push(der),
                p12::SafeBagKind::CertBag(p12::CertBag::SDSI(_)) => {}
                p12::SafeBagKind::Pkcs8ShroudedKeyBag(k) => {
                    let chiave =
                        decifra(&k.encryption_algorithm, &k.encrypted_data, "chiave privata")?;
                    letto.chiavi.push(chiave);
                }
                p12::SafeBagKind::OtherBagKind(b) if b.bag_id.to_string() == OID_KEY_BAG => {
                    letto.chiavi.push(Zeroizing::new(b.bag_value));
                }
                p12::SafeBagKind::OtherBagKind(_) => {}
            }
        }
    }
    Ok(letto)
}

/// RFC 7292 §5 / appendix B: HMAC of the authSafe's content with a key derived from the password.
fn verifica_mac_p12(
    mac: &p12::MacData,
    dati: &[u8],
    password: &str,
) -> Result<(), ErroreP12Legacy> {
    use aws_lc_rs::hmac;
    use kryptering::HashAlgorithm;
    let (hash, algoritmo) = match &mac.mac.digest_algorithm {
        p12::AlgorithmIdentifier::Sha1 => {
            (HashAlgorithm::Sha1, hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY)
        }
        a if nome_oid(a).as_deref() == Some(OID_SHA256) => {
            (HashAlgorithm::Sha256, hmac::HMAC_SHA256)
        }
        a => return Err(ErroreP12Legacy::Mac(nome_oid(a).unwrap_or_default())),
    };
    if u64::from(mac.iterations) > ITERAZIONI_MAX {
        return Err(ErroreP12Legacy::Iterazioni(mac.iterations.into()));
    }
    let lunghezza = algoritmo.digest_algorithm().output_len();
    let chiave = kryptering::pkcs12::derive(
        hash,
        kryptering::pkcs12::ID_MAC,
        password,
        &mac.salt,
        mac.iterations,
        lunghezza,
    )
    .map_err(|e| ErroreP12Legacy::Danneggiato(format!("MAC non calcolabile: {e}")))?;
    hmac::verify(&hmac::Key::new(algoritmo, &chiave), dati, &mac.mac.digest)
        .map_err(|_| ErroreP12Legacy::PasswordErrata)
}

/// The dotted OID of an algorithm the `p12` crate does not name.
fn nome_oid(a: &p12::AlgorithmIdentifier) -> Option<String> {
    match a {
        p12::AlgorithmIdentifier::OtherAlg(o) => Some(o.algorithm_type.to_string()),
        _ => None,
    }
}

/// OpenSSL's name for a PKCS#12 PBE that the `p12` crate does not decrypt, as `openssl pkcs12
/// -info` shows it; the OID itself if unknown.
fn nome_pbe(oid: &str) -> String {
    let nome = match oid {
        "1.2.840.113549.1.12.1.1" => "PBE-SHA1-RC4-128",
        "1.2.840.113549.1.12.1.2" => "PBE-SHA1-RC4-40",
        "1.2.840.113549.1.12.1.4" => "PBE-SHA1-2DES",
        "1.2.840.113549.1.12.1.5" => "PBE-SHA1-RC2-128",
        _ => return format!("OID {oid}"),
    };
    nome.to_string()
}

/// The password as the PKCS#12 KDF takes it: BMPString (UTF-16BE) with a final U+0000.
fn password_bmp(password: &str) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(
        password
            .encode_utf16()
            .chain([0])
            .flat_map(u16::to_be_bytes)
            .collect(),
    )
}

/// Test certificates, made at run time (never committed): a CA "CA Postazioni Svil", the CO
/// certificate "058091-CO-0001" and the workstation certificate "058091-PC-0001", RSA 2048.
#[cfg(test)]
pub(crate) mod prova {
    use std::sync::OnceLock;

    pub struct Coppia {
        pub cert_pem: String,
        pub cert_der: Vec<u8>,
        pub key_pem: String,
    }

    pub struct Certificati {
        pub ca: Coppia,
        pub co: Coppia,
        pub pc: Coppia,
    }

    fn dn(cn: &str) -> rcgen::DistinguishedName {
        let mut dn = rcgen::DistinguishedName::new();
        dn.push(rcgen::DnType::CountryName, "IT");
        dn.push(rcgen::DnType::OrganizationName, "Ministero dell'Interno");
        dn.push(
            rcgen::DnType::OrganizationalUnitName,
            "Anagrafe Nazionale Popolazione Residente",
        );
        dn.push(
            rcgen::DnType::OrganizationalUnitName,
            "Postazioni di lavoro",
        );
        dn.push(rcgen::DnType::CommonName, cn);
        dn
    }

    fn coppia(cert: &rcgen::Certificate, chiave: &rcgen::KeyPair) -> Coppia {
        Coppia {
            cert_pem: cert.pem(),
            cert_der: cert.der().to_vec(),
            key_pem: chiave.serialize_pem(),
        }
    }

    /// A leaf certificate for `chiave`, issued by the test CA.
    pub fn emetti(cn: &str, chiave: &rcgen::KeyPair) -> Coppia {
        let (_, ca_chiave, ca_param) = ca();
        let issuer = rcgen::Issuer::new(ca_param.clone(), ca_chiave);
        let mut p = rcgen::CertificateParams::new(vec![]).unwrap();
        p.distinguished_name = dn(cn);
        let cert = p.signed_by(chiave, &issuer).unwrap();
        coppia(&cert, chiave)
    }

    type Ca = (rcgen::Certificate, rcgen::KeyPair, rcgen::CertificateParams);

    fn ca() -> &'static Ca {
        static C: OnceLock<Ca> = OnceLock::new();
        C.get_or_init(|| {
            let chiave = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
            let mut p = rcgen::CertificateParams::new(vec![]).unwrap();
            let mut dn = rcgen::DistinguishedName::new();
            dn.push(rcgen::DnType::CountryName, "IT");
            dn.push(rcgen::DnType::OrganizationName, "Ministero dell'Interno");
            dn.push(rcgen::DnType::OrganizationalUnitName, "ANPR");
            dn.push(rcgen::DnType::CommonName, "CA Postazioni Svil");
            p.distinguished_name = dn;
            p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
            let cert = p.self_signed(&chiave).unwrap();
            (cert, chiave, p)
        })
    }

    pub fn certificati() -> &'static Certificati {
        static C: OnceLock<Certificati> = OnceLock::new();
        C.get_or_init(|| {
            let (ca_cert, ca_chiave, _) = ca();
            let co = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
            let pc = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
            Certificati {
                ca: coppia(ca_cert, ca_chiave),
                co: emetti("058091-CO-0001", &co),
                pc: emetti("058091-PC-0001", &pc),
            }
        })
    }

    pub fn co() -> super::Credenziali {
        let c = &certificati().co;
        super::Credenziali::da_pem(c.cert_pem.as_bytes(), c.key_pem.as_bytes()).unwrap()
    }

    pub fn pc() -> super::Credenziali {
        let c = &certificati().pc;
        super::Credenziali::da_pem(c.cert_pem.as_bytes(), c.key_pem.as_bytes()).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::prova::{certificati, co};
    use super::*;

    #[test]
    fn da_pem_legge_certificato_e_chiave_pkcs8() {
        let c = &certificati().co;
        let cred = Credenziali::da_pem(c.cert_pem.as_bytes(), c.key_pem.as_bytes()).unwrap();
        assert_eq!(cred.cn().as_deref(), Some("058091-CO-0001"));
        assert_eq!(cred.certificato_der(), c.cert_der.as_slice());
        // rcgen's default notAfter is 4096-01-01T00:00:00Z.
        let attesa = DateTime::parse_from_rfc3339("4096-01-01T00:00:00Z").unwrap();
        assert_eq!(cred.scadenza(), Some(attesa.with_timezone(&Utc)));
    }

    #[test]
    fn da_pem_prende_il_primo_certificato_e_la_chiave_tra_altri_blocchi() {
        let t = certificati();
        // As `openssl pkcs12 -nodes` writes them, with text between the blocks.
        let catena = format!(
            "Bag Attributes\n    localKeyID: 01\nsubject=CN=058091-PC-0001\n{}{}",
            t.pc.cert_pem, t.ca.cert_pem
        );
        let chiave_con_cert = format!("{}{}", t.pc.cert_pem, t.pc.key_pem);
        let cred = Credenziali::da_pem(catena.as_bytes(), chiave_con_cert.as_bytes()).unwrap();
        assert_eq!(cred.cn().as_deref(), Some("058091-PC-0001"));
    }

    #[test]
    fn da_pem_legge_una_chiave_pkcs1() {
        let chiave = rcgen::KeyPair::from_pkcs8_pem_and_sign_algo(
            &crate::test_chiavi::chiave_pem(true),
            &rcgen::PKCS_RSA_SHA256,
        )
        .unwrap();
        let c = super::prova::emetti("058091-PC-0002", &chiave);
        let pkcs1 = crate::test_chiavi::chiave_pem(false);
        assert!(pkcs1.contains("BEGIN RSA PRIVATE KEY"));
        let cred = Credenziali::da_pem(c.cert_pem.as_bytes(), pkcs1.as_bytes()).unwrap();
        assert_eq!(cred.cn().as_deref(), Some("058091-PC-0002"));
    }

    #[test]
    fn da_pem_rifiuta_una_chiave_che_non_e_del_certificato() {
        let t = certificati();
        let e = Credenziali::da_pem(t.co.cert_pem.as_bytes(), t.pc.key_pem.as_bytes()).unwrap_err();
        assert_eq!(e, "la chiave privata non corrisponde al certificato");
    }

    #[test]
    fn da_pem_spiega_cosa_manca() {
        let t = certificati();
        let e = Credenziali::da_pem(t.co.key_pem.as_bytes(), t.co.key_pem.as_bytes()).unwrap_err();
        assert!(e.contains("non contiene un blocco CERTIFICATE"), "{e}");
        let e =
            Credenziali::da_pem(t.co.cert_pem.as_bytes(), t.co.cert_pem.as_bytes()).unwrap_err();
        assert!(e.contains("non contiene PRIVATE KEY"), "{e}");
        let cifrata =
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
        let e = Credenziali::da_pem(t.co.cert_pem.as_bytes(), cifrata.as_bytes()).unwrap_err();
        assert!(e.contains("cifrata"), "{e}");
        let rotta = "-----BEGIN PRIVATE KEY-----\n%%%%\n-----END PRIVATE KEY-----\n";
        let e = Credenziali::da_pem(t.co.cert_pem.as_bytes(), rotta.as_bytes()).unwrap_err();
        assert!(!e.contains("%%%%"), "{e}");
    }

    #[test]
    fn debug_non_mostra_la_chiave() {
        let c = &certificati().co;
        let testo = format!("{:?}", co());
        assert!(testo.contains("058091-CO-0001"), "{testo}");
        assert!(testo.contains("<redatta>"), "{testo}");
        let corpo_chiave: String = c
            .key_pem
            .lines()
            .filter(|r| !r.starts_with("-----"))
            .collect();
        for pezzo in corpo_chiave.as_bytes().chunks(12) {
            let pezzo = std::str::from_utf8(pezzo).unwrap();
            assert!(!testo.contains(pezzo), "{testo}");
        }
    }

    fn pubblica_co() -> Vec<u8> {
        chiave_rsa_certificato(&certificati().co.cert_der).unwrap()
    }

    #[test]
    fn firma_rsa_sha256_e_rsa_sha1_verificabili() {
        use aws_lc_rs::signature::{
            RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY, RSA_PKCS1_2048_8192_SHA256,
            UnparsedPublicKey,
        };
        let cred = co();
        let dati = b"IdPostazione 058091-PC-0001";
        let f256 = cred.firma(AlgoritmoFirma::RsaSha256, dati).unwrap();
        assert_eq!(f256.len(), 256);
        let k256 = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, pubblica_co());
        k256.verify(dati, &f256).unwrap();
        assert!(k256.verify(b"altro", &f256).is_err());
        let f1 = cred.firma(AlgoritmoFirma::RsaSha1, dati).unwrap();
        assert_eq!(f1.len(), 256);
        let k1 =
            UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY, pubblica_co());
        k1.verify(dati, &f1).unwrap();
        // Each is made with its own digest: swapping them fails.
        assert!(k256.verify(dati, &f1).is_err());
        assert!(k1.verify(dati, &f256).is_err());
        // PKCS#1 v1.5 is deterministic: blinding changes how, not what, is computed.
        assert_eq!(cred.firma(AlgoritmoFirma::RsaSha1, dati).unwrap(), f1);
        assert!(k1.verify(b"altro", &f1).is_err());
    }

    /// The signer handed to bergshamra says RSA-SHA1 (bergshamra checks it against the
    /// template's SignatureMethod) and signs as `firma` does.
    #[test]
    fn firmatario_sha1_per_bergshamra() {
        let cred = co();
        let firmatario = cred.firmatario_sha1();
        assert_eq!(
            firmatario.algorithm(),
            kryptering::SignatureAlgorithm::RsaPkcs1v15(kryptering::HashAlgorithm::Sha1)
        );
        assert!(bergshamra::crypto::sign::uri_matches_algorithm(
            AlgoritmoFirma::RsaSha1.uri_firma(),
            firmatario.algorithm()
        ));
        let dati = b"<ds:SignedInfo/>";
        assert_eq!(
            firmatario.sign(dati).unwrap(),
            cred.firma(AlgoritmoFirma::RsaSha1, dati).unwrap()
        );
    }

    // ---- PKCS#12 built in the test (DER by hand, PBES2 with PBKDF2-HMAC-SHA256 + AES-256-CBC,
    // no MAC), so that `da_p12` is tested without external programs.

    fn tlv(tag: u8, contenuto: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let n = contenuto.len();
        if n < 0x80 {
            out.push(n as u8);
        } else {
            let byte: Vec<u8> = n
                .to_be_bytes()
                .into_iter()
                .skip_while(|b| *b == 0)
                .collect();
            out.push(0x80 | byte.len() as u8);
            out.extend(byte);
        }
        out.extend_from_slice(contenuto);
        out
    }

    fn seq(parti: &[&[u8]]) -> Vec<u8> {
        tlv(0x30, &parti.concat())
    }

    fn oid(s: &str) -> Vec<u8> {
        let o = der::asn1::ObjectIdentifier::new(s).unwrap();
        tlv(0x06, o.as_bytes())
    }

    fn esplicito0(contenuto: &[u8]) -> Vec<u8> {
        tlv(0xa0, contenuto)
    }

    fn ottetti(b: &[u8]) -> Vec<u8> {
        tlv(0x04, b)
    }

    fn intero(n: u8) -> Vec<u8> {
        tlv(0x02, &[n])
    }

    fn chiave_cifrata(pkcs8: &[u8], password: &str) -> Vec<u8> {
        use aws_lc_rs::cipher::{
            AES_256, EncryptionContext, PaddedBlockEncryptingKey, UnboundCipherKey,
        };
        let (sale, iv, iterazioni) = ([7u8; 16], [9u8; 16], 2048u32);
        let mut k = [0u8; 32];
        aws_lc_rs::pbkdf2::derive(
            aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA256,
            std::num::NonZeroU32::new(iterazioni).unwrap(),
            &sale,
            password.as_bytes(),
            &mut k,
        );
        let chiave =
            PaddedBlockEncryptingKey::cbc_pkcs7(UnboundCipherKey::new(&AES_256, &k).unwrap())
                .unwrap();
        let mut dati = pkcs8.to_vec();
        chiave
            .less_safe_encrypt(&mut dati, EncryptionContext::Iv128(iv.into()))
            .unwrap();
        let pbkdf2 = seq(&[
            &oid("1.2.840.113549.1.5.12"),
            &seq(&[
                &ottetti(&sale),
                &tlv(0x02, &iterazioni.to_be_bytes()[2..]),
                &seq(&[&oid("1.2.840.113549.2.9"), &[0x05, 0x00]]),
            ]),
        ]);
        let aes = seq(&[&oid("2.16.840.1.101.3.4.1.42"), &ottetti(&iv)]);
        let alg = seq(&[&oid("1.2.840.113549.1.5.13"), &seq(&[&pbkdf2, &aes])]);
        seq(&[&alg, &ottetti(&dati)])
    }

    /// PFX { 3, ContentInfo(data, [cert bags of `certificati`, shrouded key bag]) }.
    fn p12(certificati_der: &[&[u8]], chiave_pem: &str, password: &str) -> Vec<u8> {
        let pkcs8 = pem::parse(chiave_pem).unwrap().into_contents();
        let mut borse = Vec::new();
        for c in certificati_der {
            let cert_bag = seq(&[&oid("1.2.840.113549.1.9.22.1"), &esplicito0(&ottetti(c))]);
            borse.push(seq(&[
                &oid("1.2.840.113549.1.12.10.1.3"),
                &esplicito0(&cert_bag),
            ]));
        }
        borse.push(seq(&[
            &oid("1.2.840.113549.1.12.10.1.2"),
            &esplicito0(&chiave_cifrata(&pkcs8, password)),
        ]));
        let safe_contents = tlv(0x30, &borse.concat());
        let dati = seq(&[
            &oid("1.2.840.113549.1.7.1"),
            &esplicito0(&ottetti(&safe_contents)),
        ]);
        let auth_safe = seq(&[&dati]);
        seq(&[
            &intero(3),
            &seq(&[
                &oid("1.2.840.113549.1.7.1"),
                &esplicito0(&ottetti(&auth_safe)),
            ]),
        ])
    }

    #[test]
    fn da_p12_legge_chiave_e_certificato_giusto_tra_la_catena() {
        let t = certificati();
        // The CA first: the certificate must be chosen by its key, not by position.
        let file = p12(
            &[&t.ca.cert_der, &t.pc.cert_der],
            &t.pc.key_pem,
            "segreta è",
        );
        let cred = Credenziali::da_p12(&file, "segreta è").unwrap();
        assert_eq!(cred.cn().as_deref(), Some("058091-PC-0001"));
        assert_eq!(cred.certificato_der(), t.pc.cert_der.as_slice());
        let f = cred.firma(AlgoritmoFirma::RsaSha256, b"x").unwrap();
        assert_eq!(f.len(), 256);
    }

    #[test]
    fn da_p12_password_errata_o_senza_certificato() {
        let t = certificati();
        let file = p12(&[&t.pc.cert_der], &t.pc.key_pem, "giusta");
        let e = Credenziali::da_p12(&file, "sbagliata").unwrap_err();
        assert!(!e.contains("sbagliata"), "{e}");
        assert!(e.contains("password errata"), "{e}");
        let solo_ca = p12(&[&t.ca.cert_der], &t.pc.key_pem, "giusta");
        let e = Credenziali::da_p12(&solo_ca, "giusta").unwrap_err();
        assert_eq!(
            e,
            "nel PKCS#12 nessun certificato corrisponde alla chiave privata"
        );
        let e = Credenziali::da_p12(b"non un p12", "giusta").unwrap_err();
        assert!(e.starts_with("PKCS#12 non leggibile"), "{e}");
    }

    // ---- Legacy files (3DES, RC2-40, SHA-1 MAC), as OpenSSL 1.x and older Java write them.

    /// Built by the `p12` crate: key bag with 3DES, certificates with RC2-40, SHA-1 MAC.
    fn p12_legacy(password: &str) -> Vec<u8> {
        let t = certificati();
        let pkcs8 = pem::parse(&t.co.key_pem).unwrap().into_contents();
        p12::PFX::new(&t.co.cert_der, &pkcs8, Some(&t.ca.cert_der), password, "co")
            .unwrap()
            .to_der()
    }

    /// The same file in BER, as BouncyCastle writes it: every constructed element with an
    /// indefinite length and the authSafe's content as a chunked (constructed) OCTET STRING.
    /// The content octets are those of the DER file, so its MAC still holds.
    fn in_ber(der: &[u8]) -> Vec<u8> {
        fn elemento(der: &[u8]) -> (u8, &[u8], &[u8]) {
            let tag = der[0];
            let (n, inizio) = if der[1] < 0x80 {
                (der[1] as usize, 2)
            } else {
                let k = (der[1] & 0x7f) as usize;
                let n = der[2..2 + k]
                    .iter()
                    .fold(0usize, |n, b| (n << 8) | *b as usize);
                (n, 2 + k)
            };
            (tag, &der[inizio..inizio + n], &der[inizio + n..])
        }
        fn riscrivi(mut der: &[u8], profondita: usize, out: &mut Vec<u8>) {
            while !der.is_empty() {
                let (tag, contenuto, resto) = elemento(der);
                if tag & 0x20 != 0 {
                    out.extend([tag, 0x80]);
                    riscrivi(contenuto, profondita + 1, out);
                    out.extend([0, 0]);
                } else if tag == 0x04 && profondita == 3 {
                    // PFX > authSafe ContentInfo > [0] > OCTET STRING: split in chunks.
                    out.extend([0x24, 0x80]);
                    for pezzo in contenuto.chunks(100) {
                        out.extend(tlv(0x04, pezzo));
                    }
                    out.extend([0, 0]);
                } else {
                    out.extend(&der[..der.len() - resto.len()]);
                }
                der = resto;
            }
        }
        let mut out = Vec::new();
        riscrivi(der, 0, &mut out);
        out
    }

    #[test]
    fn da_p12_legge_i_file_legacy_anche_in_ber() {
        let t = certificati();
        let der = p12_legacy("Pass-2025 è");
        // The modern reader does not: this is the legacy reader's work.
        assert!(bergshamra::keys::loader::load_pkcs12(&der, "Pass-2025 è").is_err());
        let ber = in_ber(&der);
        assert_ne!(ber, der);
        assert_eq!(&ber[..2], [0x30, 0x80]);
        for file in [&der, &ber] {
            let cred = Credenziali::da_p12(file, "Pass-2025 è").unwrap();
            assert_eq!(cred.cn().as_deref(), Some("058091-CO-0001"));
            assert_eq!(cred.certificato_der(), t.co.cert_der.as_slice());
            let f = cred.firma(AlgoritmoFirma::RsaSha1, b"x").unwrap();
            assert_eq!(f.len(), 256);
            let e = Credenziali::da_p12(file, "Pass-2025 e").unwrap_err();
            assert_eq!(e, PASSWORD_P12_ERRATA);
        }
    }

    /// The legacy reader's own checks, on the `p12` crate's file and on altered copies of it.
    #[test]
    fn lettore_legacy_password_mac_e_cifrature() {
        let der = p12_legacy("giusta");
        let letto = leggi_p12_legacy(&der, "giusta").unwrap();
        assert_eq!(letto.chiavi.len(), 1);
        assert_eq!(letto.certificati.len(), 2);
        let e = leggi_p12_legacy(&der, "sbagliata").unwrap_err();
        assert!(matches!(e, ErroreP12Legacy::PasswordErrata), "{e}");
        assert!(!e.to_string().contains("sbagliata"));
        // Without the MAC (the PFX's last element) a wrong password shows at decryption.
        let pfx = yasna::parse_der(&der, |r| {
            r.read_sequence(|r| {
                let v = r.next().read_u8()?;
                let auth_safe = p12::ContentInfo::parse(r.next())?;
                let _mac = p12::MacData::parse(r.next())?;
                Ok(p12::PFX {
                    version: v,
                    auth_safe,
                    mac_data: None,
                })
            })
        })
        .unwrap();
        let senza_mac = pfx.to_der();
        assert!(leggi_p12_legacy(&senza_mac, "giusta").is_ok());
        let e = leggi_p12_legacy(&senza_mac, "sbagliata").unwrap_err();
        assert!(
            matches!(e, ErroreP12Legacy::PasswordOFileDanneggiato),
            "{e}"
        );
        let e = Credenziali::da_p12(&senza_mac, "sbagliata").unwrap_err();
        assert_eq!(
            e,
            "PKCS#12 non decifrabile: password errata o file danneggiato"
        );
        // RC2-40 -> RC2-128 (OID ...12.1.6 -> ...12.1.5): a legacy PBE it does not decrypt.
        let rc2_40 = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x01, 0x06];
        let i = senza_mac
            .windows(rc2_40.len())
            .position(|w| w == rc2_40)
            .unwrap();
        let mut rc2_128 = senza_mac.clone();
        rc2_128[i + rc2_40.len() - 1] = 0x05;
        let e = Credenziali::da_p12(&rc2_128, "giusta").unwrap_err();
        assert!(
            e.starts_with(
                "il PKCS#12 usa una cifratura che Rivesto non decifra (PBE-SHA1-RC2-128)"
            ),
            "{e}"
        );
        assert!(e.contains("openssl pkcs12 -legacy"), "{e}");
        // A huge iteration count is refused before any work.
        let p12::ContentInfo::Data(auth_safe) = &pfx.auth_safe else {
            panic!("authSafe data attesa");
        };
        let mut contenuti = yasna::parse_der(auth_safe, |r| {
            r.collect_sequence_of(p12::ContentInfo::parse)
        })
        .unwrap();
        let p12::ContentInfo::EncryptedData(cifrati) = &mut contenuti[0] else {
            panic!("certificati cifrati attesi");
        };
        let p12::AlgorithmIdentifier::PbewithSHAAnd40BitRC2CBC(parametri) =
            &mut cifrati.encrypted_content_info.content_encryption_algorithm
        else {
            panic!("RC2-40 atteso");
        };
        parametri.iterations = 1 << 40;
        let lungo = p12::PFX {
            version: 3,
            auth_safe: p12::ContentInfo::Data(yasna::construct_der(|w| {
                w.write_sequence_of(|w| {
                    for c in &contenuti {
                        c.write(w.next());
                    }
                })
            })),
            mac_data: None,
        };
        let e = leggi_p12_legacy(&lungo.to_der(), "giusta").unwrap_err();
        assert!(
            matches!(e, ErroreP12Legacy::Iterazioni(n) if n == 1 << 40),
            "{e}"
        );
        // Not a PKCS#12 at all, or a modern one: not this reader's.
        assert!(matches!(
            leggi_p12_legacy(b"non un p12", "x"),
            Err(ErroreP12Legacy::NonLegacy)
        ));
        let t = certificati();
        let moderno = p12(&[&t.pc.cert_der], &t.pc.key_pem, "giusta");
        assert!(matches!(
            leggi_p12_legacy(&moderno, "giusta"),
            Err(ErroreP12Legacy::NonLegacy)
        ));
    }

    // ---- The same with files made by OpenSSL (real tools write MACs and encrypted cert bags).

    fn openssl_p12(dir: &std::path::Path, nome: &str, opzioni: &[&str]) -> Option<Vec<u8>> {
        let t = certificati();
        let (cert, chiave, ca) = (dir.join("c.pem"), dir.join("k.pem"), dir.join("ca.pem"));
        std::fs::write(&cert, &t.co.cert_pem).unwrap();
        std::fs::write(&chiave, &t.co.key_pem).unwrap();
        std::fs::write(&ca, &t.ca.cert_pem).unwrap();
        let out = dir.join(nome);
        let stato = std::process::Command::new("/usr/bin/openssl")
            .args(["pkcs12", "-export", "-passout", "pass:Pass-2025"])
            .arg("-in")
            .arg(&cert)
            .arg("-inkey")
            .arg(&chiave)
            .arg("-certfile")
            .arg(&ca)
            .arg("-out")
            .arg(&out)
            .args(opzioni)
            .output()
            .unwrap();
        stato.status.success().then(|| std::fs::read(&out).unwrap())
    }

    #[test]
    fn da_p12_legge_i_file_di_openssl() {
        if !std::path::Path::new("/usr/bin/openssl").exists() {
            eprintln!("SALTATO: /usr/bin/openssl assente, i PKCS#12 costruiti nei test bastano");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let tre_des = ["-keypbe", "PBE-SHA1-3DES", "-certpbe", "PBE-SHA1-3DES"];
        // OpenSSL 3 defaults (PBES2 + AES-256, SHA-256 MAC); 3DES with the SHA-1 MAC of
        // OpenSSL 1.x, and with OpenSSL 3's SHA-256 MAC.
        let mut file = vec![
            ("PBES2", openssl_p12(dir.path(), "a.p12", &[]).unwrap()),
            (
                "3DES, MAC SHA-1",
                openssl_p12(
                    dir.path(),
                    "b.p12",
                    &[&tre_des[..], &["-macalg", "sha1"]].concat(),
                )
                .unwrap(),
            ),
            (
                "3DES, MAC SHA-256",
                openssl_p12(dir.path(), "c.p12", &tre_des).unwrap(),
            ),
        ];
        // `-legacy` (RC2-40 for the certificates, 3DES for the key, SHA-1 MAC: the OpenSSL 1.x
        // defaults) needs OpenSSL's legacy provider, which some systems lack.
        match openssl_p12(dir.path(), "d.p12", &["-legacy"]) {
            Some(rc2) => file.push(("-legacy (RC2-40)", rc2)),
            None => eprintln!("SALTATO: OpenSSL senza provider legacy, niente file RC2 di OpenSSL"),
        }
        for (nome, p12) in &file {
            // The legacy reader takes exactly the legacy files (bergshamra, with AWS-LC, reads
            // neither 3DES nor RC2), and leaves the PBES2 one to bergshamra.
            let legacy = leggi_p12_legacy(p12, "Pass-2025");
            if *nome == "PBES2" {
                assert!(
                    matches!(legacy, Err(ErroreP12Legacy::NonLegacy)),
                    "{legacy:?}"
                );
            } else {
                let letto = legacy.unwrap();
                assert_eq!(
                    (letto.chiavi.len(), letto.certificati.len()),
                    (1, 2),
                    "{nome}"
                );
            }
            let e = Credenziali::da_p12(p12, "pass-2025").unwrap_err();
            assert_eq!(e, PASSWORD_P12_ERRATA, "{nome}");
            let cred =
                Credenziali::da_p12(p12, "Pass-2025").unwrap_or_else(|e| panic!("{nome}: {e}"));
            assert_eq!(cred.cn().as_deref(), Some("058091-CO-0001"), "{nome}");
            assert_eq!(cred.certificato_der(), certificati().co.cert_der, "{nome}");
        }
    }
}
