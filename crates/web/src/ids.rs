//! Object ids in URLs and API answers are not guessable: `123-<tag>`, where the tag is a keyed
//! hash (HMAC-SHA256, 96 bits) of the object's kind and number. Without the server's key nobody
//! can write a valid id for an object they were not shown, and an id that does not verify is
//! answered 404 exactly like one that does not exist (DESIGN §1).

use hmac::{Hmac, Mac as _};
use sha2::Sha256;
use store::{ChiaveMaestra, ErroreStore, Segreto, Store};

const SEGRETO: &str = "web_id_url";
const BYTE_TAG: usize = 12;

/// The kinds of object that appear in URLs; each has its own id space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tipo {
    Richiesta,
    FileRisposta,
    Utente,
    Ente,
    Convenzione,
    Comune,
    Notifica,
    Token,
}

impl Tipo {
    fn nome(self) -> &'static str {
        match self {
            Tipo::Richiesta => "richiesta",
            Tipo::FileRisposta => "file",
            Tipo::Utente => "utente",
            Tipo::Ente => "ente",
            Tipo::Convenzione => "convenzione",
            Tipo::Comune => "comune",
            Tipo::Notifica => "notifica",
            Tipo::Token => "token",
        }
    }
}

pub struct ChiaveId(Segreto);

impl ChiaveId {
    pub async fn carica(store: &Store, chiave: &ChiaveMaestra) -> Result<ChiaveId, ErroreStore> {
        let s = store
            .segreto_o_genera(SEGRETO, chiave, || {
                let mut k = vec![0u8; 32];
                rand::fill(&mut k[..]);
                Ok(k)
            })
            .await?;
        Ok(ChiaveId(s))
    }

    /// For unit tests and tools that hold the key already.
    pub fn da_segreto(s: Segreto) -> ChiaveId {
        ChiaveId(s)
    }

    fn tag(&self, tipo: Tipo, id: i64) -> String {
        let mut m =
            Hmac::<Sha256>::new_from_slice(self.0.esponi()).expect("HMAC accetta ogni chiave");
        m.update(tipo.nome().as_bytes());
        m.update(b":");
        m.update(id.to_string().as_bytes());
        hex::encode(&m.finalize().into_bytes()[..BYTE_TAG])
    }

    /// The public id of object `id` of kind `tipo`.
    pub fn codifica(&self, tipo: Tipo, id: i64) -> String {
        format!("{id}-{}", self.tag(tipo, id))
    }

    /// The object's number, if `pubblico` is a valid id of kind `tipo`.
    pub fn decodifica(&self, tipo: Tipo, pubblico: &str) -> Option<i64> {
        let (numero, tag) = pubblico.split_once('-')?;
        if numero.is_empty()
            || !numero.bytes().all(|b| b.is_ascii_digit())
            || numero.starts_with('0')
        {
            return None;
        }
        let id: i64 = numero.parse().ok()?;
        let atteso = self.tag(tipo, id);
        // Constant-time comparison: the tag is a secret until it is shown.
        (atteso.len() == tag.len()
            && atteso
                .bytes()
                .zip(tag.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0)
            .then_some(id)
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use proptest::prelude::*;

    fn chiave() -> ChiaveId {
        ChiaveId::da_segreto(Segreto::new(vec![7; 32]))
    }

    #[test]
    fn andata_e_ritorno() {
        let k = chiave();
        let s = k.codifica(Tipo::Richiesta, 42);
        assert!(s.starts_with("42-"));
        assert_eq!(s.len(), 3 + 2 * BYTE_TAG);
        assert_eq!(k.decodifica(Tipo::Richiesta, &s), Some(42));
        // Another kind, a neighbour's number, a changed tag: all refused.
        assert_eq!(k.decodifica(Tipo::FileRisposta, &s), None);
        assert_eq!(
            k.decodifica(Tipo::Richiesta, &s.replacen("42-", "43-", 1)),
            None
        );
        assert_eq!(k.decodifica(Tipo::Richiesta, "42"), None);
        assert_eq!(
            k.decodifica(Tipo::Richiesta, &format!("042-{}", &s[3..])),
            None
        );
        let altra = ChiaveId::da_segreto(Segreto::new(vec![8; 32]));
        assert_eq!(altra.decodifica(Tipo::Richiesta, &s), None);
    }

    proptest! {
        #[test]
        fn ogni_id_torna(id in 1i64..i64::MAX) {
            let k = chiave();
            prop_assert_eq!(k.decodifica(Tipo::Utente, &k.codifica(Tipo::Utente, id)), Some(id));
        }

        #[test]
        fn testo_qualsiasi_non_decodifica(s in "\\PC{0,40}") {
            let k = chiave();
            let _ = k.decodifica(Tipo::Richiesta, &s);
        }
    }
}
