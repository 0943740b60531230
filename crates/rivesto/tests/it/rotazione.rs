//! `rivesto admin rotate-file-key` on a running installation: files written before the rotation
//! and after it both download through the API, and each one opens only with its own identity.

use crate::client::{avvia, file_in, stdout};
use crate::{rivesto, testo};
use std::path::Path;

async fn invia_e_attendi(
    a: &crate::client::Ambiente,
    token: &str,
    motivo: &str,
    out: &Path,
) -> String {
    let conv = a.convenzione("operatore.asl").await;
    let file = a.file_esempio();
    let o = a
        .client(
            Some(token),
            &[
                "submit",
                file.to_str().unwrap(),
                "--convenzione",
                &conv,
                "--motivo",
                motivo,
                "--wait",
                "--out",
                out.to_str().unwrap(),
                "--intervallo-ms",
                "200",
            ],
        )
        .await;
    assert_eq!(o.status.code(), Some(0), "{}", testo(&o));
    assert!(!file_in(out).is_empty(), "{}", testo(&o));
    stdout(&o).lines().next().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn file_prima_e_dopo_la_rotazione_si_scaricano() {
    let a = avvia().await;
    let token = a.token("operatore.asl").await;
    let d = a.cartella();
    let prima = d.join("prima");
    let id_prima = invia_e_attendi(&a, &token, "PROT-ROT-1", &prima).await;
    let store = &a.stato.store;
    let chiave = store::ChiaveMaestra::da_file(&d.join("master.key")).unwrap();
    let vecchia = worker::identita_file(store, &chiave).await.unwrap();

    let url_db = format!("sqlite://{}", d.join("rivesto.db").display());
    let o = rivesto(d)
        .args(["--database-url", &url_db, "--master-key-file", "master.key"])
        .args(["admin", "rotate-file-key"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", testo(&o));
    let nuova_pubblica = stdout(&o).trim().to_string();
    assert!(nuova_pubblica.starts_with("age1"), "{}", testo(&o));
    assert_ne!(nuova_pubblica, vecchia.destinatario().to_string());
    let tutte = worker::identita_file_tutte(store, &chiave).await.unwrap();
    assert_eq!(tutte.len(), 2, "la nuova e quella ritirata");
    assert_eq!(tutte[0].destinatario().to_string(), nuova_pubblica);

    let dopo = d.join("dopo");
    let id_dopo = invia_e_attendi(&a, &token, "PROT-ROT-2", &dopo).await;

    // The file written before the rotation still downloads, and is the same file.
    let ancora = d.join("ancora");
    let o = a
        .client(
            Some(&token),
            &["download", &id_prima, "--out", ancora.to_str().unwrap()],
        )
        .await;
    assert_eq!(o.status.code(), Some(0), "{}", testo(&o));
    for n in file_in(&prima) {
        assert_eq!(
            std::fs::read(prima.join(&n)).unwrap(),
            std::fs::read(ancora.join(&n)).unwrap()
        );
    }

    // Each stored file opens with its own identity only: the rotation took effect.
    let id_num = |opaco: &str| {
        a.stato
            .ids
            .decodifica(web::ids::Tipo::Richiesta, opaco)
            .unwrap()
    };
    let f_prima = store.file_risposta(id_num(&id_prima)).await.unwrap();
    let f_dopo = store.file_risposta(id_num(&id_dopo)).await.unwrap();
    let apre = |p: &str, i: &worker::cifratura::IdentitaFile| {
        worker::cifratura::decifra(Path::new(p), i, &mut std::io::sink()).is_ok()
    };
    assert!(apre(&f_prima[0].percorso, &vecchia));
    assert!(!apre(&f_prima[0].percorso, &tutte[0]));
    assert!(apre(&f_dopo[0].percorso, &tutte[0]));
    assert!(!apre(&f_dopo[0].percorso, &vecchia));

    // The rotation is in the archive, without the key.
    let voci = store.voci_audit(0, 10_000).await.unwrap();
    let v = voci
        .iter()
        .find(|v| v.azione == "SEGRETO_RUOTATO")
        .expect("voce di audit della rotazione");
    assert_eq!(v.attore, "admin-cli");
    assert!(!v.dettagli.contains("AGE-SECRET-KEY"), "{}", v.dettagli);
}
