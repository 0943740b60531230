//! `rivesto anpr-sim init` + `rivesto anpr-sim` in one process, `rivesto anpr check` in another.

use crate::{rivesto, testo};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// A child process killed when the test ends, even by a panic.
pub struct Figlio(Option<Child>);

impl Figlio {
    pub fn new(c: Child) -> Self {
        Figlio(Some(c))
    }

    pub fn id(&self) -> u32 {
        self.0.as_ref().map_or(0, Child::id)
    }

    /// Waits for the child to exit by itself and collects its output.
    pub fn uscita(mut self) -> std::process::Output {
        let c = self.0.take().expect("processo figlio presente");
        c.wait_with_output().unwrap()
    }
}

impl Drop for Figlio {
    fn drop(&mut self) {
        if let Some(c) = &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub fn porta_libera() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

pub fn attendi(indirizzo: SocketAddr) {
    let inizio = Instant::now();
    while TcpStream::connect(indirizzo).is_err() {
        assert!(
            inizio.elapsed() < Duration::from_secs(30),
            "il simulatore non si è avviato"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn check_contro_il_simulatore_in_un_altro_processo() {
    let dir = tempfile::tempdir().unwrap();
    let indirizzo = porta_libera();
    let init = rivesto(dir.path())
        .args([
            "anpr-sim",
            "init",
            "--out",
            "sim",
            "--listen",
            &indirizzo.to_string(),
        ])
        .output()
        .unwrap();
    assert!(init.status.success(), "{}", testo(&init));
    let _sim = Figlio::new(
        rivesto(dir.path())
            .args([
                "anpr-sim",
                "--clients",
                "sim/sim-clients.toml",
                "--listen",
                &indirizzo.to_string(),
            ])
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    attendi(indirizzo);

    // An empty folder: the operation ids go to the default data dir inside it.
    let vuota = tempfile::tempdir().unwrap();
    let config = dir.path().join("sim/anpr.toml");
    let sonda = rivesto(vuota.path())
        .args(["anpr", "check", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(sonda.status.success(), "{}", testo(&sonda));
    assert!(String::from_utf8_lossy(&sonda.stdout).contains("C030: raggiungibile (HTTP 200)"));

    // SETTIMO SOGGETTO, one of ANPR's published test subjects, with his published idANPR.
    let ricerca = rivesto(vuota.path())
        .args(["anpr", "check", "--cf", "STTSGT90A01H501J", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(ricerca.status.success(), "{}", testo(&ricerca));
    let out = String::from_utf8_lossy(&ricerca.stdout);
    assert!(out.contains("ID ANPR: AF41450AS"), "{}", testo(&ricerca));
    assert!(
        vuota.path().join("rivesto-data").is_dir(),
        "gli id di operazione vanno nella cartella dati predefinita"
    );

    // Nobody with this CF: the check fails and says so.
    let assente = rivesto(vuota.path())
        .args(["anpr", "check", "--cf", "PRVCCL60B50G393U", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(assente.status.code(), Some(1), "{}", testo(&assente));
    assert!(
        String::from_utf8_lossy(&assente.stdout).contains("EN122"),
        "{}",
        testo(&assente)
    );
}

#[test]
fn check_senza_simulatore_nomina_il_passo_che_fallisce() {
    let dir = tempfile::tempdir().unwrap();
    let indirizzo = porta_libera();
    let init = rivesto(dir.path())
        .args([
            "anpr-sim",
            "init",
            "--out",
            "sim",
            "--listen",
            &indirizzo.to_string(),
        ])
        .output()
        .unwrap();
    assert!(init.status.success(), "{}", testo(&init));
    let o = rivesto(dir.path())
        .args([
            "anpr",
            "check",
            "--cf",
            "STTSGT90A01H501J",
            "--config",
            "sim/anpr.toml",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", testo(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("ERRORE al passo «richiesta del voucher PDND»"),
        "{}",
        testo(&o)
    );
}
