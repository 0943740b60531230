//! `rivesto client`: the JSON API from a script, with no HTTP code (DESIGN §6).
//!
//! The token is read from the environment variable named by `--token-env`, never from the
//! command line (where `ps` and shell histories would show it), and never printed.
//!
//! Exit codes: 0 done (or submitted, without `--wait`); 1 the request was rejected, failed or
//! cancelled, or the server refused the call (a 4xx answer); 2 a usage or connection error.
//! Progress goes to stderr in Italian; stdout carries only what a script reads (the request id,
//! the status as JSON, the paths of the downloaded files).

use crate::cli::{ClientArgs, ClientComando, ClientSubmitArgs};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// Consecutive connection failures tolerated while waiting, before giving up.
const TENTATIVI_ATTESA: u32 = 3;

/// Why the client stops early.
#[derive(Debug)]
enum Fallimento {
    /// A mistake in the command, its files or its environment.
    Uso(String),
    /// The server could not be reached, or answered something that is not the API.
    Connessione(String),
    /// The server refused the call (4xx), with its message.
    Rifiuto {
        stato: u16,
        errore: String,
        dettagli: Vec<String>,
    },
}

impl Fallimento {
    fn codice(&self) -> ExitCode {
        match self {
            Fallimento::Rifiuto { .. } => ExitCode::from(1),
            Fallimento::Uso(_) | Fallimento::Connessione(_) => ExitCode::from(2),
        }
    }

    fn stampa(&self) {
        match self {
            Fallimento::Uso(m) => eprintln!("errore: {m}"),
            Fallimento::Connessione(m) => eprintln!("errore di connessione: {m}"),
            Fallimento::Rifiuto {
                stato,
                errore,
                dettagli,
            } => {
                eprintln!("rifiutata dal server (HTTP {stato}): {errore}");
                for d in dettagli {
                    eprintln!("  {d}");
                }
            }
        }
    }
}

pub async fn esegui(a: ClientArgs) -> anyhow::Result<ExitCode> {
    let esito = match Client::nuovo(&a) {
        Ok(c) => match a.comando {
            ClientComando::Submit(s) => invia(&c, &s).await,
            ClientComando::Status { id } => stato(&c, &id).await,
            ClientComando::Download { id, out } => scarica_tutto(&c, &id, &out).await,
        },
        Err(f) => Err(f),
    };
    Ok(esito.unwrap_or_else(|f| {
        f.stampa();
        f.codice()
    }))
}

/// The HTTP side. Not `Debug`: it holds the token.
struct Client {
    base: String,
    http: reqwest::Client,
    token: String,
}

impl Client {
    fn nuovo(a: &ClientArgs) -> Result<Client, Fallimento> {
        let token = std::env::var(&a.token_env)
            .ok()
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                Fallimento::Uso(format!(
                    "la variabile d'ambiente {} non è impostata: vi metta il token API \
                     (creato in «Profilo › Token API»)",
                    a.token_env
                ))
            })?;
        if !matches!(a.url.scheme(), "http" | "https") {
            return Err(Fallimento::Uso(format!(
                "--url deve iniziare con http:// o https:// (ricevuto {})",
                a.url.scheme()
            )));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(15))
            .timeout(Duration::from_secs(600))
            .user_agent(concat!("rivesto-client/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Fallimento::Connessione(e.to_string()))?;
        Ok(Client {
            base: a.url.as_str().trim_end_matches('/').to_string(),
            http,
            token,
        })
    }

    fn indirizzo(&self, percorso: &str) -> String {
        format!("{}{percorso}", self.base)
    }

    async fn manda(&self, r: reqwest::RequestBuilder) -> Result<reqwest::Response, Fallimento> {
        let r = r
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| Fallimento::Connessione(senza_url(e)))?;
        let stato = r.status();
        if stato.is_success() {
            return Ok(r);
        }
        let corpo: Value = r.json().await.unwrap_or(Value::Null);
        let errore = corpo["errore"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| format!("risposta HTTP {stato} senza messaggio"));
        if stato.is_client_error() {
            let dettagli = corpo["dettagli"]
                .as_array()
                .map(|d| {
                    d.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            Err(Fallimento::Rifiuto {
                stato: stato.as_u16(),
                errore,
                dettagli,
            })
        } else {
            Err(Fallimento::Connessione(format!(
                "il server ha risposto {stato}: {errore}"
            )))
        }
    }

    async fn json(&self, r: reqwest::RequestBuilder) -> Result<Value, Fallimento> {
        self.manda(r)
            .await?
            .json()
            .await
            .map_err(|e| Fallimento::Connessione(format!("risposta non JSON: {}", senza_url(e))))
    }

    async fn get(&self, percorso: &str) -> Result<Value, Fallimento> {
        self.json(self.http.get(self.indirizzo(percorso))).await
    }
}

/// The error with its causes ("connection refused" is in a source), without the URL: the
/// address is known to the caller, and the token is never in it anyway.
fn senza_url(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut s = e.to_string();
    let mut fonte = std::error::Error::source(&e);
    while let Some(f) = fonte {
        s.push_str(&format!(": {f}"));
        fonte = f.source();
    }
    s
}

/// An id as the API gives them (`123-0a1b…`): anything else could change the path.
fn id_valido(id: &str) -> Result<&str, Fallimento> {
    let ok = !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    ok.then_some(id)
        .ok_or_else(|| Fallimento::Uso(format!("id non valido: «{id}»")))
}

async fn invia(c: &Client, a: &ClientSubmitArgs) -> Result<ExitCode, Fallimento> {
    let contenuto = std::fs::read(&a.file)
        .map_err(|e| Fallimento::Uso(format!("{}: {e}", a.file.display())))?;
    let nome = a
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "richiesta.csv".into());
    let mut form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(contenuto).file_name(nome),
        )
        .text("convenzione", a.convenzione.clone())
        .text("motivo", a.motivo.clone());
    if let Some(d) = &a.data_riferimento {
        form = form.text("data_riferimento", d.clone());
    }
    let v = c
        .json(
            c.http
                .post(c.indirizzo("/api/v1/richieste"))
                .multipart(form),
        )
        .await?;
    let id = v["id"].as_str().unwrap_or_default().to_string();
    eprintln!(
        "Richiesta {id} inviata ({}): {} righe, {} non valide, {} duplicate.",
        v["stato"].as_str().unwrap_or("?"),
        v["righe"]["totali"],
        v["righe"]["non_valide"],
        v["righe"]["duplicate"]
    );
    for r in v["righe_non_valide"].as_array().into_iter().flatten() {
        eprintln!(
            "  riga {}: {}",
            r["riga"],
            r["problema"].as_str().unwrap_or_default()
        );
    }
    println!("{id}");
    if !a.wait {
        return Ok(ExitCode::SUCCESS);
    }
    let fine = attendi(c, id_valido(&id)?, Duration::from_millis(a.intervallo_ms)).await?;
    concludi(c, &id, &fine, &a.out).await
}

/// Polls the status until it is final, printing each change.
async fn attendi(c: &Client, id: &str, intervallo: Duration) -> Result<Value, Fallimento> {
    let mut ultimo = String::new();
    let mut errori = 0;
    loop {
        let s = match c.get(&format!("/api/v1/richieste/{id}")).await {
            Ok(s) => {
                errori = 0;
                s
            }
            // A short network blip should not lose a long wait.
            Err(Fallimento::Connessione(m)) if errori < TENTATIVI_ATTESA => {
                errori += 1;
                eprintln!("connessione non riuscita ({m}): riprovo");
                tokio::time::sleep(intervallo).await;
                continue;
            }
            Err(f) => return Err(f),
        };
        let riga = descrivi(&s);
        if riga != ultimo {
            eprintln!("{riga}");
            ultimo = riga;
        }
        if s["finale"].as_bool() == Some(true) {
            return Ok(s);
        }
        tokio::time::sleep(intervallo).await;
    }
}

fn descrivi(s: &Value) -> String {
    let a = &s["avanzamento"];
    let mut riga = format!(
        "Stato {}: {} di {} righe elaborate",
        s["stato"].as_str().unwrap_or("?"),
        a["finali"],
        a["totali"]
    );
    if let Some(eta) = a["eta_secondi"].as_i64() {
        riga.push_str(&format!(", circa {eta} s al termine"));
    }
    if let Some(m) = s["sospesa"]["motivo"].as_str() {
        riga.push_str(&format!(" (sospesa: {m})"));
    }
    riga
}

/// After the wait: the files (also the partial ones of a cancelled or failed request), and the
/// exit code of the final state.
async fn concludi(c: &Client, id: &str, s: &Value, out: &Path) -> Result<ExitCode, Fallimento> {
    let stato = s["stato"].as_str().unwrap_or_default();
    if let Some(nota) = s["nota"].as_str() {
        eprintln!("Nota: {nota}");
    }
    if stato != "RESPINTA" {
        let scaricati = scarica_file(c, id, out).await?;
        if scaricati == 0 && stato == "COMPLETATA" {
            eprintln!("Nessun file di risposta disponibile.");
            return Ok(ExitCode::from(1));
        }
    }
    Ok(if stato == "COMPLETATA" {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

async fn stato(c: &Client, id: &str) -> Result<ExitCode, Fallimento> {
    let s = c
        .get(&format!("/api/v1/richieste/{}", id_valido(id)?))
        .await?;
    eprintln!("{}", descrivi(&s));
    if let Some(nota) = s["nota"].as_str() {
        eprintln!("Nota: {nota}");
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&s).unwrap_or_else(|_| s.to_string())
    );
    let esito_negativo = matches!(
        s["stato"].as_str(),
        Some("RESPINTA" | "FALLITA" | "ANNULLATA")
    );
    Ok(if esito_negativo {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

async fn scarica_tutto(c: &Client, id: &str, out: &Path) -> Result<ExitCode, Fallimento> {
    let n = scarica_file(c, id_valido(id)?, out).await?;
    if n == 0 {
        eprintln!("Nessun file di risposta disponibile per la richiesta {id}.");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// Downloads every available file of the request into `out`; returns how many.
async fn scarica_file(c: &Client, id: &str, out: &Path) -> Result<usize, Fallimento> {
    let elenco = c.get(&format!("/api/v1/richieste/{id}/file")).await?;
    let file: Vec<&Value> = elenco
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["disponibile"].as_bool() != Some(false))
        .collect();
    if file.is_empty() {
        return Ok(0);
    }
    std::fs::create_dir_all(out).map_err(|e| Fallimento::Uso(format!("{}: {e}", out.display())))?;
    for f in &file {
        let nome = nome_sicuro(f["nome"].as_str().unwrap_or_default())?;
        let fid = id_valido(f["id"].as_str().unwrap_or_default())?;
        let byte = c
            .manda(
                c.http
                    .get(c.indirizzo(&format!("/api/v1/richieste/{id}/file/{fid}"))),
            )
            .await?
            .bytes()
            .await
            .map_err(|e| Fallimento::Connessione(senza_url(e)))?;
        controlla_sha(&byte, f["sha256"].as_str().unwrap_or_default(), nome)?;
        let percorso = scrivi_atomico(out, nome, &byte)?;
        eprintln!(
            "Scaricato {nome} ({} byte{}).",
            byte.len(),
            if f["parziale"].as_bool() == Some(true) {
                ", parziale"
            } else {
                ""
            }
        );
        println!("{}", percorso.display());
    }
    Ok(file.len())
}

/// A name from the server is used only as a plain file name in `--out`.
fn nome_sicuro(nome: &str) -> Result<&str, Fallimento> {
    let ok = !nome.is_empty()
        && !nome.starts_with('.')
        && !nome.contains(['/', '\\', '\0', ':'])
        && nome != ".."
        && !nome.chars().any(char::is_control);
    ok.then_some(nome).ok_or_else(|| {
        Fallimento::Connessione(format!("nome di file non accettabile dal server: «{nome}»"))
    })
}

fn controlla_sha(byte: &[u8], atteso: &str, nome: &str) -> Result<(), Fallimento> {
    let calcolato = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, byte);
    let esadecimale: String = calcolato
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if atteso.is_empty() || esadecimale.eq_ignore_ascii_case(atteso) {
        Ok(())
    } else {
        Err(Fallimento::Connessione(format!(
            "{nome}: il contenuto ricevuto non corrisponde allo SHA-256 dichiarato"
        )))
    }
}

/// Written to a temporary file in the same folder, then renamed: a reader never sees half a
/// file, and an interrupted download leaves nothing under the final name.
fn scrivi_atomico(cartella: &Path, nome: &str, byte: &[u8]) -> Result<PathBuf, Fallimento> {
    use std::io::Write as _;
    let errore = |e: std::io::Error| Fallimento::Uso(format!("{}: {e}", cartella.display()));
    let mut tmp = tempfile::NamedTempFile::new_in(cartella).map_err(errore)?;
    tmp.write_all(byte).map_err(errore)?;
    tmp.as_file().sync_all().map_err(errore)?;
    let destinazione = cartella.join(nome);
    tmp.persist(&destinazione).map_err(|e| errore(e.error))?;
    Ok(destinazione)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nomi_dal_server() {
        assert!(nome_sicuro("richiesta-7-parte-001.csv").is_ok());
        for cattivo in [
            "",
            "../x.csv",
            "a/b.csv",
            "a\\b.csv",
            ".nascosto",
            "..",
            "c:x",
        ] {
            assert!(nome_sicuro(cattivo).is_err(), "{cattivo}");
        }
    }

    #[test]
    fn id_nel_percorso() {
        assert!(id_valido("12-0a1b2c").is_ok());
        assert!(id_valido("../admin").is_err());
        assert!(id_valido("").is_err());
        assert!(id_valido("1?x=1").is_err());
    }

    #[test]
    fn sha_verificato() {
        let sha_abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert!(controlla_sha(b"abc", sha_abc, "x").is_ok());
        assert!(controlla_sha(b"abd", sha_abc, "x").is_err());
    }

    #[test]
    fn scrittura_atomica() {
        let d = tempfile::tempdir().unwrap();
        let p = scrivi_atomico(d.path(), "a.csv", b"uno").unwrap();
        scrivi_atomico(d.path(), "a.csv", b"due").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"due");
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
    }
}
