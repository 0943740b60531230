//! Administration (W3): the TOP's pages for its Comune's ANPR access (`/amministrazione/anpr`)
//! and for the Enti convened with it, their conventions and ADMIN users
//! (`/amministrazione/enti`); the ADMIN's pages for its Ente's STANDARD users and their
//! profiles (`/amministrazione/utenti`).
//!
//! Tenancy (DESIGN §1): a TOP sees only Enti with a convention with its Comune, and only the
//! ADMIN users that its Comune manages; an ADMIN only the STANDARD users of its own Ente managed
//! by the same Comune. Anything else answers 404, like an id that does not exist.
//!
//! An Ente's accounts are tied to the Comune whose administration created them (`comune_id` on
//! an ADMIN or STANDARD user): the ADMIN a TOP creates, and the STANDARD users that ADMIN creates,
//! act only under the Ente's conventions with that Comune. Enti are global, so without this a
//! TOP of another Comune that convenes the same Ente could take over its ADMINs and read the
//! first Comune's requests. Accounts with no Comune (made by `rivesto admin user add`) span the
//! whole Ente and are managed from the console only. The one global view is the search of an Ente by its code, which a
//! TOP needs to convene an Ente that already exists.

mod anpr;
mod convenzioni;
mod enti;
mod utenti;

use crate::ErroreWeb;
use crate::ids::Tipo;
use crate::pagina::{Pagina, html};
use crate::sessione::UtenteConnesso;
use crate::stato::StatoApp;
use askama::Template;
use axum::Router;
use axum::response::Response;
use domain::ambito::Ambito;
use store::Attore;
use store::anagrafiche::{Ente, NuovoUtente, Utente};

pub fn rotte() -> Router<StatoApp> {
    Router::new()
        .merge(anpr::rotte())
        .merge(enti::rotte())
        .merge(convenzioni::rotte())
        .merge(utenti::rotte())
}

/// The Comune of a TOP (403 for other roles).
fn comune_del_top(u: &UtenteConnesso) -> Result<i64, ErroreWeb> {
    u.richiedi(&["TOP"])?;
    u.utente
        .comune_id
        .ok_or_else(|| ErroreWeb::Vietato("Utenza TOP senza Comune.".into()))
}

/// Whose accounts the caller manages: an Ente's, and, when `comune_id` is set, only those that
/// Comune manages (see the module's comment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Gestore {
    ente_id: i64,
    comune_id: Option<i64>,
}

impl Gestore {
    /// A TOP manages the ADMINs of a convened Ente that its own Comune manages.
    fn top(comune_id: i64, ente_id: i64) -> Gestore {
        Gestore {
            ente_id,
            comune_id: Some(comune_id),
        }
    }

    fn gestisce(&self, u: &Utente) -> bool {
        u.ente_id == Some(self.ente_id) && self.comune_id.is_none_or(|c| u.comune_id == Some(c))
    }

    /// A convention under which this manager may grant profiles.
    fn convenzione(&self, c: &store::anagrafiche::Convenzione) -> bool {
        c.ente_id == self.ente_id && self.comune_id.is_none_or(|k| c.comune_id == k)
    }
}

/// What an ADMIN manages (403 for other roles).
fn gestore_admin(u: &UtenteConnesso) -> Result<Gestore, ErroreWeb> {
    u.richiedi(&["ADMIN"])?;
    let ente_id = u
        .utente
        .ente_id
        .ok_or_else(|| ErroreWeb::Vietato("Utenza ADMIN senza Ente.".into()))?;
    Ok(Gestore {
        ente_id,
        comune_id: u.utente.comune_id,
    })
}

async fn attore(stato: &StatoApp, u: &UtenteConnesso) -> Result<Attore, ErroreWeb> {
    crate::richieste::operazioni::attore(stato, &u.utente).await
}

fn decodifica(stato: &StatoApp, tipo: Tipo, id: &str) -> Result<i64, ErroreWeb> {
    stato.ids.decodifica(tipo, id).ok_or(ErroreWeb::NonTrovato)
}

/// An Ente the TOP's Comune has a convention with; 404 otherwise.
async fn ente_convenzionato(
    stato: &StatoApp,
    comune_id: i64,
    ente_id: i64,
) -> Result<Ente, ErroreWeb> {
    if !stato.store.ente_convenzionato(comune_id, ente_id).await? {
        return Err(ErroreWeb::NonTrovato);
    }
    Ok(stato.store.ente(ente_id).await?)
}

/// A user with role `ruolo` that `g` manages (the only users the caller may touch); 404
/// otherwise.
async fn utente_gestito(
    stato: &StatoApp,
    g: Gestore,
    ruolo: &str,
    utente_id: i64,
) -> Result<Utente, ErroreWeb> {
    let u = stato.store.utente(utente_id).await?;
    if !g.gestisce(&u) || u.ruolo != ruolo {
        return Err(ErroreWeb::NonTrovato);
    }
    Ok(u)
}

/// A new account, from the administration forms.
struct NuovoAccount {
    username: String,
    email: Option<String>,
}

impl NuovoAccount {
    /// Checks the form's fields; the message says what to fix.
    fn da_modulo(username: &str, email: &str) -> Result<NuovoAccount, String> {
        let username = username.trim().to_lowercase();
        let valido = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || ".-_".contains(c);
        if !(3..=64).contains(&username.len()) || !username.chars().all(valido) {
            return Err(
                "Il nome utente deve avere da 3 a 64 caratteri: lettere minuscole, cifre, \
                        punto, trattino o trattino basso."
                    .into(),
            );
        }
        let email = email.trim();
        let email = if email.is_empty() {
            None
        } else {
            email
                .parse::<lettre::Address>()
                .map_err(|_| format!("L'indirizzo e-mail «{email}» non è valido."))?;
            Some(email.to_string())
        };
        Ok(NuovoAccount { username, email })
    }
}

/// Creates an account of `ruolo` managed by `g` and returns its id with a one-time reset
/// code: nobody ever sees a password. The account's random initial password is thrown away;
/// the user signs in with the code and then chooses a password (and a TOTP where required).
async fn crea_account(
    stato: &StatoApp,
    a: &NuovoAccount,
    ruolo: &str,
    g: Gestore,
    attore: &Attore,
) -> Result<(i64, String), ErroreWeb> {
    if stato
        .store
        .utente_per_username(&a.username)
        .await?
        .is_some()
    {
        return Err(ErroreWeb::NonValido(format!(
            "Il nome utente «{}» è già in uso: ne scelga un altro.",
            a.username
        )));
    }
    let password = crate::demo::password_casuale().map_err(ErroreWeb::interno)?;
    let nuovo = NuovoUtente {
        username: a.username.clone(),
        password,
        ruolo: ruolo.to_string(),
        comune_id: g.comune_id,
        ente_id: Some(g.ente_id),
        codice_utente: a.username.chars().take(20).collect(),
    };
    // Account, address and code in one transaction: one audit entry for one action.
    let codice = crate::auth::codice_reset();
    let account = store::anagrafiche::NuovoAccount {
        utente: &nuovo,
        email: a.email.as_deref(),
        codice_reset: &codice,
        scadenza_reset_ms: stato.adesso_ms() + crate::auth::VALIDITA_RESET_MS,
    };
    let id = stato.store.crea_account(&account, attore).await?;
    Ok((id, codice))
}

#[derive(Template)]
#[template(path = "amministrazione/codice.html")]
struct PaginaCodice<'a> {
    p: Pagina,
    username: &'a str,
    codice: &'a str,
    nuovo: bool,
    indietro: &'a str,
}

/// The one-time reset code, shown once (the store keeps only its hash; the page is no-store).
async fn pagina_codice(
    stato: &StatoApp,
    u: &UtenteConnesso,
    username: &str,
    codice: &str,
    nuovo: bool,
    indietro: &str,
) -> Result<Response, ErroreWeb> {
    html(&PaginaCodice {
        p: Pagina::per(stato, u).await,
        username,
        codice,
        nuovo,
        indietro,
    })
}

/// Whether `richiesto` is the convention's scope or a narrower one (COMUNE ⊂
/// COMUNI_CONVENZIONATI ⊂ ITALIA).
fn ambito_entro(convenzione: Ambito, richiesto: Ambito) -> bool {
    fn ampiezza(a: Ambito) -> u8 {
        match a {
            Ambito::Comune => 0,
            Ambito::ComuniConvenzionati => 1,
            Ambito::Italia => 2,
        }
    }
    ampiezza(richiesto) <= ampiezza(convenzione)
}

/// Italian labels of scopes, for forms and lists.
fn nome_ambito(a: Ambito) -> &'static str {
    match a {
        Ambito::Comune => "Residenti del Comune",
        Ambito::ComuniConvenzionati => "Residenti dei Comuni convenzionati",
        Ambito::Italia => "Tutta Italia",
    }
}

const AMBITI: [Ambito; 3] = [Ambito::Comune, Ambito::ComuniConvenzionati, Ambito::Italia];

fn ambito_da(s: &str) -> Option<Ambito> {
    AMBITI.into_iter().find(|a| a.as_str() == s)
}

/// Italian labels of field groups.
fn nome_gruppo(g: domain::gruppi::GruppoCampi) -> &'static str {
    use domain::gruppi::GruppoCampi as G;
    match g {
        G::IdAnpr => "ID ANPR",
        G::Generalita => "Generalità (codice fiscale, cognome, nome, sesso, nascita, AIRE)",
        G::StatoCivile => "Stato civile",
        G::Residenza => "Residenza",
        G::Cittadinanza => "Cittadinanza",
        G::DataDecesso => "Data di decesso",
        G::EsistenzaInVita => "Esistenza in vita",
        G::Famiglia => "Famiglia (componenti e legame)",
        G::DomicilioDigitale => "Domicilio digitale",
        G::Matrimonio => "Coniuge e matrimonio",
        G::Documenti => "Documenti (carta d'identità, permesso di soggiorno)",
    }
}

/// The stable form value of a field group (its serde name).
fn codice_gruppo(g: domain::gruppi::GruppoCampi) -> String {
    serde_json::to_value(g)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn gruppo_da(s: &str) -> Option<domain::gruppi::GruppoCampi> {
    domain::gruppi::GruppoCampi::ALL
        .into_iter()
        .find(|g| codice_gruppo(*g) == s)
}

/// A urlencoded form with repeated keys (checkboxes), as pairs.
struct Campi(Vec<(String, String)>);

impl Campi {
    fn da(corpo: &[u8]) -> Campi {
        Campi(
            url::form_urlencoded::parse(corpo)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    fn uno(&self, nome: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == nome)
            .map_or("", |(_, v)| v.as_str())
    }

    fn tutti(&self, nome: &str) -> impl Iterator<Item = &str> {
        self.0
            .iter()
            .filter(move |(k, _)| k == nome)
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn ambiti_piu_stretti_o_uguali() {
        assert!(ambito_entro(Ambito::Italia, Ambito::Comune));
        assert!(ambito_entro(
            Ambito::ComuniConvenzionati,
            Ambito::ComuniConvenzionati
        ));
        assert!(!ambito_entro(Ambito::Comune, Ambito::ComuniConvenzionati));
        assert!(!ambito_entro(Ambito::ComuniConvenzionati, Ambito::Italia));
    }

    #[test]
    fn gruppi_andata_e_ritorno() {
        for g in domain::gruppi::GruppoCampi::ALL {
            assert_eq!(gruppo_da(&codice_gruppo(g)), Some(g));
        }
        assert_eq!(
            codice_gruppo(domain::gruppi::GruppoCampi::IdAnpr),
            "id_anpr"
        );
    }

    #[test]
    fn account_dal_modulo() {
        let a = NuovoAccount::da_modulo(" Mario.Rossi ", " mario@ente.it ").unwrap();
        assert_eq!(
            (a.username.as_str(), a.email.as_deref()),
            ("mario.rossi", Some("mario@ente.it"))
        );
        assert!(NuovoAccount::da_modulo("mr", "").is_err());
        assert!(NuovoAccount::da_modulo("mario rossi", "").is_err());
        assert!(NuovoAccount::da_modulo("mario", "non-un-indirizzo").is_err());
        assert_eq!(NuovoAccount::da_modulo("mario", "").unwrap().email, None);
    }
}
