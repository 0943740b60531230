//! "Chi ha consultato questo soggetto?" (issue 6): the keyed hashes each row keeps and the
//! search over them, on both engines.

use crate::richieste::{richiesta, riga};
use crate::supporto::{Db, base, top};
use domain::esito::Esito;
use domain::tipo::TipoIdentificativo;
use store::anagrafiche::{Approvazione, NuovaConvenzione, NuovoComune};
use store::conservazione::{hmac_identificativo, hmac_normalizzato};
use store::consultazioni::{Consultazione, RicercaSoggetto};
use store::richieste::{EsitoRiga, NuovaRiga, stato};
use store::{Attore, ChiaveMaestra, Segreto, Store};

crate::contratto!(
    trovato_per_qualunque_identificativo,
    ambito_del_comune_e_bozze,
    senza_chiave_niente_hash_fino_al_worker
);

/// The demo population's CFs (examples/richiesta-esempio.csv): valid check characters.
const CF_A: &str = "STTSGT90A01H501J";
const CF_B: &str = "SGGTTV60A01H501T";
const CF_C: &str = "QNTSGT90A01H501X";
const ID_A: &str = "EV45959WW";
const ID_B: &str = "JF28000UG";

fn chiave() -> Segreto {
    Segreto::new(vec![9u8; 32])
}

fn cf(n: i64, valore: &str) -> NuovaRiga {
    riga(n, valore)
}

fn id_anpr(n: i64, valore: &str) -> NuovaRiga {
    NuovaRiga {
        tipo: TipoIdentificativo::IdAnpr,
        ..riga(n, valore)
    }
}

fn esito(riga_id: i64, e: Esito, cf: Option<&str>, id: Option<&str>) -> EsitoRiga {
    EsitoRiga {
        riga_id,
        esito: e,
        messaggio: None,
        id_operazioni: serde_json::json!([]),
        risultato: None,
        cf_restituito: cf.map(str::to_string),
        id_anpr_restituito: id.map(str::to_string),
    }
}

/// Submits, approves and claims every row of `id`; returns the claimed rows' ids by line.
async fn in_lavorazione(s: &Store, id: i64) -> Vec<(i64, i64)> {
    s.cambia_stato_richiesta(
        id,
        &[stato::BOZZA],
        stato::IN_ATTESA_CONVALIDA,
        None,
        &top(),
    )
    .await
    .unwrap();
    s.cambia_stato_richiesta(
        id,
        &[stato::IN_ATTESA_CONVALIDA],
        stato::CONVALIDATA,
        None,
        &top(),
    )
    .await
    .unwrap();
    s.reclama_righe("w", 1, 60_000, 100, Some(id))
        .await
        .unwrap()
        .iter()
        .map(|r| (r.numero, r.id))
        .collect()
}

fn ricerca(comune_id: i64, tipo: TipoIdentificativo, valore: &str) -> RicercaSoggetto {
    RicercaSoggetto {
        comune_id,
        tipo,
        hash: hmac_normalizzato(&chiave(), tipo, valore),
        formato: "pagina".into(),
    }
}

async fn cerca(
    s: &Store,
    comune_id: i64,
    tipo: TipoIdentificativo,
    valore: &str,
) -> Vec<(i64, i64)> {
    s.chi_ha_consultato(&ricerca(comune_id, tipo, valore), &top())
        .await
        .unwrap()
        .iter()
        .map(|c| (c.richiesta_id, c.numero))
        .collect()
}

async fn trovato_per_qualunque_identificativo(db: &Db) {
    let s = &db.store.clone().con_chiave_hmac(chiave());
    let k = ChiaveMaestra::da_byte(&[1u8; 32]).unwrap();
    let b = base(s).await;
    // Line 1 asks CF_A (typed in lower case); line 2 asks ID_B, line 3 repeats it; line 4 asks
    // CF_C, which ANPR does not find.
    let mut dup = id_anpr(3, ID_B);
    dup.duplicato_di = Some(2);
    let righe = [
        cf(1, " sttsgt90a01h501j"),
        id_anpr(2, ID_B),
        dup,
        cf(4, CF_C),
    ];
    let id = richiesta(s, b.convenzione_id, b.utente_id, &righe).await;
    let prese = in_lavorazione(s, id).await;
    let riga_id = |n: i64| prese.iter().find(|(m, _)| *m == n).unwrap().1;
    assert_eq!(prese.len(), 3, "the duplicate is not claimed");
    let esiti = [
        esito(riga_id(1), Esito::Trovato, Some(CF_A), Some(ID_A)),
        esito(riga_id(2), Esito::Trovato, Some(CF_B), Some(ID_B)),
        // A row that is not TROVATO names nobody, whatever the caller passes.
        esito(
            riga_id(4),
            Esito::NonTrovato,
            Some("SGGNNA90R50F839T"),
            None,
        ),
    ];
    assert_eq!(
        s.registra_esiti("w", &esiti, None, &k).await.unwrap().len(),
        3
    );
    assert_eq!(s.completa_duplicati(id).await.unwrap(), 1);

    use TipoIdentificativo::{Cf, IdAnpr};
    // Asked by CF: found by that CF and by the idANPR ANPR returned.
    assert_eq!(cerca(s, b.comune_id, Cf, CF_A).await, vec![(id, 1)]);
    assert_eq!(cerca(s, b.comune_id, IdAnpr, ID_A).await, vec![(id, 1)]);
    // Asked by idANPR: found by it and by the CF ANPR returned, duplicate line included.
    assert_eq!(
        cerca(s, b.comune_id, IdAnpr, ID_B).await,
        vec![(id, 2), (id, 3)]
    );
    assert_eq!(
        cerca(s, b.comune_id, Cf, CF_B).await,
        vec![(id, 2), (id, 3)]
    );
    // NON_TROVATO: the submitted CF only.
    assert_eq!(cerca(s, b.comune_id, Cf, CF_C).await, vec![(id, 4)]);
    assert!(
        cerca(s, b.comune_id, Cf, "SGGNNA90R50F839T")
            .await
            .is_empty()
    );
    // The kind is part of the hash: the idANPR's text searched as a CF finds nothing.
    assert!(cerca(s, b.comune_id, Cf, ID_B).await.is_empty());

    // What the answer says, field by field.
    let r = s.richiesta(id).await.unwrap();
    let trovate = s
        .chi_ha_consultato(&ricerca(b.comune_id, Cf, CF_B), &top())
        .await
        .unwrap();
    assert_eq!(
        trovate[1],
        Consultazione {
            richiesta_id: id,
            utente_id: b.utente_id,
            username: "mario.rossi".into(),
            codice_utente: "MR01".into(),
            ente: "Polizia Locale".into(),
            codice_ente: "80012345678".into(),
            convenzione: "PL Milano".into(),
            motivo: "PROT-2026-123".into(),
            motivo_riga: None,
            data_riferimento: "2026-11-26".into(),
            inviata_ms: r.inviata_ms,
            creata_ms: r.creata_ms,
            stato: stato::CONVALIDATA.into(),
            numero: 3,
            esito: Some(Esito::Trovato),
        }
    );
    assert!(r.inviata_ms.is_some());

    // The hash of the submitted identifier is the normalised one, written at creation.
    let hash = s.hash_identificativi(id).await.unwrap();
    assert_eq!(
        hash[0],
        (1, Some(hmac_identificativo(&chiave(), "CF", CF_A)))
    );
    assert_eq!(
        hash[2],
        (3, Some(hmac_identificativo(&chiave(), "IDANPR", ID_B)))
    );
}

async fn ambito_del_comune_e_bozze(db: &Db) {
    let s = &db.store.clone().con_chiave_hmac(chiave());
    let k = ChiaveMaestra::da_byte(&[1u8; 32]).unwrap();
    let b = base(s).await;
    // A second Comune convenes the same Ente.
    let roma = s
        .crea_comune(
            &NuovoComune {
                codice_istat: "058091".into(),
                belfiore: "H501".into(),
                nome: "Roma".into(),
                sigla: "RM".into(),
            },
            &top(),
        )
        .await
        .unwrap();
    let conv_roma = s
        .crea_convenzione(
            &NuovaConvenzione {
                comune_id: roma,
                ente_id: b.ente_id,
                nome: "PL Roma".into(),
                campi: vec![domain::gruppi::GruppoCampi::Generalita],
                ambito: domain::ambito::Ambito::Italia,
                approvazione: Approvazione::Manuale,
                finalita: Default::default(),
                valida_dal_ms: 0,
                valida_al_ms: None,
                max_righe_richiesta: None,
                max_soggetti_giorno: None,
                tracciato: serde_json::json!({}),
                conservazione_giorni: 7,
                ricerca_nazionale: false,
            },
            &top(),
        )
        .await
        .unwrap();
    let milano_1 = richiesta(s, b.convenzione_id, b.utente_id, &[cf(1, CF_A)]).await;
    in_lavorazione(s, milano_1).await;
    let roma_1 = richiesta(s, conv_roma, b.utente_id, &[cf(1, CF_B), id_anpr(2, ID_A)]).await;
    let prese = in_lavorazione(s, roma_1).await;
    let riga_2 = prese.iter().find(|(n, _)| *n == 2).unwrap().1;
    s.registra_esiti(
        "w",
        &[esito(riga_2, Esito::Trovato, Some(CF_A), Some(ID_A))],
        None,
        &k,
    )
    .await
    .unwrap();
    // A later Milano request, and a draft that was never submitted.
    let milano_2 = richiesta(
        s,
        b.convenzione_id,
        b.utente_id,
        &[cf(1, CF_B), cf(2, CF_A)],
    )
    .await;
    in_lavorazione(s, milano_2).await;
    richiesta(s, b.convenzione_id, b.utente_id, &[cf(1, CF_A)]).await;

    use TipoIdentificativo::Cf;
    // Each Comune sees its own conventions' requests only, newest first, drafts left out.
    assert_eq!(
        cerca(s, b.comune_id, Cf, CF_A).await,
        vec![(milano_2, 2), (milano_1, 1)]
    );
    assert_eq!(cerca(s, roma, Cf, CF_A).await, vec![(roma_1, 2)]);
    assert_eq!(cerca(s, roma, Cf, CF_B).await, vec![(roma_1, 1)]);

    // One audit entry per search: actor and scope the searcher's, the hash and counts in the
    // details, never the value.
    let prima = s.voci_audit(0, 10_000).await.unwrap().len();
    let r = ricerca(b.comune_id, Cf, CF_A);
    let tizio = Attore {
        nome: "top.milano".into(),
        ruolo: Some("TOP".into()),
        comune: Some("015146".into()),
        ente: None,
    };
    assert_eq!(s.chi_ha_consultato(&r, &tizio).await.unwrap().len(), 2);
    let voci = s.voci_audit(0, 10_000).await.unwrap();
    assert_eq!(voci.len(), prima + 1);
    let v = voci.last().unwrap();
    assert_eq!(
        (
            v.azione.as_str(),
            v.attore.as_str(),
            v.ruolo.as_deref(),
            v.comune.as_deref(),
            v.ente.as_deref(),
            v.oggetto.as_str()
        ),
        (
            "CONSULTAZIONE_SOGGETTO",
            "top.milano",
            Some("TOP"),
            Some("015146"),
            None,
            "comune:015146"
        )
    );
    let dettagli: serde_json::Value = serde_json::from_str(&v.dettagli).unwrap();
    assert_eq!(
        dettagli,
        serde_json::json!({"tipo": "CF", "hmac": r.hash, "righe": 2, "richieste": 2, "formato": "pagina"})
    );
    assert!(!v.dettagli.contains(CF_A));
    // An unknown Comune is refused, and nothing is archived.
    assert!(
        s.chi_ha_consultato(&ricerca(999_999, Cf, CF_A), &tizio)
            .await
            .is_err()
    );
    assert_eq!(s.voci_audit(0, 10_000).await.unwrap().len(), prima + 1);
}

async fn senza_chiave_niente_hash_fino_al_worker(db: &Db) {
    // The store of a console tool or a unit test: no key, so rows are written without hash.
    let senza = &db.store;
    let con = &db.store.clone().con_chiave_hmac(chiave());
    let k = ChiaveMaestra::da_byte(&[1u8; 32]).unwrap();
    let b = base(senza).await;
    let id = richiesta(
        senza,
        b.convenzione_id,
        b.utente_id,
        &[id_anpr(1, ID_A), cf(2, CF_C)],
    )
    .await;
    assert_eq!(
        senza.hash_identificativi(id).await.unwrap(),
        vec![(1, None), (2, None)]
    );
    let prese = in_lavorazione(senza, id).await;
    // Without the key an outcome stores no hash either.
    let (_, riga_1) = prese[0];
    senza
        .registra_esiti(
            "w",
            &[esito(riga_1, Esito::Trovato, Some(CF_A), Some(ID_A))],
            None,
            &k,
        )
        .await
        .unwrap();
    assert!(
        cerca(con, b.comune_id, TipoIdentificativo::Cf, CF_A)
            .await
            .is_empty()
    );
    // The worker, which has the key, fills in the submitted identifier's hash with the outcome.
    let (_, riga_2) = prese[1];
    con.registra_esiti(
        "w",
        &[esito(riga_2, Esito::NonTrovato, None, None)],
        None,
        &k,
    )
    .await
    .unwrap();
    assert_eq!(
        senza.hash_identificativi(id).await.unwrap(),
        vec![
            (1, None),
            (2, Some(hmac_identificativo(&chiave(), "CF", CF_C)))
        ]
    );
    // The retention purge gives the rest theirs, from the same normalisation.
    senza
        .purga_richiesta(id, &chiave(), &Attore::sistema())
        .await
        .unwrap();
    assert_eq!(
        cerca(con, b.comune_id, TipoIdentificativo::IdAnpr, ID_A).await,
        vec![(id, 1)]
    );
}
