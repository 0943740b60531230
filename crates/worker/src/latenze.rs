//! Per-row latency in this process, from a row's claim to its outcome stored: a fixed
//! histogram of atomic counters (no lock, no allocation per row), read by `rivesto bench`.
//! Buckets grow by 1/16 of a power of two, so a quantile is within about 6% of the truth.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Sub-buckets per power of two.
const SUDDIVISIONI: u32 = 16;
/// Up to 2^32 µs (over an hour): slower rows land in the last bucket.
const BUCKET: usize = (32 * SUDDIVISIONI) as usize;

pub struct IstogrammaLatenze {
    conteggi: Box<[AtomicU64]>,
    totale: AtomicU64,
}

impl Default for IstogrammaLatenze {
    fn default() -> Self {
        IstogrammaLatenze {
            conteggi: (0..BUCKET).map(|_| AtomicU64::new(0)).collect(),
            totale: AtomicU64::new(0),
        }
    }
}

/// The bucket of a value in µs: `SUDDIVISIONI` linear steps inside each power of two.
fn bucket(us: u64) -> usize {
    if us < u64::from(SUDDIVISIONI) {
        return us as usize;
    }
    let esponente = 63 - us.leading_zeros();
    let passo = esponente - SUDDIVISIONI.trailing_zeros();
    let sotto = (us >> passo) as u32 - SUDDIVISIONI;
    (((esponente - SUDDIVISIONI.trailing_zeros() + 1) * SUDDIVISIONI + sotto) as usize)
        .min(BUCKET - 1)
}

/// The upper bound (µs) of a bucket.
fn limite(b: usize) -> u64 {
    let b = b as u32;
    if b < SUDDIVISIONI {
        return u64::from(b);
    }
    let passo = b / SUDDIVISIONI - 1;
    let sotto = b % SUDDIVISIONI;
    (u64::from(SUDDIVISIONI + sotto + 1) << passo) - 1
}

impl IstogrammaLatenze {
    /// Records `n` rows that took `durata` each (a chunk's rows are stored together).
    pub fn registra(&self, durata: Duration, n: u64) {
        if n == 0 {
            return;
        }
        let us = u64::try_from(durata.as_micros()).unwrap_or(u64::MAX);
        self.conteggi[bucket(us)].fetch_add(n, Ordering::Relaxed);
        self.totale.fetch_add(n, Ordering::Relaxed);
    }

    /// Rows recorded since the start (or the last [`azzera`](Self::azzera)).
    pub fn righe(&self) -> u64 {
        self.totale.load(Ordering::Relaxed)
    }

    /// The `q` quantile (0..=1), as its bucket's upper bound; `None` with no rows.
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        let totale = self.righe();
        if totale == 0 {
            return None;
        }
        let soglia = ((q.clamp(0.0, 1.0) * totale as f64).ceil() as u64).max(1);
        let mut visti = 0;
        for (b, c) in self.conteggi.iter().enumerate() {
            visti += c.load(Ordering::Relaxed);
            if visti >= soglia {
                return Some(Duration::from_micros(limite(b)));
            }
        }
        Some(Duration::from_micros(limite(BUCKET - 1)))
    }

    pub fn azzera(&self) {
        for c in self.conteggi.iter() {
            c.store(0, Ordering::Relaxed);
        }
        self.totale.store(0, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ogni_valore_sta_sotto_il_limite_del_suo_bucket() {
        for us in (0..100_000u64).chain([1 << 20, (1 << 31) + 12345, u64::MAX / 2]) {
            let b = bucket(us);
            assert!(us <= limite(b) || b == BUCKET - 1, "{us} in {b}");
            if b > 0 && b < BUCKET - 1 {
                assert!(us > limite(b - 1), "{us} sopra il bucket precedente {b}");
            }
        }
    }

    #[test]
    fn quantili_entro_il_sei_per_cento() {
        let h = IstogrammaLatenze::default();
        // 99 rows at 10 ms, one at 500 ms: p50 is 10 ms, p99 too, max 500 ms.
        h.registra(Duration::from_millis(10), 99);
        h.registra(Duration::from_millis(500), 1);
        let p50 = h.quantile(0.5).unwrap().as_secs_f64();
        assert!((0.010..0.0107).contains(&p50), "{p50}");
        let p99 = h.quantile(0.99).unwrap().as_secs_f64();
        assert!((0.010..0.0107).contains(&p99), "{p99}");
        let max = h.quantile(1.0).unwrap().as_secs_f64();
        assert!((0.5..0.532).contains(&max), "{max}");
        assert_eq!(h.righe(), 100);
        h.azzera();
        assert_eq!(h.quantile(0.5), None);
    }
}
