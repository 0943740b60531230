//! Rivesto's domain: identifiers, places, outcomes, scopes and field groups. No I/O.

pub mod ambito;
pub mod cf;
pub mod convenzione;
pub mod documenti;
pub mod esito;
pub mod gruppi;
pub mod id_anpr;
pub mod luoghi;
pub mod numeri;
pub mod richiesta;
pub mod ruolo;
mod testo;
pub mod tipo;

pub use cf::{AvvisoCf, CodiceFiscale, ErroreCf, Sesso};
pub use documenti::{
    AvvisoDocumento, CartaIdentita, ErroreDocumento, ErroreQuestura, FormatoCartaIdentita,
    Passaporto, PermessoSoggiorno, Questura,
};
pub use id_anpr::{ErroreIdAnpr, IdAnpr};
pub use luoghi::{Comune, StatoEstero};
