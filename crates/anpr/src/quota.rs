//! Rivesto's share of each service's daily quota (DESIGN §4): a counter per (Comune, service,
//! day in Europe/Rome) that never goes past the configured share. Every call that reaches the
//! gateway counts, retries and 429s included, so a slot is taken before each attempt.

use crate::servizi::Servizio;
use chrono::{DateTime, NaiveDate, TimeZone as _, Utc};
use chrono_tz::Europe::Rome;
use std::collections::HashMap;
use std::sync::Mutex;

/// The share is used up: the service pauses until `fino_a` (midnight Europe/Rome).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaEsaurita {
    pub servizio: Servizio,
    pub limite: u64,
    pub fino_a: DateTime<Utc>,
}

/// The counters. The database takes them over when several processes share a Comune.
pub trait ContatoreQuota: Send + Sync {
    /// Takes one slot of the day, or refuses when `limite` slots are already taken.
    fn prenota(
        &self,
        comune: &str,
        servizio: Servizio,
        ora_ms: i64,
        limite: u64,
    ) -> Result<u64, QuotaEsaurita>;

    /// Slots taken so far on the day of `ora_ms`.
    fn usate(&self, comune: &str, servizio: Servizio, ora_ms: i64) -> u64;

    /// ANPR said LimitExceeded before our share ran out: mark the day as used up.
    fn esaurisci(&self, comune: &str, servizio: Servizio, ora_ms: i64);
}

/// The Europe/Rome calendar day of an instant.
pub fn giorno_roma(ora_ms: i64) -> NaiveDate {
    let t = DateTime::from_timestamp_millis(ora_ms).unwrap_or_default();
    t.with_timezone(&Rome).date_naive()
}

/// The next midnight in Europe/Rome after `ora_ms`.
pub fn mezzanotte_roma(ora_ms: i64) -> DateTime<Utc> {
    let domani = giorno_roma(ora_ms).succ_opt().unwrap_or(NaiveDate::MAX);
    let mezzanotte = domani.and_hms_opt(0, 0, 0).unwrap_or_default();
    Rome.from_local_datetime(&mezzanotte)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

#[derive(Default)]
pub struct QuotaMemoria {
    contatori: Mutex<HashMap<(String, Servizio, NaiveDate), u64>>,
}

impl QuotaMemoria {
    pub fn new() -> Self {
        Self::default()
    }
}

impl ContatoreQuota for QuotaMemoria {
    fn prenota(
        &self,
        comune: &str,
        servizio: Servizio,
        ora_ms: i64,
        limite: u64,
    ) -> Result<u64, QuotaEsaurita> {
        let mut c = self.contatori.lock().unwrap_or_else(|e| e.into_inner());
        let n = c
            .entry((comune.to_string(), servizio, giorno_roma(ora_ms)))
            .or_insert(0);
        if *n >= limite {
            return Err(QuotaEsaurita {
                servizio,
                limite,
                fino_a: mezzanotte_roma(ora_ms),
            });
        }
        *n += 1;
        Ok(*n)
    }

    fn usate(&self, comune: &str, servizio: Servizio, ora_ms: i64) -> u64 {
        let c = self.contatori.lock().unwrap_or_else(|e| e.into_inner());
        c.get(&(comune.to_string(), servizio, giorno_roma(ora_ms)))
            .copied()
            .unwrap_or(0)
    }

    fn esaurisci(&self, comune: &str, servizio: Servizio, ora_ms: i64) {
        let mut c = self.contatori.lock().unwrap_or_else(|e| e.into_inner());
        c.insert(
            (comune.to_string(), servizio, giorno_roma(ora_ms)),
            u64::MAX,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2025-06-15 21:30 UTC = 23:30 in Rome (CEST): still the 15th there.
    const SERA: i64 = 1_750_023_000_000;

    #[test]
    fn days_run_in_rome() {
        assert_eq!(
            giorno_roma(SERA),
            NaiveDate::from_ymd_opt(2025, 6, 15).unwrap()
        );
        // 22:30 UTC is already the 16th in Rome.
        assert_eq!(
            giorno_roma(SERA + 3_600_000),
            NaiveDate::from_ymd_opt(2025, 6, 16).unwrap()
        );
        assert_eq!(
            mezzanotte_roma(SERA).to_rfc3339(),
            "2025-06-15T22:00:00+00:00"
        );
    }

    #[test]
    fn share_is_never_exceeded_and_resets_at_midnight() {
        let q = QuotaMemoria::new();
        assert_eq!(q.prenota("H501", Servizio::C030, SERA, 2), Ok(1));
        assert_eq!(q.prenota("H501", Servizio::C030, SERA, 2), Ok(2));
        let e = q.prenota("H501", Servizio::C030, SERA, 2).unwrap_err();
        assert_eq!(e.fino_a, mezzanotte_roma(SERA));
        // Other service, other Comune: their own counters.
        assert_eq!(q.prenota("H501", Servizio::C020, SERA, 2), Ok(1));
        assert_eq!(q.prenota("F839", Servizio::C030, SERA, 2), Ok(1));
        assert_eq!(q.usate("H501", Servizio::C030, SERA), 2);
        // One hour later it is the next day in Rome.
        assert_eq!(
            q.prenota("H501", Servizio::C030, SERA + 3_600_000, 2),
            Ok(1)
        );
        q.esaurisci("H501", Servizio::C018, SERA);
        assert!(q.prenota("H501", Servizio::C018, SERA, 1000).is_err());
    }
}
