//! The onboarding file (`anpr.toml`), section `[anpr]`: the PDND channel of one Comune.
//!
//! The file is read by hand from a TOML table rather than through `serde` so that every error
//! names the key at fault in Italian ("[anpr].kid mancante").

use crate::servizi::{Endpoint, Servizio};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::{Table, Value};

/// How `userID` in the tracking evidence is chosen (DESIGN §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ModoUserId {
    /// The submitter's user code (the user who caused the request).
    #[default]
    Richiedente,
    /// The configured ANPR operator id, for every call.
    OperatoreAnagrafe,
}

/// The client's RSA private key, parsed once and ready to sign. Never shown.
///
/// The parsed key is kept (and shared by clones): parsing a key checks it, and a fresh key
/// also needs fresh RSA blinding values, together about as costly as the signature itself,
/// and every ANPR call signs once.
#[derive(Clone)]
pub struct ChiavePrivata(std::sync::Arc<aws_lc_rs::rsa::KeyPair>);

impl std::fmt::Debug for ChiavePrivata {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChiavePrivata(<omessa>)")
    }
}

impl ChiavePrivata {
    /// Reads a PKCS#1 (`RSA PRIVATE KEY`) or PKCS#8 (`PRIVATE KEY`) PEM and proves it can sign.
    pub fn da_pem(pem: &[u8]) -> Result<Self, String> {
        let non_rsa =
            || "non è una chiave privata RSA in formato PEM (PKCS#1 o PKCS#8)".to_string();
        let blocco = pem::parse(pem).map_err(|_| non_rsa())?;
        let coppia = match blocco.tag() {
            "RSA PRIVATE KEY" => aws_lc_rs::rsa::KeyPair::from_der(blocco.contents()),
            "PRIVATE KEY" => aws_lc_rs::rsa::KeyPair::from_pkcs8(blocco.contents()),
            _ => return Err(non_rsa()),
        }
        .map_err(|_| non_rsa())?;
        let chiave = ChiavePrivata(std::sync::Arc::new(coppia));
        chiave
            .firma_rs256(b"prova")
            .map_err(|_| "la chiave RSA non permette di firmare (RS256)".to_string())?;
        Ok(chiave)
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256 (JWS `RS256`) of `dati`.
    pub fn firma_rs256(&self, dati: &[u8]) -> Result<Vec<u8>, String> {
        let mut firma = vec![0u8; self.0.public_modulus_len()];
        self.0
            .sign(
                &aws_lc_rs::signature::RSA_PKCS1_SHA256,
                &aws_lc_rs::rand::SystemRandom::new(),
                dati,
                &mut firma,
            )
            .map_err(|_| "firma RS256 non riuscita".to_string())?;
        Ok(firma)
    }

    /// A compact JWS (`RS256`) of `claims`, with `typ` `JWT` and the given `kid` in its header.
    pub fn jws_rs256<T: serde::Serialize>(&self, kid: &str, claims: &T) -> Result<String, String> {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let intestazione = serde_json::json!({"typ": "JWT", "alg": "RS256", "kid": kid});
        let corpo = serde_json::to_vec(claims).map_err(|e| e.to_string())?;
        let mut jws = b64.encode(intestazione.to_string());
        jws.push('.');
        jws.push_str(&b64.encode(corpo));
        let firma = self.firma_rs256(jws.as_bytes())?;
        jws.push('.');
        jws.push_str(&b64.encode(firma));
        Ok(jws)
    }
}

/// The client certificate and key for mTLS, as one PEM bundle. Never shown.
#[derive(Clone)]
pub struct IdentitaTls(pub(crate) Vec<u8>);

impl std::fmt::Debug for IdentitaTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdentitaTls(<omessa>)")
    }
}

/// `[anpr]` of the onboarding file, with its key files already read.
#[derive(Debug, Clone)]
pub struct AnprConfig {
    pub token_url: String,
    pub client_assertion_aud: String,
    /// …/MinInternoPortaANPR-PDND: where calls go.
    pub base_url: String,
    /// …/MinInternoPortaANPR: the base of every `aud`.
    pub audience_base: String,
    pub client_id: String,
    pub kid: String,
    pub private_key_file: PathBuf,
    pub chiave_privata: ChiavePrivata,
    pub user_id_mode: ModoUserId,
    pub user_id: String,
    pub user_location: String,
    pub loa: String,
    pub ca_file: Option<PathBuf>,
    /// Extra trusted roots (PEM), e.g. the collaudo's private Sogei CA.
    pub ca_pem: Option<Vec<u8>>,
    pub client_cert_file: Option<PathBuf>,
    pub client_key_file: Option<PathBuf>,
    pub identita_tls: Option<IdentitaTls>,
    pub timeout: Duration,
    pub purposes: BTreeMap<Servizio, String>,
    pub quotas: BTreeMap<Servizio, u64>,
    pub services: BTreeMap<Servizio, Endpoint>,
}

pub const TIMEOUT_PREDEFINITO: Duration = Duration::from_secs(30);
/// The gateway refuses longer `userLocation` and `LoA` claims (NOTES §3).
pub const MAX_LUNGHEZZA_CLAIM: usize = 20;

#[derive(Debug, thiserror::Error)]
pub enum ErroreConfig {
    #[error("{percorso}: lettura non riuscita: {causa}")]
    Lettura {
        percorso: String,
        causa: std::io::Error,
    },
    #[error("file di configurazione non valido (TOML): {0}")]
    Toml(String),
    #[error("manca la sezione [anpr] (canale PDND)")]
    SezioneMancante,
    #[error("{chiave} mancante")]
    Mancante { chiave: String },
    #[error("{chiave}: atteso {atteso}")]
    Tipo {
        chiave: String,
        atteso: &'static str,
    },
    #[error("{chiave}: chiave sconosciuta")]
    Sconosciuta { chiave: String },
    #[error("{chiave}: {motivo}")]
    Valore { chiave: String, motivo: String },
    #[error("{chiave} = {percorso}: {motivo}")]
    File {
        chiave: String,
        percorso: String,
        motivo: String,
    },
}

const CHIAVI_ANPR: &[&str] = &[
    "token_url",
    "client_assertion_aud",
    "base_url",
    "audience_base",
    "client_id",
    "kid",
    "private_key_file",
    "user_id_mode",
    "user_id",
    "user_location",
    "loa",
    "ca_file",
    "client_cert_file",
    "client_key_file",
    "timeout_ms",
    "purposes",
    "quotas",
    "services",
];

impl AnprConfig {
    /// Reads the file; relative key paths are resolved against the file's folder.
    pub fn from_file(path: &Path) -> Result<Self, ErroreConfig> {
        let testo = std::fs::read_to_string(path).map_err(|causa| ErroreConfig::Lettura {
            percorso: path.display().to_string(),
            causa,
        })?;
        let cartella = path.parent().unwrap_or(Path::new("."));
        Self::from_str(&testo, cartella)
    }

    /// Parses the text of the file; `cartella` is where relative key paths start.
    pub fn from_str(testo: &str, cartella: &Path) -> Result<Self, ErroreConfig> {
        Self::opzionale(testo, cartella)?.ok_or(ErroreConfig::SezioneMancante)
    }

    /// Like [`AnprConfig::from_str`], but `None` when the file has no `[anpr]` section (the
    /// Comune uses only the other channel).
    pub fn opzionale(testo: &str, cartella: &Path) -> Result<Option<Self>, ErroreConfig> {
        let radice: Table = testo
            .parse()
            .map_err(|e: toml::de::Error| ErroreConfig::Toml(e.to_string()))?;
        match radice.get("anpr") {
            None => Ok(None),
            Some(Value::Table(t)) => Self::da_tabella(t, cartella).map(Some),
            Some(_) => Err(tipo("[anpr]", "una sezione")),
        }
    }

    fn da_tabella(t: &Table, cartella: &Path) -> Result<Self, ErroreConfig> {
        if let Some(k) = t.keys().find(|k| !CHIAVI_ANPR.contains(&k.as_str())) {
            return Err(ErroreConfig::Sconosciuta {
                chiave: format!("[anpr].{k}"),
            });
        }
        let private_key_file = percorso(cartella, &obbligatoria(t, "private_key_file")?);
        let chiave_privata = leggi_chiave(&private_key_file)?;
        let ca_file = facoltativa(t, "ca_file")?.map(|p| percorso(cartella, &p));
        let ca_pem = ca_file
            .as_deref()
            .map(|p| leggi_file("[anpr].ca_file", p))
            .transpose()?;
        let client_cert_file = facoltativa(t, "client_cert_file")?.map(|p| percorso(cartella, &p));
        let client_key_file = facoltativa(t, "client_key_file")?.map(|p| percorso(cartella, &p));
        let identita_tls = identita(client_cert_file.as_deref(), client_key_file.as_deref())?;
        Ok(AnprConfig {
            token_url: url(t, "token_url")?,
            client_assertion_aud: obbligatoria(t, "client_assertion_aud")?,
            base_url: url(t, "base_url")?,
            audience_base: url(t, "audience_base")?,
            client_id: obbligatoria(t, "client_id")?,
            kid: obbligatoria(t, "kid")?,
            private_key_file,
            chiave_privata,
            user_id_mode: modo(t)?,
            user_id: obbligatoria(t, "user_id")?,
            user_location: breve(t, "user_location")?,
            loa: breve(t, "loa")?,
            ca_file,
            ca_pem,
            client_cert_file,
            client_key_file,
            identita_tls,
            timeout: timeout(t)?,
            purposes: purposes(t)?,
            quotas: quotas(t)?,
            services: services(t)?,
        })
    }

    /// The service's path and version, after any `[anpr.services.C0NN]` override.
    pub fn endpoint(&self, servizio: Servizio) -> Endpoint {
        self.services
            .get(&servizio)
            .cloned()
            .unwrap_or_else(|| Endpoint::predefinito(servizio))
    }

    /// The purposeId configured for the service.
    pub fn purpose(&self, servizio: Servizio) -> Option<&str> {
        self.purposes.get(&servizio).map(String::as_str)
    }

    /// Services with a purposeId: the only ones the planner may use.
    pub fn servizi_abilitati(&self) -> Vec<Servizio> {
        self.purposes.keys().copied().collect()
    }
}

pub(crate) fn tipo(chiave: &str, atteso: &'static str) -> ErroreConfig {
    ErroreConfig::Tipo {
        chiave: chiave.to_string(),
        atteso,
    }
}

/// A text key of `sezione` (`[anpr]`, `[anpr_ws]`): trimmed, never empty, or absent.
pub(crate) fn testo_facoltativo(
    sezione: &str,
    t: &Table,
    k: &str,
) -> Result<Option<String>, ErroreConfig> {
    match t.get(k) {
        None => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Err(ErroreConfig::Valore {
            chiave: format!("{sezione}.{k}"),
            motivo: "valore vuoto".into(),
        }),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(_) => Err(tipo(&format!("{sezione}.{k}"), "un testo tra virgolette")),
    }
}

/// As [`testo_facoltativo`], required.
pub(crate) fn testo_obbligatorio(
    sezione: &str,
    t: &Table,
    k: &str,
) -> Result<String, ErroreConfig> {
    testo_facoltativo(sezione, t, k)?.ok_or_else(|| ErroreConfig::Mancante {
        chiave: format!("{sezione}.{k}"),
    })
}

fn facoltativa(t: &Table, k: &str) -> Result<Option<String>, ErroreConfig> {
    testo_facoltativo("[anpr]", t, k)
}

fn obbligatoria(t: &Table, k: &str) -> Result<String, ErroreConfig> {
    testo_obbligatorio("[anpr]", t, k)
}

fn url(t: &Table, k: &str) -> Result<String, ErroreConfig> {
    let valore = obbligatoria(t, k)?;
    let errore = |motivo: &str| ErroreConfig::Valore {
        chiave: format!("[anpr].{k}"),
        motivo: format!("{motivo}: {valore}"),
    };
    let u = url::Url::parse(&valore).map_err(|_| errore("indirizzo non valido"))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(errore("serve un indirizzo http:// o https://"));
    }
    Ok(valore.trim_end_matches('/').to_string())
}

fn breve(t: &Table, k: &str) -> Result<String, ErroreConfig> {
    let v = obbligatoria(t, k)?;
    if v.chars().count() > MAX_LUNGHEZZA_CLAIM {
        return Err(ErroreConfig::Valore {
            chiave: format!("[anpr].{k}"),
            motivo: format!(
                "al massimo {MAX_LUNGHEZZA_CLAIM} caratteri (il gateway ANPR rifiuta valori più lunghi), trovati {}",
                v.chars().count()
            ),
        });
    }
    Ok(v)
}

fn modo(t: &Table) -> Result<ModoUserId, ErroreConfig> {
    match facoltativa(t, "user_id_mode")?.as_deref() {
        None | Some("richiedente") => Ok(ModoUserId::Richiedente),
        Some("operatore_anagrafe") => Ok(ModoUserId::OperatoreAnagrafe),
        Some(altro) => Err(ErroreConfig::Valore {
            chiave: "[anpr].user_id_mode".into(),
            motivo: format!("valori ammessi: richiedente, operatore_anagrafe; trovato {altro}"),
        }),
    }
}

fn timeout(t: &Table) -> Result<Duration, ErroreConfig> {
    match t.get("timeout_ms") {
        None => Ok(TIMEOUT_PREDEFINITO),
        Some(Value::Integer(ms)) if *ms > 0 => Ok(Duration::from_millis(*ms as u64)),
        Some(_) => Err(tipo(
            "[anpr].timeout_ms",
            "un numero intero di millisecondi > 0",
        )),
    }
}

/// A file path of the onboarding file: relative paths start at its folder.
pub(crate) fn percorso(cartella: &Path, p: &str) -> PathBuf {
    let p = PathBuf::from(p);
    if p.is_absolute() { p } else { cartella.join(p) }
}

/// The content of the file named by `chiave` (the full key, `[anpr].ca_file`).
pub(crate) fn leggi_file(chiave: &str, p: &Path) -> Result<Vec<u8>, ErroreConfig> {
    std::fs::read(p).map_err(|e| ErroreConfig::File {
        chiave: chiave.to_string(),
        percorso: p.display().to_string(),
        motivo: format!("lettura non riuscita: {e}"),
    })
}

fn leggi_chiave(p: &Path) -> Result<ChiavePrivata, ErroreConfig> {
    let pem = leggi_file("[anpr].private_key_file", p)?;
    ChiavePrivata::da_pem(&pem).map_err(|motivo| ErroreConfig::File {
        chiave: "[anpr].private_key_file".into(),
        percorso: p.display().to_string(),
        motivo,
    })
}

fn identita(cert: Option<&Path>, key: Option<&Path>) -> Result<Option<IdentitaTls>, ErroreConfig> {
    match (cert, key) {
        (None, None) => Ok(None),
        (Some(c), Some(k)) => {
            let mut pem = leggi_file("[anpr].client_cert_file", c)?;
            pem.push(b'\n');
            pem.extend(leggi_file("[anpr].client_key_file", k)?);
            reqwest::Identity::from_pem(&pem).map_err(|e| ErroreConfig::File {
                chiave: "[anpr].client_cert_file".into(),
                percorso: c.display().to_string(),
                motivo: format!("certificato o chiave per mTLS non validi: {e}"),
            })?;
            Ok(Some(IdentitaTls(pem)))
        }
        (Some(_), None) => Err(ErroreConfig::Mancante {
            chiave: "[anpr].client_key_file (richiesta con client_cert_file)".into(),
        }),
        (None, Some(_)) => Err(ErroreConfig::Mancante {
            chiave: "[anpr].client_cert_file (richiesta con client_key_file)".into(),
        }),
    }
}

fn sottotabella<'a>(t: &'a Table, k: &str) -> Result<Option<&'a Table>, ErroreConfig> {
    match t.get(k) {
        None => Ok(None),
        Some(Value::Table(s)) => Ok(Some(s)),
        Some(_) => Err(tipo(&format!("[anpr.{k}]"), "una sezione")),
    }
}

fn servizio(sezione: &str, codice: &str) -> Result<Servizio, ErroreConfig> {
    Servizio::parse(codice).ok_or_else(|| ErroreConfig::Valore {
        chiave: format!("[anpr.{sezione}].{codice}"),
        motivo:
            "servizio sconosciuto (ammessi: C001, C004, C015, C017, C018, C019, C020, C021, C030)"
                .into(),
    })
}

fn purposes(t: &Table) -> Result<BTreeMap<Servizio, String>, ErroreConfig> {
    let mut out = BTreeMap::new();
    for (codice, v) in sottotabella(t, "purposes")?.into_iter().flatten() {
        let s = servizio("purposes", codice)?;
        match v {
            Value::String(p) if !p.trim().is_empty() => out.insert(s, p.trim().to_string()),
            _ => {
                return Err(tipo(
                    &format!("[anpr.purposes].{codice}"),
                    "il purposeId (testo)",
                ));
            }
        };
    }
    Ok(out)
}

pub(crate) fn quotas(t: &Table) -> Result<BTreeMap<Servizio, u64>, ErroreConfig> {
    let mut out = BTreeMap::new();
    for (codice, v) in sottotabella(t, "quotas")?.into_iter().flatten() {
        let s = servizio("quotas", codice)?;
        match v {
            Value::Integer(n) if *n >= 0 => out.insert(s, *n as u64),
            _ => {
                return Err(tipo(
                    &format!("[anpr.quotas].{codice}"),
                    "un numero intero di chiamate al giorno",
                ));
            }
        };
    }
    Ok(out)
}

fn services(t: &Table) -> Result<BTreeMap<Servizio, Endpoint>, ErroreConfig> {
    let mut out = BTreeMap::new();
    for (codice, v) in sottotabella(t, "services")?.into_iter().flatten() {
        let s = servizio("services", codice)?;
        let Value::Table(sezione) = v else {
            return Err(tipo(&format!("[anpr.services.{codice}]"), "una sezione"));
        };
        let mut e = Endpoint::predefinito(s);
        for (k, v) in sezione {
            let chiave = format!("[anpr.services.{codice}].{k}");
            let testo = match v {
                Value::String(x) if !x.trim().is_empty() => x.trim().trim_matches('/').to_string(),
                _ => return Err(tipo(&chiave, "un testo non vuoto")),
            };
            match k.as_str() {
                "path" => e.path = testo,
                "version" => e.version = testo,
                _ => return Err(ErroreConfig::Sconosciuta { chiave }),
            }
        }
        out.insert(s, e);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_chiavi::chiave_pem;

    fn esempio(dir: &Path, extra: &str) -> String {
        std::fs::write(dir.join("client.key"), chiave_pem(false)).unwrap();
        format!(
            r#"
[anpr]
token_url = "https://auth.uat.interop.pagopa.it/token.oauth2"
client_assertion_aud = "auth.uat.interop.pagopa.it/client-assertion"
base_url = "https://modipa-val.anpr.interno.it/govway/rest/in/MinInternoPortaANPR-PDND/"
audience_base = "https://modipa-val.anpr.interno.it/govway/rest/in/MinInternoPortaANPR"
client_id = "e58035ce-c753-4f72-b613-46f8a17b71cc"
kid = "kid-1"
private_key_file = "client.key"
user_id = "OPERATORE1"
user_location = "UFFICIO-ANAGRAFE"
loa = "LoA2"
{extra}
[anpr.purposes]
C030 = "p-030"
C020 = "p-020"

[anpr.quotas]
C030 = 5000

[anpr.services.C020]
path = "C020-servizioAccertamentoResidenza-approvazione_automatica"
"#
        )
    }

    #[test]
    fn reads_a_complete_file_with_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let c = AnprConfig::from_str(&esempio(dir.path(), ""), dir.path()).unwrap();
        assert_eq!(c.user_id_mode, ModoUserId::Richiedente);
        assert_eq!(c.timeout, TIMEOUT_PREDEFINITO);
        assert!(c.base_url.ends_with("MinInternoPortaANPR-PDND"));
        assert_eq!(c.purpose(Servizio::C030), Some("p-030"));
        assert_eq!(c.purpose(Servizio::C015), None);
        assert_eq!(c.quotas.get(&Servizio::C030), Some(&5000));
        assert_eq!(
            c.endpoint(Servizio::C020).path,
            "C020-servizioAccertamentoResidenza-approvazione_automatica"
        );
        assert_eq!(c.endpoint(Servizio::C020).version, "v1");
        assert_eq!(
            c.endpoint(Servizio::C030),
            Endpoint::predefinito(Servizio::C030)
        );
        assert_eq!(c.servizi_abilitati(), vec![Servizio::C020, Servizio::C030]);
        assert_eq!(c.private_key_file, dir.path().join("client.key"));
        let debug = format!("{c:?}");
        assert!(debug.contains("<omessa>") && !debug.contains("BEGIN"));
    }

    #[test]
    fn pkcs8_keys_and_optional_keys() {
        let dir = tempfile::tempdir().unwrap();
        let testo = esempio(
            dir.path(),
            "user_id_mode = \"operatore_anagrafe\"\ntimeout_ms = 1500\n",
        );
        std::fs::write(dir.path().join("client.key"), chiave_pem(true)).unwrap();
        let c = AnprConfig::from_str(&testo, dir.path()).unwrap();
        assert_eq!(c.user_id_mode, ModoUserId::OperatoreAnagrafe);
        assert_eq!(c.timeout, Duration::from_millis(1500));
    }

    #[test]
    fn errors_name_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let base = esempio(dir.path(), "");
        let casi = [
            (base.replace("kid = \"kid-1\"\n", ""), "[anpr].kid mancante"),
            (
                base.replace("loa = \"LoA2\"", "loa = \"LIVELLO-DI-GARANZIA-ALTO\""),
                "[anpr].loa: al massimo 20 caratteri",
            ),
            (
                base.replace("C030 = 5000", "C030 = \"molte\""),
                "[anpr.quotas].C030: atteso",
            ),
            (
                base.replace("C030 = \"p-030\"", "C099 = \"p\""),
                "[anpr.purposes].C099: servizio sconosciuto",
            ),
            (
                base.replace("https://auth.uat", "ftp://auth.uat"),
                "[anpr].token_url: serve un indirizzo http",
            ),
            (
                base.replace("path = ", "percorso = "),
                "[anpr.services.C020].percorso: chiave sconosciuta",
            ),
            (
                base.replace("client.key", "manca.key"),
                "[anpr].private_key_file = ",
            ),
            (
                base.replace("kid = ", "kidd = "),
                "[anpr].kidd: chiave sconosciuta",
            ),
            (
                format!("{base}\n[anpr.x\n"),
                "file di configurazione non valido",
            ),
            ("[ws]\nx = 1\n".to_string(), "manca la sezione [anpr]"),
        ];
        for (testo, atteso) in casi {
            let e = AnprConfig::from_str(&testo, dir.path())
                .unwrap_err()
                .to_string();
            assert!(e.starts_with(atteso), "atteso «{atteso}», trovato «{e}»");
        }
        std::fs::write(
            dir.path().join("client.key"),
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        )
        .unwrap();
        let e = AnprConfig::from_str(&base, dir.path())
            .unwrap_err()
            .to_string();
        assert!(e.contains("non è una chiave privata RSA"), "{e}");
    }

    #[test]
    fn no_anpr_section_is_none_and_http_is_accepted() {
        let dir = tempfile::tempdir().unwrap();
        assert!(
            AnprConfig::opzionale("[ws]\n", dir.path())
                .unwrap()
                .is_none()
        );
        let testo = esempio(dir.path(), "")
            .replace("https://modipa-val.anpr.interno.it", "http://127.0.0.1:9");
        let c = AnprConfig::from_str(&testo, dir.path()).unwrap();
        assert!(c.base_url.starts_with("http://127.0.0.1:9/"));
    }

    #[test]
    fn from_file_resolves_relative_paths() {
        let dir = tempfile::tempdir().unwrap();
        let testo = esempio(dir.path(), "");
        let file = dir.path().join("anpr.toml");
        std::fs::write(&file, testo).unwrap();
        let c = AnprConfig::from_file(&file).unwrap();
        assert_eq!(c.private_key_file, dir.path().join("client.key"));
    }
}
