//! DESIGN §4's answer table, PDND rows: what an answer of the gateway (or of the PDND token
//! endpoint) means and what to do with it. One function, [`classifica`].
//!
//! A GovWay problem and an ANPR `RispostaKO` can share an HTTP status (400, 404): they are told
//! apart by their body (`listaErrori` versus `title`), never by the status.

use crate::servizi::Servizio;
use crate::types::{
    ProblemaGovWay, ProblemaPdnd, RispostaE002OK, RispostaKO, TipoDatiSoggettiEnte,
    TipoErroriAnomalia,
};
use serde_json::Value;
use std::time::Duration;

/// Who answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origine {
    /// The ANPR GovWay gateway (e-service calls and `/status`).
    Gateway,
    /// The PDND token endpoint.
    Token,
}

/// What came back over HTTP, or why nothing did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EsitoHttp {
    Risposta {
        status: u16,
        corpo: Vec<u8>,
        retry_after: Option<Duration>,
    },
    Timeout,
    Connessione(String),
}

/// The meaning of an answer and the action it calls for.
#[derive(Debug, Clone, PartialEq)]
pub enum Classificazione {
    /// One person (C021: the family, one entry per member), blocks merged by idANPR.
    Trovato {
        soggetti: Vec<TipoDatiSoggettiEnte>,
        risposta: RispostaE002OK,
    },
    /// Several distinct idANPR answer the criteria.
    Ambiguo {
        id_anpr: Vec<String>,
        risposta: RispostaE002OK,
    },
    /// Nobody: 200 with no subject, or `listaErrori` EN122.
    NessunSoggetto {
        codice: Option<String>,
        testo: Option<String>,
    },
    /// ANPR refused this row (ERRORE); a 500 deserves one more try.
    ErroreAnpr {
        status: u16,
        errore: TipoErroriAnomalia,
        ritenta_una_volta: bool,
        /// C001/C004: an unseen idOperazioneClient lower than the last one sent.
        id_basso: bool,
    },
    /// Our request or configuration is wrong: stop the whole request (FALLITA).
    Fallita {
        status: Option<u16>,
        spiegazione: String,
        risposta: String,
    },
    /// 401 from the gateway: renew the voucher once.
    VoucherRifiutato { risposta: String },
    /// 429 LimitExceeded: the service's daily quota is used up until midnight Europe/Rome.
    QuotaEsaurita { risposta: String },
    /// Worth retrying with backoff.
    Transitorio {
        motivo: String,
        retry_after: Option<Duration>,
    },
}

/// The answer table. `servizio` matters for C021, whose several subjects are one family.
pub fn classifica(servizio: Servizio, origine: Origine, esito: &EsitoHttp) -> Classificazione {
    let (status, corpo, retry_after) = match esito {
        EsitoHttp::Timeout => return transitorio("nessuna risposta entro il timeout", None),
        EsitoHttp::Connessione(e) => {
            return transitorio(&format!("connessione non riuscita: {e}"), None);
        }
        EsitoHttp::Risposta {
            status,
            corpo,
            retry_after,
        } => (*status, corpo.as_slice(), *retry_after),
    };
    match origine {
        Origine::Token => classifica_token(status, corpo, retry_after),
        Origine::Gateway => classifica_gateway(servizio, status, corpo, retry_after),
    }
}

fn transitorio(motivo: &str, retry_after: Option<Duration>) -> Classificazione {
    Classificazione::Transitorio {
        motivo: motivo.to_string(),
        retry_after,
    }
}

fn classifica_gateway(
    servizio: Servizio,
    status: u16,
    corpo: &[u8],
    retry_after: Option<Duration>,
) -> Classificazione {
    let json: Option<Value> = serde_json::from_slice(corpo).ok();
    if status == 401 {
        return Classificazione::VoucherRifiutato {
            risposta: riassunto(status, json.as_ref()),
        };
    }
    match json {
        Some(v) if v.get("listaErrori").is_some() && v.get("listaSoggetti").is_none() => {
            lista_errori(status, v)
        }
        Some(v) if v.get("title").is_some() && v.get("listaSoggetti").is_none() => {
            problema(status, v, retry_after)
        }
        Some(v) if status == 200 => risposta_ok(servizio, v),
        _ if status == 429 || status >= 500 => transitorio(
            &format!("HTTP {status} con un corpo non riconosciuto"),
            retry_after,
        ),
        _ if status == 200 => transitorio("HTTP 200 con un corpo JSON non valido", None),
        _ => Classificazione::Fallita {
            status: Some(status),
            spiegazione: format!(
                "il gateway ha risposto HTTP {status} con un corpo che non è né un problema GovWay né \
                 una risposta ANPR: controllare base_url e il percorso del servizio"
            ),
            risposta: testo_corpo(corpo),
        },
    }
}

fn risposta_ok(servizio: Servizio, v: Value) -> Classificazione {
    let Ok(risposta) = serde_json::from_value::<RispostaE002OK>(v) else {
        return transitorio("HTTP 200 con una RispostaE002OK non conforme", None);
    };
    let soggetti = unisci_soggetti(risposta.soggetti());
    let id_anpr: Vec<String> = soggetti
        .iter()
        .filter_map(|s| s.id_anpr().map(str::to_string))
        .collect();
    if soggetti.is_empty() {
        Classificazione::NessunSoggetto {
            codice: None,
            testo: None,
        }
    } else if id_anpr.len() > 1 && !servizio.piu_soggetti_per_persona() {
        Classificazione::Ambiguo { id_anpr, risposta }
    } else {
        Classificazione::Trovato { soggetti, risposta }
    }
}

fn lista_errori(status: u16, v: Value) -> Classificazione {
    let ko: RispostaKO = serde_json::from_value(v).unwrap_or_default();
    let errori = ko.lista_errori.unwrap_or_default();
    // The first real error; warnings ("W") do not decide the outcome.
    let errore = errori
        .iter()
        .find(|e| e.tipo_errore_anomalia.as_deref() != Some("W"))
        .or(errori.first())
        .cloned()
        .unwrap_or_default();
    if errore.codice_errore_anomalia.as_deref() == Some("EN122") {
        return Classificazione::NessunSoggetto {
            codice: errore.codice_errore_anomalia,
            testo: errore.testo_errore_anomalia,
        };
    }
    Classificazione::ErroreAnpr {
        status,
        id_basso: id_basso(&errore),
        ritenta_una_volta: status >= 500,
        errore,
    }
}

/// ANPR's refusal of an unseen id lower than the last one sent (C001/C004 spec text: "se non
/// esiste ed e' inferiore all'ultimo inviato, l'elaborazione termina con errore").
fn id_basso(e: &TipoErroriAnomalia) -> bool {
    let testo = e
        .testo_errore_anomalia
        .as_deref()
        .unwrap_or("")
        .to_lowercase();
    let campo = e.campo_errore_anomalia.as_deref() == Some("idOperazioneClient");
    (campo || testo.contains("idoperazioneclient"))
        && (testo.contains("inferiore") || testo.contains("crescente"))
}

fn problema(status: u16, v: Value, retry_after: Option<Duration>) -> Classificazione {
    let p: ProblemaGovWay = serde_json::from_value(v.clone()).unwrap_or_default();
    let titolo = p.title.clone().unwrap_or_default();
    let risposta = riassunto(status, Some(&v));
    match (status, titolo.as_str()) {
        (429, "LimitExceeded") => Classificazione::QuotaEsaurita { risposta },
        (429, _) | (500..=599, _) => Classificazione::Transitorio {
            motivo: risposta,
            retry_after,
        },
        _ => Classificazione::Fallita {
            status: Some(status),
            spiegazione: spiegazione_govway(&titolo, p.detail.as_deref()),
            risposta,
        },
    }
}

/// The likely cause, in Italian, of a GovWay refusal (NOTES §3 pitfalls).
pub fn spiegazione_govway(titolo: &str, dettaglio: Option<&str>) -> String {
    match titolo {
        "InteroperabilityInvalidRequest" => "il gateway ANPR ha rifiutato la sicurezza ModI della chiamata. Cause più frequenti: \
             audience_base errato (l'aud deve essere …/MinInternoPortaANPR/<servizio>/v1, senza -PDND e senza \
             /anpr-service-e002); purposeId di un altro e-service in [anpr.purposes]; voucher di collaudo usato \
             in produzione o viceversa; chiave (kid) non caricata sul client PDND; signed_headers diversi dagli \
             header inviati. L'assistenza ANPR legge il motivo esatto dal govway_id."
            .to_string(),
        "InvalidRequestContent" => format!(
            "il corpo della richiesta non rispetta lo schema OpenAPI del servizio (membri sconosciuti, più di un \
             criterio di ricerca, date non nel formato AAAA-MM-GG, idANPR inviato a C030){}",
            dettaglio.map(|d| format!(": {d}")).unwrap_or_default()
        ),
        "NotFound" => "il gateway non conosce il percorso chiamato: controllare base_url (deve finire con \
             /MinInternoPortaANPR-PDND) e, per il servizio, [anpr.services.C0NN] path e version (per esempio la \
             variante -approvazione_automatica a cui è iscritta la finalità)"
            .to_string(),
        "AuthenticationRequired" => "il gateway ha rifiutato il voucher anche dopo il rinnovo: voucher di un altro \
             ambiente (collaudo/produzione), orologio del sistema sfasato o finalità sospesa su PDND"
            .to_string(),
        altro => format!(
            "il gateway ha rifiutato la richiesta ({}): controllare la configurazione del servizio",
            if altro.is_empty() { "problema senza titolo" } else { altro }
        ),
    }
}

fn classifica_token(status: u16, corpo: &[u8], retry_after: Option<Duration>) -> Classificazione {
    if status == 429 || status >= 500 {
        return transitorio(&format!("endpoint token PDND: HTTP {status}"), retry_after);
    }
    if status == 200 {
        return transitorio("endpoint token PDND: risposta 200 non valida", None);
    }
    let problema: Option<ProblemaPdnd> = serde_json::from_slice(corpo).ok();
    let dettagli = problema
        .as_ref()
        .map(|p| {
            let mut d: Vec<String> = p
                .errors
                .iter()
                .map(|e| format!("{} {}", e.code, e.detail))
                .collect();
            if d.is_empty() {
                d.extend(p.detail.clone());
            }
            d.join("; ")
        })
        .unwrap_or_else(|| testo_corpo(corpo));
    Classificazione::Fallita {
        status: Some(status),
        spiegazione: "PDND ha rifiutato la client assertion: controllare client_id, kid (deve essere quello della \
             chiave pubblica caricata sul client PDND), private_key_file (la chiave privata corrispondente), \
             client_assertion_aud (es. auth.uat.interop.pagopa.it/client-assertion, senza https://) e token_url \
             dello stesso ambiente, il purposeId in [anpr.purposes] (finalità attiva e associata al client) e \
             l'orologio del sistema"
            .to_string(),
        risposta: format!("HTTP {status}: {dettagli}"),
    }
}

/// "HTTP 400 InteroperabilityInvalidRequest: … (govway_id …)" or the text of the body.
pub fn riassunto(status: u16, v: Option<&Value>) -> String {
    let Some(v) = v else {
        return format!("HTTP {status}");
    };
    let campo = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    match (campo("title"), campo("detail"), campo("govway_id")) {
        (Some(t), d, g) => format!(
            "HTTP {status} {t}{}{}",
            d.map(|d| format!(": {d}")).unwrap_or_default(),
            g.map(|g| format!(" (govway_id {g})")).unwrap_or_default()
        ),
        _ => format!("HTTP {status}: {}", limita(&v.to_string())),
    }
}

fn testo_corpo(corpo: &[u8]) -> String {
    limita(&String::from_utf8_lossy(corpo))
}

fn limita(s: &str) -> String {
    s.chars().take(300).collect()
}

/// Merges the `datiSoggetto` entries that share an idANPR (C019 splits one person over two
/// entries). Entries without an idANPR join the only person there is, or form one person when
/// nobody has an idANPR (C004 answers with `infoSoggettoEnte` only).
pub fn unisci_soggetti(soggetti: &[TipoDatiSoggettiEnte]) -> Vec<TipoDatiSoggettiEnte> {
    let mut uniti: Vec<TipoDatiSoggettiEnte> = Vec::new();
    let mut senza_id: Vec<&TipoDatiSoggettiEnte> = Vec::new();
    for s in soggetti {
        match s.id_anpr() {
            None => senza_id.push(s),
            Some(id) => match uniti.iter_mut().find(|u| u.id_anpr() == Some(id)) {
                Some(u) => unisci(u, s),
                None => uniti.push(s.clone()),
            },
        }
    }
    match uniti.len() {
        0 if !senza_id.is_empty() => {
            let mut unico = senza_id[0].clone();
            senza_id[1..].iter().for_each(|s| unisci(&mut unico, s));
            vec![unico]
        }
        1 => {
            senza_id.iter().for_each(|s| unisci(&mut uniti[0], s));
            uniti
        }
        _ => uniti,
    }
}

fn unisci(a: &mut TipoDatiSoggettiEnte, b: &TipoDatiSoggettiEnte) {
    fn primo<T: Clone>(x: &mut Option<T>, y: &Option<T>) {
        if x.is_none() {
            x.clone_from(y);
        }
    }
    primo(&mut a.generalita, &b.generalita);
    primo(&mut a.stato_civile, &b.stato_civile);
    primo(&mut a.cittadinanza, &b.cittadinanza);
    primo(&mut a.residenza, &b.residenza);
    primo(&mut a.identificativi, &b.identificativi);
    primo(&mut a.legame_soggetto, &b.legame_soggetto);
    primo(&mut a.dati_decesso, &b.dati_decesso);
    primo(&mut a.matrimonio, &b.matrimonio);
    primo(&mut a.annullamento_matrimonio, &b.annullamento_matrimonio);
    if let Some(info) = &b.info_soggetto_ente {
        let lista = a.info_soggetto_ente.get_or_insert_with(Vec::new);
        lista.extend(
            info.iter()
                .filter(|i| !lista.contains(i))
                .cloned()
                .collect::<Vec<_>>(),
        );
    }
}

/// What the client asked for, to check the answer is about that person (DESIGN §4).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdentitaAttesa {
    pub id_anpr: Option<String>,
    pub codice_fiscale: Option<String>,
}

/// The answer concerns the person asked for: same idANPR, or same CF when the answer carries
/// `generalita`. For C021 the person must be one of the family members.
pub fn verifica_identita(
    attesa: &IdentitaAttesa,
    soggetti: &[TipoDatiSoggettiEnte],
) -> Result<(), String> {
    let norm = |s: &str| s.trim().to_ascii_uppercase();
    if let Some(id) = &attesa.id_anpr {
        let trovati: Vec<&str> = soggetti.iter().filter_map(|s| s.id_anpr()).collect();
        if !trovati.is_empty() && !trovati.iter().any(|t| norm(t) == norm(id)) {
            return Err(format!(
                "la risposta riguarda un'altra persona: chiesto ID ANPR {id}, ricevuto {}",
                trovati.join(", ")
            ));
        }
    }
    if let Some(cf) = &attesa.codice_fiscale {
        let trovati: Vec<&str> = soggetti.iter().filter_map(|s| s.codice_fiscale()).collect();
        if !trovati.is_empty() && !trovati.iter().any(|t| norm(t) == norm(cf)) {
            return Err(format!(
                "la risposta riguarda un'altra persona: chiesto codice fiscale {cf}, ricevuto {}",
                trovati.join(", ")
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn http(status: u16, corpo: Value) -> EsitoHttp {
        EsitoHttp::Risposta {
            status,
            corpo: serde_json::to_vec(&corpo).unwrap(),
            retry_after: None,
        }
    }

    fn gw(status: u16, corpo: Value) -> Classificazione {
        classifica(Servizio::C020, Origine::Gateway, &http(status, corpo))
    }

    fn govway(status: u16, titolo: &str) -> Value {
        json!({"type": format!("https://govway.org/handling-errors/{status}/{titolo}.html"),
            "title": titolo, "status": status, "detail": "d", "govway_id": "g-1"})
    }

    fn soggetto(id: &str, cf: &str) -> Value {
        json!({"identificativi": {"idANPR": id}, "generalita": {"codiceFiscale": {"codFiscale": cf}}})
    }

    #[test]
    fn row_200_one_subject_after_merging_is_found() {
        // C019 splits one person over two entries (italia/anpr#4663).
        let corpo = json!({"idOperazioneANPR": "1", "listaSoggetti": {"datiSoggetto": [
            {"identificativi": {"idANPR": "AF41450AS"},
             "infoSoggettoEnte": [{"id": "1003", "chiave": "Verifica esistenza in vita", "valore": "S"}]},
            {"identificativi": {"idANPR": "AF41450AS"}, "generalita": {"cognome": "SOGGETTO"}}]}});
        match classifica(Servizio::C019, Origine::Gateway, &http(200, corpo)) {
            Classificazione::Trovato { soggetti, .. } => {
                assert_eq!(soggetti.len(), 1);
                let s = &soggetti[0];
                assert_eq!(
                    s.generalita.as_ref().unwrap().cognome.as_deref(),
                    Some("SOGGETTO")
                );
                assert_eq!(
                    s.info_soggetto_ente.as_ref().unwrap()[0].valore.as_deref(),
                    Some("S")
                );
            }
            altro => panic!("atteso Trovato, trovato {altro:?}"),
        }
    }

    #[test]
    fn row_200_several_idanpr_is_ambiguous_but_not_on_c021() {
        let corpo = json!({"listaSoggetti": {"datiSoggetto": [
            soggetto("AA00000AA", "DPLPRM90R10H501I"), soggetto("BB00000BB", "DPLPRM90R10H5O1I")]}});
        match gw(200, corpo.clone()) {
            Classificazione::Ambiguo { id_anpr, .. } => {
                assert_eq!(id_anpr, vec!["AA00000AA", "BB00000BB"])
            }
            altro => panic!("atteso Ambiguo, trovato {altro:?}"),
        }
        match classifica(Servizio::C021, Origine::Gateway, &http(200, corpo)) {
            Classificazione::Trovato { soggetti, .. } => assert_eq!(soggetti.len(), 2),
            altro => panic!("atteso Trovato (famiglia), trovato {altro:?}"),
        }
    }

    #[test]
    fn row_200_empty_is_nobody() {
        assert_eq!(
            gw(
                200,
                json!({"idOperazioneANPR": "1", "listaSoggetti": {"datiSoggetto": []}})
            ),
            Classificazione::NessunSoggetto {
                codice: None,
                testo: None
            }
        );
        assert_eq!(
            gw(200, json!({"idOperazioneANPR": "1"})),
            Classificazione::NessunSoggetto {
                codice: None,
                testo: None
            }
        );
    }

    #[test]
    fn row_en122_404_is_nobody() {
        let corpo = json!({"idOperazioneANPR": "9", "listaErrori": [{"codiceErroreAnomalia": "EN122",
            "tipoErroreAnomalia": "E", "testoErroreAnomalia": "Soggetto non registrato in ANPR"}]});
        assert_eq!(
            gw(404, corpo),
            Classificazione::NessunSoggetto {
                codice: Some("EN122".into()),
                testo: Some("Soggetto non registrato in ANPR".into())
            }
        );
    }

    #[test]
    fn row_other_lista_errori_is_an_anpr_error_retried_once_on_500() {
        let err = |status| {
            gw(
                status,
                json!({"listaErrori": [{"codiceErroreAnomalia": "EN999", "tipoErroreAnomalia": "E",
                "testoErroreAnomalia": "Lunghezza del campo idOperazioneClient maggiore del massimo consentito 30"}]}),
            )
        };
        match err(400) {
            Classificazione::ErroreAnpr {
                status,
                errore,
                ritenta_una_volta,
                id_basso,
            } => {
                assert_eq!(status, 400);
                assert_eq!(errore.codice_errore_anomalia.as_deref(), Some("EN999"));
                assert!(!ritenta_una_volta);
                assert!(!id_basso);
            }
            altro => panic!("atteso ErroreAnpr, trovato {altro:?}"),
        }
        assert!(matches!(
            err(500),
            Classificazione::ErroreAnpr {
                ritenta_una_volta: true,
                ..
            }
        ));
        let basso = gw(
            400,
            json!({"listaErrori": [{"codiceErroreAnomalia": "EN400", "tipoErroreAnomalia": "E",
            "campoErroreAnomalia": "idOperazioneClient",
            "testoErroreAnomalia": "idOperazioneClient inferiore all'ultimo inviato"}]}),
        );
        assert!(matches!(
            basso,
            Classificazione::ErroreAnpr { id_basso: true, .. }
        ));
    }

    #[test]
    fn row_govway_refusals_stop_the_request_with_an_explanation() {
        for (status, titolo, parola) in [
            (400, "InteroperabilityInvalidRequest", "-PDND"),
            (400, "InvalidRequestContent", "schema OpenAPI"),
            (404, "NotFound", "approvazione_automatica"),
        ] {
            match gw(status, govway(status, titolo)) {
                Classificazione::Fallita {
                    spiegazione,
                    risposta,
                    status: s,
                } => {
                    assert_eq!(s, Some(status));
                    assert!(spiegazione.contains(parola), "{titolo}: {spiegazione}");
                    assert_eq!(
                        risposta,
                        format!("HTTP {status} {titolo}: d (govway_id g-1)")
                    );
                }
                altro => panic!("{titolo}: atteso Fallita, trovato {altro:?}"),
            }
        }
    }

    #[test]
    fn body_not_status_tells_govway_from_anpr() {
        // Same 404: a GovWay NotFound stops the request, an ANPR EN122 is a person not found.
        assert!(matches!(
            gw(404, govway(404, "NotFound")),
            Classificazione::Fallita { .. }
        ));
        let en122 = json!({"listaErrori": [{"codiceErroreAnomalia": "EN122"}]});
        assert!(matches!(
            gw(404, en122),
            Classificazione::NessunSoggetto { .. }
        ));
    }

    #[test]
    fn row_401_renews_the_voucher() {
        assert!(matches!(
            gw(401, govway(401, "AuthenticationRequired")),
            Classificazione::VoucherRifiutato { .. }
        ));
    }

    #[test]
    fn row_429_limit_exceeded_is_quota() {
        assert!(matches!(
            gw(429, govway(429, "LimitExceeded")),
            Classificazione::QuotaEsaurita { .. }
        ));
    }

    #[test]
    fn row_transient_failures() {
        let ra = Some(Duration::from_secs(3));
        let esito = EsitoHttp::Risposta {
            status: 429,
            corpo: serde_json::to_vec(&govway(429, "TooManyRequests")).unwrap(),
            retry_after: ra,
        };
        match classifica(Servizio::C030, Origine::Gateway, &esito) {
            Classificazione::Transitorio { retry_after, .. } => assert_eq!(retry_after, ra),
            altro => panic!("atteso Transitorio, trovato {altro:?}"),
        }
        assert!(matches!(
            gw(503, govway(503, "GatewayError")),
            Classificazione::Transitorio { .. }
        ));
        assert!(matches!(
            gw(504, govway(504, "EndpointRequestTimedOut")),
            Classificazione::Transitorio { .. }
        ));
        for e in [
            EsitoHttp::Timeout,
            EsitoHttp::Connessione("rifiutata".into()),
        ] {
            assert!(matches!(
                classifica(Servizio::C030, Origine::Gateway, &e),
                Classificazione::Transitorio { .. }
            ));
        }
        let troncato = EsitoHttp::Risposta {
            status: 200,
            corpo: b"{\"idOperazioneANPR\":\"1\",\"lista".to_vec(),
            retry_after: None,
        };
        assert!(matches!(
            classifica(Servizio::C030, Origine::Gateway, &troncato),
            Classificazione::Transitorio { .. }
        ));
    }

    #[test]
    fn row_token_endpoint_refusal() {
        let corpo = json!({"type": "about:blank", "status": 400, "title": "Bad Request",
            "errors": [{"code": "015-0008", "detail": "Client assertion signature not valid"}]});
        match classifica(Servizio::C030, Origine::Token, &http(400, corpo)) {
            Classificazione::Fallita {
                spiegazione,
                risposta,
                ..
            } => {
                assert!(spiegazione.contains("client_assertion_aud"));
                assert_eq!(
                    risposta,
                    "HTTP 400: 015-0008 Client assertion signature not valid"
                );
            }
            altro => panic!("atteso Fallita, trovato {altro:?}"),
        }
        assert!(matches!(
            classifica(Servizio::C030, Origine::Token, &http(401, json!({}))),
            Classificazione::Fallita { .. }
        ));
        assert!(matches!(
            classifica(Servizio::C030, Origine::Token, &http(503, json!({}))),
            Classificazione::Transitorio { .. }
        ));
    }

    #[test]
    fn identity_check() {
        let s: Vec<TipoDatiSoggettiEnte> =
            vec![serde_json::from_value(soggetto("AF41450AS", "STTSGT90A01H501J")).unwrap()];
        let per_id = IdentitaAttesa {
            id_anpr: Some("AF41450AS".into()),
            codice_fiscale: None,
        };
        assert!(verifica_identita(&per_id, &s).is_ok());
        let altro = IdentitaAttesa {
            id_anpr: Some("EV45959WW".into()),
            codice_fiscale: None,
        };
        assert!(
            verifica_identita(&altro, &s)
                .unwrap_err()
                .contains("EV45959WW")
        );
        let cf = IdentitaAttesa {
            id_anpr: None,
            codice_fiscale: Some("QNTSGT90A01H501X".into()),
        };
        assert!(verifica_identita(&cf, &s).is_err());
        // C030 answers carry no generalita: nothing to compare the CF with.
        let solo_id: Vec<TipoDatiSoggettiEnte> = vec![
            serde_json::from_value(json!({"identificativi": {"idANPR": "AF41450AS"}})).unwrap(),
        ];
        assert!(verifica_identita(&cf, &solo_id).is_ok());
    }
}
