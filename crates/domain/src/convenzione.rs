//! A convention's approval policy, volume caps and validity (DESIGN §1, §2). They are stored as
//! JSON, so each has a stable serde form.

use crate::numeri::migliaia;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// How a request under the convention gets approved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "tipo", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PoliticaApprovazione {
    /// A TOP of the Comune approves or rejects.
    Manuale,
    /// `sistema` approves once `ritardo_ms` has passed since submission (0: at once), unless a
    /// TOP decided first.
    SilenzioAssenso { ritardo_ms: u64 },
}

impl PoliticaApprovazione {
    /// When silent consent fires for a request submitted at `inviata_ms`; `None` when manual.
    pub fn scadenza_silenzio(self, inviata_ms: i64) -> Option<i64> {
        match self {
            PoliticaApprovazione::Manuale => None,
            PoliticaApprovazione::SilenzioAssenso { ritardo_ms } => {
                Some(inviata_ms.saturating_add(i64::try_from(ritardo_ms).unwrap_or(i64::MAX)))
            }
        }
    }
}

/// Volume caps, checked at submission. `None` means no cap.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitiConvenzione {
    pub max_righe_richiesta: Option<u64>,
    /// Subjects an Ente may submit per day (Europe/Rome) under this convention.
    pub max_soggetti_giorno_ente: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErroreLimite {
    #[error(
        "la richiesta contiene {} righe, oltre il massimo di {} per richiesta previsto dalla convenzione",
        migliaia(*righe),
        migliaia(*massimo)
    )]
    RigheRichiesta { righe: u64, massimo: u64 },
    #[error(
        "oggi l'Ente ha già richiesto {} soggetti: con altri {} supererebbe il massimo giornaliero di {} \
         previsto dalla convenzione (ne restano {})",
        migliaia(*gia_oggi),
        migliaia(*richiesti),
        migliaia(*massimo),
        migliaia(massimo.saturating_sub(*gia_oggi))
    )]
    SoggettiGiornoEnte {
        richiesti: u64,
        gia_oggi: u64,
        massimo: u64,
    },
}

impl LimitiConvenzione {
    /// `righe`: the rows of the request being submitted; `gia_oggi`: the subjects the Ente has
    /// already submitted today under this convention.
    pub fn controlla(&self, righe: u64, gia_oggi: u64) -> Result<(), ErroreLimite> {
        if let Some(massimo) = self.max_righe_richiesta
            && righe > massimo
        {
            return Err(ErroreLimite::RigheRichiesta { righe, massimo });
        }
        if let Some(massimo) = self.max_soggetti_giorno_ente
            && gia_oggi.saturating_add(righe) > massimo
        {
            return Err(ErroreLimite::SoggettiGiornoEnte {
                richiesti: righe,
                gia_oggi,
                massimo,
            });
        }
        Ok(())
    }
}

/// The convention's validity, both ends included; no end means open-ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validita {
    pub dal: NaiveDate,
    pub al: Option<NaiveDate>,
}

impl Validita {
    pub fn valida_il(&self, data: NaiveDate) -> bool {
        self.dal <= data && self.al.is_none_or(|al| data <= al)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn migliaia_toglie_solo_i_punti(n: u64) {
            let s = migliaia(n);
            prop_assert_eq!(s.replace('.', ""), n.to_string());
            // Every group after the first has exactly three digits.
            for g in s.split('.').skip(1) {
                prop_assert_eq!(g.len(), 3);
            }
        }

        #[test]
        fn controlla_accetta_esattamente_entro_i_limiti(
            righe in 0u64..10_000, gia in 0u64..10_000, mr in 0u64..10_000, mg in 0u64..20_000,
        ) {
            let l = LimitiConvenzione {
                max_righe_richiesta: Some(mr),
                max_soggetti_giorno_ente: Some(mg),
            };
            prop_assert_eq!(l.controlla(righe, gia).is_ok(), righe <= mr && gia + righe <= mg);
        }
    }

    fn data(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn limiti_con_messaggi_chiari() {
        let l = LimitiConvenzione {
            max_righe_richiesta: Some(5_000),
            max_soggetti_giorno_ente: Some(12_000),
        };
        assert_eq!(l.controlla(5_000, 7_000), Ok(()));
        assert_eq!(
            l.controlla(5_001, 0).unwrap_err().to_string(),
            "la richiesta contiene 5.001 righe, oltre il massimo di 5.000 per richiesta previsto dalla convenzione"
        );
        assert_eq!(
            l.controlla(3_000, 10_000).unwrap_err().to_string(),
            "oggi l'Ente ha già richiesto 10.000 soggetti: con altri 3.000 supererebbe il massimo giornaliero \
             di 12.000 previsto dalla convenzione (ne restano 2.000)"
        );
        assert_eq!(LimitiConvenzione::default().controlla(u64::MAX, 1), Ok(()));
    }

    #[test]
    fn raggruppamento_delle_cifre() {
        assert_eq!(migliaia(0), "0");
        assert_eq!(migliaia(999), "999");
        assert_eq!(migliaia(1_000), "1.000");
        assert_eq!(migliaia(1_234_567), "1.234.567");
    }

    #[test]
    fn validita_estremi_inclusi() {
        let v = Validita {
            dal: data("2026-01-01"),
            al: Some(data("2026-12-31")),
        };
        assert!(!v.valida_il(data("2025-12-31")));
        assert!(v.valida_il(data("2026-01-01")));
        assert!(v.valida_il(data("2026-12-31")));
        assert!(!v.valida_il(data("2027-01-01")));
        let aperta = Validita { al: None, ..v };
        assert!(aperta.valida_il(data("2099-01-01")));
    }

    #[test]
    fn silenzio_assenso() {
        assert_eq!(PoliticaApprovazione::Manuale.scadenza_silenzio(1_000), None);
        let p = PoliticaApprovazione::SilenzioAssenso { ritardo_ms: 0 };
        assert_eq!(p.scadenza_silenzio(1_000), Some(1_000));
        let p = PoliticaApprovazione::SilenzioAssenso {
            ritardo_ms: 86_400_000,
        };
        assert_eq!(p.scadenza_silenzio(1_000), Some(86_401_000));
    }

    #[test]
    fn forma_json_stabile() {
        let p = PoliticaApprovazione::SilenzioAssenso {
            ritardo_ms: 3_600_000,
        };
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            r#"{"tipo":"SILENZIO_ASSENSO","ritardo_ms":3600000}"#
        );
        assert_eq!(
            serde_json::from_str::<PoliticaApprovazione>(r#"{"tipo":"MANUALE"}"#).unwrap(),
            PoliticaApprovazione::Manuale
        );
        let v: Validita = serde_json::from_str(r#"{"dal":"2026-01-01","al":null}"#).unwrap();
        assert_eq!(v.al, None);
        let l: LimitiConvenzione =
            serde_json::from_str(r#"{"max_righe_richiesta":100,"max_soggetti_giorno_ente":null}"#)
                .unwrap();
        assert_eq!(l.max_righe_richiesta, Some(100));
    }
}
