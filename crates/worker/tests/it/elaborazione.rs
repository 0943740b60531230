//! A whole request through the engine: silent consent, claims, ANPR calls against the
//! simulator, outcomes, duplicates, invalid rows, encrypted files, COMPLETATA.

use crate::banca::*;
use crate::su_entrambi;
use anpr::servizi::Servizio;
use domain::gruppi::GruppoCampi;
use domain::tipo::TipoIdentificativo::{Cf, Ci, IdAnpr};
use store::EsitoVerifica;
use store::richieste::stato;

su_entrambi!(
    richiesta_mista_completata,
    righe_tutte_non_valide_completano_senza_chiamate
);

/// Every column but `id_operazione_anpr`, which is checked apart (ANPR's own ids).
fn senza_id(riga: &str) -> (String, String) {
    let mut celle: Vec<&str> = riga.split(';').collect();
    let ids = celle[5].to_string();
    celle[5] = "*";
    (celle.join(";"), ids)
}

async fn richiesta_mista_completata(db: &Db) {
    let s = &db.store;
    let sc = scenario(s, &[GruppoCampi::IdAnpr, GruppoCampi::Generalita], "").await;
    let mut duplicato = riga(5, Cf, "STTSGT90A01H501J");
    duplicato.duplicato_di = Some(2);
    let righe = [
        riga(2, Cf, "STTSGT90A01H501J"),
        riga(3, IdAnpr, "JF28000UG"),
        riga(4, Cf, "STTSGT90A01H501X"),
        duplicato,
        riga(6, Cf, "PRVCCL60B50G393U"),
        riga(7, Ci, "CA00000AA"),
        riga(8, IdAnpr, "af41450as"),
    ];
    let id = sc.invia(s, &righe).await;
    let m = sc.motore(s, OrologioTest::adesso());
    assert_eq!(
        fino_a(&m, s, id, &[stato::COMPLETATA], 20).await,
        stato::COMPLETATA
    );

    let file = testi(s, id, false).await;
    assert_eq!(file.len(), 1);
    assert_eq!(file[0].0, format!("richiesta-{id}-parte-001.csv"));
    let testo = file[0].1.strip_prefix('\u{feff}').expect("UTF-8 con BOM");
    let linee: Vec<&str> = testo.split_terminator("\r\n").collect();
    let attese = [
        "riferimento;tipo;identificativo;esito;messaggio;id_operazione_anpr;ID ANPR;Codice fiscale;Cognome;Nome;Sesso;Data di nascita",
        "R2;CF;STTSGT90A01H501J;TROVATO;;*;AF41450AS;STTSGT90A01H501J;SETTIMO;SOGGETTO;M;01/01/1990",
        "R3;IDANPR;JF28000UG;TROVATO;;*;JF28000UG;NRECLD90R50H501G;NERI;CLAUDIA;F;10/10/1990",
        "R4;CF;STTSGT90A01H501X;NON_VALIDO;carattere di controllo errato: atteso J, trovato X;*;;;;;;",
        "R5;CF;STTSGT90A01H501J;TROVATO;duplicato della riga 2;*;AF41450AS;STTSGT90A01H501J;SETTIMO;SOGGETTO;M;01/01/1990",
        "R6;CF;PRVCCL60B50G393U;NON_TROVATO;EN122: Soggetto cancellato da ANPR;*;;;;;;",
        "R7;CI;CA00000AA;NON_SUPPORTATO;l'identificativo di tipo CI si può cercare solo con il canale del Comune (servizio 3002), non con gli e-service PDND: configuri la sezione [anpr_ws] nel file di onboarding;*;;;;;;",
        "R8;IDANPR;af41450as;TROVATO;;*;AF41450AS;STTSGT90A01H501J;SETTIMO;SOGGETTO;M;01/01/1990",
    ];
    assert_eq!(linee.len(), attese.len(), "{testo}");
    let mut ids = Vec::new();
    for (linea, attesa) in linee.iter().zip(attese) {
        if linea.starts_with("riferimento;") {
            assert_eq!(*linea, attesa);
            continue;
        }
        let (senza, i) = senza_id(linea);
        assert_eq!(senza, attesa);
        ids.push(i);
    }
    // CF rows: C030 then C015, two ids; ID ANPR rows: C015 alone; no call, no id.
    let parti = |i: &str| i.split('|').filter(|p| !p.is_empty()).count();
    assert_eq!(
        ids.iter().map(|i| parti(i)).collect::<Vec<_>>(),
        vec![2, 1, 0, 2, 0, 0, 1]
    );
    assert!(
        ids.iter()
            .flat_map(|i| i.split('|'))
            .all(|p| p.bytes().all(|b| b.is_ascii_digit()))
    );
    // The duplicate carries its original's ids.
    assert_eq!(ids[0], ids[3]);

    // ANPR was never called for the invalid, duplicate or unsupported rows.
    assert_eq!(sc.amb.chiamate(Servizio::C030), 2);
    assert_eq!(sc.amb.chiamate(Servizio::C015), 3);
    let oggi = store::giorno_roma(chrono::Utc::now().timestamp_millis());
    assert_eq!(
        s.chiamate_contate(sc.comune_id, "C030", &oggi)
            .await
            .unwrap(),
        2
    );

    // The recorded file matches the plaintext; result fields are gone once COMPLETATA.
    let f = &s.file_risposta(id).await.unwrap()[0];
    assert_eq!(f.righe, 7);
    assert!(!f.parziale);
    assert!(f.percorso.ends_with(".csv.age"));
    for r in s.righe(id, 0, 100).await.unwrap() {
        assert_eq!(r.stato, "FINALE");
        assert!(s.risultato_riga(r.id, &chiave()).await.unwrap().is_none());
    }
    audit_senza_dati_personali(s, id).await;
}

/// One CHIAMATE_ANPR entry per chunk: services, ids and outcome codes, no personal data; the
/// chain stays valid.
async fn audit_senza_dati_personali(s: &store::Store, id: i64) {
    let voci = s.voci_audit(0, 1000).await.unwrap();
    let chiamate: Vec<_> = voci
        .iter()
        .filter(|v| v.azione == "CHIAMATE_ANPR" && v.oggetto == format!("richiesta:{id}"))
        .collect();
    assert!(!chiamate.is_empty());
    let mut servizi = Vec::new();
    for v in &chiamate {
        for personale in [
            "STTSGT90A01H501J",
            "SETTIMO",
            "JF28000UG",
            "NERI",
            "PRVCCL60B50G393U",
        ] {
            assert!(!v.dettagli.contains(personale), "{}", v.dettagli);
        }
        assert_eq!(v.attore, "sistema");
        assert_eq!(v.comune.as_deref(), Some("058091"));
        let d: serde_json::Value = serde_json::from_str(&v.dettagli).unwrap();
        for c in d["chiamate"].as_array().unwrap() {
            servizi.push(c["servizio"].as_str().unwrap().to_string());
            assert!(
                c["id_operazione_client"]
                    .as_str()
                    .unwrap()
                    .parse::<u128>()
                    .is_ok()
            );
            assert!(c["esito"].is_string());
        }
    }
    servizi.sort();
    // Rows 2 and 6 by CF (C030; row 2 then C015), rows 3 and 8 by ID ANPR (C015).
    assert_eq!(servizi, vec!["C015", "C015", "C015", "C030", "C030"]);
    assert!(
        matches!(s.verifica_catena().await.unwrap(), EsitoVerifica::Valida { voci: n, .. } if n == voci.len() as u64)
    );
    let approvata = voci
        .iter()
        .find(|v| v.azione == "RICHIESTA_CONVALIDATA" && v.oggetto == format!("richiesta:{id}"))
        .expect("approvazione registrata");
    assert_eq!(approvata.attore, "sistema");
}

async fn righe_tutte_non_valide_completano_senza_chiamate(db: &Db) {
    let s = &db.store;
    let sc = scenario(s, &[GruppoCampi::Generalita], "").await;
    let mut dup = riga(3, Cf, "XXXXXXXXXXXXXXXX");
    dup.duplicato_di = Some(2);
    let id = sc.invia(s, &[riga(2, Cf, "XXXXXXXXXXXXXXXX"), dup]).await;
    let m = sc.motore(s, OrologioTest::adesso());
    fino_a(&m, s, id, &[stato::COMPLETATA], 10).await;
    let file = testi(s, id, false).await;
    let linee: Vec<&str> = file[0].1.split_terminator("\r\n").collect();
    assert_eq!(linee.len(), 3);
    assert!(
        linee[1].starts_with("R2;CF;XXXXXXXXXXXXXXXX;NON_VALIDO;"),
        "{}",
        linee[1]
    );
    assert!(
        linee[2].starts_with("R3;CF;XXXXXXXXXXXXXXXX;NON_VALIDO;duplicato della riga 2;"),
        "{}",
        linee[2]
    );
    assert_eq!(sc.amb.sim.conteggi().values().sum::<u64>(), 0);
}
