//! The expiry banner of a Comune's TOP users: certificates of the ANPR access, conventions
//! ending within 30 days, a daily quota below 10%. Other roles and other Comuni never see it.
//! The app's clock reads 2026-03-02 10:00 UTC (11:00 in Rome).

use crate::aiuto::{self, TestApp};
use store::ChiaveMaestra;

const ISTAT_ROMA: &str = "058091";
const GIORNO_MS: i64 = 86_400_000;

/// The banner section of a page, or `None`.
fn banner(corpo: &str) -> Option<String> {
    let inizio = corpo.find("<section class=\"avvisi-scadenza\"")?;
    let fine = corpo[inizio..].find("</section>")? + inizio + "</section>".len();
    Some(corpo[inizio..fine].to_string())
}

async fn banner_di(app: &TestApp, utente: &str) -> Option<String> {
    let r = app.connesso(utente).await.get("/").await;
    assert_eq!(r.stato, 200, "{utente}");
    banner(&r.corpo)
}

/// Adds to Roma's stored access an mTLS client certificate valid until midnight UTC of
/// `fine` (year, month, day), and a C030 quota of `quota_c030` calls a day.
async fn accesso_con_certificato(app: &TestApp, fine: (i32, u8, u8), quota_c030: i64) {
    let comune = app
        .store
        .comune_per_istat(ISTAT_ROMA)
        .await
        .unwrap()
        .unwrap();
    let chiave: &ChiaveMaestra = &app.stato.chiave;
    let accesso = app
        .store
        .accesso_anpr(comune.id, chiave)
        .await
        .unwrap()
        .unwrap();
    let mut params = rcgen::CertificateParams::new(vec![]).unwrap();
    params.distinguished_name.push(
        rcgen::DnType::CommonName,
        "client-mtls.comune.roma.example.it",
    );
    params.not_before = rcgen::date_time_ymd(2025, 1, 1);
    params.not_after = rcgen::date_time_ymd(fine.0, fine.1, fine.2);
    let coppia = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&coppia).unwrap();

    let mut toml: toml::Table = accesso.toml.parse().unwrap();
    let anpr = toml["anpr"].as_table_mut().unwrap();
    anpr.insert("client_cert_file".into(), "client-mtls.pem".into());
    anpr.insert("client_key_file".into(), "client-mtls.key".into());
    anpr["quotas"]
        .as_table_mut()
        .unwrap()
        .insert("C030".into(), quota_c030.into());
    let mut file: Vec<(String, Vec<u8>)> = accesso
        .file
        .iter()
        .map(|(n, c)| (n.clone(), c.esponi().to_vec()))
        .collect();
    file.push(("client-mtls.pem".into(), cert.pem().into_bytes()));
    file.push((
        "client-mtls.key".into(),
        coppia.serialize_pem().into_bytes(),
    ));
    app.store
        .imposta_accesso_anpr(
            comune.id,
            &toml::to_string(&toml).unwrap(),
            &file,
            chiave,
            &web::demo::attore_demo(),
        )
        .await
        .unwrap();
}

/// A copy of the demo's manual convention of Roma ending `giorni` days after "now".
async fn convenzione_che_termina(app: &TestApp, nome: &str, giorni: i64) {
    let base = app.seme.convenzione_manuale.clone();
    let nuova = store::anagrafiche::NuovaConvenzione {
        comune_id: base.comune_id,
        ente_id: base.ente_id,
        nome: nome.into(),
        campi: base.campi.clone(),
        ambito: base.ambito,
        approvazione: base.approvazione,
        finalita: base.finalita.clone(),
        valida_dal_ms: 0,
        valida_al_ms: Some(app.stato.adesso_ms() + giorni * GIORNO_MS),
        max_righe_richiesta: None,
        max_soggetti_giorno: None,
        tracciato: base.tracciato.clone(),
        conservazione_giorni: 7,
        ricerca_nazionale: false,
    };
    app.store
        .crea_convenzione(&nuova, &web::demo::attore_demo())
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn il_top_vede_certificato_convenzione_e_quota_in_scadenza() {
    let app = aiuto::avvia().await;
    assert_eq!(banner_di(&app, "top.roma").await, None, "nulla in scadenza");

    accesso_con_certificato(&app, (2026, 3, 20), 20).await;
    convenzione_che_termina(&app, "Polizia Locale - Roma: proroga", 10).await;
    convenzione_che_termina(&app, "Polizia Locale - Roma: lunga", 40).await;
    // 19 of the 20 C030 calls used today: 1 left, below 10% (2).
    let comune = app
        .store
        .comune_per_istat(ISTAT_ROMA)
        .await
        .unwrap()
        .unwrap();
    for _ in 0..19 {
        assert!(
            app.store
                .riserva_chiamata(comune.id, "C030", app.stato.adesso_ms(), 20)
                .await
                .unwrap()
        );
    }

    let b = banner_di(&app, "top.roma")
        .await
        .expect("banner per il TOP");
    // 2026-03-20T00:00Z is 01:00 in Rome; now + 10 days is 2026-03-12 11:00 in Rome.
    assert!(b.contains("alert alert-warning"), "{b}");
    assert!(!b.contains("alert-danger"), "{b}");
    assert!(
        b.contains(
            "Il certificato «client-mtls.comune.roma.example.it» dell&#39;accesso ANPR \
             (client-mtls.pem) scade il 20/03/2026 01:00"
        ),
        "{b}"
    );
    assert!(
        b.contains("La convenzione «Polizia Locale - Roma: proroga» termina il 12/03/2026 11:00."),
        "{b}"
    );
    assert!(!b.contains("lunga"), "oltre i 30 giorni: {b}");
    assert!(b.contains("oggi resta 1 chiamata su 20."), "{b}");
    insta::assert_snapshot!("banner_scadenze_top", b);

    // Other roles, and the TOP of another Comune, see nothing.
    for utente in ["top.milano", "admin.polizia", "operatore.polizia"] {
        assert_eq!(banner_di(&app, utente).await, None, "{utente}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificato_scaduto_in_rosso() {
    let app = aiuto::avvia().await;
    accesso_con_certificato(&app, (2026, 2, 1), 5000).await;
    let b = banner_di(&app, "top.roma")
        .await
        .expect("banner per il TOP");
    assert!(b.contains("alert alert-danger"), "{b}");
    assert!(b.contains("è scaduto il 01/02/2026 01:00"), "{b}");
    assert!(!b.contains("alert-warning"), "{b}");
}
