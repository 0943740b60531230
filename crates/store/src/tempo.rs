//! Days for quotas run in Europe/Rome (DESIGN §4).

use chrono::{DateTime, TimeZone as _};
use chrono_tz::Europe::Rome;

/// The Europe/Rome calendar day (`AAAA-MM-GG`) of an instant in UTC epoch milliseconds.
pub fn giorno_roma(ora_ms: i64) -> String {
    let utc = DateTime::from_timestamp_millis(ora_ms).unwrap_or_default();
    Rome.from_utc_datetime(&utc.naive_utc())
        .format("%Y-%m-%d")
        .to_string()
}

/// The start (inclusive) and end (exclusive) of the Europe/Rome day of `ora_ms`, in UTC epoch
/// ms: the bounds of per-day caps, and the `sospesa` resume time (the end).
pub fn limiti_giorno_roma(ora_ms: i64) -> (i64, i64) {
    let utc = DateTime::from_timestamp_millis(ora_ms).unwrap_or_default();
    let giorno = Rome.from_utc_datetime(&utc.naive_utc()).date_naive();
    let mezzanotte = |g: chrono::NaiveDate| {
        let inizio = g.and_hms_opt(0, 0, 0).unwrap_or_default();
        // Midnight always exists in Rome: the DST changes happen at 02:00 and 03:00.
        Rome.from_local_datetime(&inizio)
            .earliest()
            .map_or(ora_ms, |t| t.timestamp_millis())
    };
    let domani = giorno.succ_opt().unwrap_or(giorno);
    (mezzanotte(giorno), mezzanotte(domani))
}

/// Now, in UTC epoch milliseconds: the time written in audit entries and timestamps.
pub(crate) fn adesso_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn il_giorno_cambia_a_mezzanotte_di_roma() {
        // 2026-03-10T22:59:59.999Z is 23:59:59.999 in Rome (CET, UTC+1).
        assert_eq!(giorno_roma(1_773_183_599_999), "2026-03-10");
        assert_eq!(giorno_roma(1_773_183_600_000), "2026-03-11");
        // 2026-07-01T21:59:59Z is 23:59:59 in Rome (CEST, UTC+2).
        assert_eq!(giorno_roma(1_782_943_199_000), "2026-07-01");
        assert_eq!(giorno_roma(1_782_943_200_000), "2026-07-02");
    }

    #[test]
    fn limiti_del_giorno_anche_al_cambio_d_ora() {
        // 2026-07-01 in Rome runs from 2026-06-30T22:00Z to 2026-07-01T22:00Z.
        assert_eq!(
            limiti_giorno_roma(1_782_900_000_000),
            (1_782_856_800_000, 1_782_943_200_000)
        );
        // 2026-03-29 (clocks go forward) lasts 23 hours: 2026-03-28T23:00Z to 2026-03-29T22:00Z.
        let (a, b) = limiti_giorno_roma(1_774_785_600_000);
        assert_eq!((a, b), (1_774_738_800_000, 1_774_821_600_000));
        assert_eq!(b - a, 23 * 3_600_000);
    }
}
