//! The request lifecycle of DESIGN §2 as code: the states, the actions, who may take them, and
//! what happens to the rows. Every transition the table does not list is refused, so the store
//! and the web layer never decide on their own what a request may become.

use crate::esito::Esito;
use crate::ruolo::Ruolo;
use chrono::{DateTime, Timelike as _, Utc};
use chrono_tz::Europe::Rome;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StatoRichiesta {
    Bozza,
    InAttesaConvalida,
    Convalidata,
    InElaborazione,
    Completata,
    Respinta,
    Annullata,
    Fallita,
}

impl StatoRichiesta {
    pub const ALL: [StatoRichiesta; 8] = [
        StatoRichiesta::Bozza,
        StatoRichiesta::InAttesaConvalida,
        StatoRichiesta::Convalidata,
        StatoRichiesta::InElaborazione,
        StatoRichiesta::Completata,
        StatoRichiesta::Respinta,
        StatoRichiesta::Annullata,
        StatoRichiesta::Fallita,
    ];

    /// The code stored in the database and shown to users.
    pub fn as_str(self) -> &'static str {
        match self {
            StatoRichiesta::Bozza => "BOZZA",
            StatoRichiesta::InAttesaConvalida => "IN_ATTESA_CONVALIDA",
            StatoRichiesta::Convalidata => "CONVALIDATA",
            StatoRichiesta::InElaborazione => "IN_ELABORAZIONE",
            StatoRichiesta::Completata => "COMPLETATA",
            StatoRichiesta::Respinta => "RESPINTA",
            StatoRichiesta::Annullata => "ANNULLATA",
            StatoRichiesta::Fallita => "FALLITA",
        }
    }

    pub fn parse(s: &str) -> Option<StatoRichiesta> {
        StatoRichiesta::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// No action leads anywhere from here. FALLITA is not final: a TOP can resume it.
    pub fn finale(self) -> bool {
        matches!(
            self,
            StatoRichiesta::Completata | StatoRichiesta::Respinta | StatoRichiesta::Annullata
        )
    }

    /// Its result files hold only the rows done so far (DESIGN §2).
    pub fn file_parziali(self) -> bool {
        matches!(self, StatoRichiesta::Annullata | StatoRichiesta::Fallita)
    }
}

impl std::fmt::Display for StatoRichiesta {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why `sistema` rejects a request that waits for approval (DESIGN §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MotivoSistema {
    ConvenzioneScaduta,
    UtenteDisabilitato,
}

impl std::fmt::Display for MotivoSistema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            MotivoSistema::ConvenzioneScaduta => "la convenzione è scaduta prima della convalida",
            MotivoSistema::UtenteDisabilitato => {
                "l'utente richiedente è stato disabilitato prima della convalida"
            }
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Azione {
    Invia,
    Scarta,
    Approva,
    ApprovaSilenzioAssenso,
    Respingi {
        motivo: String,
    },
    RespingiSistema {
        motivo: MotivoSistema,
    },
    Annulla,
    AvviaElaborazione,
    Completa,
    /// The ANPR access is misconfigured; `motivo` is the client's Italian explanation.
    Fallisci {
        motivo: String,
    },
    Riprendi,
}

impl Azione {
    /// The verb shown in refusals and recorded in the archive.
    pub fn nome(&self) -> &'static str {
        match self {
            Azione::Invia => "invia",
            Azione::Scarta => "scarta",
            Azione::Approva => "approva",
            Azione::ApprovaSilenzioAssenso => "approva per silenzio-assenso",
            Azione::Respingi { .. } => "respingi",
            Azione::RespingiSistema { .. } => "respingi d'ufficio",
            Azione::Annulla => "annulla",
            Azione::AvviaElaborazione => "avvia elaborazione",
            Azione::Completa => "completa",
            Azione::Fallisci { .. } => "fallisci",
            Azione::Riprendi => "riprendi",
        }
    }

    /// What the action does to the rows (DESIGN §2), whatever state it starts from.
    pub fn effetto_righe(&self) -> EffettoRighe {
        match self {
            Azione::Annulla | Azione::Fallisci { .. } => EffettoRighe::NonFinaliNonElaborate,
            Azione::Riprendi => EffettoRighe::RifaiNonElaborate,
            _ => EffettoRighe::Nessuno,
        }
    }
}

/// Who acts. A user carries the facts about them that the table needs, computed by the caller
/// from the request: whether they submitted it, and whether they belong to its Comune.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attore {
    Utente {
        id: i64,
        ruolo: Ruolo,
        richiedente: bool,
        /// The user is an operator of the Comune the request's convention belongs to.
        del_comune: bool,
    },
    /// Silent consent and d'ufficio rejections, recorded as actor `sistema`.
    Sistema,
    Worker,
}

impl Attore {
    fn top_del_comune(&self) -> bool {
        matches!(
            self,
            Attore::Utente {
                ruolo: Ruolo::Top,
                del_comune: true,
                ..
            }
        )
    }

    fn richiedente(&self) -> bool {
        matches!(
            self,
            Attore::Utente {
                richiedente: true,
                ..
            }
        )
    }
}

/// Where a transition leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EsitoTransizione {
    Stato(StatoRichiesta),
    /// A discarded BOZZA is deleted, not kept in a state.
    Eliminata,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErroreTransizione {
    #[error("transizione non ammessa: da {da} con «{azione}»")]
    NonAmmessa {
        da: StatoRichiesta,
        azione: &'static str,
    },
    #[error("{0}")]
    NonAutorizzato(&'static str),
    #[error("il motivo è obbligatorio per «{0}»")]
    MotivoMancante(&'static str),
}

/// Applies one action of DESIGN §2's table, or says why it cannot be taken.
pub fn transizione(
    stato: StatoRichiesta,
    azione: &Azione,
    attore: &Attore,
) -> Result<EsitoTransizione, ErroreTransizione> {
    use StatoRichiesta as S;
    let (verso, ammesso, rifiuto) = match (stato, azione) {
        (S::Bozza, Azione::Invia) => (
            EsitoTransizione::Stato(S::InAttesaConvalida),
            attore.richiedente(),
            "solo il richiedente può inviare la richiesta",
        ),
        (S::Bozza, Azione::Scarta) => (
            EsitoTransizione::Eliminata,
            attore.richiedente(),
            "solo il richiedente può scartare la bozza",
        ),
        (S::InAttesaConvalida, Azione::Approva) => (
            EsitoTransizione::Stato(S::Convalidata),
            attore.top_del_comune(),
            "solo un operatore TOP del Comune può approvare",
        ),
        (S::InAttesaConvalida, Azione::ApprovaSilenzioAssenso) => (
            EsitoTransizione::Stato(S::Convalidata),
            *attore == Attore::Sistema,
            "solo il sistema può approvare per silenzio-assenso",
        ),
        (S::InAttesaConvalida, Azione::Respingi { .. }) => (
            EsitoTransizione::Stato(S::Respinta),
            attore.top_del_comune(),
            "solo un operatore TOP del Comune può respingere",
        ),
        (S::InAttesaConvalida, Azione::RespingiSistema { .. }) => (
            EsitoTransizione::Stato(S::Respinta),
            *attore == Attore::Sistema,
            "solo il sistema può respingere d'ufficio",
        ),
        (S::InAttesaConvalida, Azione::Annulla) => (
            EsitoTransizione::Stato(S::Annullata),
            attore.richiedente() || attore.top_del_comune(),
            "solo il richiedente o un operatore TOP del Comune può annullare",
        ),
        (S::Convalidata, Azione::AvviaElaborazione) => (
            EsitoTransizione::Stato(S::InElaborazione),
            *attore == Attore::Worker,
            "solo il worker può avviare l'elaborazione",
        ),
        (S::InElaborazione, Azione::Completa) => (
            EsitoTransizione::Stato(S::Completata),
            *attore == Attore::Worker,
            "solo il worker può completare la richiesta",
        ),
        (S::InElaborazione, Azione::Annulla) => (
            EsitoTransizione::Stato(S::Annullata),
            attore.top_del_comune(),
            "solo un operatore TOP del Comune può annullare una richiesta in elaborazione",
        ),
        (S::InElaborazione, Azione::Fallisci { .. }) => (
            EsitoTransizione::Stato(S::Fallita),
            *attore == Attore::Worker,
            "solo il worker può far fallire la richiesta",
        ),
        (S::Fallita, Azione::Riprendi) => (
            EsitoTransizione::Stato(S::Convalidata),
            attore.top_del_comune(),
            "solo un operatore TOP del Comune può riprendere",
        ),
        _ => {
            return Err(ErroreTransizione::NonAmmessa {
                da: stato,
                azione: azione.nome(),
            });
        }
    };
    if !ammesso {
        return Err(ErroreTransizione::NonAutorizzato(rifiuto));
    }
    match azione {
        Azione::Respingi { motivo } | Azione::Fallisci { motivo } if motivo.trim().is_empty() => {
            Err(ErroreTransizione::MotivoMancante(azione.nome()))
        }
        _ => Ok(verso),
    }
}

/// What a transition does to the request's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EffettoRighe {
    Nessuno,
    /// Cancel or fail: rows already final keep their outcome, the others become NON_ELABORATO.
    NonFinaliNonElaborate,
    /// Resume: only NON_ELABORATO rows go back to the queue.
    RifaiNonElaborate,
}

impl EffettoRighe {
    /// The row's outcome after the transition; `None` means "to be done".
    pub fn applica(self, esito: Option<Esito>) -> Option<Esito> {
        match self {
            EffettoRighe::Nessuno => esito,
            EffettoRighe::NonFinaliNonElaborate => Some(esito.unwrap_or(Esito::NonElaborato)),
            EffettoRighe::RifaiNonElaborate => esito.filter(|e| *e != Esito::NonElaborato),
        }
    }
}

/// The `sospesa` flag on an IN_ELABORAZIONE request: not a state, just a pause with its reason
/// and the instant it clears by itself (midnight Europe/Rome for a used-up quota).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sospensione {
    /// The service code, e.g. `C030`.
    pub servizio: String,
    pub fino_a_ms: i64,
}

impl Sospensione {
    pub fn attiva(&self, ora_ms: i64) -> bool {
        ora_ms < self.fino_a_ms
    }

    /// What the UI shows, with the resume time in Europe/Rome.
    pub fn messaggio(&self) -> String {
        let ora = DateTime::<Utc>::from_timestamp_millis(self.fino_a_ms)
            .unwrap_or_default()
            .with_timezone(&Rome);
        format!(
            "quota giornaliera esaurita per {}, ripresa alle {:02}:{:02}",
            self.servizio,
            ora.hour(),
            ora.minute()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use StatoRichiesta as S;

    fn utente(ruolo: Ruolo, richiedente: bool, del_comune: bool) -> Attore {
        Attore::Utente {
            id: 7,
            ruolo,
            richiedente,
            del_comune,
        }
    }

    fn richiedente() -> Attore {
        utente(Ruolo::Standard, true, false)
    }

    fn top() -> Attore {
        utente(Ruolo::Top, false, true)
    }

    fn respingi() -> Azione {
        Azione::Respingi {
            motivo: "protocollo non pertinente".into(),
        }
    }

    fn fallisci() -> Azione {
        Azione::Fallisci {
            motivo: "chiave privata non registrata su PDND".into(),
        }
    }

    fn ok(s: S, a: Azione, chi: Attore) -> EsitoTransizione {
        transizione(s, &a, &chi).unwrap()
    }

    #[test]
    fn bozza_inviata_dal_richiedente() {
        assert_eq!(
            ok(S::Bozza, Azione::Invia, richiedente()),
            EsitoTransizione::Stato(S::InAttesaConvalida)
        );
    }

    #[test]
    fn bozza_scartata_dal_richiedente() {
        assert_eq!(
            ok(S::Bozza, Azione::Scarta, richiedente()),
            EsitoTransizione::Eliminata
        );
    }

    #[test]
    fn approvata_dal_top_del_comune() {
        assert_eq!(
            ok(S::InAttesaConvalida, Azione::Approva, top()),
            EsitoTransizione::Stato(S::Convalidata)
        );
    }

    #[test]
    fn approvata_per_silenzio_assenso() {
        assert_eq!(
            ok(
                S::InAttesaConvalida,
                Azione::ApprovaSilenzioAssenso,
                Attore::Sistema
            ),
            EsitoTransizione::Stato(S::Convalidata)
        );
    }

    #[test]
    fn respinta_dal_top() {
        assert_eq!(
            ok(S::InAttesaConvalida, respingi(), top()),
            EsitoTransizione::Stato(S::Respinta)
        );
    }

    #[test]
    fn respinta_dal_sistema() {
        for motivo in [
            MotivoSistema::ConvenzioneScaduta,
            MotivoSistema::UtenteDisabilitato,
        ] {
            assert_eq!(
                ok(
                    S::InAttesaConvalida,
                    Azione::RespingiSistema { motivo },
                    Attore::Sistema
                ),
                EsitoTransizione::Stato(S::Respinta)
            );
        }
    }

    #[test]
    fn annullata_in_attesa_dal_richiedente_o_dal_top() {
        for chi in [richiedente(), top()] {
            assert_eq!(
                ok(S::InAttesaConvalida, Azione::Annulla, chi),
                EsitoTransizione::Stato(S::Annullata)
            );
        }
    }

    #[test]
    fn elaborazione_avviata_dal_worker() {
        assert_eq!(
            ok(S::Convalidata, Azione::AvviaElaborazione, Attore::Worker),
            EsitoTransizione::Stato(S::InElaborazione)
        );
    }

    #[test]
    fn completata_dal_worker() {
        assert_eq!(
            ok(S::InElaborazione, Azione::Completa, Attore::Worker),
            EsitoTransizione::Stato(S::Completata)
        );
    }

    #[test]
    fn annullata_in_elaborazione_solo_dal_top() {
        assert_eq!(
            ok(S::InElaborazione, Azione::Annulla, top()),
            EsitoTransizione::Stato(S::Annullata)
        );
        assert_eq!(
            transizione(S::InElaborazione, &Azione::Annulla, &richiedente())
                .unwrap_err()
                .to_string(),
            "solo un operatore TOP del Comune può annullare una richiesta in elaborazione"
        );
    }

    #[test]
    fn fallita_dal_worker() {
        assert_eq!(
            ok(S::InElaborazione, fallisci(), Attore::Worker),
            EsitoTransizione::Stato(S::Fallita)
        );
    }

    #[test]
    fn ripresa_dal_top() {
        assert_eq!(
            ok(S::Fallita, Azione::Riprendi, top()),
            EsitoTransizione::Stato(S::Convalidata)
        );
    }

    fn tutte_le_azioni() -> Vec<Azione> {
        vec![
            Azione::Invia,
            Azione::Scarta,
            Azione::Approva,
            Azione::ApprovaSilenzioAssenso,
            respingi(),
            Azione::RespingiSistema {
                motivo: MotivoSistema::ConvenzioneScaduta,
            },
            Azione::Annulla,
            Azione::AvviaElaborazione,
            Azione::Completa,
            fallisci(),
            Azione::Riprendi,
        ]
    }

    /// DESIGN §2's table, written out by hand: (from, action) pairs that exist.
    const AMMESSE: [(S, &str); 12] = [
        (S::Bozza, "invia"),
        (S::Bozza, "scarta"),
        (S::InAttesaConvalida, "approva"),
        (S::InAttesaConvalida, "approva per silenzio-assenso"),
        (S::InAttesaConvalida, "respingi"),
        (S::InAttesaConvalida, "respingi d'ufficio"),
        (S::InAttesaConvalida, "annulla"),
        (S::Convalidata, "avvia elaborazione"),
        (S::InElaborazione, "completa"),
        (S::InElaborazione, "annulla"),
        (S::InElaborazione, "fallisci"),
        (S::Fallita, "riprendi"),
    ];

    #[test]
    fn ogni_altra_coppia_stato_azione_e_rifiutata() {
        let attori = [
            richiedente(),
            top(),
            utente(Ruolo::Admin, false, false),
            Attore::Sistema,
            Attore::Worker,
        ];
        let mut rifiutate = 0;
        for s in S::ALL {
            for a in tutte_le_azioni() {
                if AMMESSE.contains(&(s, a.nome())) {
                    continue;
                }
                for chi in &attori {
                    let e = transizione(s, &a, chi).unwrap_err();
                    assert_eq!(
                        e,
                        ErroreTransizione::NonAmmessa {
                            da: s,
                            azione: a.nome()
                        }
                    );
                }
                rifiutate += 1;
            }
        }
        assert_eq!(rifiutate, 8 * 11 - 12);
        assert_eq!(
            transizione(S::Completata, &Azione::Approva, &top())
                .unwrap_err()
                .to_string(),
            "transizione non ammessa: da COMPLETATA con «approva»"
        );
    }

    #[test]
    fn ruoli_controllati() {
        let rifiuto = |s, a: Azione, chi: Attore| transizione(s, &a, &chi).unwrap_err().to_string();
        // A TOP of another Comune, an ADMIN, the submitter: none may approve.
        for chi in [
            utente(Ruolo::Top, false, false),
            utente(Ruolo::Admin, false, true),
            richiedente(),
            Attore::Sistema,
        ] {
            assert_eq!(
                rifiuto(S::InAttesaConvalida, Azione::Approva, chi),
                "solo un operatore TOP del Comune può approvare"
            );
        }
        assert_eq!(
            rifiuto(S::Bozza, Azione::Invia, top()),
            "solo il richiedente può inviare la richiesta"
        );
        assert_eq!(
            rifiuto(S::InAttesaConvalida, Azione::ApprovaSilenzioAssenso, top()),
            "solo il sistema può approvare per silenzio-assenso"
        );
        assert_eq!(
            rifiuto(
                S::InAttesaConvalida,
                Azione::Annulla,
                utente(Ruolo::Standard, false, false)
            ),
            "solo il richiedente o un operatore TOP del Comune può annullare"
        );
        assert_eq!(
            rifiuto(S::Convalidata, Azione::AvviaElaborazione, top()),
            "solo il worker può avviare l'elaborazione"
        );
        assert_eq!(
            rifiuto(S::InElaborazione, Azione::Completa, Attore::Sistema),
            "solo il worker può completare la richiesta"
        );
        assert_eq!(
            rifiuto(S::Fallita, Azione::Riprendi, richiedente()),
            "solo un operatore TOP del Comune può riprendere"
        );
        assert_eq!(
            rifiuto(
                S::InAttesaConvalida,
                Azione::Respingi {
                    motivo: "  ".into()
                },
                top()
            ),
            "il motivo è obbligatorio per «respingi»"
        );
    }

    #[test]
    fn righe_dopo_annullamento_fallimento_e_ripresa() {
        let arresto = Azione::Annulla.effetto_righe();
        assert_eq!(arresto, fallisci().effetto_righe());
        assert_eq!(arresto.applica(None), Some(Esito::NonElaborato));
        assert_eq!(arresto.applica(Some(Esito::Trovato)), Some(Esito::Trovato));
        assert_eq!(arresto.applica(Some(Esito::Errore)), Some(Esito::Errore));
        let ripresa = Azione::Riprendi.effetto_righe();
        assert_eq!(ripresa.applica(Some(Esito::NonElaborato)), None);
        assert_eq!(
            ripresa.applica(Some(Esito::NonTrovato)),
            Some(Esito::NonTrovato)
        );
        assert_eq!(Azione::Approva.effetto_righe(), EffettoRighe::Nessuno);
    }

    #[test]
    fn sospensione_fino_a_mezzanotte_di_roma() {
        // 2026-11-26 23:00 UTC is midnight of the 27th in Rome (CET, UTC+1).
        let mezzanotte = 1_795_734_000_000;
        let s = Sospensione {
            servizio: "C030".into(),
            fino_a_ms: mezzanotte,
        };
        assert_eq!(
            s.messaggio(),
            "quota giornaliera esaurita per C030, ripresa alle 00:00"
        );
        assert!(s.attiva(mezzanotte - 1));
        assert!(!s.attiva(mezzanotte));
    }

    #[test]
    fn codici_e_stati_finali() {
        for s in S::ALL {
            assert_eq!(S::parse(s.as_str()), Some(s));
        }
        assert_eq!(S::parse("in_attesa_convalida"), None);
        assert!(!S::Fallita.finale());
        assert!(S::Fallita.file_parziali() && S::Annullata.file_parziali());
        assert!(!S::Completata.file_parziali());
        assert_eq!(
            serde_json::to_string(&S::InAttesaConvalida).unwrap(),
            "\"IN_ATTESA_CONVALIDA\""
        );
    }
}
