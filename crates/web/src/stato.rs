//! What every handler shares: the store, the master key, the clock and the settings.

use crate::ids::ChiaveId;
use anpr::security::{Orologio, OrologioSistema};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use store::{ChiaveMaestra, Store};

/// Settings of `rivesto serve` and `demo` that the web app reads.
#[derive(Clone)]
pub struct ConfigWeb {
    /// The URL users type (`--public-url`). When it is https the session cookie is `__Host-` and
    /// Secure, and HSTS is sent, even when TLS ends at a reverse proxy.
    pub public_url: Option<url::Url>,
    /// Reverse proxies whose `X-Forwarded-For` is believed (`--trusted-proxy CIDR`).
    pub proxy_fidati: Vec<ReteIp>,
    /// Where the worker writes the (encrypted) result files.
    pub cartella_risultati: PathBuf,
    /// Upload limits, the same as `rivesto input check`.
    pub limiti_input: files::input::Limiti,
    /// `rivesto demo`: demo accounts may skip TOTP, and every page says so.
    pub demo: bool,
    /// E-mail notifications; `None`: in-app only.
    pub smtp: Option<ConfigSmtp>,
}

impl ConfigWeb {
    pub fn new(cartella_risultati: impl Into<PathBuf>) -> Self {
        ConfigWeb {
            public_url: None,
            proxy_fidati: Vec::new(),
            cartella_risultati: cartella_risultati.into(),
            limiti_input: files::input::Limiti::default(),
            demo: false,
            smtp: None,
        }
    }

    /// The public URL is https: cookies get `__Host-` and Secure, and HSTS is sent.
    pub fn https(&self) -> bool {
        self.public_url
            .as_ref()
            .is_some_and(|u| u.scheme() == "https")
    }
}

/// SMTP settings for e-mail notifications (`--smtp-url`, `--smtp-from`).
#[derive(Clone)]
pub struct ConfigSmtp {
    /// `smtp://host:port` (plain, for a local relay), `smtps://…` or `smtp://…?tls=starttls`.
    pub url: url::Url,
    /// The From address, e.g. `Rivesto <rivesto@comune.example.it>`.
    pub mittente: String,
}

impl std::fmt::Debug for ConfigSmtp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password.
        f.debug_struct("ConfigSmtp")
            .field("host", &self.url.host_str())
            .field("mittente", &self.mittente)
            .finish_non_exhaustive()
    }
}

/// An IPv4 or IPv6 network in CIDR notation (`10.0.0.0/8`, `::1/128`, or a bare address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReteIp {
    pub indirizzo: IpAddr,
    pub prefisso: u8,
}

impl ReteIp {
    pub fn contiene(&self, ip: IpAddr) -> bool {
        fn maschera(bits: u32, prefisso: u8) -> u128 {
            if prefisso == 0 {
                0
            } else {
                (!0u128 << (bits - u32::from(prefisso))) & (!0u128 >> (128 - bits))
            }
        }
        match (self.indirizzo, ip) {
            (IpAddr::V4(r), IpAddr::V4(i)) => {
                let m = maschera(32, self.prefisso);
                (u128::from(u32::from(r)) & m) == (u128::from(u32::from(i)) & m)
            }
            (IpAddr::V6(r), IpAddr::V6(i)) => {
                let m = maschera(128, self.prefisso);
                (u128::from(r) & m) == (u128::from(i) & m)
            }
            (IpAddr::V4(_), IpAddr::V6(i)) => i
                .to_ipv4_mapped()
                .is_some_and(|v4| self.contiene(IpAddr::V4(v4))),
            (IpAddr::V6(_), IpAddr::V4(_)) => false,
        }
    }
}

impl std::str::FromStr for ReteIp {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (ip, prefisso) = match s.split_once('/') {
            Some((ip, p)) => (ip, Some(p)),
            None => (s, None),
        };
        let indirizzo: IpAddr = ip
            .trim()
            .parse()
            .map_err(|_| format!("«{s}» non è un indirizzo IP o una rete CIDR"))?;
        let massimo = if indirizzo.is_ipv4() { 32 } else { 128 };
        let prefisso = match prefisso {
            None => massimo,
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= massimo)
                .ok_or_else(|| format!("«{s}»: prefisso non valido (0–{massimo})"))?,
        };
        Ok(ReteIp {
            indirizzo,
            prefisso,
        })
    }
}

/// The state every handler gets (cheap to clone).
#[derive(Clone)]
pub struct StatoApp {
    pub store: Store,
    pub chiave: Arc<ChiaveMaestra>,
    pub config: Arc<ConfigWeb>,
    /// Sessions, throttling, tokens and notices read the time here; tests inject a clock.
    pub orologio: Arc<dyn Orologio>,
    /// Makes the object ids in URLs unguessable.
    pub ids: Arc<ChiaveId>,
    /// Big requests' row counts, reused for a second (see [`crate::contatori`]).
    pub contatori: Arc<crate::contatori::Contatori>,
}

impl StatoApp {
    pub fn adesso_ms(&self) -> i64 {
        self.orologio.adesso_ms()
    }
}

/// The web application, built once per process.
pub struct Applicazione {
    pub stato: StatoApp,
}

impl Applicazione {
    /// Reads (or creates) the key for URL ids from the store's secrets.
    pub async fn costruisci(
        store: Store,
        chiave: ChiaveMaestra,
        config: ConfigWeb,
    ) -> Result<Applicazione, store::ErroreStore> {
        Self::con_orologio(store, chiave, config, Arc::new(OrologioSistema)).await
    }

    pub async fn con_orologio(
        store: Store,
        chiave: ChiaveMaestra,
        config: ConfigWeb,
        orologio: Arc<dyn Orologio>,
    ) -> Result<Applicazione, store::ErroreStore> {
        // Rows stamped by the store and the sessions, tokens and throttling read here use one
        // clock.
        let per_store = orologio.clone();
        let store = store.con_orologio(move || per_store.adesso_ms());
        // Rows get the keyed hashes of their identifiers as they are created, so that "chi ha
        // consultato" finds them from the start (store::consultazioni).
        let hmac = store.chiave_hmac_identificativi(&chiave).await?;
        let store = store.con_chiave_hmac(hmac);
        let ids = ChiaveId::carica(&store, &chiave).await?;
        Ok(Applicazione {
            stato: StatoApp {
                store,
                chiave: Arc::new(chiave),
                config: Arc::new(config),
                orologio,
                ids: Arc::new(ids),
                contatori: Arc::default(),
            },
        })
    }

    /// Every route, with sessions, CSRF protection and the security headers.
    pub fn router(&self) -> axum::Router {
        crate::server::router(self.stato.clone())
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn reti_cidr() {
        let r: ReteIp = "10.1.0.0/16".parse().unwrap();
        assert!(r.contiene("10.1.200.3".parse().unwrap()));
        assert!(!r.contiene("10.2.0.1".parse().unwrap()));
        let r: ReteIp = "127.0.0.1".parse().unwrap();
        assert!(r.contiene("127.0.0.1".parse().unwrap()));
        assert!(!r.contiene("127.0.0.2".parse().unwrap()));
        assert!(r.contiene("::ffff:127.0.0.1".parse().unwrap()));
        let r: ReteIp = "::1/128".parse().unwrap();
        assert!(r.contiene("::1".parse().unwrap()));
        let tutti: ReteIp = "0.0.0.0/0".parse().unwrap();
        assert!(tutti.contiene("8.8.8.8".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<ReteIp>().is_err());
        assert!("dieci".parse::<ReteIp>().is_err());
    }
}
