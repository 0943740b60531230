//! From the input parser's rows to the store's rows (DESIGN §5): the same parser serves uploads,
//! the manual-entry box, the JSON API and the demo's example.

use domain::esito::Esito;
use domain::tipo::TipoIdentificativo;
use files::input::{EsitoRiga, Limiti, Opzioni, RigaAnalizzata, Rilascio};
use store::richieste::NuovaRiga;

/// The rows of an input file as the store keeps them: invalid rows are final (NON_VALIDO)
/// from the start, duplicates point at their original's line.
pub fn righe_da_testo(testo: &str) -> anyhow::Result<Vec<NuovaRiga>> {
    let mut righe = Vec::new();
    files::input::analizza_testo(testo, Limiti::default(), Opzioni::oggi(), |r| {
        righe.push(nuova_riga(r));
    })
    .map_err(|e| anyhow::anyhow!("file di esempio rifiutato: {e}"))?;
    Ok(righe)
}

/// One analysed input row as the store keeps it.
pub fn nuova_riga(r: RigaAnalizzata) -> NuovaRiga {
    let (duplicato_di, esito, messaggio) = match r.esito {
        EsitoRiga::Valida => (None, None, None),
        EsitoRiga::Duplicata { di } => (i64::try_from(di).ok(), None, None),
        EsitoRiga::NonValida(e) => (None, Some(Esito::NonValido), Some(e.to_string())),
    };
    NuovaRiga {
        numero: i64::try_from(r.riga).unwrap_or(i64::MAX),
        // A row whose kind could not be told is NON_VALIDO and never sent: CF is a label only.
        tipo: r.tipo.unwrap_or(TipoIdentificativo::Cf),
        identificativo: r.identificativo,
        riferimento: r.riferimento,
        rilascio: r.rilascio.map(|r| match r {
            Rilascio::Comune { istat, .. } => istat,
            Rilascio::Questura(q) => q,
        }),
        motivo: r.motivo,
        duplicato_di,
        esito,
        messaggio,
    }
}
