//! Contract tests: the lists of the request pages (scope, state filter, progress counts), the
//! validation preview (problem rows, warnings) and discarding a BOZZA.

use crate::richieste::{richiesta, riga};
use crate::supporto::{Db, base, tenant_roma, top};
use domain::esito::Esito;
use store::elenchi::{AmbitoElenco, ConteggioProblemi, FiltroRichieste, ProblemaRiga, VoceElenco};
use store::registro::FiltroMonitoraggio;
use store::richieste::stato;
use store::{ErroreStore, Store};

crate::contratto!(
    elenchi_per_ambito,
    anteprima_e_scarto_della_bozza,
    elenchi_che_non_contano_le_richieste_grandi,
    nomi_di_ente_e_comune
);

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

/// (id, counted, total, final) of each listed request.
fn conteggi(voci: &[VoceElenco]) -> Vec<(i64, bool, i64, i64)> {
    voci.iter()
        .map(|v| {
            (
                v.voce.richiesta.id,
                v.contata,
                v.voce.righe_totali,
                v.voce.righe_finali,
            )
        })
        .collect()
}

/// The lists that leave big requests to the caller's cache (issue 8): a request with a row
/// numbered at the threshold or past it is not counted; the others are, exactly; everything
/// else in the entry is what the exact list gives.
async fn elenchi_che_non_contano_le_richieste_grandi(db: &Db) {
    let s = &db.store;
    let b = base(s).await;
    let non_valida = |n| {
        let mut r = riga(n, "XXX");
        r.esito = Some(Esito::NonValido);
        r
    };
    let piccola = richiesta(
        s,
        b.convenzione_id,
        b.utente_id,
        &[riga(1, "A"), non_valida(2)],
    )
    .await;
    let grande = richiesta(
        s,
        b.convenzione_id,
        b.utente_id,
        &[riga(1, "B"), riga(2, "C"), non_valida(3)],
    )
    .await;
    // Two rows, the second on line 7: numbers skip, and the list leaves it to the caller too.
    let sparsa = richiesta(
        s,
        b.convenzione_id,
        b.utente_id,
        &[riga(1, "D"), riga(7, "E")],
    )
    .await;
    let f = filtro(AmbitoElenco::Utente(b.utente_id), None);

    let esatto = s.elenco_richieste(&f).await.unwrap();
    let voci = s.elenco_richieste_contando(&f, 3).await.unwrap();
    assert_eq!(
        conteggi(&voci),
        vec![
            (sparsa, false, 0, 0),
            (grande, false, 0, 0),
            (piccola, true, 2, 1)
        ]
    );
    for (v, e) in voci.iter().zip(&esatto) {
        let mut contata = e.clone();
        if !v.contata {
            (contata.righe_totali, contata.righe_finali) = (0, 0);
        }
        assert_eq!(v.voce, contata);
    }
    assert_eq!(
        esatto
            .iter()
            .map(|v| (v.richiesta.id, v.righe_totali, v.righe_finali))
            .collect::<Vec<_>>(),
        vec![(sparsa, 2, 0), (grande, 3, 1), (piccola, 2, 1)]
    );
    // Below every row number, nothing is counted; past them all, everything is.
    assert!(
        s.elenco_richieste_contando(&f, 1)
            .await
            .unwrap()
            .iter()
            .all(|v| !v.contata)
    );
    assert_eq!(
        conteggi(&s.elenco_richieste_contando(&f, 8).await.unwrap()),
        vec![
            (sparsa, true, 2, 0),
            (grande, true, 3, 1),
            (piccola, true, 2, 1)
        ]
    );
    // The state filter and the limit apply as in the exact list.
    let mut uno = filtro(AmbitoElenco::Utente(b.utente_id), Some(stato::BOZZA));
    uno.limite = 1;
    assert_eq!(
        conteggi(&s.elenco_richieste_contando(&uno, 3).await.unwrap()),
        vec![(sparsa, false, 0, 0)]
    );

    // The monitoring list, the same way.
    for id in [piccola, grande, sparsa] {
        s.cambia_stato_richiesta(
            id,
            &[stato::BOZZA],
            stato::IN_ATTESA_CONVALIDA,
            None,
            &top(),
        )
        .await
        .unwrap();
    }
    let m = FiltroMonitoraggio {
        ambito: AmbitoElenco::Comune(b.comune_id),
        richiedente: None,
        ente_id: None,
        convenzione_id: None,
        dal_ms: None,
        al_ms: None,
        stato: None,
        richiesta_id: None,
        limite: 2,
    };
    let esatto = s.richieste_monitorate(&m).await.unwrap();
    let l = s.richieste_monitorate_contando(&m, 3).await.unwrap();
    assert_eq!(
        conteggi(&l.voci),
        vec![(sparsa, false, 0, 0), (grande, false, 0, 0)]
    );
    assert!(l.altre && esatto.altre);
    assert_eq!(
        l.voci.iter().map(|v| &v.voce.richiesta).collect::<Vec<_>>(),
        esatto.voci.iter().map(|v| &v.richiesta).collect::<Vec<_>>()
    );
    assert_eq!(
        conteggi(&s.richieste_monitorate_contando(&m, 8).await.unwrap().voci),
        vec![(sparsa, true, 2, 0), (grande, true, 3, 1)]
    );
}

/// The names in every page's header, in one statement.
async fn nomi_di_ente_e_comune(db: &Db) {
    let s = &db.store;
    let b = base(s).await;
    let (ente, comune) = (
        s.ente(b.ente_id).await.unwrap().nome,
        s.comune(b.comune_id).await.unwrap().nome,
    );
    assert_eq!(
        s.nomi_ente_comune(Some(b.ente_id), Some(b.comune_id))
            .await
            .unwrap(),
        (Some(ente.clone()), Some(comune.clone()))
    );
    assert_eq!(
        s.nomi_ente_comune(None, Some(b.comune_id)).await.unwrap(),
        (None, Some(comune))
    );
    assert_eq!(
        s.nomi_ente_comune(Some(b.ente_id), Some(9_999))
            .await
            .unwrap(),
        (Some(ente), None)
    );
    assert_eq!(s.nomi_ente_comune(None, None).await.unwrap(), (None, None));
}
