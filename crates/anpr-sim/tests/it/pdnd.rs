//! The PDND token endpoint.

use crate::supporto::*;
use anpr_sim::chiavi::coppia_estranea;
use serde_json::json;

fn decodifica(jws: &str) -> (serde_json::Value, serde_json::Value) {
    let h = jsonwebtoken::decode_header(jws).unwrap();
    let c = jsonwebtoken::dangerous::insecure_decode_claims::<serde_json::Value>(jws).unwrap();
    (serde_json::to_value(h).unwrap(), c)
}

#[tokio::test]
async fn il_voucher_porta_digest_purpose_e_audience_del_servizio() {
    let ctx = avvia(config()).await;
    let te = firma(ctx.chiave, &ctx.claims_tracking("C020"));
    let (stato, corpo) = ctx
        .token(&firma(ctx.chiave, &ctx.claims_asserzione("C020", &te)))
        .await;
    assert_eq!(stato, 200, "{corpo}");
    assert_eq!(corpo["token_type"], "Bearer");
    assert!(corpo["expires_in"].as_u64().unwrap() <= 600);
    let (h, c) = decodifica(corpo["access_token"].as_str().unwrap());
    assert_eq!(h["typ"], "at+jwt");
    assert_eq!(h["alg"], "RS256");
    assert!(h["kid"].is_string());
    let addr = ctx.sim.indirizzo();
    assert_eq!(
        c["aud"],
        format!(
            "http://{addr}/govway/rest/in/MinInternoPortaANPR/C020-servizioAccertamentoResidenza/v1"
        )
    );
    assert_eq!(c["purposeId"], "purpose-C020");
    assert_eq!(c["client_id"], CLIENT_ID);
    assert_eq!(c["sub"], CLIENT_ID);
    let atteso = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(te.as_bytes()));
    assert_eq!(c["digest"], json!({"alg": "SHA256", "value": atteso}));
    assert!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap() <= 600);
    // The voucher verifies with the simulator's PDND key.
    let dec =
        jsonwebtoken::DecodingKey::from_rsa_pem(ctx.sim.chiave_pubblica_pdnd().as_bytes()).unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.validate_aud = false;
    jsonwebtoken::decode::<serde_json::Value>(corpo["access_token"].as_str().unwrap(), &dec, &v)
        .unwrap();
}

async fn rifiutata(ctx: &Ctx, asserzione: &str, stato: u16, parola: &str) {
    let (s, corpo) = ctx.token(asserzione).await;
    assert_eq!(s, stato, "{corpo}");
    assert_eq!(corpo["status"], stato);
    assert!(corpo["type"].is_string() && corpo["title"].is_string());
    let e = &corpo["errors"][0];
    let codice = e["code"].as_str().unwrap();
    assert!(
        codice.len() == 8 && codice.as_bytes()[3] == b'-',
        "{codice}"
    );
    assert!(e["detail"].as_str().unwrap().contains(parola), "{corpo}");
}

#[tokio::test]
async fn ogni_difetto_dell_asserzione_e_rifiutato_con_un_problem() {
    let ctx = avvia(config()).await;
    let te = firma(ctx.chiave, &ctx.claims_tracking("C030"));
    let buona = ctx.claims_asserzione("C030", &te);

    rifiutata(&ctx, &firma(coppia_estranea(), &buona), 401, "kid").await;
    let mut c = buona.clone();
    c["aud"] = json!("auth.uat.interop.pagopa.it/client-assertion");
    rifiutata(&ctx, &firma(ctx.chiave, &c), 400, "aud").await;
    let mut c = buona.clone();
    c["exp"] = json!(ora() - 10);
    rifiutata(&ctx, &firma(ctx.chiave, &c), 401, "scaduto").await;
    let mut c = buona.clone();
    c["sub"] = json!("altro");
    rifiutata(&ctx, &firma(ctx.chiave, &c), 400, "sub").await;
    let mut c = buona.clone();
    c["purposeId"] = json!("purpose-sconosciuto");
    rifiutata(&ctx, &firma(ctx.chiave, &c), 400, "purposeId").await;
    let mut c = buona.clone();
    c["digest"]["value"] = json!("q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80=");
    rifiutata(&ctx, &firma(ctx.chiave, &c), 400, "digest").await;
    let mut c = buona.clone();
    c["iss"] = json!("client-ignoto");
    rifiutata(&ctx, &firma(ctx.chiave, &c), 401, "sconosciuto").await;

    // The same assertion twice: the jti is a replay.
    let una = firma(ctx.chiave, &buona);
    assert_eq!(ctx.token(&una).await.0, 200);
    rifiutata(&ctx, &una, 401, "replay").await;

    // A signature made by another key under the registered kid.
    let estranea = firma(coppia_estranea(), &ctx.claims_asserzione("C030", &te));
    let parti: Vec<&str> = estranea.split('.').collect();
    let vera = firma(ctx.chiave, &ctx.claims_asserzione("C030", &te));
    let vera_parti: Vec<&str> = vera.split('.').collect();
    let falsa = format!("{}.{}.{}", vera_parti[0], vera_parti[1], parti[2]);
    rifiutata(&ctx, &falsa, 401, "firma").await;
}

#[tokio::test]
async fn modulo_senza_grant_type_giusto() {
    let ctx = avvia(config()).await;
    let r = ctx
        .http
        .post(ctx.sim.token_url())
        .form(&[("client_assertion", "x"), ("grant_type", "password")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let v: serde_json::Value = r.json().await.unwrap();
    assert!(
        v["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("grant_type")
    );
}
