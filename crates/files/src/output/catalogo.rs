//! The field catalogue: every code a layout may list (DESIGN §4 table, NOTES §5).
//!
//! Codes are stable: layouts stored in conventions refer to them, so a code is never renamed.
//! JSON paths are read inside one merged `listaSoggetti.datiSoggetto[i]` (blocks sharing an
//! idANPR merged). Document fields come only from the Comune channel (3002): their source is the
//! 3002 element, and the extraction reads the same names from the 3002 `datiSoggetto` turned into JSON.

use domain::gruppi::GruppoCampi;
use serde::{Deserialize, Serialize};

use super::tabelle::Tabella;

/// Where ANPR keeps a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fonte {
    /// A dotted path inside `datiSoggetto`; `[0]` takes the first element of an array.
    Json(&'static str),
    /// Built from several JSON values, or chosen among alternatives: the text says how.
    Derivata(&'static str),
    /// An element of the 3002 `datiSoggetto` (Comune channel), as `blocco/elemento`.
    Ws3002(&'static str),
}

impl Fonte {
    /// The dotted JSON path to read directly, for the fields that have one.
    pub fn percorso_json(&self) -> Option<String> {
        match self {
            Fonte::Json(p) => Some((*p).to_owned()),
            Fonte::Ws3002(e) => Some(e.replace('/', ".")),
            Fonte::Derivata(_) => None,
        }
    }
}

/// One entry of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefinizioneCampo {
    pub codice: CodiceCampo,
    /// The header text in CSV and XLSX files.
    pub etichetta: &'static str,
    pub gruppo: GruppoCampi,
    pub fonte: Fonte,
    /// The services whose answer carries the field ("C015", …; "3002" for the Comune channel).
    pub servizi: &'static [&'static str],
    /// The ANPR decode table, for coded values.
    pub tabella: Option<Tabella>,
    /// A date, written in the layout's date format.
    pub data: bool,
}

const ID: &[&str] = &[
    "C030", "C001", "C015", "C017", "C018", "C019", "C020", "C021", "3002",
];
const GEN: &[&str] = &["C015", "C001", "C020", "C018", "C019", "C021", "3002"];
const STATO_CIVILE: &[&str] = &["C015", "C017", "3002"];
const RES: &[&str] = &["C020", "C001", "3002"];
const CITT: &[&str] = &["C018", "3002"];
// 3002 carries them too (`datiDecesso`, `domicilioDigitale`, `matrimonio`; esistenza in vita
// from the absence of `datiDecesso` when it was asked): see `anpr::ws::messaggi::dati_richiesti`.
const DECESSO: &[&str] = &["C019", "C020", "C015", "C021", "3002"];
const VITA: &[&str] = &["C019", "C001", "3002"];
const FAM: &[&str] = &["C021"];
const DOMICILIO: &[&str] = &["C001", "3002"];
const MATRIMONIO: &[&str] = &["C017", "3002"];
const DOC: &[&str] = &["3002"];

macro_rules! catalogo {
    ($( $var:ident => $codice:literal, $etichetta:literal, $gruppo:ident, $fonte:expr, $servizi:expr, $tabella:expr, $data:expr; )*) => {
        /// A field code (snake_case in layouts, files and JSON).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum CodiceCampo { $( $var, )* }

        /// The whole catalogue, in its canonical order.
        pub const CATALOGO: &[DefinizioneCampo] = &[
            $( DefinizioneCampo {
                codice: CodiceCampo::$var,
                etichetta: $etichetta,
                gruppo: GruppoCampi::$gruppo,
                fonte: $fonte,
                servizi: $servizi,
                tabella: $tabella,
                data: $data,
            }, )*
        ];

        impl CodiceCampo {
            /// The stable code, as written in layouts and JSON Lines keys.
            pub fn as_str(self) -> &'static str {
                match self { $( CodiceCampo::$var => $codice, )* }
            }
        }
    };
}

use Fonte::{Derivata, Json, Ws3002};

catalogo! {
    IdAnpr => "id_anpr", "ID ANPR", IdAnpr, Json("identificativi.idANPR"), ID, None, false;
    CodiceFiscale => "codice_fiscale", "Codice fiscale", Generalita, Json("generalita.codiceFiscale.codFiscale"), GEN, None, false;
    Cognome => "cognome", "Cognome", Generalita, Json("generalita.cognome"), GEN, None, false;
    Nome => "nome", "Nome", Generalita, Json("generalita.nome"), GEN, None, false;
    Sesso => "sesso", "Sesso", Generalita, Json("generalita.sesso"), GEN, None, false;
    DataNascita => "data_nascita", "Data di nascita", Generalita,
        Derivata("generalita.dataNascita; con senzaGiorno solo mese e anno, con senzaGiornoMese solo l'anno"),
        GEN, None, true;
    ComuneNascita => "comune_nascita", "Comune di nascita", Generalita,
        Json("generalita.luogoNascita.comune.nomeComune"), GEN, None, false;
    ComuneNascitaCodiceIstat => "comune_nascita_codice_istat", "Codice ISTAT comune di nascita", Generalita,
        Json("generalita.luogoNascita.comune.codiceIstat"), GEN, None, false;
    ProvinciaNascita => "provincia_nascita", "Provincia di nascita", Generalita,
        Json("generalita.luogoNascita.comune.siglaProvinciaIstat"), GEN, None, false;
    LocalitaNascitaEstera => "localita_nascita_estera", "Località estera di nascita", Generalita,
        Json("generalita.luogoNascita.localita.descrizioneLocalita"), GEN, None, false;
    StatoNascita => "stato_nascita", "Stato di nascita", Generalita,
        Derivata("generalita.luogoNascita.localita.descrizioneStato; ITALIA quando c'è luogoNascita.comune"),
        GEN, None, false;
    SoggettoAire => "soggetto_aire", "Iscritto AIRE", Generalita, Json("generalita.soggettoAIRE"), GEN, None, false;
    AnnoEspatrio => "anno_espatrio", "Anno di espatrio", Generalita, Json("generalita.annoEspatrio"), GEN, None, false;
    StatoCivile => "stato_civile", "Stato civile", StatoCivile, Json("statoCivile.statoCivile"),
        STATO_CIVILE, Some(Tabella::StatoCivile), false;
    ResidenzaTipoIndirizzo => "residenza_tipo_indirizzo", "Tipo indirizzo", Residenza,
        Json("residenza[0].tipoIndirizzo"), RES, Some(Tabella::TipoIndirizzo), false;
    ResidenzaToponimo => "residenza_toponimo", "Indirizzo di residenza", Residenza,
        Derivata("residenza[0].indirizzo.toponimo: specie + denominazioneToponimo"), RES, None, false;
    ResidenzaCivico => "residenza_civico", "Numero civico", Residenza,
        Derivata("residenza[0].indirizzo.numeroCivico: numero, /lettera, esponente1"), RES, None, false;
    ResidenzaCivicoNumero => "residenza_civico_numero", "Civico: numero", Residenza,
        Json("residenza[0].indirizzo.numeroCivico.numero"), RES, None, false;
    ResidenzaCivicoLettera => "residenza_civico_lettera", "Civico: lettera", Residenza,
        Json("residenza[0].indirizzo.numeroCivico.lettera"), RES, None, false;
    ResidenzaCivicoEsponente => "residenza_civico_esponente", "Civico: esponente", Residenza,
        Json("residenza[0].indirizzo.numeroCivico.esponente1"), RES, None, false;
    ResidenzaScala => "residenza_scala", "Scala", Residenza,
        Json("residenza[0].indirizzo.numeroCivico.civicoInterno.scala"), RES, None, false;
    ResidenzaInterno => "residenza_interno", "Interno", Residenza,
        Derivata("residenza[0].indirizzo.numeroCivico.civicoInterno: interno1 + espInterno1"), RES, None, false;
    ResidenzaPiano => "residenza_piano", "Piano", Residenza,
        Json("residenza[0].indirizzo.numeroCivico.civicoInterno.piano"), RES, None, false;
    ResidenzaCap => "residenza_cap", "CAP di residenza", Residenza, Json("residenza[0].indirizzo.cap"), RES, None, false;
    ResidenzaFrazione => "residenza_frazione", "Frazione", Residenza, Json("residenza[0].indirizzo.frazione"), RES, None, false;
    ResidenzaComune => "residenza_comune", "Comune di residenza", Residenza,
        Json("residenza[0].indirizzo.comune.nomeComune"), RES, None, false;
    ResidenzaCodiceIstat => "residenza_codice_istat", "Codice ISTAT comune di residenza", Residenza,
        Json("residenza[0].indirizzo.comune.codiceIstat"), RES, None, false;
    ResidenzaProvincia => "residenza_provincia", "Provincia di residenza", Residenza,
        Json("residenza[0].indirizzo.comune.siglaProvinciaIstat"), RES, None, false;
    ResidenzaDecorrenza => "residenza_decorrenza", "Decorrenza residenza", Residenza,
        Json("residenza[0].dataDecorrenzaResidenza"), RES, None, true;
    ResidenzaPresso => "residenza_presso", "Presso", Residenza, Json("residenza[0].presso"), RES, None, false;
    ResidenzaEsteraIndirizzo => "residenza_estera_indirizzo", "Indirizzo estero", Residenza,
        Derivata("residenza[0].localitaEstera.indirizzoEstero.toponimo: denominazione + numeroCivico"), RES, None, false;
    ResidenzaEsteraCap => "residenza_estera_cap", "CAP estero", Residenza,
        Json("residenza[0].localitaEstera.indirizzoEstero.cap"), RES, None, false;
    ResidenzaEsteraLocalita => "residenza_estera_localita", "Località estera di residenza", Residenza,
        Json("residenza[0].localitaEstera.indirizzoEstero.localita.descrizioneLocalita"), RES, None, false;
    ResidenzaEsteraStato => "residenza_estera_stato", "Stato estero di residenza", Residenza,
        Json("residenza[0].localitaEstera.indirizzoEstero.localita.descrizioneStato"), RES, None, false;
    Consolato => "consolato", "Consolato", Residenza,
        Json("residenza[0].localitaEstera.consolato.descrizioneConsolato"), RES, None, false;
    Cittadinanze => "cittadinanze", "Cittadinanze", Cittadinanza,
        Derivata("cittadinanza[].descrizioneStato (codiceStato con i codici), unite da \" | \""), CITT, None, false;
    EsistenzaInVita => "esistenza_in_vita", "Esistenza in vita", EsistenzaInVita,
        Derivata("infoSoggettoEnte con chiave \"Verifica esistenza in vita\" (id 1003): valore S/N"), VITA, None, false;
    DataDecesso => "data_decesso", "Data di decesso", DataDecesso,
        Derivata("infoSoggettoEnte con chiave \"Data decesso\" (id 1015): valoreData; altrimenti datiDecesso.dataEvento"),
        DECESSO, None, true;
    DomicilioDigitale => "domicilio_digitale", "Domicilio digitale", DomicilioDigitale,
        Derivata("domicilioDigitale.indirizzoDigitale; altrimenti infoSoggettoEnte con chiave che contiene \"domicilio digitale\": valoreTesto"),
        DOMICILIO, None, false;
    ConiugeCodiceFiscale => "coniuge_codice_fiscale", "Codice fiscale del coniuge", Matrimonio,
        Json("matrimonio.coniuge.codiceFiscale.codFiscale"), MATRIMONIO, None, false;
    ConiugeCognome => "coniuge_cognome", "Cognome del coniuge", Matrimonio, Json("matrimonio.coniuge.cognome"), MATRIMONIO, None, false;
    ConiugeNome => "coniuge_nome", "Nome del coniuge", Matrimonio, Json("matrimonio.coniuge.nome"), MATRIMONIO, None, false;
    DataMatrimonio => "data_matrimonio", "Data del matrimonio", Matrimonio,
        Json("matrimonio.datiMatrimonio.dataEvento"), MATRIMONIO, None, true;
    FamigliaComponenti => "famiglia_componenti", "Componenti della famiglia", Famiglia,
        Derivata("numero dei datiSoggetto nella risposta C021"), FAM, None, false;
    FamigliaLegameIntestatario => "famiglia_legame_intestatario", "Relazione con l'intestatario", Famiglia,
        Json("legameSoggetto.codiceLegame"), FAM, Some(Tabella::Legame), false;
    FamigliaProgressivo => "famiglia_progressivo", "Progressivo componente", Famiglia,
        Json("legameSoggetto.progressivoComponente"), FAM, None, false;
    FamigliaDecorrenzaLegame => "famiglia_decorrenza_legame", "Decorrenza del legame", Famiglia,
        Derivata("legameSoggetto.dataDecorrenzaLegame; altrimenti legameSoggetto.dataDecorrenza"), FAM, None, true;
    CartaIdentitaNumero => "carta_identita_numero", "Numero carta d'identità", Documenti,
        Ws3002("cartaIdentita/numero"), DOC, None, false;
    CartaIdentitaDataRilascio => "carta_identita_data_rilascio", "Rilascio carta d'identità", Documenti,
        Ws3002("cartaIdentita/dataRilascio"), DOC, None, true;
    CartaIdentitaDataScadenza => "carta_identita_data_scadenza", "Scadenza carta d'identità", Documenti,
        Ws3002("cartaIdentita/dataScadenza"), DOC, None, true;
    CartaIdentitaComuneRilascio => "carta_identita_comune_rilascio", "Comune o consolato di rilascio carta d'identità", Documenti,
        Derivata("3002 cartaIdentita/comuneRilascio/nomeComune, oppure cartaIdentita/consolatoRilascio/descrizioneConsolato"),
        DOC, None, false;
    PermessoNumero => "permesso_numero", "Numero permesso di soggiorno", Documenti,
        Ws3002("permessoSoggiorno/numeroSoggiorno"), DOC, None, false;
    PermessoTipo => "permesso_tipo", "Tipo permesso di soggiorno", Documenti,
        Ws3002("permessoSoggiorno/tipoSoggiorno"), DOC, Some(Tabella::TipoSoggiorno), false;
    PermessoDataRilascio => "permesso_data_rilascio", "Rilascio permesso di soggiorno", Documenti,
        Ws3002("permessoSoggiorno/dataRilascio"), DOC, None, true;
    PermessoDataScadenza => "permesso_data_scadenza", "Scadenza permesso di soggiorno", Documenti,
        Ws3002("permessoSoggiorno/dataScadenza"), DOC, None, true;
    PermessoQuestura => "permesso_questura", "Questura di rilascio permesso", Documenti,
        Ws3002("permessoSoggiorno/questuraRilascioSoggiorno"), DOC, None, false;
    PassaportoNumero => "passaporto_numero", "Numero passaporto", Documenti,
        Ws3002("permessoSoggiorno/numeroPassaporto"), DOC, None, false;
}

impl CodiceCampo {
    /// Reads a code as written in a layout (case-insensitive, surrounding spaces ignored).
    pub fn parse(s: &str) -> Option<CodiceCampo> {
        let s = s.trim();
        CATALOGO
            .iter()
            .map(|d| d.codice)
            .find(|c| c.as_str().eq_ignore_ascii_case(s))
    }

    pub fn definizione(self) -> &'static DefinizioneCampo {
        // The macro writes CATALOGO in declaration order, so the discriminant is the index.
        &CATALOGO[self as usize]
    }

    pub fn etichetta(self) -> &'static str {
        self.definizione().etichetta
    }

    pub fn gruppo(self) -> GruppoCampi {
        self.definizione().gruppo
    }
}

impl std::fmt::Display for CodiceCampo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The fields of a group, in catalogue order.
pub fn campi_del_gruppo(gruppo: GruppoCampi) -> impl Iterator<Item = CodiceCampo> {
    CATALOGO
        .iter()
        .filter(move |d| d.gruppo == gruppo)
        .map(|d| d.codice)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_and_labels_are_unique_and_index_matches() {
        let mut codici = HashSet::new();
        let mut etichette = HashSet::new();
        for (i, d) in CATALOGO.iter().enumerate() {
            assert_eq!(d.codice as usize, i);
            assert!(
                codici.insert(d.codice.as_str()),
                "codice doppio {}",
                d.codice
            );
            assert!(
                etichette.insert(d.etichetta),
                "etichetta doppia {}",
                d.etichetta
            );
            assert!(!d.servizi.is_empty());
            let serde = serde_json::to_string(&d.codice).unwrap();
            assert_eq!(serde, format!("\"{}\"", d.codice.as_str()));
            assert_eq!(CodiceCampo::parse(d.codice.as_str()), Some(d.codice));
        }
    }

    #[test]
    fn design_groups_and_services() {
        assert_eq!(
            CodiceCampo::parse(" Stato_Civile "),
            Some(CodiceCampo::StatoCivile)
        );
        assert_eq!(CodiceCampo::parse("stato civile"), None);
        let d = CodiceCampo::Cittadinanze.definizione();
        assert_eq!(d.gruppo, GruppoCampi::Cittadinanza);
        assert!(d.servizi.contains(&"C018"));
        let d = CodiceCampo::CartaIdentitaNumero.definizione();
        assert_eq!(d.servizi, &["3002"]);
        assert_eq!(
            d.fonte.percorso_json().as_deref(),
            Some("cartaIdentita.numero")
        );
        assert_eq!(
            CodiceCampo::EsistenzaInVita.definizione().servizi,
            &["C019", "C001", "3002"]
        );
        assert_eq!(
            CodiceCampo::FamigliaLegameIntestatario
                .definizione()
                .tabella,
            Some(Tabella::Legame)
        );
        // Every group of the domain has at least one field.
        for g in GruppoCampi::ALL {
            assert!(campi_del_gruppo(g).next().is_some(), "{g:?}");
        }
    }
}
