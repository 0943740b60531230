//! Contract tests: TOTP enrolment and replay, password change and reset codes, throttling.

use crate::supporto::{Db, base, top};
use store::{Attore, Audit};

crate::contratto!(
    totp_iscrizione_riuso_e_rimozione,
    password_e_codice_reset,
    accessi_falliti_e_blocco
);

fn utente() -> Attore {
    Attore {
        nome: "mario.rossi".into(),
        ruolo: Some("STANDARD".into()),
        comune: None,
        ente: None,
    }
}

async fn azioni_audit(db: &Db) -> Vec<String> {
    db.store
        .voci_audit(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|v| v.azione)
        .collect()
}

async fn totp_iscrizione_riuso_e_rimozione(db: &Db) {
    let s = &db.store;
    let b = base(s).await;
    assert!(s.totp_utente(b.utente_id).await.unwrap().is_none());
    // No TOTP: no step can be accepted.
    assert!(!s.usa_passo_totp(b.utente_id, 100).await.unwrap());

    s.imposta_totp(b.utente_id, b"cifrato", 100, 1_000, &utente())
        .await
        .unwrap();
    let t = s.totp_utente(b.utente_id).await.unwrap().unwrap();
    assert_eq!(t.segreto_cifrato, b"cifrato");
    assert_eq!(t.ultimo_passo, 100);
    assert!(
        !format!("{t:?}").contains("cifrato\""),
        "Debug hides the secret"
    );

    // The enrolment's step, and earlier ones, are spent; a later step is accepted once.
    assert!(!s.usa_passo_totp(b.utente_id, 100).await.unwrap());
    assert!(!s.usa_passo_totp(b.utente_id, 99).await.unwrap());
    assert!(s.usa_passo_totp(b.utente_id, 101).await.unwrap());
    assert!(!s.usa_passo_totp(b.utente_id, 101).await.unwrap());
    assert_eq!(
        s.totp_utente(b.utente_id)
            .await
            .unwrap()
            .unwrap()
            .ultimo_passo,
        101
    );

    assert!(s.rimuovi_totp(b.utente_id, &utente()).await.unwrap());
    assert!(!s.rimuovi_totp(b.utente_id, &utente()).await.unwrap());
    assert!(s.totp_utente(b.utente_id).await.unwrap().is_none());
    let azioni = azioni_audit(db).await;
    assert_eq!(azioni.iter().filter(|a| *a == "TOTP_ISCRITTO").count(), 1);
    assert_eq!(azioni.iter().filter(|a| *a == "TOTP_RIMOSSO").count(), 1);
}

async fn password_e_codice_reset(db: &Db) {
    let s = &db.store;
    let b = base(s).await;
    s.imposta_password(b.utente_id, "nuova password robusta", false, &utente())
        .await
        .unwrap();
    assert!(
        s.verifica_password("mario.rossi", "nuova password robusta")
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        s.verifica_password("mario.rossi", "una password lunga")
            .await
            .unwrap()
            .is_none()
    );

    s.imposta_totp(b.utente_id, b"x", 1, 0, &utente())
        .await
        .unwrap();
    s.emetti_codice_reset(b.utente_id, "CODICE-1", 1_000, 5_000, &top())
        .await
        .unwrap();
    // A replaced code no longer works.
    s.emetti_codice_reset(b.utente_id, "CODICE-2", 1_000, 5_000, &top())
        .await
        .unwrap();
    assert!(
        !s.usa_codice_reset(b.utente_id, "CODICE-1", 2_000, &utente())
            .await
            .unwrap()
    );
    // Expired at 5 000.
    assert!(
        !s.usa_codice_reset(b.utente_id, "CODICE-2", 5_000, &utente())
            .await
            .unwrap()
    );
    assert!(
        s.usa_codice_reset(b.utente_id, "CODICE-2", 4_999, &utente())
            .await
            .unwrap()
    );
    assert!(
        !s.usa_codice_reset(b.utente_id, "CODICE-2", 4_999, &utente())
            .await
            .unwrap(),
        "one use only"
    );
    // A reset's new password also clears the TOTP, so a lost phone is covered.
    assert!(s.totp_utente(b.utente_id).await.unwrap().is_some());
    s.imposta_password(b.utente_id, "dopo il reset 2026", true, &utente())
        .await
        .unwrap();
    assert!(s.totp_utente(b.utente_id).await.unwrap().is_none());

    let voci = s.voci_audit(0, 1000).await.unwrap();
    let emesso = voci
        .iter()
        .find(|v| v.azione == "RESET_PASSWORD_EMESSO")
        .unwrap();
    assert_eq!(emesso.attore, "top.c030");
    assert_eq!(emesso.oggetto, "utente:mario.rossi");
    let azioni = azioni_audit(db).await;
    assert!(azioni.contains(&"RESET_PASSWORD_USATO".to_string()));
    assert_eq!(
        azioni.iter().filter(|a| *a == "PASSWORD_CAMBIATA").count(),
        2
    );
    for v in &voci {
        for segreto in ["CODICE-2", "dopo il reset", "nuova password"] {
            assert!(!v.dettagli.contains(segreto), "{}", v.dettagli);
        }
    }
}

async fn accessi_falliti_e_blocco(db: &Db) {
    let s = &db.store;
    let finestra = 15 * 60 * 1000;
    let audit = Audit::nuovo(&Attore::sistema(), "accesso", "ACCESSO_FALLITO");
    let chiavi = [
        "utente:mario.rossi".to_string(),
        "indirizzo:192.0.2.7".to_string(),
    ];
    let t0 = 10_000_000;
    for i in 0..4 {
        s.registra_accesso_fallito(&chiavi, t0 + i * 1000, &audit)
            .await
            .unwrap();
    }
    assert_eq!(
        s.blocco_accesso("utente:mario.rossi", t0 + 5000, finestra, 5)
            .await
            .unwrap(),
        None
    );
    s.registra_accesso_fallito(&chiavi, t0 + 4000, &audit)
        .await
        .unwrap();
    // Five failures at t0..t0+4000: blocked until the oldest of the five leaves the window.
    assert_eq!(
        s.blocco_accesso("utente:mario.rossi", t0 + 5000, finestra, 5)
            .await
            .unwrap(),
        Some(t0 + finestra)
    );
    assert_eq!(
        s.blocco_accesso("utente:mario.rossi", t0 + finestra, finestra, 5)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.blocco_accesso("indirizzo:192.0.2.7", t0 + 5000, finestra, 5)
            .await
            .unwrap(),
        Some(t0 + finestra)
    );
    assert_eq!(
        s.blocco_accesso("utente:altro", t0 + 5000, finestra, 5)
            .await
            .unwrap(),
        None
    );
    // A success clears the account's failures, not the address's.
    s.azzera_accessi_falliti("utente:mario.rossi")
        .await
        .unwrap();
    assert_eq!(
        s.blocco_accesso("utente:mario.rossi", t0 + 5000, finestra, 5)
            .await
            .unwrap(),
        None
    );
    assert!(
        s.blocco_accesso("indirizzo:192.0.2.7", t0 + 5000, finestra, 5)
            .await
            .unwrap()
            .is_some()
    );
    // A failure two days later drops the old rows.
    let dopo = t0 + 2 * 24 * 3600 * 1000;
    s.registra_accesso_fallito(&chiavi[1..], dopo, &audit)
        .await
        .unwrap();
    assert_eq!(
        s.blocco_accesso("indirizzo:192.0.2.7", dopo, 3 * 24 * 3600 * 1000, 2)
            .await
            .unwrap(),
        None,
        "only the new failure is left"
    );
    let n = azioni_audit(db)
        .await
        .iter()
        .filter(|a| *a == "ACCESSO_FALLITO")
        .count();
    assert_eq!(n, 6);
}
