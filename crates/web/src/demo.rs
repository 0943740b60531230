//! The demo's world: two Comuni (each with the ANPR access of one simulator client), three
//! Enti, their conventions and users of every role, seeded through the same store calls as
//! `rivesto admin`. `rivesto demo` and the web tests start from it.

use domain::ambito::Ambito;
use domain::gruppi::GruppoCampi;
use domain::richiesta::Attore as AttoreDominio;
use domain::ruolo::Ruolo;
use std::path::PathBuf;
use store::anagrafiche::{
    Approvazione, Convenzione, NuovaConvenzione, NuovoComune, NuovoUtente, TipoCodiceEnte,
};
use store::{Attore, ChiaveMaestra, Store};

/// ISTAT, Belfiore, name, sigla.
const COMUNI: [(&str, &str, &str, &str); 2] = [
    ("058091", "H501", "Roma", "RM"),
    ("015146", "F205", "Milano", "MI"),
];

/// Name, code, kind of code, office code (userLocation).
const ENTI: [(&str, &str, TipoCodiceEnte, &str); 3] = [
    (
        "Polizia Locale di Roma",
        "02438750586",
        TipoCodiceEnte::CodiceFiscale,
        "PL-ROMA",
    ),
    ("ASL Roma 1", "asl_rm1", TipoCodiceEnte::Ipa, "ASL-RM1"),
    (
        "Tribunale di Milano",
        "97103880585",
        TipoCodiceEnte::CodiceFiscale,
        "TRIB-MI",
    ),
];

/// The onboarding file of each Comune, in the order of [`COMUNI`] (written by
/// `anpr_sim::init::scrivi`, one per Comune, all registered in one simulator).
pub struct Onboarding(pub Vec<PathBuf>);

/// The ISTAT codes of the demo's Comuni, in the order [`Onboarding`] expects.
pub fn codici_istat() -> [&'static str; 2] {
    COMUNI.map(|c| c.0)
}

/// A seeded user, with the two views of them the workflow needs.
pub struct UtenteDemo {
    pub id: i64,
    pub username: String,
    pub ruolo: Ruolo,
    pub comune_id: Option<i64>,
    /// As the archive records them.
    pub attore: Attore,
}

impl UtenteDemo {
    /// As DESIGN §2's table sees them, for a request by `richiedente` under a convention of
    /// `comune_convenzione`.
    pub fn dominio(&self, richiedente: i64, comune_convenzione: i64) -> AttoreDominio {
        AttoreDominio::Utente {
            id: self.id,
            ruolo: self.ruolo,
            richiedente: self.id == richiedente,
            del_comune: self.comune_id == Some(comune_convenzione),
        }
    }
}

/// Who the seeding is recorded as in the archive.
pub fn attore_demo() -> Attore {
    Attore {
        nome: "demo".into(),
        ruolo: None,
        comune: None,
        ente: None,
    }
}

/// One line of the printed accounts.
pub struct Account {
    pub username: String,
    pub ruolo: &'static str,
    pub appartenenza: String,
    pub password: String,
}

/// The example request, embedded so the demo runs from any folder.
pub const RICHIESTA_ESEMPIO: &str = include_str!("../../../examples/richiesta-esempio.csv");

/// The second example: carte d'identità, a permesso di soggiorno and a passport, with a CF and
/// an ID ANPR whose documents the Comune's channel (3002) adds.
pub const RICHIESTA_DOCUMENTI: &str = include_str!("../../../examples/richiesta-documenti.csv");

pub struct Seme {
    pub account: Vec<Account>,
    /// The TOP of Roma, who approves the example.
    pub top: UtenteDemo,
    /// The Polizia Locale operator who submits it.
    pub standard: UtenteDemo,
    pub convenzione_manuale: Convenzione,
    /// The Polizia Locale's convention with Roma for identity documents (Comune channel, with
    /// the national-search opt-in); the same operator has a profile on it.
    pub convenzione_documenti: Convenzione,
}

pub async fn semina(
    store: &Store,
    chiave: &ChiaveMaestra,
    onboarding: &Onboarding,
) -> anyhow::Result<Seme> {
    let a = attore_demo();
    let mut comuni = Vec::new();
    for ((istat, belfiore, nome, sigla), toml) in COMUNI.iter().zip(&onboarding.0) {
        let nuovo = NuovoComune {
            codice_istat: (*istat).into(),
            belfiore: (*belfiore).into(),
            nome: (*nome).into(),
            sigla: (*sigla).into(),
        };
        let id = store.crea_comune(&nuovo, &a).await?;
        let accesso = crate::onboarding::importa(toml)?;
        crate::onboarding::controlla_sede(&accesso, istat)?;
        store
            .imposta_accesso_anpr(id, &accesso.toml, &accesso.file, chiave, &a)
            .await?;
        comuni.push(id);
    }
    let mut enti = Vec::new();
    for (nome, codice, tipo, ufficio) in ENTI {
        enti.push(store.crea_ente(codice, tipo, nome, ufficio, &a).await?);
    }
    let convenzioni = convenzioni(store, &comuni, &enti).await?;
    utenti(store, &comuni, &enti, convenzioni).await
}

async fn convenzioni(
    store: &Store,
    comuni: &[i64],
    enti: &[i64],
) -> anyhow::Result<[Convenzione; 4]> {
    use GruppoCampi as G;
    let tutte = [
        (
            comuni[0],
            enti[0],
            "Polizia Locale - Roma: verifiche anagrafiche",
            Approvazione::Manuale,
            Ambito::Italia,
            vec![
                G::IdAnpr,
                G::Generalita,
                G::Residenza,
                G::EsistenzaInVita,
                G::DataDecesso,
            ],
        ),
        (
            comuni[0],
            enti[1],
            "ASL Roma 1 - Roma: assistiti",
            Approvazione::SilenzioAssenso { ritardo_ms: 0 },
            Ambito::Comune,
            vec![G::Generalita, G::Residenza, G::EsistenzaInVita],
        ),
        (
            comuni[1],
            enti[2],
            "Tribunale - Milano: notifiche",
            Approvazione::SilenzioAssenso { ritardo_ms: 0 },
            Ambito::Italia,
            vec![G::Generalita, G::Residenza],
        ),
        (
            comuni[0],
            enti[0],
            "Polizia Locale - Roma: documenti d'identità",
            Approvazione::Manuale,
            Ambito::Italia,
            vec![G::IdAnpr, G::Generalita, G::Residenza, G::Documenti],
        ),
    ];
    let mut create = Vec::new();
    for (comune_id, ente_id, nome, approvazione, ambito, campi) in tutte {
        // Only the documents' convention opts in to national search on the Comune's channel.
        let ricerca_nazionale = campi.contains(&G::Documenti);
        let nuova = NuovaConvenzione {
            comune_id,
            ente_id,
            nome: nome.into(),
            tracciato: serde_json::to_value(files::output::Layout::per_gruppi(&campi))?,
            campi,
            ambito,
            approvazione,
            finalita: Default::default(),
            valida_dal_ms: 0,
            valida_al_ms: None,
            max_righe_richiesta: Some(10_000),
            max_soggetti_giorno: Some(50_000),
            conservazione_giorni: 7,
            ricerca_nazionale,
        };
        let id = store.crea_convenzione(&nuova, &attore_demo()).await?;
        create.push(store.convenzione(id).await?);
    }
    create
        .try_into()
        .map_err(|_| anyhow::anyhow!("convenzioni demo incomplete"))
}

/// Username, role, Comune index or Ente index, convention index for the profile.
type SpecUtente = (
    &'static str,
    Ruolo,
    Option<usize>,
    Option<usize>,
    Option<usize>,
);

const UTENTI: [SpecUtente; 7] = [
    ("top.roma", Ruolo::Top, Some(0), None, None),
    ("top.milano", Ruolo::Top, Some(1), None, None),
    // An Ente's accounts are managed by one Comune (the one of their conventions here).
    ("admin.polizia", Ruolo::Admin, Some(0), Some(0), None),
    (
        "operatore.polizia",
        Ruolo::Standard,
        Some(0),
        Some(0),
        Some(0),
    ),
    ("admin.asl", Ruolo::Admin, Some(0), Some(1), None),
    ("operatore.asl", Ruolo::Standard, Some(0), Some(1), Some(1)),
    (
        "operatore.tribunale",
        Ruolo::Standard,
        Some(1),
        Some(2),
        Some(2),
    ),
];

async fn utenti(
    store: &Store,
    comuni: &[i64],
    enti: &[i64],
    convenzioni: [Convenzione; 4],
) -> anyhow::Result<Seme> {
    let mut account = Vec::new();
    let mut creati = Vec::new();
    for (username, ruolo, comune, ente, profilo) in UTENTI {
        let password = password_casuale()?;
        let nuovo = NuovoUtente {
            username: username.into(),
            password: password.clone(),
            ruolo: ruolo.as_str().into(),
            comune_id: comune.map(|i| comuni[i]),
            ente_id: ente.map(|i| enti[i]),
            codice_utente: username.chars().take(20).collect(),
        };
        let id = store.crea_utente(&nuovo, &attore_demo()).await?;
        if let Some(c) = profilo.map(|i| &convenzioni[i]) {
            store
                .imposta_profilo(id, c.id, &c.campi, c.ambito, &attore_demo())
                .await?;
        }
        // The Polizia Locale operator also works under the documents' convention.
        if profilo == Some(0) {
            let c = &convenzioni[3];
            store
                .imposta_profilo(id, c.id, &c.campi, c.ambito, &attore_demo())
                .await?;
        }
        let appartenenza = match (comune, ente) {
            (_, Some(i)) => ENTI[i].0.to_string(),
            (Some(i), None) => format!("Comune di {}", COMUNI[i].2),
            _ => String::new(),
        };
        account.push(Account {
            username: username.into(),
            ruolo: ruolo.as_str(),
            appartenenza,
            password,
        });
        creati.push(UtenteDemo {
            id,
            username: username.into(),
            ruolo,
            comune_id: nuovo.comune_id,
            attore: Attore {
                nome: username.into(),
                ruolo: Some(ruolo.as_str().into()),
                comune: comune.map(|i| COMUNI[i].0.to_string()),
                ente: ente.map(|i| ENTI[i].1.to_string()),
            },
        });
    }
    let standard = creati.swap_remove(3);
    let top = creati.swap_remove(0);
    let [convenzione_manuale, _, _, convenzione_documenti] = convenzioni;
    Ok(Seme {
        account,
        top,
        standard,
        convenzione_manuale,
        convenzione_documenti,
    })
}

/// 16 characters from an alphabet without look-alikes (0/O, 1/l/I): about 90 bits.
pub fn password_casuale() -> anyhow::Result<String> {
    const ALFABETO: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let limite = 256 - 256 % ALFABETO.len();
    let mut out = String::new();
    let mut byte = [0u8; 64];
    while out.len() < 16 {
        rand::fill(&mut byte);
        // Rejection sampling keeps every character equally likely.
        for b in byte.iter().map(|b| usize::from(*b)).filter(|b| *b < limite) {
            if out.len() < 16 {
                out.push(char::from(ALFABETO[b % ALFABETO.len()]));
            }
        }
    }
    Ok(out)
}

// The parser-to-store mapping lives with the request pages; the demo and the binary use it
// from here too.
pub use crate::richieste::analisi::{nuova_riga, righe_da_testo};

#[cfg(test)]
mod tests {
    use super::*;
    use domain::esito::Esito;
    use domain::tipo::TipoIdentificativo;

    #[test]
    fn righe_dell_esempio_dei_documenti() {
        let righe = righe_da_testo(RICHIESTA_DOCUMENTI).unwrap();
        assert_eq!(righe.len(), 7);
        assert!(righe.iter().all(|r| r.esito.is_none()), "{righe:?}");
        let tipi: Vec<TipoIdentificativo> = righe.iter().map(|r| r.tipo).collect();
        for t in [
            TipoIdentificativo::Cf,
            TipoIdentificativo::IdAnpr,
            TipoIdentificativo::Ci,
            TipoIdentificativo::Pds,
            TipoIdentificativo::Pass,
        ] {
            assert!(tipi.contains(&t), "{t:?} assente");
        }
        let pds = righe
            .iter()
            .find(|r| r.tipo == TipoIdentificativo::Pds)
            .unwrap();
        assert_eq!(pds.rilascio.as_deref(), Some("ROMA"));
    }

    #[test]
    fn righe_dell_esempio() {
        let righe = righe_da_testo(RICHIESTA_ESEMPIO).unwrap();
        assert_eq!(righe.len(), 12);
        // Line 12 has a wrong check character; line 13 repeats line 2.
        let invalida = righe.iter().find(|r| r.numero == 12).unwrap();
        assert_eq!(invalida.esito, Some(Esito::NonValido));
        assert!(
            invalida
                .messaggio
                .as_deref()
                .unwrap()
                .contains("atteso S, trovato X")
        );
        let doppia = righe.iter().find(|r| r.numero == 13).unwrap();
        assert_eq!(doppia.duplicato_di, Some(2));
        let per_id = righe
            .iter()
            .filter(|r| r.tipo == TipoIdentificativo::IdAnpr);
        assert_eq!(per_id.count(), 3);
    }

    #[test]
    fn password_casuali_diverse() {
        let a = password_casuale().unwrap();
        assert_eq!(a.chars().count(), 16);
        assert!(a.len() >= 12);
        assert!(!a.contains(['0', 'O', '1', 'l', 'I']));
        assert_ne!(a, password_casuale().unwrap());
    }
}
