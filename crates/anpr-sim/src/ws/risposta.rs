//! The answers of the Comune channel: SOAP 1.1 envelopes without WS-Security (as in the
//! answers seen, NOTES-ws-comuni §2), `Risposta3002` with a prefixed `Risposta3002_OK` or
//! `rispostaKO` and unqualified children (§6), `RispostaConnessione`, and the two faults.

use super::richiesta::Testata;
use super::sicurezza::Guasto;
use super::xml::{NS_3000, NS_CONNESSIONE, NS_SOAP, Scrittore, escape};

/// `esitoOperazione` of the answers seen: `0000` on OK, `XXXX` on KO (NOTES §4).
pub const ESITO_OK: &str = "0000";
pub const ESITO_KO: &str = "XXXX";

/// One `errore` (`tipoErroriAnomalia`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Errore {
    pub codice: String,
    /// `E` error, `W` warning.
    pub tipo: &'static str,
    pub testo: String,
    pub campo: Option<String>,
    pub valore: Option<String>,
}

impl Errore {
    pub fn e(codice: &str, testo: impl Into<String>) -> Self {
        Self {
            codice: codice.to_owned(),
            tipo: "E",
            testo: testo.into(),
            campo: None,
            valore: None,
        }
    }

    pub fn su(mut self, campo: &str, valore: Option<&str>) -> Self {
        self.campo = Some(campo.to_owned());
        self.valore = valore.map(str::to_owned);
        self
    }

    fn scrivi(&self, w: &mut Scrittore) {
        w.blocco("errore", |w| {
            w.campo("codiceErroreAnomalia", &self.codice);
            w.campo("tipoErroreAnomalia", self.tipo);
            w.campo("testoErroreAnomalia", &limita(&self.testo, 240));
            w.campo_opt("campoErroreAnomalia", self.campo.as_deref());
            w.campo_opt(
                "valoreErroreAnomalia",
                self.valore.as_deref().map(|v| limita(v, 240)).as_deref(),
            );
        });
    }
}

/// `charMax240` and friends: ANPR truncates, so does the simulator.
fn limita(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// `testataRisposta`: the request's header echoed, with ANPR's id and the outcome.
pub fn testata(w: &mut Scrittore, t: &Testata, id_operazione_anpr: &str, esito: &str) {
    w.blocco("testataRisposta", |w| {
        w.campo("idOperazioneComune", &t.id_operazione_comune);
        w.campo("codMittente", &t.cod_mittente);
        w.campo("codDestinatario", &t.cod_destinatario);
        w.campo("operazioneRichiesta", &t.operazione_richiesta);
        w.campo("dataOraRichiesta", &t.data_ora_richiesta);
        w.campo_opt("protocolloComune", t.protocollo_comune.as_deref());
        w.campo_opt("dataProtocolloComune", t.data_protocollo_comune.as_deref());
        w.campo_opt("dataDecorrenza", t.data_decorrenza.as_deref());
        w.campo("idOperazioneANPR", id_operazione_anpr);
        w.campo("esitoOperazione", esito);
    });
}

fn busta(corpo: &str) -> String {
    format!(
        "<soapenv:Envelope xmlns:soapenv=\"{NS_SOAP}\"><soapenv:Body>{corpo}</soapenv:Body></soapenv:Envelope>"
    )
}

/// `soapenv:Fault` with faultcode `soapenv:Client` (HTTP 500).
pub fn guasto(g: Guasto) -> String {
    busta(&format!(
        "<soapenv:Fault><faultcode>soapenv:Client</faultcode><faultstring>{}</faultstring></soapenv:Fault>",
        escape(g.testo())
    ))
}

/// `Risposta3002/rispostaKO` with `errori` in order (the caller appends EN527).
pub fn ko_3002(t: &Testata, id_operazione_anpr: &str, errori: &[Errore]) -> String {
    let mut w = Scrittore::default();
    testata(&mut w, t, id_operazione_anpr, ESITO_KO);
    w.blocco("listaErrori", |w| {
        for e in errori {
            e.scrivi(w);
        }
    });
    busta(&format!(
        "<ns2:Risposta3002 xmlns:ns2=\"{NS_3000}\"><ns2:rispostaKO>{}</ns2:rispostaKO></ns2:Risposta3002>",
        w.s
    ))
}

/// `Risposta3002/Risposta3002_OK` with one `datiSoggetto` per written subject.
pub fn ok_3002(t: &Testata, id_operazione_anpr: &str, soggetti: &[String]) -> String {
    let mut w = Scrittore::default();
    testata(&mut w, t, id_operazione_anpr, ESITO_OK);
    if !soggetti.is_empty() {
        w.blocco("listaSoggetti", |w| {
            for s in soggetti {
                w.blocco("datiSoggetto", |w| w.s.push_str(s));
            }
        });
    }
    busta(&format!(
        "<ns2:Risposta3002 xmlns:ns2=\"{NS_3000}\"><ns2:Risposta3002_OK>{}</ns2:Risposta3002_OK></ns2:Risposta3002>",
        w.s
    ))
}

/// `RispostaConnessione` (TestConn).
pub fn connessione(t: &Testata, id_operazione_anpr: &str, esito: &str) -> String {
    let mut w = Scrittore::default();
    testata(&mut w, t, id_operazione_anpr, esito);
    busta(&format!(
        "<ns2:RispostaConnessione xmlns:ns2=\"{NS_CONNESSIONE}\">{}</ns2:RispostaConnessione>",
        w.s
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t() -> Testata {
        Testata {
            id_operazione_comune: "12".into(),
            cod_mittente: "058091".into(),
            cod_destinatario: "ANPR05".into(),
            operazione_richiesta: "3002".into(),
            data_ora_richiesta: "2025-03-01T10:00:00Z".into(),
            tipo_operazione: "C".into(),
            tipo_invio: "TEST".into(),
            ..Testata::default()
        }
    }

    #[test]
    fn la_forma_di_un_ko() {
        let x = ko_3002(
            &t(),
            "77",
            &[Errore::e(
                "EN122",
                "La richiesta effettuata non produce alcun risultato",
            )],
        );
        assert_eq!(
            x,
            "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body>\
             <ns2:Risposta3002 xmlns:ns2=\"http://sogei.it/ANPR/3000consultazione\"><ns2:rispostaKO>\
             <testataRisposta><idOperazioneComune>12</idOperazioneComune><codMittente>058091</codMittente>\
             <codDestinatario>ANPR05</codDestinatario><operazioneRichiesta>3002</operazioneRichiesta>\
             <dataOraRichiesta>2025-03-01T10:00:00Z</dataOraRichiesta><idOperazioneANPR>77</idOperazioneANPR>\
             <esitoOperazione>XXXX</esitoOperazione></testataRisposta><listaErrori><errore>\
             <codiceErroreAnomalia>EN122</codiceErroreAnomalia><tipoErroreAnomalia>E</tipoErroreAnomalia>\
             <testoErroreAnomalia>La richiesta effettuata non produce alcun risultato</testoErroreAnomalia>\
             </errore></listaErrori></ns2:rispostaKO></ns2:Risposta3002></soapenv:Body></soapenv:Envelope>"
        );
    }

    #[test]
    fn la_forma_di_un_fault() {
        assert_eq!(
            guasto(Guasto::RifiutatoDallaPolitica),
            "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body>\
             <soapenv:Fault><faultcode>soapenv:Client</faultcode><faultstring>Rejected by policy. (from client)</faultstring>\
             </soapenv:Fault></soapenv:Body></soapenv:Envelope>"
        );
    }
}
