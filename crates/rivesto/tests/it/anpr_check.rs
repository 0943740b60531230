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

    // The Comune's channel of the same files: TestConn, then one lookup by carta d'identità
    // (SETTIMO SOGGETTO's CIE, issued by Roma, where he lives).
    let test_conn = rivesto(vuota.path())
        .args(["anpr", "check", "--ws", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(test_conn.status.success(), "{}", testo(&test_conn));
    let out = String::from_utf8_lossy(&test_conn.stdout);
    assert!(out.contains("TestConn: risposta ricevuta"), "{out}");
    assert!(
        out.contains("certificato del Comune: 058091-CO-0001"),
        "{out}"
    );
    for rilascio in [None, Some("Roma (RM)"), Some("058091")] {
        let mut c = rivesto(vuota.path());
        c.args(["anpr", "check", "--ws", "--ci", "CA00001ZA"]);
        if let Some(r) = rilascio {
            c.args(["--rilascio", r]);
        }
        let ci = c.arg("--config").arg(&config).output().unwrap();
        assert!(ci.status.success(), "{}", testo(&ci));
        assert!(
            String::from_utf8_lossy(&ci.stdout).contains("ID ANPR: AF41450AS"),
            "{}",
            testo(&ci)
        );
        // Without the issuing Comune the user is told ANPR may want it.
        assert_eq!(
            String::from_utf8_lossy(&ci.stderr).contains("--rilascio non indicato"),
            rilascio.is_none(),
            "{}",
            testo(&ci)
        );
    }
    // A card number issued elsewhere: not found among Roma's residents, and the step is named.
    let altrove = rivesto(vuota.path())
        .args([
            "anpr",
            "check",
            "--ws",
            "--ci",
            "CA00001ZA",
            "--rilascio",
            "015146",
        ])
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(altrove.status.code(), Some(1), "{}", testo(&altrove));
    assert!(testo(&altrove).contains("EN122"), "{}", testo(&altrove));
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
    let ws = rivesto(dir.path())
        .args(["anpr", "check", "--ws", "--config", "sim/anpr.toml"])
        .output()
        .unwrap();
    assert_eq!(ws.status.code(), Some(1), "{}", testo(&ws));
    assert!(
        testo(&ws).contains("TestConn non riuscito"),
        "{}",
        testo(&ws)
    );
}
