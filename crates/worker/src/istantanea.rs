//! The request's snapshot (DESIGN §1): what was true at submission and what the worker runs
//! under, days later, even if the convention or the profile changed since. It is stored as the
//! JSON of [`Istantanea`] in `richieste.snapshot`.

use crate::ErroreWorker;
use anpr::servizi::Servizio;
use domain::ambito::Ambito;
use domain::gruppi::GruppoCampi;
use files::output::{CodiceCampo, Layout};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use store::Store;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Istantanea {
    /// `userID` of the tracking evidence: the submitter's user code, or the Comune's operator
    /// under `user_id_mode = "operatore_anagrafe"`.
    #[serde(rename = "userID")]
    pub user_id: String,
    #[serde(rename = "LoA")]
    pub loa: String,
    /// The Ente's office code, at most 20 characters.
    #[serde(rename = "userLocation")]
    pub user_location: String,
    /// The profile's field groups: nothing outside them is ever written.
    pub campi: Vec<GruppoCampi>,
    pub ambito: Ambito,
    /// The convention's purposeId per service code; an empty value means the Comune's default.
    pub finalita: BTreeMap<String, String>,
    /// The output layout, narrowed to the profile's groups by [`Istantanea::layout`].
    pub tracciato: Layout,
    /// ISTAT codes of the Comuni in scope, for a restricted scope; `None` for ITALIA.
    pub comuni_in_ambito: Option<Vec<String>>,
    pub conservazione_giorni: i64,
    /// The convention's national-search opt-in (scope ITALIA only): 3002 then sends
    /// `ricercaNazionale` = 1. Absent in snapshots taken before the Comune's channel existed.
    #[serde(default)]
    pub ricerca_nazionale: bool,
}

impl Istantanea {
    /// Builds the snapshot at submission from the convention, the user's profile and the
    /// Ente. `loa` is how the submitter signed in (`LoA1`, `LoA2`).
    pub async fn componi(
        store: &Store,
        convenzione_id: i64,
        utente_id: i64,
        loa: &str,
    ) -> Result<Istantanea, ErroreWorker> {
        let conv = store.convenzione(convenzione_id).await?;
        let utente = store.utente(utente_id).await?;
        let ente = store.ente(conv.ente_id).await?;
        let (campi, ambito) = match store.profilo(utente_id, convenzione_id).await? {
            Some(p) => (p.campi, p.ambito),
            None => (conv.campi.clone(), conv.ambito),
        };
        let tracciato =
            layout_da_json(&conv.tracciato).ok_or_else(|| ErroreWorker::Istantanea {
                richiesta_id: 0,
                motivo: "il tracciato della convenzione non è un tracciato di risposta".into(),
            })?;
        let comuni_in_ambito = match ambito {
            Ambito::Italia => None,
            Ambito::Comune => Some(vec![store.comune(conv.comune_id).await?.codice_istat]),
            Ambito::ComuniConvenzionati => {
                let mut codici = BTreeSet::new();
                for c in store.convenzioni(conv.ente_id, true).await? {
                    codici.insert(store.comune(c.comune_id).await?.codice_istat);
                }
                Some(codici.into_iter().collect())
            }
        };
        Ok(Istantanea {
            user_id: utente.codice_utente,
            loa: loa.to_string(),
            user_location: ente.codice_ufficio,
            campi,
            ambito,
            finalita: conv.finalita,
            tracciato,
            comuni_in_ambito,
            conservazione_giorni: conv.conservazione_giorni,
            ricerca_nazionale: ambito == Ambito::Italia && conv.ricerca_nazionale,
        })
    }

    pub fn da_json(richiesta_id: i64, v: &serde_json::Value) -> Result<Istantanea, ErroreWorker> {
        serde_json::from_value(v.clone()).map_err(|e| ErroreWorker::Istantanea {
            richiesta_id,
            motivo: e.to_string(),
        })
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// The layout with only the fields of the profile's groups.
    pub fn layout(&self) -> Layout {
        let mut l = self.tracciato.clone();
        l.campi.retain(|c| self.campi.contains(&c.gruppo()));
        l
    }

    /// The field groups the plan must cover: those of the layout's fields.
    pub fn gruppi(&self) -> BTreeSet<GruppoCampi> {
        self.layout().campi.iter().map(|c| c.gruppo()).collect()
    }

    /// The services a row may use: those the convention names (with its own purposeId or the
    /// Comune's default) and the Comune has configured; every configured one when the
    /// convention names none.
    pub fn servizi_abilitati(&self, configurati: &[Servizio]) -> Vec<Servizio> {
        if self.finalita.is_empty() {
            return configurati.to_vec();
        }
        Servizio::ALL
            .into_iter()
            .filter(|s| match self.finalita.get(s.codice()) {
                Some(p) if !p.is_empty() => true,
                Some(_) => configurati.contains(s),
                None => false,
            })
            .collect()
    }

    /// The convention's own purposeIds, by service.
    pub fn purpose_per_servizio(&self) -> BTreeMap<Servizio, String> {
        self.finalita
            .iter()
            .filter(|(_, p)| !p.is_empty())
            .filter_map(|(s, p)| Servizio::parse(s).map(|s| (s, p.clone())))
            .collect()
    }
}

/// A convention's `tracciato`: a full [`Layout`], or just the list of field codes (the
/// defaults of DESIGN §5 for the rest).
pub fn layout_da_json(v: &serde_json::Value) -> Option<Layout> {
    if let Ok(l) = serde_json::from_value::<Layout>(v.clone()) {
        return Some(l);
    }
    let campi = v.get("campi").unwrap_or(v);
    serde_json::from_value::<Vec<CodiceCampo>>(campi.clone())
        .ok()
        .map(Layout::new)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn istantanea(finalita: &[(&str, &str)]) -> Istantanea {
        Istantanea {
            user_id: "MR01".into(),
            loa: "LoA2".into(),
            user_location: "PL-01".into(),
            campi: vec![GruppoCampi::Generalita, GruppoCampi::Residenza],
            ambito: Ambito::Italia,
            finalita: finalita
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            tracciato: Layout::new(vec![
                CodiceCampo::Cognome,
                CodiceCampo::Cittadinanze,
                CodiceCampo::ResidenzaComune,
            ]),
            comuni_in_ambito: None,
            conservazione_giorni: 7,
            ricerca_nazionale: false,
        }
    }

    #[test]
    fn il_profilo_restringe_il_tracciato() {
        let i = istantanea(&[]);
        assert_eq!(
            i.layout().campi,
            vec![CodiceCampo::Cognome, CodiceCampo::ResidenzaComune]
        );
        assert_eq!(
            i.gruppi(),
            BTreeSet::from([GruppoCampi::Generalita, GruppoCampi::Residenza])
        );
        // The stored form uses the tracking evidence's claim names.
        let j = i.json();
        assert_eq!(j["userID"], "MR01");
        assert_eq!(j["LoA"], "LoA2");
        assert_eq!(Istantanea::da_json(1, &j).unwrap(), i);
    }

    #[test]
    fn servizi_della_convenzione() {
        let configurati = [Servizio::C030, Servizio::C020, Servizio::C015];
        assert_eq!(
            istantanea(&[]).servizi_abilitati(&configurati),
            configurati.to_vec()
        );
        // C030 with the Comune's default, C018 with its own purpose, C020 not named.
        let i = istantanea(&[("C030", ""), ("C018", "p-18"), ("C021", "")]);
        assert_eq!(
            i.servizi_abilitati(&configurati),
            vec![Servizio::C018, Servizio::C030]
        );
        assert_eq!(
            i.purpose_per_servizio(),
            BTreeMap::from([(Servizio::C018, "p-18".to_string())])
        );
    }

    #[test]
    fn tracciato_solo_campi() {
        let l = layout_da_json(&json!(["cognome", "nome"])).unwrap();
        assert_eq!(
            l,
            Layout::new(vec![CodiceCampo::Cognome, CodiceCampo::Nome])
        );
        let l = layout_da_json(&json!({"campi": ["id_anpr"]})).unwrap();
        assert_eq!(l.campi, vec![CodiceCampo::IdAnpr]);
        assert!(layout_da_json(&json!({"campi": ["inesistente"]})).is_none());
    }
}
