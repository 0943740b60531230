//! `[anpr_ws]` of the onboarding file (`anpr.toml`): the Comune's own SOAP channel (3002).
//!
//! Optional, like `[anpr]`: a Comune may have either channel or both. Read by hand from the TOML
//! table, like `[anpr]`, so that every error names the key at fault in Italian
//! ("[anpr_ws].id_sede: …"). Certificates are read and checked here, so a wrong file or password
//! is reported when the configuration is loaded, not at the first call. Passwords are never
//! stored in the file: `p12_password_env` names the environment variable that holds one.

use super::credenziali::Credenziali;
use super::sicurezza::{AlgoritmoFirma, IdentitaWs};
use crate::archivio::IdOperazione;
use crate::config::{ErroreConfig, TIMEOUT_PREDEFINITO, percorso, tipo};
use domain::cf::CodiceFiscale;
use domain::tipo::TipoIdentificativo;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::{Table, Value};

/// `[anpr_ws]`, with its certificates already read.
#[derive(Debug, Clone)]
pub struct WsConfig {
    /// Base URL (`https://ws.anpr.interno.it`, `https://wstest.anpr.interno.it`), without the
    /// trailing `/`; `http://` is accepted for tests.
    pub endpoint: String,
    /// `TEST` or `PROD`: ANPR refuses a value that does not match its environment.
    pub tipo_invio: String,
    /// Who every call is made as: certificates, operator CF, IdSede, IdPostazione, IdApplicazione.
    pub identita: IdentitaWs,
    pub ca_file: Option<PathBuf>,
    /// Extra trusted roots (PEM): the Ministry's private CA of the ANPR servers.
    pub ca_pem: Option<Vec<u8>>,
    /// Calls in flight at once for this Comune (1: one at a time, in id order).
    pub concurrency: usize,
    /// Digits in front of every `idOperazioneComune`, agreed with the Comune's vendor.
    pub id_prefix: String,
    /// Total digits of an `idOperazioneComune` (prefix included, zero-padded).
    pub id_length: usize,
    /// The identifier kinds this channel is used for.
    pub use_for: Vec<TipoIdentificativo>,
    pub timeout: Duration,
    pub nome_applicativo: String,
    pub versione_applicativo: String,
    pub fornitore_applicativo: String,
}

/// Digits of a clock-derived operation id (`epoch_ms × 1000 + n`, archivio.rs) until the year 2286.
pub const CIFRE_ID_OROLOGIO: usize = 16;
/// `tipoIdOperazioneComune`: at most 30 characters.
pub const MAX_CIFRE_ID: usize = 30;
/// Used when `use_for` is not given: the document kinds only the Comune channel can search.
pub const USO_PREDEFINITO: [TipoIdentificativo; 3] = [
    TipoIdentificativo::Ci,
    TipoIdentificativo::Pds,
    TipoIdentificativo::Pass,
];

const CHIAVI: &[&str] = &[
    "endpoint",
    "tipo_invio",
    "p12_file",
    "p12_password_env",
    "cert_file",
    "key_file",
    "postazione_p12_file",
    "postazione_p12_password_env",
    "postazione_cert_file",
    "postazione_key_file",
    "operator_cf",
    "id_sede",
    "id_postazione",
    "id_applicazione",
    "signature_alg",
    "ca_file",
    "concurrency",
    "id_prefix",
    "id_length",
    "use_for",
    "timeout_s",
    "nome_applicativo",
    "versione_applicativo",
    "fornitore_applicativo",
];

const SEZIONE: &str = "[anpr_ws]";

fn chiave(k: &str) -> String {
    format!("{SEZIONE}.{k}")
}

impl WsConfig {
    /// Reads the onboarding file; `None` when it has no `[anpr_ws]` section. Relative paths
    /// start at the file's folder.
    pub fn da_file(path: &Path) -> Result<Option<Self>, ErroreConfig> {
        let testo = std::fs::read_to_string(path).map_err(|causa| ErroreConfig::Lettura {
            percorso: path.display().to_string(),
            causa,
        })?;
        let cartella = path.parent().unwrap_or(Path::new("."));
        Self::opzionale(&testo, cartella)
    }

    /// Parses the text of the onboarding file; `None` when it has no `[anpr_ws]` section.
    /// `cartella` is where relative paths start. Passwords come from the process environment.
    pub fn opzionale(testo: &str, cartella: &Path) -> Result<Option<Self>, ErroreConfig> {
        Self::opzionale_con_ambiente(testo, cartella, &|nome| std::env::var(nome).ok())
    }

    /// As [`WsConfig::opzionale`], with the environment given (tests, or a caller that keeps
    /// the passwords elsewhere).
    pub fn opzionale_con_ambiente(
        testo: &str,
        cartella: &Path,
        ambiente: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, ErroreConfig> {
        let radice: Table = testo
            .parse()
            .map_err(|e: toml::de::Error| ErroreConfig::Toml(e.to_string()))?;
        match radice.get("anpr_ws") {
            None => Ok(None),
            Some(Value::Table(t)) => Self::da_tabella(t, cartella, ambiente).map(Some),
            Some(_) => Err(tipo(SEZIONE, "una sezione")),
        }
    }

    fn da_tabella(
        t: &Table,
        cartella: &Path,
        ambiente: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ErroreConfig> {
        if let Some(k) = t.keys().find(|k| !CHIAVI.contains(&k.as_str())) {
            return Err(ErroreConfig::Sconosciuta { chiave: chiave(k) });
        }
        let endpoint = endpoint(t)?;
        let tipo_invio = match obbligatoria(t, "tipo_invio")?.as_str() {
            v @ ("TEST" | "PROD") => v.to_string(),
            altro => {
                return Err(valore(
                    "tipo_invio",
                    format!("valori ammessi: TEST, PROD; trovato {altro}"),
                ));
            }
        };
        let comune = credenziali(t, cartella, ambiente, "", "del Comune")?;
        let postazione = credenziali(t, cartella, ambiente, "postazione_", "della postazione")?;
        let operatore_cf = CodiceFiscale::parse(&obbligatoria(t, "operator_cf")?)
            .map_err(|e| valore("operator_cf", format!("codice fiscale non valido: {e}")))?
            .as_str()
            .to_string();
        let id_sede = obbligatoria(t, "id_sede")?;
        if id_sede.len() != 6 || !id_sede.bytes().all(|b| b.is_ascii_digit()) {
            return Err(valore(
                "id_sede",
                format!(
                    "serve il codice ISTAT del Comune, 6 cifre (es. 058091); trovato {id_sede}"
                ),
            ));
        }
        let id_postazione = id_postazione(t, &postazione)?;
        let id_applicazione = obbligatoria(t, "id_applicazione")?;
        let algoritmo = match facoltativa(t, "signature_alg")? {
            None => AlgoritmoFirma::default(),
            Some(s) => AlgoritmoFirma::parse(&s).ok_or_else(|| {
                valore(
                    "signature_alg",
                    format!("valori ammessi: rsa-sha256, rsa-sha1; trovato {s}"),
                )
            })?,
        };
        let ca_file = facoltativa(t, "ca_file")?.map(|p| percorso(cartella, &p));
        let ca_pem = match &ca_file {
            None => None,
            Some(p) => {
                let pem = leggi_file("ca_file", p)?;
                reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| ErroreConfig::File {
                    chiave: chiave("ca_file"),
                    percorso: p.display().to_string(),
                    motivo: format!("certificati PEM non validi: {e}"),
                })?;
                Some(pem)
            }
        };
        let (id_prefix, id_length) = formato_id(t)?;
        Ok(WsConfig {
            endpoint,
            tipo_invio,
            identita: IdentitaWs {
                comune,
                postazione,
                operatore_cf,
                id_sede,
                id_postazione,
                id_applicazione,
                algoritmo,
            },
            ca_file,
            ca_pem,
            concurrency: intero(t, "concurrency", 1, usize::MAX, "un numero intero ≥ 1")?
                .unwrap_or(1),
            id_prefix,
            id_length,
            use_for: use_for(t)?,
            timeout: intero(
                t,
                "timeout_s",
                1,
                3600,
                "un numero intero di secondi tra 1 e 3600",
            )?
            .map(|s| Duration::from_secs(s as u64))
            .unwrap_or(TIMEOUT_PREDEFINITO),
            nome_applicativo: applicativo(t, "nome_applicativo", "Rivesto", ".")?,
            versione_applicativo: applicativo(
                t,
                "versione_applicativo",
                env!("CARGO_PKG_VERSION"),
                ".-",
            )?,
            fornitore_applicativo: applicativo(t, "fornitore_applicativo", "Rivesto", ".-")?,
        })
    }

    /// The 3002 service.
    pub fn url_3002(&self) -> String {
        format!(
            "{}/ANPR3000ServiziConsultazione/AnprService3000",
            self.endpoint
        )
    }

    /// The connectivity test.
    pub fn url_test_conn(&self) -> String {
        format!("{}/ANPRTestConn/TestConn", self.endpoint)
    }

    /// Whether rows of this identifier kind go to this channel.
    pub fn usa_per(&self, t: TipoIdentificativo) -> bool {
        self.use_for.contains(&t)
    }

    /// `nomeApplicativo`, `versioneApplicativo`, `fornitoreApplicativo`.
    pub fn applicativo(&self) -> (String, String, String) {
        (
            self.nome_applicativo.clone(),
            self.versione_applicativo.clone(),
            self.fornitore_applicativo.clone(),
        )
    }

    /// The `idOperazioneComune` of an operation id: `id_prefix`, then the id zero-padded to
    /// `id_length` digits in all. Fixed prefix and width keep the ids numeric and increasing,
    /// as ANPR wants them across all the Comune's software.
    pub fn id_operazione(&self, id: IdOperazione) -> Result<String, String> {
        let cifre = self.id_length.saturating_sub(self.id_prefix.len());
        let numero = id.0.to_string();
        if numero.len() > cifre {
            return Err(format!(
                "id di operazione {numero} troppo lungo per il formato di [anpr_ws] (id_prefix \
                 \"{}\", id_length {}): restano {cifre} cifre",
                self.id_prefix, self.id_length
            ));
        }
        Ok(format!("{}{numero:0>cifre$}", self.id_prefix))
    }
}

fn valore(k: &str, motivo: String) -> ErroreConfig {
    ErroreConfig::Valore {
        chiave: chiave(k),
        motivo,
    }
}

fn facoltativa(t: &Table, k: &str) -> Result<Option<String>, ErroreConfig> {
    crate::config::testo_facoltativo(SEZIONE, t, k)
}

fn obbligatoria(t: &Table, k: &str) -> Result<String, ErroreConfig> {
    crate::config::testo_obbligatorio(SEZIONE, t, k)
}

fn intero(
    t: &Table,
    k: &str,
    min: i64,
    max: usize,
    atteso: &'static str,
) -> Result<Option<usize>, ErroreConfig> {
    match t.get(k) {
        None => Ok(None),
        Some(Value::Integer(n)) if *n >= min && (*n as u64) <= max as u64 => Ok(Some(*n as usize)),
        Some(_) => Err(tipo(&chiave(k), atteso)),
    }
}

fn endpoint(t: &Table) -> Result<String, ErroreConfig> {
    let v = obbligatoria(t, "endpoint")?;
    let u = url::Url::parse(&v)
        .map_err(|_| valore("endpoint", format!("indirizzo non valido: {v}")))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(valore(
            "endpoint",
            format!("serve un indirizzo https:// (http:// solo per le prove): {v}"),
        ));
    }
    Ok(v.trim_end_matches('/').to_string())
}

fn leggi_file(k: &str, p: &Path) -> Result<Vec<u8>, ErroreConfig> {
    crate::config::leggi_file(&chiave(k), p)
}

/// The Comune's certificate (`prefisso` "") or the workstation's ("postazione_"): a PKCS#12 file
/// with the password in an environment variable, or a PEM certificate and key.
fn credenziali(
    t: &Table,
    cartella: &Path,
    ambiente: &dyn Fn(&str) -> Option<String>,
    prefisso: &str,
    di_chi: &str,
) -> Result<Credenziali, ErroreConfig> {
    let k = |nome: &str| format!("{prefisso}{nome}");
    let p12 = facoltativa(t, &k("p12_file"))?;
    let env = facoltativa(t, &k("p12_password_env"))?;
    let cert = facoltativa(t, &k("cert_file"))?;
    let key = facoltativa(t, &k("key_file"))?;
    match (p12, cert, key) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => Err(valore(
            &k("p12_file"),
            format!(
                "indicare {} oppure {} e {}, non entrambi",
                k("p12_file"),
                k("cert_file"),
                k("key_file")
            ),
        )),
        (Some(p12), None, None) => {
            let env = env.ok_or_else(|| ErroreConfig::Mancante {
                chiave: format!(
                    "{} (richiesta con {})",
                    chiave(&k("p12_password_env")),
                    k("p12_file")
                ),
            })?;
            let password = ambiente(&env).ok_or_else(|| {
                valore(
                    &k("p12_password_env"),
                    format!("la variabile d'ambiente {env} (password del certificato {di_chi}) non è impostata"),
                )
            })?;
            let p = percorso(cartella, &p12);
            let byte = leggi_file(&k("p12_file"), &p)?;
            Credenziali::da_p12(&byte, &password).map_err(|motivo| ErroreConfig::File {
                chiave: chiave(&k("p12_file")),
                percorso: p.display().to_string(),
                motivo: format!(
                    "certificato {di_chi} non leggibile (password in {env} errata o file PKCS#12 non valido): {motivo}"
                ),
            })
        }
        (None, Some(cert), Some(key)) => {
            if env.is_some() {
                return Err(valore(
                    &k("p12_password_env"),
                    format!("serve solo con {}", k("p12_file")),
                ));
            }
            let pc = percorso(cartella, &cert);
            let pk = percorso(cartella, &key);
            let cert_pem = leggi_file(&k("cert_file"), &pc)?;
            let key_pem = leggi_file(&k("key_file"), &pk)?;
            Credenziali::da_pem(&cert_pem, &key_pem).map_err(|motivo| ErroreConfig::File {
                chiave: chiave(&k("cert_file")),
                percorso: pc.display().to_string(),
                motivo: format!("certificato {di_chi} o chiave non validi: {motivo}"),
            })
        }
        (None, Some(_), None) => Err(ErroreConfig::Mancante {
            chiave: format!(
                "{} (richiesta con {})",
                chiave(&k("key_file")),
                k("cert_file")
            ),
        }),
        (None, None, Some(_)) => Err(ErroreConfig::Mancante {
            chiave: format!(
                "{} (richiesta con {})",
                chiave(&k("cert_file")),
                k("key_file")
            ),
        }),
        (None, None, None) => Err(ErroreConfig::Mancante {
            chiave: format!(
                "{} (oppure {} e {}): certificato {di_chi}",
                chiave(&k("p12_file")),
                k("cert_file"),
                k("key_file")
            ),
        }),
    }
}

/// `IdPostazione` is the workstation certificate's CN (ANPR checks the two against each other).
fn id_postazione(t: &Table, postazione: &Credenziali) -> Result<String, ErroreConfig> {
    match (facoltativa(t, "id_postazione")?, postazione.cn()) {
        (Some(dato), Some(cn)) if dato != cn => Err(valore(
            "id_postazione",
            format!(
                "{dato} è diverso dal CN del certificato della postazione ({cn}): ANPR li confronta"
            ),
        )),
        (Some(dato), _) => Ok(dato),
        (None, Some(cn)) => Ok(cn),
        (None, None) => Err(ErroreConfig::Mancante {
            chiave: format!(
                "{} (il certificato della postazione non ha un CN da cui ricavarlo)",
                chiave("id_postazione")
            ),
        }),
    }
}

fn formato_id(t: &Table) -> Result<(String, usize), ErroreConfig> {
    let prefisso = match t.get("id_prefix") {
        None => {
            return Err(ErroreConfig::Mancante {
                chiave: chiave("id_prefix"),
            });
        }
        Some(Value::String(s)) if s.bytes().all(|b| b.is_ascii_digit()) => s.clone(),
        Some(_) => {
            return Err(tipo(
                &chiave("id_prefix"),
                "un testo di sole cifre tra virgolette (anche vuoto)",
            ));
        }
    };
    let lunghezza = intero(
        t,
        "id_length",
        1,
        MAX_CIFRE_ID,
        "un numero intero di cifre, al massimo 30",
    )?
    .ok_or_else(|| ErroreConfig::Mancante {
        chiave: chiave("id_length"),
    })?;
    if lunghezza < prefisso.len() + CIFRE_ID_OROLOGIO {
        return Err(valore(
            "id_length",
            format!(
                "{lunghezza} cifre non bastano: gli id vengono dall'orologio (millisecondi × 1000 + \
                 un contatore, {CIFRE_ID_OROLOGIO} cifre) e id_prefix ne occupa {}, quindi servono \
                 almeno {} cifre (al massimo {MAX_CIFRE_ID})",
                prefisso.len(),
                prefisso.len() + CIFRE_ID_OROLOGIO
            ),
        ));
    }
    Ok((prefisso, lunghezza))
}

fn use_for(t: &Table) -> Result<Vec<TipoIdentificativo>, ErroreConfig> {
    let Some(v) = t.get("use_for") else {
        return Ok(USO_PREDEFINITO.to_vec());
    };
    let atteso = "un elenco di tipi tra virgolette, es. [\"CI\", \"PDS\", \"PASS\"]";
    let Value::Array(voci) = v else {
        return Err(tipo(&chiave("use_for"), atteso));
    };
    let mut out = Vec::new();
    for voce in voci {
        let Value::String(s) = voce else {
            return Err(tipo(&chiave("use_for"), atteso));
        };
        let t = TipoIdentificativo::parse(s).ok_or_else(|| {
            valore(
                "use_for",
                format!("tipo sconosciuto {s} (ammessi: CF, IDANPR, CI, PDS, PASS)"),
            )
        })?;
        if !out.contains(&t) {
            out.push(t);
        }
    }
    if out.is_empty() {
        return Err(valore(
            "use_for",
            "serve almeno un tipo (CF, IDANPR, CI, PDS, PASS)".into(),
        ));
    }
    Ok(out)
}

/// `tipoNomeApplicativo` (`[0-9a-zA-Z. ]`) / `tipoVersioneApplicativo`, `tipoFornitoreApplicativo`
/// (also `-`), 1 to 80 characters: ANPR refuses the whole request otherwise.
fn applicativo(t: &Table, k: &str, predefinito: &str, extra: &str) -> Result<String, ErroreConfig> {
    let v = facoltativa(t, k)?.unwrap_or_else(|| predefinito.to_string());
    let ok = v.chars().count() <= 80
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == ' ' || extra.contains(c));
    if !ok {
        return Err(valore(
            k,
            format!(
                "al massimo 80 caratteri tra lettere, cifre, spazi e {}; trovato {v}",
                extra
                    .chars()
                    .map(String::from)
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        ));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_chiavi::chiave_pem;

    /// A self-signed certificate with this CN on the test key.
    fn certificato(cn: &str) -> String {
        let kp = rcgen::KeyPair::from_pem(&chiave_pem(true)).unwrap();
        let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name
            .push(rcgen::DnType::CommonName, cn.to_string());
        p.self_signed(&kp).unwrap().pem()
    }

    fn cartella() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("co.pem"), certificato("058091-CO-0001")).unwrap();
        std::fs::write(dir.path().join("pc.pem"), certificato("058091-PC-0002")).unwrap();
        std::fs::write(dir.path().join("chiave.pem"), chiave_pem(false)).unwrap();
        dir
    }

    const BASE: &str = r#"
[anpr_ws]
endpoint = "https://wstest.anpr.interno.it/"
tipo_invio = "TEST"
cert_file = "co.pem"
key_file = "chiave.pem"
postazione_cert_file = "pc.pem"
postazione_key_file = "chiave.pem"
operator_cf = "rssmra80a01h501u"
id_sede = "058091"
id_applicazione = "12345"
id_prefix = "9"
id_length = 20
"#;

    fn nessun_ambiente(_: &str) -> Option<String> {
        None
    }

    fn leggi(testo: &str, dir: &Path) -> Result<WsConfig, ErroreConfig> {
        WsConfig::opzionale_con_ambiente(testo, dir, &nessun_ambiente).map(|c| c.unwrap())
    }

    #[test]
    fn reads_the_section_with_defaults() {
        let dir = cartella();
        let c = leggi(BASE, dir.path()).unwrap();
        assert_eq!(c.endpoint, "https://wstest.anpr.interno.it");
        assert_eq!(
            c.url_3002(),
            "https://wstest.anpr.interno.it/ANPR3000ServiziConsultazione/AnprService3000"
        );
        assert_eq!(
            c.url_test_conn(),
            "https://wstest.anpr.interno.it/ANPRTestConn/TestConn"
        );
        assert_eq!(c.tipo_invio, "TEST");
        assert_eq!(c.identita.operatore_cf, "RSSMRA80A01H501U");
        assert_eq!(c.identita.id_sede, "058091");
        assert_eq!(c.identita.id_postazione, "058091-PC-0002");
        assert_eq!(c.identita.id_applicazione, "12345");
        assert_eq!(c.identita.algoritmo, AlgoritmoFirma::RsaSha256);
        assert_eq!(c.concurrency, 1);
        assert_eq!(c.use_for, USO_PREDEFINITO.to_vec());
        assert!(c.usa_per(TipoIdentificativo::Pass) && !c.usa_per(TipoIdentificativo::Cf));
        assert_eq!(c.timeout, TIMEOUT_PREDEFINITO);
        assert_eq!(
            c.applicativo(),
            (
                "Rivesto".to_string(),
                env!("CARGO_PKG_VERSION").to_string(),
                "Rivesto".to_string()
            )
        );
        assert!(c.ca_pem.is_none());
        let debug = format!("{c:?}");
        assert!(!debug.contains("BEGIN"), "{debug}");
    }

    #[test]
    fn optional_keys() {
        let dir = cartella();
        std::fs::write(dir.path().join("ca.pem"), certificato("CA Postazioni Svil")).unwrap();
        let testo = format!(
            "{BASE}signature_alg = \"rsa-sha1\"\nconcurrency = 3\ntimeout_s = 12\n\
             use_for = [\"cf\", \"IDANPR\", \"CI\", \"CI\"]\nid_postazione = \"058091-PC-0002\"\n\
             ca_file = \"ca.pem\"\nnome_applicativo = \"Anagrafe Ente 2\"\n\
             versione_applicativo = \"2.1-b\"\nfornitore_applicativo = \"Ente-X\"\n"
        );
        let c = leggi(&testo, dir.path()).unwrap();
        assert_eq!(c.identita.algoritmo, AlgoritmoFirma::RsaSha1);
        assert_eq!(c.concurrency, 3);
        assert_eq!(c.timeout, Duration::from_secs(12));
        assert_eq!(
            c.use_for,
            vec![
                TipoIdentificativo::Cf,
                TipoIdentificativo::IdAnpr,
                TipoIdentificativo::Ci
            ]
        );
        assert!(c.ca_pem.is_some());
        assert_eq!(c.ca_file, Some(dir.path().join("ca.pem")));
        assert_eq!(c.nome_applicativo, "Anagrafe Ente 2");
        assert_eq!(c.fornitore_applicativo, "Ente-X");
    }

    #[test]
    fn no_section_is_none_and_http_is_accepted() {
        let dir = cartella();
        assert!(
            WsConfig::opzionale("[anpr]\nx = 1\n", dir.path())
                .unwrap()
                .is_none()
        );
        let c = leggi(
            &BASE.replace("https://wstest.anpr.interno.it/", "http://127.0.0.1:9"),
            dir.path(),
        )
        .unwrap();
        assert_eq!(c.endpoint, "http://127.0.0.1:9");
    }

    #[test]
    fn operation_ids_are_prefixed_and_padded() {
        let dir = cartella();
        let c = leggi(BASE, dir.path()).unwrap();
        assert_eq!(
            c.id_operazione(IdOperazione(1_750_000_000_000_123))
                .unwrap(),
            "90001750000000000123"
        );
        assert_eq!(
            c.id_operazione(IdOperazione(7)).unwrap(),
            "90000000000000000007"
        );
        let c = leggi(
            &BASE
                .replace("id_prefix = \"9\"", "id_prefix = \"\"")
                .replace("id_length = 20", "id_length = 16"),
            dir.path(),
        )
        .unwrap();
        assert_eq!(
            c.id_operazione(IdOperazione(1_750_000_000_000_123))
                .unwrap(),
            "1750000000000123"
        );
        let e = c
            .id_operazione(IdOperazione(17_500_000_000_001_230))
            .unwrap_err();
        assert!(e.contains("troppo lungo"), "{e}");
    }

    #[test]
    fn errors_name_the_key() {
        let dir = cartella();
        let casi = [
            (
                BASE.replace("id_sede = \"058091\"\n", ""),
                "[anpr_ws].id_sede mancante",
            ),
            (
                BASE.replace("id_sede = \"058091\"", "id_sede = \"58091\""),
                "[anpr_ws].id_sede: serve il codice ISTAT",
            ),
            (
                BASE.replace("tipo_invio = \"TEST\"", "tipo_invio = \"FREE\""),
                "[anpr_ws].tipo_invio: valori ammessi: TEST, PROD",
            ),
            (
                BASE.replace("rssmra80a01h501u", "RSSMRA80A01H501X"),
                "[anpr_ws].operator_cf: codice fiscale non valido",
            ),
            (
                format!("{BASE}id_postazione = \"058091-PC-0009\"\n"),
                "[anpr_ws].id_postazione: 058091-PC-0009 è diverso dal CN",
            ),
            (
                format!("{BASE}signature_alg = \"rsa-md5\"\n"),
                "[anpr_ws].signature_alg: valori ammessi",
            ),
            (
                format!("{BASE}concurrency = 0\n"),
                "[anpr_ws].concurrency: atteso",
            ),
            (
                BASE.replace("id_prefix = \"9\"", "id_prefix = \"9A\""),
                "[anpr_ws].id_prefix: atteso un testo di sole cifre",
            ),
            (
                BASE.replace("id_prefix = \"9\"\n", ""),
                "[anpr_ws].id_prefix mancante",
            ),
            (
                BASE.replace("id_length = 20\n", ""),
                "[anpr_ws].id_length mancante",
            ),
            (
                BASE.replace("id_length = 20", "id_length = 31"),
                "[anpr_ws].id_length: atteso",
            ),
            (
                BASE.replace("id_length = 20", "id_length = 16"),
                "[anpr_ws].id_length: 16 cifre non bastano: gli id vengono dall'orologio",
            ),
            (
                format!("{BASE}use_for = [\"CI\", \"TESSERA\"]\n"),
                "[anpr_ws].use_for: tipo sconosciuto TESSERA",
            ),
            (
                format!("{BASE}use_for = []\n"),
                "[anpr_ws].use_for: serve almeno un tipo",
            ),
            (
                format!("{BASE}timeout_s = \"10\"\n"),
                "[anpr_ws].timeout_s: atteso",
            ),
            (
                format!("{BASE}nome_applicativo = \"Rivesto/2\"\n"),
                "[anpr_ws].nome_applicativo: al massimo 80 caratteri",
            ),
            (
                BASE.replace("https://wstest", "ftp://wstest"),
                "[anpr_ws].endpoint: serve un indirizzo https://",
            ),
            (
                format!("{BASE}porta = 1\n"),
                "[anpr_ws].porta: chiave sconosciuta",
            ),
            (
                BASE.replace("key_file = \"chiave.pem\"\npostazione", "postazione"),
                "[anpr_ws].key_file (richiesta con cert_file) mancante",
            ),
            (
                BASE.replace("cert_file = \"co.pem\"\nkey_file = \"chiave.pem\"\n", ""),
                "[anpr_ws].p12_file (oppure cert_file e key_file): certificato del Comune mancante",
            ),
            (
                format!("{BASE}p12_file = \"co.p12\"\n"),
                "[anpr_ws].p12_file: indicare p12_file oppure cert_file e key_file, non entrambi",
            ),
            (
                BASE.replace("\"pc.pem\"", "\"manca.pem\""),
                "[anpr_ws].postazione_cert_file = ",
            ),
            (
                format!("{BASE}ca_file = \"manca.pem\"\n"),
                "[anpr_ws].ca_file = ",
            ),
            ("anpr_ws = 3\n".to_string(), "[anpr_ws]: atteso una sezione"),
            (
                format!("{BASE}\n[anpr_ws.x\n"),
                "file di configurazione non valido",
            ),
        ];
        for (testo, atteso) in casi {
            let e = leggi(&testo, dir.path()).unwrap_err().to_string();
            assert!(e.starts_with(atteso), "atteso «{atteso}», trovato «{e}»");
        }
    }

    #[test]
    fn pkcs12_password_comes_from_the_environment_and_is_never_shown() {
        let dir = cartella();
        std::fs::write(dir.path().join("co.p12"), b"non un PKCS#12").unwrap();
        let p12 = BASE.replace(
            "cert_file = \"co.pem\"\nkey_file = \"chiave.pem\"\n",
            "p12_file = \"co.p12\"\np12_password_env = \"RIVESTO_P12_CO\"\n",
        );
        // The variable is missing.
        let e = leggi(&p12, dir.path()).unwrap_err().to_string();
        assert!(
            e.starts_with("[anpr_ws].p12_password_env: la variabile d'ambiente RIVESTO_P12_CO"),
            "{e}"
        );
        // Set, but the file is no PKCS#12: the error names the key, never the password.
        let segreto = "Segreto-Molto-Riconoscibile";
        let ambiente = |n: &str| (n == "RIVESTO_P12_CO").then(|| segreto.to_string());
        let e = WsConfig::opzionale_con_ambiente(&p12, dir.path(), &ambiente)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("[anpr_ws].p12_file = "), "{e}");
        assert!(e.contains("RIVESTO_P12_CO errata"), "{e}");
        assert!(!e.contains(segreto), "{e}");
        // Unreadable file.
        let e = WsConfig::opzionale_con_ambiente(
            &p12.replace("co.p12", "manca.p12"),
            dir.path(),
            &ambiente,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("lettura non riuscita"), "{e}");
        // Password variable without a PKCS#12 file.
        let e = leggi(&format!("{BASE}p12_password_env = \"X\"\n"), dir.path())
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("[anpr_ws].p12_password_env: serve solo con p12_file"),
            "{e}"
        );
        // The workstation's password variable is named with its own key.
        let e = leggi(
            &BASE.replace(
                "postazione_cert_file = \"pc.pem\"\npostazione_key_file = \"chiave.pem\"\n",
                "postazione_p12_file = \"co.p12\"\n",
            ),
            dir.path(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with(
                "[anpr_ws].postazione_p12_password_env (richiesta con postazione_p12_file) mancante"
            ),
            "{e}"
        );
    }

    #[test]
    fn da_file_resolves_relative_paths() {
        let dir = cartella();
        let file = dir.path().join("anpr.toml");
        std::fs::write(&file, BASE).unwrap();
        // `da_file` reads the real environment, which this file does not need.
        let c = WsConfig::da_file(&file).unwrap().unwrap();
        assert_eq!(c.identita.id_postazione, "058091-PC-0002");
    }
}
