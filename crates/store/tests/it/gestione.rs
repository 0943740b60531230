//! Contract tests: gestione (administration queries).

use crate::supporto::{Db, base, top};
use store::anagrafiche::{NuovoComune, NuovoUtente, TipoCodiceEnte};

crate::contratto!(enti_utenti_e_verifiche);

async fn enti_utenti_e_verifiche(db: &Db) {
    let s = &db.store;
    let b = base(s).await;
    let roma = s
        .crea_comune(
            &NuovoComune {
                codice_istat: "058091".into(),
                belfiore: "H501".into(),
                nome: "Roma".into(),
                sigla: "RM".into(),
            },
            &top(),
        )
        .await
        .unwrap();
    let asl = s
        .crea_ente(
            "Asl_Rm1",
            TipoCodiceEnte::Ipa,
            "ASL Roma 1",
            "ASL-RM1",
            &top(),
        )
        .await
        .unwrap();
    // Enti seen through conventions only.
    let enti = s.enti_convenzionati(b.comune_id).await.unwrap();
    assert_eq!(enti.iter().map(|e| e.id).collect::<Vec<_>>(), [b.ente_id]);
    assert_eq!(enti[0].codice_ufficio, "PL-MI-01");
    assert!(s.enti_convenzionati(roma).await.unwrap().is_empty());
    assert!(s.ente_convenzionato(b.comune_id, b.ente_id).await.unwrap());
    assert!(!s.ente_convenzionato(b.comune_id, asl).await.unwrap());
    assert!(!s.ente_convenzionato(roma, b.ente_id).await.unwrap());
    // Found globally by code; IPA codes regardless of case, CF exactly.
    assert_eq!(
        s.ente_per_codice(" 80012345678 ")
            .await
            .unwrap()
            .unwrap()
            .id,
        b.ente_id
    );
    let e = s.ente_per_codice("asl_rm1").await.unwrap().unwrap();
    assert_eq!((e.id, e.tipo_codice), (asl, TipoCodiceEnte::Ipa));
    assert!(s.ente_per_codice("99999999999").await.unwrap().is_none());

    // Users of an Ente by role, with their addresses.
    let admin = s
        .crea_utente(
            &NuovoUtente {
                username: "admin.pl".into(),
                password: "una password lunga".into(),
                ruolo: "ADMIN".into(),
                comune_id: None,
                ente_id: Some(b.ente_id),
                codice_utente: "admin.pl".into(),
            },
            &top(),
        )
        .await
        .unwrap();
    s.imposta_email(admin, Some(" admin@pl.example.it "), &top())
        .await
        .unwrap();
    let admins = s.utenti_di_ente(b.ente_id, "ADMIN").await.unwrap();
    assert_eq!(admins.len(), 1);
    assert_eq!(admins[0].utente.id, admin);
    assert_eq!(admins[0].email.as_deref(), Some("admin@pl.example.it"));
    let standard = s.utenti_di_ente(b.ente_id, "STANDARD").await.unwrap();
    assert_eq!(
        standard.iter().map(|u| u.utente.id).collect::<Vec<_>>(),
        [b.utente_id]
    );
    assert_eq!(standard[0].email, None);
    assert!(s.utenti_di_ente(asl, "STANDARD").await.unwrap().is_empty());
    assert_eq!(
        s.email_utente(admin).await.unwrap().as_deref(),
        Some("admin@pl.example.it")
    );
    s.imposta_email(admin, Some("  "), &top()).await.unwrap();
    assert_eq!(s.email_utente(admin).await.unwrap(), None);

    // Profiles by convention.
    assert!(s.profili_di_utente(b.utente_id).await.unwrap().is_empty());
    s.imposta_profilo(
        b.utente_id,
        b.convenzione_id,
        &[domain::gruppi::GruppoCampi::Generalita],
        domain::ambito::Ambito::Comune,
        &top(),
    )
    .await
    .unwrap();
    let p = s.profili_di_utente(b.utente_id).await.unwrap();
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].convenzione_id, b.convenzione_id);

    // The connection check is archived without personal data; the last upload is dated.
    assert_eq!(
        s.ultimo_audit("comune:015146", "ANPR_VERIFICA_RICERCA")
            .await
            .unwrap(),
        None
    );
    s.registra_verifica_anpr(
        b.comune_id,
        "ANPR_VERIFICA_RICERCA",
        serde_json::json!({"cf_hmac": "ab12", "esito": "TROVATO"}),
        &top(),
    )
    .await
    .unwrap();
    let quando = s
        .ultimo_audit("comune:015146", "ANPR_VERIFICA_RICERCA")
        .await
        .unwrap();
    assert!(quando.is_some_and(|q| q > 0));
    let voci = s.voci_audit(0, 1000).await.unwrap();
    let v = voci
        .iter()
        .find(|v| v.azione == "ANPR_VERIFICA_RICERCA")
        .unwrap();
    assert_eq!(v.comune.as_deref(), Some("015146"));
    assert_eq!(v.dettagli, r#"{"cf_hmac":"ab12","esito":"TROVATO"}"#);
    let email = voci
        .iter()
        .find(|v| v.azione == "UTENTE_EMAIL_IMPOSTATA")
        .unwrap();
    assert!(!email.dettagli.contains("example.it"), "{}", email.dettagli);
}
