//! One test per gateway check: a request wrong in exactly one way gets exactly that error, and
//! the client's answer table reports it as it should. Mistakes a configuration can make go
//! through the real client; the others are crafted by hand from correct pieces.

use crate::supporto::*;
use anpr::client::{ErroreAnpr, Passo};
use anpr::risposta::{Classificazione, EsitoHttp, Origine, classifica};
use anpr::security::{digest_header, sha256_hex};
use anpr::servizi::Servizio;
use anpr::types::TipoCriteriRicercaE002;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

/// The pieces of one hand-made call, all correct until a test spoils one.
struct Pezzi {
    aud: String,
    te: Value,
    firma: Value,
    corpo: Value,
    content_type: String,
    digest: Option<String>,
    voucher_guasto: bool,
    te_diversa: bool,
}

fn firma_jws(amb: &Ambiente, claims: &Value) -> String {
    let mut h = Header::new(Algorithm::RS256);
    h.typ = Some("JWT".into());
    h.kid = Some(amb.chiavi.kid.clone());
    let k = EncodingKey::from_rsa_pem(amb.chiavi.private_pem.as_bytes()).unwrap();
    jsonwebtoken::encode(&h, claims, &k).unwrap()
}

fn ora() -> i64 {
    chrono::Utc::now().timestamp()
}

fn pezzi(amb: &Ambiente, s: Servizio) -> Pezzi {
    let aud = format!("{}/{}/v1", amb.sim.audience_base(), s.path_predefinito());
    let t = ora();
    let te = json!({"iss": CLIENT_ID, "sub": CLIENT_ID, "aud": aud, "purposeId": purpose(s),
        "jti": uuid::Uuid::new_v4().to_string(), "iat": t - 5, "nbf": t - 5, "exp": t + 600,
        "dnonce": "1234567890123", "userID": "OPERATORE1", "userLocation": "UFFICIO-01", "LoA": "LoA2"});
    let firma = json!({"iss": CLIENT_ID, "sub": CLIENT_ID, "aud": aud, "jti": uuid::Uuid::new_v4().to_string(),
        "iat": t - 5, "nbf": t - 5, "exp": t + 300});
    let (cf, _) = amb.sim.esempi().normali[0].clone();
    let corpo = json!({"idOperazioneClient": "1000", "criteriRicerca": {"codiceFiscale": cf},
        "datiRichiesta": {"dataRiferimentoRichiesta": dati().data_riferimento_richiesta,
            "motivoRichiesta": "PROT-1", "casoUso": s.caso_uso()}});
    Pezzi {
        aud,
        te,
        firma,
        corpo,
        content_type: "application/json".into(),
        digest: None,
        voucher_guasto: false,
        te_diversa: false,
    }
}

async fn voucher(amb: &Ambiente, s: Servizio, te: &str) -> String {
    let t = ora();
    let ca = firma_jws(
        amb,
        &json!({"iss": CLIENT_ID, "sub": CLIENT_ID, "aud": amb.sim.client_assertion_aud(),
        "purposeId": purpose(s), "jti": uuid::Uuid::new_v4().to_string(), "iat": t - 5, "exp": t + 60,
        "digest": {"alg": "SHA256", "value": sha256_hex(te.as_bytes())}}),
    );
    let r: Value = reqwest::Client::new()
        .post(amb.sim.token_url())
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
    r["access_token"].as_str().expect("voucher").to_string()
}

/// Sends the call; returns the classification and the simulator's logged reason.
async fn invia(amb: &Ambiente, s: Servizio, mut p: Pezzi) -> (Classificazione, String) {
    let te = firma_jws(amb, &p.te);
    let legata = if p.te_diversa {
        let mut altra = p.te.clone();
        altra["jti"] = json!("altra");
        firma_jws(amb, &altra)
    } else {
        te.clone()
    };
    let mut v = voucher(amb, s, &legata).await;
    if p.voucher_guasto {
        let ultimo = v.pop().unwrap();
        v.push(if ultimo == 'A' { 'B' } else { 'A' });
    }
    let corpo = serde_json::to_vec(&p.corpo).unwrap();
    let digest = p.digest.take().unwrap_or_else(|| digest_header(&corpo));
    if p.firma.get("signed_headers").is_none() {
        p.firma["signed_headers"] =
            json!([{"digest": digest_header(&corpo)}, {"content-type": "application/json"}]);
    }
    let url = format!(
        "{}/{}/v1/anpr-service-e002",
        amb.sim.base_url(),
        s.path_predefinito()
    );
    let r = reqwest::Client::new()
        .post(url)
        .bearer_auth(v)
        .header("Content-Type", &p.content_type)
        .header("Digest", digest)
        .header("Agid-JWT-Signature", firma_jws(amb, &p.firma))
        .header("Agid-JWT-TrackingEvidence", te)
        .body(corpo)
        .send()
        .await
        .unwrap();
    assert!(r.headers().contains_key("GovWay-Transaction-ID") || r.status() == 200);
    let esito = EsitoHttp::Risposta {
        status: r.status().as_u16(),
        corpo: r.bytes().await.unwrap().to_vec(),
        retry_after: None,
    };
    let motivo = amb
        .sim
        .richieste_ricevute()
        .last()
        .unwrap()
        .motivo
        .clone()
        .unwrap_or_default();
    (classifica(s, Origine::Gateway, &esito), motivo)
}

fn titolo_fallita(c: &Classificazione, titolo: &str) {
    match c {
        Classificazione::Fallita {
            risposta,
            spiegazione,
            ..
        } => {
            assert!(risposta.contains(titolo), "{risposta}");
            assert!(!spiegazione.is_empty());
        }
        altro => panic!("atteso Fallita {titolo}, trovato {altro:?}"),
    }
}

#[tokio::test]
async fn the_hand_made_call_is_correct_to_begin_with() {
    let amb = ambiente(|_| {}).await;
    let (c, motivo) = invia(&amb, Servizio::C030, pezzi(&amb, Servizio::C030)).await;
    assert!(
        matches!(c, Classificazione::Trovato { .. }),
        "{c:?} {motivo}"
    );
}

#[tokio::test]
async fn check_1_voucher_bad_signature_is_401() {
    let amb = ambiente(|_| {}).await;
    let mut p = pezzi(&amb, Servizio::C030);
    p.voucher_guasto = true;
    let (c, motivo) = invia(&amb, Servizio::C030, p).await;
    assert!(
        matches!(c, Classificazione::VoucherRifiutato { .. }),
        "{c:?}"
    );
    assert!(motivo.contains("firma"), "{motivo}");
}

#[tokio::test]
async fn check_1_voucher_wrong_aud_via_config() {
    // The #1 pitfall: audience_base with -PDND.
    let amb = ambiente(|_| {}).await;
    let base = amb.sim.audience_base();
    let cfg = amb.config(|t| {
        t.replace(
            &format!("audience_base = \"{base}\""),
            &format!("audience_base = \"{base}-PDND\""),
        )
    });
    let c = amb.client_con(cfg, |_| {});
    let (cf, _) = amb.sim.esempi().normali[0].clone();
    let e = c
        .chiama(
            Servizio::C030,
            TipoCriteriRicercaE002::per_codice_fiscale(cf),
            dati(),
            &contesto(),
            &chiave("aud"),
        )
        .await
        .unwrap_err();
    match &e {
        ErroreAnpr::Fallita {
            passo: Passo::Chiamata,
            status: Some(400),
            spiegazione,
            risposta,
            ..
        } => {
            assert!(
                risposta.contains("InteroperabilityInvalidRequest"),
                "{risposta}"
            );
            assert!(spiegazione.contains("-PDND"), "{spiegazione}");
        }
        altro => panic!("{altro:?}"),
    }
    assert!(e.ferma_richiesta());
    let motivo = amb
        .sim
        .richieste_ricevute()
        .last()
        .unwrap()
        .motivo
        .clone()
        .unwrap();
    assert!(motivo.contains("aud"), "{motivo}");
}

#[tokio::test]
async fn check_1_purpose_of_another_service() {
    let amb = ambiente(|_| {}).await;
    let c = amb.client();
    let mut ctx = contesto();
    ctx.purpose_id = Some(purpose(Servizio::C020));
    let (cf, _) = amb.sim.esempi().normali[0].clone();
    let e = c
        .chiama(
            Servizio::C030,
            TipoCriteriRicercaE002::per_codice_fiscale(cf),
            dati(),
            &ctx,
            &chiave("p"),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&e, ErroreAnpr::Fallita { status: Some(400), risposta, .. } if risposta.contains("InteroperabilityInvalidRequest")),
        "{e:?}"
    );
    let motivo = amb
        .sim
        .richieste_ricevute()
        .last()
        .unwrap()
        .motivo
        .clone()
        .unwrap();
    // PDND writes the audience of the purpose's own e-service in the voucher: the gateway
    // refuses it on `aud` before it looks at the purposeId.
    assert!(
        motivo.starts_with("voucher:") && motivo.contains("'aud'"),
        "{motivo}"
    );
}

async fn caso_evidenza(modifica: impl FnOnce(&mut Pezzi), atteso: &str) {
    let amb = ambiente(|_| {}).await;
    let mut p = pezzi(&amb, Servizio::C030);
    modifica(&mut p);
    let (c, motivo) = invia(&amb, Servizio::C030, p).await;
    titolo_fallita(&c, "InteroperabilityInvalidRequest");
    assert!(motivo.contains(atteso), "atteso «{atteso}» in «{motivo}»");
}

#[tokio::test]
async fn check_2_tracking_evidence_aud() {
    caso_evidenza(
        |p| p.te["aud"] = json!(format!("{}/anpr-service-e002", p.aud)),
        "[Header 'Agid-JWT-TrackingEvidence'] Token contenente un claim 'aud' non valido",
    )
    .await;
}

#[tokio::test]
async fn check_2_tracking_evidence_loa_too_long() {
    caso_evidenza(
        |p| p.te["LoA"] = json!("LIVELLO-DI-GARANZIA-2"),
        "'LoA' più lungo di 20",
    )
    .await;
}

#[tokio::test]
async fn check_2_tracking_evidence_dnonce() {
    caso_evidenza(|p| p.te["dnonce"] = json!("12345"), "dnonce").await;
}

#[tokio::test]
async fn check_2_tracking_evidence_not_the_one_in_the_voucher() {
    caso_evidenza(|p| p.te_diversa = true, "digest del voucher diverso").await;
}

#[tokio::test]
async fn check_3_signature_aud() {
    caso_evidenza(
        |p| p.firma["aud"] = json!("https://altro/servizio/v1"),
        "[Header 'Agid-JWT-Signature'] Token contenente un claim 'aud' non valido",
    )
    .await;
}

#[tokio::test]
async fn check_3_signature_expired() {
    caso_evidenza(
        |p| {
            p.firma["exp"] = json!(ora() - 10);
        },
        "[Header 'Agid-JWT-Signature'] token scaduto",
    )
    .await;
}

#[tokio::test]
async fn check_3_signature_jti_replay() {
    let amb = ambiente(|_| {}).await;
    let p = pezzi(&amb, Servizio::C030);
    let jti = p.firma["jti"].clone();
    let (c, _) = invia(&amb, Servizio::C030, p).await;
    assert!(matches!(c, Classificazione::Trovato { .. }));
    let mut p2 = pezzi(&amb, Servizio::C030);
    p2.firma["jti"] = jti;
    let (c, motivo) = invia(&amb, Servizio::C030, p2).await;
    titolo_fallita(&c, "InteroperabilityInvalidRequest");
    assert!(motivo.contains("jti già usato"), "{motivo}");
}

#[tokio::test]
async fn check_3_signed_headers_differ_from_those_sent() {
    caso_evidenza(
        |p| {
            p.firma["signed_headers"] =
                json!([{"digest": "SHA-256=AAAA"}, {"content-type": "application/json"}])
        },
        "signed_headers: 'digest' diverso",
    )
    .await;
}

#[tokio::test]
async fn check_4_digest_differs_from_the_body() {
    // Signed headers match the Digest sent, but the Digest is not the body's: the body was
    // re-serialised after hashing (a classic pitfall).
    caso_evidenza(
        |p| {
            let d = digest_header(b"{}");
            p.digest = Some(d.clone());
            p.firma["signed_headers"] =
                json!([{"digest": d}, {"content-type": "application/json"}]);
        },
        "header Digest diverso dall'hash del corpo",
    )
    .await;
}

#[tokio::test]
async fn check_5_body_shape_is_invalid_request_content() {
    for (modifica, atteso) in [
        (
            json!({"criteriRicerca": {"codiceFiscale": "X", "numeroCartaIdentita": "CA00000AA"}}),
            "numeroCartaIdentita",
        ),
        (
            json!({"datiRichiesta": {"dataRiferimentoRichiesta": "16/05/2024", "motivoRichiesta": "x", "casoUso": "C030"}}),
            "dataRiferimentoRichiesta",
        ),
    ] {
        let amb = ambiente(|_| {}).await;
        let mut p = pezzi(&amb, Servizio::C030);
        for (k, v) in modifica.as_object().unwrap() {
            p.corpo[k] = v.clone();
        }
        let (c, motivo) = invia(&amb, Servizio::C030, p).await;
        match &c {
            Classificazione::Fallita {
                spiegazione,
                risposta,
                ..
            } => {
                assert!(risposta.contains("InvalidRequestContent"), "{risposta}");
                assert!(spiegazione.contains("schema OpenAPI"));
            }
            altro => panic!("{altro:?}"),
        }
        assert!(motivo.contains(atteso), "atteso «{atteso}» in «{motivo}»");
    }
}

#[tokio::test]
async fn check_5_body_shape_through_the_client() {
    // A malformed reference date passes through the client and GovWay refuses it.
    let amb = ambiente(|_| {}).await;
    let c = amb.client();
    let mut d = dati();
    d.data_riferimento_richiesta = "2024-5-16".into();
    let (cf, _) = amb.sim.esempi().normali[0].clone();
    let e = c
        .chiama(
            Servizio::C030,
            TipoCriteriRicercaE002::per_codice_fiscale(cf),
            d,
            &contesto(),
            &chiave("d"),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&e, ErroreAnpr::Fallita { risposta, .. } if risposta.contains("InvalidRequestContent")),
        "{e:?}"
    );
}

#[tokio::test]
async fn check_5_anpr_rule_id_over_30_characters() {
    let amb = ambiente(|_| {}).await;
    let mut p = pezzi(&amb, Servizio::C030);
    p.corpo["idOperazioneClient"] = json!("1".repeat(31));
    let (c, _) = invia(&amb, Servizio::C030, p).await;
    match c {
        Classificazione::ErroreAnpr {
            status: 400,
            errore,
            ..
        } => {
            assert_eq!(
                errore.codice_errore_anomalia.as_deref(),
                Some(anpr_sim::CODICE_ID_TROPPO_LUNGO)
            );
            assert!(errore.testo_errore_anomalia.unwrap().contains("30"));
        }
        altro => panic!("{altro:?}"),
    }
}

#[tokio::test]
async fn check_6_quota_is_limit_exceeded() {
    let amb = ambiente(|c| {
        c.quote.insert("C030".into(), 1);
    })
    .await;
    let c = amb.client();
    let (cf, _) = amb.sim.esempi().normali[0].clone();
    let crit = || TipoCriteriRicercaE002::per_codice_fiscale(cf.clone());
    c.chiama(Servizio::C030, crit(), dati(), &contesto(), &chiave("q"))
        .await
        .unwrap();
    let e = c
        .chiama(Servizio::C030, crit(), dati(), &contesto(), &chiave("q"))
        .await
        .unwrap_err();
    match &e {
        ErroreAnpr::QuotaEsaurita {
            servizio: Servizio::C030,
            da_anpr: true,
            fino_a,
        } => assert!(*fino_a > chrono::Utc::now()),
        altro => panic!("{altro:?}"),
    }
    assert!(e.sospende_fino_a().is_some());
    assert_eq!(amb.sim.richieste_ricevute().last().unwrap().stato, 429);
    // The service stays paused: the next call does not even reach the gateway.
    let prima = amb.sim.conteggio(CLIENT_ID, "C030");
    assert!(
        c.chiama(Servizio::C030, crit(), dati(), &contesto(), &chiave("q"))
            .await
            .is_err()
    );
    assert_eq!(amb.sim.conteggio(CLIENT_ID, "C030"), prima);
}

#[tokio::test]
async fn check_7_concurrency_cap_is_too_many_requests_and_retried() {
    let amb = ambiente(|c| {
        c.concurrency_cap = Some(1);
        c.latenza = anpr_sim::Latenza::fissa(150);
    })
    .await;
    let c = std::sync::Arc::new(amb.client_con(amb.config(|t| t), |o| {
        o.politica.tentativi_max = 6;
        o.politica.attesa_iniziale = std::time::Duration::from_millis(100);
        o.politica.attesa_max = std::time::Duration::from_millis(400);
    }));
    let es = amb.sim.esempi();
    let mut compiti = Vec::new();
    for (cf, _) in es.normali.iter().take(3).cloned() {
        let c = c.clone();
        compiti.push(tokio::spawn(async move {
            c.chiama(
                Servizio::C030,
                TipoCriteriRicercaE002::per_codice_fiscale(cf),
                dati(),
                &contesto(),
                &chiave("cap"),
            )
            .await
        }));
    }
    let mut tentativi = 0;
    for t in compiti {
        tentativi += t.await.unwrap().expect("riuscita dopo i 429").tentativi;
    }
    assert!(tentativi > 3, "almeno una chiamata è stata ritentata");
    let troppi = amb
        .sim
        .richieste_ricevute()
        .iter()
        .filter(|r| r.risposta.contains("TooManyRequests"))
        .count();
    assert_eq!(troppi as u32, tentativi - 3);
}
