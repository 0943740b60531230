use crate::supporto::Db;

crate::contratto!(sessioni_scadono_e_si_cancellano);

async fn sessioni_scadono_e_si_cancellano(db: &Db) {
    let s = &db.store;
    s.salva_sessione("cookie-a", r#"{"utente":1}"#, 10_000)
        .await
        .unwrap();
    s.salva_sessione("cookie-b", r#"{"utente":2}"#, 20_000)
        .await
        .unwrap();
    assert_eq!(
        s.carica_sessione("cookie-a", 9_999)
            .await
            .unwrap()
            .as_deref(),
        Some(r#"{"utente":1}"#)
    );
    assert_eq!(
        s.carica_sessione("cookie-a", 10_000).await.unwrap(),
        None,
        "expired"
    );
    assert_eq!(s.carica_sessione("cookie-c", 0).await.unwrap(), None);
    s.salva_sessione("cookie-a", r#"{"utente":1,"csrf":"x"}"#, 30_000)
        .await
        .unwrap();
    assert_eq!(
        s.carica_sessione("cookie-a", 25_000)
            .await
            .unwrap()
            .as_deref(),
        Some(r#"{"utente":1,"csrf":"x"}"#)
    );
    assert_eq!(s.elimina_sessioni_scadute(25_000).await.unwrap(), 1);
    assert_eq!(s.carica_sessione("cookie-b", 0).await.unwrap(), None);
    s.elimina_sessione("cookie-a").await.unwrap();
    assert_eq!(s.carica_sessione("cookie-a", 0).await.unwrap(), None);
}
