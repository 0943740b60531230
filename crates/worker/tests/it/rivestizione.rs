//! One row's call plan over real HTTP against the in-process simulator.

use crate::supporto::*;
use anpr::piano::{Piano, pianifica};
use anpr::servizi::Servizio;
use anpr_sim::popolazione::LuogoResidenza;
use domain::ambito::Ambito;
use domain::esito::Esito;
use domain::gruppi::GruppoCampi;
use domain::tipo::TipoIdentificativo;
use std::collections::BTreeSet;
use worker::rivestizione::{EsitoRiga, Interruzione, Riga, esegui, interruzione};

fn piano(gruppi: &[GruppoCampi], ambito: Ambito, tipo: TipoIdentificativo) -> Piano {
    pianifica(
        &gruppi.iter().copied().collect(),
        ambito,
        tipo,
        &Servizio::ALL,
    )
    .unwrap()
}

async fn rivesti(
    amb: &Ambiente,
    identificativo: &str,
    piano: &Piano,
    comuni_in_ambito: Option<&BTreeSet<String>>,
) -> EsitoRiga {
    let client = amb.client();
    let cf = (identificativo.len() == 16).then_some(identificativo);
    esegui(
        Some(&client),
        Riga {
            identificativo,
            piano,
            dati: dati(),
            contesto: contesto(cf),
            chiave: chiave(identificativo),
            comuni_in_ambito,
            purpose_per_servizio: &Default::default(),
            tipo: tipo_di(identificativo),
            rilascio: None,
            ws: None,
        },
    )
    .await
    .unwrap()
}

fn testo<'a>(v: &'a serde_json::Value, puntatore: &str) -> &'a str {
    v.pointer(puntatore)
        .and_then(serde_json::Value::as_str)
        .unwrap_or_else(|| panic!("{puntatore} assente in {v}"))
}

fn istat_residenza(amb: &Ambiente, cf: &str) -> String {
    let oggi = chrono::Utc::now().date_naive();
    let s = amb.sim.soggetto_per_cf(cf).unwrap();
    match &s.residenza_al(oggi).unwrap().luogo {
        LuogoResidenza::Italia { istat, .. } => istat.clone(),
        altro => panic!("residente all'estero: {altro:?}"),
    }
}

#[tokio::test]
async fn cf_trovato_con_c030_poi_servizi_dati_per_id_anpr() {
    let amb = ambiente().await;
    let (cf, id) = amb.sim.esempi().normali[0].clone();
    let p = piano(
        &[GruppoCampi::Generalita, GruppoCampi::Residenza],
        Ambito::Italia,
        TipoIdentificativo::Cf,
    );
    assert_eq!(p.servizi(), vec![Servizio::C030, Servizio::C020]);
    let r = rivesti(&amb, &cf, &p, None).await;
    assert_eq!(r.esito, Some(Esito::Trovato), "{}", r.messaggio);
    assert_eq!(r.messaggio, "");
    assert_eq!(r.id_operazione_anpr.len(), 2);
    let s = r.soggetto.unwrap();
    assert_eq!(testo(&s, "/identificativi/idANPR"), id);
    assert_eq!(testo(&s, "/generalita/codiceFiscale/codFiscale"), cf);
    assert_eq!(
        testo(&s, "/residenza/0/indirizzo/comune/codiceIstat"),
        istat_residenza(&amb, &cf)
    );
    // C020 went out by the idANPR that C030 returned, never by CF.
    let c020: Vec<_> = amb
        .sim
        .richieste_ricevute()
        .into_iter()
        .filter(|r| r.servizio.as_deref() == Some("C020"))
        .collect();
    assert_eq!(c020.len(), 1);
    assert!(c020[0].corpo.contains(&id), "{}", c020[0].corpo);
    assert!(!c020[0].corpo.contains(&cf), "{}", c020[0].corpo);
}

#[tokio::test]
async fn id_anpr_in_ingresso_senza_c030() {
    let amb = ambiente().await;
    let (cf, id) = amb.sim.esempi().normali[1].clone();
    let p = piano(
        &[GruppoCampi::Generalita],
        Ambito::Italia,
        TipoIdentificativo::IdAnpr,
    );
    let r = rivesti(&amb, &id, &p, None).await;
    assert_eq!(r.esito, Some(Esito::Trovato), "{}", r.messaggio);
    assert_eq!(
        testo(
            r.soggetto.as_ref().unwrap(),
            "/generalita/codiceFiscale/codFiscale"
        ),
        cf
    );
    assert_eq!(amb.chiamate(Servizio::C030), 0);
    assert_eq!(amb.chiamate(Servizio::C015), 1);
}

#[tokio::test]
async fn non_trovato_en122() {
    let amb = ambiente().await;
    let (cf, _) = amb.sim.esempi().cancellati[0].clone();
    let p = piano(
        &[GruppoCampi::Generalita],
        Ambito::Italia,
        TipoIdentificativo::Cf,
    );
    let r = rivesti(&amb, &cf, &p, None).await;
    assert_eq!(r.esito, Some(Esito::NonTrovato));
    assert_eq!(r.messaggio, "EN122: Soggetto cancellato da ANPR");
    assert!(r.soggetto.is_none());
    // Nobody after C030: no data service is called.
    assert_eq!(amb.chiamate(Servizio::C015), 0);
}

#[tokio::test]
async fn ambito_ristretto_dentro_e_fuori() {
    let amb = ambiente().await;
    let (cf, _) = amb.sim.esempi().normali[2].clone();
    let p = piano(
        &[GruppoCampi::Cittadinanza],
        Ambito::Comune,
        TipoIdentificativo::Cf,
    );
    assert_eq!(
        p.servizi(),
        vec![Servizio::C030, Servizio::C020, Servizio::C018]
    );
    let dentro = BTreeSet::from([istat_residenza(&amb, &cf)]);
    let r = rivesti(&amb, &cf, &p, Some(&dentro)).await;
    assert_eq!(r.esito, Some(Esito::Trovato), "{}", r.messaggio);
    assert!(r.soggetto.unwrap().get("cittadinanza").is_some());
    assert_eq!(amb.chiamate(Servizio::C018), 1);

    // "000000" is no Comune's ISTAT code: the person lives outside the scope.
    let fuori = BTreeSet::from(["000000".to_string()]);
    let r = rivesti(&amb, &cf, &p, Some(&fuori)).await;
    assert_eq!(r.esito, Some(Esito::FuoriAmbito));
    assert_eq!(
        r.messaggio,
        "nessun residente con questo identificativo nell'ambito territoriale del profilo"
    );
    assert!(r.soggetto.is_none() && r.famiglia.is_empty());
    // The row stopped after its residence call: C018 was not called again.
    assert_eq!(amb.chiamate(Servizio::C018), 1);
    assert_eq!(amb.chiamate(Servizio::C020), 2);

    // Under a restricted scope, a person not found is indistinguishable from one elsewhere.
    let (cancellato, _) = amb.sim.esempi().cancellati[0].clone();
    let r = rivesti(&amb, &cancellato, &p, Some(&dentro)).await;
    assert_eq!(r.esito, Some(Esito::FuoriAmbito));
}

#[tokio::test]
async fn famiglia_con_tutti_i_componenti() {
    let amb = ambiente().await;
    let famiglia = amb.sim.esempi().famiglia;
    let (cf, id) = famiglia[0].clone();
    let p = piano(
        &[GruppoCampi::Famiglia],
        Ambito::Italia,
        TipoIdentificativo::Cf,
    );
    let r = rivesti(&amb, &cf, &p, None).await;
    assert_eq!(r.esito, Some(Esito::Trovato), "{}", r.messaggio);
    assert_eq!(r.famiglia.len(), famiglia.len());
    assert_eq!(testo(&r.famiglia[0], "/identificativi/idANPR"), id);
    assert_eq!(
        testo(r.soggetto.as_ref().unwrap(), "/identificativi/idANPR"),
        id
    );
}

#[tokio::test]
async fn documenti_lasciano_celle_vuote_con_messaggio() {
    let amb = ambiente().await;
    let (_, id) = amb.sim.esempi().normali[3].clone();
    let p = piano(
        &[GruppoCampi::Generalita, GruppoCampi::Documenti],
        Ambito::Italia,
        TipoIdentificativo::IdAnpr,
    );
    let r = rivesti(&amb, &id, &p, None).await;
    assert_eq!(r.esito, Some(Esito::Trovato));
    assert_eq!(r.messaggio, anpr::piano::MESSAGGIO_DOCUMENTI);
}

#[tokio::test]
async fn chiave_sbagliata_ferma_la_richiesta() {
    let amb = ambiente().await;
    let (cf, _) = amb.sim.esempi().normali[0].clone();
    let kid = amb.chiavi.kid.clone();
    let client = amb.client_con(amb.config(|t| t.replace(&kid, "kid-sconosciuto")));
    let p = piano(
        &[GruppoCampi::Generalita],
        Ambito::Italia,
        TipoIdentificativo::Cf,
    );
    let e = esegui(
        Some(&client),
        Riga {
            identificativo: &cf,
            piano: &p,
            dati: dati(),
            contesto: contesto(Some(&cf)),
            chiave: chiave("kid"),
            comuni_in_ambito: None,
            purpose_per_servizio: &Default::default(),
            tipo: TipoIdentificativo::Cf,
            rilascio: None,
            ws: None,
        },
    )
    .await
    .unwrap_err();
    assert!(e.ferma_richiesta(), "{e}");
    assert!(e.to_string().contains("voucher"), "{e}");
    assert!(
        matches!(interruzione(&e), Interruzione::Fallita { ref motivo } if *motivo == e.to_string())
    );
    // The refusal came from the token endpoint: no data call reached the gateway.
    assert_eq!(amb.chiamate(Servizio::C030), 0);
}

#[tokio::test]
async fn quota_esaurita_sospende_la_richiesta() {
    let amb = ambiente().await;
    let es = amb.sim.esempi();
    let client = amb.client_con(amb.config(|t| format!("{t}\n[anpr.quotas]\nC030 = 1\n")));
    let p = piano(
        &[GruppoCampi::IdAnpr],
        Ambito::Italia,
        TipoIdentificativo::Cf,
    );
    let (primo, _) = es.normali[0].clone();
    let r = esegui(Some(&client), riga(&primo, &p)).await.unwrap();
    assert_eq!(r.esito, Some(Esito::Trovato));
    let (secondo, _) = es.normali[1].clone();
    let e = esegui(Some(&client), riga(&secondo, &p)).await.unwrap_err();
    let Interruzione::Sospesa(s) = interruzione(&e) else {
        panic!("{e}")
    };
    assert_eq!(
        s.messaggio(),
        "quota giornaliera esaurita per C030, ripresa alle 00:00"
    );
    // Our share stopped the call before it reached the gateway.
    assert_eq!(amb.chiamate(Servizio::C030), 1);
}

static NESSUNA: std::collections::BTreeMap<Servizio, String> = std::collections::BTreeMap::new();

fn riga<'a>(cf: &'a str, piano: &'a Piano) -> Riga<'a> {
    Riga {
        identificativo: cf,
        piano,
        dati: dati(),
        contesto: contesto(None),
        chiave: chiave(cf),
        comuni_in_ambito: None,
        purpose_per_servizio: &NESSUNA,
        tipo: tipo_di(cf),
        rilascio: None,
        ws: None,
    }
}

fn tipo_di(identificativo: &str) -> TipoIdentificativo {
    if identificativo.len() == 16 {
        TipoIdentificativo::Cf
    } else {
        TipoIdentificativo::IdAnpr
    }
}
