//! Contract tests of the statistics (issue 6) over a seeded history on a fake clock. Every
//! expected figure is worked out by hand in the comments from the history below.
//!
//! History (Milano, Europe/Rome = UTC+1 in March 2026; "02 09:00" is 2 March 2026, 09:00 Rome):
//!
//! | req | user          | convention | submitted | approved            | outcomes recorded (calls)                          | completed |
//! |-----|---------------|------------|-----------|---------------------|----------------------------------------------------|-----------|
//! | R1  | mario.rossi   | PL Milano  | 02 09:00  | 02 09:10 (TOP)      | 02 09:30: TROVATO (C030, C020), TROVATO (C030, C020), NON_TROVATO (C030); row 4 NON_VALIDO at creation | 02 10:10 |
//! | R2  | luigi.bianchi | PL Milano  | 02 15:00  | 02 17:00 (silent)   | 03 08:00: FUORI_AMBITO (C030, C020), AMBIGUO (C030), TROVATO (C030, C020) | 03 09:00 |
//! | R3  | anna.neri     | ASL Milano | 04 10:00  | 04 10:30 (TOP)      | failed 04 10:45, resumed 04 11:00; 04 11:00: TROVATO (C030, C020, C019), NON_TROVATO (C030) | 04 12:30 |
//! | R4  | mario.rossi   | PL Milano  | 09 10:00  | —                   | 2 rows waiting                                     | —         |
//! | R5  | mario.rossi   | PL Milano  | 03 11:00  | rejected 03 12:00   | 1 row never processed                              | —         |
//! | R6  | mario.rossi   | PL Milano  | draft 02 08:00, never submitted                                                                  |
//! | RR  | gino.roma     | Roma       | 02 09:00  | 02 09:05            | 02 09:20: TROVATO (C030)                           | 02 09:30  |
//!
//! Milano's quota counters also count one retried C030 call on 02 (4 counted, 3 recorded).

use crate::richieste::riga;
use crate::supporto::{Db, base, top};
use chrono::NaiveDate;
use domain::ambito::Ambito;
use domain::esito::Esito;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use store::anagrafiche::{
    Approvazione, NuovaConvenzione, NuovoComune, NuovoUtente, TipoCodiceEnte,
};
use store::elenchi::AmbitoElenco;
use store::richieste::{EsitoRiga, NuovaRichiesta, NuovaRiga, stato as st};
use store::statistiche::{
    Cifre, DA_CONCLUDERE, Durate, FiltroStatistiche, FonteQuota, Periodo, Ripartizione, Statistiche,
};
use store::{Attore, ChiaveMaestra, Store};

crate::contratto!(statistiche_di_una_storia);

const MIN: i64 = 60_000;
const ORA: i64 = 60 * MIN;
const GIORNO: i64 = 24 * ORA;
/// 2026-03-02 00:00 in Rome is 2026-03-01T23:00Z.
const MEZZANOTTE_2_MARZO: i64 = 1_772_406_000_000;

/// March 2026 (before the 29th, CET), day `g` at `h:m` Rome time.
fn t(g: i64, h: i64, m: i64) -> i64 {
    MEZZANOTTE_2_MARZO + (g - 2) * GIORNO + h * ORA + m * MIN
}

fn data(g: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, g).unwrap()
}

/// The store under test, stamped by a clock the test moves.
struct Storia {
    s: Store,
    ora: Arc<AtomicI64>,
    k: ChiaveMaestra,
}

impl Storia {
    fn a(&self, ms: i64) {
        self.ora.store(ms, Ordering::SeqCst);
    }

    async fn crea(&self, conv: i64, utente: i64, righe: &[NuovaRiga]) -> i64 {
        let r = NuovaRichiesta {
            convenzione_id: conv,
            utente_id: utente,
            motivo: "PROT-STAT".into(),
            data_riferimento: "2026-03-02".into(),
            snapshot: json!({"userID": "U", "LoA": "LoA1", "userLocation": "UFF"}),
        };
        self.s.crea_richiesta(&r, righe, &top()).await.unwrap()
    }

    async fn passa(&self, id: i64, da: &str, a: &str, chi: &Attore) {
        self.s
            .cambia_stato_richiesta(id, &[da], a, None, chi)
            .await
            .unwrap();
    }

    /// Claims the request's pending rows and records one outcome per row, in row order, each
    /// with its calls; every call is also counted against the Comune's quota.
    async fn esiti(&self, id: i64, comune: i64, esiti: &[(Esito, &[&str])]) {
        let ora = self.ora.load(Ordering::SeqCst);
        let prese = self
            .s
            .reclama_righe("w", ora, 60_000, 100, Some(id))
            .await
            .unwrap();
        assert_eq!(prese.len(), esiti.len());
        let mut v = Vec::new();
        for (riga, (esito, servizi)) in prese.iter().zip(esiti) {
            let mut chiamate = Vec::new();
            for (i, s) in servizi.iter().enumerate() {
                assert!(
                    self.s
                        .riserva_chiamata(comune, s, ora, 1_000)
                        .await
                        .unwrap()
                );
                chiamate.push(
                    json!({"servizio": s, "id_operazione_client": format!("{}{i}", riga.id)}),
                );
            }
            v.push(EsitoRiga {
                riga_id: riga.id,
                esito: *esito,
                messaggio: None,
                id_operazioni: json!(chiamate),
                risultato: None,
                cf_restituito: None,
                id_anpr_restituito: None,
            });
        }
        let fatte = self.s.registra_esiti("w", &v, None, &self.k).await.unwrap();
        assert_eq!(fatte.len(), esiti.len());
    }
}

async fn utente(s: &Store, nome: &str, ente_id: i64) -> i64 {
    s.crea_utente(
        &NuovoUtente {
            username: nome.into(),
            password: "una password abbastanza lunga".into(),
            ruolo: "STANDARD".into(),
            comune_id: None,
            ente_id: Some(ente_id),
            codice_utente: nome.chars().take(20).collect(),
        },
        &top(),
    )
    .await
    .unwrap()
}

async fn convenzione(s: &Store, comune_id: i64, ente_id: i64, nome: &str) -> i64 {
    s.crea_convenzione(
        &NuovaConvenzione {
            comune_id,
            ente_id,
            nome: nome.into(),
            campi: vec![],
            ambito: Ambito::Comune,
            approvazione: Approvazione::Manuale,
            finalita: Default::default(),
            valida_dal_ms: 0,
            valida_al_ms: None,
            max_righe_richiesta: None,
            max_soggetti_giorno: None,
            tracciato: json!({}),
            conservazione_giorni: 7,
            ricerca_nazionale: false,
        },
        &top(),
    )
    .await
    .unwrap()
}

/// Ids of the seeded world.
struct Mondo {
    milano: i64,
    ente_pl: i64,
    ente_asl: i64,
}

async fn semina(db: &Db) -> (Storia, Mondo) {
    let ora = Arc::new(AtomicI64::new(t(2, 8, 0)));
    let orologio = ora.clone();
    let s = db
        .altro_store()
        .await
        .con_orologio(move || orologio.load(Ordering::SeqCst));
    let storia = Storia {
        s,
        ora,
        k: ChiaveMaestra::da_byte(&[3u8; 32]).unwrap(),
    };
    let s = &storia.s;
    let b = base(s).await; // Milano, "Polizia Locale", "PL Milano", mario.rossi
    let luigi = utente(s, "luigi.bianchi", b.ente_id).await;
    let ente_asl = s
        .crea_ente(
            "asl_mi",
            TipoCodiceEnte::Ipa,
            "ASL Milano",
            "ASL-MI",
            &top(),
        )
        .await
        .unwrap();
    let conv_asl = convenzione(s, b.comune_id, ente_asl, "ASL Milano").await;
    let anna = utente(s, "anna.neri", ente_asl).await;
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
    let ente_roma = s
        .crea_ente("pl_rm", TipoCodiceEnte::Ipa, "PL Roma", "PL-RM", &top())
        .await
        .unwrap();
    let conv_roma = convenzione(s, roma, ente_roma, "PL Roma").await;
    let gino = utente(s, "gino.roma", ente_roma).await;
    let m = Mondo {
        milano: b.comune_id,
        ente_pl: b.ente_id,
        ente_asl,
    };
    let pl = b.convenzione_id;
    storia_milano(&storia, &m, pl, b.utente_id, luigi, conv_asl, anna).await;
    storia_roma(&storia, roma, conv_roma, gino).await;
    (storia, m)
}

async fn storia_milano(
    h: &Storia,
    m: &Mondo,
    pl: i64,
    mario: i64,
    luigi: i64,
    asl: i64,
    anna: i64,
) {
    use Esito::*;
    let io = top();
    let sistema = Attore::sistema();
    // R6: a draft, never submitted.
    h.crea(pl, mario, &[riga(1, "RSSMRA80A01F205X")]).await;
    // R1.
    h.a(t(2, 9, 0));
    let mut non_valida = riga(4, "XXX");
    non_valida.esito = Some(NonValido);
    let r1 = h
        .crea(
            pl,
            mario,
            &[riga(1, "A"), riga(2, "B"), riga(3, "C"), non_valida],
        )
        .await;
    h.passa(r1, st::BOZZA, st::IN_ATTESA_CONVALIDA, &io).await;
    h.a(t(2, 9, 10));
    h.passa(r1, st::IN_ATTESA_CONVALIDA, st::CONVALIDATA, &io)
        .await;
    h.a(t(2, 9, 30));
    h.passa(r1, st::CONVALIDATA, st::IN_ELABORAZIONE, &sistema)
        .await;
    h.esiti(
        r1,
        m.milano,
        &[
            (Trovato, &["C030", "C020"]),
            (Trovato, &["C030", "C020"]),
            (NonTrovato, &["C030"]),
        ],
    )
    .await;
    // A retried C030 call: counted by the quota, never recorded with an outcome.
    assert!(
        h.s.riserva_chiamata(m.milano, "C030", t(2, 9, 30), 1_000)
            .await
            .unwrap()
    );
    h.a(t(2, 10, 10));
    h.passa(r1, st::IN_ELABORAZIONE, st::COMPLETATA, &sistema)
        .await;
    // R2, approved by silent consent.
    h.a(t(2, 15, 0));
    let r2 = h
        .crea(pl, luigi, &[riga(1, "D"), riga(2, "E"), riga(3, "F")])
        .await;
    h.passa(r2, st::BOZZA, st::IN_ATTESA_CONVALIDA, &io).await;
    h.a(t(2, 17, 0));
    h.passa(r2, st::IN_ATTESA_CONVALIDA, st::CONVALIDATA, &sistema)
        .await;
    h.a(t(3, 8, 0));
    h.passa(r2, st::CONVALIDATA, st::IN_ELABORAZIONE, &sistema)
        .await;
    h.esiti(
        r2,
        m.milano,
        &[
            (FuoriAmbito, &["C030", "C020"]),
            (Ambiguo, &["C030"]),
            (Trovato, &["C030", "C020"]),
        ],
    )
    .await;
    h.a(t(3, 9, 0));
    h.passa(r2, st::IN_ELABORAZIONE, st::COMPLETATA, &sistema)
        .await;
    // R5, rejected.
    h.a(t(3, 11, 0));
    let r5 = h.crea(pl, mario, &[riga(1, "G")]).await;
    h.passa(r5, st::BOZZA, st::IN_ATTESA_CONVALIDA, &io).await;
    h.a(t(3, 12, 0));
    h.passa(r5, st::IN_ATTESA_CONVALIDA, st::RESPINTA, &io)
        .await;
    // R3: fails and is resumed; the first approval stays its approval.
    h.a(t(4, 10, 0));
    let r3 = h.crea(asl, anna, &[riga(1, "H"), riga(2, "I")]).await;
    h.passa(r3, st::BOZZA, st::IN_ATTESA_CONVALIDA, &io).await;
    h.a(t(4, 10, 30));
    h.passa(r3, st::IN_ATTESA_CONVALIDA, st::CONVALIDATA, &io)
        .await;
    h.passa(r3, st::CONVALIDATA, st::IN_ELABORAZIONE, &sistema)
        .await;
    h.a(t(4, 10, 45));
    h.passa(r3, st::IN_ELABORAZIONE, st::FALLITA, &sistema)
        .await;
    h.a(t(4, 11, 0));
    h.passa(r3, st::FALLITA, st::CONVALIDATA, &io).await;
    h.passa(r3, st::CONVALIDATA, st::IN_ELABORAZIONE, &sistema)
        .await;
    h.esiti(
        r3,
        m.milano,
        &[
            (Trovato, &["C030", "C020", "C019"]),
            (NonTrovato, &["C030"]),
        ],
    )
    .await;
    h.a(t(4, 12, 30));
    h.passa(r3, st::IN_ELABORAZIONE, st::COMPLETATA, &sistema)
        .await;
    // R4, waiting.
    h.a(t(9, 10, 0));
    let r4 = h.crea(pl, mario, &[riga(1, "J"), riga(2, "K")]).await;
    h.passa(r4, st::BOZZA, st::IN_ATTESA_CONVALIDA, &io).await;
}

async fn storia_roma(h: &Storia, roma: i64, conv: i64, gino: i64) {
    let sistema = Attore::sistema();
    h.a(t(2, 9, 0));
    let rr = h.crea(conv, gino, &[riga(1, "L")]).await;
    h.passa(rr, st::BOZZA, st::IN_ATTESA_CONVALIDA, &top())
        .await;
    h.a(t(2, 9, 5));
    h.passa(rr, st::IN_ATTESA_CONVALIDA, st::CONVALIDATA, &top())
        .await;
    h.passa(rr, st::CONVALIDATA, st::IN_ELABORAZIONE, &sistema)
        .await;
    h.a(t(2, 9, 20));
    h.esiti(rr, roma, &[(Esito::Trovato, &["C030"])]).await;
    h.a(t(2, 9, 30));
    h.passa(rr, st::IN_ELABORAZIONE, st::COMPLETATA, &sistema)
        .await;
}

async fn leggi(
    s: &Store,
    ambito: AmbitoElenco,
    dal: u32,
    al: u32,
    periodo: Periodo,
    rip: Ripartizione,
) -> Statistiche {
    let f = FiltroStatistiche::nuovo(ambito, data(dal), data(al), periodo, rip).unwrap();
    s.statistiche(&f).await.unwrap()
}

fn durate(campioni: i64, mediana: Option<i64>, p90: Option<i64>) -> Durate {
    Durate {
        campioni,
        mediana_ms: mediana,
        p90_ms: p90,
    }
}

async fn statistiche_di_una_storia(db: &Db) {
    let (h, m) = semina(db).await;
    per_giorno(&h.s, &m).await;
    per_settimana_e_utente(&h.s, &m).await;
    per_esito_e_servizio(&h.s, &m).await;
    quote_e_ambito_ente(&h.s, &m).await;
}

async fn per_giorno(s: &Store, m: &Mondo) {
    let st = leggi(
        s,
        AmbitoElenco::Comune(m.milano),
        2,
        15,
        Periodo::Giorno,
        Ripartizione::Totale,
    )
    .await;
    // 2..15 March: 14 days, each with its line even when empty.
    assert_eq!(st.periodi.len(), 14);
    assert_eq!(st.voci.len(), 14);
    assert_eq!(st.periodi[0].chiave, "2026-03-02");
    assert!(st.voci.iter().all(|v| v.gruppo.etichetta == "Totale"));
    let giorno = |g: usize| st.voci[g - 2].cifre.clone();
    // 02: R1 and R2 (R6 is a draft; Roma is another tenant). Rows 4 + 3 = 7, all concluded:
    // TROVATO 2 + 1 = 3, NON_TROVATO 1, FUORI_AMBITO 1, AMBIGUO 1 (R1's NON_VALIDO is the 7th).
    // Calls recorded on 02: R1's 2 + 2 + 1 = 5. Waits: R1 10 min, R2 2 h → sorted [10 min,
    // 2 h]: median rank ⌈1⌉ = 1 → 10 min; 90th rank ⌈1.8⌉ = 2 → 2 h. Processing: R1 09:10 →
    // 10:10 = 1 h, R2 02 17:00 → 03 09:00 = 16 h → median 1 h, 90th 16 h.
    assert_eq!(
        giorno(2),
        Cifre {
            richieste: 2,
            soggetti: 7,
            righe_concluse: 7,
            trovati: 3,
            non_trovati: 1,
            fuori_ambito: 1,
            ambigui: 1,
            chiamate: 5,
            attesa_convalida: durate(2, Some(10 * MIN), Some(2 * ORA)),
            durata_elaborazione: durate(2, Some(ORA), Some(16 * ORA)),
        }
    );
    assert_eq!(giorno(2).frazione(3), Some(3.0 / 7.0));
    // 03: R5 (1 row, never concluded, never approved); R2's 2 + 1 + 2 = 5 calls.
    assert_eq!(
        giorno(3),
        Cifre {
            richieste: 1,
            soggetti: 1,
            chiamate: 5,
            ..Cifre::default()
        }
    );
    assert_eq!(giorno(3).frazione(0), None);
    // 04: R3, 2 rows (TROVATO, NON_TROVATO), calls 3 + 1 = 4. Wait 10:00 → 10:30 = 30 min;
    // processing from the first approval 10:30 to 12:30 = 2 h (the resume at 11:00 is not an
    // approval: it would give 1 h 30 min).
    assert_eq!(
        giorno(4),
        Cifre {
            richieste: 1,
            soggetti: 2,
            righe_concluse: 2,
            trovati: 1,
            non_trovati: 1,
            chiamate: 4,
            attesa_convalida: durate(1, Some(30 * MIN), Some(30 * MIN)),
            durata_elaborazione: durate(1, Some(2 * ORA), Some(2 * ORA)),
            ..Cifre::default()
        }
    );
    // 09: R4, 2 rows waiting.
    assert_eq!(
        (
            giorno(9).richieste,
            giorno(9).soggetti,
            giorno(9).righe_concluse
        ),
        (1, 2, 0)
    );
    for g in [5, 6, 7, 8, 10, 11, 12, 13, 14, 15] {
        assert_eq!(giorno(g), Cifre::default(), "giorno {g}");
    }
    // The whole range: 5 requests, 7 + 1 + 2 + 2 = 12 rows, 7 + 2 = 9 concluded, 14 calls.
    // Waits [10 min, 30 min, 2 h]: median rank ⌈1.5⌉ = 2 → 30 min, 90th rank ⌈2.7⌉ = 3 → 2 h.
    // Processing [1 h, 2 h, 16 h]: median 2 h, 90th 16 h.
    assert_eq!(st.totali.len(), 1);
    assert_eq!(
        st.totali[0].1,
        Cifre {
            richieste: 5,
            soggetti: 12,
            righe_concluse: 9,
            trovati: 4,
            non_trovati: 2,
            fuori_ambito: 1,
            ambigui: 1,
            chiamate: 14,
            attesa_convalida: durate(3, Some(30 * MIN), Some(2 * ORA)),
            durata_elaborazione: durate(3, Some(2 * ORA), Some(16 * ORA)),
        }
    );
    assert!(!st.vuota());
    // Days before the history: nothing, and said so.
    let prima = leggi(
        s,
        AmbitoElenco::Comune(m.milano),
        1,
        1,
        Periodo::Giorno,
        Ripartizione::Totale,
    )
    .await;
    assert!(prima.vuota());
}

async fn per_settimana_e_utente(s: &Store, m: &Mondo) {
    let st = leggi(
        s,
        AmbitoElenco::Comune(m.milano),
        2,
        15,
        Periodo::Settimana,
        Ripartizione::Utente,
    )
    .await;
    let chiavi: Vec<&str> = st.periodi.iter().map(|p| p.chiave.as_str()).collect();
    assert_eq!(chiavi, ["2026-W10", "2026-W11"]);
    let righe: Vec<(usize, &str, i64, i64, i64, i64)> = st
        .voci
        .iter()
        .map(|v| {
            let c = &v.cifre;
            (
                v.periodo,
                v.gruppo.etichetta.as_str(),
                c.richieste,
                c.soggetti,
                c.righe_concluse,
                c.chiamate,
            )
        })
        .collect();
    // W10 (2–8 March): anna.neri R3 (2 rows, 4 calls); luigi.bianchi R2 (3 rows, 5 calls);
    // mario.rossi R1 + R5 (4 + 1 rows, 4 concluded, R1's 5 calls). W11: mario.rossi R4.
    assert_eq!(
        righe,
        [
            (0, "anna.neri", 1, 2, 2, 4),
            (0, "luigi.bianchi", 1, 3, 3, 5),
            (0, "mario.rossi", 2, 5, 4, 5),
            (1, "mario.rossi", 1, 2, 0, 0),
        ]
    );
    // luigi's one request: wait 2 h, processing 16 h.
    assert_eq!(
        st.voci[1].cifre.attesa_convalida,
        durate(1, Some(2 * ORA), Some(2 * ORA))
    );
    assert_eq!(
        st.voci[1].cifre.durata_elaborazione,
        durate(1, Some(16 * ORA), Some(16 * ORA))
    );
    // The Ente breakdown: Polizia Locale has R1, R2, R5, R4 (4 requests, 7 + 1 + 2 = 10 rows);
    // ASL Milano has R3.
    let st = leggi(
        s,
        AmbitoElenco::Comune(m.milano),
        2,
        15,
        Periodo::Mese,
        Ripartizione::Ente,
    )
    .await;
    let enti: Vec<(&str, i64, i64, i64)> = st
        .totali
        .iter()
        .map(|(g, c)| (g.etichetta.as_str(), c.richieste, c.soggetti, c.chiamate))
        .collect();
    assert_eq!(
        enti,
        [("ASL Milano", 1, 2, 4), ("Polizia Locale", 4, 10, 10)]
    );
}

async fn per_esito_e_servizio(s: &Store, m: &Mondo) {
    let st = leggi(
        s,
        AmbitoElenco::Comune(m.milano),
        1,
        31,
        Periodo::Mese,
        Ripartizione::Esito,
    )
    .await;
    assert_eq!(st.periodi.len(), 1);
    let esiti: Vec<(&str, i64, i64, i64)> = st
        .voci
        .iter()
        .map(|v| {
            (
                v.gruppo.chiave.as_str(),
                v.cifre.richieste,
                v.cifre.soggetti,
                v.cifre.righe_concluse,
            )
        })
        .collect();
    // Rows per outcome, with the requests that have one, over March's 9 concluded rows:
    // TROVATO R1 2 + R2 1 + R3 1 = 4; NON_TROVATO R1, R3; FUORI_AMBITO R2; AMBIGUO R2;
    // NON_VALIDO R1; still to conclude: R5's 1 + R4's 2 = 3.
    assert_eq!(
        esiti,
        [
            ("TROVATO", 3, 4, 9),
            ("NON_TROVATO", 2, 2, 9),
            ("FUORI_AMBITO", 1, 1, 9),
            ("AMBIGUO", 1, 1, 9),
            ("NON_VALIDO", 1, 1, 9),
            (DA_CONCLUDERE, 2, 3, 9),
        ]
    );
    assert_eq!(
        st.voci[0].cifre.frazione(st.voci[0].cifre.trovati),
        Some(4.0 / 9.0)
    );
    let st = leggi(
        s,
        AmbitoElenco::Comune(m.milano),
        1,
        31,
        Periodo::Mese,
        Ripartizione::Servizio,
    )
    .await;
    let servizi: Vec<(&str, i64)> = st
        .voci
        .iter()
        .map(|v| (v.gruppo.chiave.as_str(), v.cifre.chiamate))
        .collect();
    // C019: R3 1. C020: R1 2 + R2 2 + R3 1 = 5. C030: R1 3 + R2 3 + R3 2 = 8.
    assert_eq!(servizi, [("C019", 1), ("C020", 5), ("C030", 8)]);
}

async fn quote_e_ambito_ente(s: &Store, m: &Mondo) {
    let st = leggi(
        s,
        AmbitoElenco::Comune(m.milano),
        2,
        15,
        Periodo::Settimana,
        Ripartizione::Totale,
    )
    .await;
    assert_eq!(st.fonte_quota, FonteQuota::ContatoriComune);
    let quote: Vec<(usize, &str, i64, i64)> = st
        .quote
        .iter()
        .map(|q| (q.periodo, q.servizio.as_str(), q.usate, q.giorni))
        .collect();
    // Milano's counters in W10: C019 1; C020 2 + 2 + 1 = 5; C030 (3 + 1 retry) + 3 + 2 = 9.
    // Roma's calls are Roma's. Seven days of W10 are in the filter.
    assert_eq!(
        quote,
        [(0, "C019", 1, 7), (0, "C020", 5, 7), (0, "C030", 9, 7)]
    );
    assert!(st.quote.iter().all(|q| q.comune == "Milano"));
    // With 10 calls a day, W10 allowed 70 C030 calls: 9 / 70.
    assert_eq!(st.quote[2].disponibili(10), 70);
    assert_eq!(st.quote[2].frazione(10), Some(9.0 / 70.0));
    assert_eq!(st.quote[2].frazione(0), None);

    // An ADMIN of ASL Milano: only R3, and its own calls as its share of the quota.
    let ambito = AmbitoElenco::EnteComune(m.ente_asl, m.milano);
    let st = leggi(s, ambito, 2, 15, Periodo::Settimana, Ripartizione::Utente).await;
    let utenti: Vec<&str> = st
        .voci
        .iter()
        .map(|v| v.gruppo.etichetta.as_str())
        .collect();
    assert_eq!(utenti, ["anna.neri"]);
    assert_eq!(st.fonte_quota, FonteQuota::ChiamateAmbito);
    let quote: Vec<(&str, i64)> = st
        .quote
        .iter()
        .map(|q| (q.servizio.as_str(), q.usate))
        .collect();
    assert_eq!(quote, [("C019", 1), ("C020", 1), ("C030", 2)]);
    // The Polizia Locale's ADMIN (Ente scope without a Comune): R1, R2, R5, R4 only.
    let st = leggi(
        s,
        AmbitoElenco::Ente(m.ente_pl),
        2,
        15,
        Periodo::Mese,
        Ripartizione::Totale,
    )
    .await;
    assert_eq!((st.totali[0].1.richieste, st.totali[0].1.chiamate), (4, 10));
}
