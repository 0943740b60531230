use crate::cifratura::ErroreCifratura;
use anpr::client::ErroreAnpr;
use anpr::config::ErroreConfig;
use files::output::ErroreOutput;
use store::ErroreStore;
use thiserror::Error;

/// The batch engine's errors. Italian: an operator reads them in the log and in the request's
/// note. None carries a secret or personal data.
#[derive(Debug, Error)]
pub enum ErroreWorker {
    #[error(transparent)]
    Store(#[from] ErroreStore),
    #[error("comune {comune_id}: accesso ANPR non configurato (importare il file di onboarding)")]
    AccessoMancante { comune_id: i64 },
    #[error("comune {comune_id}: configurazione ANPR non valida: {fonte}")]
    Configurazione {
        comune_id: i64,
        #[source]
        fonte: ErroreConfig,
    },
    #[error("comune {comune_id}: file di accesso {nome:?} non utilizzabile: {motivo}")]
    FileAccesso {
        comune_id: i64,
        nome: String,
        motivo: String,
    },
    #[error(
        "comune {comune_id}: l'accesso ANPR ha solo il canale del Comune ([anpr_ws]): questa operazione \
         richiede gli e-service PDND ([anpr])"
    )]
    PdndNonConfigurato { comune_id: i64 },
    #[error(
        "comune {comune_id}: il file di onboarding non ha né [anpr] (e-service PDND) né [anpr_ws] (canale del \
         Comune, servizio 3002)"
    )]
    NessunCanale { comune_id: i64 },
    #[error(transparent)]
    Anpr(#[from] ErroreAnpr),
    #[error("richiesta {richiesta_id}: istantanea non valida: {motivo}")]
    Istantanea { richiesta_id: i64, motivo: String },
    #[error("scrittura dei file di risposta: {0}")]
    Output(#[from] ErroreOutput),
    #[error(transparent)]
    Cifratura(#[from] ErroreCifratura),
    #[error("{operazione} {percorso}: {fonte}")]
    Io {
        operazione: &'static str,
        percorso: String,
        #[source]
        fonte: std::io::Error,
    },
}

impl ErroreWorker {
    pub(crate) fn io(
        operazione: &'static str,
        percorso: &std::path::Path,
    ) -> impl FnOnce(std::io::Error) -> ErroreWorker {
        let percorso = percorso.display().to_string();
        move |fonte| ErroreWorker::Io {
            operazione,
            percorso,
            fonte,
        }
    }
}
