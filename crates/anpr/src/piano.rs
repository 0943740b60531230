//! The call planner (DESIGN §4 "Call planning"): which services to call, in which order, for
//! the field groups a profile asks for.
//!
//! Order: C030 (CF input only), then the residence-bearing call for a restricted scope (a row
//! found outside the scope stops there), then the smallest cover of the remaining groups,
//! preferring services without id ordering (C001/C004 only when a field needs them).

use crate::servizi::Servizio;
use domain::ambito::Ambito;
use domain::gruppi::GruppoCampi;
use domain::tipo::TipoIdentificativo;
use std::collections::BTreeSet;

/// How a step searches the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Criterio {
    CodiceFiscale,
    /// The input's idANPR, or the one C030 returned.
    IdAnpr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PassoPiano {
    pub servizio: Servizio,
    pub criterio: Criterio,
}

/// Where the Comune's channel (consultazione 3002) comes in a row's plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassoWs {
    /// First, with the row's own identifier (a document, or a CF/idANPR that `use_for` routes
    /// there); the PDND steps, if any, follow by the idANPR it returned. Under a restricted
    /// scope it is also the scope check (`ricercaNazionale` = 0).
    Prima,
    /// After the PDND steps, by the row's CF or idANPR, for the document fields only 3002 has.
    Dopo,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piano {
    pub passi: Vec<PassoPiano>,
    /// Groups no configured channel can fill: their cells stay empty, with this message.
    pub celle_vuote: Vec<(GruppoCampi, String)>,
    /// The 3002 call, when the row needs one.
    pub ws: Option<PassoWs>,
}

impl Piano {
    pub fn servizi(&self) -> Vec<Servizio> {
        self.passi.iter().map(|p| p.servizio).collect()
    }
}

/// The row cannot be resolved with the configured purposes (NON_SUPPORTATO).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NonSupportato(pub String);

pub const MESSAGGIO_DOCUMENTI: &str = "carta d'identità e permesso di soggiorno sono disponibili solo con il canale \
     del Comune (servizio 3002), non configurato per questa convenzione";

/// Services that answer residence, the cheaper first.
const RESIDENZA: [Servizio; 2] = [Servizio::C020, Servizio::C001];

/// Plans the calls for one row, with the PDND e-services only.
pub fn pianifica(
    gruppi: &BTreeSet<GruppoCampi>,
    ambito: Ambito,
    tipo: TipoIdentificativo,
    abilitati: &[Servizio],
) -> Result<Piano, NonSupportato> {
    pianifica_con_ws(gruppi, ambito, tipo, abilitati, None)
}

/// Plans the calls for one row. `ws_use_for` is `Some` when the Comune's channel (3002) is
/// configured: the identifier kinds it takes (`[anpr_ws].use_for`).
pub fn pianifica_con_ws(
    gruppi: &BTreeSet<GruppoCampi>,
    ambito: Ambito,
    tipo: TipoIdentificativo,
    abilitati: &[Servizio],
    ws_use_for: Option<&[TipoIdentificativo]>,
) -> Result<Piano, NonSupportato> {
    if ws_use_for.is_some_and(|u| u.contains(&tipo)) {
        return Ok(piano_ws_prima(gruppi, abilitati));
    }
    if !matches!(tipo, TipoIdentificativo::Cf | TipoIdentificativo::IdAnpr) {
        let rimedio = match ws_use_for {
            None => "configuri la sezione [anpr_ws] nel file di onboarding".to_string(),
            Some(_) => format!("aggiunga \"{}\" a [anpr_ws].use_for", tipo.as_str()),
        };
        return Err(NonSupportato(format!(
            "l'identificativo di tipo {} si può cercare solo con il canale del Comune (servizio 3002), non \
             con gli e-service PDND: {rimedio}",
            tipo.as_str()
        )));
    }
    if abilitati.is_empty() && ws_use_for.is_some() {
        // Only the Comune's channel is configured, and it does not take this kind.
        return Err(NonSupportato(format!(
            "l'accesso PDND ([anpr]) non è configurato e [anpr_ws].use_for non comprende \"{}\": \
             lo aggiunga per cercare questo identificativo con il canale del Comune (servizio 3002)",
            tipo.as_str()
        )));
    }
    let mut piano = piano_pdnd(gruppi, ambito, tipo, abilitati)?;
    if ws_use_for.is_some() && gruppi.contains(&GruppoCampi::Documenti) {
        piano
            .celle_vuote
            .retain(|(g, _)| *g != GruppoCampi::Documenti);
        piano.ws = Some(if piano.passi.is_empty() {
            PassoWs::Prima
        } else {
            PassoWs::Dopo
        });
    }
    Ok(piano)
}

/// 3002 first with the row's identifier; the groups it cannot fill from PDND by idANPR, when a
/// configured service has them, else their cells stay empty with a message.
fn piano_ws_prima(gruppi: &BTreeSet<GruppoCampi>, abilitati: &[Servizio]) -> Piano {
    let mut passi = Vec::new();
    let mut celle_vuote = Vec::new();
    let candidati: Vec<Servizio> = abilitati
        .iter()
        .copied()
        .filter(|s| *s != Servizio::C030)
        .collect();
    let restanti: BTreeSet<GruppoCampi> = gruppi
        .iter()
        .copied()
        .filter(|g| !crate::ws::messaggi::copre(*g))
        .collect();
    let (coperti, scoperti): (BTreeSet<GruppoCampi>, BTreeSet<GruppoCampi>) = restanti
        .into_iter()
        .partition(|g| candidati.iter().any(|s| s.porta(*g)));
    for g in scoperti {
        celle_vuote.push((
            g,
            format!(
                "il gruppo di campi {g:?} non è fornito dal canale del Comune (servizio 3002) e nessun \
                 e-service PDND configurato lo fornisce"
            ),
        ));
    }
    // Every group left is carried by some candidate, so the cover exists.
    for s in copertura_minima(&coperti, &candidati).unwrap_or_default() {
        passi.push(PassoPiano {
            servizio: s,
            criterio: Criterio::IdAnpr,
        });
    }
    Piano {
        passi,
        celle_vuote,
        ws: Some(PassoWs::Prima),
    }
}

fn piano_pdnd(
    gruppi: &BTreeSet<GruppoCampi>,
    ambito: Ambito,
    tipo: TipoIdentificativo,
    abilitati: &[Servizio],
) -> Result<Piano, NonSupportato> {
    let abilitato = |s: Servizio| abilitati.contains(&s);
    let usa_c030 = tipo == TipoIdentificativo::Cf && abilitato(Servizio::C030);
    let criterio = if tipo == TipoIdentificativo::IdAnpr || usa_c030 {
        Criterio::IdAnpr
    } else {
        Criterio::CodiceFiscale
    };
    let mut passi = Vec::new();
    if usa_c030 {
        passi.push(PassoPiano {
            servizio: Servizio::C030,
            criterio: Criterio::CodiceFiscale,
        });
    }
    if ambito.is_restricted() {
        let s = RESIDENZA.into_iter().find(|s| abilitato(*s)).ok_or_else(|| {
            NonSupportato(
                "l'ambito territoriale ristretto richiede la residenza: manca la finalità (purposeId) per \
                 C020 o C001 in [anpr.purposes]"
                    .into(),
            )
        })?;
        passi.push(PassoPiano {
            servizio: s,
            criterio,
        });
    }
    let celle_vuote: Vec<(GruppoCampi, String)> = gruppi
        .iter()
        .filter(|g| **g == GruppoCampi::Documenti)
        .map(|g| (*g, MESSAGGIO_DOCUMENTI.to_string()))
        .collect();
    let coperti: BTreeSet<GruppoCampi> = passi
        .iter()
        .flat_map(|p| p.servizio.gruppi().iter().copied())
        .collect();
    let restanti: BTreeSet<GruppoCampi> = gruppi
        .iter()
        .copied()
        .filter(|g| *g != GruppoCampi::Documenti && !coperti.contains(g))
        .collect();
    // The person must be looked up at least once, even when only the idANPR is asked for.
    let restanti = if passi.is_empty()
        && restanti.is_empty()
        && !gruppi.is_empty()
        && celle_vuote.len() < gruppi.len()
    {
        BTreeSet::from([GruppoCampi::IdAnpr])
    } else {
        restanti
    };
    let candidati: Vec<Servizio> = abilitati
        .iter()
        .copied()
        .filter(|s| *s != Servizio::C030 || tipo == TipoIdentificativo::Cf)
        .filter(|s| !passi.iter().any(|p| p.servizio == *s))
        .collect();
    for s in copertura_minima(&restanti, &candidati)? {
        let criterio = if s == Servizio::C030 {
            Criterio::CodiceFiscale
        } else {
            criterio
        };
        passi.push(PassoPiano {
            servizio: s,
            criterio,
        });
    }
    Ok(Piano {
        passi,
        celle_vuote,
        ws: None,
    })
}

/// Preference among equal covers: cheaper, more common services first; id-ordered ones last.
fn costo(s: Servizio) -> u32 {
    match s {
        Servizio::C030 => 0,
        Servizio::C015 => 1,
        Servizio::C020 => 2,
        Servizio::C018 => 3,
        Servizio::C019 => 4,
        Servizio::C021 => 5,
        Servizio::C017 => 6,
        Servizio::C001 => 100,
        Servizio::C004 => 101,
    }
}

fn copertura_minima(
    restanti: &BTreeSet<GruppoCampi>,
    candidati: &[Servizio],
) -> Result<Vec<Servizio>, NonSupportato> {
    if restanti.is_empty() {
        return Ok(Vec::new());
    }
    if let Some(g) = restanti
        .iter()
        .find(|g| !candidati.iter().any(|s| s.porta(**g)))
    {
        return Err(NonSupportato(messaggio_mancante(*g)));
    }
    let n = candidati.len();
    let mut migliore: Option<(usize, u32, Vec<Servizio>)> = None;
    for maschera in 1u32..(1 << n) {
        let scelti: Vec<Servizio> = (0..n)
            .filter(|i| maschera & (1 << i) != 0)
            .map(|i| candidati[i])
            .collect();
        if !restanti.iter().all(|g| scelti.iter().any(|s| s.porta(*g))) {
            continue;
        }
        let chiave = (scelti.len(), scelti.iter().map(|s| costo(*s)).sum::<u32>());
        if migliore.as_ref().is_none_or(|(l, c, _)| chiave < (*l, *c)) {
            migliore = Some((chiave.0, chiave.1, scelti));
        }
    }
    let mut scelti = migliore.map(|m| m.2).unwrap_or_default();
    scelti.sort_by_key(|s| costo(*s));
    Ok(scelti)
}

fn messaggio_mancante(g: GruppoCampi) -> String {
    let servizi: Vec<&str> = Servizio::ALL
        .into_iter()
        .filter(|s| s.porta(g) && *s != Servizio::C030)
        .map(Servizio::codice)
        .collect();
    format!(
        "nessuna finalità configurata per il gruppo di campi {g:?}: serve il purposeId di uno tra {} in \
         [anpr.purposes]",
        servizi.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use GruppoCampi::*;
    use Servizio::*;

    const TUTTI: [Servizio; 8] = [C001, C015, C017, C018, C019, C020, C021, C030];

    fn piano(
        g: &[GruppoCampi],
        a: Ambito,
        t: TipoIdentificativo,
        ab: &[Servizio],
    ) -> Vec<Servizio> {
        pianifica(&g.iter().copied().collect(), a, t, ab)
            .unwrap()
            .servizi()
    }

    fn cf(g: &[GruppoCampi]) -> Vec<Servizio> {
        piano(g, Ambito::Italia, TipoIdentificativo::Cf, &TUTTI)
    }

    #[test]
    fn each_group_alone_from_cf_nationwide() {
        assert_eq!(cf(&[IdAnpr]), vec![C030]);
        assert_eq!(cf(&[Generalita]), vec![C030, C015]);
        assert_eq!(cf(&[StatoCivile]), vec![C030, C015]);
        assert_eq!(cf(&[Residenza]), vec![C030, C020]);
        assert_eq!(cf(&[Cittadinanza]), vec![C030, C018]);
        assert_eq!(cf(&[DataDecesso]), vec![C030, C015]);
        assert_eq!(cf(&[EsistenzaInVita]), vec![C030, C019]);
        assert_eq!(cf(&[Famiglia]), vec![C030, C021]);
        // Only C001 carries the domicilio digitale: id ordering is accepted then.
        assert_eq!(cf(&[DomicilioDigitale]), vec![C030, C001]);
        assert_eq!(cf(&[Matrimonio]), vec![C030, C017]);
    }

    #[test]
    fn smallest_cover_prefers_services_without_id_ordering() {
        // C001 alone covers both, but C020+C019 are two services too: C001 is one, so it wins.
        assert_eq!(cf(&[Residenza, EsistenzaInVita]), vec![C030, C001]);
        // Without C001, two services are needed.
        let senza_c001 = [C015, C017, C018, C019, C020, C021, C030];
        assert_eq!(
            piano(
                &[Residenza, EsistenzaInVita],
                Ambito::Italia,
                TipoIdentificativo::Cf,
                &senza_c001
            ),
            vec![C030, C020, C019]
        );
        // Generalità + residenza: C020 and C001 both cover it in one call; C020 has no ordering.
        assert_eq!(cf(&[Generalita, Residenza]), vec![C030, C020]);
        assert_eq!(
            cf(&[Generalita, StatoCivile, Cittadinanza]),
            vec![C030, C015, C018]
        );
    }

    #[test]
    fn restricted_scope_puts_the_residence_first() {
        for a in [Ambito::Comune, Ambito::ComuniConvenzionati] {
            assert_eq!(
                piano(&[Cittadinanza], a, TipoIdentificativo::Cf, &TUTTI),
                vec![C030, C020, C018]
            );
            assert_eq!(
                piano(&[Generalita], a, TipoIdentificativo::IdAnpr, &TUTTI),
                vec![C020]
            );
            let p = pianifica(
                &[Cittadinanza].into(),
                a,
                TipoIdentificativo::IdAnpr,
                &[C001, C018],
            )
            .unwrap();
            assert_eq!(p.servizi(), vec![C001, C018]);
        }
        let e = pianifica(
            &[Generalita].into(),
            Ambito::Comune,
            TipoIdentificativo::Cf,
            &[C030, C015],
        )
        .unwrap_err();
        assert!(e.0.contains("C020 o C001"), "{e}");
    }

    #[test]
    fn c030_only_for_cf_input() {
        let id = |g: &[GruppoCampi]| piano(g, Ambito::Italia, TipoIdentificativo::IdAnpr, &TUTTI);
        assert_eq!(id(&[Generalita]), vec![C015]);
        // Only the idANPR asked, by idANPR: one cheap lookup still checks the person exists.
        assert_eq!(id(&[IdAnpr]), vec![C015]);
        // CF input without a C030 purpose: data services by CF (EN148 is only a warning).
        let p = pianifica(
            &[Residenza].into(),
            Ambito::Italia,
            TipoIdentificativo::Cf,
            &[C020],
        )
        .unwrap();
        assert_eq!(
            p.passi,
            vec![PassoPiano {
                servizio: C020,
                criterio: Criterio::CodiceFiscale
            }]
        );
        let p = pianifica(
            &[Residenza].into(),
            Ambito::Italia,
            TipoIdentificativo::Cf,
            &TUTTI,
        )
        .unwrap();
        assert_eq!(
            p.passi[1],
            PassoPiano {
                servizio: C020,
                criterio: Criterio::IdAnpr
            }
        );
    }

    #[test]
    fn missing_purposes_and_documents() {
        let e = pianifica(
            &[Matrimonio].into(),
            Ambito::Italia,
            TipoIdentificativo::Cf,
            &[C030, C015],
        )
        .unwrap_err();
        assert_eq!(
            e.0,
            "nessuna finalità configurata per il gruppo di campi Matrimonio: serve il purposeId di uno tra C017 in [anpr.purposes]"
        );
        let p = pianifica(
            &[Generalita, Documenti].into(),
            Ambito::Italia,
            TipoIdentificativo::Cf,
            &TUTTI,
        )
        .unwrap();
        assert_eq!(p.servizi(), vec![C030, C015]);
        assert_eq!(
            p.celle_vuote,
            vec![(Documenti, MESSAGGIO_DOCUMENTI.to_string())]
        );
        let solo_doc = pianifica(
            &[Documenti].into(),
            Ambito::Italia,
            TipoIdentificativo::IdAnpr,
            &TUTTI,
        )
        .unwrap();
        assert!(solo_doc.passi.is_empty());
        for t in [
            TipoIdentificativo::Ci,
            TipoIdentificativo::Pds,
            TipoIdentificativo::Pass,
        ] {
            let e = pianifica(&[Generalita].into(), Ambito::Italia, t, &TUTTI).unwrap_err();
            assert!(e.0.contains("3002"), "{e}");
            assert!(e.0.contains("[anpr_ws]"), "{e}");
        }
    }

    const DOC: [TipoIdentificativo; 3] = [
        TipoIdentificativo::Ci,
        TipoIdentificativo::Pds,
        TipoIdentificativo::Pass,
    ];

    #[test]
    fn documents_go_to_3002_first_and_pdnd_fills_what_3002_lacks() {
        for t in DOC {
            let p = pianifica_con_ws(
                &[Generalita, Residenza, Documenti].into(),
                Ambito::Comune,
                t,
                &TUTTI,
                Some(&DOC),
            )
            .unwrap();
            assert_eq!(p.ws, Some(PassoWs::Prima));
            assert!(p.passi.is_empty(), "{p:?}");
            assert!(p.celle_vuote.is_empty());
            // The family is not in a 3002 answer: C021 by the idANPR 3002 returned.
            let p = pianifica_con_ws(&[Famiglia].into(), Ambito::Italia, t, &TUTTI, Some(&DOC))
                .unwrap();
            assert_eq!(
                p.passi,
                vec![PassoPiano {
                    servizio: C021,
                    criterio: Criterio::IdAnpr
                }]
            );
            // Without a C021 purpose the person is still looked up; the family cells stay empty.
            let p = pianifica_con_ws(
                &[Generalita, Famiglia].into(),
                Ambito::Italia,
                t,
                &[],
                Some(&DOC),
            )
            .unwrap();
            assert_eq!(p.ws, Some(PassoWs::Prima));
            assert_eq!(p.celle_vuote.len(), 1);
            assert!(p.celle_vuote[0].1.contains("3002"), "{p:?}");
        }
    }

    #[test]
    fn a_kind_left_out_of_use_for_says_what_to_configure() {
        let e = pianifica_con_ws(
            &[Generalita].into(),
            Ambito::Italia,
            TipoIdentificativo::Pass,
            &TUTTI,
            Some(&[TipoIdentificativo::Ci]),
        )
        .unwrap_err();
        assert!(e.0.contains("aggiunga \"PASS\" a [anpr_ws].use_for"), "{e}");
        let e = pianifica_con_ws(
            &[Generalita].into(),
            Ambito::Italia,
            TipoIdentificativo::Cf,
            &[],
            Some(&DOC),
        )
        .unwrap_err();
        assert!(e.0.contains("[anpr]"), "{e}");
    }

    #[test]
    fn cf_rows_add_a_3002_call_for_the_documents() {
        let p = pianifica_con_ws(
            &[Generalita, Documenti].into(),
            Ambito::Italia,
            TipoIdentificativo::Cf,
            &TUTTI,
            Some(&DOC),
        )
        .unwrap();
        assert_eq!(p.servizi(), vec![C030, C015]);
        assert_eq!(p.ws, Some(PassoWs::Dopo));
        assert!(p.celle_vuote.is_empty());
        // Only the documents asked: 3002 alone, by the row's idANPR.
        let p = pianifica_con_ws(
            &[Documenti].into(),
            Ambito::Italia,
            TipoIdentificativo::IdAnpr,
            &TUTTI,
            Some(&DOC),
        )
        .unwrap();
        assert!(p.passi.is_empty());
        assert_eq!(p.ws, Some(PassoWs::Prima));
        // CF routed to 3002 by use_for: 3002 first, no C030.
        let p = pianifica_con_ws(
            &[Generalita, Residenza].into(),
            Ambito::Comune,
            TipoIdentificativo::Cf,
            &TUTTI,
            Some(&[TipoIdentificativo::Cf]),
        )
        .unwrap();
        assert_eq!(p.ws, Some(PassoWs::Prima));
        assert!(p.passi.is_empty());
    }
}
