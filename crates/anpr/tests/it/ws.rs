//! The Comune channel end to end over loopback: `WsClient` (and, where the client cannot be
//! made to misbehave, messages it signs and the test then spoils) against the simulator's
//! 3002 and TestConn, which checks everything with its own code.

use anpr::archivio::{ArchivioIdOperazione, ArchivioMemoria, IdOperazione};
use anpr::security::{Orologio, OrologioSistema};
use anpr::ws::client::{
    DatiWs, ErroreCanaleWs, Esito3002, OpzioniWs, Risposta3002Classificata, WsClient,
};
use anpr::ws::config::WsConfig;
use anpr::ws::messaggi::{CriterioWs, Richiesta3002, RilascioCi, richiesta_3002};
use anpr::ws::sicurezza::imbusta;
use anpr_sim::popolazione::LuogoResidenza;
use anpr_sim::{CertificatiWs, ComuneWs, ConfigWs, SimConfig, SimHandle, emetti_certificati_ws};
use chrono::NaiveDate;
use serde_json::Value;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};
use tempfile::TempDir;

const ISTAT: &str = "058091";
const OPERATORE: &str = "RSSMRA80A01H501U";
/// A valid CF the simulator's Comune has not enabled.
const ALTRO_OPERATORE: &str = "VRDGPP70C15F205N";

/// Certificates 1 are registered with the simulator; 2 are from the same CA but unknown to it.
fn certificati(n: u16) -> &'static CertificatiWs {
    static UNO: OnceLock<CertificatiWs> = OnceLock::new();
    static DUE: OnceLock<CertificatiWs> = OnceLock::new();
    match n {
        1 => UNO.get_or_init(|| emetti_certificati_ws(ISTAT, 1)),
        _ => DUE.get_or_init(|| emetti_certificati_ws(ISTAT, 2)),
    }
}

fn data() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
}

/// A clock the test can move (stale timestamps, fresh operation ids).
struct OrologioSpostabile(AtomicI64);

impl OrologioSpostabile {
    fn sposta_ms(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Orologio for OrologioSpostabile {
    fn adesso_ms(&self) -> i64 {
        chrono::Utc::now().timestamp_millis() + self.0.load(Ordering::SeqCst)
    }
}

struct Ambiente {
    sim: SimHandle,
    dir: TempDir,
}

async fn ambiente(personalizza: impl FnOnce(&mut ConfigWs)) -> Ambiente {
    let c = certificati(1);
    let mut ws = ConfigWs {
        comuni: vec![ComuneWs {
            istat: ISTAT.into(),
            certificati: vec![c.co_cert_pem.clone()],
            postazioni: vec![c.pc_cert_pem.clone()],
            operatori: vec![OPERATORE.into()],
            indirizzi: None,
        }],
        ..ConfigWs::default()
    };
    personalizza(&mut ws);
    let config = SimConfig {
        seed: 11,
        population: 5_000,
        ws,
        ..SimConfig::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim = anpr_sim::avvia(config, listener).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    for n in [1, 2] {
        let c = certificati(n);
        for (nome, testo) in [
            ("co", &c.co_cert_pem),
            ("co-key", &c.co_key_pem),
            ("pc", &c.pc_cert_pem),
            ("pc-key", &c.pc_key_pem),
        ] {
            std::fs::write(dir.path().join(format!("{nome}-{n}.pem")), testo).unwrap();
        }
    }
    Ambiente { sim, dir }
}

impl Ambiente {
    /// `[anpr_ws]` for the simulator; `modifica` edits the text (to plant a mistake).
    fn config(&self, modifica: impl FnOnce(String) -> String) -> WsConfig {
        let testo = format!(
            "[anpr_ws]\nendpoint = \"{}\"\ntipo_invio = \"TEST\"\ncert_file = \"co-1.pem\"\n\
             key_file = \"co-key-1.pem\"\npostazione_cert_file = \"pc-1.pem\"\n\
             postazione_key_file = \"pc-key-1.pem\"\noperator_cf = \"{OPERATORE}\"\nid_sede = \"{ISTAT}\"\n\
             id_applicazione = \"RIVESTO\"\nsignature_alg = \"rsa-sha256\"\nid_prefix = \"9\"\n\
             id_length = 20\nuse_for = [\"CI\", \"PDS\", \"PASS\"]\ntimeout_s = 5\n",
            self.sim.endpoint_ws()
        );
        WsConfig::opzionale(&modifica(testo), self.dir.path())
            .unwrap()
            .unwrap()
    }

    fn client(&self, config: WsConfig) -> WsClient {
        let orologio: Arc<dyn Orologio> = Arc::new(OrologioSistema);
        WsClient::new(
            config,
            Arc::new(ArchivioMemoria::new(orologio.clone())),
            orologio,
        )
        .unwrap()
    }

    fn ultimo_motivo(&self) -> String {
        self.sim
            .richieste_ricevute()
            .last()
            .and_then(|r| r.motivo.clone())
            .unwrap_or_default()
    }

    /// A Richiesta3002 signed as the configured Comune, posted as it is or after `spoil`.
    async fn posta_firmata(
        &self,
        config: &WsConfig,
        corpo: &str,
        spoil: impl FnOnce(String) -> String,
    ) -> (u16, String) {
        let busta = imbusta(corpo, &config.identita, "127.0.0.1", chrono::Utc::now()).unwrap();
        let r = reqwest::Client::new()
            .post(self.sim.url_3002())
            .header("Content-Type", "text/xml; charset=UTF-8")
            .body(spoil(busta))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }
}

fn dati(ricerca_nazionale: bool) -> DatiWs {
    DatiWs {
        data_riferimento: data(),
        dati_richiesti: vec![2],
        ricerca_nazionale,
        protocollo: None,
    }
}

fn chiave() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn cf_di(v: &Value) -> String {
    v.pointer("/generalita/codiceFiscale/codFiscale")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

async fn consulta(
    client: &WsClient,
    criterio: CriterioWs,
    nazionale: bool,
) -> Risposta3002Classificata {
    client
        .consulta(criterio, &dati(nazionale), &chiave())
        .await
        .unwrap()
}

fn trovato(r: &Risposta3002Classificata) -> &Value {
    match &r.esito {
        Esito3002::Trovato(v) => v,
        altro => panic!("atteso Trovato, ricevuto {altro:?}"),
    }
}

/// A body the client would never write, for the rules its types rule out.
fn corpo_a_mano(id: &str, criteri: &str) -> String {
    format!(
        "<ns2:Richiesta3002 xmlns:ns2=\"http://sogei.it/ANPR/3000consultazione\"><testataRichiesta>\
         <idOperazioneComune>{id}</idOperazioneComune><codMittente>{ISTAT}</codMittente>\
         <codDestinatario>ANPR05</codDestinatario><operazioneRichiesta>3002</operazioneRichiesta>\
         <dataOraRichiesta>2026-01-01T10:00:00+01:00</dataOraRichiesta><tipoOperazione>C</tipoOperazione>\
         <tipoInvio>TEST</tipoInvio></testataRichiesta><criteriRicerca>{criteri}</criteriRicerca>\
         <datiRichiesta><schedaAnagraficaRichiesta>1</schedaAnagraficaRichiesta>\
         <dataRiferimentoRichiesta>2026-01-01</dataRiferimentoRichiesta>\
         <datiAnagraficiRichiesti>2</datiAnagraficiRichiesti><ricercaNazionale>1</ricercaNazionale>\
         </datiRichiesta></ns2:Richiesta3002>"
    )
}

fn codici(risposta: &str) -> Vec<String> {
    risposta
        .split("<codiceErroreAnomalia>")
        .skip(1)
        .map(|s| s.split('<').next().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn ogni_tipo_di_identificativo_trova_la_persona() {
    let amb = ambiente(|_| {}).await;
    let client = amb.client(amb.config(|t| t));
    let e = amb.sim.esempi();
    let (cf, id_anpr) = e.normali[0].clone();
    let r = consulta(&client, CriterioWs::CodiceFiscale(cf.clone()), true).await;
    assert_eq!(cf_di(trovato(&r)), cf);
    let r = consulta(&client, CriterioWs::IdAnpr(id_anpr.clone()), true).await;
    assert_eq!(
        trovato(&r).pointer("/identificativi/idANPR"),
        Some(&Value::from(id_anpr))
    );
    // A CIE and a paper card.
    let mut visti = Vec::new();
    for (cf, numero) in &e.carte_identita {
        let carta = amb.sim.soggetto_per_cf(cf).unwrap().carta_identita.unwrap();
        if visti.contains(&carta.elettronica) {
            continue;
        }
        visti.push(carta.elettronica);
        let r = consulta(
            &client,
            CriterioWs::CartaIdentita {
                numero: numero.clone(),
                rilascio: None,
            },
            true,
        )
        .await;
        let v = trovato(&r);
        assert_eq!(&cf_di(v), cf);
        assert_eq!(
            v.pointer("/cartaIdentita/cartaceaElettronica"),
            Some(&Value::from(if carta.elettronica {
                anpr_sim::ws::ELETTRONICA
            } else {
                anpr_sim::ws::CARTACEA
            }))
        );
    }
    assert_eq!(visti.len(), 2, "servono una CIE e una carta cartacea");
    let (cf, questura, numero) = e.permessi[0].clone();
    let r = consulta(&client, CriterioWs::Permesso { questura, numero }, true).await;
    assert_eq!(cf_di(trovato(&r)), cf);
    let (cf, numero) = e.passaporti[0].clone();
    let r = consulta(&client, CriterioWs::Passaporto(numero.clone()), true).await;
    let v = trovato(&r);
    assert_eq!(cf_di(v), cf);
    assert_eq!(
        v.pointer("/permessoSoggiorno/numeroPassaporto"),
        Some(&Value::from(numero))
    );
    assert_eq!(amb.sim.chiamate_ws_comune(ISTAT), 6);
}

#[tokio::test]
async fn la_carta_d_identita_con_il_comune_di_rilascio() {
    let amb = ambiente(|_| {}).await;
    let client = amb.client(amb.config(|t| t));
    let e = amb.sim.esempi();
    let (cf, numero, (nome, istat, sigla)) = e
        .carte_identita
        .iter()
        .find_map(|(cf, n)| {
            let c = amb.sim.soggetto_per_cf(cf)?.carta_identita?;
            Some((cf.clone(), n.clone(), c.comune_rilascio?))
        })
        .unwrap();
    let giusto = RilascioCi::Comune {
        nome: nome.clone(),
        codice_istat: istat.clone(),
        sigla_provincia: sigla.clone(),
    };
    let r = consulta(
        &client,
        CriterioWs::CartaIdentita {
            numero: numero.clone(),
            rilascio: Some(giusto),
        },
        true,
    )
    .await;
    assert_eq!(cf_di(trovato(&r)), cf);
    // Another issuing Comune: not this card.
    let sbagliato = RilascioCi::Comune {
        nome: "ZZZ".into(),
        codice_istat: if istat == "001272" {
            "058091"
        } else {
            "001272"
        }
        .into(),
        sigla_provincia: "TO".into(),
    };
    let r = consulta(
        &client,
        CriterioWs::CartaIdentita {
            numero,
            rilascio: Some(sbagliato),
        },
        true,
    )
    .await;
    assert!(matches!(r.esito, Esito3002::NonTrovato { .. }), "{r:?}");
}

#[tokio::test]
async fn nessuno_e_piu_soggetti() {
    let amb = ambiente(|_| {}).await;
    let client = amb.client(amb.config(|t| t));
    let r = consulta(&client, CriterioWs::Passaporto("NONESISTE1".into()), true).await;
    assert_eq!(
        r.esito,
        Esito3002::NonTrovato {
            codice: Some("EN122".into()),
            testo: Some("La richiesta effettuata non produce alcun risultato".into()),
        }
    );
    assert!(r.anomalie.iter().any(|a| a.codice == "EN527"));
    let (numero, _) = amb.sim.esempi().documento_condiviso;
    let r = consulta(
        &client,
        CriterioWs::CartaIdentita {
            numero,
            rilascio: None,
        },
        true,
    )
    .await;
    assert_eq!(r.esito, Esito3002::Ambiguo(2));
}

#[tokio::test]
async fn le_regole_dei_criteri_per_documento() {
    let amb = ambiente(|_| {}).await;
    let config = amb.config(|t| t);
    let client = amb.client(config.clone());
    let (_, numero) = amb.sim.esempi().carte_identita[0].clone();
    amb.sim.imposta_richiedi_rilascio_ci(true);
    let r = consulta(
        &client,
        CriterioWs::CartaIdentita {
            numero,
            rilascio: None,
        },
        true,
    )
    .await;
    match r.esito {
        Esito3002::Errore { codice, testo } => {
            assert_eq!(codice, "EHR41");
            assert!(testo.contains("comune o il consolato"), "{testo}");
        }
        altro => panic!("{altro:?}"),
    }
    amb.sim.imposta_richiedi_rilascio_ci(false);
    // EHR67 and EHR68: bodies the client's types cannot express.
    let casi = [
        (
            "<permessoDiSoggiorno3000><numeroPassaporto>YA1</numeroPassaporto><datiSoggiorno30XX>\
             <questuraRilascioSoggiorno>ROMA</questuraRilascioSoggiorno><numeroSoggiorno>I1</numeroSoggiorno>\
             </datiSoggiorno30XX></permessoDiSoggiorno3000>",
            "EHR67",
        ),
        (
            "<permessoDiSoggiorno3000></permessoDiSoggiorno3000>",
            "EHR67",
        ),
        (
            "<permessoDiSoggiorno3000><datiSoggiorno30XX><numeroSoggiorno>I1</numeroSoggiorno>\
             </datiSoggiorno30XX></permessoDiSoggiorno3000>",
            "EHR68",
        ),
        (
            "<permessoDiSoggiorno3000><datiSoggiorno30XX><questuraRilascioSoggiorno>ROMA\
             </questuraRilascioSoggiorno></datiSoggiorno30XX></permessoDiSoggiorno3000>",
            "EHR68",
        ),
    ];
    for (i, (criteri, atteso)) in casi.iter().enumerate() {
        let id = format!("9{:019}", 10_000_000_000_000_000u64 + i as u64);
        let (stato, r) = amb
            .posta_firmata(&config, &corpo_a_mano(&id, criteri), |b| b)
            .await;
        assert_eq!(stato, 200);
        assert_eq!(codici(&r), [*atteso, "EN527"], "{r}");
    }
}

/// DESIGN §4's 3002 rows, each through the client's classification.
#[tokio::test]
async fn ogni_riga_3002_della_tabella_delle_risposte() {
    let amb = ambiente(|_| {}).await;
    let client = amb.client(amb.config(|t| t));
    let (cf, _) = amb.sim.esempi().normali[0].clone();
    let criterio = || CriterioWs::CodiceFiscale(cf.clone());
    for codice in ["EN122", "EN130", "EN133"] {
        amb.sim.forza_ko_ws(codice, "Nessun soggetto trovato");
        let r = consulta(&client, criterio(), true).await;
        assert!(
            matches!(&r.esito, Esito3002::NonTrovato { codice: Some(c), .. } if c == codice),
            "{codice}: {r:?}"
        );
    }
    for codice in ["EN204", "EN210"] {
        amb.sim
            .forza_ko_ws(codice, "Operazione non effettuabile. Comune non competente");
        let r = consulta(&client, criterio(), true).await;
        assert_eq!(
            r.esito,
            Esito3002::FuoriAmbito {
                codice: codice.into()
            }
        );
    }
    for codice in ["EN095", "EN115"] {
        amb.sim.forza_ko_ws(codice, "piu' cittadini");
        let r = consulta(&client, criterio(), true).await;
        assert_eq!(r.esito, Esito3002::Ambiguo(0), "{codice}");
    }
    for (codice, spiegazione) in [
        ("EHR67", "o il numero del passaporto"),
        ("EHR68", "sia la questura"),
        ("EN492", "Solo il comune competente"),
    ] {
        amb.sim.forza_ko_ws(
            codice,
            "Solo il comune competente puo' consultare una famiglia",
        );
        let r = consulta(&client, criterio(), true).await;
        match r.esito {
            Esito3002::Errore { codice: c, testo } => {
                assert_eq!(c, codice);
                assert!(testo.contains(spiegazione), "{testo}");
            }
            altro => panic!("{codice}: {altro:?}"),
        }
        // The first code that is not EN527 decides; EN527 stays among the anomalies, and the
        // idOperazioneANPR is kept.
        assert!(r.anomalie.iter().any(|a| a.codice == "EN527"));
        assert!(r.id_operazione_anpr.is_some());
    }
    // The SOAP faults: the whole request stops.
    let config = amb.config(|t| t.replace(OPERATORE, ALTRO_OPERATORE));
    let err = amb
        .client(config)
        .consulta(criterio(), &dati(true), &chiave())
        .await
        .unwrap_err();
    assert!(err.ferma_richiesta());
    assert!(err.to_string().contains("Rejected by policy"), "{err}");
}

/// Builds the client for a configuration the simulator refuses, and checks the fault, the
/// client's FALLITA and the reason the simulator logged.
async fn rifiutata(amb: &Ambiente, config: WsConfig, motivo: &str) {
    let (cf, _) = amb.sim.esempi().normali[0].clone();
    let err = amb
        .client(config)
        .consulta(CriterioWs::CodiceFiscale(cf), &dati(true), &chiave())
        .await
        .unwrap_err();
    match &err {
        ErroreCanaleWs::Fallita {
            spiegazione,
            risposta,
        } => {
            assert!(
                risposta.contains("Rejected by policy. (from client)"),
                "{risposta}"
            );
            assert!(spiegazione.contains("operator_cf"), "{spiegazione}");
        }
        altro => panic!("{altro:?}"),
    }
    let log = amb.sim.richieste_ricevute().pop().unwrap();
    assert_eq!(log.stato, 500);
    assert!(
        log.motivo.as_deref().unwrap_or_default().contains(motivo),
        "{:?}",
        log.motivo
    );
}

#[tokio::test]
async fn ogni_controllo_di_sicurezza_ha_il_suo_rifiuto() {
    let amb = ambiente(|_| {}).await;
    // Unknown certificate: the Comune's certificate 2 is not registered.
    let config = amb.config(|t| {
        t.replace("co-1.pem", "co-2.pem")
            .replace("co-key-1", "co-key-2")
    });
    rifiutata(&amb, config, "non è tra quelli del Comune").await;
    // IdPostazioneFirmato signed by a workstation the Comune did not register.
    let config = amb.config(|t| {
        t.replace("pc-1.pem", "pc-2.pem")
            .replace("pc-key-1", "pc-key-2")
    });
    rifiutata(&amb, config, "postazione non registrata").await;
    // IdPostazioneFirmato made by a registered workstation, but over an IdPostazione that is
    // not that workstation's CN (the settings refuse this; the identity is forged here).
    let mut config = amb.config(|t| t);
    config.identita.id_postazione = format!("{ISTAT}-PC-9999");
    rifiutata(&amb, config, "il CN della postazione non è l'IdPostazione").await;
    // Operator not enabled.
    let config = amb.config(|t| t.replace(OPERATORE, ALTRO_OPERATORE));
    rifiutata(&amb, config, "non abilitato").await;
    // IdSede of another Comune (codMittente follows it: that Comune is not registered).
    let config = amb.config(|t| t.replace("id_sede = \"058091\"", "id_sede = \"015146\""));
    rifiutata(&amb, config, "non è registrato").await;
    assert_eq!(amb.sim.chiamate_ws_comune(ISTAT), 0);
}

#[tokio::test]
async fn un_timestamp_vecchio_e_rifiutato() {
    let amb = ambiente(|_| {}).await;
    let orologio = Arc::new(OrologioSpostabile(AtomicI64::new(0)));
    orologio.sposta_ms(-10 * 60 * 1000);
    let client = WsClient::new(
        amb.config(|t| t),
        Arc::new(ArchivioMemoria::new(orologio.clone())),
        orologio,
    )
    .unwrap();
    let (cf, _) = amb.sim.esempi().normali[0].clone();
    let err = client
        .consulta(CriterioWs::CodiceFiscale(cf), &dati(true), &chiave())
        .await
        .unwrap_err();
    assert!(err.ferma_richiesta());
    assert!(err.to_string().contains("Rejected by policy"), "{err}");
    assert!(
        amb.ultimo_motivo().starts_with("Timestamp:"),
        "{}",
        amb.ultimo_motivo()
    );
}

#[tokio::test]
async fn l_indirizzo_di_origine_non_registrato_e_rifiutato() {
    let amb = ambiente(|ws| {
        ws.comuni[0].indirizzi = Some(vec!["10.9.9.9".parse().unwrap()]);
    })
    .await;
    rifiutata(&amb, amb.config(|t| t), "indirizzo di origine 127.0.0.1").await;
    let amb = ambiente(|ws| {
        ws.comuni[0].indirizzi = Some(vec!["127.0.0.1".parse().unwrap()]);
    })
    .await;
    let (cf, _) = amb.sim.esempi().normali[0].clone();
    let r = consulta(
        &amb.client(amb.config(|t| t)),
        CriterioWs::CodiceFiscale(cf),
        true,
    )
    .await;
    assert!(matches!(r.esito, Esito3002::Trovato(_)));
}

#[tokio::test]
async fn firma_alterata_e_corpo_non_firmato() {
    let amb = ambiente(|_| {}).await;
    let config = amb.config(|t| t);
    let (cf, _) = amb.sim.esempi().normali[0].clone();
    let (altro, _) = amb.sim.esempi().normali[1].clone();
    let corpo = corpo_a_mano(
        "91000000000000000000",
        &format!("<codiceFiscale>{cf}</codiceFiscale>"),
    );
    // The body changed after signing.
    let (stato, r) = amb
        .posta_firmata(&config, &corpo, |b| b.replace(&cf, &altro))
        .await;
    assert_eq!(stato, 500);
    assert!(
        r.contains("<faultstring>Rejected by policy. (from client)</faultstring>"),
        "{r}"
    );
    assert!(amb.ultimo_motivo().contains("firma del messaggio"));
    // A signature value changed.
    let (stato, r) = amb
        .posta_firmata(&config, &corpo, |b| {
            let (prima, dopo) = b.rsplit_once("<ds:SignatureValue>").unwrap();
            let mut dopo = dopo.to_owned();
            let c = if dopo.starts_with('A') { "B" } else { "A" };
            dopo.replace_range(0..1, c);
            format!("{prima}<ds:SignatureValue>{dopo}")
        })
        .await;
    assert_eq!(stato, 500);
    assert!(r.contains("Rejected by policy"), "{r}");
    // No message signature at all: the Body is unsigned.
    let (stato, r) = amb
        .posta_firmata(&config, &corpo, |b| {
            let inizio = b.rfind("<ds:Signature ").unwrap();
            let fine = b.rfind("</ds:Signature>").unwrap() + "</ds:Signature>".len();
            format!("{}{}", &b[..inizio], &b[fine..])
        })
        .await;
    assert_eq!(stato, 500);
    assert!(
        r.contains("<faultstring>Internal Error</faultstring>"),
        "{r}"
    );
    assert!(
        amb.ultimo_motivo()
            .contains("ds:Signature del messaggio assente")
    );
    // What the client makes of this fault: FALLITA, with the likely cause.
    match anpr::ws::messaggi::leggi_risposta(&r).unwrap() {
        anpr::ws::messaggi::RispostaSoap::Fault { codice, testo } => {
            assert_eq!(
                (codice.as_str(), testo.as_str()),
                ("soapenv:Client", "Internal Error")
            );
            assert!(anpr::ws::client::spiegazione_fault(&testo).contains("firma"));
        }
        altro => panic!("{altro:?}"),
    }
    assert_eq!(amb.sim.chiamate_ws_comune(ISTAT), 0);
}

#[tokio::test]
async fn solo_i_residenti_con_ricerca_nazionale_zero() {
    let amb = ambiente(|_| {}).await;
    let client = amb.client(amb.config(|t| t));
    let residente = |s: &anpr_sim::Soggetto| {
        matches!(
            s.residenza_al(data()).map(|r| &r.luogo),
            Some(LuogoResidenza::Italia { istat, .. }) if istat == ISTAT
        )
    };
    let mut dentro = None;
    let mut fuori = None;
    for i in 0..5_000 {
        let s = amb.sim.popolazione().sintetico(i).unwrap();
        if !s.esiste_al(data()) || s.deceduto_al(data()).is_some() {
            continue;
        }
        if residente(&s) {
            dentro.get_or_insert(s.codice_fiscale.clone());
        } else {
            fuori.get_or_insert(s.codice_fiscale.clone());
        }
    }
    let (dentro, fuori) = (dentro.unwrap(), fuori.unwrap());
    let r = consulta(&client, CriterioWs::CodiceFiscale(dentro.clone()), false).await;
    assert_eq!(cf_di(trovato(&r)), dentro);
    let r = consulta(&client, CriterioWs::CodiceFiscale(fuori.clone()), false).await;
    assert!(
        matches!(&r.esito, Esito3002::NonTrovato { codice: Some(c), .. } if c == "EN122"),
        "{r:?}"
    );
    amb.sim.imposta_en210_non_residenti(true);
    let r = consulta(&client, CriterioWs::CodiceFiscale(fuori.clone()), false).await;
    assert_eq!(
        r.esito,
        Esito3002::FuoriAmbito {
            codice: "EN210".into()
        }
    );
    let r = consulta(&client, CriterioWs::CodiceFiscale(fuori.clone()), true).await;
    assert_eq!(cf_di(trovato(&r)), fuori);
}

#[tokio::test]
async fn un_id_ripetuto_ha_la_risposta_memorizzata_senza_nuova_ricerca() {
    let amb = ambiente(|_| {}).await;
    // The engine keeps the key until the row is stored: a call redone after a crash reuses it.
    let client = amb.client(amb.config(|t| t)).con_opzioni(OpzioniWs {
        completa_dopo_registrazione: true,
        ..OpzioniWs::default()
    });
    let (cf, _) = amb.sim.esempi().normali[0].clone();
    let k = chiave();
    let prima = client
        .consulta(CriterioWs::CodiceFiscale(cf.clone()), &dati(true), &k)
        .await
        .unwrap();
    let seconda = client
        .consulta(CriterioWs::CodiceFiscale(cf), &dati(true), &k)
        .await
        .unwrap();
    assert_eq!(prima.id_operazione_comune, seconda.id_operazione_comune);
    assert_eq!(prima.esito, seconda.esito);
    assert_eq!(prima.id_operazione_anpr, seconda.id_operazione_anpr);
    assert_eq!(amb.sim.chiamate_ws_comune(ISTAT), 2);
    assert_eq!(amb.sim.ricerche_ws_comune(ISTAT), 1);
    let risposte: Vec<String> = amb
        .sim
        .richieste_ricevute()
        .into_iter()
        .map(|r| r.risposta)
        .collect();
    assert_eq!(risposte[0], risposte[1], "the same bytes");
}

#[tokio::test]
async fn un_id_basso_e_riprovato_una_volta_con_un_id_nuovo() {
    let amb = ambiente(|_| {}).await;
    let config = amb.config(|t| t);
    let orologio = Arc::new(OrologioSpostabile(AtomicI64::new(0)));
    let archivio = Arc::new(ArchivioMemoria::new(orologio.clone()));
    let client = WsClient::new(config.clone(), archivio.clone(), orologio.clone()).unwrap();
    let (cf, _) = amb.sim.esempi().normali[0].clone();
    // The call's id is drawn (and stored) now…
    let k = chiave();
    let id = archivio.id_per(&k).unwrap();
    // …then the Comune's own software sends a higher one…
    let piu_alto = config.id_operazione(IdOperazione(id.0 + 500)).unwrap();
    let corpo = richiesta_3002(&Richiesta3002 {
        id_operazione_comune: piu_alto,
        cod_mittente: ISTAT.into(),
        data_ora: chrono::Utc::now().fixed_offset(),
        protocollo_comune: None,
        tipo_invio: "TEST".into(),
        criterio: CriterioWs::CodiceFiscale(cf.clone()),
        data_riferimento: data(),
        dati_richiesti: vec![2],
        ricerca_nazionale: true,
        applicativo: ("Gestionale".into(), "1.0".into(), "Fornitore".into()),
    });
    let (stato, _) = amb.posta_firmata(&config, &corpo, |b| b).await;
    assert_eq!(stato, 200);
    // …and our call goes out later with the stored, now low, id.
    orologio.sposta_ms(10_000);
    let r = client
        .consulta(CriterioWs::CodiceFiscale(cf.clone()), &dati(true), &k)
        .await
        .unwrap();
    assert_eq!(cf_di(trovato(&r)), cf);
    assert_eq!(r.tentativi, 2);
    assert_ne!(r.id_operazione_comune, config.id_operazione(id).unwrap());
    let log = amb.sim.richieste_ricevute();
    assert_eq!(log.len(), 3);
    assert_eq!(
        codici(&log[1].risposta),
        [anpr_sim::CODICE_ID_INFERIORE, "EN527"]
    );
    assert_eq!(amb.sim.ricerche_ws_comune(ISTAT), 2);
}

#[tokio::test]
async fn entrambi_gli_algoritmi_di_firma() {
    let amb = ambiente(|_| {}).await;
    let (cf, _) = amb.sim.esempi().normali[0].clone();
    for (alg, uri) in [
        (
            "rsa-sha256",
            "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        ),
        ("rsa-sha1", "http://www.w3.org/2000/09/xmldsig#rsa-sha1"),
    ] {
        let config = amb.config(|t| t.replace("rsa-sha256", alg));
        let r = consulta(
            &amb.client(config),
            CriterioWs::CodiceFiscale(cf.clone()),
            true,
        )
        .await;
        assert_eq!(cf_di(trovato(&r)), cf);
        let corpo = amb.sim.richieste_ricevute().pop().unwrap().corpo;
        assert!(corpo.contains(uri), "{alg}");
    }
}

#[tokio::test]
async fn test_conn_prova_certificati_operatore_e_indirizzo() {
    let amb = ambiente(|_| {}).await;
    let t = amb.client(amb.config(|t| t)).test_conn().await.unwrap();
    assert_eq!(t.esito_operazione.as_deref(), Some("0000"));
    assert_eq!(t.cod_mittente.as_deref(), Some(ISTAT));
    let voce = amb.sim.richieste_ricevute().pop().unwrap();
    assert_eq!(voce.servizio.as_deref(), Some("TestConn"));
    let err = amb
        .client(amb.config(|t| t.replace(OPERATORE, ALTRO_OPERATORE)))
        .test_conn()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("Rejected by policy"), "{err}");
}

/// `rivesto anpr-sim init` writes what `rivesto anpr check --ws` needs: the simulator started
/// from the clients file accepts the `[anpr_ws]` of the `anpr.toml` next to it.
#[tokio::test]
async fn i_file_di_init_bastano_a_anpr_check_ws() {
    use anpr::ws::check::{OpzioniCheckWs, esegui_check_ws};
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let f = anpr_sim::init::scrivi(dir.path(), listener.local_addr().unwrap()).unwrap();
    let config = SimConfig {
        population: 3_000,
        ..SimConfig::from_clients_file(&f.clienti).unwrap()
    };
    let sim = anpr_sim::avvia(config, listener).await.unwrap();
    let dati = dir.path().join("dati");
    let mut out = Vec::new();
    let opzioni = OpzioniCheckWs {
        criterio: None,
        motivo: "verifica".into(),
    };
    let r = esegui_check_ws(&f.anpr_toml, &dati, &opzioni, &mut out).await;
    let testo = String::from_utf8_lossy(&out).into_owned();
    assert_eq!(r.unwrap(), None, "{testo}");
    assert!(testo.contains("TestConn: risposta ricevuta"), "{testo}");
    // A lookup by CF of a resident of the demo Comune (the check searches residents only).
    let oggi = chrono::Utc::now().date_naive();
    let residente = (0..3_000)
        .filter_map(|i| sim.popolazione().sintetico(i))
        .find(|s| {
            s.esiste_al(oggi)
                && matches!(
                    s.residenza_al(oggi).map(|r| &r.luogo),
                    Some(LuogoResidenza::Italia { istat, .. }) if istat == anpr_sim::init::ISTAT_WS
                )
        })
        .unwrap();
    let opzioni = OpzioniCheckWs {
        criterio: Some(CriterioWs::CodiceFiscale(residente.codice_fiscale.clone())),
        motivo: "verifica".into(),
    };
    let mut out = Vec::new();
    let id = esegui_check_ws(&f.anpr_toml, &dati, &opzioni, &mut out)
        .await
        .unwrap();
    assert_eq!(id, Some(residente.id_anpr));
    assert_eq!(sim.chiamate_ws_comune(anpr_sim::init::ISTAT_WS), 1);
}
