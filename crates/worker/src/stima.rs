//! The impact estimate shown before approval (issue 4): how many calls each service needs, what
//! share of today's remaining quota that is, and on which day (Europe/Rome) the work should end
//! when the daily shares spread it over several days.
//!
//! It is an upper bound: a row not found after C030, or found outside the scope after its
//! residence call, stops there and spends fewer calls than its plan.

use anpr::piano::pianifica_con_ws;
use anpr::quota::giorno_roma;
use anpr::servizi::Servizio;
use chrono::{Days, NaiveDate};
use domain::ambito::Ambito;
use domain::gruppi::GruppoCampi;
use domain::tipo::TipoIdentificativo;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Rows of one identifier kind, as the validation preview counted them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ConteggioRighe {
    /// Valid and not a duplicate: these are looked up.
    pub valide: u64,
    pub non_valide: u64,
    /// Repeats of an earlier row: never sent to ANPR.
    pub duplicate: u64,
}

/// Rivesto's share of one service's daily quota and what today already used of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaServizio {
    /// `None`: no share configured, so Rivesto itself sets no limit.
    pub quota_giornaliera: Option<u64>,
    pub usate_oggi: u64,
}

/// What the estimate is computed from.
#[derive(Debug, Clone)]
pub struct DatiStima<'a> {
    /// One entry per identifier kind present in the request.
    pub righe: &'a [(TipoIdentificativo, ConteggioRighe)],
    pub gruppi: &'a BTreeSet<GruppoCampi>,
    pub ambito: Ambito,
    /// Services the convention has a purposeId for.
    pub abilitati: &'a [Servizio],
    /// Per service; a missing service has no share and no calls today.
    pub quote: &'a BTreeMap<Servizio, QuotaServizio>,
    pub ora_ms: i64,
    /// The identifier kinds the Comune's channel (3002) takes, when it is configured.
    pub ws_use_for: Option<&'a [TipoIdentificativo]>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StimaServizio {
    pub servizio: Servizio,
    pub chiamate: u64,
    pub quota_giornaliera: Option<u64>,
    /// What is left of today's share; `None` without a share.
    pub residue_oggi: Option<u64>,
    /// `chiamate` as a percentage of `residue_oggi`, rounded up (it may pass 100); `None` without
    /// a share or when nothing is left today.
    pub percentuale_residuo_oggi: Option<u64>,
    /// Days after today this service's calls need; `None` when its share is 0 (never).
    pub giorni_oltre_oggi: Option<u64>,
}

/// Valid rows of a kind that no configured PDND service can resolve (NON_SUPPORTATO).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NonSupportate {
    pub tipo: TipoIdentificativo,
    pub righe: u64,
    pub messaggio: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Completamento {
    /// Everything fits in today's remaining quota (or there is nothing to call).
    Oggi,
    /// The last calls go out on this day (Europe/Rome).
    Il(NaiveDate),
    /// A service the plan needs has a daily share of 0.
    Mai(Servizio),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stima {
    pub per_tipo: Vec<(TipoIdentificativo, ConteggioRighe)>,
    pub totale: ConteggioRighe,
    pub non_supportate: Vec<NonSupportate>,
    /// Only the services the plan uses, in service order.
    pub servizi: Vec<StimaServizio>,
    /// Calls on the Comune's channel (3002, at least one per row that plans it; under
    /// COMUNI_CONVENZIONATI more when the first Comune asked does not have the person). ANPR
    /// publishes no daily share for it.
    pub chiamate_3002: u64,
    pub oggi: NaiveDate,
    pub completamento: Completamento,
}

pub fn stima(d: &DatiStima<'_>) -> Stima {
    let mut totale = ConteggioRighe::default();
    let mut non_supportate = Vec::new();
    let mut chiamate: BTreeMap<Servizio, u64> = BTreeMap::new();
    let mut chiamate_3002 = 0;
    for (tipo, c) in d.righe {
        totale.valide += c.valide;
        totale.non_valide += c.non_valide;
        totale.duplicate += c.duplicate;
        if c.valide == 0 {
            continue;
        }
        match pianifica_con_ws(d.gruppi, d.ambito, *tipo, d.abilitati, d.ws_use_for) {
            Ok(piano) => {
                for s in piano.servizi() {
                    *chiamate.entry(s).or_default() += c.valide;
                }
                if piano.ws.is_some() {
                    chiamate_3002 += c.valide;
                }
            }
            Err(e) => non_supportate.push(NonSupportate {
                tipo: *tipo,
                righe: c.valide,
                messaggio: e.0,
            }),
        }
    }
    let servizi: Vec<StimaServizio> = chiamate
        .into_iter()
        .map(|(s, n)| per_servizio(s, n, d.quote.get(&s)))
        .collect();
    let oggi = giorno_roma(d.ora_ms);
    Stima {
        per_tipo: d.righe.to_vec(),
        totale,
        non_supportate,
        completamento: completamento(&servizi, oggi),
        servizi,
        chiamate_3002,
        oggi,
    }
}

fn per_servizio(servizio: Servizio, chiamate: u64, quota: Option<&QuotaServizio>) -> StimaServizio {
    let quota_giornaliera = quota.and_then(|q| q.quota_giornaliera);
    let usate = quota.map_or(0, |q| q.usate_oggi);
    let residue_oggi = quota_giornaliera.map(|q| q.saturating_sub(usate));
    let percentuale_residuo_oggi = residue_oggi
        .filter(|r| *r > 0)
        .map(|r| chiamate.saturating_mul(100).div_ceil(r));
    let giorni_oltre_oggi = match (quota_giornaliera, residue_oggi) {
        (Some(q), Some(r)) if chiamate > r => (q > 0).then(|| (chiamate - r).div_ceil(q)),
        _ => Some(0),
    };
    StimaServizio {
        servizio,
        chiamate,
        quota_giornaliera,
        residue_oggi,
        percentuale_residuo_oggi,
        giorni_oltre_oggi,
    }
}

/// Services advance together, so the slowest one sets the day.
fn completamento(servizi: &[StimaServizio], oggi: NaiveDate) -> Completamento {
    let mut giorni = 0;
    for s in servizi {
        match s.giorni_oltre_oggi {
            None => return Completamento::Mai(s.servizio),
            Some(g) => giorni = giorni.max(g),
        }
    }
    if giorni == 0 {
        return Completamento::Oggi;
    }
    oggi.checked_add_days(Days::new(giorni))
        .map_or(Completamento::Il(NaiveDate::MAX), Completamento::Il)
}

#[cfg(test)]
mod tests {
    use super::*;
    use GruppoCampi::*;
    use Servizio::*;
    use TipoIdentificativo as T;

    // 2026-11-26 23:30 UTC = 00:30 of the 27th in Rome (CET).
    const NOTTE: i64 = 1_795_735_800_000;
    // 2026-11-26 22:30 UTC = 23:30 of the 26th in Rome.
    const SERA: i64 = 1_795_732_200_000;

    fn righe(v: &[(T, u64, u64, u64)]) -> Vec<(T, ConteggioRighe)> {
        v.iter()
            .map(|(t, valide, non_valide, duplicate)| {
                (
                    *t,
                    ConteggioRighe {
                        valide: *valide,
                        non_valide: *non_valide,
                        duplicate: *duplicate,
                    },
                )
            })
            .collect()
    }

    fn quota(q: Option<u64>, usate: u64) -> QuotaServizio {
        QuotaServizio {
            quota_giornaliera: q,
            usate_oggi: usate,
        }
    }

    fn calcola(
        r: &[(T, ConteggioRighe)],
        gruppi: &[GruppoCampi],
        quote: &BTreeMap<Servizio, QuotaServizio>,
        ora_ms: i64,
    ) -> Stima {
        stima(&DatiStima {
            righe: r,
            gruppi: &gruppi.iter().copied().collect(),
            ambito: Ambito::Italia,
            abilitati: &Servizio::ALL,
            quote,
            ora_ms,
            ws_use_for: None,
        })
    }

    #[test]
    fn piu_giorni_per_la_quota_di_c030() {
        // CF rows plan C030 + C020, ID ANPR rows plan C020 alone (generalità + residenza).
        let r = righe(&[(T::Cf, 250, 3, 7), (T::IdAnpr, 100, 1, 0), (T::Ci, 5, 0, 0)]);
        let quote = BTreeMap::from([(C030, quota(Some(100), 40)), (C020, quota(Some(1_000), 0))]);
        let s = calcola(&r, &[Generalita, Residenza], &quote, SERA);
        assert_eq!(
            s.totale,
            ConteggioRighe {
                valide: 355,
                non_valide: 4,
                duplicate: 7
            }
        );
        assert_eq!(s.non_supportate.len(), 1);
        assert_eq!(
            (s.non_supportate[0].tipo, s.non_supportate[0].righe),
            (T::Ci, 5)
        );
        assert!(s.non_supportate[0].messaggio.contains("3002"));
        assert_eq!(
            s.servizi,
            vec![
                // 350 of 1000 left: 35 %, fits today.
                StimaServizio {
                    servizio: C020,
                    chiamate: 350,
                    quota_giornaliera: Some(1_000),
                    residue_oggi: Some(1_000),
                    percentuale_residuo_oggi: Some(35),
                    giorni_oltre_oggi: Some(0),
                },
                // 60 left today: 250/60 = 416.7 % → 417; the other 190 need two more days.
                StimaServizio {
                    servizio: C030,
                    chiamate: 250,
                    quota_giornaliera: Some(100),
                    residue_oggi: Some(60),
                    percentuale_residuo_oggi: Some(417),
                    giorni_oltre_oggi: Some(2),
                },
            ]
        );
        assert_eq!(s.oggi, "2026-11-26".parse::<NaiveDate>().unwrap());
        assert_eq!(
            s.completamento,
            Completamento::Il("2026-11-28".parse().unwrap())
        );
        // One hour later it is already the 27th in Rome.
        let s = calcola(&r, &[Generalita, Residenza], &quote, NOTTE);
        assert_eq!(
            s.completamento,
            Completamento::Il("2026-11-29".parse().unwrap())
        );
    }

    #[test]
    fn entro_oggi_senza_quota_o_con_quota_sufficiente() {
        let r = righe(&[(T::Cf, 100, 0, 0)]);
        // Exactly the 100 calls left: still today, 100 %.
        let quote = BTreeMap::from([(C030, quota(Some(500), 400))]);
        let s = calcola(&r, &[IdAnpr], &quote, SERA);
        assert_eq!(s.servizi.len(), 1);
        assert_eq!(s.servizi[0].percentuale_residuo_oggi, Some(100));
        assert_eq!(s.completamento, Completamento::Oggi);
        // No share configured: no percentage, no limit.
        let s = calcola(&r, &[IdAnpr], &BTreeMap::new(), SERA);
        assert_eq!(s.servizi[0].residue_oggi, None);
        assert_eq!(s.servizi[0].percentuale_residuo_oggi, None);
        assert_eq!(s.completamento, Completamento::Oggi);
    }

    #[test]
    fn quota_esaurita_oggi_o_nulla() {
        let r = righe(&[(T::Cf, 150, 0, 0)]);
        // Nothing left today: 150 calls at 100 a day end the day after tomorrow.
        let quote = BTreeMap::from([(C030, quota(Some(100), 120))]);
        let s = calcola(&r, &[IdAnpr], &quote, SERA);
        assert_eq!(s.servizi[0].residue_oggi, Some(0));
        assert_eq!(s.servizi[0].percentuale_residuo_oggi, None);
        assert_eq!(
            s.completamento,
            Completamento::Il("2026-11-28".parse().unwrap())
        );
        let quote = BTreeMap::from([(C030, quota(Some(0), 0))]);
        assert_eq!(
            calcola(&r, &[IdAnpr], &quote, SERA).completamento,
            Completamento::Mai(C030)
        );
    }

    #[test]
    fn righe_non_valide_e_duplicate_non_costano_chiamate() {
        let r = righe(&[(T::Cf, 0, 10, 20)]);
        let s = calcola(&r, &[Generalita], &BTreeMap::new(), SERA);
        assert!(s.servizi.is_empty());
        assert_eq!(s.completamento, Completamento::Oggi);
        assert_eq!(s.totale.non_valide, 10);
    }
}
