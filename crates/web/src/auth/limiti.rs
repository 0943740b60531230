//! Throttling of failed sign-ins, per account and per client address, counted in the database
//! so that every process sees the same numbers; and the client address itself, which is the
//! socket peer unless that peer is a trusted reverse proxy.

use crate::ErroreWeb;
use crate::stato::StatoApp;
use axum::http::HeaderMap;
use std::net::IpAddr;

/// Failures counted within this window.
pub const FINESTRA_MS: i64 = 15 * 60 * 1000;
pub const MASSIMO_PER_ACCOUNT: i64 = 5;
pub const MASSIMO_PER_INDIRIZZO: i64 = 20;

/// The client's address. The peer when it is not a trusted proxy; otherwise the rightmost
/// `X-Forwarded-For` entry that is not a trusted proxy (entries to its left can be forged by
/// the client, so they are never believed).
pub fn indirizzo_cliente(stato: &StatoApp, peer: IpAddr, intestazioni: &HeaderMap) -> IpAddr {
    let fidato = |ip: IpAddr| stato.config.proxy_fidati.iter().any(|r| r.contiene(ip));
    scegli(&fidato, peer, intestazioni)
}

fn scegli(fidato: &dyn Fn(IpAddr) -> bool, peer: IpAddr, intestazioni: &HeaderMap) -> IpAddr {
    if !fidato(peer) {
        return peer;
    }
    let voci: Vec<&str> = intestazioni
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect();
    let mut ultimo = peer;
    for voce in voci.iter().rev() {
        match voce.parse::<IpAddr>() {
            Ok(ip) if fidato(ip) => ultimo = ip,
            Ok(ip) => return ip,
            // An unreadable hop: the chain cannot be followed further.
            Err(_) => return ultimo,
        }
    }
    ultimo
}

pub fn chiave_account(username: &str) -> String {
    format!("utente:{}", username.trim().to_lowercase())
}

pub fn chiave_indirizzo(ip: IpAddr) -> String {
    format!("indirizzo:{ip}")
}

/// `Some(message)` when sign-in is suspended for this account or this address. The message is
/// the same whether the account exists or not.
pub async fn blocco(
    stato: &StatoApp,
    username: &str,
    ip: IpAddr,
) -> Result<Option<String>, ErroreWeb> {
    let ora = stato.adesso_ms();
    let per_account = stato
        .store
        .blocco_accesso(
            &chiave_account(username),
            ora,
            FINESTRA_MS,
            MASSIMO_PER_ACCOUNT,
        )
        .await?;
    let per_indirizzo = stato
        .store
        .blocco_accesso(
            &chiave_indirizzo(ip),
            ora,
            FINESTRA_MS,
            MASSIMO_PER_INDIRIZZO,
        )
        .await?;
    Ok(per_account.max(per_indirizzo).map(|fine| {
        let minuti = ((fine - ora).max(0) + 59_999) / 60_000;
        let minuti = minuti.max(1);
        let parola = if minuti == 1 { "minuto" } else { "minuti" };
        format!(
            "Troppi tentativi non riusciti: per sicurezza l'accesso è sospeso. Riprovi tra \
             {minuti} {parola}."
        )
    }))
}

/// Records a failure for the account name typed and the address, with its audit entry.
pub async fn registra_fallimento(
    stato: &StatoApp,
    username: &str,
    ip: IpAddr,
    audit: &store::Audit,
) -> Result<(), ErroreWeb> {
    let chiavi = [chiave_account(username), chiave_indirizzo(ip)];
    stato
        .store
        .registra_accesso_fallito(&chiavi, stato.adesso_ms(), audit)
        .await?;
    Ok(())
}

#[cfg(test)]
mod test {
    use super::*;
    use axum::http::HeaderValue;

    fn stato_con(proxy: &[&str]) -> crate::stato::ConfigWeb {
        let mut c = crate::stato::ConfigWeb::new("/tmp");
        c.proxy_fidati = proxy.iter().map(|p| p.parse().unwrap()).collect();
        c
    }

    fn indirizzo(proxy: &[&str], peer: &str, xff: &[&str]) -> IpAddr {
        let config = stato_con(proxy);
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        let fidato = |ip: IpAddr| config.proxy_fidati.iter().any(|r| r.contiene(ip));
        super::scegli(&fidato, peer.parse().unwrap(), &h)
    }

    #[test]
    fn x_forwarded_for_solo_da_proxy_fidati() {
        // Not a trusted peer: the header is ignored.
        assert_eq!(
            indirizzo(&[], "192.0.2.1", &["203.0.113.9"]),
            "192.0.2.1".parse::<IpAddr>().unwrap()
        );
        // Trusted peer: the rightmost untrusted entry, not the forgeable leftmost one.
        assert_eq!(
            indirizzo(
                &["10.0.0.0/8"],
                "10.0.0.2",
                &["6.6.6.6, 203.0.113.9, 10.0.0.1"]
            ),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        // Several header lines count as one list, in order.
        assert_eq!(
            indirizzo(&["10.0.0.0/8"], "10.0.0.2", &["6.6.6.6", "198.51.100.4"]),
            "198.51.100.4".parse::<IpAddr>().unwrap()
        );
        // Trusted peer without the header: the peer.
        assert_eq!(
            indirizzo(&["10.0.0.0/8"], "10.0.0.2", &[]),
            "10.0.0.2".parse::<IpAddr>().unwrap()
        );
        // A garbage hop stops the walk at the last trusted address.
        assert_eq!(
            indirizzo(&["10.0.0.0/8"], "10.0.0.2", &["6.6.6.6, boh"]),
            "10.0.0.2".parse::<IpAddr>().unwrap()
        );
    }
}
