//! API tokens: stored hashed, listed per user, revoked once, last use recorded.

use crate::supporto::{Db, top};
use store::anagrafiche::NuovoUtente;
use store::token_api::NuovoTokenApi;

crate::contratto!(token_api_ciclo_di_vita, token_api_di_altri_utenti);

async fn utente(db: &Db, username: &str) -> i64 {
    db.store
        .crea_utente(
            &NuovoUtente {
                username: username.into(),
                password: "una password lunga abbastanza".into(),
                ruolo: "TOP".into(),
                comune_id: None,
                ente_id: None,
                codice_utente: username.to_uppercase(),
            },
            &top(),
        )
        .await
        .unwrap()
}

fn nuovo(utente_id: i64, nome: &str, loa: &str) -> NuovoTokenApi {
    NuovoTokenApi {
        utente_id,
        nome: nome.into(),
        loa: loa.into(),
    }
}

async fn token_api_ciclo_di_vita(db: &Db) {
    let s = &db.store;
    let u = utente(db, "mario").await;
    let segreto = "rvt_AAAAsegretoDiProvaAAAAAAAAAAAAAAAAAAAAAAAA";
    let id = s
        .crea_token_api(&nuovo(u, "script", "LoA2"), segreto, 1_000, &top())
        .await
        .unwrap();

    // Only the hash is stored: the secret appears nowhere in the table or the archive.
    let t = s.usa_token_api(segreto, 5_000).await.unwrap().unwrap();
    assert_eq!((t.id, t.utente_id, t.loa.as_str()), (id, u, "LoA2"));
    assert_eq!((t.creato_ms, t.ultimo_uso_ms), (1_000, Some(5_000)));
    let voci = s.voci_audit(0, 1000).await.unwrap();
    let creato = voci
        .iter()
        .find(|v| v.azione == "TOKEN_API_CREATO")
        .unwrap();
    assert_eq!(creato.oggetto, "utente:mario");
    assert!(creato.dettagli.contains("script"), "{}", creato.dettagli);
    assert!(voci.iter().all(|v| !v.dettagli.contains("segreto")));

    // The last use is written back at most once a minute.
    let t = s.usa_token_api(segreto, 30_000).await.unwrap().unwrap();
    assert_eq!(t.ultimo_uso_ms, Some(5_000));
    let t = s.usa_token_api(segreto, 65_000).await.unwrap().unwrap();
    assert_eq!(t.ultimo_uso_ms, Some(65_000));

    assert!(
        s.usa_token_api("rvt_altro", 70_000)
            .await
            .unwrap()
            .is_none()
    );
    assert!(s.usa_token_api("", 70_000).await.unwrap().is_none());

    assert!(s.revoca_token_api(u, id, 80_000, &top()).await.unwrap());
    assert!(s.usa_token_api(segreto, 90_000).await.unwrap().is_none());
    // Revoking twice changes nothing and is audited once.
    assert!(!s.revoca_token_api(u, id, 95_000, &top()).await.unwrap());
    let revoche = s
        .voci_audit(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|v| v.azione == "TOKEN_API_REVOCATO")
        .count();
    assert_eq!(revoche, 1);

    let elenco = s.token_api_utente(u).await.unwrap();
    assert_eq!(elenco.len(), 1);
    assert_eq!(elenco[0].revocato_ms, Some(80_000));
    assert_eq!(elenco[0].ultimo_uso_ms, Some(65_000));
    assert!(matches!(
        s.verifica_catena().await.unwrap(),
        store::EsitoVerifica::Valida { .. }
    ));
}

async fn token_api_di_altri_utenti(db: &Db) {
    let s = &db.store;
    let a = utente(db, "anna").await;
    let b = utente(db, "bruno").await;
    let ta = s
        .crea_token_api(&nuovo(a, "uno", "LoA1"), "rvt_anna", 1, &top())
        .await
        .unwrap();
    s.crea_token_api(&nuovo(b, "due", "LoA2"), "rvt_bruno", 2, &top())
        .await
        .unwrap();
    let tb2 = s
        .crea_token_api(&nuovo(b, "tre", "LoA2"), "rvt_bruno_2", 3, &top())
        .await
        .unwrap();

    // Bruno cannot revoke Anna's token: it is "not found", like a missing one.
    let e = s.revoca_token_api(b, ta, 10, &top()).await.unwrap_err();
    assert!(matches!(e, store::ErroreStore::NonTrovato { .. }), "{e}");
    assert!(s.usa_token_api("rvt_anna", 20).await.unwrap().is_some());

    let nomi: Vec<String> = s
        .token_api_utente(b)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.nome)
        .collect();
    assert_eq!(nomi, ["tre", "due"], "newest first, only Bruno's");
    assert_eq!(s.token_api_utente(a).await.unwrap().len(), 1);

    // The same secret twice is refused by the unique hash; an unknown LoA by the check.
    assert!(
        s.crea_token_api(&nuovo(a, "copia", "LoA1"), "rvt_bruno", 4, &top())
            .await
            .is_err()
    );
    assert!(
        s.crea_token_api(&nuovo(a, "strano", "LoA3"), "rvt_nuovo", 5, &top())
            .await
            .is_err()
    );
    assert!(s.revoca_token_api(b, tb2, 30, &top()).await.unwrap());
    assert!(s.usa_token_api("rvt_bruno", 40).await.unwrap().is_some());
}
