//! ANPR's security gate on the Comune channel (NOTES-ws-comuni §7, §10.3), checked in the
//! issue's order. A missing `wsse:Security` or message signature is an "Internal Error"
//! fault, as ANPR answers (#2572); every other failure is "Rejected by policy. (from
//! client)". The fault text never says which check failed: the reason goes to the request
//! log only.

use super::ComuneRegistrato;
use super::cms;
use super::xml::{NS_DS, NS_SAML2, NS_SOAP, NS_WSSE, NS_WSU, e, figli, figli_nominati, testo};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bergshamra::core::algorithm::{
    ENVELOPED_SIGNATURE, EXC_C14N, RSA_SHA1, RSA_SHA256, SHA1, SHA256,
};
use bergshamra::xml::uppsala::{Document, NodeId};
use bergshamra::{DsigContext, KeysManager, VerifyResult};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::net::IpAddr;

const X509V3: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3";

/// The two SOAP faults ANPR gives on this channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guasto {
    /// `Internal Error`: no WS-Security header, or no signature in it.
    ErroreInterno,
    /// `Rejected by policy. (from client)`: everything else.
    RifiutatoDallaPolitica,
}

impl Guasto {
    pub fn testo(self) -> &'static str {
        match self {
            Self::ErroreInterno => "Internal Error",
            Self::RifiutatoDallaPolitica => "Rejected by policy. (from client)",
        }
    }
}

/// A refused message: the fault to answer and the check that failed (for the log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rifiuto {
    pub guasto: Guasto,
    pub motivo: String,
    /// The Comune the message claimed to come from, when the gate got that far.
    pub istat: Option<String>,
}

fn interno(motivo: impl Into<String>) -> Rifiuto {
    Rifiuto {
        guasto: Guasto::ErroreInterno,
        motivo: motivo.into(),
        istat: None,
    }
}

fn politica(motivo: impl Into<String>) -> Rifiuto {
    Rifiuto {
        guasto: Guasto::RifiutatoDallaPolitica,
        motivo: motivo.into(),
        istat: None,
    }
}

/// A message that passed the gate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Autenticato {
    pub istat: String,
    pub operatore: String,
    /// The Body's only child (`Richiesta3002`, `RichiestaConnessione`), the signed one.
    pub carico: NodeId,
}

/// What the gate needs besides the message.
pub struct Contesto<'c> {
    pub comuni: &'c HashMap<String, ComuneRegistrato>,
    pub finestra_s: i64,
    pub adesso: DateTime<Utc>,
    pub ip: IpAddr,
}

struct Busta {
    body: NodeId,
    carico: NodeId,
    security: NodeId,
    firma: NodeId,
}

/// Runs every check on a parsed envelope (`sorgente` is its text, for the digests).
pub fn controlla(
    doc: &Document<'_>,
    sorgente: &str,
    c: &Contesto<'_>,
) -> Result<Autenticato, Rifiuto> {
    let b = busta(doc)?;
    let cert = firma_del_messaggio(doc, sorgente, &b)
        .map_err(|m| politica(format!("firma del messaggio: {m}")))?;
    let istat = super::xml::figli_nominati(doc, b.carico, None, "testataRichiesta")
        .first()
        .and_then(|t| super::xml::testo_figlio(doc, *t, "codMittente"))
        .map(|s| s.trim().to_owned())
        .ok_or_else(|| politica("codMittente assente: Comune non individuabile"))?;
    let con_istat = |mut r: Rifiuto| {
        r.istat = Some(istat.clone());
        r
    };
    let comune = c.comuni.get(&istat).ok_or_else(|| {
        con_istat(politica(format!(
            "il Comune {istat} non è registrato sul canale"
        )))
    })?;
    if !comune.certificati.contains(&cert) {
        return Err(con_istat(politica(format!(
            "il certificato del messaggio non è tra quelli del Comune {istat}"
        ))));
    }
    timestamp(doc, b.security, c).map_err(|m| con_istat(politica(format!("Timestamp: {m}"))))?;
    let a = asserzione(doc, sorgente, b.security, comune, c)
        .map_err(|m| con_istat(politica(format!("asserzione SAML: {m}"))))?;
    if a.id_sede != istat {
        return Err(con_istat(politica(format!(
            "IdSede {} diverso da codMittente {istat}",
            a.id_sede
        ))));
    }
    postazione(&a, comune).map_err(|m| con_istat(politica(format!("IdPostazioneFirmato: {m}"))))?;
    if let Some(ammessi) = &comune.indirizzi
        && !ammessi
            .iter()
            .any(|i| i.to_canonical() == c.ip.to_canonical())
    {
        return Err(con_istat(politica(format!(
            "indirizzo di origine {} non registrato dal Comune",
            c.ip
        ))));
    }
    Ok(Autenticato {
        istat,
        operatore: a.operatore,
        carico: b.carico,
    })
}

/// `soapenv:Envelope` with an optional Header and one Body; the Header's one `wsse:Security`
/// and the signature directly inside it.
fn busta(doc: &Document<'_>) -> Result<Busta, Rifiuto> {
    let radice = doc
        .document_element()
        .filter(|r| e(doc, *r, Some(NS_SOAP), "Envelope"))
        .ok_or_else(|| interno("il messaggio non è una busta SOAP 1.1"))?;
    let figli_ = figli(doc, radice).map_err(interno)?;
    let (header, body) = match figli_.as_slice() {
        [h, b] if e(doc, *h, Some(NS_SOAP), "Header") && e(doc, *b, Some(NS_SOAP), "Body") => {
            (Some(*h), *b)
        }
        [b] if e(doc, *b, Some(NS_SOAP), "Body") => (None, *b),
        _ => return Err(interno("busta SOAP con elementi mancanti o inattesi")),
    };
    let header = header.ok_or_else(|| interno("wsse:Security assente (nessun Header)"))?;
    let security = match figli_nominati(doc, header, Some(NS_WSSE), "Security").as_slice() {
        [] => return Err(interno("wsse:Security assente")),
        [s] => *s,
        _ => return Err(politica("più di un wsse:Security")),
    };
    let firma = match figli_nominati(doc, security, Some(NS_DS), "Signature").as_slice() {
        [] => return Err(interno("ds:Signature del messaggio assente")),
        [f] => *f,
        _ => return Err(politica("più di una ds:Signature nel wsse:Security")),
    };
    let carico = match figli(doc, body).map_err(politica)?.as_slice() {
        [c] => *c,
        _ => return Err(politica("il Body non contiene un solo elemento")),
    };
    Ok(Busta {
        body,
        carico,
        security,
        firma,
    })
}

/// One `ds:Reference` as signed.
struct Riferimento {
    uri: String,
    trasformazioni: Vec<String>,
}

fn algoritmo(doc: &Document<'_>, id: NodeId) -> String {
    doc.get_attribute(id, "Algorithm")
        .unwrap_or_default()
        .to_owned()
}

/// SignedInfo: exclusive c14n, RSA-SHA256 or RSA-SHA1, References with SHA-256 or SHA-1
/// digests; nothing else.
fn signed_info(doc: &Document<'_>, firma: NodeId) -> Result<Vec<Riferimento>, String> {
    let si = figli(doc, firma)?
        .into_iter()
        .next()
        .filter(|n| e(doc, *n, Some(NS_DS), "SignedInfo"))
        .ok_or("SignedInfo assente")?;
    let figli_ = figli(doc, si)?;
    let [c14n, metodo, riferimenti @ ..] = figli_.as_slice() else {
        return Err("SignedInfo incompleto".into());
    };
    if !e(doc, *c14n, Some(NS_DS), "CanonicalizationMethod") || algoritmo(doc, *c14n) != EXC_C14N {
        return Err("canonicalizzazione diversa da exclusive c14n".into());
    }
    if !e(doc, *metodo, Some(NS_DS), "SignatureMethod")
        || ![RSA_SHA256, RSA_SHA1].contains(&algoritmo(doc, *metodo).as_str())
    {
        return Err(format!(
            "algoritmo di firma {} non ammesso",
            algoritmo(doc, *metodo)
        ));
    }
    let mut v = Vec::new();
    for r in riferimenti {
        if !e(doc, *r, Some(NS_DS), "Reference") {
            return Err("elemento inatteso in SignedInfo".into());
        }
        let mut trasformazioni = Vec::new();
        let mut digest = None;
        for f in figli(doc, *r)? {
            if e(doc, f, Some(NS_DS), "Transforms") {
                for t in figli(doc, f)? {
                    trasformazioni.push(algoritmo(doc, t));
                }
            } else if e(doc, f, Some(NS_DS), "DigestMethod") {
                digest = Some(algoritmo(doc, f));
            }
        }
        if !digest.as_deref().is_some_and(|d| d == SHA256 || d == SHA1) {
            return Err("digest diverso da SHA-256 o SHA-1".into());
        }
        v.push(Riferimento {
            uri: doc.get_attribute(*r, "URI").unwrap_or_default().to_owned(),
            trasformazioni,
        });
    }
    Ok(v)
}

fn wsu_id(doc: &Document<'_>, id: NodeId) -> Option<String> {
    doc.get_attribute_ns(id, NS_WSU, "Id").map(str::to_owned)
}

fn unico(doc: &Document<'_>, padre: NodeId, ns: &str, nome: &str) -> Result<NodeId, String> {
    match figli_nominati(doc, padre, Some(ns), nome).as_slice() {
        [n] => Ok(*n),
        [] => Err(format!("{nome} assente")),
        _ => Err(format!("più di un {nome}")),
    }
}

/// The message signature: exactly the Timestamp and the Body, by their `wsu:Id`, each with
/// exclusive c14n as the only transform, verified with the BinarySecurityToken's key.
/// Returns that certificate (DER).
fn firma_del_messaggio(doc: &Document<'_>, sorgente: &str, b: &Busta) -> Result<Vec<u8>, String> {
    let riferimenti = signed_info(doc, b.firma)?;
    let ts = unico(doc, b.security, NS_WSU, "Timestamp")?;
    let id_ts = wsu_id(doc, ts).ok_or("Timestamp senza wsu:Id")?;
    let id_body = wsu_id(doc, b.body).ok_or("Body senza wsu:Id")?;
    let mut uri: Vec<&str> = riferimenti.iter().map(|r| r.uri.as_str()).collect();
    uri.sort_unstable();
    let mut attesi = [format!("#{id_ts}"), format!("#{id_body}")];
    attesi.sort_unstable();
    if uri != attesi {
        return Err("i riferimenti firmati non sono esattamente Timestamp e Body".into());
    }
    if riferimenti.iter().any(|r| r.trasformazioni != [EXC_C14N]) {
        return Err("ogni riferimento deve avere la sola trasformazione exclusive c14n".into());
    }
    let cert = token_della_firma(doc, b)?;
    let chiave = bergshamra::keys::loader::load_x509_cert_der(&cert)
        .map_err(|e| format!("BinarySecurityToken non è un certificato X.509: {e}"))?;
    let mut chiavi = KeysManager::new();
    chiavi.add_key(chiave);
    let firmati = verifica_firma(doc, sorgente, b.firma, chiavi)?;
    let mut attesi = vec![ts, b.body];
    attesi.sort_unstable_by_key(|n| n.index());
    if firmati != attesi {
        return Err("gli elementi firmati non sono il Timestamp e il Body letti".into());
    }
    Ok(cert)
}

/// KeyInfo → SecurityTokenReference → Reference → the X.509 BinarySecurityToken in the same
/// Security header.
fn token_della_firma(doc: &Document<'_>, b: &Busta) -> Result<Vec<u8>, String> {
    let ki = unico(doc, b.firma, NS_DS, "KeyInfo")?;
    let str_ = unico(doc, ki, NS_WSSE, "SecurityTokenReference")?;
    let rif = unico(doc, str_, NS_WSSE, "Reference")?;
    let id = doc
        .get_attribute(rif, "URI")
        .and_then(|u| u.strip_prefix('#'))
        .ok_or("KeyInfo senza riferimento locale al BinarySecurityToken")?;
    let bst = figli_nominati(doc, b.security, Some(NS_WSSE), "BinarySecurityToken")
        .into_iter()
        .find(|t| wsu_id(doc, *t).as_deref() == Some(id))
        .ok_or("BinarySecurityToken indicato dal KeyInfo assente")?;
    if doc.get_attribute(bst, "ValueType") != Some(X509V3) {
        return Err("BinarySecurityToken non X509v3".into());
    }
    let b64: String = testo(doc, bst)?
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    STANDARD
        .decode(b64)
        .map_err(|_| "BinarySecurityToken non in base64".to_owned())
}

/// Verifies `firma` with only `chiavi` trusted, and returns the nodes its References resolved
/// to (sorted). Duplicate ids anywhere in the document fail here (bergshamra refuses them).
fn verifica_firma(
    doc: &Document<'_>,
    sorgente: &str,
    firma: NodeId,
    chiavi: KeysManager,
) -> Result<Vec<NodeId>, String> {
    let mut ctx = DsigContext::new(chiavi);
    // The Body is neither a sibling nor an ancestor of the signature: the position checks
    // are done here instead, on the resolved nodes.
    ctx.strict_verification = false;
    let firme: Vec<NodeId> = doc
        .descendants(doc.root())
        .into_iter()
        .filter(|n| e(doc, *n, Some(NS_DS), "Signature"))
        .collect();
    let k = firme
        .iter()
        .position(|f| *f == firma)
        .ok_or("firma non trovata")?;
    let esiti =
        bergshamra::dsig::verify::verify_all_document_with_source(&ctx, doc, Some(sorgente))
            .map_err(|e| format!("verifica non eseguibile: {e}"))?;
    match esiti.get(k) {
        Some(VerifyResult::Valid {
            signature_node,
            references,
            ..
        }) if *signature_node == firma => {
            if references.iter().any(|r| !r.digest_verified) {
                return Err("riferimento non verificato".into());
            }
            let mut nodi: Vec<NodeId> = references
                .iter()
                .map(|r| r.resolved_node.ok_or("riferimento non risolto"))
                .collect::<Result<_, _>>()?;
            nodi.sort_unstable_by_key(|n| n.index());
            Ok(nodi)
        }
        Some(VerifyResult::Invalid { reason }) => Err(format!("firma non valida: {reason}")),
        _ => Err("esito della verifica non corrispondente alla firma".into()),
    }
}

fn istante(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| format!("istante '{s}' non valido"))
}

/// `wsu:Created` not older than the window nor later than it, `wsu:Expires` not past.
fn timestamp(doc: &Document<'_>, security: NodeId, c: &Contesto<'_>) -> Result<(), String> {
    let ts = unico(doc, security, NS_WSU, "Timestamp")?;
    let creato = istante(&testo(doc, unico(doc, ts, NS_WSU, "Created")?)?)?;
    let scade = istante(&testo(doc, unico(doc, ts, NS_WSU, "Expires")?)?)?;
    let finestra = chrono::Duration::seconds(c.finestra_s);
    if creato > c.adesso + finestra {
        return Err(format!("Created {creato} nel futuro"));
    }
    if creato < c.adesso - finestra {
        return Err(format!("Created {creato} troppo vecchio"));
    }
    if scade <= c.adesso {
        return Err(format!("scaduto alle {scade}"));
    }
    Ok(())
}

/// What the SAML assertion claims, once its signature and times were checked.
struct Asserzione {
    operatore: String,
    id_sede: String,
    id_postazione: String,
    id_postazione_firmato: String,
}

fn asserzione(
    doc: &Document<'_>,
    sorgente: &str,
    security: NodeId,
    comune: &ComuneRegistrato,
    c: &Contesto<'_>,
) -> Result<Asserzione, String> {
    let a = unico(doc, security, NS_SAML2, "Assertion")?;
    let emittente = testo(doc, unico(doc, a, NS_SAML2, "Issuer")?)?;
    if emittente.trim() != "XS" {
        return Err(format!("Issuer '{}' invece di XS", emittente.trim()));
    }
    firma_dell_asserzione(doc, sorgente, a, comune)?;
    let soggetto = unico(doc, a, NS_SAML2, "Subject")?;
    let operatore = testo(doc, unico(doc, soggetto, NS_SAML2, "NameID")?)?
        .trim()
        .to_ascii_uppercase();
    if !comune.operatori.contains(&operatore) {
        return Err(format!("operatore {operatore} non abilitato"));
    }
    let conferma = unico(doc, soggetto, NS_SAML2, "SubjectConfirmation")?;
    if let Ok(dati) = unico(doc, conferma, NS_SAML2, "SubjectConfirmationData") {
        finestra_saml(doc, dati, c).map_err(|m| format!("SubjectConfirmationData: {m}"))?;
    }
    let condizioni = unico(doc, a, NS_SAML2, "Conditions")?;
    finestra_saml(doc, condizioni, c).map_err(|m| format!("Conditions: {m}"))?;
    let attributi = attributi(doc, a)?;
    let prendi = |nome: &str| {
        attributi
            .get(nome)
            .cloned()
            .ok_or_else(|| format!("attributo {nome} assente"))
    };
    Ok(Asserzione {
        operatore,
        id_sede: prendi("IdSede")?,
        id_postazione: prendi("IdPostazione")?,
        id_postazione_firmato: prendi("IdPostazioneFirmato")?,
    })
}

/// The enveloped signature of the assertion, by a certificate registered for the Comune.
fn firma_dell_asserzione(
    doc: &Document<'_>,
    sorgente: &str,
    a: NodeId,
    comune: &ComuneRegistrato,
) -> Result<(), String> {
    let firma = unico(doc, a, NS_DS, "Signature")?;
    let id = doc.get_attribute(a, "ID").ok_or("Assertion senza ID")?;
    match signed_info(doc, firma)?.as_slice() {
        [r] if r.uri == format!("#{id}") => {
            if r.trasformazioni != [ENVELOPED_SIGNATURE, EXC_C14N] {
                return Err(
                    "trasformazioni diverse da enveloped-signature + exclusive c14n".into(),
                );
            }
        }
        _ => return Err("la firma non riferisce la sola Assertion".into()),
    }
    let mut chiavi = KeysManager::new();
    for der_ in &comune.certificati {
        let k = bergshamra::keys::loader::load_x509_cert_der(der_)
            .map_err(|e| format!("certificato registrato non leggibile: {e}"))?;
        chiavi.add_key(k);
    }
    let firmati = verifica_firma(doc, sorgente, firma, chiavi)
        .map_err(|m| format!("firma dell'asserzione: {m}"))?;
    if firmati != [a] {
        return Err("la firma non copre l'Assertion letta".into());
    }
    Ok(())
}

/// `NotBefore` (with the window's tolerance) and `NotOnOrAfter`, when present.
fn finestra_saml(doc: &Document<'_>, id: NodeId, c: &Contesto<'_>) -> Result<(), String> {
    let finestra = chrono::Duration::seconds(c.finestra_s);
    if let Some(nb) = doc.get_attribute(id, "NotBefore") {
        let nb = istante(nb)?;
        if nb > c.adesso + finestra {
            return Err(format!("NotBefore {nb} nel futuro"));
        }
    }
    if let Some(na) = doc.get_attribute(id, "NotOnOrAfter") {
        let na = istante(na)?;
        if na <= c.adesso {
            return Err(format!("NotOnOrAfter {na} passato"));
        }
    }
    Ok(())
}

/// AttributeStatement: Name → the first AttributeValue's text.
fn attributi(doc: &Document<'_>, a: NodeId) -> Result<HashMap<String, String>, String> {
    let st = unico(doc, a, NS_SAML2, "AttributeStatement")?;
    let mut m = HashMap::new();
    for at in figli_nominati(doc, st, Some(NS_SAML2), "Attribute") {
        let nome = doc.get_attribute(at, "Name").unwrap_or_default().to_owned();
        let valore = match figli_nominati(doc, at, Some(NS_SAML2), "AttributeValue").first() {
            Some(v) => testo(doc, *v)?.trim().to_owned(),
            None => String::new(),
        };
        if m.insert(nome.clone(), valore).is_some() {
            return Err(format!("attributo {nome} ripetuto"));
        }
    }
    Ok(m)
}

/// `IdPostazioneFirmato` verifies, its content is `IdPostazione`, and its signer is one of the
/// Comune's registered workstations with CN = `IdPostazione`.
fn postazione(a: &Asserzione, comune: &ComuneRegistrato) -> Result<(), String> {
    let f = cms::verifica(&a.id_postazione_firmato)?;
    if f.contenuto != a.id_postazione.as_bytes() {
        return Err(format!(
            "il contenuto firmato non è l'IdPostazione {}",
            a.id_postazione
        ));
    }
    if !comune.postazioni.contains(&f.certificato) {
        return Err("firmato da una postazione non registrata dal Comune".into());
    }
    if cms::cn(&f.certificato).as_deref() != Some(a.id_postazione.as_str()) {
        return Err(format!(
            "il CN della postazione non è l'IdPostazione {}",
            a.id_postazione
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ws::xml::analizza;

    fn esito(x: &str) -> Result<Autenticato, Rifiuto> {
        let d = analizza(x).unwrap();
        let comuni = HashMap::new();
        let c = Contesto {
            comuni: &comuni,
            finestra_s: 300,
            adesso: Utc::now(),
            ip: "127.0.0.1".parse().unwrap(),
        };
        controlla(&d, x, &c)
    }

    fn busta_con(header: &str, body: &str) -> String {
        format!(
            "<s:Envelope xmlns:s=\"{NS_SOAP}\" xmlns:wsse=\"{NS_WSSE}\" xmlns:ds=\"{NS_DS}\">{header}<s:Body>{body}</s:Body></s:Envelope>"
        )
    }

    #[test]
    fn senza_sicurezza_o_senza_firma_e_errore_interno() {
        let casi = [
            busta_con("", "<a/>"),
            busta_con("<s:Header/>", "<a/>"),
            busta_con("<s:Header><wsse:Security/></s:Header>", "<a/>"),
            "<Envelope/>".to_owned(),
        ];
        for x in casi {
            let r = esito(&x).unwrap_err();
            assert_eq!(r.guasto, Guasto::ErroreInterno, "{x}: {}", r.motivo);
            assert_eq!(r.guasto.testo(), "Internal Error");
        }
    }

    #[test]
    fn il_resto_e_rifiutato_dalla_politica() {
        let firma = "<ds:Signature><ds:SignedInfo/></ds:Signature>";
        let casi = [
            // Two Security headers.
            busta_con(
                &format!(
                    "<s:Header><wsse:Security>{firma}</wsse:Security><wsse:Security/></s:Header>"
                ),
                "<a/>",
            ),
            // A Body with two elements.
            busta_con(
                &format!("<s:Header><wsse:Security>{firma}</wsse:Security></s:Header>"),
                "<a/><b/>",
            ),
            // An incomplete signature.
            busta_con(
                &format!("<s:Header><wsse:Security>{firma}</wsse:Security></s:Header>"),
                "<a/>",
            ),
        ];
        for x in casi {
            let r = esito(&x).unwrap_err();
            assert_eq!(
                r.guasto,
                Guasto::RifiutatoDallaPolitica,
                "{x}: {}",
                r.motivo
            );
            assert_eq!(r.guasto.testo(), "Rejected by policy. (from client)");
        }
    }
}
