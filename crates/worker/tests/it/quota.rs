//! The daily share: with 100 calls of C030 a day, a 250-row CF request runs over three
//! Europe/Rome days, `sospesa` in between with the message the UI shows, resuming by itself
//! when the engine's clock passes midnight; no day goes over the share.

use crate::banca::*;
use crate::su_entrambi;
use anpr::servizi::Servizio;
use domain::gruppi::GruppoCampi;
use domain::tipo::TipoIdentificativo::Cf;
use store::richieste::{NuovaRiga, stato};
use store::{giorno_roma, limiti_giorno_roma};

su_entrambi!(quota_sospende_e_riprende_a_mezzanotte);

/// Passes until the request is suspended or completed.
async fn fino_a_sospensione(
    m: &worker::Motore,
    s: &store::Store,
    id: i64,
) -> store::richieste::Richiesta {
    for _ in 0..500 {
        m.passo().await.unwrap();
        let r = s.richiesta(id).await.unwrap();
        if r.sospesa_fino_a_ms.is_some() || r.stato == stato::COMPLETATA {
            return r;
        }
    }
    panic!("la richiesta {id} non si è né sospesa né completata");
}

async fn quota_sospende_e_riprende_a_mezzanotte(db: &Db) {
    let s = &db.store;
    let sc = scenario(s, &[GruppoCampi::IdAnpr], "[anpr.quotas]\nC030 = 100\n").await;
    let righe: Vec<NuovaRiga> = (0..250u32)
        .map(|i| {
            let p = sc.amb.sim.popolazione().sintetico(i).unwrap();
            riga(i64::from(i) + 2, Cf, &p.codice_fiscale)
        })
        .collect();
    let id = sc.invia(s, &righe).await;
    let orologio = OrologioTest::adesso();
    let m = sc.motore(s, orologio.clone());
    let mut giorni = Vec::new();
    for giorno in 1..=2 {
        let ora = orologio_ms(&orologio);
        let r = fino_a_sospensione(&m, s, id).await;
        assert_eq!(r.stato, stato::IN_ELABORAZIONE, "giorno {giorno}");
        let mezzanotte = limiti_giorno_roma(ora).1;
        assert_eq!(r.sospesa_fino_a_ms, Some(mezzanotte));
        assert_eq!(
            r.motivo_sospensione.as_deref(),
            Some("quota giornaliera esaurita per C030, ripresa alle 00:00")
        );
        // While suspended nothing moves, however many passes run.
        for _ in 0..5 {
            let l = m.passo().await.unwrap();
            assert_eq!(l.righe_finali, 0);
        }
        giorni.push(giorno_roma(ora));
        assert_eq!(sc.amb.chiamate(Servizio::C030), 100 * giorno);
        orologio.imposta(mezzanotte + 1_000);
    }
    let ora = orologio_ms(&orologio);
    giorni.push(giorno_roma(ora));
    fino_a(&m, s, id, &[stato::COMPLETATA], 200).await;
    let contate: Vec<i64> = {
        let mut v = Vec::new();
        for g in &giorni {
            v.push(s.chiamate_contate(sc.comune_id, "C030", g).await.unwrap());
        }
        v
    };
    assert_eq!(contate, vec![100, 100, 50]);
    assert_eq!(sc.amb.chiamate(Servizio::C030), 250);
    let ripresa = s
        .voci_audit(0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|v| v.azione == "RICHIESTA_RIPRESA")
        .count();
    assert_eq!(ripresa, 2);
    let f = testi(s, id, false).await;
    assert_eq!(f[0].1.split_terminator("\r\n").count(), 251);
}

fn orologio_ms(o: &OrologioTest) -> i64 {
    use anpr::security::Orologio as _;
    o.adesso_ms()
}

su_entrambi!(stima_prima_della_convalida);

/// The estimate of a stored request: 250 CF rows (one invalid, one duplicate) need 248 C030
/// calls; with 100 a day and 10 already used today the work ends two days after today.
async fn stima_prima_della_convalida(db: &Db) {
    let s = &db.store;
    let sc = scenario(s, &[GruppoCampi::IdAnpr], "[anpr.quotas]\nC030 = 100\n").await;
    let mut righe: Vec<NuovaRiga> = (0..248u32)
        .map(|i| {
            let p = sc.amb.sim.popolazione().sintetico(i).unwrap();
            riga(i64::from(i) + 2, Cf, &p.codice_fiscale)
        })
        .collect();
    righe.push(riga(250, Cf, "STTSGT90A01H501X"));
    let mut dup = righe[0].clone();
    dup.numero = 251;
    dup.duplicato_di = Some(2);
    righe.push(dup);
    let id = sc.invia(s, &righe).await;
    // 12:00 in Rome (CET) on 2026-11-26, with 10 calls already counted today.
    let ora = 1_795_690_800_000;
    for _ in 0..10 {
        assert!(
            s.riserva_chiamata(sc.comune_id, "C030", ora, 100)
                .await
                .unwrap()
        );
    }
    let st = worker::stima_richiesta(s, &chiave(), id, ora)
        .await
        .unwrap();
    assert_eq!(
        (st.totale.valide, st.totale.non_valide, st.totale.duplicate),
        (248, 1, 1)
    );
    assert_eq!(st.servizi.len(), 1);
    let c030 = &st.servizi[0];
    assert_eq!(c030.servizio, Servizio::C030);
    assert_eq!(c030.chiamate, 248);
    assert_eq!(c030.residue_oggi, Some(90));
    // 248 / 90 → 276%, rounded up.
    assert_eq!(c030.percentuale_residuo_oggi, Some(276));
    // 90 today, 100 on the 27th, 58 on the 28th.
    assert_eq!(
        st.completamento,
        worker::stima::Completamento::Il(chrono::NaiveDate::from_ymd_opt(2026, 11, 28).unwrap())
    );
}
