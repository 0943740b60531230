//! Shared simulator state: registered clients, knobs that tests change at run time, counters,
//! replay stores and the request log.

use crate::chiavi::CoppiaChiavi;
use crate::config::{ClienteRegistrato, Guasti, Latenza, SimConfig};
use crate::popolazione::Popolazione;
use crate::servizi::ServizioSim;
use chrono::NaiveDate;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::AtomicUsize;

/// How many received requests the log keeps (oldest dropped first).
pub const REGISTRO_MAX: usize = 20_000;

/// The knobs a test may turn while the simulator runs.
#[derive(Debug, Clone)]
pub struct Manopole {
    pub latenza: Latenza,
    pub guasti: Guasti,
    pub quote: BTreeMap<String, u64>,
    pub cap: Option<usize>,
    pub timeout_ms: u64,
}

/// One request as the simulator saw it, with its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RichiestaRicevuta {
    pub metodo: String,
    pub percorso: String,
    pub servizio: Option<String>,
    pub client_id: Option<String>,
    /// The exact body bytes received (UTF-8 lossy), for contract tests.
    pub corpo: String,
    pub stato: u16,
    /// The exact answer body sent.
    pub risposta: String,
    /// Why the gateway or the token endpoint refused the call, when it did.
    pub motivo: Option<String>,
}

/// A stored ANPR answer, replayed when an idOperazioneClient repeats.
#[derive(Debug, Clone)]
pub struct RispostaAnpr {
    pub stato: u16,
    pub corpo: String,
}

pub struct Stato {
    pub indirizzo: SocketAddr,
    pub clienti: HashMap<String, ClienteRegistrato>,
    pub chiave_pdnd: CoppiaChiavi,
    pub codifica_pdnd: jsonwebtoken::EncodingKey,
    pub popolazione: Popolazione,
    pub tolleranza_id: u64,
    pub modalita_test: bool,
    pub durata_voucher_s: u64,
    pub manopole: Mutex<Manopole>,
    pub in_volo: AtomicUsize,
    pub totali: Mutex<BTreeMap<(String, String), u64>>,
    pub giornalieri: Mutex<HashMap<(String, ServizioSim, NaiveDate), u64>>,
    pub jti_asserzioni: Mutex<JtiVisti<String>>,
    pub jti_firme: Mutex<JtiVisti<(String, String)>>,
    pub archivio: Mutex<HashMap<(String, ServizioSim, String), RispostaAnpr>>,
    pub massimi_id: Mutex<HashMap<(String, ServizioSim), u128>>,
    pub registro: Mutex<VecDeque<RichiestaRicevuta>>,
}

impl Stato {
    pub fn new(config: SimConfig, indirizzo: SocketAddr, chiave_pdnd: CoppiaChiavi) -> Self {
        let codifica_pdnd =
            jsonwebtoken::EncodingKey::from_rsa_pem(chiave_pdnd.private_pem.as_bytes())
                .expect("la chiave PDND appena generata è valida");
        Self {
            indirizzo,
            clienti: config
                .clients
                .iter()
                .map(|c| (c.client_id.clone(), c.clone()))
                .collect(),
            chiave_pdnd,
            codifica_pdnd,
            popolazione: Popolazione::new(config.seed, config.population),
            tolleranza_id: config.tolleranza_id,
            modalita_test: config.modalita_test,
            durata_voucher_s: config.durata_voucher_s.min(600),
            manopole: Mutex::new(Manopole {
                latenza: config.latenza,
                guasti: config.guasti,
                quote: config.quote,
                cap: config.concurrency_cap,
                timeout_ms: config.timeout_ms,
            }),
            in_volo: AtomicUsize::new(0),
            totali: Mutex::default(),
            giornalieri: Mutex::default(),
            jti_asserzioni: Mutex::default(),
            jti_firme: Mutex::default(),
            archivio: Mutex::default(),
            massimi_id: Mutex::default(),
            registro: Mutex::default(),
        }
    }

    pub fn manopole(&self) -> Manopole {
        blocca(&self.manopole).clone()
    }

    pub fn registra(&self, r: RichiestaRicevuta) {
        let mut reg = blocca(&self.registro);
        if reg.len() >= REGISTRO_MAX {
            reg.pop_front();
        }
        reg.push_back(r);
    }

    pub fn audience_base(&self) -> String {
        format!(
            "http://{}/govway/rest/in/MinInternoPortaANPR",
            self.indirizzo
        )
    }

    /// The audience of a service: without `-PDND` and without `/anpr-service-e002` (NOTES §3).
    pub fn audience(&self, segmento: &str) -> String {
        format!("{}/{}/v1", self.audience_base(), segmento)
    }

    pub fn client_assertion_aud(&self) -> String {
        format!("{}/client-assertion", self.indirizzo)
    }
}

/// A poisoned lock only means another request panicked: the data is still usable.
pub fn blocca<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The jtis seen and their expiry, forgotten once expired.
#[derive(Debug)]
pub struct JtiVisti<K> {
    mappa: HashMap<K, i64>,
    /// The size at which the expired ones are removed next: twice what was left the last time
    /// (at least [`JtiVisti::MINIMO`]), so that removing them costs O(1) per jti on average.
    /// With a fixed threshold, once more jtis were alive than that, every call scanned them
    /// all (77% of the simulator's CPU at 500 calls/s, seen with `perf`).
    soglia: usize,
}

impl<K> JtiVisti<K> {
    const MINIMO: usize = 50_000;
}

impl<K> Default for JtiVisti<K> {
    fn default() -> Self {
        JtiVisti {
            mappa: HashMap::new(),
            soglia: Self::MINIMO,
        }
    }
}

/// Records a jti until its expiry; false when it was already there (a replay).
pub fn jti_nuovo<K: std::hash::Hash + Eq + Clone>(
    visti: &Mutex<JtiVisti<K>>,
    chiave: K,
    exp: i64,
) -> bool {
    let mut v = blocca(visti);
    if v.mappa.len() >= v.soglia {
        let ora = crate::jws::adesso();
        v.mappa.retain(|_, scade| *scade > ora);
        v.soglia = (2 * v.mappa.len()).max(JtiVisti::<K>::MINIMO);
    }
    if v.mappa.contains_key(&chiave) {
        return false;
    }
    v.mappa.insert(chiave, exp);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn i_jti_scaduti_sono_dimenticati_e_i_vivi_restano_repliche() {
        let visti = Mutex::new(JtiVisti::default());
        let futuro = crate::jws::adesso() + 3600;
        for i in 0..JtiVisti::<u32>::MINIMO as u32 {
            assert!(jti_nuovo(&visti, i, 0));
        }
        // The next one finds the map full: the expired ones go, the threshold stays the minimum.
        assert!(jti_nuovo(&visti, u32::MAX, futuro));
        assert_eq!(blocca(&visti).mappa.len(), 1);
        assert_eq!(blocca(&visti).soglia, JtiVisti::<u32>::MINIMO);
        assert!(!jti_nuovo(&visti, u32::MAX, futuro));
        assert!(jti_nuovo(&visti, 0, futuro), "an expired jti is forgotten");
        // With more live jtis than the minimum, the threshold doubles instead of making every
        // later call scan them all.
        for i in 1..JtiVisti::<u32>::MINIMO as u32 {
            assert!(jti_nuovo(&visti, i, futuro));
        }
        assert!(jti_nuovo(&visti, u32::MAX - 1, futuro));
        assert_eq!(blocca(&visti).soglia, 2 * JtiVisti::<u32>::MINIMO);
        assert!(!jti_nuovo(&visti, 7, futuro));
    }
}
