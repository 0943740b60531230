//! WS-Security of the Comune channel (NOTES-ws-comuni §7): the SOAP 1.1 envelope of every call,
//! with a `wsse:Security` header that carries, in the order the 2017 policy's Layout Strict
//! wants (a token before its use), a Timestamp, the Comune certificate as a BinarySecurityToken,
//! the SAML 2.0 assertion that names the operator (signed by the Comune certificate), and the
//! message signature over the Timestamp and the Body. `IdPostazioneFirmato` is a CMS SignedData
//! made with the workstation key.
//!
//! The XML signatures are made by bergshamra on a template: exclusive c14n and digests are not
//! written here. The template is rendered from the same pieces twice, with empty digest and
//! signature values to sign it, then with the values bergshamra computed, so that the Body
//! leaves exactly as the caller wrote it.

use super::credenziali::Credenziali;
use base64::Engine as _;
use bergshamra::xml::{Document, NodeId};
use chrono::{DateTime, Utc};
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{ObjectIdentifier, OctetString, SetOfVec};
use der::{Any, Decode as _, Encode as _};
use quick_xml::escape::escape;
use x509_cert::attr::Attribute;
use x509_cert::spki::AlgorithmIdentifierOwned;

pub const NS_SOAP: &str = "http://schemas.xmlsoap.org/soap/envelope/";
pub const NS_WSSE: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
pub const NS_WSU: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd";
pub const NS_SAML2: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
pub const NS_DS: &str = "http://www.w3.org/2000/09/xmldsig#";
/// Exclusive c14n: the algorithm URI and the namespace of `InclusiveNamespaces`.
pub const NS_EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
pub const VALUE_TYPE_X509V3: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3";
pub const ENCODING_BASE64: &str = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary";
/// Lifetime of the Timestamp and of the assertion's conditions, as ANPR's sample client sets them.
pub const VALIDITA_TIMESTAMP: chrono::Duration = chrono::Duration::minutes(5);

const URI_ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
const NS_XSD: &str = "http://www.w3.org/2001/XMLSchema";
const NS_XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";
const NAMEID_UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified";
const CM_BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
const ATTRNAME_UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified";
const AC_UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified";

const OID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const OID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const OID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const OID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const OID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const OID_SHA256_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AlgoritmoFirma {
    #[default]
    RsaSha256,
    /// The 2017 policy's `Basic128Rsa15` suite, seen in 2017-20 messages. AWS-LC does not sign
    /// it: [`Credenziali::firma`] and bergshamra's external signer use the `rsa` crate for it.
    RsaSha1,
}

impl AlgoritmoFirma {
    /// "rsa-sha256" | "rsa-sha1" (the values of the `signature_alg` setting).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "rsa-sha256" => Some(Self::RsaSha256),
            "rsa-sha1" => Some(Self::RsaSha1),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::RsaSha256 => "rsa-sha256",
            Self::RsaSha1 => "rsa-sha1",
        }
    }

    pub fn uri_firma(self) -> &'static str {
        match self {
            Self::RsaSha256 => "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
            Self::RsaSha1 => "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
        }
    }

    pub fn uri_digest(self) -> &'static str {
        match self {
            Self::RsaSha256 => "http://www.w3.org/2001/04/xmlenc#sha256",
            Self::RsaSha1 => "http://www.w3.org/2000/09/xmldsig#sha1",
        }
    }
}

/// Who every call of a Comune is made as (fixed by the Comune's `[anpr_ws]` settings).
#[derive(Clone, Debug)]
pub struct IdentitaWs {
    /// CO certificate: signs the message and the SAML assertion.
    pub comune: Credenziali,
    /// Workstation certificate: signs IdPostazione (CMS).
    pub postazione: Credenziali,
    /// SAML NameID: CF of an ANPR-enabled Anagrafe operator.
    pub operatore_cf: String,
    /// Comune ISTAT code.
    pub id_sede: String,
    /// The workstation certificate's CN.
    pub id_postazione: String,
    pub id_applicazione: String,
    pub algoritmo: AlgoritmoFirma,
}

#[derive(Debug, thiserror::Error)]
pub enum ErroreSicurezzaWs {
    #[error("{campo} vuoto: l'asserzione SAML lo richiede")]
    CampoVuoto { campo: &'static str },
    #[error("certificato {quale} {cn} scaduto il {scadenza}: ANPR rifiuterebbe la chiamata")]
    CertificatoScaduto {
        quale: &'static str,
        cn: String,
        scadenza: String,
    },
    #[error("corpo della richiesta non utilizzabile nella busta SOAP: {0}")]
    Corpo(String),
    #[error("IdPostazioneFirmato non costruito: {0}")]
    Cms(String),
    #[error("firma XML non riuscita: {0}")]
    Firma(String),
}

/// The whole SOAP 1.1 envelope: `corpo` is the body's single child element as XML text (it declares
/// its own namespaces), `indirizzo_client` goes in SubjectLocality@Address, `adesso` is the signing time.
pub fn imbusta(
    corpo: &str,
    identita: &IdentitaWs,
    indirizzo_client: &str,
    adesso: DateTime<Utc>,
) -> Result<String, ErroreSicurezzaWs> {
    controlla(identita, indirizzo_client, adesso)?;
    let busta = Busta {
        corpo,
        identita,
        indirizzo_client,
        id_postazione_firmato: id_postazione_firmato(
            &identita.postazione,
            &identita.id_postazione,
        )?,
        certificato_b64: base64::engine::general_purpose::STANDARD
            .encode(identita.comune.certificato_der()),
        id_ts: format!("TS-{}", uuid::Uuid::new_v4()),
        id_x509: format!("X509-{}", uuid::Uuid::new_v4()),
        id_body: format!("id-{}", uuid::Uuid::new_v4()),
        id_asserzione: format!("_{}", uuid::Uuid::new_v4().simple()),
        inizio: istante(adesso),
        fine: istante(adesso + VALIDITA_TIMESTAMP),
    };
    let modello = busta.testo(&Valori::default());
    let valori = firma_modello(&modello, &identita.comune, identita.algoritmo)?;
    Ok(busta.testo(&valori))
}

/// base64 of a DER CMS ContentInfo(SignedData) with attached content = `id_postazione` (UTF-8),
/// SHA-256 digest, RSA signature with the workstation key, signer certificate embedded, signer
/// identified by issuerAndSerialNumber.
///
/// Signed attributes (contentType, messageDigest) are included, as BouncyCastle's
/// `CMSSignedDataGenerator` (ANPR's sample client) writes them; the signature covers them.
/// Without a signing time the result depends only on the key and the id, so it is the same on
/// every call.
pub fn id_postazione_firmato(
    postazione: &Credenziali,
    id_postazione: &str,
) -> Result<String, ErroreSicurezzaWs> {
    let cms = |e: der::Error| ErroreSicurezzaWs::Cms(e.to_string());
    let cert = x509_cert::Certificate::from_der(postazione.certificato_der()).map_err(cms)?;
    let contenuto = id_postazione.as_bytes();
    let attributi = attributi_firmati(contenuto).map_err(cms)?;
    let firma = postazione
        .firma(AlgoritmoFirma::RsaSha256, &attributi.to_der().map_err(cms)?)
        .map_err(ErroreSicurezzaWs::Cms)?;
    let sha256 = AlgorithmIdentifierOwned {
        oid: OID_SHA256,
        parameters: None,
    };
    let firmatario = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: cert.tbs_certificate.issuer.clone(),
            serial_number: cert.tbs_certificate.serial_number.clone(),
        }),
        digest_alg: sha256.clone(),
        signed_attrs: Some(attributi),
        signature_algorithm: AlgorithmIdentifierOwned {
            oid: OID_SHA256_RSA,
            parameters: Some(Any::null()),
        },
        signature: OctetString::new(firma).map_err(cms)?,
        unsigned_attrs: None,
    };
    let dati = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(vec![sha256]).map_err(cms)?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: OID_DATA,
            econtent: Some(
                Any::encode_from(&OctetString::new(contenuto).map_err(cms)?).map_err(cms)?,
            ),
        },
        certificates: Some(CertificateSet(
            SetOfVec::try_from(vec![CertificateChoices::Certificate(cert)]).map_err(cms)?,
        )),
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(vec![firmatario]).map_err(cms)?),
    };
    let info = ContentInfo {
        content_type: OID_SIGNED_DATA,
        content: Any::encode_from(&dati).map_err(cms)?,
    };
    Ok(base64::engine::general_purpose::STANDARD.encode(info.to_der().map_err(cms)?))
}

/// contentType = id-data and messageDigest = SHA-256 of the content (RFC 5652 §11).
fn attributi_firmati(contenuto: &[u8]) -> der::Result<SetOfVec<Attribute>> {
    let impronta = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, contenuto);
    let tipo = Attribute {
        oid: OID_CONTENT_TYPE,
        values: SetOfVec::try_from(vec![Any::encode_from(&OID_DATA)?])?,
    };
    let digest = Attribute {
        oid: OID_MESSAGE_DIGEST,
        values: SetOfVec::try_from(vec![Any::encode_from(&OctetString::new(
            impronta.as_ref(),
        )?)?])?,
    };
    SetOfVec::try_from(vec![tipo, digest])
}

/// Refuses what ANPR would refuse anyway, with a cause the Comune can act on.
fn controlla(
    identita: &IdentitaWs,
    indirizzo_client: &str,
    adesso: DateTime<Utc>,
) -> Result<(), ErroreSicurezzaWs> {
    for (campo, valore) in [
        (
            "codice fiscale dell'operatore (NameID)",
            identita.operatore_cf.as_str(),
        ),
        ("IdSede", &identita.id_sede),
        ("IdPostazione", &identita.id_postazione),
        ("IdApplicazione", &identita.id_applicazione),
        ("indirizzo del client (SubjectLocality)", indirizzo_client),
    ] {
        if valore.trim().is_empty() {
            return Err(ErroreSicurezzaWs::CampoVuoto { campo });
        }
    }
    for (quale, cred) in [
        ("del Comune", &identita.comune),
        ("della postazione", &identita.postazione),
    ] {
        if let Some(scadenza) = cred.scadenza()
            && scadenza <= adesso
        {
            return Err(ErroreSicurezzaWs::CertificatoScaduto {
                quale,
                cn: cred.cn().unwrap_or_default(),
                scadenza: scadenza.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            });
        }
    }
    Ok(())
}

/// xs:dateTime in UTC with milliseconds, as WSS4J writes it: `YYYY-MM-DDTHH:MM:SS.sssZ`.
fn istante(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// The base64 values bergshamra fills in; empty in the template.
#[derive(Default)]
struct Valori {
    digest_asserzione: String,
    firma_asserzione: String,
    digest_ts: String,
    digest_body: String,
    firma_messaggio: String,
}

/// Everything one envelope is made of, so that it renders the same way twice.
struct Busta<'a> {
    corpo: &'a str,
    identita: &'a IdentitaWs,
    indirizzo_client: &'a str,
    id_postazione_firmato: String,
    certificato_b64: String,
    id_ts: String,
    id_x509: String,
    id_body: String,
    id_asserzione: String,
    inizio: String,
    fine: String,
}

impl Busta<'_> {
    fn testo(&self, v: &Valori) -> String {
        format!(
            "<soapenv:Envelope xmlns:soapenv=\"{NS_SOAP}\"><soapenv:Header>\
<wsse:Security xmlns:wsse=\"{NS_WSSE}\" xmlns:wsu=\"{NS_WSU}\" soapenv:mustUnderstand=\"1\">\
<wsu:Timestamp wsu:Id=\"{ts}\"><wsu:Created>{inizio}</wsu:Created><wsu:Expires>{fine}</wsu:Expires></wsu:Timestamp>\
<wsse:BinarySecurityToken EncodingType=\"{ENCODING_BASE64}\" ValueType=\"{VALUE_TYPE_X509V3}\" wsu:Id=\"{x509}\">{cert}</wsse:BinarySecurityToken>\
{asserzione}{firma}</wsse:Security></soapenv:Header>\
<soapenv:Body xmlns:wsu=\"{NS_WSU}\" wsu:Id=\"{body}\">{corpo}</soapenv:Body></soapenv:Envelope>",
            ts = self.id_ts,
            inizio = self.inizio,
            fine = self.fine,
            x509 = self.id_x509,
            cert = self.certificato_b64,
            asserzione = self.asserzione(v),
            firma = self.firma_messaggio(v),
            body = self.id_body,
            corpo = self.corpo,
        )
    }

    /// SAML 2.0 schema order: Issuer, Signature, Subject, Conditions, statements.
    fn asserzione(&self, v: &Valori) -> String {
        let i = self.identita;
        let attributi: String = [
            ("IdSede", i.id_sede.as_str()),
            ("IdPostazione", &i.id_postazione),
            ("IdPostazioneFirmato", &self.id_postazione_firmato),
            ("IdApplicazione", &i.id_applicazione),
        ]
        .iter()
        .map(|(nome, valore)| {
            format!(
                "<saml2:Attribute Name=\"{nome}\" NameFormat=\"{ATTRNAME_UNSPECIFIED}\">\
<saml2:AttributeValue xsi:type=\"xsd:string\">{}</saml2:AttributeValue></saml2:Attribute>",
                escape(*valore)
            )
        })
        .collect();
        format!(
            "<saml2:Assertion xmlns:saml2=\"{NS_SAML2}\" xmlns:xsd=\"{NS_XSD}\" xmlns:xsi=\"{NS_XSI}\" \
ID=\"{id}\" IssueInstant=\"{inizio}\" Version=\"2.0\"><saml2:Issuer>XS</saml2:Issuer>{firma}\
<saml2:Subject><saml2:NameID Format=\"{NAMEID_UNSPECIFIED}\">{cf}</saml2:NameID>\
<saml2:SubjectConfirmation Method=\"{CM_BEARER}\">\
<saml2:SubjectConfirmationData NotBefore=\"{inizio}\" NotOnOrAfter=\"{fine}\"/></saml2:SubjectConfirmation></saml2:Subject>\
<saml2:Conditions NotBefore=\"{inizio}\" NotOnOrAfter=\"{fine}\"/>\
<saml2:AuthnStatement AuthnInstant=\"{inizio}\" SessionNotOnOrAfter=\"{fine}\">\
<saml2:SubjectLocality Address=\"{indirizzo}\"/><saml2:AuthnContext>\
<saml2:AuthnContextClassRef>{AC_UNSPECIFIED}</saml2:AuthnContextClassRef></saml2:AuthnContext></saml2:AuthnStatement>\
<saml2:AttributeStatement>{attributi}</saml2:AttributeStatement></saml2:Assertion>",
            id = self.id_asserzione,
            inizio = self.inizio,
            fine = self.fine,
            firma = self.firma_asserzione(v),
            cf = escape(i.operatore_cf.as_str()),
            indirizzo = escape(self.indirizzo_client),
        )
    }

    /// Enveloped, over the whole assertion. `xsd` is listed for exclusive c14n because it is
    /// used only inside attribute values (`xsi:type="xsd:string"`), as OpenSAML does.
    fn firma_asserzione(&self, v: &Valori) -> String {
        let a = self.identita.algoritmo;
        format!(
            "<ds:Signature xmlns:ds=\"{NS_DS}\"><ds:SignedInfo>\
<ds:CanonicalizationMethod Algorithm=\"{NS_EXC_C14N}\"/><ds:SignatureMethod Algorithm=\"{metodo}\"/>\
<ds:Reference URI=\"#{id}\"><ds:Transforms><ds:Transform Algorithm=\"{URI_ENVELOPED}\"/>\
<ds:Transform Algorithm=\"{NS_EXC_C14N}\"><ec:InclusiveNamespaces xmlns:ec=\"{NS_EXC_C14N}\" PrefixList=\"xsd\"/></ds:Transform>\
</ds:Transforms><ds:DigestMethod Algorithm=\"{digest}\"/><ds:DigestValue>{valore}</ds:DigestValue></ds:Reference>\
</ds:SignedInfo><ds:SignatureValue>{firma}</ds:SignatureValue>\
<ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>",
            metodo = a.uri_firma(),
            id = self.id_asserzione,
            digest = a.uri_digest(),
            valore = v.digest_asserzione,
            firma = v.firma_asserzione,
            cert = self.certificato_b64,
        )
    }

    /// Over the Timestamp and the Body only; the key is the BinarySecurityToken's.
    fn firma_messaggio(&self, v: &Valori) -> String {
        let a = self.identita.algoritmo;
        let riferimento = |id: &str, valore: &str| {
            format!(
                "<ds:Reference URI=\"#{id}\"><ds:Transforms><ds:Transform Algorithm=\"{NS_EXC_C14N}\"/></ds:Transforms>\
<ds:DigestMethod Algorithm=\"{}\"/><ds:DigestValue>{valore}</ds:DigestValue></ds:Reference>",
                a.uri_digest()
            )
        };
        format!(
            "<ds:Signature xmlns:ds=\"{NS_DS}\"><ds:SignedInfo>\
<ds:CanonicalizationMethod Algorithm=\"{NS_EXC_C14N}\"/><ds:SignatureMethod Algorithm=\"{metodo}\"/>\
{ts}{body}</ds:SignedInfo><ds:SignatureValue>{firma}</ds:SignatureValue>\
<ds:KeyInfo><wsse:SecurityTokenReference><wsse:Reference URI=\"#{x509}\" ValueType=\"{VALUE_TYPE_X509V3}\"/>\
</wsse:SecurityTokenReference></ds:KeyInfo></ds:Signature>",
            metodo = a.uri_firma(),
            ts = riferimento(&self.id_ts, &v.digest_ts),
            body = riferimento(&self.id_body, &v.digest_body),
            firma = v.firma_messaggio,
            x509 = self.id_x509,
        )
    }
}

/// Signs the template's two signatures with bergshamra (the assertion's first, then the
/// message's; neither covers the other) and returns the values it computed.
///
/// RSA-SHA256 is signed by bergshamra's provider (AWS-LC) with the key in the keys manager.
/// RSA-SHA1, which AWS-LC does not sign, goes through bergshamra's external-signer hook
/// (meant for HSMs): bergshamra still canonicalises and digests, and hands the canonical
/// SignedInfo to [`Credenziali::firmatario_sha1`]. It checks that the signer's algorithm is the
/// template's SignatureMethod, and leaves KeyInfo alone (the template fills it in).
fn firma_modello(
    modello: &str,
    comune: &Credenziali,
    algoritmo: AlgoritmoFirma,
) -> Result<Valori, ErroreSicurezzaWs> {
    // The header is ours: a document that does not parse has a malformed body.
    let mut doc = bergshamra::xml::uppsala::parse(modello)
        .map_err(|e| ErroreSicurezzaWs::Corpo(e.to_string()))?;
    let (sig_asserzione, sig_messaggio) = firme(&doc)
        .ok_or_else(|| ErroreSicurezzaWs::Firma("firme del modello non trovate".into()))?;
    let mut chiavi = bergshamra::KeysManager::new();
    chiavi.add_key(comune.chiave_xml().clone());
    // Ids are found by local name (`Id` matches `wsu:Id`, `ID` the assertion's): no extra
    // id attribute to register. A duplicate id (even one inside the body) is refused.
    let mut ctx = bergshamra::DsigContext::new_permissive(chiavi);
    if algoritmo == AlgoritmoFirma::RsaSha1 {
        ctx = ctx.with_hsm_signer(comune.firmatario_sha1());
    }
    for sig in [sig_asserzione, sig_messaggio] {
        bergshamra::dsig::sign::sign_document_node(&ctx, &mut doc, sig)
            .map_err(|e| ErroreSicurezzaWs::Firma(e.to_string()))?;
    }
    let mancante = || ErroreSicurezzaWs::Firma("valori della firma non trovati".into());
    let (digest_asserzione, firma_asserzione) = valori_firma(&doc, sig_asserzione);
    let (digest_messaggio, firma_messaggio) = valori_firma(&doc, sig_messaggio);
    let [digest_asserzione] = <[String; 1]>::try_from(digest_asserzione).map_err(|_| mancante())?;
    let [digest_ts, digest_body] =
        <[String; 2]>::try_from(digest_messaggio).map_err(|_| mancante())?;
    Ok(Valori {
        digest_asserzione,
        firma_asserzione: firma_asserzione.ok_or_else(mancante)?,
        digest_ts,
        digest_body,
        firma_messaggio: firma_messaggio.ok_or_else(mancante)?,
    })
}

/// The assertion's Signature and the message's (the one directly under `wsse:Security`).
fn firme(doc: &Document<'_>) -> Option<(NodeId, NodeId)> {
    let mut asserzione = None;
    let mut messaggio = None;
    for id in doc.descendants(doc.root()) {
        let Some(e) = doc.element(id) else { continue };
        if !e.matches_name_ns(NS_DS, "Signature") {
            continue;
        }
        let genitore = doc.parent(id).and_then(|p| doc.element(p));
        match genitore {
            Some(g) if g.matches_name_ns(NS_SAML2, "Assertion") => {
                asserzione = asserzione.or(Some(id))
            }
            Some(g) if g.matches_name_ns(NS_WSSE, "Security") => messaggio = messaggio.or(Some(id)),
            _ => {}
        }
    }
    Some((asserzione?, messaggio?))
}

/// The DigestValues (in Reference order) and the SignatureValue of a signed Signature.
fn valori_firma(doc: &Document<'_>, firma: NodeId) -> (Vec<String>, Option<String>) {
    let digest = figlio(doc, firma, "SignedInfo")
        .map(|si| {
            figli(doc, si, "Reference")
                .filter_map(|r| figlio(doc, r, "DigestValue"))
                .map(|d| doc.text_content_deep(d))
                .collect()
        })
        .unwrap_or_default();
    let valore = figlio(doc, firma, "SignatureValue").map(|s| doc.text_content_deep(s));
    (digest, valore)
}

fn figli<'d>(
    doc: &'d Document<'_>,
    id: NodeId,
    nome: &'d str,
) -> impl Iterator<Item = NodeId> + 'd {
    doc.children(id).into_iter().filter(move |c| {
        doc.element(*c)
            .is_some_and(|e| e.matches_name_ns(NS_DS, nome))
    })
}

fn figlio(doc: &Document<'_>, id: NodeId, nome: &str) -> Option<NodeId> {
    figli(doc, id, nome).next()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ws::credenziali::prova;
    use bergshamra::{DsigContext, KeysManager, VerifyResult};

    const CORPO: &str = "<ns2:Richiesta3002 xmlns:ns2='http://sogei.it/ANPR/3000consultazione'>\n  \
<testataRichiesta><idOperazioneComune>900000000000000001</idOperazioneComune>\
<codMittente>058091</codMittente></testataRichiesta>\n  <criteriRicerca>\
<codiceFiscale>RSSMRA80A01H501U</codiceFiscale><vuoto/><x a=\"1\"  b='&amp;'>&lt;è&gt;</x>\
</criteriRicerca>\n</ns2:Richiesta3002>";

    fn identita(algoritmo: AlgoritmoFirma) -> IdentitaWs {
        IdentitaWs {
            comune: prova::co(),
            postazione: prova::pc(),
            operatore_cf: "RSSMRA80A01H501U".into(),
            id_sede: "058091".into(),
            id_postazione: "058091-PC-0001".into(),
            id_applicazione: "Rivesto".into(),
            algoritmo,
        }
    }

    fn adesso() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2025-03-01T10:00:00.123Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn busta(algoritmo: AlgoritmoFirma) -> String {
        imbusta(CORPO, &identita(algoritmo), "192.0.2.10", adesso()).unwrap()
    }

    fn elementi(doc: &Document<'_>, ns: &str, nome: &str) -> Vec<NodeId> {
        doc.descendants(doc.root())
            .into_iter()
            .filter(|id| {
                doc.element(*id)
                    .is_some_and(|e| e.matches_name_ns(ns, nome))
            })
            .collect()
    }

    fn elemento(doc: &Document<'_>, ns: &str, nome: &str) -> NodeId {
        let trovati = elementi(doc, ns, nome);
        assert_eq!(trovati.len(), 1, "{nome}");
        trovati[0]
    }

    fn nomi_figli(doc: &Document<'_>, id: NodeId) -> Vec<String> {
        doc.children(id)
            .into_iter()
            .filter_map(|c| doc.element(c).map(|e| e.name.local_name.to_string()))
            .collect()
    }

    fn attributo(doc: &Document<'_>, id: NodeId, nome: &str) -> String {
        doc.element(id)
            .unwrap()
            .get_attribute(nome)
            .unwrap()
            .to_string()
    }

    /// Verifies both signatures with bergshamra, the key taken from the BinarySecurityToken
    /// (the only one trusted). The assertion in strict mode; the message not, because the
    /// Body is neither an ancestor nor a sibling of the header's Signature (checked by hand).
    fn verifica(testo: &str) -> (VerifyResult, VerifyResult) {
        let doc = bergshamra::xml::uppsala::parse(testo).unwrap();
        let bst = elemento(&doc, NS_WSSE, "BinarySecurityToken");
        let der = base64::engine::general_purpose::STANDARD
            .decode(doc.text_content_deep(bst))
            .unwrap();
        let contesto = |strict: bool| {
            let mut chiavi = KeysManager::new();
            chiavi.add_key(bergshamra::keys::loader::load_x509_cert_der(&der).unwrap());
            DsigContext::new(chiavi).with_strict_verification(strict)
        };
        let rigidi = bergshamra::dsig::verify::verify_all_document(&contesto(true), &doc).unwrap();
        let morbidi =
            bergshamra::dsig::verify::verify_all_document(&contesto(false), &doc).unwrap();
        assert_eq!(rigidi.len(), 2);
        let asserzione = rigidi[0].clone();
        let messaggio = morbidi[1].clone();
        if let VerifyResult::Valid { references, .. } = &asserzione {
            let n: Vec<_> = references
                .iter()
                .map(|r| r.resolved_node.unwrap())
                .collect();
            assert_eq!(n, vec![elemento(&doc, NS_SAML2, "Assertion")]);
        }
        if let VerifyResult::Valid { references, .. } = &messaggio {
            let n: Vec<_> = references
                .iter()
                .map(|r| r.resolved_node.unwrap())
                .collect();
            let attesi = vec![
                elemento(&doc, NS_WSU, "Timestamp"),
                elemento(&doc, NS_SOAP, "Body"),
            ];
            assert_eq!(n, attesi);
        }
        (asserzione, messaggio)
    }

    #[test]
    fn la_busta_verifica_con_entrambi_gli_algoritmi() {
        for algoritmo in [AlgoritmoFirma::RsaSha256, AlgoritmoFirma::RsaSha1] {
            let testo = busta(algoritmo);
            let (asserzione, messaggio) = verifica(&testo);
            assert!(asserzione.is_valid(), "{algoritmo:?} {asserzione:?}");
            assert!(messaggio.is_valid(), "{algoritmo:?} {messaggio:?}");
            let doc = bergshamra::xml::uppsala::parse(&testo).unwrap();
            for m in elementi(&doc, NS_DS, "SignatureMethod") {
                assert_eq!(attributo(&doc, m, "Algorithm"), algoritmo.uri_firma());
            }
            let digest = elementi(&doc, NS_DS, "DigestMethod");
            assert_eq!(digest.len(), 3);
            for d in digest {
                assert_eq!(attributo(&doc, d, "Algorithm"), algoritmo.uri_digest());
            }
        }
    }

    #[test]
    fn un_carattere_cambiato_nel_body_o_nel_timestamp_rompe_la_firma() {
        for algoritmo in [AlgoritmoFirma::RsaSha256, AlgoritmoFirma::RsaSha1] {
            let testo = busta(algoritmo);
            let body = testo.replacen(
                "RSSMRA80A01H501U</codiceFiscale>",
                "RSSMRA80A01H501V</codiceFiscale>",
                1,
            );
            assert_ne!(body, testo);
            let (asserzione, messaggio) = verifica(&body);
            assert!(asserzione.is_valid(), "{algoritmo:?}");
            assert!(!messaggio.is_valid(), "{algoritmo:?} {messaggio:?}");
            let creato = "<wsu:Created>2025-03-01T10:00:00.123Z</wsu:Created>";
            assert!(testo.contains(creato));
            let ts = testo.replacen(
                creato,
                "<wsu:Created>2025-03-01T10:00:01.123Z</wsu:Created>",
                1,
            );
            let (asserzione, messaggio) = verifica(&ts);
            assert!(asserzione.is_valid(), "{algoritmo:?}");
            assert!(!messaggio.is_valid(), "{algoritmo:?} {messaggio:?}");
            // And the assertion's own signature covers the operator.
            let cf = testo.replacen(
                ">RSSMRA80A01H501U</saml2:NameID>",
                ">RSSMRA80A01H501V</saml2:NameID>",
                1,
            );
            assert_ne!(cf, testo);
            let (asserzione, messaggio) = verifica(&cf);
            assert!(!asserzione.is_valid(), "{algoritmo:?} {asserzione:?}");
            assert!(messaggio.is_valid(), "{algoritmo:?}");
        }
    }

    /// An RSA-SHA1 signature made by the external signer verifies with the certificate's key
    /// outside bergshamra too (AWS-LC), over exactly the canonical SignedInfo.
    #[test]
    fn la_firma_rsa_sha1_e_quella_del_signedinfo_canonico() {
        use aws_lc_rs::signature::{
            RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY, UnparsedPublicKey,
        };
        let testo = busta(AlgoritmoFirma::RsaSha1);
        let doc = bergshamra::xml::uppsala::parse(&testo).unwrap();
        let cert = x509_cert::Certificate::from_der(&prova::certificati().co.cert_der).unwrap();
        let spki = cert
            .tbs_certificate
            .subject_public_key_info
            .subject_public_key;
        let chiave = UnparsedPublicKey::new(
            &RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
            spki.raw_bytes(),
        );
        for firma in elementi(&doc, NS_DS, "Signature") {
            let si = figlio(&doc, firma, "SignedInfo").unwrap();
            let insieme = bergshamra::xml::NodeSet::tree_without_comments(si, &doc);
            let canonico = bergshamra::c14n::canonicalize_doc::<&str>(
                &doc,
                bergshamra::c14n::C14nMode::Exclusive,
                Some(&insieme),
                &[],
            )
            .unwrap();
            let valore = doc.text_content_deep(figlio(&doc, firma, "SignatureValue").unwrap());
            let valore = base64::engine::general_purpose::STANDARD
                .decode(valore)
                .unwrap();
            assert_eq!(valore.len(), 256);
            chiave.verify(&canonico, &valore).unwrap();
        }
    }

    #[test]
    fn ordine_degli_elementi_e_corpo_intatto() {
        let testo = busta(AlgoritmoFirma::RsaSha256);
        assert!(testo.starts_with(&format!("<soapenv:Envelope xmlns:soapenv=\"{NS_SOAP}\">")));
        assert!(testo.contains(&format!(">{CORPO}</soapenv:Body></soapenv:Envelope>")));
        let doc = bergshamra::xml::uppsala::parse(&testo).unwrap();
        let busta = doc.document_element().unwrap();
        assert_eq!(nomi_figli(&doc, busta), ["Header", "Body"]);
        let header = elemento(&doc, NS_SOAP, "Header");
        assert_eq!(nomi_figli(&doc, header), ["Security"]);
        let sicurezza = elemento(&doc, NS_WSSE, "Security");
        assert_eq!(
            nomi_figli(&doc, sicurezza),
            ["Timestamp", "BinarySecurityToken", "Assertion", "Signature"]
        );
        let e = doc.element(sicurezza).unwrap();
        assert_eq!(e.get_attribute_ns(NS_SOAP, "mustUnderstand"), Some("1"));
        let asserzione = elemento(&doc, NS_SAML2, "Assertion");
        assert_eq!(
            nomi_figli(&doc, asserzione),
            [
                "Issuer",
                "Signature",
                "Subject",
                "Conditions",
                "AuthnStatement",
                "AttributeStatement"
            ]
        );
    }

    #[test]
    fn timestamp_token_e_riferimenti_come_da_policy() {
        let testo = busta(AlgoritmoFirma::RsaSha256);
        let doc = bergshamra::xml::uppsala::parse(&testo).unwrap();
        let testo_di = |ns, nome| doc.text_content_deep(elemento(&doc, ns, nome));
        assert_eq!(testo_di(NS_WSU, "Created"), "2025-03-01T10:00:00.123Z");
        assert_eq!(testo_di(NS_WSU, "Expires"), "2025-03-01T10:05:00.123Z");
        let ts = elemento(&doc, NS_WSU, "Timestamp");
        let id_ts = doc
            .element(ts)
            .unwrap()
            .get_attribute_ns(NS_WSU, "Id")
            .unwrap();
        assert!(id_ts.starts_with("TS-"), "{id_ts}");
        let bst = elemento(&doc, NS_WSSE, "BinarySecurityToken");
        let e = doc.element(bst).unwrap();
        assert_eq!(e.get_attribute("EncodingType"), Some(ENCODING_BASE64));
        assert_eq!(e.get_attribute("ValueType"), Some(VALUE_TYPE_X509V3));
        let id_x509 = e.get_attribute_ns(NS_WSU, "Id").unwrap();
        assert!(id_x509.starts_with("X509-"));
        let der = base64::engine::general_purpose::STANDARD
            .decode(doc.text_content_deep(bst))
            .unwrap();
        assert_eq!(der, prova::certificati().co.cert_der);
        let body = elemento(&doc, NS_SOAP, "Body");
        let id_body = doc
            .element(body)
            .unwrap()
            .get_attribute_ns(NS_WSU, "Id")
            .unwrap();
        assert!(id_body.starts_with("id-"));
        let asserzione = elemento(&doc, NS_SAML2, "Assertion");
        let id_asserzione = attributo(&doc, asserzione, "ID");
        assert!(id_asserzione.starts_with('_'));

        // Assertion signature: one reference to the assertion, enveloped then exc-c14n.
        let firme = elementi(&doc, NS_DS, "Signature");
        assert_eq!(firme.len(), 2);
        let trasformazioni = |rif: NodeId| -> Vec<String> {
            let t = figlio(&doc, rif, "Transforms").unwrap();
            figli(&doc, t, "Transform")
                .map(|x| attributo(&doc, x, "Algorithm"))
                .collect()
        };
        let riferimenti = |firma: NodeId| -> Vec<NodeId> {
            figli(
                &doc,
                figlio(&doc, firma, "SignedInfo").unwrap(),
                "Reference",
            )
            .collect()
        };
        let ra = riferimenti(firme[0]);
        assert_eq!(ra.len(), 1);
        assert_eq!(attributo(&doc, ra[0], "URI"), format!("#{id_asserzione}"));
        assert_eq!(trasformazioni(ra[0]), [URI_ENVELOPED, NS_EXC_C14N]);
        let x509 = elemento(&doc, NS_DS, "X509Certificate");
        assert_eq!(doc.text_content_deep(x509), doc.text_content_deep(bst));

        // Message signature: Timestamp and Body, one exc-c14n transform each, key by reference.
        let rm = riferimenti(firme[1]);
        let uri: Vec<_> = rm.iter().map(|r| attributo(&doc, *r, "URI")).collect();
        assert_eq!(uri, [format!("#{id_ts}"), format!("#{id_body}")]);
        for r in rm {
            assert_eq!(trasformazioni(r), [NS_EXC_C14N]);
        }
        let si = figlio(&doc, firme[1], "SignedInfo").unwrap();
        let c14n = figlio(&doc, si, "CanonicalizationMethod").unwrap();
        assert_eq!(attributo(&doc, c14n, "Algorithm"), NS_EXC_C14N);
        let rif = elemento(&doc, NS_WSSE, "Reference");
        assert_eq!(attributo(&doc, rif, "URI"), format!("#{id_x509}"));
        assert_eq!(attributo(&doc, rif, "ValueType"), VALUE_TYPE_X509V3);
        let str_ = elemento(&doc, NS_WSSE, "SecurityTokenReference");
        let ki = doc.parent(str_).unwrap();
        assert_eq!(doc.parent(ki), Some(firme[1]));
    }

    #[test]
    fn contenuto_dell_asserzione() {
        let testo = imbusta(
            CORPO,
            &identita(AlgoritmoFirma::RsaSha256),
            "2001:db8::7",
            adesso(),
        )
        .unwrap();
        let doc = bergshamra::xml::uppsala::parse(&testo).unwrap();
        let asserzione = elemento(&doc, NS_SAML2, "Assertion");
        assert_eq!(attributo(&doc, asserzione, "Version"), "2.0");
        assert_eq!(
            attributo(&doc, asserzione, "IssueInstant"),
            "2025-03-01T10:00:00.123Z"
        );
        assert_eq!(
            doc.text_content_deep(elemento(&doc, NS_SAML2, "Issuer")),
            "XS"
        );
        let nameid = elemento(&doc, NS_SAML2, "NameID");
        assert_eq!(doc.text_content_deep(nameid), "RSSMRA80A01H501U");
        assert_eq!(attributo(&doc, nameid, "Format"), NAMEID_UNSPECIFIED);
        let conferma = elemento(&doc, NS_SAML2, "SubjectConfirmation");
        assert_eq!(attributo(&doc, conferma, "Method"), CM_BEARER);
        for nome in ["SubjectConfirmationData", "Conditions"] {
            let e = elemento(&doc, NS_SAML2, nome);
            assert_eq!(attributo(&doc, e, "NotBefore"), "2025-03-01T10:00:00.123Z");
            assert_eq!(
                attributo(&doc, e, "NotOnOrAfter"),
                "2025-03-01T10:05:00.123Z"
            );
        }
        let authn = elemento(&doc, NS_SAML2, "AuthnStatement");
        assert_eq!(
            attributo(&doc, authn, "AuthnInstant"),
            "2025-03-01T10:00:00.123Z"
        );
        assert_eq!(
            attributo(&doc, authn, "SessionNotOnOrAfter"),
            "2025-03-01T10:05:00.123Z"
        );
        let luogo = elemento(&doc, NS_SAML2, "SubjectLocality");
        assert_eq!(attributo(&doc, luogo, "Address"), "2001:db8::7");
        let classe = elemento(&doc, NS_SAML2, "AuthnContextClassRef");
        assert_eq!(doc.text_content_deep(classe), AC_UNSPECIFIED);
        let firmato = id_postazione_firmato(&prova::pc(), "058091-PC-0001").unwrap();
        let attesi = [
            ("IdSede", "058091"),
            ("IdPostazione", "058091-PC-0001"),
            ("IdPostazioneFirmato", firmato.as_str()),
            ("IdApplicazione", "Rivesto"),
        ];
        let attributi = elementi(&doc, NS_SAML2, "Attribute");
        assert_eq!(attributi.len(), 4);
        for (a, (nome, valore)) in attributi.into_iter().zip(attesi) {
            assert_eq!(attributo(&doc, a, "Name"), nome);
            assert_eq!(attributo(&doc, a, "NameFormat"), ATTRNAME_UNSPECIFIED);
            let v = doc.children(a)[0];
            assert_eq!(doc.text_content_deep(v), valore);
            let tipo = doc.element(v).unwrap().get_attribute_ns(NS_XSI, "type");
            assert_eq!(tipo, Some("xsd:string"));
        }
    }

    #[test]
    fn valori_con_caratteri_speciali_sono_escapati_e_firmati() {
        let mut i = identita(AlgoritmoFirma::RsaSha256);
        i.id_applicazione = "A&B <\"x\">".into();
        let testo = imbusta(CORPO, &i, "10.0.0.1", adesso()).unwrap();
        let (asserzione, messaggio) = verifica(&testo);
        assert!(asserzione.is_valid() && messaggio.is_valid());
        let doc = bergshamra::xml::uppsala::parse(&testo).unwrap();
        let ultimo = *elementi(&doc, NS_SAML2, "AttributeValue").last().unwrap();
        assert_eq!(doc.text_content_deep(ultimo), "A&B <\"x\">");
    }

    #[test]
    fn ogni_busta_ha_id_nuovi() {
        let a = busta(AlgoritmoFirma::RsaSha256);
        let b = busta(AlgoritmoFirma::RsaSha256);
        let id = |t: &str, prefisso: &str| {
            let i = t.find(prefisso).unwrap();
            t[i..i + prefisso.len() + 36].to_string()
        };
        for p in ["\"TS-", "\"X509-", "\"id-", "ID=\"_"] {
            assert_ne!(id(&a, p), id(&b, p), "{p}");
        }
    }

    #[test]
    fn errori_spiegati() {
        let mut i = identita(AlgoritmoFirma::RsaSha256);
        i.operatore_cf = "  ".into();
        let e = imbusta(CORPO, &i, "10.0.0.1", adesso()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "codice fiscale dell'operatore (NameID) vuoto: l'asserzione SAML lo richiede"
        );
        let i = identita(AlgoritmoFirma::RsaSha256);
        let e = imbusta(CORPO, &i, "", adesso()).unwrap_err();
        assert!(matches!(e, ErroreSicurezzaWs::CampoVuoto { .. }), "{e}");
        // rcgen's certificates end on 4096-01-01.
        let dopo = DateTime::parse_from_rfc3339("4096-01-02T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let e = imbusta(CORPO, &i, "10.0.0.1", dopo).unwrap_err();
        assert_eq!(
            e.to_string(),
            "certificato del Comune 058091-CO-0001 scaduto il 4096-01-01 00:00:00 UTC: ANPR rifiuterebbe la chiamata"
        );
        let e = imbusta("<a><b></a>", &i, "10.0.0.1", adesso()).unwrap_err();
        assert!(matches!(e, ErroreSicurezzaWs::Corpo(_)), "{e}");
        let e = imbusta("<ns9:X/>", &i, "10.0.0.1", adesso()).unwrap_err();
        assert!(matches!(e, ErroreSicurezzaWs::Corpo(_)), "{e}");
    }

    #[test]
    fn debug_dell_identita_non_mostra_chiavi() {
        let testo = format!("{:?}", identita(AlgoritmoFirma::RsaSha256));
        assert!(testo.contains("<redatta>"));
        let chiave = &prova::certificati().co.key_pem;
        let riga = chiave.lines().nth(1).unwrap();
        assert!(!testo.contains(riga));
        assert!(!testo.contains("PRIVATE"));
    }

    /// Why RSA-SHA1 has its own signer: bergshamra's provider (AWS-LC) refuses to sign with it.
    /// If this starts failing, the provider signs RSA-SHA1 itself and the `rsa` crate (with its
    /// advisory) can go.
    #[test]
    fn il_fornitore_di_bergshamra_non_firma_rsa_sha1() {
        assert_eq!(
            bergshamra::backend_info().unwrap().document,
            bergshamra::BackendId::AwsLc
        );
        let chiave = prova::co().chiave_xml().to_signing_key().unwrap().unwrap();
        let firma = bergshamra::crypto::sign::from_uri(AlgoritmoFirma::RsaSha1.uri_firma())
            .and_then(|a| a.sign(&chiave, b"dati"));
        assert!(firma.is_err(), "AWS-LC ora firma RSA-SHA1: {firma:?}");
        let firma = bergshamra::crypto::sign::from_uri(AlgoritmoFirma::RsaSha256.uri_firma())
            .and_then(|a| a.sign(&chiave, b"dati"));
        assert_eq!(firma.unwrap().len(), 256);
    }

    #[test]
    fn algoritmo_firma_nomi_e_uri() {
        assert_eq!(AlgoritmoFirma::default(), AlgoritmoFirma::RsaSha256);
        for a in [AlgoritmoFirma::RsaSha256, AlgoritmoFirma::RsaSha1] {
            assert_eq!(AlgoritmoFirma::parse(a.as_str()), Some(a));
        }
        assert_eq!(AlgoritmoFirma::parse("RSA-SHA256"), None);
        assert_eq!(AlgoritmoFirma::parse("rsa-sha512"), None);
        assert_eq!(
            AlgoritmoFirma::RsaSha256.uri_firma(),
            "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
        );
        assert_eq!(
            AlgoritmoFirma::RsaSha1.uri_firma(),
            "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
        );
        assert_eq!(
            AlgoritmoFirma::RsaSha256.uri_digest(),
            "http://www.w3.org/2001/04/xmlenc#sha256"
        );
        assert_eq!(
            AlgoritmoFirma::RsaSha1.uri_digest(),
            "http://www.w3.org/2000/09/xmldsig#sha1"
        );
    }

    // ---- IdPostazioneFirmato

    fn leggi_cms(b64: &str) -> SignedData {
        let der = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        let info = ContentInfo::from_der(&der).unwrap();
        assert_eq!(info.content_type, OID_SIGNED_DATA);
        info.content.decode_as::<SignedData>().unwrap()
    }

    fn valore_attributo(si: &SignerInfo, oid: ObjectIdentifier) -> Any {
        let attributi = si.signed_attrs.as_ref().unwrap();
        let a = attributi.iter().find(|a| a.oid == oid).unwrap();
        assert_eq!(a.values.len(), 1);
        a.values.get(0).unwrap().clone()
    }

    #[test]
    fn id_postazione_firmato_e_una_signed_data_verificabile() {
        use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};
        let sd = leggi_cms(&id_postazione_firmato(&prova::pc(), "058091-PC-0001").unwrap());
        assert_eq!(sd.version, CmsVersion::V1);
        let algs: Vec<_> = sd.digest_algorithms.iter().map(|a| a.oid).collect();
        assert_eq!(algs, [OID_SHA256]);
        // Attached content: the id itself.
        assert_eq!(sd.encap_content_info.econtent_type, OID_DATA);
        let contenuto = sd.encap_content_info.econtent.as_ref().unwrap();
        let contenuto = contenuto.decode_as::<OctetString>().unwrap();
        assert_eq!(contenuto.as_bytes(), b"058091-PC-0001");
        // The signer's certificate is embedded and named by issuer and serial.
        let certs: Vec<_> = sd
            .certificates
            .as_ref()
            .unwrap()
            .0
            .iter()
            .cloned()
            .collect();
        assert_eq!(certs.len(), 1);
        let CertificateChoices::Certificate(cert) = &certs[0] else {
            panic!("certificato atteso");
        };
        assert_eq!(cert.to_der().unwrap(), prova::certificati().pc.cert_der);
        let si = sd.signer_infos.0.get(0).unwrap();
        assert_eq!(sd.signer_infos.0.len(), 1);
        let SignerIdentifier::IssuerAndSerialNumber(ias) = &si.sid else {
            panic!("issuerAndSerialNumber atteso");
        };
        assert_eq!(ias.issuer, cert.tbs_certificate.issuer);
        assert_eq!(ias.serial_number, cert.tbs_certificate.serial_number);
        assert_eq!(si.digest_alg.oid, OID_SHA256);
        assert_eq!(si.signature_algorithm.oid, OID_SHA256_RSA);
        // Signed attributes: content type and the content's SHA-256.
        let tipo = valore_attributo(si, OID_CONTENT_TYPE);
        assert_eq!(tipo.decode_as::<ObjectIdentifier>().unwrap(), OID_DATA);
        let impronta = valore_attributo(si, OID_MESSAGE_DIGEST);
        let atteso = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, b"058091-PC-0001");
        assert_eq!(
            impronta.decode_as::<OctetString>().unwrap().as_bytes(),
            atteso.as_ref()
        );
        // The signature verifies with the embedded certificate's key, over the attributes' SET.
        let pubblica = cert
            .tbs_certificate
            .subject_public_key_info
            .subject_public_key
            .raw_bytes();
        let firmati = si.signed_attrs.as_ref().unwrap().to_der().unwrap();
        assert_eq!(firmati[0], 0x31);
        let chiave = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, pubblica);
        chiave.verify(&firmati, si.signature.as_bytes()).unwrap();
        // Not with the Comune's key.
        let co = x509_cert::Certificate::from_der(&prova::certificati().co.cert_der).unwrap();
        let altra = co
            .tbs_certificate
            .subject_public_key_info
            .subject_public_key;
        let altra = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, altra.raw_bytes());
        assert!(altra.verify(&firmati, si.signature.as_bytes()).is_err());
    }

    #[test]
    fn id_postazione_firmato_dipende_dall_id() {
        let pc = prova::pc();
        let a = id_postazione_firmato(&pc, "058091-PC-0001").unwrap();
        assert_eq!(a, id_postazione_firmato(&pc, "058091-PC-0001").unwrap());
        let b = leggi_cms(&id_postazione_firmato(&pc, "058091-PC-0002").unwrap());
        let c = b
            .encap_content_info
            .econtent
            .unwrap()
            .decode_as::<OctetString>()
            .unwrap();
        assert_eq!(c.as_bytes(), b"058091-PC-0002");
        assert_ne!(a, id_postazione_firmato(&pc, "058091-PC-0002").unwrap());
    }
}
