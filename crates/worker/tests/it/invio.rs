//! Submission: the convention's validity and caps are checked before BOZZA → IN_ATTESA_CONVALIDA,
//! and a refused submission changes nothing.

use crate::banca::*;
use crate::su_entrambi;
use domain::gruppi::GruppoCampi;
use domain::richiesta::Attore as AttoreDominio;
use domain::ruolo::Ruolo;
use domain::tipo::TipoIdentificativo::Cf;
use store::anagrafiche::{Approvazione, NuovaConvenzione};
use store::richieste::{NuovaRichiesta, NuovaRiga, stato};
use store::{Attore, Store};
use worker::Istantanea;
use worker::invio::{ErroreInvio, invia};

su_entrambi!(
    oltre_le_righe_per_richiesta,
    oltre_i_soggetti_del_giorno,
    convenzione_scaduta,
    solo_il_richiedente_invia
);

/// The store stamps `inviata_ms` with its own clock, so the day window is today's.
fn ora_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn utente() -> Attore {
    Attore {
        nome: "mario.rossi".into(),
        ruolo: Some("STANDARD".into()),
        comune: None,
        ente: Some("80012345678".into()),
    }
}

fn richiedente(id: i64) -> AttoreDominio {
    AttoreDominio::Utente {
        id,
        ruolo: Ruolo::Standard,
        richiedente: true,
        del_comune: false,
    }
}

/// A second convention of the scenario's Comune and Ente, with the given caps and validity.
async fn convenzione(
    s: &Store,
    sc: &Scenario,
    righe: Option<i64>,
    giorno: Option<i64>,
    al: Option<i64>,
) -> i64 {
    let base = s.convenzione(sc.convenzione_id).await.unwrap();
    s.crea_convenzione(
        &NuovaConvenzione {
            comune_id: base.comune_id,
            ente_id: base.ente_id,
            nome: "PL Roma, con limiti".into(),
            campi: vec![GruppoCampi::IdAnpr],
            ambito: base.ambito,
            approvazione: Approvazione::Manuale,
            finalita: Default::default(),
            valida_dal_ms: 0,
            valida_al_ms: al,
            max_righe_richiesta: righe,
            max_soggetti_giorno: giorno,
            tracciato: base.tracciato.clone(),
            conservazione_giorni: 7,
            ricerca_nazionale: false,
        },
        &top(),
    )
    .await
    .unwrap()
}

async fn bozza(s: &Store, sc: &Scenario, convenzione_id: i64, n: i64) -> i64 {
    let ist = Istantanea::componi(s, convenzione_id, sc.utente_id, "LoA2")
        .await
        .unwrap();
    let righe: Vec<NuovaRiga> = (0..n)
        .map(|i| riga(i + 2, Cf, "STTSGT90A01H501J"))
        .collect();
    s.crea_richiesta(
        &NuovaRichiesta {
            convenzione_id,
            utente_id: sc.utente_id,
            motivo: "PROT-2026-0100".into(),
            data_riferimento: "2026-06-22".into(),
            snapshot: ist.json(),
        },
        &righe,
        &utente(),
    )
    .await
    .unwrap()
}

async fn stato_di(s: &Store, id: i64) -> String {
    s.richiesta(id).await.unwrap().stato
}

async fn oltre_le_righe_per_richiesta(db: &Db) {
    let s = &db.store;
    let sc = scenario(s, &[GruppoCampi::IdAnpr], "").await;
    let conv = convenzione(s, &sc, Some(3), None, None).await;
    let troppe = bozza(s, &sc, conv, 4).await;
    let e = invia(s, troppe, &richiedente(sc.utente_id), &utente(), ora_ms())
        .await
        .unwrap_err();
    assert!(matches!(e, ErroreInvio::Limite(_)), "{e:?}");
    assert_eq!(
        e.to_string(),
        "la richiesta contiene 4 righe, oltre il massimo di 3 per richiesta previsto dalla convenzione"
    );
    assert_eq!(stato_di(s, troppe).await, stato::BOZZA);
    let giuste = bozza(s, &sc, conv, 3).await;
    invia(s, giuste, &richiedente(sc.utente_id), &utente(), ora_ms())
        .await
        .unwrap();
    assert_eq!(stato_di(s, giuste).await, stato::IN_ATTESA_CONVALIDA);
}

async fn oltre_i_soggetti_del_giorno(db: &Db) {
    let s = &db.store;
    let sc = scenario(s, &[GruppoCampi::IdAnpr], "").await;
    let conv = convenzione(s, &sc, None, Some(5), None).await;
    let prima = bozza(s, &sc, conv, 3).await;
    invia(s, prima, &richiedente(sc.utente_id), &utente(), ora_ms())
        .await
        .unwrap();
    let seconda = bozza(s, &sc, conv, 3).await;
    let e = invia(s, seconda, &richiedente(sc.utente_id), &utente(), ora_ms())
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "oggi l'Ente ha già richiesto 3 soggetti: con altri 3 supererebbe il massimo giornaliero di 5 \
         previsto dalla convenzione (ne restano 2)"
    );
    assert_eq!(stato_di(s, seconda).await, stato::BOZZA);
    // The next Europe/Rome day starts from zero.
    invia(
        s,
        seconda,
        &richiedente(sc.utente_id),
        &utente(),
        ora_ms() + 24 * 3_600_000,
    )
    .await
    .unwrap();
    assert_eq!(stato_di(s, seconda).await, stato::IN_ATTESA_CONVALIDA);
}

async fn convenzione_scaduta(db: &Db) {
    let s = &db.store;
    let sc = scenario(s, &[GruppoCampi::IdAnpr], "").await;
    let conv = convenzione(s, &sc, None, None, Some(ora_ms() - 1)).await;
    let id = bozza(s, &sc, conv, 1).await;
    let e = invia(s, id, &richiedente(sc.utente_id), &utente(), ora_ms())
        .await
        .unwrap_err();
    assert!(matches!(e, ErroreInvio::ConvenzioneNonValida), "{e:?}");
    assert_eq!(stato_di(s, id).await, stato::BOZZA);
}

async fn solo_il_richiedente_invia(db: &Db) {
    let s = &db.store;
    let sc = scenario(s, &[GruppoCampi::IdAnpr], "").await;
    let id = bozza(s, &sc, sc.convenzione_id, 1).await;
    let altro = AttoreDominio::Utente {
        id: 999,
        ruolo: Ruolo::Standard,
        richiedente: false,
        del_comune: false,
    };
    let e = invia(s, id, &altro, &utente(), ora_ms()).await.unwrap_err();
    assert!(matches!(e, ErroreInvio::Transizione(_)), "{e:?}");
    assert_eq!(stato_di(s, id).await, stato::BOZZA);
}
