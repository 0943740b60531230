//! The Comune's own ANPR channel (`../shared/anpr-specs/NOTES-ws-comuni.md`): SOAP 1.1
//! consultazione 3002 and the connectivity test `TestConn`, with WS-Security (Timestamp,
//! X.509 token, SAML 2.0 assertion, XML signatures) made with the Comune's ANPR certificates.
//!
//! | module | what |
//! |---|---|
//! | `credenziali` | a certificate with its RSA key, from a PEM pair or a PKCS#12 file |
//! | `sicurezza` | the `wsse:Security` header and the signatures; `IdPostazioneFirmato` (CMS) |
//! | `config` | `[anpr_ws]` of the onboarding file |
//! | `messaggi` | `Richiesta3002` / `RichiestaConnessione` written in XSD order; answers and faults read |
//! | `client` | `WsClient`: operation ids, one call at a time per Comune, answer classification |
//! | `check` | `rivesto anpr check --ws`: TestConn, or one lookup |

pub mod check;
pub mod client;
pub mod config;
pub mod credenziali;
pub mod messaggi;
pub mod sicurezza;
