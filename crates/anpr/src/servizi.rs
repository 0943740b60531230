//! The ANPR e-services Rivesto uses on PDND (NOTES §1, DESIGN §4).

use domain::gruppi::GruppoCampi;
use serde::{Deserialize, Serialize};

/// One ANPR e-service. Each needs its own purposeId and has its own daily quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Servizio {
    C001,
    C004,
    C015,
    C017,
    C018,
    C019,
    C020,
    C021,
    C030,
}

/// A data block of `TipoDatiSoggettiEnte`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Blocco {
    Generalita,
    StatoCivile,
    Residenza,
    Cittadinanza,
    InfoSoggettoEnte,
    Identificativi,
    LegameSoggetto,
    DatiDecesso,
    Matrimonio,
}

impl Servizio {
    pub const ALL: [Servizio; 9] = [
        Servizio::C001,
        Servizio::C004,
        Servizio::C015,
        Servizio::C017,
        Servizio::C018,
        Servizio::C019,
        Servizio::C020,
        Servizio::C021,
        Servizio::C030,
    ];

    /// "C0NN": the key in the onboarding file and the `casoUso` of the request.
    pub fn codice(self) -> &'static str {
        match self {
            Servizio::C001 => "C001",
            Servizio::C004 => "C004",
            Servizio::C015 => "C015",
            Servizio::C017 => "C017",
            Servizio::C018 => "C018",
            Servizio::C019 => "C019",
            Servizio::C020 => "C020",
            Servizio::C021 => "C021",
            Servizio::C030 => "C030",
        }
    }

    /// Reads "C030" (any case, surrounding spaces ignored).
    pub fn parse(s: &str) -> Option<Servizio> {
        let s = s.trim().to_ascii_uppercase();
        Servizio::ALL.into_iter().find(|x| x.codice() == s)
    }

    /// `casoUso` in `datiRichiesta`.
    pub fn caso_uso(self) -> &'static str {
        self.codice()
    }

    /// The path segment after `…/MinInternoPortaANPR-PDND/` (manual-approval variant; the
    /// `-approvazione_automatica` one is set per service in the onboarding file).
    pub fn path_predefinito(self) -> &'static str {
        match self {
            // The C001 spec's server URL has an en dash; working clients use the ASCII hyphen.
            Servizio::C001 => "C001-servizioNotifica",
            Servizio::C004 => "C004-servizioVerificaDichDecesso",
            Servizio::C015 => "C015-servizioAccertamentoGeneralita",
            Servizio::C017 => "C017-servizioAccertamentoMatrimonio",
            Servizio::C018 => "C018-servizioAccertamentoCittadinanza",
            Servizio::C019 => "C019-servizioAccertamentoEsistenzaVita",
            Servizio::C020 => "C020-servizioAccertamentoResidenza",
            Servizio::C021 => "C021-servizioAccertamentoStatoFamiglia",
            Servizio::C030 => "C030-servizioAccertamentoIdUnicoNazionale",
        }
    }

    pub fn versione_predefinita(self) -> &'static str {
        "v1"
    }

    /// The blocks of `datiSoggetto` the service returns (NOTES §1.1, §2.3).
    pub fn blocchi(self) -> &'static [Blocco] {
        use Blocco::*;
        match self {
            Servizio::C001 => &[Generalita, Residenza, InfoSoggettoEnte, Identificativi],
            Servizio::C004 => &[InfoSoggettoEnte],
            Servizio::C015 => &[Generalita, StatoCivile, Identificativi, InfoSoggettoEnte],
            Servizio::C017 => &[Matrimonio, StatoCivile, Identificativi],
            Servizio::C018 => &[Generalita, Cittadinanza, Identificativi],
            Servizio::C019 => &[Generalita, Identificativi, InfoSoggettoEnte],
            Servizio::C020 => &[Generalita, Residenza, Identificativi, InfoSoggettoEnte],
            Servizio::C021 => &[
                Generalita,
                Identificativi,
                DatiDecesso,
                LegameSoggetto,
                InfoSoggettoEnte,
            ],
            Servizio::C030 => &[Identificativi],
        }
    }

    /// The field groups an answer of this service fills (DESIGN §4 field-group table).
    pub fn gruppi(self) -> &'static [GruppoCampi] {
        use GruppoCampi::*;
        match self {
            Servizio::C001 => &[
                IdAnpr,
                Generalita,
                Residenza,
                EsistenzaInVita,
                DomicilioDigitale,
            ],
            Servizio::C004 => &[],
            Servizio::C015 => &[IdAnpr, Generalita, StatoCivile, DataDecesso],
            Servizio::C017 => &[IdAnpr, StatoCivile, Matrimonio],
            Servizio::C018 => &[IdAnpr, Generalita, Cittadinanza],
            Servizio::C019 => &[IdAnpr, Generalita, DataDecesso, EsistenzaInVita],
            Servizio::C020 => &[IdAnpr, Generalita, Residenza, DataDecesso],
            Servizio::C021 => &[IdAnpr, Generalita, DataDecesso, Famiglia],
            Servizio::C030 => &[IdAnpr],
        }
    }

    pub fn porta(self, gruppo: GruppoCampi) -> bool {
        self.gruppi().contains(&gruppo)
    }

    /// C001 and C004 refuse an unseen idOperazioneClient lower than the last one sent.
    pub fn ordina_id(self) -> bool {
        matches!(self, Servizio::C001 | Servizio::C004)
    }

    /// C030's `criteriRicerca` has no `idANPR` member.
    pub fn accetta_id_anpr(self) -> bool {
        !matches!(self, Servizio::C030)
    }

    /// C021 answers with one `datiSoggetto` per family member: several idANPR are not ambiguity.
    pub fn piu_soggetti_per_persona(self) -> bool {
        matches!(self, Servizio::C021)
    }
}

impl std::fmt::Display for Servizio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.codice())
    }
}

/// Where a service lives: its path segment and version, after the onboarding file's overrides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    pub servizio: Servizio,
    pub path: String,
    pub version: String,
}

impl Endpoint {
    /// The default path and version.
    pub fn predefinito(servizio: Servizio) -> Self {
        Endpoint {
            servizio,
            path: servizio.path_predefinito().to_string(),
            version: servizio.versione_predefinita().to_string(),
        }
    }

    /// `{base_url}/{path}/{version}/anpr-service-e002`.
    pub fn endpoint_url(&self, base_url: &str) -> String {
        format!("{}/anpr-service-e002", self.radice(base_url))
    }

    /// `{base_url}/{path}/{version}/status`.
    pub fn status_url(&self, base_url: &str) -> String {
        format!("{}/status", self.radice(base_url))
    }

    /// `{audience_base}/{path}/{version}`: the `aud` of the Agid JWS and of the voucher, without
    /// `-PDND` and without `/anpr-service-e002` (NOTES §0.5).
    pub fn audience(&self, audience_base: &str) -> String {
        self.radice(audience_base)
    }

    fn radice(&self, base: &str) -> String {
        format!(
            "{}/{}/{}",
            base.trim_end_matches('/'),
            self.path.trim_matches('/'),
            self.version.trim_matches('/')
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "https://modipa-val.anpr.interno.it/govway/rest/in/MinInternoPortaANPR-PDND";
    const AUD: &str = "https://modipa-val.anpr.interno.it/govway/rest/in/MinInternoPortaANPR";

    #[test]
    fn urls_of_c030_as_in_notes() {
        let e = Endpoint::predefinito(Servizio::C030);
        assert_eq!(
            e.endpoint_url(BASE),
            "https://modipa-val.anpr.interno.it/govway/rest/in/MinInternoPortaANPR-PDND/C030-servizioAccertamentoIdUnicoNazionale/v1/anpr-service-e002"
        );
        assert_eq!(
            e.status_url(&format!("{BASE}/")),
            "https://modipa-val.anpr.interno.it/govway/rest/in/MinInternoPortaANPR-PDND/C030-servizioAccertamentoIdUnicoNazionale/v1/status"
        );
        assert_eq!(
            e.audience(AUD),
            "https://modipa-val.anpr.interno.it/govway/rest/in/MinInternoPortaANPR/C030-servizioAccertamentoIdUnicoNazionale/v1"
        );
    }

    #[test]
    fn override_for_automatic_approval() {
        let e = Endpoint {
            servizio: Servizio::C020,
            path: "C020-servizioAccertamentoResidenza-approvazione_automatica".into(),
            version: "v2".into(),
        };
        assert_eq!(
            e.audience(AUD),
            format!("{AUD}/C020-servizioAccertamentoResidenza-approvazione_automatica/v2")
        );
    }

    #[test]
    fn catalogue_facts() {
        assert_eq!(Servizio::parse(" c021 "), Some(Servizio::C021));
        assert_eq!(Servizio::parse("C099"), None);
        assert!(!Servizio::C030.accetta_id_anpr());
        assert!(Servizio::C015.accetta_id_anpr());
        let ordinati: Vec<_> = Servizio::ALL
            .into_iter()
            .filter(|s| s.ordina_id())
            .collect();
        assert_eq!(ordinati, vec![Servizio::C001, Servizio::C004]);
        assert_eq!(Servizio::C030.blocchi(), &[Blocco::Identificativi]);
        assert!(Servizio::C001.porta(GruppoCampi::DomicilioDigitale));
        assert!(!Servizio::C020.porta(GruppoCampi::EsistenzaInVita));
        assert!(Servizio::C017.porta(GruppoCampi::Matrimonio));
        for s in Servizio::ALL {
            assert!(s.path_predefinito().starts_with(s.codice()));
            assert_eq!(s.caso_uso(), s.codice());
        }
    }
}
