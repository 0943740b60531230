//! The Comune channel of the simulator alone, over loopback: messages signed with the client's
//! `imbusta` (the simulator verifies them with its own code), bodies written by hand so that
//! each can be spoilt on purpose.

use anpr::ws::credenziali::Credenziali;
use anpr::ws::sicurezza::{AlgoritmoFirma, IdentitaWs, imbusta};
use anpr_sim::{CertificatiWs, ComuneWs, ConfigWs, SimConfig, SimHandle, emetti_certificati_ws};
use std::sync::OnceLock;

const ISTAT: &str = "058091";
const OPERATORE: &str = "RSSMRA80A01H501U";

fn certificati() -> &'static CertificatiWs {
    static C: OnceLock<CertificatiWs> = OnceLock::new();
    C.get_or_init(|| emetti_certificati_ws(ISTAT, 1))
}

fn comune() -> ComuneWs {
    let c = certificati();
    ComuneWs {
        istat: ISTAT.into(),
        certificati: vec![c.co_cert_pem.clone()],
        postazioni: vec![c.pc_cert_pem.clone()],
        operatori: vec![OPERATORE.into()],
        indirizzi: None,
    }
}

fn identita() -> IdentitaWs {
    let c = certificati();
    IdentitaWs {
        comune: Credenziali::da_pem(c.co_cert_pem.as_bytes(), c.co_key_pem.as_bytes()).unwrap(),
        postazione: Credenziali::da_pem(c.pc_cert_pem.as_bytes(), c.pc_key_pem.as_bytes()).unwrap(),
        operatore_cf: OPERATORE.into(),
        id_sede: ISTAT.into(),
        id_postazione: CertificatiWs::id_postazione(ISTAT, 1),
        id_applicazione: "RIVESTO".into(),
        algoritmo: AlgoritmoFirma::RsaSha256,
    }
}

struct Ctx {
    sim: SimHandle,
    http: reqwest::Client,
}

async fn avvia() -> Ctx {
    let config = SimConfig {
        seed: 7,
        population: 5_000,
        ws: ConfigWs {
            comuni: vec![comune()],
            ..ConfigWs::default()
        },
        ..SimConfig::default()
    };
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    Ctx {
        sim: anpr_sim::avvia(config, l).await.unwrap(),
        http: reqwest::Client::new(),
    }
}

const DATI: &str = "<datiRichiesta><schedaAnagraficaRichiesta>1</schedaAnagraficaRichiesta>\
    <dataRiferimentoRichiesta>2026-01-01</dataRiferimentoRichiesta>\
    <datiAnagraficiRichiesti>1</datiAnagraficiRichiesti><ricercaNazionale>1</ricercaNazionale></datiRichiesta>";

fn testata(id: &str) -> String {
    format!(
        "<testataRichiesta><idOperazioneComune>{id}</idOperazioneComune><codMittente>{ISTAT}</codMittente>\
         <codDestinatario>ANPR05</codDestinatario><operazioneRichiesta>3002</operazioneRichiesta>\
         <dataOraRichiesta>2026-01-01T10:00:00.000+01:00</dataOraRichiesta><tipoOperazione>C</tipoOperazione>\
         <tipoInvio>TEST</tipoInvio></testataRichiesta>"
    )
}

fn richiesta(testata: &str, criteri: &str, dati: &str) -> String {
    format!(
        "<ns2:Richiesta3002 xmlns:ns2=\"http://sogei.it/ANPR/3000consultazione\">{testata}\
         <criteriRicerca>{criteri}</criteriRicerca>{dati}</ns2:Richiesta3002>"
    )
}

impl Ctx {
    async fn posta(&self, url: &str, busta: String) -> (u16, String) {
        let r = self
            .http
            .post(url)
            .header("Content-Type", "text/xml; charset=UTF-8")
            .header("SOAPAction", "\"\"")
            .body(busta)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    /// Signs `corpo` and posts it to 3002.
    async fn chiama(&self, corpo: &str) -> (u16, String) {
        let busta = imbusta(corpo, &identita(), "127.0.0.1", chrono::Utc::now()).unwrap();
        self.posta(&self.sim.url_3002(), busta).await
    }

    fn ultimo_motivo(&self) -> Option<String> {
        self.sim.richieste_ricevute().last().unwrap().motivo.clone()
    }
}

fn codici(risposta: &str) -> Vec<String> {
    risposta
        .split("<codiceErroreAnomalia>")
        .skip(1)
        .map(|s| s.split('<').next().unwrap().to_owned())
        .collect()
}

fn campo<'a>(risposta: &'a str, nome: &str) -> &'a str {
    let inizio = format!("<{nome}>");
    let da = risposta.find(&inizio).unwrap() + inizio.len();
    let a = risposta[da..].find('<').unwrap();
    &risposta[da..da + a]
}

#[tokio::test]
async fn una_ricerca_per_codice_fiscale_risponde_ok_con_la_scheda() {
    let ctx = avvia().await;
    let (cf, id_anpr) = ctx.sim.esempi().normali[0].clone();
    let corpo = richiesta(
        &testata("1001"),
        &format!("<codiceFiscale>{cf}</codiceFiscale>"),
        DATI,
    );
    let (stato, r) = ctx.chiama(&corpo).await;
    assert_eq!(stato, 200, "{r}");
    assert!(r.starts_with(
        "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body>\
         <ns2:Risposta3002 xmlns:ns2=\"http://sogei.it/ANPR/3000consultazione\"><ns2:Risposta3002_OK>\
         <testataRisposta><idOperazioneComune>1001</idOperazioneComune><codMittente>058091</codMittente>"
    ));
    assert_eq!(campo(&r, "esitoOperazione"), "0000");
    assert_eq!(campo(&r, "idANPR"), id_anpr);
    assert_eq!(campo(&r, "codFiscale"), cf);
    assert!(!r.contains("wsse:Security"), "answers carry no WS-Security");
    assert_eq!(ctx.sim.chiamate_ws_comune(ISTAT), 1);
    assert_eq!(ctx.sim.ricerche_ws_comune(ISTAT), 1);
    let voce = ctx.sim.richieste_ricevute().pop().unwrap();
    assert_eq!(voce.servizio.as_deref(), Some("3002"));
    assert_eq!(voce.client_id.as_deref(), Some(ISTAT));
    assert_eq!(voce.risposta, r);
}

#[tokio::test]
async fn un_elemento_fuori_ordine_sconosciuto_o_mancante_da_en489() {
    let ctx = avvia().await;
    let (cf, id_anpr) = ctx.sim.esempi().normali[0].clone();
    let casi = [
        (
            // idANPR is the last element of criteriRicerca.
            richiesta(
                &testata("2001"),
                &format!("<idANPR>{id_anpr}</idANPR><codiceFiscale>{cf}</codiceFiscale>"),
                DATI,
            ),
            "codiceFiscale",
        ),
        (
            richiesta(
                &testata("2002"),
                &format!("<codiceFiscale>{cf}</codiceFiscale><numeroCarta>X</numeroCarta>"),
                DATI,
            ),
            "numeroCarta",
        ),
        (
            richiesta(
                &testata("2003"),
                &format!("<codiceFiscale>{cf}</codiceFiscale>"),
                "",
            ),
            "datiRichiesta",
        ),
        (
            richiesta(
                &testata("2004").replace("<tipoOperazione>C</tipoOperazione>", ""),
                &format!("<codiceFiscale>{cf}</codiceFiscale>"),
                DATI,
            ),
            "tipoOperazione",
        ),
        (
            richiesta(
                &testata("2005"),
                &format!("<codiceFiscale>{cf}</codiceFiscale>"),
                &DATI.replace("2026-01-01", "01/01/2026"),
            ),
            "dataRiferimentoRichiesta",
        ),
    ];
    for (corpo, elemento) in casi {
        let (stato, r) = ctx.chiama(&corpo).await;
        assert_eq!(stato, 200, "{r}");
        assert!(r.contains("<ns2:rispostaKO>"), "{r}");
        assert_eq!(codici(&r), ["EN489", "EN527"], "{elemento}: {r}");
        assert_eq!(campo(&r, "esitoOperazione"), "XXXX");
        let motivo = ctx.ultimo_motivo().unwrap();
        assert!(motivo.contains(elemento), "{elemento}: {motivo}");
    }
    assert_eq!(ctx.sim.ricerche_ws_comune(ISTAT), 0);
    assert_eq!(ctx.sim.chiamate_ws_comune(ISTAT), 5);
}

#[tokio::test]
async fn gli_errori_della_testata() {
    let ctx = avvia().await;
    let (cf, _) = ctx.sim.esempi().normali[0].clone();
    let criteri = format!("<codiceFiscale>{cf}</codiceFiscale>");
    let casi = [
        (
            "3001",
            "<codDestinatario>ANPR05<",
            "<codDestinatario>ANPR04<",
            "EN903",
        ),
        ("3002", "<tipoOperazione>C<", "<tipoOperazione>V<", "EHR26"),
        ("3003", "<tipoInvio>TEST<", "<tipoInvio>PROD<", "EN904"),
        (
            "3004",
            "<operazioneRichiesta>3002<",
            "<operazioneRichiesta>3003<",
            "SP000",
        ),
    ];
    for (id, da, a, atteso) in casi {
        let (_, r) = ctx
            .chiama(&richiesta(&testata(id).replace(da, a), &criteri, DATI))
            .await;
        assert_eq!(codici(&r), [atteso, "EN527"], "{r}");
        if atteso == "EN903" {
            // The request's header is echoed as sent.
            assert_eq!(campo(&r, "codDestinatario"), "ANPR04");
        }
    }
    assert_eq!(ctx.sim.ricerche_ws_comune(ISTAT), 0);
}

#[tokio::test]
async fn un_id_ripetuto_ha_la_stessa_risposta_e_un_id_basso_e_rifiutato() {
    let ctx = avvia().await;
    let e = ctx.sim.esempi();
    let (cf, _) = e.normali[0].clone();
    let (altro_cf, _) = e.normali[1].clone();
    let corpo = richiesta(
        &testata("5000"),
        &format!("<codiceFiscale>{cf}</codiceFiscale>"),
        DATI,
    );
    let (_, prima) = ctx.chiama(&corpo).await;
    // Same id, another person: the stored answer comes back byte for byte, no new lookup.
    let altro = richiesta(
        &testata("5000"),
        &format!("<codiceFiscale>{altro_cf}</codiceFiscale>"),
        DATI,
    );
    let (_, seconda) = ctx.chiama(&altro).await;
    assert_eq!(prima, seconda);
    assert_eq!(ctx.sim.ricerche_ws_comune(ISTAT), 1);
    assert_eq!(ctx.sim.chiamate_ws_comune(ISTAT), 2);
    // An unseen id below the highest: EN901 (the PDND simulator's code), not stored.
    let basso = richiesta(
        &testata("4999"),
        &format!("<codiceFiscale>{cf}</codiceFiscale>"),
        DATI,
    );
    let (_, r) = ctx.chiama(&basso).await;
    assert_eq!(codici(&r), [anpr_sim::CODICE_ID_INFERIORE, "EN527"]);
    let (_, r) = ctx.chiama(&basso).await;
    assert_eq!(codici(&r), [anpr_sim::CODICE_ID_INFERIORE, "EN527"]);
    // A non-numeric id: EN902.
    let lettere = richiesta(
        &testata("ABC"),
        &format!("<codiceFiscale>{cf}</codiceFiscale>"),
        DATI,
    );
    let (_, r) = ctx.chiama(&lettere).await;
    assert_eq!(codici(&r), [anpr_sim::CODICE_ID_NON_NUMERICO, "EN527"]);
    // A higher id is accepted and looked up.
    let (_, r) = ctx
        .chiama(&richiesta(
            &testata("5001"),
            &format!("<codiceFiscale>{altro_cf}</codiceFiscale>"),
            DATI,
        ))
        .await;
    assert_eq!(campo(&r, "codFiscale"), altro_cf);
    assert_eq!(ctx.sim.ricerche_ws_comune(ISTAT), 2);
}

#[tokio::test]
async fn un_ko_forzato_e_il_suo_en527() {
    let ctx = avvia().await;
    let (cf, _) = ctx.sim.esempi().normali[0].clone();
    ctx.sim.forza_ko_ws("EN130", "Nessun soggetto trovato");
    let (_, r) = ctx
        .chiama(&richiesta(
            &testata("6001"),
            &format!("<codiceFiscale>{cf}</codiceFiscale>"),
            DATI,
        ))
        .await;
    assert_eq!(codici(&r), ["EN130", "EN527"]);
    let id_anpr = campo(&r, "idOperazioneANPR").to_owned();
    let en527 = r.split("<testoErroreAnomalia>").nth(2).unwrap();
    assert!(
        en527.starts_with("Informazioni sull'operazione da fornire in caso di assistenza : data "),
        "{en527}"
    );
    assert!(
        en527.contains(&format!("idOperazioneANPR {id_anpr}</")),
        "{en527}"
    );
    // One shot: the next call searches.
    let (_, r) = ctx
        .chiama(&richiesta(
            &testata("6002"),
            &format!("<codiceFiscale>{cf}</codiceFiscale>"),
            DATI,
        ))
        .await;
    assert_eq!(campo(&r, "esitoOperazione"), "0000");
}

#[tokio::test]
async fn senza_sicurezza_o_con_il_corpo_alterato_arriva_un_fault() {
    let ctx = avvia().await;
    let (cf, _) = ctx.sim.esempi().normali[0].clone();
    let corpo = richiesta(
        &testata("7001"),
        &format!("<codiceFiscale>{cf}</codiceFiscale>"),
        DATI,
    );
    let nuda = format!(
        "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body>{corpo}</soapenv:Body></soapenv:Envelope>"
    );
    let (stato, r) = ctx.posta(&ctx.sim.url_3002(), nuda).await;
    assert_eq!(stato, 500);
    assert!(
        r.contains(
            "<faultcode>soapenv:Client</faultcode><faultstring>Internal Error</faultstring>"
        ),
        "{r}"
    );
    assert!(ctx.ultimo_motivo().unwrap().contains("wsse:Security"));

    let busta = imbusta(&corpo, &identita(), "127.0.0.1", chrono::Utc::now()).unwrap();
    let (altro_cf, _) = ctx.sim.esempi().normali[1].clone();
    let alterata = busta.replace(&cf, &altro_cf);
    let (stato, r) = ctx.posta(&ctx.sim.url_3002(), alterata).await;
    assert_eq!(stato, 500);
    assert!(
        r.contains("<faultstring>Rejected by policy. (from client)</faultstring>"),
        "{r}"
    );
    assert!(ctx.ultimo_motivo().unwrap().contains("firma del messaggio"));

    // Signature wrapping: the signed Body moved into the header, a forged one in its place.
    let (testa, resto) = busta.split_once("<soapenv:Body").unwrap();
    let body_firmato = format!("<soapenv:Body{resto}").replace("</soapenv:Envelope>", "");
    // The forged Body carries the signed one's wsu:Id.
    let apertura = &body_firmato[..=body_firmato.find('>').unwrap()];
    let falso = corpo.replace(&cf, &altro_cf);
    let avvolta = format!(
        "{}<wrap xmlns=\"urn:x\">{body_firmato}</wrap></soapenv:Header>{apertura}{falso}</soapenv:Body></soapenv:Envelope>",
        testa.replace("</soapenv:Header>", "")
    );
    let (stato, r) = ctx.posta(&ctx.sim.url_3002(), avvolta).await;
    assert_eq!(stato, 500);
    assert!(r.contains("Rejected by policy"), "{r}");
    assert_eq!(ctx.sim.chiamate_ws_comune(ISTAT), 0);
    assert_eq!(ctx.sim.ricerche_ws_comune(ISTAT), 0);
}

#[tokio::test]
async fn test_conn_risponde_con_la_testata() {
    let ctx = avvia().await;
    let corpo = format!(
        "<ns2:RichiestaConnessione xmlns:ns2=\"http://sogei.it/ANPR/connessione\">{}</ns2:RichiestaConnessione>",
        testata("42").replace(">3002<", ">OP01<")
    );
    let busta = imbusta(&corpo, &identita(), "127.0.0.1", chrono::Utc::now()).unwrap();
    let (stato, r) = ctx.posta(&ctx.sim.url_test_conn(), busta).await;
    assert_eq!(stato, 200, "{r}");
    assert!(r.contains("<ns2:RispostaConnessione xmlns:ns2=\"http://sogei.it/ANPR/connessione\"><testataRisposta><idOperazioneComune>42</idOperazioneComune>"), "{r}");
    assert_eq!(campo(&r, "esitoOperazione"), "0000");
    // TestConn is not a 3002 call.
    assert_eq!(ctx.sim.chiamate_ws_comune(ISTAT), 0);
    let voce = ctx.sim.richieste_ricevute().pop().unwrap();
    assert_eq!(voce.servizio.as_deref(), Some("TestConn"));

    let sbagliata = corpo.replace(">TEST<", ">PROD<");
    let busta = imbusta(&sbagliata, &identita(), "127.0.0.1", chrono::Utc::now()).unwrap();
    let (_, r) = ctx.posta(&ctx.sim.url_test_conn(), busta).await;
    assert_eq!(campo(&r, "esitoOperazione"), "XXXX");
    assert!(ctx.ultimo_motivo().unwrap().contains("EN904"));
}

#[tokio::test]
async fn solo_post() {
    let ctx = avvia().await;
    let r = ctx.http.get(ctx.sim.url_3002()).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 405);
}

#[tokio::test]
async fn una_busta_firmata_rsa_sha1_e_accettata() {
    let ctx = avvia().await;
    let (cf, _) = ctx.sim.esempi().normali[0].clone();
    let corpo = richiesta(
        &testata("8001"),
        &format!("<codiceFiscale>{cf}</codiceFiscale>"),
        DATI,
    );
    let sha1 = IdentitaWs {
        algoritmo: AlgoritmoFirma::RsaSha1,
        ..identita()
    };
    let busta = imbusta(&corpo, &sha1, "127.0.0.1", chrono::Utc::now()).unwrap();
    assert!(busta.contains("http://www.w3.org/2000/09/xmldsig#rsa-sha1"));
    assert!(!busta.contains("sha256"));
    let (stato, r) = ctx.posta(&ctx.sim.url_3002(), busta.clone()).await;
    assert_eq!(stato, 200, "{r} {:?}", ctx.ultimo_motivo());
    assert_eq!(campo(&r, "codFiscale"), cf);
    // The same envelope with one SHA-1 digest spoilt is refused.
    let (stato, _) = ctx
        .posta(
            &ctx.sim.url_3002(),
            busta.replacen("<ds:DigestValue>", "<ds:DigestValue>A", 2),
        )
        .await;
    assert_eq!(stato, 500);
    assert!(ctx.ultimo_motivo().unwrap().contains("firma"));
}

#[tokio::test]
async fn due_registrazioni_dello_stesso_comune_si_sommano() {
    let altro = emetti_certificati_ws(ISTAT, 2);
    let config = SimConfig {
        population: 2_000,
        ws: ConfigWs {
            comuni: vec![
                comune(),
                ComuneWs {
                    istat: ISTAT.into(),
                    certificati: vec![altro.co_cert_pem.clone()],
                    postazioni: vec![altro.pc_cert_pem.clone()],
                    operatori: vec![OPERATORE.into()],
                    indirizzi: None,
                },
            ],
            ..ConfigWs::default()
        },
        ..SimConfig::default()
    };
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let ctx = Ctx {
        sim: anpr_sim::avvia(config, l).await.unwrap(),
        http: reqwest::Client::new(),
    };
    let (cf, _) = ctx.sim.esempi().normali[0].clone();
    let seconda = IdentitaWs {
        comune: Credenziali::da_pem(altro.co_cert_pem.as_bytes(), altro.co_key_pem.as_bytes())
            .unwrap(),
        postazione: Credenziali::da_pem(altro.pc_cert_pem.as_bytes(), altro.pc_key_pem.as_bytes())
            .unwrap(),
        id_postazione: CertificatiWs::id_postazione(ISTAT, 2),
        ..identita()
    };
    for (id, chi) in [("9001", identita()), ("9002", seconda)] {
        let corpo = richiesta(
            &testata(id),
            &format!("<codiceFiscale>{cf}</codiceFiscale>"),
            DATI,
        );
        let busta = imbusta(&corpo, &chi, "127.0.0.1", chrono::Utc::now()).unwrap();
        let (stato, r) = ctx.posta(&ctx.sim.url_3002(), busta).await;
        assert_eq!(stato, 200, "{r} {:?}", ctx.ultimo_motivo());
    }
}
