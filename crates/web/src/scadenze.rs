//! The expiry banner for a Comune's TOP users (issue 8): a certificate of the Comune's ANPR
//! access that expires soon (or has expired), a convention that ends soon, a service whose
//! remaining daily quota runs low. It is computed on every page of a TOP user of a Comune and
//! never for other roles, so their pages cost nothing more.

use crate::stato::StatoApp;

/// Certificates and conventions are announced this many days before their end.
pub const GIORNI_PREAVVISO: i64 = 30;
/// A service's remaining daily quota is low below this share (percent) of its daily share.
pub const QUOTA_BASSA_PERCENTO: u64 = 10;

const GIORNO_MS: i64 = 86_400_000;

/// One line of the banner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvvisoScadenza {
    /// Already expired: `alert-danger` instead of `alert-warning`.
    pub grave: bool,
    pub testo: String,
    /// Where to fix it: (href, link text).
    pub collegamento: Option<(&'static str, &'static str)>,
}

/// The warnings for the TOP users of `comune_id` at the app's "now", gravest first. A part that
/// cannot be read is logged and left out: the banner never stops a page.
pub async fn avvisi(stato: &StatoApp, comune_id: i64) -> Vec<AvvisoScadenza> {
    let ora = stato.adesso_ms();
    let mut v = Vec::new();
    match stato.store.accesso_anpr(comune_id, &stato.chiave).await {
        Ok(Some(accesso)) => {
            certificati(&mut v, &accesso, ora);
            quote(stato, &mut v, &accesso.toml, comune_id, ora).await;
        }
        Ok(None) => {}
        Err(e) => tracing::warn!(errore = %e, comune_id, "scadenze: accesso ANPR non letto"),
    }
    match stato.store.fini_convenzioni(ora, Some(comune_id)).await {
        Ok(fini) => {
            for c in fini
                .iter()
                .filter(|c| c.valida_al_ms <= ora + GIORNI_PREAVVISO * GIORNO_MS)
            {
                v.push(AvvisoScadenza {
                    grave: false,
                    testo: format!(
                        "La convenzione «{}» termina il {}.",
                        c.nome,
                        crate::pagina::data_ora(c.valida_al_ms)
                    ),
                    collegamento: Some(("/amministrazione/enti", "Enti e convenzioni")),
                });
            }
        }
        Err(e) => tracing::warn!(errore = %e, comune_id, "scadenze: convenzioni non lette"),
    }
    // Stable: within each gravity, the order of the checks above.
    v.sort_by_key(|a| !a.grave);
    v
}

fn certificati(v: &mut Vec<AvvisoScadenza>, accesso: &store::anagrafiche::AccessoAnpr, ora: i64) {
    let file = |n: &str| accesso.file.get(n).map(|s| s.esponi());
    for c in anpr::scadenze::certificati_accesso(&accesso.toml, file) {
        let data = crate::pagina::data_ora(c.scadenza_ms);
        let (grave, testo) = if c.scadenza_ms <= ora {
            (
                true,
                format!(
                    "Il certificato «{}» dell'accesso ANPR ({}) è scaduto il {data}: le chiamate \
                     che lo usano sono rifiutate. Carichi un certificato rinnovato.",
                    c.soggetto, c.file
                ),
            )
        } else if c.scadenza_ms <= ora + GIORNI_PREAVVISO * GIORNO_MS {
            (
                false,
                format!(
                    "Il certificato «{}» dell'accesso ANPR ({}) scade il {data}: carichi per \
                     tempo un certificato rinnovato.",
                    c.soggetto, c.file
                ),
            )
        } else {
            continue;
        };
        v.push(AvvisoScadenza {
            grave,
            testo,
            collegamento: Some(("/amministrazione/anpr", "Accesso ANPR")),
        });
    }
}

async fn quote(
    stato: &StatoApp,
    v: &mut Vec<AvvisoScadenza>,
    toml: &str,
    comune_id: i64,
    ora: i64,
) {
    let quote = anpr::scadenze::quote_giornaliere(toml);
    if quote.is_empty() {
        return;
    }
    let giorno = store::giorno_roma(ora);
    let usate = match stato
        .store
        .chiamate_del_giorno(&giorno, Some(comune_id))
        .await
    {
        Ok(u) => u,
        Err(e) => {
            tracing::warn!(errore = %e, comune_id, "scadenze: contatori di quota non letti");
            return;
        }
    };
    for (servizio, &quota) in &quote {
        let usate = usate
            .iter()
            .find(|(_, s, _)| s == servizio.codice())
            .map_or(0, |(_, _, n)| u64::try_from(*n).unwrap_or(0));
        let residua = quota.saturating_sub(usate);
        if let Some(testo) = testo_quota(servizio.codice(), quota, residua) {
            v.push(AvvisoScadenza {
                grave: false,
                testo,
                collegamento: None,
            });
        }
    }
}

/// The warning for a service with `residua` calls left of its daily `quota`, when they are
/// fewer than [`QUOTA_BASSA_PERCENTO`] of it.
fn testo_quota(servizio: &str, quota: u64, residua: u64) -> Option<String> {
    if quota == 0 || residua.saturating_mul(100) >= quota.saturating_mul(QUOTA_BASSA_PERCENTO) {
        return None;
    }
    Some(if residua == 0 {
        format!(
            "La quota giornaliera del servizio {servizio} è esaurita ({quota} chiamate): le \
             richieste riprendono dopo la mezzanotte."
        )
    } else {
        let restano = if residua == 1 {
            "resta 1 chiamata".to_string()
        } else {
            format!("restano {residua} chiamate")
        };
        format!(
            "La quota giornaliera del servizio {servizio} sta per esaurirsi: oggi {restano} \
             su {quota}."
        )
    })
}

#[cfg(test)]
mod test {
    use super::testo_quota;

    #[test]
    fn quota_bassa_sotto_il_dieci_per_cento() {
        // 10% of 1000 is 100: 100 left is not low yet, 99 is.
        assert_eq!(testo_quota("C030", 1000, 100), None);
        assert!(
            testo_quota("C030", 1000, 99)
                .unwrap()
                .contains("oggi restano 99 chiamate su 1000")
        );
        assert!(
            testo_quota("C030", 1000, 1)
                .unwrap()
                .contains("oggi resta 1 chiamata su 1000")
        );
        assert!(testo_quota("C020", 5, 0).unwrap().contains("esaurita"));
        // 10% of 5 is 0.5: one call left is enough.
        assert_eq!(testo_quota("C020", 5, 1), None);
        assert_eq!(testo_quota("C020", 0, 0), None);
    }
}
