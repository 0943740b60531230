//! From the input parser's rows to the store's rows (DESIGN §5): the same parser serves uploads,
//! the manual-entry box, the JSON API and the demo's example.

use domain::esito::Esito;
use domain::tipo::TipoIdentificativo;
use files::input::{EsitoRiga, Limiti, Opzioni, RigaAnalizzata, Rilascio};
use store::Attore;
use store::richieste::{BloccoRighe, NuovaRichiesta, NuovaRiga};

/// Rows handed to the store at a time while the parser reads on.
const RIGHE_PER_BLOCCO: usize = 5_000;

/// What [`salva_a_flusso`] gives back: the parser's outcome and the store's.
pub type EsitoFlusso<T> = (
    Result<T, files::input::RifiutoFile>,
    Result<(i64, u64), store::ErroreStore>,
);

/// Parses and stores at the same time: `analizza` runs the parser (off the async threads)
/// and calls its visitor once per row; the rows go to `Store::crea_richiesta_a_flusso` in
/// pieces of [`RIGHE_PER_BLOCCO`], so memory holds a few pieces rather than the whole file's
/// rows, and the parsing overlaps the writing. A refused file stores nothing.
pub async fn salva_a_flusso<T: Send + 'static>(
    store: &store::Store,
    nuova: &NuovaRichiesta,
    chi: &Attore,
    analizza: impl FnOnce(&mut dyn FnMut(RigaAnalizzata)) -> Result<T, files::input::RifiutoFile>
    + Send
    + 'static,
) -> Result<EsitoFlusso<T>, tokio::task::JoinError> {
    let (tx, rx) = tokio::sync::mpsc::channel::<BloccoRighe>(2);
    let lettore = tokio::task::spawn_blocking(move || {
        let mut blocco = Vec::with_capacity(RIGHE_PER_BLOCCO);
        let esito = analizza(&mut |r| {
            blocco.push(nuova_riga(r));
            if blocco.len() == RIGHE_PER_BLOCCO {
                // A store that stopped (an error) drops the receiver: the rows are not needed.
                let pieno = std::mem::replace(&mut blocco, Vec::with_capacity(RIGHE_PER_BLOCCO));
                let _ = tx.blocking_send(BloccoRighe::Righe(pieno));
            }
        });
        if esito.is_ok() {
            let _ = tx.blocking_send(BloccoRighe::Righe(blocco));
            let _ = tx.blocking_send(BloccoRighe::Fine);
        }
        esito
    });
    let salva = store.crea_richiesta_a_flusso(nuova, rx, chi);
    let (salvata, letta) = tokio::join!(salva, lettore);
    Ok((letta?, salvata))
}

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
