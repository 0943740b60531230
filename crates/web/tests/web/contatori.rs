//! The per-process cache of a big request's counts (`web::contatori`): reused within its
//! second and its state, recounted after either, never used for small requests; the request
//! lists take a big request's counts from it, and count the others with the list.

use crate::aiuto::{TestApp, avvia};
use domain::esito::Esito;
use domain::tipo::TipoIdentificativo;
use store::ChiaveMaestra;
use store::elenchi::{AmbitoElenco, FiltroRichieste};
use store::registro::FiltroMonitoraggio;
use store::richieste::{EsitoRiga, NuovaRichiesta, NuovaRiga, stato};
use web::contatori::{Contatori, DURATA_CONTEGGI, SOGLIA_RIGHE};

/// A CONVALIDATA request of `n` rows of the Polizia Locale under the manual convention.
async fn richiesta_convalidata(app: &TestApp, n: i64) -> i64 {
    let seme = &app.seme;
    let conv = &seme.convenzione_manuale;
    let ist = worker::Istantanea::componi(&app.store, conv.id, seme.standard.id, "LoA2")
        .await
        .unwrap();
    let righe: Vec<NuovaRiga> = (1..=n)
        .map(|numero| NuovaRiga {
            numero,
            tipo: TipoIdentificativo::Cf,
            identificativo: format!("RIGA{numero:012}"),
            riferimento: None,
            rilascio: None,
            motivo: None,
            duplicato_di: None,
            esito: None,
            messaggio: None,
        })
        .collect();
    let nuova = NuovaRichiesta {
        convenzione_id: conv.id,
        utente_id: seme.standard.id,
        motivo: "PROT-2026-7".into(),
        data_riferimento: "2026-03-02".into(),
        snapshot: ist.json(),
    };
    let id = app
        .store
        .crea_richiesta(&nuova, &righe, &seme.standard.attore)
        .await
        .unwrap();
    app.store
        .cambia_stato_richiesta(
            id,
            &[stato::BOZZA],
            stato::CONVALIDATA,
            None,
            &seme.standard.attore,
        )
        .await
        .unwrap();
    id
}

/// Gives `n` of the request's rows an outcome, as a worker would, without changing its state.
async fn registra(app: &TestApp, id: i64, n: i64) {
    let ora = app.store.adesso_ms();
    let prese = app
        .store
        .reclama_righe("prova-contatori", ora, 60_000, n, Some(id))
        .await
        .unwrap();
    assert_eq!(prese.len() as i64, n);
    let esiti: Vec<EsitoRiga> = prese
        .iter()
        .map(|r| EsitoRiga {
            riga_id: r.id,
            esito: Esito::NonValido,
            messaggio: Some("prova".into()),
            id_operazioni: serde_json::json!([]),
            risultato: None,
            cf_restituito: None,
            id_anpr_restituito: None,
        })
        .collect();
    let chiave = ChiaveMaestra::da_file(&app.master_key).unwrap();
    let fatte = app
        .store
        .registra_esiti("prova-contatori", &esiti, None, &chiave)
        .await
        .unwrap();
    assert_eq!(fatte.len() as i64, n);
}

#[tokio::test]
async fn grande_riusata_nel_secondo_e_ricontata_dopo_o_al_cambio_di_stato() {
    let app = avvia().await;
    let id = richiesta_convalidata(&app, SOGLIA_RIGHE).await;
    let contatori = Contatori::default();
    let r = app.store.richiesta(id).await.unwrap();
    let contata = std::time::Instant::now();
    let voce = contatori.voce(&app.store, &r).await.unwrap();
    assert_eq!((voce.righe_totali, voce.righe_finali), (SOGLIA_RIGHE, 0));

    // Rows finished, same state: within the second the counts are the cached ones…
    registra(&app, id, 30).await;
    let r = app.store.richiesta(id).await.unwrap();
    assert_eq!(r.stato, stato::CONVALIDATA);
    let voce = contatori.voce(&app.store, &r).await.unwrap();
    // (Checked only when the machine was quick enough for the count to be still fresh.)
    if contata.elapsed() < DURATA_CONTEGGI {
        assert_eq!(voce.righe_finali, 0, "conteggio riusato entro il secondo");
    }
    // …and past it they are counted again.
    tokio::time::sleep(DURATA_CONTEGGI + std::time::Duration::from_millis(100)).await;
    let voce = contatori.voce(&app.store, &r).await.unwrap();
    assert_eq!(voce.righe_finali, 30);

    // A state change is never shown with the old counts, however recent.
    let voce = contatori.voce(&app.store, &r).await.unwrap();
    assert_eq!(voce.righe_finali, 30);
    registra(&app, id, 20).await;
    app.store
        .cambia_stato_richiesta(
            id,
            &[stato::CONVALIDATA],
            stato::IN_ELABORAZIONE,
            None,
            &app.seme.standard.attore,
        )
        .await
        .unwrap();
    let r = app.store.richiesta(id).await.unwrap();
    let voce = contatori.voce(&app.store, &r).await.unwrap();
    assert_eq!(voce.richiesta.stato, stato::IN_ELABORAZIONE);
    assert_eq!(voce.righe_finali, 50);
}

#[tokio::test]
async fn piccola_sempre_contata() {
    let app = avvia().await;
    let id = richiesta_convalidata(&app, 40).await;
    let contatori = Contatori::default();
    let r = app.store.richiesta(id).await.unwrap();
    assert_eq!(
        contatori.voce(&app.store, &r).await.unwrap().righe_finali,
        0
    );
    registra(&app, id, 5).await;
    let r = app.store.richiesta(id).await.unwrap();
    let voce = contatori.voce(&app.store, &r).await.unwrap();
    assert_eq!((voce.righe_totali, voce.righe_finali), (40, 5));
}

/// (id, total, final) of each listed request, newest first.
fn conteggi(voci: &[store::elenchi::VoceRichiesta]) -> Vec<(i64, i64, i64)> {
    voci.iter()
        .map(|v| (v.richiesta.id, v.righe_totali, v.righe_finali))
        .collect()
}

#[tokio::test]
async fn elenchi_con_le_grandi_dalla_cache_e_le_piccole_contate() {
    let app = avvia().await;
    let grande = richiesta_convalidata(&app, SOGLIA_RIGHE).await;
    let piccola = richiesta_convalidata(&app, 40).await;
    let contatori = Contatori::default();
    let f = FiltroRichieste {
        ambito: AmbitoElenco::Utente(app.seme.standard.id),
        stato: None,
        limite: 100,
    };
    let comune = app
        .store
        .convenzione(app.seme.convenzione_manuale.id)
        .await
        .unwrap()
        .comune_id;
    let m = FiltroMonitoraggio {
        ambito: AmbitoElenco::Comune(comune),
        richiedente: None,
        ente_id: None,
        convenzione_id: None,
        dal_ms: None,
        al_ms: None,
        stato: None,
        richiesta_id: None,
        limite: 100,
    };
    let contata = std::time::Instant::now();
    let voci = contatori.elenco(&app.store, &f).await.unwrap();
    // Everything but the counts is the exact list's; the counts are right.
    assert_eq!(voci, app.store.elenco_richieste(&f).await.unwrap());
    let inizio = conteggi(&voci);
    assert!(inizio.starts_with(&[(piccola, 40, 0), (grande, SOGLIA_RIGHE, 0)]));

    registra(&app, grande, 30).await;
    registra(&app, piccola, 5).await;
    let voci = contatori.elenco(&app.store, &f).await.unwrap();
    let monitorate = contatori.monitorate(&app.store, &m).await.unwrap();
    if contata.elapsed() < DURATA_CONTEGGI {
        // Within the second the big one's counts are those just cached (by the list, for
        // the request's page too); the small one is counted afresh.
        assert!(conteggi(&voci).starts_with(&[(piccola, 40, 5), (grande, SOGLIA_RIGHE, 0)]));
        let r = app.store.richiesta(grande).await.unwrap();
        assert_eq!(
            contatori.voce(&app.store, &r).await.unwrap().righe_finali,
            0
        );
        assert!(
            conteggi(&monitorate.voci).starts_with(&[(piccola, 40, 5), (grande, SOGLIA_RIGHE, 0)])
        );
    }
    tokio::time::sleep(DURATA_CONTEGGI + std::time::Duration::from_millis(100)).await;
    let voci = contatori.elenco(&app.store, &f).await.unwrap();
    assert!(conteggi(&voci).starts_with(&[(piccola, 40, 5), (grande, SOGLIA_RIGHE, 30)]));
    assert_eq!(voci, app.store.elenco_richieste(&f).await.unwrap());

    // A state change is listed with counts of that state, however recent the cached ones.
    registra(&app, grande, 20).await;
    app.store
        .cambia_stato_richiesta(
            grande,
            &[stato::CONVALIDATA],
            stato::IN_ELABORAZIONE,
            None,
            &app.seme.standard.attore,
        )
        .await
        .unwrap();
    let monitorate = contatori.monitorate(&app.store, &m).await.unwrap();
    let v = monitorate
        .voci
        .iter()
        .find(|v| v.richiesta.id == grande)
        .unwrap();
    assert_eq!(
        (v.richiesta.stato.as_str(), v.righe_finali),
        (stato::IN_ELABORAZIONE, 50)
    );
    assert_eq!(
        monitorate.voci,
        app.store.richieste_monitorate(&m).await.unwrap().voci
    );
}
