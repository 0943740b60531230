//! `IdPostazioneFirmato`: a CMS SignedData (RFC 5652) with the IdPostazione string as attached
//! content, signed with the workstation key (NOTES-ws-comuni §7). Parsed with the `cms` types
//! and verified here with aws-lc-rs, independently of the client's code.

use aws_lc_rs::digest;
use aws_lc_rs::signature::{self, UnparsedPublicKey};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use der::asn1::{ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use x509_cert::Certificate;

const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const ID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const ID_SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
const ID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const ID_SHA256_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const ID_SHA1_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.5");
const ID_CN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
const ID_SKI: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.14");

/// What a valid `IdPostazioneFirmato` proves: this signer certificate signed this content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirmaPostazione {
    pub contenuto: Vec<u8>,
    /// The signer's certificate, DER.
    pub certificato: Vec<u8>,
}

/// Decodes and verifies the base64 SignedData: one signer, whose certificate is embedded,
/// SHA-256 or SHA-1 digests, RSA PKCS#1 v1.5, with or without signed attributes.
pub fn verifica(b64: &str) -> Result<FirmaPostazione, String> {
    let compatto: String = b64.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let der_ = STANDARD
        .decode(compatto)
        .map_err(|_| "IdPostazioneFirmato non è base64".to_owned())?;
    let ci = ContentInfo::from_der(&der_)
        .map_err(|e| format!("IdPostazioneFirmato non è un ContentInfo CMS: {e}"))?;
    if ci.content_type != ID_SIGNED_DATA {
        return Err("IdPostazioneFirmato non è una SignedData".into());
    }
    let sd: SignedData = ci
        .content
        .decode_as()
        .map_err(|e| format!("SignedData non leggibile: {e}"))?;
    if sd.encap_content_info.econtent_type != ID_DATA {
        return Err("il contenuto della SignedData non è id-data".into());
    }
    let contenuto = sd
        .encap_content_info
        .econtent
        .as_ref()
        .ok_or("SignedData senza contenuto (firma staccata)")?
        .decode_as::<OctetString>()
        .map_err(|e| format!("contenuto della SignedData non leggibile: {e}"))?
        .into_bytes();
    let firmatari: Vec<&SignerInfo> = sd.signer_infos.0.iter().collect();
    let [si] = firmatari.as_slice() else {
        return Err(format!(
            "la SignedData ha {} firmatari invece di uno",
            firmatari.len()
        ));
    };
    let cert = certificato_del_firmatario(&sd, si)?;
    verifica_firmatario(si, &cert, &contenuto)?;
    Ok(FirmaPostazione {
        contenuto,
        certificato: cert
            .to_der()
            .map_err(|e| format!("certificato del firmatario: {e}"))?,
    })
}

fn certificato_del_firmatario(sd: &SignedData, si: &SignerInfo) -> Result<Certificate, String> {
    let certificati = sd
        .certificates
        .as_ref()
        .ok_or("la SignedData non contiene il certificato del firmatario")?;
    certificati
        .0
        .iter()
        .filter_map(|c| match c {
            CertificateChoices::Certificate(c) => Some(c),
            CertificateChoices::Other(_) => None,
        })
        .find(|c| match &si.sid {
            SignerIdentifier::IssuerAndSerialNumber(is) => {
                c.tbs_certificate.issuer == is.issuer
                    && c.tbs_certificate.serial_number == is.serial_number
            }
            SignerIdentifier::SubjectKeyIdentifier(ski) => ski_di(c).as_ref() == Some(&ski.0),
        })
        .cloned()
        .ok_or_else(|| "il certificato del firmatario non è nella SignedData".to_owned())
}

fn ski_di(c: &Certificate) -> Option<OctetString> {
    let ext = c
        .tbs_certificate
        .extensions
        .as_ref()?
        .iter()
        .find(|e| e.extn_id == ID_SKI)?;
    OctetString::from_der(ext.extn_value.as_bytes()).ok()
}

fn verifica_firmatario(
    si: &SignerInfo,
    cert: &Certificate,
    contenuto: &[u8],
) -> Result<(), String> {
    let (alg_digest, parametri) = match si.digest_alg.oid {
        o if o == ID_SHA256 => (&digest::SHA256, &signature::RSA_PKCS1_2048_8192_SHA256),
        o if o == ID_SHA1 => (
            &digest::SHA1_FOR_LEGACY_USE_ONLY,
            &signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
        ),
        o => return Err(format!("algoritmo di digest {o} non ammesso")),
    };
    let firma_coerente = match si.signature_algorithm.oid {
        o if o == ID_RSA => true,
        o if o == ID_SHA256_RSA => si.digest_alg.oid == ID_SHA256,
        o if o == ID_SHA1_RSA => si.digest_alg.oid == ID_SHA1,
        _ => false,
    };
    if !firma_coerente {
        return Err(format!(
            "algoritmo di firma {} non ammesso con il digest {}",
            si.signature_algorithm.oid, si.digest_alg.oid
        ));
    }
    let impronta = digest::digest(alg_digest, contenuto);
    let messaggio = match &si.signed_attrs {
        None => contenuto.to_vec(),
        Some(attributi) => {
            let valore = |oid: ObjectIdentifier| {
                attributi
                    .iter()
                    .find(|a| a.oid == oid)
                    .and_then(|a| a.values.iter().next())
            };
            let tipo = valore(ID_CONTENT_TYPE)
                .and_then(|v| v.decode_as::<ObjectIdentifier>().ok())
                .ok_or("attributo firmato content-type assente")?;
            if tipo != ID_DATA {
                return Err("attributo content-type diverso da id-data".into());
            }
            let md = valore(ID_MESSAGE_DIGEST)
                .and_then(|v| v.decode_as::<OctetString>().ok())
                .ok_or("attributo firmato message-digest assente")?;
            if md.as_bytes() != impronta.as_ref() {
                return Err("message-digest diverso dal digest del contenuto".into());
            }
            attributi
                .to_der()
                .map_err(|e| format!("attributi firmati non codificabili: {e}"))?
        }
    };
    let chiave = cert
        .tbs_certificate
        .subject_public_key_info
        .subject_public_key
        .raw_bytes();
    UnparsedPublicKey::new(parametri, chiave)
        .verify(&messaggio, si.signature.as_bytes())
        .map_err(|_| "firma della SignedData non valida".to_owned())
}

/// The subject CN of a DER certificate.
pub fn cn(der_: &[u8]) -> Option<String> {
    let c = Certificate::from_der(der_).ok()?;
    c.tbs_certificate.subject.0.iter().find_map(|rdn| {
        rdn.0
            .iter()
            .find(|a| a.oid == ID_CN)
            .and_then(|a| std::str::from_utf8(a.value.value()).ok().map(str::to_owned))
    })
}

#[cfg(test)]
pub mod prova {
    //! A minimal SignedData builder for the tests: attached content, one signer identified by
    //! issuer and serial, signed attributes (content-type, message-digest), RSA with SHA-256.

    use super::*;
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::RsaKeyPair;
    use cms::cert::IssuerAndSerialNumber;
    use cms::content_info::CmsVersion;
    use cms::signed_data::{
        CertificateSet, EncapsulatedContentInfo, SignedAttributes, SignerInfos,
    };
    use der::Any;
    use der::asn1::SetOfVec;
    use x509_cert::attr::Attribute;
    use x509_cert::spki::AlgorithmIdentifierOwned;

    fn alg(oid: ObjectIdentifier) -> AlgorithmIdentifierOwned {
        AlgorithmIdentifierOwned {
            oid,
            parameters: None,
        }
    }

    pub fn firma(contenuto: &[u8], cert_pem: &str, key_pem: &str) -> String {
        let cert = Certificate::from_der(pem::parse(cert_pem).unwrap().contents()).unwrap();
        let chiave = RsaKeyPair::from_pkcs8(pem::parse(key_pem).unwrap().contents()).unwrap();
        let impronta = digest::digest(&digest::SHA256, contenuto);
        let attr = |oid, v: Any| Attribute {
            oid,
            values: SetOfVec::try_from(vec![v]).unwrap(),
        };
        let attributi: SignedAttributes = SetOfVec::try_from(vec![
            attr(ID_CONTENT_TYPE, Any::encode_from(&ID_DATA).unwrap()),
            attr(
                ID_MESSAGE_DIGEST,
                Any::encode_from(&OctetString::new(impronta.as_ref()).unwrap()).unwrap(),
            ),
        ])
        .unwrap();
        let mut firma = vec![0; chiave.public_modulus_len()];
        chiave
            .sign(
                &signature::RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                &attributi.to_der().unwrap(),
                &mut firma,
            )
            .unwrap();
        let si = SignerInfo {
            version: CmsVersion::V1,
            sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                issuer: cert.tbs_certificate.issuer.clone(),
                serial_number: cert.tbs_certificate.serial_number.clone(),
            }),
            digest_alg: alg(ID_SHA256),
            signed_attrs: Some(attributi),
            signature_algorithm: alg(ID_RSA),
            signature: OctetString::new(firma).unwrap(),
            unsigned_attrs: None,
        };
        let sd = SignedData {
            version: CmsVersion::V1,
            digest_algorithms: SetOfVec::try_from(vec![alg(ID_SHA256)]).unwrap(),
            encap_content_info: EncapsulatedContentInfo {
                econtent_type: ID_DATA,
                econtent: Some(Any::encode_from(&OctetString::new(contenuto).unwrap()).unwrap()),
            },
            certificates: Some(CertificateSet(
                SetOfVec::try_from(vec![CertificateChoices::Certificate(cert)]).unwrap(),
            )),
            crls: None,
            signer_infos: SignerInfos(SetOfVec::try_from(vec![si]).unwrap()),
        };
        let ci = ContentInfo {
            content_type: ID_SIGNED_DATA,
            content: Any::encode_from(&sd).unwrap(),
        };
        STANDARD.encode(ci.to_der().unwrap())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ws::certificati::emetti_certificati_ws;

    #[test]
    fn una_signed_data_valida_e_il_suo_contenuto() {
        let c = emetti_certificati_ws("058091", 3);
        let b64 = prova::firma(b"058091-PC-0003", &c.pc_cert_pem, &c.pc_key_pem);
        let f = verifica(&b64).unwrap();
        assert_eq!(f.contenuto, b"058091-PC-0003");
        assert_eq!(
            f.certificato,
            pem::parse(&c.pc_cert_pem).unwrap().contents()
        );
        assert_eq!(cn(&f.certificato).as_deref(), Some("058091-PC-0003"));
    }

    #[test]
    fn una_firma_alterata_o_un_testo_qualsiasi_sono_rifiutati() {
        let c = emetti_certificati_ws("058091", 4);
        let b64 = prova::firma(b"058091-PC-0004", &c.pc_cert_pem, &c.pc_key_pem);
        let mut der_ = STANDARD.decode(&b64).unwrap();
        // The signature is the last field before the (absent) unsigned attributes: flip its
        // last byte.
        let n = der_.len();
        der_[n - 1] ^= 1;
        assert!(verifica(&STANDARD.encode(&der_)).is_err());
        assert!(verifica("bm9uIMOoIENNUw==").is_err());
        assert!(verifica("%%%").is_err());
    }
}
