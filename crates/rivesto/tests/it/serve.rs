//! `rivesto serve` as an operator starts it: it refuses to run without the master key and says
//! how to make one; with a certificate it serves HTTPS itself, and behind an https public URL
//! its cookie is `__Host-` and Secure, with HSTS.

use crate::{rivesto, testo};
use std::io::{BufRead as _, BufReader};
use std::process::{Child, Stdio};
use std::time::Duration;

struct Figlio(Child);

impl Drop for Figlio {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `rivesto serve ARGS` in `cartella` and returns the process with its first line.
fn avvia(cartella: &std::path::Path, args: &[&str]) -> (Figlio, String, Vec<String>) {
    let mut c = rivesto(cartella)
        .arg("serve")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = c.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for riga in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(riga).is_err() {
                break;
            }
        }
    });
    let prima = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("serve non ha stampato l'indirizzo");
    let mut altre = Vec::new();
    while let Ok(r) = rx.recv_timeout(Duration::from_millis(500)) {
        altre.push(r);
    }
    (Figlio(c), prima, altre)
}

#[test]
fn senza_master_key_si_rifiuta_e_dice_come_crearla() {
    let dir = tempfile::tempdir().unwrap();
    let o = rivesto(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", testo(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("rivesto admin gen-master-key"), "{err}");
    assert!(!dir.path().join("rivesto-data/rivesto.db").exists());
}

#[tokio::test]
async fn tls_proprio_e_url_pubblico_https() {
    let dir = tempfile::tempdir().unwrap();
    let o = rivesto(dir.path())
        .args(["admin", "gen-master-key"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", testo(&o));
    let c = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    std::fs::write(dir.path().join("cert.pem"), c.cert.pem()).unwrap();
    std::fs::write(dir.path().join("key.pem"), c.signing_key.serialize_pem()).unwrap();

    let (_figlio, prima, altre) = avvia(
        dir.path(),
        &[
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            "cert.pem",
            "--tls-key",
            "key.pem",
            "--public-url",
            "https://rivesto.example.it",
            "--no-worker",
        ],
    );
    let indirizzo: std::net::SocketAddr = prima
        .strip_prefix("Rivesto in ascolto su https://")
        .unwrap_or_else(|| panic!("prima riga: {prima}"))
        .parse()
        .unwrap();
    assert!(altre.iter().any(|r| r.contains("--no-worker")), "{altre:?}");
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(c.cert.pem().as_bytes()).unwrap())
        .resolve("localhost", indirizzo)
        .build()
        .unwrap();
    let r = client
        .get(format!("https://localhost:{}/", indirizzo.port()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("__Host-rivesto="), "{cookie}");
    assert!(cookie.contains("Secure"), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(
        r.headers()["strict-transport-security"]
            .to_str()
            .unwrap()
            .contains("max-age="),
    );
    let corpo = r.text().await.unwrap();
    assert!(corpo.contains("name=\"password\""), "{corpo}");
    // The SQLite database was migrated at start-up.
    assert!(dir.path().join("rivesto-data/rivesto.db").exists());

    // Plain HTTP on the TLS port is not served.
    let chiaro = reqwest::Client::new()
        .get(format!("http://{indirizzo}/"))
        .timeout(Duration::from_secs(5))
        .send()
        .await;
    assert!(chiaro.is_err() || chiaro.unwrap().status() != 200);
}
