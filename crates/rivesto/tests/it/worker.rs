//! `rivesto worker` in its own process, against the simulator in another: it approves a
//! silent-consent request as `sistema`, processes it, and stops cleanly on SIGTERM.

use crate::anpr_check::{Figlio, attendi, porta_libera};
use crate::{rivesto, testo};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};
use store::richieste::{NuovaRichiesta, NuovaRiga, stato};

pub(crate) fn ok(dir: &Path, args: &[&str]) -> String {
    let o = rivesto(dir).args(args).output().unwrap();
    assert!(o.status.success(), "{args:?}\n{}", testo(&o));
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

pub(crate) fn ok_url(dir: &Path, url: &str, args: &[&str]) -> String {
    let o = rivesto(dir)
        .env("RIVESTO_DATABASE_URL", url)
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "{args:?}\n{}", testo(&o));
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

pub(crate) fn riga(numero: i64, cf: &str) -> NuovaRiga {
    NuovaRiga {
        numero,
        tipo: domain::tipo::TipoIdentificativo::Cf,
        identificativo: cf.into(),
        riferimento: None,
        rilascio: None,
        motivo: None,
        duplicato_di: None,
        esito: None,
        messaggio: None,
    }
}

#[test]
fn worker_senza_master_key_dice_come_crearla() {
    let dir = tempfile::tempdir().unwrap();
    ok(dir.path(), &["migrate"]);
    let o = rivesto(dir.path()).arg("worker").output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", testo(&o));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("rivesto admin gen-master-key"), "{e}");
}

#[tokio::test]
async fn worker_elabora_e_si_ferma_con_sigterm_su_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/rivesto-data/rivesto.db", dir.path().display());
    scenario(dir.path(), &url, &url).await;
}

/// The deployment of docs/postgresql.md: `migrate` as the owner, then `admin` and `worker` as
/// the runtime role it created.
#[tokio::test]
async fn worker_elabora_e_si_ferma_con_sigterm_su_postgres() {
    let Some(cluster) = crate::migrate::cluster_postgres() else {
        return;
    };
    let (nome, proprietario) = crate::migrate::database_nuovo(&cluster, "rivesto_cli_worker").await;
    let runtime = crate::migrate::con_utente(&cluster, "rivesto_app", &nome);
    let dir = tempfile::tempdir().unwrap();
    scenario(dir.path(), &proprietario, &runtime).await;
    crate::migrate::elimina_database(&cluster, &nome).await;
}

async fn scenario(d: &Path, url_proprietario: &str, url: &str) {
    let indirizzo = porta_libera().to_string();
    ok(
        d,
        &["anpr-sim", "init", "--out", "sim", "--listen", &indirizzo],
    );
    let _sim = Figlio::new(
        rivesto(d)
            .args([
                "anpr-sim",
                "--clients",
                "sim/sim-clients.toml",
                "--listen",
                &indirizzo,
            ])
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    attendi(indirizzo.parse().unwrap());
    ok(d, &["migrate", "--database-url", url_proprietario]);
    ok(d, &["admin", "gen-master-key"]);
    // From here on, as docs/postgresql.md says: the runtime URL, from the environment.
    let (conv, utente) = bootstrap(d, url);

    // Submission belongs to the web app; here the store does it, as the app will.
    let s = store::Store::connetti(url).await.unwrap();
    let id = invia(&s, conv, utente).await;

    let w = Figlio::new(
        rivesto(d)
            .env("RIVESTO_DATABASE_URL", url)
            .arg("worker")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let inizio = Instant::now();
    while s.richiesta(id).await.unwrap().stato != stato::COMPLETATA {
        assert!(
            inizio.elapsed() < Duration::from_secs(60),
            "richiesta non completata"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &w.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let o = w.uscita();
    assert!(o.status.success(), "{}", testo(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("Worker fermato."),
        "{}",
        testo(&o)
    );

    let esiti: Vec<_> = s
        .righe(id, 0, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.esito.map(|e| e.as_str()))
        .collect();
    assert_eq!(esiti, [Some("TROVATO"), Some("NON_TROVATO")]);
    let voci = s.voci_audit(0, 1000).await.unwrap();
    assert!(
        voci.iter()
            .any(|v| v.azione == "RICHIESTA_CONVALIDATA" && v.attore == "sistema"),
        "il silenzio-assenso approva come sistema"
    );
    let file = s.file_risposta(id).await.unwrap();
    assert_eq!(file.len(), 1);
    let percorso = Path::new(&file[0].percorso);
    assert!(percorso.is_absolute(), "{}", percorso.display());
    let risultati = d.join("rivesto-data/risultati").canonicalize().unwrap();
    assert!(percorso.canonicalize().unwrap().starts_with(risultati));
    s.chiudi().await;
}

/// The bootstrap of README.md, through the binary: a Comune, an Ente, a silent-consent
/// convention and a STANDARD user; their ids.
pub(crate) fn bootstrap(d: &Path, url: &str) -> (i64, i64) {
    ok_url(
        d,
        url,
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
    );
    let ente = ok_url(
        d,
        url,
        &[
            "admin",
            "ente",
            "add",
            "--nome",
            "ASL Roma 1",
            "--ipa",
            "asl_rm1",
        ],
    );
    let conv = ok_url(
        d,
        url,
        &[
            "admin",
            "convenzione",
            "add",
            "--comune",
            "058091",
            "--ente",
            &ente,
            "--campi",
            "id_anpr,generalita",
            "--ambito",
            "ITALIA",
            "--approvazione",
            "silenzio:0",
        ],
    );
    std::fs::write(d.join("pw"), "una password lunga\n").unwrap();
    let utente = ok_url(
        d,
        url,
        &[
            "admin",
            "user",
            "add",
            "--username",
            "operatore.asl",
            "--ruolo",
            "STANDARD",
            "--ente",
            &ente,
            "--password-file",
            "pw",
        ],
    );
    (conv.parse().unwrap(), utente.parse().unwrap())
}

pub(crate) async fn invia(s: &store::Store, conv: i64, utente: i64) -> i64 {
    let snapshot = worker::Istantanea::componi(s, conv, utente, "LoA2")
        .await
        .unwrap();
    let nuova = NuovaRichiesta {
        convenzione_id: conv,
        utente_id: utente,
        motivo: "PROT-1".into(),
        data_riferimento: chrono::Utc::now().format("%Y-%m-%d").to_string(),
        snapshot: snapshot.json(),
    };
    let attore = store::Attore {
        nome: "operatore.asl".into(),
        ruolo: Some("STANDARD".into()),
        comune: None,
        ente: Some("asl_rm1".into()),
    };
    let righe = [riga(2, "STTSGT90A01H501J"), riga(3, "PRVCCL60B50G393U")];
    let id = s.crea_richiesta(&nuova, &righe, &attore).await.unwrap();
    s.cambia_stato_richiesta(
        id,
        &[stato::BOZZA],
        stato::IN_ATTESA_CONVALIDA,
        None,
        &attore,
    )
    .await
    .unwrap();
    id
}
