//! XML plumbing of the SOAP channel: parsing with DTDs refused, a strict reader of an
//! element's children in schema order, and a small writer for the answers.

use bergshamra::xml::uppsala::{self, Document, NodeId, NodeKind};

pub const NS_SOAP: &str = "http://schemas.xmlsoap.org/soap/envelope/";
pub const NS_WSSE: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
pub const NS_WSU: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd";
pub const NS_SAML2: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
pub const NS_DS: &str = "http://www.w3.org/2000/09/xmldsig#";
pub const NS_3000: &str = "http://sogei.it/ANPR/3000consultazione";
pub const NS_CONNESSIONE: &str = "http://sogei.it/ANPR/connessione";

/// Parses a message; a DOCTYPE is refused (a SOAP message never carries one, and entity
/// tricks are a classic attack on signature checks).
pub fn analizza(testo: &str) -> Result<Document<'_>, String> {
    uppsala::Parser::new()
        .with_forbid_dtd(true)
        .parse(testo)
        .map_err(|e| format!("XML non leggibile: {e}"))
}

/// True when `id` is an element with this namespace (`None` = unqualified) and local name.
pub fn e(doc: &Document<'_>, id: NodeId, ns: Option<&str>, nome: &str) -> bool {
    doc.element(id)
        .is_some_and(|el| el.name.namespace_uri.as_deref() == ns && el.name.local_name == nome)
}

/// The element children of `id`, in order; text other than whitespace among them is refused
/// (element-only content in every type we read).
pub fn figli(doc: &Document<'_>, id: NodeId) -> Result<Vec<NodeId>, String> {
    let mut v = Vec::new();
    for c in doc.children(id) {
        match doc.node_kind(c) {
            Some(NodeKind::Element(_)) => v.push(c),
            Some(NodeKind::Text(t)) | Some(NodeKind::CData(t)) if !t.trim().is_empty() => {
                return Err(format!("testo inatteso dentro <{}>", nome_locale(doc, id)));
            }
            _ => {}
        }
    }
    Ok(v)
}

/// The element children with this namespace and local name.
pub fn figli_nominati(doc: &Document<'_>, id: NodeId, ns: Option<&str>, nome: &str) -> Vec<NodeId> {
    doc.children(id)
        .into_iter()
        .filter(|c| e(doc, *c, ns, nome))
        .collect()
}

pub fn nome_locale(doc: &Document<'_>, id: NodeId) -> String {
    doc.element(id)
        .map(|el| el.name.local_name.to_string())
        .unwrap_or_default()
}

/// The text of a simple-content element: all its text children joined; an element child is
/// refused.
pub fn testo(doc: &Document<'_>, id: NodeId) -> Result<String, String> {
    let mut s = String::new();
    for c in doc.children(id) {
        match doc.node_kind(c) {
            Some(NodeKind::Text(t)) | Some(NodeKind::CData(t)) => s.push_str(t),
            Some(NodeKind::Element(_)) => {
                return Err(format!(
                    "<{}> deve contenere solo testo",
                    nome_locale(doc, id)
                ));
            }
            _ => {}
        }
    }
    Ok(s)
}

/// Reads the children of one complex-type element as an XSD sequence of unqualified
/// elements: each call takes the next child if it has the expected name, and `fine` refuses
/// whatever is left (misordered, unknown or repeated elements).
pub struct Sequenza<'d, 'a> {
    doc: &'d Document<'a>,
    padre: String,
    figli: Vec<NodeId>,
    pos: usize,
}

impl<'d, 'a> Sequenza<'d, 'a> {
    pub fn di(doc: &'d Document<'a>, id: NodeId, percorso: &str) -> Result<Self, String> {
        if doc
            .element(id)
            .is_some_and(|el| el.attributes.iter().any(|a| !attributo_ammesso(a)))
        {
            return Err(format!("{percorso}: attributo non previsto"));
        }
        Ok(Self {
            doc,
            padre: percorso.to_owned(),
            figli: figli(doc, id).map_err(|m| format!("{percorso}: {m}"))?,
            pos: 0,
        })
    }

    pub fn percorso(&self, nome: &str) -> String {
        format!("{}/{nome}", self.padre)
    }

    /// The next child if it is `<nome>`.
    pub fn opzionale(&mut self, nome: &str) -> Option<NodeId> {
        let id = *self.figli.get(self.pos)?;
        if e(self.doc, id, None, nome) {
            self.pos += 1;
            Some(id)
        } else {
            None
        }
    }

    pub fn richiesto(&mut self, nome: &str) -> Result<NodeId, String> {
        self.opzionale(nome)
            .ok_or_else(|| format!("{}: elemento obbligatorio mancante", self.percorso(nome)))
    }

    /// Every consecutive `<nome>` child (maxOccurs unbounded).
    pub fn ripetuto(&mut self, nome: &str) -> Vec<NodeId> {
        let mut v = Vec::new();
        while let Some(id) = self.opzionale(nome) {
            v.push(id);
        }
        v
    }

    /// Text of an optional simple element, checked by `tipo`.
    pub fn testo_opzionale(
        &mut self,
        nome: &str,
        tipo: impl Fn(&str) -> bool,
    ) -> Result<Option<String>, String> {
        let Some(id) = self.opzionale(nome) else {
            return Ok(None);
        };
        let p = self.percorso(nome);
        let t = foglia(self.doc, id, &p)?;
        if !tipo(&t) {
            return Err(format!("{p}: valore '{}' non valido", tronca(&t)));
        }
        Ok(Some(t))
    }

    pub fn testo_richiesto(
        &mut self,
        nome: &str,
        tipo: impl Fn(&str) -> bool,
    ) -> Result<String, String> {
        self.testo_opzionale(nome, tipo)?
            .ok_or_else(|| format!("{}: elemento obbligatorio mancante", self.percorso(nome)))
    }

    /// Refuses any child not consumed.
    pub fn fine(self) -> Result<(), String> {
        match self.figli.get(self.pos) {
            None => Ok(()),
            Some(id) => Err(format!(
                "{}: elemento inatteso o fuori ordine <{}>",
                self.padre,
                self.doc
                    .element(*id)
                    .map(|el| el.name.prefixed_name().to_string())
                    .unwrap_or_default()
            )),
        }
    }
}

/// Namespace declarations and `xsi:` attributes are fine anywhere; no type we read defines
/// attributes of its own.
fn attributo_ammesso(a: &uppsala::Attribute<'_>) -> bool {
    a.name.namespace_uri.as_deref() == Some("http://www.w3.org/2001/XMLSchema-instance")
        && a.name.local_name == "type"
}

fn foglia(doc: &Document<'_>, id: NodeId, percorso: &str) -> Result<String, String> {
    if doc.element(id).is_some_and(|el| !el.attributes.is_empty()) {
        return Err(format!("{percorso}: attributo non previsto"));
    }
    testo(doc, id)
        .map(|t| t.trim().to_owned())
        .map_err(|m| format!("{percorso}: {m}"))
}

fn tronca(s: &str) -> String {
    s.chars().take(40).collect()
}

/// The text of `<nome>` among the children of `id`, without checks: to echo what a refused
/// request said in the answer's header.
pub fn testo_figlio(doc: &Document<'_>, id: NodeId, nome: &str) -> Option<String> {
    let c = figli_nominati(doc, id, None, nome).into_iter().next()?;
    testo(doc, c).ok()
}

/// XML escaping for element content (the answers have no attribute values of ours): quotes
/// stay as they are, as ANPR's texts show them.
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            _ => o.push(c),
        }
    }
    o
}

/// Writes unqualified elements in the order of the calls.
#[derive(Default)]
pub struct Scrittore {
    pub s: String,
}

impl Scrittore {
    pub fn apri(&mut self, nome: &str) {
        self.s.push('<');
        self.s.push_str(nome);
        self.s.push('>');
    }

    pub fn chiudi(&mut self, nome: &str) {
        self.s.push_str("</");
        self.s.push_str(nome);
        self.s.push('>');
    }

    pub fn campo(&mut self, nome: &str, valore: &str) {
        self.apri(nome);
        self.s.push_str(&escape(valore));
        self.chiudi(nome);
    }

    pub fn campo_opt(&mut self, nome: &str, valore: Option<&str>) {
        if let Some(v) = valore {
            self.campo(nome, v);
        }
    }

    /// `<nome>` … `</nome>` around what `dentro` writes.
    pub fn blocco(&mut self, nome: &str, dentro: impl FnOnce(&mut Self)) {
        self.apri(nome);
        dentro(self);
        self.chiudi(nome);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn radice<'a>(d: &Document<'a>) -> NodeId {
        d.document_element().unwrap()
    }

    #[test]
    fn la_sequenza_legge_in_ordine_e_rifiuta_il_resto() {
        let d = analizza("<r><a>1</a><b>2</b><b>3</b><c>x</c></r>").unwrap();
        let mut s = Sequenza::di(&d, radice(&d), "r").unwrap();
        assert_eq!(s.testo_richiesto("a", |_| true).unwrap(), "1");
        assert_eq!(s.ripetuto("b").len(), 2);
        assert!(s.opzionale("z").is_none());
        assert!(s.fine().unwrap_err().contains("<c>"));
    }

    #[test]
    fn un_elemento_fuori_ordine_e_un_errore() {
        let d = analizza("<r><b>2</b><a>1</a></r>").unwrap();
        let mut s = Sequenza::di(&d, radice(&d), "r").unwrap();
        assert!(s.testo_richiesto("a", |_| true).is_err());
    }

    #[test]
    fn un_elemento_qualificato_non_e_quello_atteso() {
        let d = analizza(r#"<r xmlns="urn:x"><a>1</a></r>"#).unwrap();
        let mut s = Sequenza::di(&d, radice(&d), "r").unwrap();
        assert!(s.opzionale("a").is_none());
    }

    #[test]
    fn testo_misto_e_doctype_sono_rifiutati() {
        let d = analizza("<r>x<a/></r>").unwrap();
        assert!(Sequenza::di(&d, radice(&d), "r").is_err());
        assert!(analizza("<!DOCTYPE r [<!ENTITY e 'x'>]><r>&e;</r>").is_err());
    }

    #[test]
    fn lo_scrittore_fa_l_escape() {
        let mut w = Scrittore::default();
        w.blocco("a", |w| w.campo("b", "x<&>'\""));
        assert_eq!(w.s, "<a><b>x&lt;&amp;&gt;'\"</b></a>");
    }
}
