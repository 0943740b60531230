//! The Comune's own channel (consultazione 3002, issue 9) end to end: a STANDARD user's request
//! that mixes all five identifier kinds, approved and processed against the in-process
//! simulator, and the archive's "chi ha consultato" finding a person looked up by CIE by the CF
//! that ANPR returned.

use crate::aiuto::{self, Browser, TestApp};
use domain::ambito::Ambito;
use domain::gruppi::GruppoCampi;
use std::collections::BTreeMap;

/// A convention of the Polizia Locale with Roma whose profile includes the documents, with the
/// national-search opt-in (so 3002 searches with `ricercaNazionale` = 1); `operatore.polizia`
/// gets it as profile. Returns its opaque id for the new-request form.
async fn convenzione_documenti(app: &TestApp) -> String {
    let base = app.seme.convenzione_manuale.clone();
    let campi = vec![
        GruppoCampi::IdAnpr,
        GruppoCampi::Generalita,
        GruppoCampi::Residenza,
        GruppoCampi::Documenti,
    ];
    let nuova = store::anagrafiche::NuovaConvenzione {
        comune_id: base.comune_id,
        ente_id: base.ente_id,
        nome: "Polizia Locale - Roma: documenti".into(),
        tracciato: serde_json::to_value(files::output::Layout::per_gruppi(&campi)).unwrap(),
        campi: campi.clone(),
        ambito: Ambito::Italia,
        approvazione: base.approvazione,
        finalita: base.finalita.clone(),
        valida_dal_ms: 0,
        valida_al_ms: None,
        max_righe_richiesta: None,
        max_soggetti_giorno: None,
        conservazione_giorni: 7,
        ricerca_nazionale: true,
    };
    let attore = web::demo::attore_demo();
    let conv = app.store.crea_convenzione(&nuova, &attore).await.unwrap();
    let id = app.id_utente("operatore.polizia").await;
    app.store
        .imposta_profilo(id, conv, &campi, Ambito::Italia, &attore)
        .await
        .unwrap();
    app.stato.ids.codifica(web::ids::Tipo::Convenzione, conv)
}

/// Every data line of the request's result CSV, as `column -> value`.
async fn righe_csv(op: &Browser, url: &str) -> Vec<BTreeMap<String, String>> {
    let pagina = op.get(url).await;
    let i = pagina
        .corpo
        .find("/file/")
        .unwrap_or_else(|| panic!("nessun file di risposta: {}", pagina.corpo));
    let inizio = pagina.corpo[..i].rfind('"').unwrap() + 1;
    let fine = i + pagina.corpo[i..].find('"').unwrap();
    let (stato, _, byte) = op.scarica(&pagina.corpo[inizio..fine]).await;
    assert_eq!(stato, 200);
    let testo = String::from_utf8(byte).unwrap();
    let mut righe = testo
        .trim_start_matches('\u{feff}')
        .split("\r\n")
        .filter(|l| !l.is_empty());
    let intestazione: Vec<String> = righe
        .next()
        .unwrap()
        .split(';')
        .map(str::to_string)
        .collect();
    righe
        .map(|l| {
            intestazione
                .iter()
                .cloned()
                .zip(l.split(';').map(str::to_string))
                .collect()
        })
        .collect()
}

fn campo<'a>(riga: &'a BTreeMap<String, String>, nome: &str) -> &'a str {
    riga.get(nome)
        .map(String::as_str)
        .unwrap_or_else(|| panic!("colonna {nome} assente: {riga:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn una_richiesta_con_tutti_i_tipi_di_identificativo() {
    let app = aiuto::avvia().await;
    let conv = convenzione_documenti(&app).await;
    let es = app.sim.esempi();
    let cie = es
        .carte_identita
        .iter()
        .find(|(_, n)| domain::documenti::ha_formato_cie(n))
        .expect("nessuna CIE tra gli esempi")
        .clone();
    let cartacea = es
        .carte_identita
        .iter()
        .find(|(_, n)| !domain::documenti::ha_formato_cie(n))
        .expect("nessuna carta cartacea tra gli esempi")
        .clone();
    let (cf_pds, questura, numero_pds) = es.permessi[0].clone();
    let (cf_pass, passaporto) = es.passaporti[0].clone();
    // A CF and an idANPR of people who hold a card: 3002 completes their documents.
    let (cf, _) = es.carte_identita[1].clone();
    let id_anpr = app.sim.soggetto_per_cf(&cie.0).unwrap().id_anpr;
    let testo = format!(
        "tipo;identificativo;riferimento;rilascio\n\
         CF;{cf};r-cf;\n\
         IDANPR;{id_anpr};r-idanpr;\n\
         CI;{};r-cie;\n\
         CI;{};r-cartacea;\n\
         PDS;{numero_pds};r-pds;{questura}\n\
         PASS;{passaporto};r-pass;\n",
        cie.1, cartacea.1
    );
    let op = app.connesso("operatore.polizia").await;
    let url = app
        .richiesta_elaborata(&op, &conv, "PROT-2026/909", &testo)
        .await;
    let righe = righe_csv(&op, &url).await;
    assert_eq!(righe.len(), 6, "{righe:?}");
    let per_rif: BTreeMap<&str, &BTreeMap<String, String>> =
        righe.iter().map(|r| (campo(r, "riferimento"), r)).collect();
    for (rif, r) in &per_rif {
        assert_eq!(campo(r, "esito"), "TROVATO", "{rif}: {r:?}");
    }
    assert_eq!(campo(per_rif["r-cf"], "Codice fiscale"), cf);
    assert_eq!(campo(per_rif["r-idanpr"], "ID ANPR"), id_anpr);
    assert_eq!(campo(per_rif["r-idanpr"], "Numero carta d'identità"), cie.1);
    assert_eq!(campo(per_rif["r-cie"], "Numero carta d'identità"), cie.1);
    assert_eq!(campo(per_rif["r-cie"], "Codice fiscale"), cie.0);
    assert_eq!(
        campo(per_rif["r-cartacea"], "Numero carta d'identità"),
        cartacea.1
    );
    assert!(!campo(per_rif["r-cf"], "Numero carta d'identità").is_empty());
    assert_eq!(campo(per_rif["r-pds"], "Codice fiscale"), cf_pds);
    assert_eq!(
        campo(per_rif["r-pds"], "Numero permesso di soggiorno"),
        numero_pds
    );
    assert_eq!(
        campo(per_rif["r-pds"], "Questura di rilascio permesso"),
        questura
    );
    assert_eq!(campo(per_rif["r-pass"], "Codice fiscale"), cf_pass);
    assert_eq!(campo(per_rif["r-pass"], "Numero passaporto"), passaporto);
    // Each document row went through 3002; the CF and idANPR rows through PDND, then 3002.
    let roma = app.sim.chiamate_ws_comune("058091");
    assert!(roma >= 6, "chiamate 3002 di Roma: {roma}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chi_ha_consultato_trova_per_cf_una_persona_cercata_per_cie() {
    let app = aiuto::avvia().await;
    let conv = convenzione_documenti(&app).await;
    let es = app.sim.esempi();
    let (cf, cie) = es
        .carte_identita
        .iter()
        .find(|(_, n)| domain::documenti::ha_formato_cie(n))
        .unwrap()
        .clone();
    let op = app.connesso("operatore.polizia").await;
    let url = app
        .richiesta_elaborata(
            &op,
            &conv,
            "PROT-2026/909",
            &format!("tipo;identificativo;riferimento\nCI;{cie};pratica-cie\n"),
        )
        .await;
    let righe = righe_csv(&op, &url).await;
    assert_eq!(campo(&righe[0], "esito"), "TROVATO", "{righe:?}");
    assert_eq!(campo(&righe[0], "Codice fiscale"), cf);
    let top = app.connesso("top.roma").await;
    top.get("/archivio/consultazioni").await;
    let r = top
        .post_form(
            "/archivio/consultazioni",
            &[("tipo", "CF"), ("valore", &cf)],
        )
        .await;
    assert_eq!(r.stato, 200, "{}", r.corpo);
    assert!(r.corpo.contains("1 richiesta, 1 riga"), "{}", r.corpo);
    assert!(r.corpo.contains("PROT-2026/909"), "{}", r.corpo);
}

/// A living person of the synthetic population who, at the TestApp's date, lives in `istat`
/// and holds a valid carta d'identità: (CF, card number).
fn residente_con_carta(app: &TestApp, istat: &str) -> (String, String) {
    use anpr_sim::popolazione::LuogoResidenza;
    // The TestApp's clock: 2026-03-02, the requests' reference date.
    let data = chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
    let p = app.sim.popolazione();
    (0..p.dimensione_sintetica())
        .filter_map(|i| p.sintetico(i))
        .find(|s| {
            s.esiste_al(data)
                && s.carta_identita.as_ref().is_some_and(|c| c.valida_al(data))
                && matches!(
                    s.residenza_al(data).map(|r| &r.luogo),
                    Some(LuogoResidenza::Italia { istat: i, .. }) if i == istat
                )
        })
        .map(|s| (s.codice_fiscale.clone(), s.carta_identita.unwrap().numero))
        .unwrap_or_else(|| panic!("nessun residente di {istat} con carta d'identità"))
}

/// Under a restricted scope each Comune's channel answers for its own residents only
/// (`ricercaNazionale` 0): COMUNE finds Roma's resident and says FUORI_AMBITO for Milano's;
/// COMUNI_CONVENZIONATI, with conventions in both, asks Milano's channel in turn and finds hers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ambito_ristretto_sul_canale_del_comune() {
    let app = aiuto::avvia().await;
    let base = app.seme.convenzione_manuale.clone();
    let milano = app.store.comune_per_istat("015146").await.unwrap().unwrap();
    let attore = web::demo::attore_demo();
    let campi = vec![GruppoCampi::Generalita, GruppoCampi::Documenti];
    let nuova = |comune_id: i64, nome: &str, ambito: Ambito| store::anagrafiche::NuovaConvenzione {
        comune_id,
        ente_id: base.ente_id,
        nome: nome.into(),
        tracciato: serde_json::to_value(files::output::Layout::per_gruppi(&campi)).unwrap(),
        campi: campi.clone(),
        ambito,
        approvazione: base.approvazione,
        finalita: Default::default(),
        valida_dal_ms: 0,
        valida_al_ms: None,
        max_righe_richiesta: None,
        max_soggetti_giorno: None,
        conservazione_giorni: 7,
        ricerca_nazionale: false,
    };
    // The Polizia Locale also has a convention with Milano: Milano is among its convened Comuni.
    app.store
        .crea_convenzione(
            &nuova(milano.id, "Polizia Locale - Milano", Ambito::Comune),
            &attore,
        )
        .await
        .unwrap();
    let (cf_roma, carta_roma) = residente_con_carta(&app, "058091");
    let (cf_milano, carta_milano) = residente_con_carta(&app, "015146");
    let testo = format!(
        "tipo;identificativo;riferimento\nCI;{carta_roma};roma\nCI;{carta_milano};milano\n"
    );
    let id_utente = app.id_utente("operatore.polizia").await;
    let op = app.connesso("operatore.polizia").await;
    for (nome, ambito, esito_milano) in [
        ("Roma: comune", Ambito::Comune, "FUORI_AMBITO"),
        (
            "Roma: comuni convenzionati",
            Ambito::ComuniConvenzionati,
            "TROVATO",
        ),
    ] {
        let conv = app
            .store
            .crea_convenzione(&nuova(base.comune_id, nome, ambito), &attore)
            .await
            .unwrap();
        app.store
            .imposta_profilo(id_utente, conv, &campi, ambito, &attore)
            .await
            .unwrap();
        let id = app.stato.ids.codifica(web::ids::Tipo::Convenzione, conv);
        let url = app
            .richiesta_elaborata(&op, &id, "PROT-2026/909", &testo)
            .await;
        let righe = righe_csv(&op, &url).await;
        let per_rif: BTreeMap<&str, &BTreeMap<String, String>> =
            righe.iter().map(|r| (campo(r, "riferimento"), r)).collect();
        assert_eq!(
            campo(per_rif["roma"], "esito"),
            "TROVATO",
            "{nome}: {righe:?}"
        );
        assert_eq!(campo(per_rif["roma"], "Codice fiscale"), cf_roma);
        assert_eq!(
            campo(per_rif["milano"], "esito"),
            esito_milano,
            "{nome}: {righe:?}"
        );
        match esito_milano {
            "TROVATO" => {
                assert_eq!(campo(per_rif["milano"], "Codice fiscale"), cf_milano);
                assert_eq!(
                    campo(per_rif["milano"], "Numero carta d'identità"),
                    carta_milano
                );
            }
            // Nothing about the person: not even that ANPR knows her elsewhere.
            _ => assert_eq!(campo(per_rif["milano"], "Codice fiscale"), ""),
        }
    }
    // Milano's channel was asked only under COMUNI_CONVENZIONATI, for the card Roma lacked.
    assert!(app.sim.chiamate_ws_comune("015146") >= 1);
}
