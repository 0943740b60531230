//! What the request templates show, already formatted: Italian labels, Europe/Rome times,
//! opaque ids. Templates stay free of logic beyond `if` and `for`.

use super::operazioni as op;
use crate::ErroreWeb;
use crate::ids::Tipo;
use crate::pagina::data_ora;
use crate::stato::StatoApp;
use store::elenchi::VoceRichiesta;
use store::richieste::stato as st;

/// The Italian label of a stored state.
pub fn etichetta_stato(stato: &str) -> &'static str {
    match stato {
        st::BOZZA => "Bozza",
        st::IN_ATTESA_CONVALIDA => "In attesa di convalida",
        st::CONVALIDATA => "Convalidata",
        st::IN_ELABORAZIONE => "In elaborazione",
        st::COMPLETATA => "Completata",
        st::RESPINTA => "Respinta",
        st::ANNULLATA => "Annullata",
        st::FALLITA => "Fallita",
        _ => "Sconosciuto",
    }
}

/// States that change without anyone acting (silent consent, the worker): pages showing them
/// poll for news.
pub fn cambia_da_sola(stato: &str) -> bool {
    matches!(
        stato,
        st::IN_ATTESA_CONVALIDA | st::CONVALIDATA | st::IN_ELABORAZIONE
    )
}

/// "circa 3 minuti", for the expected time left.
pub fn durata(ms: i64) -> String {
    let minuti = (ms + 59_999) / 60_000;
    match minuti {
        ..=1 => "meno di un minuto".into(),
        2..=90 => format!("circa {minuti} minuti"),
        _ => {
            let ore = (minuti + 30) / 60;
            if ore < 48 {
                format!("circa {ore} ore")
            } else {
                format!("circa {} giorni", (ore + 12) / 24)
            }
        }
    }
}

/// The share of final rows, 0..=100, rounded down: 100 only when every row is final. It picks
/// the `larghezza-NN` class of the progress bar (the CSP forbids a `style` width).
pub fn percentuale(finali: i64, totali: i64) -> i64 {
    if totali <= 0 {
        return 0;
    }
    (finali.clamp(0, totali) * 100 / totali).clamp(0, 100)
}

/// A count with Italian thousands separators ("12.345").
pub fn numero(n: impl std::borrow::Borrow<i64>) -> String {
    let n = *n.borrow();
    let s = domain::numeri::migliaia(n.unsigned_abs());
    if n < 0 { format!("-{s}") } else { s }
}

/// One request in a table.
#[derive(Debug, Clone)]
pub struct VoceVista {
    /// Opaque id, for URLs.
    pub id: String,
    pub stato: String,
    pub etichetta: &'static str,
    pub motivo: String,
    pub convenzione: String,
    pub ente: String,
    pub comune: String,
    pub richiedente: String,
    pub creata: String,
    pub totali: i64,
    pub finali: i64,
    pub eta: Option<String>,
    pub sospesa: Option<String>,
    /// The submitter may cancel it from the list (it waits for approval).
    pub annullabile: bool,
}

impl VoceVista {
    pub fn percentuale(&self) -> i64 {
        percentuale(self.finali, self.totali)
    }

    /// Running requests get their ETA and `sospesa` reason; the others show their counts.
    pub async fn da(
        stato: &StatoApp,
        v: VoceRichiesta,
        utente_id: i64,
    ) -> Result<VoceVista, ErroreWeb> {
        let r = &v.richiesta;
        let (totali, finali, mut eta, mut sospesa) = (v.righe_totali, v.righe_finali, None, None);
        if r.stato == st::IN_ELABORAZIONE {
            // The list's own counts, read with it: only the estimate is left to compute.
            let a = op::avanzamento_da(stato, r, totali, finali).await?;
            eta = a.eta_ms.map(durata);
            sospesa = a.sospesa;
        }
        Ok(VoceVista {
            id: stato.ids.codifica(Tipo::Richiesta, r.id),
            etichetta: etichetta_stato(&r.stato),
            annullabile: r.stato == st::IN_ATTESA_CONVALIDA && r.utente_id == utente_id,
            stato: r.stato.clone(),
            motivo: r.motivo.clone(),
            creata: data_ora(r.creata_ms),
            convenzione: v.convenzione,
            ente: v.ente,
            comune: v.comune,
            richiedente: v.richiedente,
            totali,
            finali,
            eta,
            sospesa,
        })
    }

    pub async fn tutte(
        stato: &StatoApp,
        voci: Vec<VoceRichiesta>,
        utente_id: i64,
    ) -> Result<Vec<VoceVista>, ErroreWeb> {
        let mut v = Vec::with_capacity(voci.len());
        for voce in voci {
            v.push(VoceVista::da(stato, voce, utente_id).await?);
        }
        Ok(v)
    }
}

/// Whether any of the listed requests may change by itself.
pub fn qualcuna_in_corso(voci: &[VoceVista]) -> bool {
    voci.iter().any(|v| cambia_da_sola(&v.stato))
}

/// The confirmation shown after a redirect, chosen by a fixed code in the query (`?avviso=…`):
/// no user text ever travels through the URL into the page.
pub fn avviso(codice: Option<&str>) -> Option<&'static str> {
    Some(match codice? {
        "inviata" => "Richiesta inviata per la convalida.",
        "scartata" => "Bozza scartata: è stata eliminata.",
        "annullata" => "Richiesta annullata.",
        "approvata" => "Richiesta approvata: l'elaborazione partirà a breve.",
        "respinta" => "Richiesta respinta; il richiedente vedrà il motivo.",
        "ripresa" => "Richiesta ripresa: saranno rielaborate solo le righe non elaborate.",
        _ => return None,
    })
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn durate_leggibili() {
        assert_eq!(durata(10_000), "meno di un minuto");
        assert_eq!(durata(150_000), "circa 3 minuti");
        assert_eq!(durata(3 * 3_600_000), "circa 3 ore");
        assert_eq!(durata(72 * 3_600_000), "circa 3 giorni");
    }

    #[test]
    fn percentuali_intere() {
        assert_eq!(percentuale(0, 0), 0);
        assert_eq!(percentuale(1, 5), 20);
        assert_eq!(percentuale(2, 3), 66);
        assert_eq!(percentuale(999, 1000), 99);
        assert_eq!(percentuale(5, 5), 100);
        assert_eq!(numero(12_345), "12.345");
    }

    #[test]
    fn avvisi_solo_noti() {
        assert_eq!(
            avviso(Some("inviata")),
            Some("Richiesta inviata per la convalida.")
        );
        assert_eq!(avviso(Some("<script>")), None);
        assert_eq!(avviso(None), None);
    }
}
