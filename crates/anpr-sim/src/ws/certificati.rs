//! The simulator's stand-in for ANPR's test CA ("CA Postazioni Svil"): it issues a Comune's
//! server certificate (`<ISTAT>-CO-nnnn`) and a workstation certificate (`<ISTAT>-PC-nnnn`)
//! with the subject DN seen in real test messages (NOTES-ws-comuni §7). Keys are RSA 2048,
//! generated with aws-lc-rs at run time and never written to the repository.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PKCS_RSA_SHA256, RsaKeySize, date_time_ymd,
};
use std::fmt;
use std::sync::OnceLock;

/// The OID of organizationalUnitName: rcgen keeps one value per attribute type, and ANPR's
/// DN has two OUs, so the second is pushed as a "custom" type with the same OID.
const OID_OU: [u64; 4] = [2, 5, 4, 11];

/// A Comune's two certificates with their private keys (PEM).
#[derive(Clone, PartialEq, Eq)]
pub struct CertificatiWs {
    /// The Comune's certificate `<ISTAT>-CO-nnnn`: signs the message and the SAML assertion.
    pub co_cert_pem: String,
    /// Its private key, PKCS#8 PEM.
    pub co_key_pem: String,
    /// The workstation certificate `<ISTAT>-PC-nnnn`: signs `IdPostazioneFirmato`.
    pub pc_cert_pem: String,
    /// Its private key, PKCS#8 PEM.
    pub pc_key_pem: String,
}

impl fmt::Debug for CertificatiWs {
    // Private keys never reach a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificatiWs")
            .field("co_cert_pem", &self.co_cert_pem)
            .field("co_key_pem", &"<riservata>")
            .field("pc_cert_pem", &self.pc_cert_pem)
            .field("pc_key_pem", &"<riservata>")
            .finish()
    }
}

impl CertificatiWs {
    /// The CN of the Comune's certificate, e.g. `058091-CO-0001`.
    pub fn id_comune(istat: &str, progressivo: u16) -> String {
        format!("{istat}-CO-{progressivo:04}")
    }

    /// The CN of the workstation certificate (the `IdPostazione`), e.g. `058091-PC-0001`.
    pub fn id_postazione(istat: &str, progressivo: u16) -> String {
        format!("{istat}-PC-{progressivo:04}")
    }
}

struct Ca {
    parametri: CertificateParams,
    chiave: KeyPair,
}

/// One CA per process, like the one test environment every Comune shares.
fn ca() -> &'static Ca {
    static CA: OnceLock<Ca> = OnceLock::new();
    CA.get_or_init(|| {
        let chiave = genera_chiave();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CountryName, "IT");
        dn.push(DnType::OrganizationName, "Ministero dell'Interno");
        dn.push(DnType::OrganizationalUnitName, "ANPR");
        dn.push(DnType::CommonName, "CA Postazioni Svil");
        let mut parametri = CertificateParams::default();
        parametri.distinguished_name = dn;
        parametri.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        parametri.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        parametri.not_before = date_time_ymd(2020, 1, 1);
        parametri.not_after = date_time_ymd(2040, 1, 1);
        Ca { parametri, chiave }
    })
}

fn genera_chiave() -> KeyPair {
    // aws-lc only fails here if the system RNG is broken: nothing sensible can continue then.
    KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, RsaKeySize::_2048)
        .expect("generazione della chiave RSA non riuscita")
}

/// A leaf certificate with the ANPR workstation DN and `cn`, issued by the test CA.
fn emetti(cn: &str) -> (String, String) {
    let chiave = genera_chiave();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "IT");
    dn.push(DnType::OrganizationName, "Ministero dell'Interno");
    dn.push(
        DnType::OrganizationalUnitName,
        "Anagrafe Nazionale Popolazione Residente",
    );
    dn.push(
        DnType::CustomDnType(OID_OU.to_vec()),
        "Postazioni di lavoro",
    );
    dn.push(DnType::CommonName, cn);
    let mut parametri = CertificateParams::default();
    parametri.distinguished_name = dn;
    parametri.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::ContentCommitment,
    ];
    parametri.not_before = date_time_ymd(2024, 1, 1);
    parametri.not_after = date_time_ymd(2034, 1, 1);
    let ca = ca();
    let emittente = Issuer::from_params(&ca.parametri, &ca.chiave);
    // Signing with a freshly generated RSA key and well-formed parameters cannot fail.
    let cert = parametri
        .signed_by(&chiave, &emittente)
        .expect("emissione del certificato di prova non riuscita");
    (cert.pem(), chiave.serialize_pem())
}

/// Issues the Comune certificate `<istat>-CO-<progressivo>` and the workstation certificate
/// `<istat>-PC-<progressivo>`, each with a fresh RSA 2048 key.
pub fn emetti_certificati_ws(istat: &str, progressivo: u16) -> CertificatiWs {
    let (co_cert_pem, co_key_pem) = emetti(&CertificatiWs::id_comune(istat, progressivo));
    let (pc_cert_pem, pc_key_pem) = emetti(&CertificatiWs::id_postazione(istat, progressivo));
    CertificatiWs {
        co_cert_pem,
        co_key_pem,
        pc_cert_pem,
        pc_key_pem,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use x509_cert::Certificate;
    use x509_cert::der::{Decode, Encode};

    fn leggi(pem_: &str) -> Certificate {
        Certificate::from_der(pem::parse(pem_).unwrap().contents()).unwrap()
    }

    #[test]
    fn i_certificati_hanno_il_dn_di_anpr_e_l_emittente_di_prova() {
        let c = emetti_certificati_ws("058091", 1);
        let co = leggi(&c.co_cert_pem);
        let pc = leggi(&c.pc_cert_pem);
        assert_eq!(
            co.tbs_certificate.subject.to_string(),
            "CN=058091-CO-0001,OU=Postazioni di lavoro,OU=Anagrafe Nazionale Popolazione Residente,O=Ministero dell'Interno,C=IT"
        );
        assert_eq!(
            pc.tbs_certificate.subject.to_string(),
            "CN=058091-PC-0001,OU=Postazioni di lavoro,OU=Anagrafe Nazionale Popolazione Residente,O=Ministero dell'Interno,C=IT"
        );
        assert_eq!(
            co.tbs_certificate.issuer.to_string(),
            "CN=CA Postazioni Svil,OU=ANPR,O=Ministero dell'Interno,C=IT"
        );
        assert!(c.co_key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        assert_ne!(
            co.tbs_certificate.to_der().unwrap(),
            pc.tbs_certificate.to_der().unwrap()
        );
    }

    #[test]
    fn il_debug_non_mostra_le_chiavi() {
        let c = emetti_certificati_ws("058091", 2);
        let s = format!("{c:?}");
        assert!(!s.contains("PRIVATE KEY"));
        assert!(s.contains("BEGIN CERTIFICATE"));
    }
}
