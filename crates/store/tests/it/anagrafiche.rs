use crate::supporto::{Db, base, top};
use domain::ambito::Ambito;
use domain::gruppi::GruppoCampi;
use store::ChiaveMaestra;
use store::anagrafiche::{Approvazione, TipoCodiceEnte};

crate::contratto!(
    comuni_e_accesso_anpr_cifrato,
    enti_convenzioni_utenti_profili
);

async fn comuni_e_accesso_anpr_cifrato(db: &Db) {
    let s = &db.store;
    let b = base(s).await;
    let c = s.comune(b.comune_id).await.unwrap();
    assert_eq!(
        (
            c.codice_istat.as_str(),
            c.belfiore.as_str(),
            c.sigla.as_str()
        ),
        ("015146", "F205", "MI")
    );
    assert!(!c.ha_accesso_anpr);
    assert_eq!(
        s.comune_per_istat("015146").await.unwrap().unwrap().id,
        b.comune_id
    );
    assert!(s.comune_per_istat("999999").await.unwrap().is_none());
    assert!(s.comune(9999).await.is_err());

    let k = ChiaveMaestra::da_byte(&[42u8; 32]).unwrap();
    assert!(s.accesso_anpr(b.comune_id, &k).await.unwrap().is_none());
    let chiave_privata = b"-----BEGIN PRIVATE KEY-----\nMIIEsegretissimo\n".to_vec();
    let toml = "[pdnd]\nclient_id = \"abc\"\nkey_file = \"client.key\"\n";
    s.imposta_accesso_anpr(
        b.comune_id,
        toml,
        &[("client.key".into(), chiave_privata.clone())],
        &k,
        &top(),
    )
    .await
    .unwrap();
    let a = s.accesso_anpr(b.comune_id, &k).await.unwrap().unwrap();
    assert_eq!(a.toml, toml);
    assert_eq!(a.file["client.key"].esponi(), chiave_privata.as_slice());
    assert!(s.comune(b.comune_id).await.unwrap().ha_accesso_anpr);
    // Another master key cannot read it.
    let altra = ChiaveMaestra::da_byte(&[43u8; 32]).unwrap();
    assert!(s.accesso_anpr(b.comune_id, &altra).await.is_err());
}

async fn enti_convenzioni_utenti_profili(db: &Db) {
    let s = &db.store;
    let b = base(s).await;
    let e = s.ente(b.ente_id).await.unwrap();
    assert_eq!(e.codice, "80012345678");
    assert_eq!(e.tipo_codice, TipoCodiceEnte::CodiceFiscale);
    assert_eq!(e.codice_ufficio, "PL-MI-01");
    // The codice fiscale or IPA code identifies an Ente once.
    let doppio = s
        .crea_ente("80012345678", TipoCodiceEnte::Ipa, "Doppio", "X", &top())
        .await
        .unwrap_err();
    assert!(doppio.duplicato(), "{doppio}");
    // Foreign keys hold on both engines.
    let orfano = s
        .imposta_profilo(
            b.utente_id,
            9_999,
            &[GruppoCampi::Generalita],
            Ambito::Comune,
            &top(),
        )
        .await
        .unwrap_err();
    assert!(!orfano.duplicato(), "{orfano}");
    assert!(
        matches!(
            orfano,
            store::ErroreStore::Database(sqlx::Error::Database(_))
        ),
        "{orfano}"
    );

    let c = s.convenzione(b.convenzione_id).await.unwrap();
    assert_eq!(
        c.campi,
        vec![GruppoCampi::Generalita, GruppoCampi::Residenza]
    );
    assert_eq!(c.ambito, Ambito::Comune);
    assert_eq!(
        c.approvazione,
        Approvazione::SilenzioAssenso { ritardo_ms: 0 }
    );
    assert_eq!(c.finalita["C030"], "purpose-1");
    assert_eq!(
        (
            c.max_righe_richiesta,
            c.max_soggetti_giorno,
            c.conservazione_giorni
        ),
        (Some(1000), Some(5000), 7)
    );
    assert_eq!(c.tracciato, serde_json::json!({"separatore": ";"}));
    assert!(!c.ricerca_nazionale);
    assert_eq!(s.convenzioni(b.comune_id, false).await.unwrap().len(), 1);
    assert_eq!(
        s.convenzioni(b.ente_id, true).await.unwrap()[0].id,
        b.convenzione_id
    );

    let u = s.utente(b.utente_id).await.unwrap();
    assert_eq!(
        (u.username.as_str(), u.ruolo.as_str(), u.ente_id, u.attivo),
        ("mario.rossi", "STANDARD", Some(b.ente_id), true)
    );
    assert_eq!(
        s.verifica_password("mario.rossi", "una password lunga")
            .await
            .unwrap()
            .unwrap()
            .id,
        b.utente_id
    );
    assert!(
        s.verifica_password("mario.rossi", "sbagliata")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.verifica_password("nessuno", "una password lunga")
            .await
            .unwrap()
            .is_none()
    );
    s.imposta_utente_attivo(b.utente_id, false, &top())
        .await
        .unwrap();
    assert!(!s.utente(b.utente_id).await.unwrap().attivo);

    assert!(
        s.profilo(b.utente_id, b.convenzione_id)
            .await
            .unwrap()
            .is_none()
    );
    let id = s
        .imposta_profilo(
            b.utente_id,
            b.convenzione_id,
            &[GruppoCampi::Generalita],
            Ambito::Comune,
            &top(),
        )
        .await
        .unwrap();
    let id2 = s
        .imposta_profilo(
            b.utente_id,
            b.convenzione_id,
            &[GruppoCampi::Residenza],
            Ambito::Comune,
            &top(),
        )
        .await
        .unwrap();
    assert_eq!(id, id2, "one profile per user and convention");
    let p = s
        .profilo(b.utente_id, b.convenzione_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p.campi, vec![GruppoCampi::Residenza]);
}
