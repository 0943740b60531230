//! The e-services the simulator serves (NOTES §1.1) and what each one answers (§1.2, §2.3, §2.6).
//!
//! The simulator keeps its own table, written from the NOTES, rather than the client's: a path
//! or block mistake in the client must show up against the simulator, not be shared with it.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ServizioSim {
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

impl ServizioSim {
    pub const TUTTI: [ServizioSim; 9] = [
        Self::C001,
        Self::C004,
        Self::C015,
        Self::C017,
        Self::C018,
        Self::C019,
        Self::C020,
        Self::C021,
        Self::C030,
    ];

    pub fn codice(self) -> &'static str {
        match self {
            Self::C001 => "C001",
            Self::C004 => "C004",
            Self::C015 => "C015",
            Self::C017 => "C017",
            Self::C018 => "C018",
            Self::C019 => "C019",
            Self::C020 => "C020",
            Self::C021 => "C021",
            Self::C030 => "C030",
        }
    }

    pub fn da_codice(codice: &str) -> Option<Self> {
        Self::TUTTI
            .into_iter()
            .find(|s| s.codice().eq_ignore_ascii_case(codice))
    }

    /// The path segment after `MinInternoPortaANPR-PDND/`.
    pub fn segmento(self) -> &'static str {
        match self {
            Self::C001 => "C001-servizioNotifica",
            Self::C004 => "C004-servizioVerificaDichDecesso",
            Self::C015 => "C015-servizioAccertamentoGeneralita",
            Self::C017 => "C017-servizioAccertamentoMatrimonio",
            Self::C018 => "C018-servizioAccertamentoCittadinanza",
            Self::C019 => "C019-servizioAccertamentoEsistenzaVita",
            Self::C020 => "C020-servizioAccertamentoResidenza",
            Self::C021 => "C021-servizioAccertamentoStatoFamiglia",
            Self::C030 => "C030-servizioAccertamentoIdUnicoNazionale",
        }
    }

    /// The service for a path segment. The `-approvazione_automatica` variant is the same
    /// service; C001's spec spells its server URL with an en dash, accepted too.
    pub fn da_segmento(segmento: &str) -> Option<Self> {
        let base = segmento
            .strip_suffix("-approvazione_automatica")
            .unwrap_or(segmento);
        let base = base.replacen('\u{2013}', "-", 1);
        Self::TUTTI.into_iter().find(|s| s.segmento() == base)
    }

    /// C001 and C004 want numeric, increasing operation ids (their spec text).
    pub fn id_crescenti(self) -> bool {
        matches!(self, Self::C001 | Self::C004)
    }

    /// C030's `criteriRicerca` has no `idANPR` member.
    pub fn accetta_id_anpr(self) -> bool {
        self != Self::C030
    }

    /// The request must carry a `verifica` block (C004: `verifica.datiDecesso`).
    pub fn richiede_verifica(self) -> bool {
        self == Self::C004
    }

    /// Only C004 among the served services declares `verifica` in its request schema.
    pub fn ammette_verifica(self) -> bool {
        self == Self::C004
    }

    /// EN148 (W) when the search was by CF: every data service, never C030.
    pub fn avvisa_en148(self) -> bool {
        self != Self::C030
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segmenti_e_varianti() {
        assert_eq!(
            ServizioSim::da_segmento("C020-servizioAccertamentoResidenza"),
            Some(ServizioSim::C020)
        );
        assert_eq!(
            ServizioSim::da_segmento(
                "C030-servizioAccertamentoIdUnicoNazionale-approvazione_automatica"
            ),
            Some(ServizioSim::C030)
        );
        assert_eq!(
            ServizioSim::da_segmento("C001\u{2013}servizioNotifica"),
            Some(ServizioSim::C001)
        );
        assert_eq!(
            ServizioSim::da_segmento("C020-servizioAccertamentoResidenzaX"),
            None
        );
        assert_eq!(ServizioSim::da_codice("c021"), Some(ServizioSim::C021));
    }
}
