//! Contract test of the Comune channel: the bodies the client writes (`Richiesta3002` for every
//! criterion kind and both `ricercaNazionale` values, `RichiestaConnessione`) are validated with
//! `xmllint` against ANPR's XSD, read from $RIVESTO_ANPR_SPECS (never copied into the
//! repository). One misordered body must be refused, to prove the check can fail.
//!
//! Skipped, with a message, when the specs or xmllint are missing, except under CI=true, where
//! that fails, unless `scripts/test` set RIVESTO_XMLLINT=skip (it does only outside CI, when
//! `scripts/xmllint-setup` could not install xmllint).

use anpr::ws::messaggi::{
    CriterioWs, Richiesta3002, RichiestaTestConn, RilascioCi, dati_richiesti, richiesta_3002,
    richiesta_test_conn,
};
use chrono::{FixedOffset, NaiveDate, TimeZone as _};
use domain::gruppi::GruppoCampi;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn in_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// `ws-comuni/` of the specs and the xmllint command, or `None` (test skipped).
fn strumenti() -> Option<(PathBuf, String)> {
    let specs = match std::env::var("RIVESTO_ANPR_SPECS") {
        Ok(p) if !p.is_empty() => PathBuf::from(p).join("ws-comuni"),
        _ => {
            assert!(
                !in_ci(),
                "RIVESTO_ANPR_SPECS non impostata: in CI il test di contratto del canale del Comune è obbligatorio"
            );
            println!("test di contratto 3002 saltato: RIVESTO_ANPR_SPECS non impostata");
            return None;
        }
    };
    assert!(
        specs.join("3000consultazione.xsd").is_file(),
        "{} non contiene 3000consultazione.xsd",
        specs.display()
    );
    if std::env::var("RIVESTO_XMLLINT").as_deref() == Ok("skip") {
        println!("test di contratto 3002 saltato: RIVESTO_XMLLINT=skip (xmllint non installato)");
        return None;
    }
    let xmllint = std::env::var("RIVESTO_XMLLINT_BIN").unwrap_or_else(|_| "xmllint".into());
    let presente = Command::new(&xmllint)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !presente {
        assert!(
            !in_ci(),
            "xmllint non disponibile: in CI scripts/xmllint-setup deve installarlo"
        );
        println!(
            "test di contratto 3002 saltato: xmllint non disponibile (scripts/xmllint-setup lo installa)"
        );
        return None;
    }
    Some((specs, xmllint))
}

/// Runs `xmllint --noout --schema xsd` on `corpo`; `Err` carries xmllint's message.
fn valida(
    xmllint: &str,
    xsd: &Path,
    corpo: &str,
    cartella: &Path,
    nome: &str,
) -> Result<(), String> {
    let file = cartella.join(format!("{nome}.xml"));
    std::fs::write(&file, corpo).unwrap();
    let out = Command::new(xmllint)
        .arg("--noout")
        .arg("--schema")
        .arg(xsd)
        .arg(&file)
        .output()
        .unwrap();
    let messaggi = String::from_utf8_lossy(&out.stderr).into_owned();
    if out.status.success() {
        Ok(())
    } else {
        Err(messaggi)
    }
}

fn richiesta(criterio: CriterioWs, ricerca_nazionale: bool) -> Richiesta3002 {
    Richiesta3002 {
        id_operazione_comune: "90001750000000000123".into(),
        cod_mittente: "058091".into(),
        data_ora: FixedOffset::east_opt(3600)
            .unwrap()
            .with_ymd_and_hms(2025, 3, 1, 10, 0, 0)
            .unwrap(),
        protocollo_comune: Some("RIV-12/3".into()),
        tipo_invio: "TEST".into(),
        criterio,
        data_riferimento: NaiveDate::from_ymd_opt(2025, 3, 1).unwrap(),
        dati_richiesti: dati_richiesti(&BTreeSet::from(GruppoCampi::ALL)),
        ricerca_nazionale,
        applicativo: (
            "Rivesto".into(),
            env!("CARGO_PKG_VERSION").into(),
            "Rivesto".into(),
        ),
    }
}

fn criteri() -> Vec<(&'static str, CriterioWs)> {
    vec![
        ("cf", CriterioWs::CodiceFiscale("RSSMRA80A01H501U".into())),
        ("idanpr", CriterioWs::IdAnpr("AB12345CD".into())),
        (
            "ci",
            CriterioWs::CartaIdentita {
                numero: "CA00000AA".into(),
                rilascio: None,
            },
        ),
        (
            "ci-comune",
            CriterioWs::CartaIdentita {
                numero: "AX 1234567".into(),
                rilascio: Some(RilascioCi::Comune {
                    nome: "ROMA".into(),
                    codice_istat: "058091".into(),
                    sigla_provincia: "RM".into(),
                }),
            },
        ),
        (
            "ci-consolato",
            CriterioWs::CartaIdentita {
                numero: "CA00000AA".into(),
                rilascio: Some(RilascioCi::Consolato("1234".into())),
            },
        ),
        (
            "permesso",
            CriterioWs::Permesso {
                questura: "L'AQUILA".into(),
                numero: "I00000001".into(),
            },
        ),
        ("passaporto", CriterioWs::Passaporto("YA0000000".into())),
    ]
}

#[test]
fn request_bodies_follow_the_xsd() {
    let Some((specs, xmllint)) = strumenti() else {
        return;
    };
    let xsd = specs.join("3000consultazione.xsd");
    let cartella = tempfile::tempdir().unwrap();
    let mut validati = 0;
    for (nome, criterio) in criteri() {
        for nazionale in [false, true] {
            let corpo = richiesta_3002(&richiesta(criterio.clone(), nazionale));
            let nome = format!("{nome}-{}", u8::from(nazionale));
            if let Err(m) = valida(&xmllint, &xsd, &corpo, cartella.path(), &nome) {
                panic!("{nome}: il corpo non rispetta 3000consultazione.xsd:\n{m}\n{corpo}");
            }
            validati += 1;
        }
    }
    assert_eq!(validati, 14);

    // The check can fail: the same body with two testata elements swapped is refused.
    let corpo = richiesta_3002(&richiesta(criteri()[0].1.clone(), false));
    let scambiato = corpo.replace(
        "<codMittente>058091</codMittente><codDestinatario>ANPR05</codDestinatario>",
        "<codDestinatario>ANPR05</codDestinatario><codMittente>058091</codMittente>",
    );
    assert_ne!(scambiato, corpo);
    let m = valida(&xmllint, &xsd, &scambiato, cartella.path(), "scambiato")
        .expect_err("xmllint doveva rifiutare un corpo fuori ordine");
    assert!(m.contains("not expected"), "{m}");
}

#[test]
fn test_conn_body_follows_the_xsd() {
    let Some((specs, xmllint)) = strumenti() else {
        return;
    };
    // connessione.xsd (2017) imports vocabolario_connessione.xsd, which imports tipoDato.xsd
    // from its own folder; the 2017 folder has no tipoDato.xsd, so the three files are put
    // side by side in a temporary folder, with the current tipoDato.xsd.
    let cartella = tempfile::tempdir().unwrap();
    let esempio = specs.join("client-example-2017");
    for (da, file) in [
        (&esempio, "connessione.xsd"),
        (&esempio, "vocabolario_connessione.xsd"),
        (&specs, "tipoDato.xsd"),
    ] {
        std::fs::copy(da.join(file), cartella.path().join(file)).unwrap();
    }
    let corpo = richiesta_test_conn(&RichiestaTestConn {
        id_operazione_comune: "90001750000000000124".into(),
        cod_mittente: "058091".into(),
        data_ora: FixedOffset::east_opt(7200)
            .unwrap()
            .with_ymd_and_hms(2025, 7, 1, 9, 30, 5)
            .unwrap(),
        tipo_invio: "PROD".into(),
        applicativo: (
            "Rivesto".into(),
            env!("CARGO_PKG_VERSION").into(),
            "Rivesto".into(),
        ),
    });
    let xsd = cartella.path().join("connessione.xsd");
    if let Err(m) = valida(&xmllint, &xsd, &corpo, cartella.path(), "testconn") {
        panic!("il corpo di TestConn non rispetta connessione.xsd:\n{m}\n{corpo}");
    }
    let senza_testata = corpo
        .replace("<testataRichiesta>", "")
        .replace("</testataRichiesta>", "");
    assert!(
        valida(&xmllint, &xsd, &senza_testata, cartella.path(), "rotto").is_err(),
        "xmllint doveva rifiutare un corpo senza testataRichiesta"
    );
}
