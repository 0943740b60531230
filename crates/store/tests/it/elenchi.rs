//! Contract tests: the lists of the request pages (scope, state filter, progress counts), the
//! validation preview (problem rows, warnings) and discarding a BOZZA.

use crate::richieste::{richiesta, riga};
use crate::supporto::{Db, base, tenant_roma, top};
use domain::esito::Esito;
use store::elenchi::{AmbitoElenco, ConteggioProblemi, FiltroRichieste, ProblemaRiga};
use store::richieste::stato;
use store::{ErroreStore, Store};

crate::contratto!(elenchi_per_ambito, anteprima_e_scarto_della_bozza);

fn filtro(ambito: AmbitoElenco, stato: Option<&str>) -> FiltroRichieste {
    FiltroRichieste {
        ambito,
        stato: stato.map(str::to_string),
        limite: 50,
    }
}

async fn ids(s: &Store, f: FiltroRichieste) -> Vec<i64> {
    s.elenco_richieste(&f)
        .await
        .unwrap()
        .into_iter()
        .map(|v| v.richiesta.id)
        .collect()
}

async fn elenchi_per_ambito(db: &Db) {
    let s = &db.store;
    let b = base(s).await;
    let o = tenant_roma(s, &top(), false).await;
    let mut non_valida = riga(2, "XXX");
    non_valida.esito = Some(Esito::NonValido);
    let bozza = richiesta(
        s,
        b.convenzione_id,
        b.utente_id,
        &[riga(1, "A"), non_valida],
    )
    .await;
    let inviata = richiesta(s, b.convenzione_id, b.utente_id, &[riga(1, "B")]).await;
    s.cambia_stato_richiesta(
        inviata,
        &[stato::BOZZA],
        stato::IN_ATTESA_CONVALIDA,
        None,
        &top(),
    )
    .await
    .unwrap();
    let altrui = richiesta(s, o.convenzione_id, o.utente_id, &[riga(1, "C")]).await;
    s.cambia_stato_richiesta(
        altrui,
        &[stato::BOZZA],
        stato::IN_ATTESA_CONVALIDA,
        None,
        &top(),
    )
    .await
    .unwrap();

    // The submitter sees its drafts too, newest first; monitors never see drafts.
    assert_eq!(
        ids(s, filtro(AmbitoElenco::Utente(b.utente_id), None)).await,
        vec![inviata, bozza]
    );
    assert_eq!(
        ids(s, filtro(AmbitoElenco::Comune(b.comune_id), None)).await,
        vec![inviata]
    );
    assert_eq!(
        ids(s, filtro(AmbitoElenco::Ente(b.ente_id), None)).await,
        vec![inviata]
    );
    assert_eq!(
        ids(s, filtro(AmbitoElenco::Comune(o.comune_id), None)).await,
        vec![altrui]
    );
    assert_eq!(
        ids(s, filtro(AmbitoElenco::Ente(o.ente_id), None)).await,
        vec![altrui]
    );
    assert_eq!(
        ids(
            s,
            filtro(AmbitoElenco::Utente(b.utente_id), Some(stato::BOZZA))
        )
        .await,
        vec![bozza]
    );
    assert!(
        ids(
            s,
            filtro(AmbitoElenco::Comune(b.comune_id), Some(stato::COMPLETATA))
        )
        .await
        .is_empty()
    );
    let mut uno = filtro(AmbitoElenco::Utente(b.utente_id), None);
    uno.limite = 1;
    assert_eq!(ids(s, uno).await, vec![inviata]);

    let v = s.voce_richiesta(bozza).await.unwrap();
    assert_eq!(
        (
            v.convenzione.as_str(),
            v.comune.as_str(),
            v.ente.as_str(),
            v.richiedente.as_str()
        ),
        ("PL Milano", "Milano", "Polizia Locale", "mario.rossi")
    );
    assert_eq!(
        (v.righe_totali, v.righe_finali),
        (2, 1),
        "the invalid row is final"
    );
    assert_eq!(v.richiesta.stato, stato::BOZZA);
    assert!(matches!(
        s.voce_richiesta(9_999).await,
        Err(ErroreStore::NonTrovato { .. })
    ));

    let attesa = Some(stato::IN_ATTESA_CONVALIDA);
    assert_eq!(
        s.conta_richieste(AmbitoElenco::Comune(b.comune_id), attesa)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        s.conta_richieste(AmbitoElenco::Utente(b.utente_id), None)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        s.conta_richieste(AmbitoElenco::Ente(o.ente_id), Some(stato::BOZZA))
            .await
            .unwrap(),
        0
    );
}

async fn anteprima_e_scarto_della_bozza(db: &Db) {
    let s = &db.store;
    let b = base(s).await;
    let mut non_valida = riga(3, "XXX");
    non_valida.esito = Some(Esito::NonValido);
    non_valida.messaggio = Some("carattere di controllo errato".into());
    let mut doppia = riga(4, "A");
    doppia.duplicato_di = Some(1);
    let id = richiesta(
        s,
        b.convenzione_id,
        b.utente_id,
        &[riga(1, "A"), riga(2, "B"), non_valida, doppia],
    )
    .await;

    assert_eq!(
        s.righe_con_problemi(id, 10).await.unwrap(),
        vec![
            ProblemaRiga {
                numero: 3,
                messaggio: Some("carattere di controllo errato".into()),
                duplicato_di: None
            },
            ProblemaRiga {
                numero: 4,
                messaggio: None,
                duplicato_di: Some(1)
            },
        ]
    );
    assert_eq!(s.righe_con_problemi(id, 1).await.unwrap().len(), 1);
    assert_eq!(
        s.conteggio_problemi(id).await.unwrap(),
        ConteggioProblemi {
            non_valide: 1,
            duplicate: 1
        }
    );

    assert!(s.avvisi_bozza(id).await.unwrap().is_empty());
    let avvisi = vec!["riga 2: data di nascita impossibile".to_string()];
    s.salva_avvisi_bozza(id, &avvisi).await.unwrap();
    assert_eq!(s.avvisi_bozza(id).await.unwrap(), avvisi);
    s.salva_avvisi_bozza(id, &["colonna «note» ignorata".to_string()])
        .await
        .unwrap();
    assert_eq!(
        s.avvisi_bozza(id).await.unwrap(),
        vec!["colonna «note» ignorata".to_string()]
    );

    // A submitted request is never deleted.
    let inviata = richiesta(s, b.convenzione_id, b.utente_id, &[riga(1, "A")]).await;
    s.cambia_stato_richiesta(
        inviata,
        &[stato::BOZZA],
        stato::IN_ATTESA_CONVALIDA,
        None,
        &top(),
    )
    .await
    .unwrap();
    assert!(matches!(
        s.elimina_bozza(inviata, &top()).await,
        Err(ErroreStore::StatoNonAmmesso { .. })
    ));
    assert!(s.richiesta(inviata).await.is_ok());

    s.elimina_bozza(id, &top()).await.unwrap();
    assert!(matches!(
        s.richiesta(id).await,
        Err(ErroreStore::NonTrovato { .. })
    ));
    assert!(s.righe(id, 0, 10).await.unwrap().is_empty());
    assert!(s.avvisi_bozza(id).await.unwrap().is_empty());
    assert!(matches!(
        s.elimina_bozza(id, &top()).await,
        Err(ErroreStore::NonTrovato { .. })
    ));
    let voci = s.voci_audit(0, 1_000).await.unwrap();
    let scarto = voci
        .iter()
        .find(|v| v.azione == "RICHIESTA_SCARTATA")
        .expect("scarto registrato");
    assert_eq!(scarto.oggetto, format!("richiesta:{id}"));
    assert_eq!(
        (scarto.comune.as_deref(), scarto.ente.as_deref()),
        (Some("015146"), Some("80012345678"))
    );
    assert_eq!(scarto.dettagli, r#"{"righe":4}"#);
    assert!(matches!(
        s.verifica_catena().await.unwrap(),
        store::EsitoVerifica::Valida { .. }
    ));
}
