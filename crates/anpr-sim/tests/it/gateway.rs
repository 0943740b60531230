//! The gateway checks 1–7 of the issue, each triggered alone by one spoiled part.

use crate::supporto::*;
use anpr_sim::chiavi::coppia_estranea;
use serde_json::json;

const CF: &str = "STTSGT90A01H501J";

fn corpo_c030(id: &str) -> serde_json::Value {
    richiesta(id, json!({"codiceFiscale": CF}), "C030", "2024-05-16")
}

#[tokio::test]
async fn una_chiamata_corretta_passa_e_conta() {
    let ctx = avvia(config()).await;
    let r = ctx
        .chiamata("C030", corpo_c030("1"))
        .await
        .invia(&ctx)
        .await;
    assert_eq!(r.stato, 200, "{}", r.testo);
    assert_eq!(
        r.corpo["listaSoggetti"]["datiSoggetto"][0]["identificativi"]["idANPR"],
        "AF41450AS"
    );
    assert!(r.transazione.is_some());
    assert_eq!(ctx.sim.conteggio(CLIENT_ID, "C030"), 1);
}

#[tokio::test]
async fn controllo_1_voucher() {
    let ctx = avvia(config()).await;
    // Bad signature: 401, and the call does not count.
    let mut c = ctx.chiamata("C030", corpo_c030("1")).await;
    let mut parti: Vec<String> = c.voucher.split('.').map(str::to_owned).collect();
    parti[2] = firma(coppia_estranea(), &json!({"x": 1}))
        .split('.')
        .nth(2)
        .unwrap()
        .to_owned();
    c.voucher = parti.join(".");
    let r = c.invia(&ctx).await;
    assert!(problema(&ctx, &r, 401, "AuthenticationRequired").contains("firma"));
    assert_eq!(ctx.sim.conteggio(CLIENT_ID, "C030"), 0);

    // No voucher at all.
    let mut c = ctx.chiamata("C030", corpo_c030("2")).await;
    c.voucher = String::new();
    let r = c.invia(&ctx).await;
    problema(&ctx, &r, 401, "AuthenticationRequired");

    // A voucher of another service (its aud and purpose): 400; check 1 failed, so no count.
    let (voucher_c020, te) = ctx.voucher("C020").await;
    let c = Chiamata::nuova(
        &ctx,
        "C030",
        voucher_c020,
        te,
        serde_json::to_vec(&corpo_c030("3")).unwrap(),
    );
    let r = c.invia(&ctx).await;
    assert!(problema(&ctx, &r, 400, "InteroperabilityInvalidRequest").contains("aud"));
    assert_eq!(ctx.sim.conteggio(CLIENT_ID, "C030"), 0);
    // Past check 1 the call counts, whatever fails later.
    let mut c = ctx.chiamata("C030", corpo_c030("4")).await;
    c.digest = Some("SHA-256=AAAA".into());
    assert_eq!(c.invia(&ctx).await.stato, 400);
    assert_eq!(ctx.sim.conteggio(CLIENT_ID, "C030"), 1);
}

#[tokio::test]
async fn controllo_1_voucher_senza_digest() {
    let ctx = avvia(config()).await;
    let te = firma(ctx.chiave, &ctx.claims_tracking("C030"));
    let mut a = ctx.claims_asserzione("C030", &te);
    a.as_object_mut().unwrap().remove("digest");
    let (s, v) = ctx.token(&firma(ctx.chiave, &a)).await;
    assert_eq!(s, 200, "PDND issues vouchers without digest: {v}");
    let c = Chiamata::nuova(
        &ctx,
        "C030",
        v["access_token"].as_str().unwrap().into(),
        te,
        serde_json::to_vec(&corpo_c030("1")).unwrap(),
    );
    let r = c.invia(&ctx).await;
    assert!(problema(&ctx, &r, 400, "InteroperabilityInvalidRequest").contains("digest"));
}

async fn tracking_rovinata(ctx: &Ctx, guasta: impl Fn(&mut serde_json::Value), motivo: &str) {
    let mut claims = ctx.claims_tracking("C030");
    guasta(&mut claims);
    let te = firma(ctx.chiave, &claims);
    let (s, v) = ctx
        .token(&firma(ctx.chiave, &ctx.claims_asserzione("C030", &te)))
        .await;
    assert_eq!(s, 200);
    let c = Chiamata::nuova(
        ctx,
        "C030",
        v["access_token"].as_str().unwrap().into(),
        te,
        serde_json::to_vec(&corpo_c030("1")).unwrap(),
    );
    let r = c.invia(ctx).await;
    let m = problema(ctx, &r, 400, "InteroperabilityInvalidRequest");
    assert!(
        m.contains("Agid-JWT-TrackingEvidence") && m.contains(motivo),
        "{m}"
    );
}

#[tokio::test]
async fn controllo_2_tracking_evidence() {
    let ctx = avvia(config()).await;
    let pdnd = ctx
        .sim
        .audience_base()
        .replace("MinInternoPortaANPR", "MinInternoPortaANPR-PDND");
    tracking_rovinata(
        &ctx,
        |c| {
            c["aud"] = json!(format!(
                "{pdnd}/C030-servizioAccertamentoIdUnicoNazionale/v1"
            ))
        },
        "aud",
    )
    .await;
    tracking_rovinata(
        &ctx,
        |c| c["LoA"] = json!("SpidL2-livello-molto-alto"),
        "LoA",
    )
    .await;
    tracking_rovinata(
        &ctx,
        |c| c["userLocation"] = json!("x".repeat(21)),
        "userLocation",
    )
    .await;
    tracking_rovinata(&ctx, |c| c["dnonce"] = json!("123"), "dnonce").await;
    tracking_rovinata(&ctx, |c| c["exp"] = json!(ora() - 1), "scaduto").await;
    tracking_rovinata(
        &ctx,
        |c| c["purposeId"] = json!("purpose-C020"),
        "purposeId",
    )
    .await;
    tracking_rovinata(
        &ctx,
        |c| drop(c.as_object_mut().unwrap().remove("userID")),
        "userID",
    )
    .await;

    // The voucher's digest is of another evidence.
    let (voucher, _) = ctx.voucher("C030").await;
    let altra = firma(ctx.chiave, &ctx.claims_tracking("C030"));
    let r = Chiamata::nuova(
        &ctx,
        "C030",
        voucher,
        altra,
        serde_json::to_vec(&corpo_c030("1")).unwrap(),
    )
    .invia(&ctx)
    .await;
    assert!(problema(&ctx, &r, 400, "InteroperabilityInvalidRequest").contains("digest"));
}

/// Spoils one part of a call.
type Guasto = Box<dyn Fn(&mut Chiamata)>;

#[tokio::test]
async fn controllo_3_agid_jwt_signature() {
    let ctx = avvia(config()).await;
    let casi: Vec<(Guasto, &str)> = vec![
        (
            Box::new(|c| c.claims_firma["aud"] = json!("https://altro/v1")),
            "aud",
        ),
        (
            Box::new(|c| c.claims_firma["exp"] = json!(ora() - 1)),
            "scaduto",
        ),
        (
            Box::new(|c| c.claims_firma["iat"] = json!(ora() + 120)),
            "iat",
        ),
        (
            Box::new(|c| c.claims_firma["signed_headers"][0]["digest"] = json!("SHA-256=AAAA")),
            "signed_headers",
        ),
        (
            Box::new(|c| {
                c.claims_firma["signed_headers"] = json!([{"digest": c.digest.clone().unwrap()}])
            }),
            "content-type",
        ),
        (
            Box::new(|c| c.firma = Some(firma(coppia_estranea(), &c.claims_firma))),
            "kid",
        ),
    ];
    for (k, (guasta, motivo)) in casi.into_iter().enumerate() {
        let mut c = ctx.chiamata("C030", corpo_c030(&k.to_string())).await;
        guasta(&mut c);
        let r = c.invia(&ctx).await;
        let m = problema(&ctx, &r, 400, "InteroperabilityInvalidRequest");
        assert!(
            m.contains("Agid-JWT-Signature") && m.contains(motivo),
            "{motivo}: {m}"
        );
    }
    // The same signature (same jti) twice.
    let c = ctx.chiamata("C030", corpo_c030("100")).await;
    let jws = firma(ctx.chiave, &c.claims_firma);
    let (voucher, te, corpo) = (c.voucher.clone(), c.tracking.clone(), c.corpo.clone());
    let r = Chiamata {
        firma: Some(jws.clone()),
        ..c
    }
    .invia(&ctx)
    .await;
    assert_eq!(r.stato, 200, "{}", r.testo);
    let mut c2 = Chiamata::nuova(&ctx, "C030", voucher, te, corpo);
    c2.firma = Some(jws);
    let r = c2.invia(&ctx).await;
    assert!(problema(&ctx, &r, 400, "InteroperabilityInvalidRequest").contains("replay"));
}

#[tokio::test]
async fn controllo_4_digest() {
    let ctx = avvia(config()).await;
    // Body changed after signing: Digest and signed_headers agree, the body does not.
    let mut c = ctx.chiamata("C030", corpo_c030("1")).await;
    c.corpo = serde_json::to_vec(&corpo_c030("2")).unwrap();
    let r = c.invia(&ctx).await;
    assert!(problema(&ctx, &r, 400, "InteroperabilityInvalidRequest").contains("Digest"));
    let mut c = ctx.chiamata("C030", corpo_c030("3")).await;
    c.digest = None;
    c.claims_firma["signed_headers"] =
        json!([{"content-type": "application/json"}, {"digest": digest_di(&c.corpo)}]);
    let r = c.invia(&ctx).await;
    problema(&ctx, &r, 400, "InteroperabilityInvalidRequest");
}

#[tokio::test]
async fn controllo_5_forma_del_corpo_e_regole_anpr() {
    let ctx = avvia(config()).await;
    let mut corpo = corpo_c030("1");
    corpo["criteriRicerca"]["numeroPassaporto"] = json!("YA1234567");
    let r = ctx.chiamata("C030", corpo).await.invia(&ctx).await;
    assert!(problema(&ctx, &r, 400, "InvalidRequestContent").contains("numeroPassaporto"));
    assert!(
        r.corpo["detail"]
            .as_str()
            .unwrap()
            .contains("numeroPassaporto")
    );
    let mut corpo = corpo_c030("2");
    corpo["datiRichiesta"]["dataRiferimentoRichiesta"] = json!("2024-5-16");
    let r = ctx.chiamata("C030", corpo).await.invia(&ctx).await;
    problema(&ctx, &r, 400, "InvalidRequestContent");
    let corpo = richiesta(
        "3",
        json!({"codiceFiscale": CF, "idANPR": "AF41450AS"}),
        "C020",
        "2024-05-16",
    );
    let r = ctx.chiamata("C020", corpo).await.invia(&ctx).await;
    problema(&ctx, &r, 400, "InvalidRequestContent");

    // ANPR's own rules: listaErrori with HTTP 400, not a GovWay problem.
    let r = ctx
        .chiamata("C030", corpo_c030(&"9".repeat(31)))
        .await
        .invia(&ctx)
        .await;
    assert_eq!(r.stato, 400);
    assert_eq!(
        r.corpo["listaErrori"][0]["codiceErroreAnomalia"],
        anpr_sim::CODICE_ID_TROPPO_LUNGO
    );
    assert!(
        r.corpo["listaErrori"][0]["testoErroreAnomalia"]
            .as_str()
            .unwrap()
            .contains("massimo consentito 30")
    );
    assert!(r.corpo.get("title").is_none());
    let r = ctx
        .chiamata(
            "C004",
            richiesta("4", json!({"idANPR": "AF41450AS"}), "C004", "2024-05-16"),
        )
        .await
        .invia(&ctx)
        .await;
    assert_eq!(r.stato, 400);
    assert_eq!(r.corpo["listaErrori"][0]["codiceErroreAnomalia"], "EN148");
    assert_eq!(r.corpo["listaErrori"][0]["tipoErroreAnomalia"], "E");
}

#[tokio::test]
async fn controllo_6_quota_giornaliera() {
    let mut cfg = config();
    cfg.quote.insert("C030".into(), 2);
    let ctx = avvia(cfg).await;
    for id in ["1", "2"] {
        assert_eq!(
            ctx.chiamata("C030", corpo_c030(id))
                .await
                .invia(&ctx)
                .await
                .stato,
            200
        );
    }
    let r = ctx
        .chiamata("C030", corpo_c030("3"))
        .await
        .invia(&ctx)
        .await;
    problema(&ctx, &r, 429, "LimitExceeded");
    assert_eq!(r.corpo["detail"], "Limit exceeded detected");
    assert_eq!(
        ctx.sim.conteggio(CLIENT_ID, "C030"),
        3,
        "refused calls count too"
    );
    // Other services keep their own quota.
    let r = ctx
        .chiamata(
            "C015",
            richiesta("1", json!({"idANPR": "AF41450AS"}), "C015", "2024-05-16"),
        )
        .await
        .invia(&ctx)
        .await;
    assert_eq!(r.stato, 200);
    ctx.sim.imposta_quota("C030", None);
    assert_eq!(
        ctx.chiamata("C030", corpo_c030("4"))
            .await
            .invia(&ctx)
            .await
            .stato,
        200
    );
}

#[tokio::test]
async fn controllo_7_limite_di_concorrenza() {
    let mut cfg = config();
    cfg.concurrency_cap = Some(1);
    cfg.latenza = anpr_sim::Latenza::fissa(400);
    let ctx = avvia(cfg).await;
    let a = ctx.chiamata("C030", corpo_c030("1")).await;
    let b = ctx.chiamata("C030", corpo_c030("2")).await;
    let (ra, rb) = tokio::join!(a.invia(&ctx), async {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        b.invia(&ctx).await
    });
    assert_eq!(ra.stato, 200);
    problema(&ctx, &rb, 429, "TooManyRequests");
    assert_eq!(rb.corpo["detail"], "Too many requests detected");
}

#[tokio::test]
async fn status_controlla_voucher_e_tracking_ma_non_vuole_firme() {
    let ctx = avvia(config()).await;
    let (voucher, te) = ctx.voucher("C020").await;
    let get = |firma: bool| {
        let mut r = ctx
            .http
            .get(ctx.url("C020", "status"))
            .header("Authorization", format!("Bearer {voucher}"))
            .header("Agid-JWT-TrackingEvidence", &te);
        if firma {
            r = r.header("Agid-JWT-Signature", "x.y.z");
        }
        r.send()
    };
    let r = leggi(get(false).await.unwrap()).await;
    assert_eq!(r.stato, 200, "{}", r.testo);
    assert_eq!(r.content_type, "application/problem+json");
    let r = leggi(get(true).await.unwrap()).await;
    problema(&ctx, &r, 400, "InteroperabilityInvalidRequest");
    let r = leggi(
        ctx.http
            .get(ctx.url("C020", "status"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    problema(&ctx, &r, 401, "AuthenticationRequired");
}

#[tokio::test]
async fn percorsi_sconosciuti_e_guasti_iniettati() {
    let ctx = avvia(config()).await;
    let r = leggi(
        ctx.http
            .post(format!(
                "{}/C999-nulla/v1/anpr-service-e002",
                ctx.sim.base_url()
            ))
            .send()
            .await
            .unwrap(),
    )
    .await;
    problema(&ctx, &r, 404, "NotFound");
    ctx.sim.imposta_guasti(anpr_sim::Guasti {
        p503: 1.0,
        ..Default::default()
    });
    let r = ctx
        .chiamata("C030", corpo_c030("1"))
        .await
        .invia(&ctx)
        .await;
    problema(&ctx, &r, 503, "GatewayError");
    ctx.sim.imposta_guasti(anpr_sim::Guasti {
        p429: 1.0,
        ..Default::default()
    });
    let r = ctx
        .chiamata("C030", corpo_c030("2"))
        .await
        .invia(&ctx)
        .await;
    problema(&ctx, &r, 429, "TooManyRequests");
    ctx.sim.imposta_guasti(anpr_sim::Guasti {
        malformato: 1.0,
        ..Default::default()
    });
    let r = ctx
        .chiamata("C030", corpo_c030("3"))
        .await
        .invia(&ctx)
        .await;
    assert_eq!(r.stato, 200);
    assert!(serde_json::from_str::<serde_json::Value>(&r.testo).is_err());
    ctx.sim.imposta_guasti(anpr_sim::Guasti {
        timeout: 1.0,
        ..Default::default()
    });
    ctx.sim.imposta_timeout_ms(50);
    let r = ctx
        .chiamata("C030", corpo_c030("4"))
        .await
        .invia(&ctx)
        .await;
    problema(&ctx, &r, 504, "EndpointRequestTimedOut");
}
