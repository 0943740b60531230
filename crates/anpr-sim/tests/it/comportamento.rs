//! ANPR's behaviour: blocks per service, warnings, subjects, reference date, replay, ids.

use crate::supporto::*;
use anpr::types::{RispostaE002OK, RispostaKO};
use serde_json::{Value, json};

async fn chiedi(ctx: &Ctx, servizio: &str, id: &str, criteri: Value, data: &str) -> Risposta {
    ctx.chiamata(servizio, richiesta(id, criteri, servizio, data))
        .await
        .invia(ctx)
        .await
}

fn soggetti(r: &Risposta) -> Vec<Value> {
    r.corpo["listaSoggetti"]["datiSoggetto"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn chiavi(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

#[tokio::test]
async fn ogni_servizio_restituisce_i_suoi_blocchi() {
    let ctx = avvia(config()).await;
    let id = json!({"idANPR": "AF41450AS"});
    let attesi: [(&str, &[&str]); 8] = [
        ("C015", &["generalita", "identificativi", "statoCivile"]),
        ("C017", &["generalita", "identificativi", "statoCivile"]),
        ("C018", &["cittadinanza", "generalita", "identificativi"]),
        (
            "C019",
            &["generalita", "identificativi", "infoSoggettoEnte"],
        ),
        ("C020", &["generalita", "identificativi", "residenza"]),
        (
            "C001",
            &[
                "generalita",
                "identificativi",
                "infoSoggettoEnte",
                "residenza",
            ],
        ),
        ("C021", &["generalita", "identificativi", "legameSoggetto"]),
        ("C004", &["infoSoggettoEnte"]),
    ];
    for (k, (servizio, blocchi)) in attesi.into_iter().enumerate() {
        let mut corpo = richiesta(&(k + 1).to_string(), id.clone(), servizio, "2024-05-16");
        if servizio == "C004" {
            corpo["verifica"] = json!({"datiDecesso": {"dataEvento": "2021-11-13"}});
        }
        let r = ctx.chiamata(servizio, corpo).await.invia(&ctx).await;
        assert_eq!(r.stato, 200, "{servizio}: {}", r.testo);
        let s = soggetti(&r);
        assert_eq!(
            chiavi(&s[0]),
            blocchi.iter().map(|b| b.to_string()).collect::<Vec<_>>(),
            "{servizio}"
        );
        assert!(
            r.corpo.get("listaAnomalie").is_none(),
            "{servizio}: no EN148 by idANPR"
        );
        // The client's lenient types read every answer.
        let ok: RispostaE002OK = serde_json::from_str(&r.testo).unwrap();
        assert!(ok.id_operazione_anpr.is_some());
    }
    let r = chiedi(
        &ctx,
        "C030",
        "9",
        json!({"codiceFiscale": "STTSGT90A01H501J"}),
        "2024-05-16",
    )
    .await;
    assert_eq!(
        soggetti(&r),
        vec![json!({"identificativi": {"idANPR": "AF41450AS"}})]
    );
    assert!(
        r.corpo.get("listaAnomalie").is_none(),
        "never EN148 on C030"
    );
}

#[tokio::test]
async fn en148_sui_servizi_dati_cercati_per_cf() {
    let ctx = avvia(config()).await;
    let r = chiedi(
        &ctx,
        "C020",
        "1",
        json!({"codiceFiscale": "STTSGT90A01H501J"}),
        "2024-05-16",
    )
    .await;
    assert_eq!(r.stato, 200);
    let a = &r.corpo["listaAnomalie"][0];
    assert_eq!(
        (
            a["codiceErroreAnomalia"].as_str(),
            a["tipoErroreAnomalia"].as_str()
        ),
        (Some("EN148"), Some("W"))
    );
    let g = &soggetti(&r)[0]["generalita"];
    assert_eq!(g["codiceFiscale"]["codFiscale"], "STTSGT90A01H501J");
    assert_eq!(g["cognome"], "SETTIMO");
    assert_eq!(g["dataNascita"], "1990-01-01");
    assert_eq!(g["luogoNascita"]["comune"]["codiceIstat"], "058091");
    assert_eq!(g["soggettoAIRE"], "N");
}

#[tokio::test]
async fn sconosciuti_e_cancellati_danno_en122_con_404() {
    let ctx = avvia(config()).await;
    for (k, (criteri, testo)) in [
        (
            json!({"codiceFiscale": "RSSMRA80A01H501U"}),
            "Soggetto non registrato in ANPR",
        ),
        (
            json!({"idANPR": "OR69233LN"}),
            "Soggetto cancellato da ANPR",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let r = chiedi(&ctx, "C015", &(k + 1).to_string(), criteri, "2024-05-16").await;
        assert_eq!(r.stato, 404, "{}", r.testo);
        assert_eq!(r.content_type, "application/problem+json");
        let ko: RispostaKO = serde_json::from_str(&r.testo).unwrap();
        let e = &ko.lista_errori.unwrap()[0];
        assert_eq!(e.codice_errore_anomalia.as_deref(), Some("EN122"));
        assert_eq!(e.testo_errore_anomalia.as_deref(), Some(testo));
    }
}

#[tokio::test]
async fn il_decesso_si_vede_dal_giorno_dopo() {
    let ctx = avvia(config()).await;
    let cf = json!({"codiceFiscale": "SGGTTV60A01H501T"}); // deceased 2021-11-13
    let r = chiedi(&ctx, "C019", "1", cf.clone(), "2021-11-13").await;
    let info = &soggetti(&r)[0]["infoSoggettoEnte"];
    assert_eq!(info.as_array().unwrap().len(), 1);
    assert_eq!(
        info[0],
        json!({"id": "1003", "chiave": "Verifica esistenza in vita", "valore": "S"})
    );
    let r = chiedi(&ctx, "C019", "2", cf.clone(), "2021-11-14").await;
    let info = &soggetti(&r)[0]["infoSoggettoEnte"];
    assert_eq!(info[0]["valore"], "N");
    assert_eq!(
        info[1],
        json!({"id": "1015", "chiave": "Data decesso", "valoreData": "2021-11-13"})
    );
    // C021 after death: nobody.
    assert_eq!(chiedi(&ctx, "C021", "3", cf, "2022-01-01").await.stato, 404);
}

#[tokio::test]
async fn aire_residenza_estera_alla_data() {
    let ctx = avvia(config()).await;
    let cf = json!({"idANPR": "TK44563XB"}); // TTVSGT90A01H501H, AIRE
    let r = chiedi(&ctx, "C020", "1", cf.clone(), "2024-05-16").await;
    let s = &soggetti(&r)[0];
    assert_eq!(s["generalita"]["soggettoAIRE"], "S");
    let res = &s["residenza"][0];
    assert!(res.get("indirizzo").is_none());
    assert_eq!(
        res["localitaEstera"]["indirizzoEstero"]["localita"]["descrizioneStato"],
        "GERMANIA"
    );
    // Before emigrating the residence was in Italy.
    let r = chiedi(&ctx, "C020", "2", cf, "2010-01-01").await;
    let s = &soggetti(&r)[0];
    assert_eq!(s["generalita"]["soggettoAIRE"], "N");
    assert_eq!(
        s["residenza"][0]["indirizzo"]["comune"]["nomeComune"],
        "ROMA"
    );
}

#[tokio::test]
async fn famiglia_c021() {
    let ctx = avvia(config()).await;
    let r = chiedi(
        &ctx,
        "C021",
        "1",
        json!({"codiceFiscale": "NRECLD90R50H501G"}),
        "2024-05-16",
    )
    .await;
    let membri = soggetti(&r);
    let cf: Vec<&str> = membri
        .iter()
        .map(|m| {
            m["generalita"]["codiceFiscale"]["codFiscale"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(
        cf,
        ["RSSLGU90C24H501L", "NRECLD90R50H501G", "RSSGLC20T24H501W"]
    );
    let legami: Vec<&str> = membri
        .iter()
        .map(|m| m["legameSoggetto"]["codiceLegame"].as_str().unwrap())
        .collect();
    assert_eq!(legami, ["01", "02", "03"]);
    // Before the son was born he was not in the family.
    let r = chiedi(
        &ctx,
        "C021",
        "2",
        json!({"codiceFiscale": "NRECLD90R50H501G"}),
        "2020-06-01",
    )
    .await;
    assert_eq!(soggetti(&r).len(), 2);
}

#[tokio::test]
async fn anagrafici_omocodia_senza_nome_e_senza_giorno() {
    let ctx = avvia(config()).await;
    let dup = json!({"cognome": "DUPLICATO", "nome": "PRIMO", "sesso": "M",
        "datiNascita": {"dataEvento": "1990-10-10", "luogoNascita": {"comune": {"nomeComune": "ROMA", "siglaProvinciaIstat": "RM"}}}});
    let r = chiedi(&ctx, "C030", "1", dup, "2024-05-16").await;
    assert_eq!(soggetti(&r).len(), 2, "{}", r.testo);

    let e = ctx.sim.esempi();
    let ((cf_a, id_a), (cf_b, id_b)) = e.omocodici[0].clone();
    let p = ctx.sim.soggetto_per_cf(&cf_a).unwrap();
    let anni = p.data_nascita.format("%Y-%m-%d").to_string();
    let anpr_sim::popolazione::LuogoNascita::Comune { istat, .. } = &p.luogo_nascita else {
        // Foreign-born pair: search by state.
        return;
    };
    let q = json!({"cognome": p.cognome, "nome": p.nome, "sesso": p.sesso.to_string(),
        "datiNascita": {"dataEvento": anni, "luogoNascita": {"comune": {"codiceIstat": istat}}}});
    let r = chiedi(&ctx, "C030", "2", q, "2026-01-01").await;
    let mut ids: Vec<String> = soggetti(&r)
        .iter()
        .map(|s| s["identificativi"]["idANPR"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    let mut attesi = vec![id_a, id_b];
    attesi.sort();
    assert_eq!(ids, attesi);
    assert_ne!(cf_a, cf_b);

    let r = chiedi(
        &ctx,
        "C015",
        "3",
        json!({"codiceFiscale": "SNGXXX00R10Z222D"}),
        "2024-05-16",
    )
    .await;
    let g = &soggetti(&r)[0]["generalita"];
    assert_eq!(g["senzaNome"], "1");
    assert!(g.get("nome").is_none());
    let r = chiedi(
        &ctx,
        "C015",
        "4",
        json!({"codiceFiscale": "SNZGRN00T01Z329P"}),
        "2024-05-16",
    )
    .await;
    assert_eq!(soggetti(&r)[0]["generalita"]["senzaGiorno"], "1");
}

#[tokio::test]
async fn replay_e_ordine_degli_id() {
    let ctx = avvia(config()).await;
    let cf = json!({"codiceFiscale": "STTSGT90A01H501J"});
    let prima = chiedi(&ctx, "C001", "1000", cf.clone(), "2024-05-16").await;
    assert_eq!(prima.stato, 200);
    // Same id, even with another subject: the stored answer comes back.
    let replay = chiedi(
        &ctx,
        "C001",
        "1000",
        json!({"idANPR": "EV45959WW"}),
        "2024-05-16",
    )
    .await;
    assert_eq!(replay.testo, prima.testo);
    assert_eq!(
        chiedi(&ctx, "C001", "1005", cf.clone(), "2024-05-16")
            .await
            .stato,
        200
    );
    // An unseen id below the highest: refused on C001, fine on C015.
    let basso = chiedi(&ctx, "C001", "1003", cf.clone(), "2024-05-16").await;
    assert_eq!(basso.stato, 400);
    assert_eq!(
        basso.corpo["listaErrori"][0]["codiceErroreAnomalia"],
        anpr_sim::CODICE_ID_INFERIORE
    );
    assert_eq!(
        chiedi(&ctx, "C015", "2000", cf.clone(), "2024-05-16")
            .await
            .stato,
        200
    );
    assert_eq!(
        chiedi(&ctx, "C015", "1003", cf.clone(), "2024-05-16")
            .await
            .stato,
        200
    );
    // Non-numeric ids are refused by C001.
    let r = chiedi(&ctx, "C001", "ABC", cf, "2024-05-16").await;
    assert_eq!(
        r.corpo["listaErrori"][0]["codiceErroreAnomalia"],
        anpr_sim::CODICE_ID_NON_NUMERICO
    );
}

#[tokio::test]
async fn la_tolleranza_ammette_id_poco_piu_bassi() {
    let mut cfg = config();
    cfg.tolleranza_id = 5;
    let ctx = avvia(cfg).await;
    let cf = json!({"codiceFiscale": "STTSGT90A01H501J"});
    assert_eq!(
        chiedi(&ctx, "C001", "100", cf.clone(), "2024-05-16")
            .await
            .stato,
        200
    );
    assert_eq!(
        chiedi(&ctx, "C001", "96", cf.clone(), "2024-05-16")
            .await
            .stato,
        200
    );
    assert_eq!(
        chiedi(&ctx, "C001", "94", cf, "2024-05-16").await.stato,
        400
    );
}

#[tokio::test]
async fn id_operazione_anpr_dipende_solo_dalla_domanda() {
    let a = avvia(config()).await;
    let b = avvia(config()).await;
    let cf = json!({"codiceFiscale": "STTSGT90A01H501J"});
    let x = chiedi(&a, "C020", "1", cf.clone(), "2024-05-16").await;
    // Another simulator, another operation id, after other calls: the same idOperazioneANPR.
    chiedi(
        &b,
        "C020",
        "7",
        json!({"idANPR": "EV45959WW"}),
        "2024-05-16",
    )
    .await;
    let y = chiedi(&b, "C020", "8", cf.clone(), "2024-05-16").await;
    assert_eq!(x.corpo["idOperazioneANPR"], y.corpo["idOperazioneANPR"]);
    assert_eq!(x.testo, y.testo);
    let z = chiedi(&b, "C020", "9", cf, "2024-05-17").await;
    assert_ne!(x.corpo["idOperazioneANPR"], z.corpo["idOperazioneANPR"]);
}

#[tokio::test]
async fn la_popolazione_sintetica_risponde_per_cf_e_id() {
    let ctx = avvia(config()).await;
    let e = ctx.sim.esempi();
    let (cf, id) = e
        .normali
        .iter()
        .find(|(_, id)| id.starts_with('W'))
        .cloned()
        .unwrap();
    let r = chiedi(
        &ctx,
        "C030",
        "1",
        json!({"codiceFiscale": cf}),
        "2026-01-01",
    )
    .await;
    assert_eq!(soggetti(&r)[0]["identificativi"]["idANPR"], id.as_str());
    let r = chiedi(&ctx, "C020", "2", json!({"idANPR": id}), "2026-01-01").await;
    assert_eq!(
        soggetti(&r)[0]["generalita"]["codiceFiscale"]["codFiscale"],
        cf.as_str()
    );
    let (cf_morto, _) = e
        .deceduti
        .iter()
        .find(|(_, id)| id.starts_with('W'))
        .cloned()
        .unwrap();
    let r = chiedi(
        &ctx,
        "C019",
        "3",
        json!({"codiceFiscale": cf_morto}),
        "2026-01-01",
    )
    .await;
    assert_eq!(soggetti(&r)[0]["infoSoggettoEnte"][0]["valore"], "N");
    let (cf_aire, _) = e
        .aire
        .iter()
        .find(|(_, id)| id.starts_with('W'))
        .cloned()
        .unwrap();
    let r = chiedi(
        &ctx,
        "C020",
        "4",
        json!({"codiceFiscale": cf_aire}),
        "2026-01-01",
    )
    .await;
    assert!(soggetti(&r)[0]["residenza"][0]["localitaEstera"].is_object());
    let (cf_canc, _) = e
        .cancellati
        .iter()
        .find(|(_, id)| id.starts_with('W'))
        .cloned()
        .unwrap();
    assert_eq!(
        chiedi(
            &ctx,
            "C015",
            "5",
            json!({"codiceFiscale": cf_canc}),
            "2026-01-01"
        )
        .await
        .stato,
        404
    );
}

#[tokio::test]
async fn il_registro_conserva_richieste_e_risposte() {
    let ctx = avvia(config()).await;
    ctx.sim.svuota_registro();
    let r = chiedi(
        &ctx,
        "C030",
        "1",
        json!({"codiceFiscale": "STTSGT90A01H501J"}),
        "2024-05-16",
    )
    .await;
    let reg = ctx.sim.richieste_ricevute();
    let ultima = reg.last().unwrap();
    assert_eq!(ultima.servizio.as_deref(), Some("C030"));
    assert_eq!(ultima.client_id.as_deref(), Some(CLIENT_ID));
    assert_eq!(ultima.risposta, r.testo);
    assert!(ultima.corpo.contains("STTSGT90A01H501J"));
    assert!(reg.iter().any(|q| q.percorso == "/token.oauth2"));
}
