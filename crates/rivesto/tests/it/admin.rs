//! `rivesto admin`: the non-interactive bootstrap of a fresh installation, checked through the
//! store: what was written, that secrets are encrypted, and that every change is audited.

use crate::{rivesto, testo};
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn esegui(dir: &Path, args: &[&str]) -> Output {
    rivesto(dir).args(args).output().unwrap()
}

/// The id a successful `add` prints alone on stdout.
fn id(o: &Output) -> String {
    assert!(o.status.success(), "{}", testo(o));
    let s = String::from_utf8_lossy(&o.stdout).trim().to_string();
    assert!(s.parse::<i64>().is_ok(), "{}", testo(o));
    s
}

fn errore(o: &Output) -> String {
    assert_eq!(o.status.code(), Some(2), "{}", testo(o));
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn con_stdin(mut c: Command, input: &str) -> Output {
    let mut figlio = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    figlio
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    figlio.wait_with_output().unwrap()
}

#[test]
fn gen_master_key_non_sovrascrive() {
    let dir = tempfile::tempdir().unwrap();
    let o = esegui(dir.path(), &["admin", "gen-master-key"]);
    assert!(o.status.success(), "{}", testo(&o));
    let chiave = dir.path().join("rivesto-data/master.key");
    let byte = std::fs::read(&chiave).unwrap();
    assert_eq!(byte.len(), 32);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let modo = std::fs::metadata(&chiave).unwrap().permissions().mode();
        assert_eq!(modo & 0o777, 0o600);
    }
    let e = errore(&esegui(dir.path(), &["admin", "gen-master-key"]));
    assert!(e.contains("esiste già"), "{e}");
    assert_eq!(std::fs::read(&chiave).unwrap(), byte);
    // RIVESTO_MASTER_KEY_FILE chooses the default destination; --out overrides it.
    let o = rivesto(dir.path())
        .env("RIVESTO_MASTER_KEY_FILE", "altrove/k")
        .args(["admin", "gen-master-key"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", testo(&o));
    assert_eq!(
        std::fs::read(dir.path().join("altrove/k")).unwrap().len(),
        32
    );
    let o = esegui(
        dir.path(),
        &["admin", "gen-master-key", "--out", "terza.key"],
    );
    assert!(o.status.success(), "{}", testo(&o));
    assert!(dir.path().join("terza.key").exists());
}

#[test]
fn senza_master_key_dice_come_crearla() {
    let dir = tempfile::tempdir().unwrap();
    assert!(esegui(dir.path(), &["migrate"]).status.success());
    let o = esegui(dir.path(), &["anpr-sim", "init", "--out", "sim"]);
    assert!(o.status.success(), "{}", testo(&o));
    let e = errore(&esegui(
        dir.path(),
        &[
            "admin",
            "comune",
            "add",
            "--config",
            "sim/anpr.toml",
            "--istat",
            "058091",
            "--belfiore",
            "H501",
            "--nome",
            "Roma",
            "--sigla",
            "RM",
        ],
    ));
    assert!(e.contains("master key non trovata"), "{e}");
    assert!(e.contains("rivesto admin gen-master-key"), "{e}");
}

#[test]
fn la_password_non_passa_da_argv() {
    let dir = tempfile::tempdir().unwrap();
    let e = errore(&esegui(
        dir.path(),
        &[
            "admin",
            "user",
            "add",
            "--username",
            "mario.rossi",
            "--ruolo",
            "STANDARD",
            "--ente",
            "1",
            "--password",
            "una password lunga",
        ],
    ));
    assert!(e.contains("non si passa sulla riga di comando"), "{e}");
    assert!(!e.contains("una password lunga"), "{e}");
}

/// What `bootstrap` created, by the ids the commands printed.
struct Ids {
    comune: String,
    conv: String,
    standard: String,
    top: String,
    profilo: String,
}

#[tokio::test]
async fn bootstrap_completo_e_verificato() {
    let dir = tempfile::tempdir().unwrap();
    let ids = bootstrap(dir.path());
    verifica_nel_database(dir.path(), &ids).await;
}

/// README's bootstrap through the binary, with the refusals met on the way.
fn bootstrap(d: &Path) -> Ids {
    assert!(esegui(d, &["migrate"]).status.success());
    let k = esegui(
        d,
        &["admin", "gen-master-key", "--out", "segreti/master.key"],
    );
    assert!(k.status.success(), "{}", testo(&k));
    assert!(
        esegui(d, &["anpr-sim", "init", "--out", "sim"])
            .status
            .success()
    );
    let mk = ["--master-key-file", "segreti/master.key"];
    let comune = id(&rivesto(d)
        .args([
            "admin",
            "comune",
            "add",
            "--config",
            "sim/anpr.toml",
            "--istat",
            "058091",
        ])
        .args(["--belfiore", "h501", "--nome", "Roma", "--sigla", "rm"])
        .args(mk)
        .output()
        .unwrap());
    let doppio = rivesto(d)
        .args([
            "admin",
            "comune",
            "add",
            "--config",
            "sim/anpr.toml",
            "--istat",
            "058091",
        ])
        .args(["--belfiore", "H501", "--nome", "Roma", "--sigla", "RM"])
        .args(mk)
        .output()
        .unwrap();
    assert!(errore(&doppio).contains("il Comune 058091 esiste già"));
    let ente = id(&esegui(
        d,
        &[
            "admin",
            "ente",
            "add",
            "--nome",
            "INPS",
            "--cf",
            "80078750587",
        ],
    ));
    let e = errore(&esegui(
        d,
        &["admin", "ente", "add", "--nome", "X", "--cf", "80078750588"],
    ));
    assert!(
        e.contains("cifra di controllo errata: attesa 7, trovata 8"),
        "{e}"
    );
    let conv = id(&esegui(
        d,
        &[
            "admin",
            "convenzione",
            "add",
            "--comune",
            "058091",
            "--ente",
            &ente,
            "--campi",
            "generalita,residenza,esistenza_in_vita",
            "--ambito",
            "ITALIA",
            "--approvazione",
            "silenzio:0",
            "--finalita",
            "C030=purpose-conv",
            "--valida-dal",
            "2026-01-01",
            "--max-righe-richiesta",
            "1000",
        ],
    ));
    std::fs::write(d.join("pw"), "una password lunga\n").unwrap();
    let standard = id(&esegui(
        d,
        &[
            "admin",
            "user",
            "add",
            "--username",
            "mario.rossi",
            "--ruolo",
            "standard",
            "--ente",
            &ente,
            "--password-file",
            "pw",
        ],
    ));
    let mut c = rivesto(d);
    c.args([
        "admin",
        "user",
        "add",
        "--username",
        "top.roma",
        "--ruolo",
        "TOP",
    ])
    .args(["--comune", "058091", "--password-stdin"]);
    let top = id(&con_stdin(c, "la password del TOP\n"));
    // A TOP belongs to a Comune, never to an Ente.
    let mut c = rivesto(d);
    c.args([
        "admin",
        "user",
        "add",
        "--username",
        "top.due",
        "--ruolo",
        "TOP",
    ])
    .args(["--ente", &ente, "--password-stdin"]);
    assert!(errore(&con_stdin(c, "la password del TOP\n")).contains("serve --comune"));
    let profilo = id(&esegui(
        d,
        &[
            "admin",
            "profilo",
            "set",
            "--utente",
            &standard,
            "--convenzione",
            &conv,
            "--campi",
            "generalita",
            "--ambito",
            "comune",
        ],
    ));
    let e = errore(&esegui(
        d,
        &[
            "admin",
            "profilo",
            "set",
            "--utente",
            &standard,
            "--convenzione",
            &conv,
            "--campi",
            "famiglia",
        ],
    ));
    assert!(
        e.contains("il gruppo famiglia non è tra quelli della convenzione"),
        "{e}"
    );
    Ids {
        comune,
        conv,
        standard,
        top,
        profilo,
    }
}

/// What the commands wrote, read back through the store.
async fn verifica_nel_database(d: &Path, ids: &Ids) {
    let url = format!("sqlite://{}/rivesto-data/rivesto.db", d.display());
    let s = store::Store::connetti(&url).await.unwrap();
    let chiave = store::ChiaveMaestra::da_file(&d.join("segreti/master.key")).unwrap();
    let c = s.comune(ids.comune.parse().unwrap()).await.unwrap();
    assert_eq!((c.belfiore.as_str(), c.sigla.as_str()), ("H501", "RM"));
    let accesso = s.accesso_anpr(c.id, &chiave).await.unwrap().unwrap();
    // The key file is stored under its bare name and the TOML points there.
    let pem = std::fs::read(d.join("sim/chiave-client.pem")).unwrap();
    assert_eq!(accesso.file["chiave-client.pem"].esponi(), pem.as_slice());
    assert!(
        accesso
            .toml
            .contains("private_key_file = \"chiave-client.pem\"")
    );
    let v = s.convenzione(ids.conv.parse().unwrap()).await.unwrap();
    assert_eq!(v.finalita["C030"], "purpose-conv");
    assert_eq!(v.max_righe_richiesta, Some(1000));
    // 2026-01-01 00:00 in Rome is 2025-12-31 23:00 UTC.
    assert_eq!(v.valida_dal_ms, 1_767_222_000_000);
    let p = s
        .profilo(ids.standard.parse().unwrap(), v.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p.id.to_string(), ids.profilo);
    assert_eq!(p.ambito, domain::ambito::Ambito::Comune);
    let u = s
        .verifica_password("top.roma", "la password del TOP")
        .await
        .unwrap();
    assert_eq!(u.map(|u| u.id.to_string()), Some(ids.top.clone()));
    assert!(
        s.verifica_password("mario.rossi", "una password lunga")
            .await
            .unwrap()
            .is_some()
    );

    let voci = s.voci_audit(0, 100).await.unwrap();
    let azioni: Vec<&str> = voci.iter().map(|v| v.azione.as_str()).collect();
    assert_eq!(
        azioni,
        [
            "COMUNE_CREATO",
            "ACCESSO_ANPR_IMPOSTATO",
            "ENTE_CREATO",
            "CONVENZIONE_CREATA",
            "UTENTE_CREATO",
            "UTENTE_CREATO",
            "PROFILO_IMPOSTATO",
        ]
    );
    assert!(voci.iter().all(|v| v.attore == "admin-cli"));
    assert!(
        !voci
            .iter()
            .any(|v| v.dettagli.contains("una password lunga")
                || v.dettagli.contains("la password del TOP"))
    );
    assert!(matches!(
        s.verifica_catena().await.unwrap(),
        store::EsitoVerifica::Valida { voci: 7, .. }
    ));
    s.chiudi().await;
}
