//! The PDND rows of DESIGN §4's answer table, over HTTP against the simulator; retries, quota
//! share and circuit breaker.

use crate::supporto::*;
use anpr::client::{ErroreAnpr, EsitoAnpr, Passo};
use anpr::servizi::Servizio;
use anpr::types::{
    TipoComuneRichiesta, TipoCriteriRicercaE002, TipoDatiNascitaE000, TipoLuogoNascita3000,
};
use anpr_sim::Guasti;
use std::time::Duration;

fn per_cf(cf: &str) -> TipoCriteriRicercaE002 {
    TipoCriteriRicercaE002::per_codice_fiscale(cf)
}

#[tokio::test]
async fn several_people_by_personal_data_is_ambiguous() {
    let amb = ambiente(|_| {}).await;
    let c = amb.client();
    let ((cf_a, id_a), (_, id_b)) = amb.sim.esempi().omocodici[0].clone();
    let r = c
        .chiama(
            Servizio::C015,
            TipoCriteriRicercaE002::per_id_anpr(&id_a),
            dati(),
            &contesto(),
            &chiave("g"),
        )
        .await
        .unwrap();
    let EsitoAnpr::Trovato(s) = r.esito else {
        panic!()
    };
    let g = s[0].generalita.clone().unwrap();
    assert_eq!(
        g.codice_fiscale.unwrap().cod_fiscale.as_deref(),
        Some(cf_a.as_str())
    );
    let comune = g.luogo_nascita.unwrap().comune.unwrap();
    let criteri = TipoCriteriRicercaE002 {
        cognome: g.cognome,
        nome: g.nome,
        sesso: g.sesso,
        dati_nascita: Some(TipoDatiNascitaE000 {
            data_evento: g.data_nascita,
            luogo_nascita: Some(TipoLuogoNascita3000 {
                comune: Some(TipoComuneRichiesta {
                    nome_comune: comune.nome_comune,
                    codice_istat: comune.codice_istat,
                    sigla_provincia_istat: comune.sigla_provincia_istat,
                    descrizione_localita: None,
                }),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    let r = c
        .chiama(Servizio::C030, criteri, dati(), &contesto(), &chiave("amb"))
        .await
        .unwrap();
    match r.esito {
        EsitoAnpr::Ambiguo(mut ids) => {
            ids.sort();
            let mut attesi = vec![id_a, id_b];
            attesi.sort();
            assert_eq!(ids, attesi);
        }
        altro => panic!("atteso Ambiguo, trovato {altro:?}"),
    }
}

#[tokio::test]
async fn unknown_subject_is_en122_not_found() {
    let amb = ambiente(|_| {}).await;
    let c = amb.client();
    // A well-formed CF nobody has.
    let r = c
        .chiama(
            Servizio::C030,
            per_cf("ZZZZZZ00A01H501X"),
            dati(),
            &contesto(),
            &chiave("n"),
        )
        .await
        .unwrap();
    assert!(
        matches!(r.esito, EsitoAnpr::NonTrovato { ref codice, .. } if codice.as_deref() == Some("EN122")),
        "{r:?}"
    );
    assert_eq!(amb.sim.richieste_ricevute().last().unwrap().stato, 404);
}

#[tokio::test]
async fn answer_about_another_person_is_an_error() {
    let amb = ambiente(|_| {}).await;
    let c = amb.client();
    let es = amb.sim.esempi();
    let (_, id) = es.normali[0].clone();
    let (altro_cf, _) = es.normali[1].clone();
    let mut ctx = contesto();
    // The row asked for another CF than the one of the idANPR C030 gave back.
    ctx.cf_atteso = Some(altro_cf.clone());
    let e = c
        .chiama(
            Servizio::C015,
            TipoCriteriRicercaE002::per_id_anpr(&id),
            dati(),
            &ctx,
            &chiave("x"),
        )
        .await
        .unwrap_err();
    match e {
        ErroreAnpr::PersonaDiversa { motivo, .. } => assert!(motivo.contains(&altro_cf)),
        altro => panic!("{altro:?}"),
    }
}

#[tokio::test]
async fn voucher_refused_is_renewed_once() {
    // PDND rotates its signing key (here: the simulator restarts on the same port with a new
    // one): the cached voucher, still valid by its own exp, is refused with 401.
    let amb = ambiente(|_| {}).await;
    let c = amb.client();
    let (cf, _) = amb.sim.esempi().normali[0].clone();
    c.chiama(
        Servizio::C030,
        per_cf(&cf),
        dati(),
        &contesto(),
        &chiave("v"),
    )
    .await
    .unwrap();
    let Ambiente { sim, dir: _dir, .. } = amb;
    let indirizzo = sim.indirizzo();
    sim.shutdown().await;
    let listener = tokio::net::TcpListener::bind(indirizzo).await.unwrap();
    let sim = anpr_sim::avvia(sim_config(), listener).await.unwrap();
    let r = c
        .chiama(
            Servizio::C030,
            per_cf(&cf),
            dati(),
            &contesto(),
            &chiave("v"),
        )
        .await
        .unwrap();
    assert!(matches!(r.esito, EsitoAnpr::Trovato(_)));
    let stati: Vec<(String, u16)> = sim
        .richieste_ricevute()
        .iter()
        .map(|r| (r.percorso.clone(), r.stato))
        .collect();
    let i = stati.iter().position(|s| s.1 == 401).expect("un 401");
    assert!(stati[i + 1].0.ends_with("/token.oauth2"), "{stati:?}");
    assert_eq!(stati[i + 2].1, 200, "{stati:?}");
    assert_eq!(stati.iter().filter(|s| s.1 == 401).count(), 1);
}

#[tokio::test]
async fn voucher_refused_twice_stops_the_request() {
    let amb = ambiente(|c| c.durata_voucher_s = 0).await;
    let c = amb.client();
    let (cf, _) = amb.sim.esempi().normali[0].clone();
    let e = c
        .chiama(
            Servizio::C030,
            per_cf(&cf),
            dati(),
            &contesto(),
            &chiave("v"),
        )
        .await
        .unwrap_err();
    match &e {
        ErroreAnpr::Fallita {
            status: Some(401),
            spiegazione,
            ..
        } => assert!(spiegazione.contains("rinnovo")),
        altro => panic!("{altro:?}"),
    }
    assert!(e.ferma_richiesta());
    let da_401 = amb
        .sim
        .richieste_ricevute()
        .iter()
        .filter(|r| r.stato == 401)
        .count();
    assert_eq!(da_401, 2);
}

#[tokio::test]
async fn token_endpoint_refusal_names_the_voucher_step() {
    let amb = ambiente(|_| {}).await;
    let kid = amb.chiavi.kid.clone();
    let c = amb.client_con(amb.config(|t| t.replace(&kid, "kid-sconosciuto")), |_| {});
    let (cf, _) = amb.sim.esempi().normali[0].clone();
    let e = c
        .chiama(
            Servizio::C030,
            per_cf(&cf),
            dati(),
            &contesto(),
            &chiave("t"),
        )
        .await
        .unwrap_err();
    match &e {
        ErroreAnpr::Fallita {
            passo: Passo::Voucher,
            status: Some(s),
            spiegazione,
            risposta,
            ..
        } => {
            assert!(*s == 400 || *s == 401);
            assert!(spiegazione.contains("kid"));
            assert!(risposta.starts_with(&format!("HTTP {s}: ")), "{risposta}");
        }
        altro => panic!("{altro:?}"),
    }
    assert_eq!(amb.sim.conteggio(CLIENT_ID, "C030"), 0);
}

#[tokio::test]
async fn rivesto_share_of_the_quota_is_never_exceeded() {
    let amb = ambiente(|_| {}).await;
    let c = amb.client_con(
        amb.config(|t| format!("{t}\n[anpr.quotas]\nC030 = 2\n")),
        |_| {},
    );
    let (cf, _) = amb.sim.esempi().normali[0].clone();
    for _ in 0..2 {
        c.chiama(
            Servizio::C030,
            per_cf(&cf),
            dati(),
            &contesto(),
            &chiave("s"),
        )
        .await
        .unwrap();
    }
    let e = c
        .chiama(
            Servizio::C030,
            per_cf(&cf),
            dati(),
            &contesto(),
            &chiave("s"),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, ErroreAnpr::QuotaEsaurita { da_anpr: false, .. }),
        "{e:?}"
    );
    assert_eq!(amb.sim.conteggio(CLIENT_ID, "C030"), 2);
}

#[tokio::test]
async fn transient_503_is_retried_until_it_passes() {
    let amb = ambiente(|c| {
        c.guasti = Guasti {
            p503: 1.0,
            ..Guasti::default()
        }
    })
    .await;
    let c = amb.client_con(amb.config(|t| t), |o| {
        o.politica.attesa_iniziale = Duration::from_millis(300);
        o.politica.attesa_max = Duration::from_millis(300);
    });
    let (cf, _) = amb.sim.esempi().normali[0].clone();
    let sim = &amb.sim;
    let guarisci = async {
        while !sim.richieste_ricevute().iter().any(|r| r.stato == 503) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        sim.imposta_guasti(Guasti::default());
    };
    let (ctx, k) = (contesto(), chiave("r"));
    let (r, ()) = tokio::join!(
        c.chiama(Servizio::C030, per_cf(&cf), dati(), &ctx, &k),
        guarisci
    );
    let r = r.unwrap();
    assert_eq!(r.tentativi, 2);
    // Both attempts reached the gateway and count against the quota.
    assert_eq!(
        c.quota().usate(
            "H501",
            Servizio::C030,
            chrono::Utc::now().timestamp_millis()
        ),
        2
    );
}

#[tokio::test]
async fn timeout_and_malformed_bodies_are_transient_then_errore() {
    for guasti in [
        Guasti {
            timeout: 1.0,
            ..Guasti::default()
        },
        Guasti {
            malformato: 1.0,
            ..Guasti::default()
        },
    ] {
        let amb = ambiente(|c| {
            c.guasti = guasti;
            c.timeout_ms = 1_000;
        })
        .await;
        let c = amb.client_con(
            amb.config(|t| t.replace("timeout_ms = 2000", "timeout_ms = 300")),
            |_| {},
        );
        let (cf, _) = amb.sim.esempi().normali[0].clone();
        let e = c
            .chiama(
                Servizio::C030,
                per_cf(&cf),
                dati(),
                &contesto(),
                &chiave("m"),
            )
            .await
            .unwrap_err();
        match e {
            ErroreAnpr::Transitorio { tentativi, .. } => assert_eq!(tentativi, 3, "{guasti:?}"),
            altro => panic!("{guasti:?}: {altro:?}"),
        }
    }
}

#[tokio::test]
async fn circuit_breaker_opens_and_half_opens() {
    let amb = ambiente(|c| {
        c.guasti = Guasti {
            p503: 1.0,
            ..Guasti::default()
        }
    })
    .await;
    let c = amb.client_con(amb.config(|t| t), |o| {
        o.politica.tentativi_max = 2;
        o.soglia_circuito = 3;
        o.pausa_circuito = Duration::from_millis(400);
    });
    let (cf, _) = amb.sim.esempi().normali[0].clone();
    let ctx = contesto();
    let chiamata = || c.chiama(Servizio::C030, per_cf(&cf), dati(), &ctx, "circuito");
    assert!(matches!(
        chiamata().await,
        Err(ErroreAnpr::Transitorio { .. })
    ));
    // The third consecutive failure opens the circuit.
    assert!(matches!(
        chiamata().await,
        Err(ErroreAnpr::CircuitoAperto { .. })
    ));
    assert_eq!(amb.sim.conteggio(CLIENT_ID, "C030"), 3);
    let e = chiamata().await.unwrap_err();
    assert!(matches!(e, ErroreAnpr::CircuitoAperto { .. }) && e.sospende_fino_a().is_some());
    assert_eq!(
        amb.sim.conteggio(CLIENT_ID, "C030"),
        3,
        "aperto: nessuna chiamata al gateway"
    );
    // Other services are not affected.
    amb.sim.imposta_guasti(Guasti::default());
    let (_, id) = amb.sim.esempi().normali[0].clone();
    c.chiama(
        Servizio::C015,
        TipoCriteriRicercaE002::per_id_anpr(&id),
        dati(),
        &contesto(),
        &chiave("c"),
    )
    .await
    .unwrap();
    // After the pause one trial call goes, succeeds and closes the circuit.
    tokio::time::sleep(Duration::from_millis(450)).await;
    chiamata().await.unwrap();
    chiamata().await.unwrap();
}
