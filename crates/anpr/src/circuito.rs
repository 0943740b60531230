//! A circuit breaker per service: after `soglia` consecutive transient failures calls fail
//! fast for `pausa`, then one trial call decides whether to close it again.

use std::sync::Mutex;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stato {
    Chiuso {
        fallimenti: u32,
    },
    Aperto {
        fino_a_ms: i64,
    },
    /// One trial call is in flight.
    SemiAperto,
}

#[derive(Debug)]
pub struct Circuito {
    soglia: u32,
    pausa: Duration,
    stato: Mutex<Stato>,
}

impl Circuito {
    pub fn new(soglia: u32, pausa: Duration) -> Self {
        Circuito {
            soglia: soglia.max(1),
            pausa,
            stato: Mutex::new(Stato::Chiuso { fallimenti: 0 }),
        }
    }

    /// May a call go out now? When open, the error says until when (epoch ms).
    pub fn permesso(&self, ora_ms: i64) -> Result<(), i64> {
        let mut s = self.stato.lock().unwrap_or_else(|e| e.into_inner());
        match *s {
            Stato::Chiuso { .. } => Ok(()),
            Stato::Aperto { fino_a_ms } if ora_ms >= fino_a_ms => {
                *s = Stato::SemiAperto;
                Ok(())
            }
            Stato::Aperto { fino_a_ms } => Err(fino_a_ms),
            // Only the trial call may go while half-open.
            Stato::SemiAperto => Err(ora_ms + self.pausa.as_millis() as i64),
        }
    }

    pub fn successo(&self) {
        *self.stato.lock().unwrap_or_else(|e| e.into_inner()) = Stato::Chiuso { fallimenti: 0 };
    }

    pub fn fallimento(&self, ora_ms: i64) {
        let mut s = self.stato.lock().unwrap_or_else(|e| e.into_inner());
        let apri = Stato::Aperto {
            fino_a_ms: ora_ms + self.pausa.as_millis() as i64,
        };
        *s = match *s {
            Stato::Chiuso { fallimenti } if fallimenti + 1 >= self.soglia => apri,
            Stato::Chiuso { fallimenti } => Stato::Chiuso {
                fallimenti: fallimenti + 1,
            },
            Stato::SemiAperto | Stato::Aperto { .. } => apri,
        };
    }

    /// Until when the circuit refuses calls (epoch ms), without changing its state: a caller can
    /// avoid starting work that would stop at this service.
    pub fn in_pausa_fino_a(&self, ora_ms: i64) -> Option<i64> {
        match *self.stato.lock().unwrap_or_else(|e| e.into_inner()) {
            Stato::Aperto { fino_a_ms } if ora_ms < fino_a_ms => Some(fino_a_ms),
            _ => None,
        }
    }

    pub fn aperto(&self) -> bool {
        !matches!(
            *self.stato.lock().unwrap_or_else(|e| e.into_inner()),
            Stato::Chiuso { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_threshold_then_half_opens() {
        let c = Circuito::new(3, Duration::from_secs(10));
        c.fallimento(0);
        c.fallimento(0);
        assert_eq!(c.permesso(0), Ok(()));
        c.fallimento(0);
        assert_eq!(c.permesso(1_000), Err(10_000));
        // After the pause one trial goes; a second caller waits.
        assert_eq!(c.permesso(10_000), Ok(()));
        assert!(c.permesso(10_001).is_err());
        // The trial fails: open again for a full pause.
        c.fallimento(10_500);
        assert_eq!(c.permesso(11_000), Err(20_500));
        assert_eq!(c.permesso(20_500), Ok(()));
        c.successo();
        assert!(!c.aperto());
        assert_eq!(c.permesso(20_501), Ok(()));
    }

    #[test]
    fn a_success_resets_the_count() {
        let c = Circuito::new(2, Duration::from_secs(1));
        c.fallimento(0);
        c.successo();
        c.fallimento(0);
        assert_eq!(c.permesso(0), Ok(()));
    }

    #[test]
    fn pause_is_read_without_changing_state() {
        let c = Circuito::new(1, Duration::from_secs(10));
        assert_eq!(c.in_pausa_fino_a(0), None);
        c.fallimento(0);
        assert_eq!(c.in_pausa_fino_a(5_000), Some(10_000));
        // Reading does not half-open it: the trial call still goes once the pause is over.
        assert_eq!(c.in_pausa_fino_a(10_000), None);
        assert_eq!(c.permesso(10_000), Ok(()));
        assert!(c.permesso(10_001).is_err());
    }
}
