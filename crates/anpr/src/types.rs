//! E002 wire types (PDND e-services), the GovWay problem and the PDND token types.
//!
//! JSON member names are exactly those of the official OpenAPI files (C001, C004, C021, C030; the
//! blocks C015/C017/C018 return come from ANPR's full E002 data model, NOTES §5).
//!
//! Request types refuse unknown members: the simulator validates bodies with them, as GovWay does
//! with the OpenAPI schema. Response types are lenient (every member optional, unknown members
//! ignored) because ANPR adds fields between versions and a client must not break on them.
//! Dates travel as strings ("YYYY-MM-DD").

use serde::{Deserialize, Serialize};

/// A lenient answer type: every field optional, absent ones not serialised.
macro_rules! blocco_risposta {
    ($(#[$m:meta])* pub struct $name:ident { $( $(#[$fm:meta])* pub $f:ident : $t:ty ),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            $(
                $(#[$fm])*
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub $f: Option<$t>,
            )*
        }
    };
}

/// A strict request type where every member is optional: unknown members are refused.
macro_rules! blocco_richiesta {
    ($(#[$m:meta])* pub struct $name:ident { $( $(#[$fm:meta])* pub $f:ident : $t:ty ),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        pub struct $name {
            $(
                $(#[$fm])*
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub $f: Option<$t>,
            )*
        }
    };
}

// ---------------------------------------------------------------------------------------------
// Request

/// `RichiestaE002`: the body of `POST …/anpr-service-e002`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RichiestaE002 {
    pub id_operazione_client: String,
    pub criteri_ricerca: TipoCriteriRicercaE002,
    /// Only the verification services (C003–C014, C031, C004) carry it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verifica: Option<TipoVerificaE002>,
    pub dati_richiesta: TipoDatiRichiestaE002,
}

blocco_richiesta! {
    /// `TipoCriteriRicercaE002`. C030 has the same members minus `idANPR`.
    pub struct TipoCriteriRicercaE002 {
        pub codice_fiscale: String,
        #[serde(rename = "idANPR")]
        pub id_anpr: String,
        pub cognome: String,
        pub senza_cognome: String,
        pub nome: String,
        pub senza_nome: String,
        pub sesso: String,
        pub dati_nascita: TipoDatiNascitaE000,
    }
}

blocco_richiesta! {
    /// `TipoDatiNascitaE000`.
    pub struct TipoDatiNascitaE000 {
        pub data_evento: String,
        pub senza_giorno: String,
        pub senza_giorno_mese: String,
        pub luogo_nascita: TipoLuogoNascita3000,
    }
}

blocco_richiesta! {
    /// `TipoLuogoNascita3000`.
    pub struct TipoLuogoNascita3000 {
        pub luogo_eccezionale: String,
        pub comune: TipoComuneRichiesta,
        pub localita: TipoLocalitaRichiesta,
    }
}

blocco_richiesta! {
    /// `TipoComune` inside a request (strict twin of [`TipoComune`]).
    pub struct TipoComuneRichiesta {
        pub nome_comune: String,
        pub codice_istat: String,
        pub sigla_provincia_istat: String,
        pub descrizione_localita: String,
    }
}

blocco_richiesta! {
    /// `TipoLocalita` inside a request (strict twin of [`TipoLocalita`]).
    pub struct TipoLocalitaRichiesta {
        pub descrizione_localita: String,
        pub descrizione_stato: String,
        pub codice_stato: String,
        pub provincia_contea: String,
    }
}

/// `TipoDatiRichiestaE002`: all three members are required by every spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TipoDatiRichiestaE002 {
    /// YYYY-MM-DD: the version of the record the answer describes.
    pub data_riferimento_richiesta: String,
    /// The practice number the lookup is made for (protocollo, fascicolo…).
    pub motivo_richiesta: String,
    /// The service code, e.g. "C030".
    pub caso_uso: String,
}

blocco_richiesta! {
    /// `TipoVerificaE002` (C004: `datiDecesso`).
    pub struct TipoVerificaE002 {
        pub dati_decesso: TipoDatiEventoVerifica,
    }
}

blocco_richiesta! {
    /// `TipoDatiEvento` inside a C004 `verifica` block.
    pub struct TipoDatiEventoVerifica {
        pub data_evento: String,
        pub senza_giorno: String,
        pub senza_giorno_mese: String,
        pub luogo_evento: TipoLuogoNascita3000,
        pub atto_evento: TipoAttoRichiesta,
    }
}

blocco_richiesta! {
    /// `TipoAtto` inside a request.
    pub struct TipoAttoRichiesta {
        pub comune_registrazione: TipoComuneRichiesta,
        pub ufficio_municipio: String,
        pub anno: String,
        pub parte: String,
        pub serie: String,
        pub numero_atto: String,
        pub volume: String,
        pub data_formazione_atto: String,
        pub trascritto: String,
    }
}

impl TipoCriteriRicercaE002 {
    pub fn per_codice_fiscale(cf: impl Into<String>) -> Self {
        TipoCriteriRicercaE002 {
            codice_fiscale: Some(cf.into()),
            ..Default::default()
        }
    }

    pub fn per_id_anpr(id: impl Into<String>) -> Self {
        TipoCriteriRicercaE002 {
            id_anpr: Some(id.into()),
            ..Default::default()
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Answers

blocco_risposta! {
    /// `RispostaE002OK` (HTTP 200).
    pub struct RispostaE002OK {
        #[serde(rename = "idOperazioneANPR")]
        pub id_operazione_anpr: String,
        pub lista_soggetti: TipoListaSoggetti,
        pub lista_anomalie: Vec<TipoErroriAnomalia>,
    }
}

blocco_risposta! {
    /// `RispostaKO` (HTTP 400/404/500, `application/problem+json`).
    pub struct RispostaKO {
        #[serde(rename = "idOperazioneANPR")]
        pub id_operazione_anpr: String,
        pub lista_errori: Vec<TipoErroriAnomalia>,
    }
}

blocco_risposta! {
    /// `TipoErroriAnomalia`: `tipoErroreAnomalia` is "E" (error) or "W" (warning).
    pub struct TipoErroriAnomalia {
        pub codice_errore_anomalia: String,
        pub tipo_errore_anomalia: String,
        pub testo_errore_anomalia: String,
        pub oggetto_errore_anomalia: String,
        pub campo_errore_anomalia: String,
        pub valore_errore_anomalia: String,
    }
}

blocco_risposta! {
    /// `TipoListaSoggetti`.
    pub struct TipoListaSoggetti {
        pub dati_soggetto: Vec<TipoDatiSoggettiEnte>,
    }
}

blocco_risposta! {
    /// `TipoDatiSoggettiEnte`: which blocks appear depends on the service.
    pub struct TipoDatiSoggettiEnte {
        pub generalita: TipoGeneralita,
        pub stato_civile: TipoStatoCivile,
        pub cittadinanza: Vec<TipoCittadinanza>,
        pub residenza: Vec<TipoResidenza>,
        pub info_soggetto_ente: Vec<TipoInfoSoggettoEnte>,
        pub identificativi: TipoIdentificativi,
        pub legame_soggetto: TipoLegameSoggettoCompleto,
        pub dati_decesso: TipoDatiEvento,
        pub matrimonio: TipoMatrimonio,
        pub annullamento_matrimonio: TipoAnnullamentoMatrimonio,
    }
}

blocco_risposta! {
    /// `TipoGeneralita`.
    pub struct TipoGeneralita {
        pub codice_fiscale: TipoCodiceFiscale,
        pub cognome: String,
        pub senza_cognome: String,
        pub nome: String,
        pub senza_nome: String,
        pub sesso: String,
        pub data_nascita: String,
        pub senza_giorno: String,
        pub senza_giorno_mese: String,
        pub luogo_nascita: TipoLuogoEvento,
        #[serde(rename = "soggettoAIRE")]
        pub soggetto_aire: String,
        pub anno_espatrio: String,
        pub id_scheda_soggetto_comune: TipoIdSchedaSoggettoComune,
        #[serde(rename = "idSchedaSoggettoANPR")]
        pub id_scheda_soggetto_anpr: String,
        pub note: String,
    }
}

blocco_risposta! {
    /// `TipoCodiceFiscale`: `validitaCF` 1 validato, 9 non validato (Tabella 22).
    pub struct TipoCodiceFiscale {
        pub cod_fiscale: String,
        #[serde(rename = "validitaCF")]
        pub validita_cf: String,
        pub data_attribuzione_validita: String,
    }
}

blocco_risposta! {
    /// `TipoLuogoEvento`.
    pub struct TipoLuogoEvento {
        pub luogo_eccezionale: String,
        pub comune: TipoComune,
        pub localita: TipoLocalita,
    }
}

blocco_risposta! {
    /// `TipoComune`.
    pub struct TipoComune {
        pub nome_comune: String,
        pub codice_istat: String,
        pub sigla_provincia_istat: String,
        pub descrizione_localita: String,
    }
}

blocco_risposta! {
    /// `TipoLocalita`.
    pub struct TipoLocalita {
        pub descrizione_localita: String,
        pub descrizione_stato: String,
        pub codice_stato: String,
        pub provincia_contea: String,
    }
}

blocco_risposta! {
    /// `TipoIdSchedaSoggettoComune`.
    pub struct TipoIdSchedaSoggettoComune {
        pub id_scheda_soggetto_comune_istat: String,
        pub id_scheda_soggetto: String,
    }
}

blocco_risposta! {
    /// `TipoResidenza`: `indirizzo` in Italy, `localitaEstera` abroad (AIRE).
    pub struct TipoResidenza {
        /// Tabella 25.
        pub tipo_indirizzo: String,
        pub note_indirizzo: String,
        pub indirizzo: TipoIndirizzo,
        pub localita_estera: TipoLocalitaEstera1,
        pub presso: String,
        pub data_decorrenza_residenza: String,
    }
}

blocco_risposta! {
    /// `TipoIndirizzo`.
    pub struct TipoIndirizzo {
        pub cap: String,
        pub comune: TipoComune,
        pub frazione: String,
        pub toponimo: TipoToponimo,
        pub numero_civico: TipoNumeroCivico,
    }
}

blocco_risposta! {
    /// `TipoToponimo`.
    pub struct TipoToponimo {
        pub cod_specie: String,
        pub specie: String,
        pub specie_fonte: String,
        pub cod_toponimo: String,
        pub denominazione_toponimo: String,
        pub toponimo_fonte: String,
    }
}

blocco_risposta! {
    /// `TipoNumeroCivico`.
    pub struct TipoNumeroCivico {
        pub codice_civico: String,
        pub civico_fonte: String,
        pub numero: String,
        pub metrico: String,
        #[serde(rename = "progSNC")]
        pub prog_snc: String,
        pub lettera: String,
        pub esponente1: String,
        pub colore: String,
        pub civico_interno: TipoCivicoInterno,
    }
}

blocco_risposta! {
    /// `TipoCivicoInterno`.
    pub struct TipoCivicoInterno {
        pub corte: String,
        pub scala: String,
        pub interno1: String,
        pub esp_interno1: String,
        pub interno2: String,
        pub esp_interno2: String,
        pub scala_esterna: String,
        pub secondario: String,
        pub piano: String,
        pub nui: String,
        pub isolato: String,
    }
}

blocco_risposta! {
    /// `TipoLocalitaEstera1`.
    pub struct TipoLocalitaEstera1 {
        pub indirizzo_estero: TipoIndirizzoEstero,
        pub consolato: TipoConsolato,
    }
}

blocco_risposta! {
    /// `TipoIndirizzoEstero`.
    pub struct TipoIndirizzoEstero {
        pub cap: String,
        pub localita: TipoDatoLocalitaEstera,
        pub toponimo: TipoToponimoEstero,
    }
}

blocco_risposta! {
    /// `TipoDatoLocalitaEstera`.
    pub struct TipoDatoLocalitaEstera {
        pub descrizione_localita: String,
        pub descrizione_stato: String,
        pub codice_stato: String,
        pub provincia_contea: String,
    }
}

blocco_risposta! {
    /// `TipoToponimoEstero`.
    pub struct TipoToponimoEstero {
        pub denominazione: String,
        pub numero_civico: String,
    }
}

blocco_risposta! {
    /// `TipoConsolato`.
    pub struct TipoConsolato {
        pub codice_consolato: String,
        pub descrizione_consolato: String,
    }
}

blocco_risposta! {
    /// `TipoInfoSoggettoEnte`: `valore` is `TipoInfoValore` (A, N, S), kept as text so an
    /// unforeseen value never breaks the whole answer.
    pub struct TipoInfoSoggettoEnte {
        pub id: String,
        pub chiave: String,
        pub valore: String,
        pub valore_testo: String,
        pub valore_data: String,
        pub dettaglio: String,
    }
}

blocco_risposta! {
    /// `TipoIdentificativi`.
    pub struct TipoIdentificativi {
        #[serde(rename = "idANPR")]
        pub id_anpr: String,
    }
}

blocco_risposta! {
    /// `TipoLegameSoggettoCompleto` (C021). `codiceLegame` is Tabella 05.
    pub struct TipoLegameSoggettoCompleto {
        pub tipo_legame: String,
        pub data_decorrenza: String,
        pub codice_legame: String,
        pub progressivo_componente: String,
        pub data_decorrenza_legame: String,
    }
}

blocco_risposta! {
    /// `TipoDatiEvento` (death in C021; marriage in C017).
    pub struct TipoDatiEvento {
        pub data_evento: String,
        pub senza_giorno: String,
        pub senza_giorno_mese: String,
        pub luogo_evento: TipoLuogoEvento,
        #[serde(rename = "attoEventoANPR")]
        pub atto_evento_anpr: TipoAttoANPR,
    }
}

blocco_risposta! {
    /// `TipoAttoANPR`.
    pub struct TipoAttoANPR {
        pub atto: TipoAtto,
        #[serde(rename = "attoANSC")]
        pub atto_ansc: TipoAttoANSC,
    }
}

blocco_risposta! {
    /// `TipoAtto`.
    pub struct TipoAtto {
        pub comune_registrazione: TipoComune,
        pub ufficio_municipio: String,
        pub anno: String,
        pub parte: String,
        pub serie: String,
        pub numero_atto: String,
        pub volume: String,
        pub data_formazione_atto: String,
        pub trascritto: String,
    }
}

blocco_risposta! {
    /// `TipoAttoANSC`.
    pub struct TipoAttoANSC {
        #[serde(rename = "idANSC")]
        pub id_ansc: String,
        pub comune_registrazione: TipoComune,
        pub anno: String,
        pub ufficio_municipio: String,
        pub numero_comunale: String,
        pub data_formazione_atto: String,
        pub trascritto: String,
    }
}

blocco_risposta! {
    /// `TipoStatoCivile`: `statoCivile` is Tabella 01.
    pub struct TipoStatoCivile {
        pub stato_civile: String,
        pub note_stato_civile: String,
        #[serde(rename = "statoCivileND")]
        pub stato_civile_nd: String,
    }
}

blocco_risposta! {
    /// `TipoCittadinanza`: `codiceStato` is the ISTAT state code (Italia 100).
    pub struct TipoCittadinanza {
        pub descrizione_stato: String,
        pub codice_stato: String,
        pub note_stato: String,
        pub data_validita: String,
    }
}

blocco_risposta! {
    /// `TipoMatrimonio` (C017).
    pub struct TipoMatrimonio {
        pub coniuge: TipoGeneralita,
        pub cittadinanza: TipoCittadinanza,
        pub dati_matrimonio: TipoDatiEvento,
        pub ordine_matrimonio: String,
    }
}

blocco_risposta! {
    /// `TipoAnnullamentoMatrimonio` (C017).
    pub struct TipoAnnullamentoMatrimonio {
        pub tipo_cessazione: String,
    }
}

impl TipoDatiSoggettiEnte {
    /// The subject's idANPR, when the block carries `identificativi`.
    pub fn id_anpr(&self) -> Option<&str> {
        self.identificativi.as_ref()?.id_anpr.as_deref()
    }

    /// The subject's CF, when the block carries `generalita`.
    pub fn codice_fiscale(&self) -> Option<&str> {
        self.generalita
            .as_ref()?
            .codice_fiscale
            .as_ref()?
            .cod_fiscale
            .as_deref()
    }
}

impl RispostaE002OK {
    /// The subjects, an empty slice when `listaSoggetti` or `datiSoggetto` is absent.
    pub fn soggetti(&self) -> &[TipoDatiSoggettiEnte] {
        self.lista_soggetti
            .as_ref()
            .and_then(|l| l.dati_soggetto.as_deref())
            .unwrap_or(&[])
    }
}

// ---------------------------------------------------------------------------------------------
// Gateway and PDND

/// The RFC 7807 problem GovWay answers with (`application/problem+json`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ProblemaGovWay {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub tipo: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub govway_id: Option<String>,
}

impl ProblemaGovWay {
    /// The problem GovWay writes for `status` and `title`, with its documentation `type` URL.
    pub fn nuovo(status: u16, title: &str, detail: &str, govway_id: &str) -> Self {
        ProblemaGovWay {
            tipo: Some(format!(
                "https://govway.org/handling-errors/{status}/{title}.html"
            )),
            title: Some(title.to_string()),
            status: Some(status),
            detail: Some(detail.to_string()),
            govway_id: Some(govway_id.to_string()),
        }
    }
}

/// The `client_assertion_type` PDND wants.
pub const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// `AccessTokenRequest`: the form fields of `POST token.oauth2`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessTokenRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    pub client_assertion: String,
    pub client_assertion_type: String,
    pub grant_type: String,
}

impl std::fmt::Debug for AccessTokenRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessTokenRequest")
            .field("client_id", &self.client_id)
            .field("client_assertion", &"<omessa>")
            .field("client_assertion_type", &self.client_assertion_type)
            .field("grant_type", &self.grant_type)
            .finish()
    }
}

/// `ClientCredentialsResponse`: the voucher. Its Debug never shows the token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientCredentialsResponse {
    pub access_token: String,
    pub token_type: String,
    /// Seconds, at most 600.
    pub expires_in: i64,
}

impl std::fmt::Debug for ClientCredentialsResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentialsResponse")
            .field("access_token", &"<omesso>")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// PDND's `Problem` (token endpoint errors).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProblemaPdnd {
    #[serde(rename = "type", default)]
    pub tipo: String,
    #[serde(default)]
    pub status: u16,
    #[serde(default)]
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default)]
    pub errors: Vec<ProblemError>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
}

/// `ProblemError`: `code` is "NNN-NNNN".
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ProblemError {
    pub code: String,
    pub detail: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn richiesta_has_the_spec_member_names() {
        let r = RichiestaE002 {
            id_operazione_client: "1".into(),
            criteri_ricerca: TipoCriteriRicercaE002::per_codice_fiscale("QNTSGT90A01H501X"),
            verifica: None,
            dati_richiesta: TipoDatiRichiestaE002 {
                data_riferimento_richiesta: "2024-05-16".into(),
                motivo_richiesta: "1".into(),
                caso_uso: "C030".into(),
            },
        };
        // The sample body of the official Java client (NOTES §2.8).
        let atteso = r#"{"idOperazioneClient":"1","criteriRicerca":{"codiceFiscale":"QNTSGT90A01H501X"},"datiRichiesta":{"dataRiferimentoRichiesta":"2024-05-16","motivoRichiesta":"1","casoUso":"C030"}}"#;
        assert_eq!(serde_json::to_string(&r).unwrap(), atteso);
        let letto: RichiestaE002 = serde_json::from_str(atteso).unwrap();
        assert_eq!(letto, r);
    }

    #[test]
    fn richiesta_refuses_unknown_members_at_every_level() {
        let base = json!({"idOperazioneClient":"1","criteriRicerca":{"idANPR":"AF41450AS"},
            "datiRichiesta":{"dataRiferimentoRichiesta":"2024-05-16","motivoRichiesta":"x","casoUso":"C015"}});
        assert!(serde_json::from_value::<RichiestaE002>(base.clone()).is_ok());
        let mut top = base.clone();
        top["extra"] = json!(1);
        assert!(serde_json::from_value::<RichiestaE002>(top).is_err());
        let mut crit = base.clone();
        crit["criteriRicerca"]["numeroCartaIdentita"] = json!("CA000");
        assert!(serde_json::from_value::<RichiestaE002>(crit).is_err());
        let mut idanpr = base.clone();
        idanpr["criteriRicerca"] = json!({"idAnpr":"AF41450AS"});
        assert!(serde_json::from_value::<RichiestaE002>(idanpr).is_err());
        let mut dati = base;
        dati["datiRichiesta"]
            .as_object_mut()
            .unwrap()
            .remove("casoUso");
        assert!(serde_json::from_value::<RichiestaE002>(dati).is_err());
    }

    #[test]
    fn risposta_is_lenient_and_keeps_known_members() {
        let v = json!({
            "idOperazioneANPR": "1766578458",
            "nuovoCampo": {"x": 1},
            "listaSoggetti": {"datiSoggetto": [{
                "generalita": {"codiceFiscale": {"codFiscale": "STTSGT90A01H501J", "validitaCF": "1"},
                    "cognome": "SOGGETTO", "nome": "SETTIMO", "soggettoAIRE": "N", "altro": "?"},
                "identificativi": {"idANPR": "AF41450AS"},
                "residenza": [{"localitaEstera": {"indirizzoEstero": {"localita": {"descrizioneStato": "FRANCIA"}},
                    "consolato": {"codiceConsolato": "1"}}}],
                "infoSoggettoEnte": [{"id": "1015", "chiave": "Data decesso", "valoreData": "2021-11-13"}]
            }]},
            "listaAnomalie": [{"codiceErroreAnomalia": "EN148", "tipoErroreAnomalia": "W"}]
        });
        let r: RispostaE002OK = serde_json::from_value(v).unwrap();
        let s = &r.soggetti()[0];
        assert_eq!(s.id_anpr(), Some("AF41450AS"));
        assert_eq!(s.codice_fiscale(), Some("STTSGT90A01H501J"));
        assert_eq!(
            s.generalita.as_ref().unwrap().soggetto_aire.as_deref(),
            Some("N")
        );
        let estero = s.residenza.as_ref().unwrap()[0]
            .localita_estera
            .as_ref()
            .unwrap();
        assert_eq!(
            estero
                .indirizzo_estero
                .as_ref()
                .unwrap()
                .localita
                .as_ref()
                .unwrap()
                .descrizione_stato
                .as_deref(),
            Some("FRANCIA")
        );
        let ritorno = serde_json::to_value(&r).unwrap();
        assert!(ritorno.get("nuovoCampo").is_none());
        assert_eq!(
            ritorno["listaSoggetti"]["datiSoggetto"][0]["identificativi"]["idANPR"],
            "AF41450AS"
        );
        assert!(
            ritorno["listaSoggetti"]["datiSoggetto"][0]
                .get("statoCivile")
                .is_none()
        );
    }

    #[test]
    fn problema_govway_has_the_documented_shape() {
        let p = ProblemaGovWay::nuovo(429, "LimitExceeded", "Limit exceeded detected", "abc");
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(
            v,
            json!({"type":"https://govway.org/handling-errors/429/LimitExceeded.html",
                "title":"LimitExceeded","status":429,"detail":"Limit exceeded detected","govway_id":"abc"})
        );
    }

    #[test]
    fn voucher_never_shows_in_debug() {
        let t = ClientCredentialsResponse {
            access_token: "eyJsegreto".into(),
            token_type: "Bearer".into(),
            expires_in: 600,
        };
        assert!(!format!("{t:?}").contains("segreto"));
        let a = AccessTokenRequest {
            client_id: Some("c".into()),
            client_assertion: "eyJsegreto".into(),
            client_assertion_type: CLIENT_ASSERTION_TYPE.into(),
            grant_type: "client_credentials".into(),
        };
        assert!(!format!("{a:?}").contains("segreto"));
    }
}
