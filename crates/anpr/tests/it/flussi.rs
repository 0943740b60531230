//! C030, then the data services the planner picks for each field group; replay after a crash.

use crate::supporto::*;
use anpr::archivio::{ArchivioFile, ArchivioIdOperazione};
use anpr::client::{ErroreAnpr, EsitoAnpr, PdndClient, RispostaClassificata};
use anpr::piano::{Criterio, pianifica};
use anpr::security::{ContestoTracciamento, Firmatario, OrologioSistema, digest_header};
use anpr::servizi::Servizio;
use anpr::types::{
    RichiestaE002, TipoCriteriRicercaE002, TipoDatiRichiestaE002, TipoDatiSoggettiEnte,
};
use domain::ambito::Ambito;
use domain::gruppi::GruppoCampi;
use domain::tipo::TipoIdentificativo;
use std::sync::Arc;

async fn chiama(
    c: &PdndClient,
    s: Servizio,
    criteri: TipoCriteriRicercaE002,
) -> Result<RispostaClassificata, ErroreAnpr> {
    c.chiama(s, criteri, dati(), &contesto(), &chiave(s.codice()))
        .await
}

fn unico(r: &RispostaClassificata) -> &TipoDatiSoggettiEnte {
    match &r.esito {
        EsitoAnpr::Trovato(s) => &s[0],
        altro => panic!("atteso Trovato, trovato {altro:?}"),
    }
}

/// Runs a plan for a CF and returns the answers per service.
async fn esegui_piano(
    c: &PdndClient,
    cf: &str,
    gruppi: &[GruppoCampi],
) -> Vec<(Servizio, RispostaClassificata)> {
    let piano = pianifica(
        &gruppi.iter().copied().collect(),
        Ambito::Italia,
        TipoIdentificativo::Cf,
        &Servizio::ALL,
    )
    .unwrap();
    let mut id_anpr = None;
    let mut risposte = Vec::new();
    for passo in piano.passi {
        let criteri = match passo.criterio {
            Criterio::CodiceFiscale => TipoCriteriRicercaE002::per_codice_fiscale(cf),
            Criterio::IdAnpr => {
                TipoCriteriRicercaE002::per_id_anpr(id_anpr.clone().expect("C030 prima"))
            }
        };
        let mut ctx = contesto();
        ctx.cf_atteso = Some(cf.to_string());
        let r = c
            .chiama(passo.servizio, criteri, dati(), &ctx, &chiave(cf))
            .await
            .unwrap();
        id_anpr = unico(&r).id_anpr().map(str::to_string).or(id_anpr);
        risposte.push((passo.servizio, r));
    }
    risposte
}

#[tokio::test]
async fn c030_then_each_field_group() {
    let amb = ambiente(|_| {}).await;
    let c = amb.client();
    let (cf, id) = amb.sim.esempi().normali[0].clone();
    let casi: [(GruppoCampi, Servizio); 9] = [
        (GruppoCampi::Generalita, Servizio::C015),
        (GruppoCampi::StatoCivile, Servizio::C015),
        (GruppoCampi::Residenza, Servizio::C020),
        (GruppoCampi::Cittadinanza, Servizio::C018),
        (GruppoCampi::DataDecesso, Servizio::C015),
        (GruppoCampi::EsistenzaInVita, Servizio::C019),
        (GruppoCampi::Famiglia, Servizio::C021),
        (GruppoCampi::DomicilioDigitale, Servizio::C001),
        (GruppoCampi::Matrimonio, Servizio::C017),
    ];
    for (gruppo, servizio) in casi {
        let r = esegui_piano(&c, &cf, &[gruppo]).await;
        assert_eq!(r.len(), 2, "{gruppo:?}");
        assert_eq!(r[0].0, Servizio::C030);
        assert_eq!(unico(&r[0].1).id_anpr(), Some(id.as_str()));
        // C030 returns identificativi only.
        assert!(unico(&r[0].1).generalita.is_none());
        assert_eq!(r[1].0, servizio, "{gruppo:?}");
        let s = &r[1].1;
        // By idANPR: no EN148 warning.
        assert!(s.anomalie.is_empty(), "{gruppo:?}: {:?}", s.anomalie);
        match &s.esito {
            EsitoAnpr::Trovato(soggetti) => {
                assert!(soggetti.iter().any(|x| x.id_anpr() == Some(id.as_str())))
            }
            altro => panic!("{gruppo:?}: {altro:?}"),
        }
        let d = unico(s);
        match gruppo {
            GruppoCampi::Residenza => assert!(d.residenza.is_some()),
            GruppoCampi::Cittadinanza => assert!(d.cittadinanza.is_some()),
            GruppoCampi::StatoCivile => assert!(d.stato_civile.is_some()),
            GruppoCampi::Generalita => {
                let g = d.generalita.as_ref().unwrap();
                assert_eq!(
                    g.codice_fiscale.as_ref().unwrap().cod_fiscale.as_deref(),
                    Some(cf.as_str())
                );
            }
            _ => {}
        }
    }
}

#[tokio::test]
async fn data_service_by_cf_warns_en148_and_c030_never_does() {
    let amb = ambiente(|_| {}).await;
    let c = amb.client();
    let (cf, _) = amb.sim.esempi().normali[1].clone();
    let r = chiama(
        &c,
        Servizio::C020,
        TipoCriteriRicercaE002::per_codice_fiscale(&cf),
    )
    .await
    .unwrap();
    assert_eq!(
        r.anomalie[0].codice_errore_anomalia.as_deref(),
        Some("EN148")
    );
    assert_eq!(r.anomalie[0].tipo_errore_anomalia.as_deref(), Some("W"));
    assert!(matches!(r.esito, EsitoAnpr::Trovato(_)));
    let r = chiama(
        &c,
        Servizio::C030,
        TipoCriteriRicercaE002::per_codice_fiscale(&cf),
    )
    .await
    .unwrap();
    assert!(r.anomalie.is_empty());
}

#[tokio::test]
async fn deceased_aire_and_cancelled_subjects() {
    let amb = ambiente(|_| {}).await;
    let c = amb.client();
    let es = amb.sim.esempi();
    let (_, id_morto) = es.deceduti[0].clone();
    let r = chiama(
        &c,
        Servizio::C019,
        TipoCriteriRicercaE002::per_id_anpr(&id_morto),
    )
    .await
    .unwrap();
    let info = unico(&r).info_soggetto_ente.clone().unwrap();
    assert!(
        info.iter()
            .any(|i| i.chiave.as_deref() == Some("Data decesso") && i.valore_data.is_some()),
        "{info:?}"
    );
    let (_, id_aire) = es.aire[0].clone();
    let r = chiama(
        &c,
        Servizio::C020,
        TipoCriteriRicercaE002::per_id_anpr(&id_aire),
    )
    .await
    .unwrap();
    let res = &unico(&r).residenza.as_ref().unwrap()[0];
    assert!(res.localita_estera.is_some() && res.indirizzo.is_none());
    let (cf_canc, _) = es.cancellati[0].clone();
    let r = chiama(
        &c,
        Servizio::C030,
        TipoCriteriRicercaE002::per_codice_fiscale(&cf_canc),
    )
    .await
    .unwrap();
    assert_eq!(
        r.esito,
        EsitoAnpr::NonTrovato {
            codice: Some("EN122".into()),
            testo: r_testo(&r)
        }
    );
}

fn r_testo(r: &RispostaClassificata) -> Option<String> {
    match &r.esito {
        EsitoAnpr::NonTrovato { testo, .. } => testo.clone(),
        _ => None,
    }
}

/// Sends one call by hand, as a process would just before crashing.
async fn invia_a_mano(
    amb: &Ambiente,
    s: Servizio,
    id: &str,
    criteri: TipoCriteriRicercaE002,
) -> u16 {
    let config = amb.config(|t| t);
    let f = Firmatario::da_config(&config);
    let ctx = ContestoTracciamento::da_config(&config);
    let ep = config.endpoint(s);
    let aud = ep.audience(&config.audience_base);
    let ora = chrono::Utc::now().timestamp();
    let (te, _) = f.tracking_evidence(&aud, &purpose(s), &ctx, ora).unwrap();
    let ca = f
        .client_assertion(&config.client_assertion_aud, &purpose(s), &te, ora)
        .unwrap();
    let http = reqwest::Client::new();
    let tok: serde_json::Value = http
        .post(&config.token_url)
        .form(&[
            ("client_id", CLIENT_ID),
            ("client_assertion", &ca),
            ("client_assertion_type", anpr::types::CLIENT_ASSERTION_TYPE),
            ("grant_type", "client_credentials"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let corpo = serde_json::to_vec(&RichiestaE002 {
        id_operazione_client: id.to_string(),
        criteri_ricerca: criteri,
        verifica: None,
        dati_richiesta: TipoDatiRichiestaE002 {
            data_riferimento_richiesta: dati().data_riferimento_richiesta,
            motivo_richiesta: "x".into(),
            caso_uso: s.caso_uso().into(),
        },
    })
    .unwrap();
    let digest = digest_header(&corpo);
    let firma = f
        .agid_signature(&aud, &digest, "application/json", ora)
        .unwrap();
    http.post(ep.endpoint_url(&config.base_url))
        .bearer_auth(tok["access_token"].as_str().unwrap())
        .header("Content-Type", "application/json")
        .header("Digest", digest)
        .header("Agid-JWT-Signature", firma)
        .header("Agid-JWT-TrackingEvidence", te)
        .body(corpo)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn ids_inviati(amb: &Ambiente, servizio: &str) -> Vec<(String, String)> {
    amb.sim
        .richieste_ricevute()
        .into_iter()
        .filter(|r| r.servizio.as_deref() == Some(servizio) && r.metodo == "POST")
        .map(|r| {
            let v: serde_json::Value = serde_json::from_str(&r.corpo).unwrap();
            (
                v["idOperazioneClient"].as_str().unwrap().to_string(),
                r.risposta,
            )
        })
        .collect()
}

#[tokio::test]
async fn replay_after_a_crash_reuses_the_id_and_gets_the_stored_answer() {
    let amb = ambiente(|_| {}).await;
    let (_, id) = amb.sim.esempi().normali[2].clone();
    let dati_dir = amb.dir.path().join("dati");
    let k = "richiesta-7:riga-3:C001";
    // Process 1 stores the id, sends the call and dies before recording the answer.
    let id_op = ArchivioFile::apri(&dati_dir, Arc::new(OrologioSistema))
        .unwrap()
        .id_per(k)
        .unwrap();
    assert_eq!(
        invia_a_mano(
            &amb,
            Servizio::C001,
            &id_op.to_string(),
            TipoCriteriRicercaE002::per_id_anpr(&id)
        )
        .await,
        200
    );
    // Meanwhile another call went out with a higher id.
    let c = amb.client();
    let (_, altro) = amb.sim.esempi().normali[3].clone();
    chiama(
        &c,
        Servizio::C001,
        TipoCriteriRicercaE002::per_id_anpr(&altro),
    )
    .await
    .unwrap();
    // Process 2 redoes the call: same key, same id, ANPR replays (no low-id refusal).
    drop(c);
    let c2 = amb.client();
    let r = c2
        .chiama(
            Servizio::C001,
            TipoCriteriRicercaE002::per_id_anpr(&id),
            dati(),
            &contesto(),
            k,
        )
        .await
        .unwrap();
    assert_eq!(r.id_operazione_client, id_op);
    assert_eq!(r.tentativi, 1);
    let inviati = ids_inviati(&amb, "C001");
    assert_eq!(inviati.len(), 3);
    assert_eq!(inviati[0].0, id_op.to_string());
    assert_eq!(inviati[2].0, id_op.to_string());
    assert_eq!(
        inviati[0].1, inviati[2].1,
        "la risposta ripetuta è quella memorizzata"
    );
    // Every call counts against the quota, replays included.
    assert_eq!(amb.sim.conteggio(CLIENT_ID, "C001"), 3);
}

#[tokio::test]
async fn c001_low_id_never_answered_is_retried_once_with_a_fresh_id() {
    let amb = ambiente(|_| {}).await;
    let (_, id) = amb.sim.esempi().normali[4].clone();
    let dati_dir = amb.dir.path().join("dati");
    let k = "richiesta-8:riga-1:C001";
    // The id was stored, then the process died before sending it.
    let vecchio = ArchivioFile::apri(&dati_dir, Arc::new(OrologioSistema))
        .unwrap()
        .id_per(k)
        .unwrap();
    let c = amb.client();
    let (_, altro) = amb.sim.esempi().normali[5].clone();
    chiama(
        &c,
        Servizio::C001,
        TipoCriteriRicercaE002::per_id_anpr(&altro),
    )
    .await
    .unwrap();
    let r = c
        .chiama(
            Servizio::C001,
            TipoCriteriRicercaE002::per_id_anpr(&id),
            dati(),
            &contesto(),
            k,
        )
        .await
        .unwrap();
    assert!(r.id_operazione_client > vecchio);
    assert_eq!(r.tentativi, 2);
    let inviati = ids_inviati(&amb, "C001");
    assert_eq!(inviati[1].0, vecchio.to_string());
    assert!(inviati[1].1.contains(anpr_sim::CODICE_ID_INFERIORE));
    assert_eq!(unico(&r).id_anpr(), Some(id.as_str()));
}

#[tokio::test]
async fn c001_calls_go_out_in_id_order_under_concurrency() {
    let amb = ambiente(|c| {
        c.latenza = anpr_sim::Latenza {
            base_ms: 2,
            jitter_ms: 5,
        }
    })
    .await;
    let c = Arc::new(amb.client());
    let es = amb.sim.esempi();
    let mut compiti = Vec::new();
    for (_, id) in es.normali.into_iter().take(8) {
        let c = c.clone();
        compiti.push(tokio::spawn(async move {
            c.chiama(
                Servizio::C001,
                TipoCriteriRicercaE002::per_id_anpr(&id),
                dati(),
                &contesto(),
                &chiave("ord"),
            )
            .await
        }));
    }
    for t in compiti {
        let r = t.await.unwrap().unwrap();
        assert_eq!(r.tentativi, 1, "nessun rifiuto per id basso");
    }
    let ids: Vec<u128> = ids_inviati(&amb, "C001")
        .iter()
        .map(|(i, _)| i.parse().unwrap())
        .collect();
    let mut ordinati = ids.clone();
    ordinati.sort();
    assert_eq!(ids, ordinati);
}
