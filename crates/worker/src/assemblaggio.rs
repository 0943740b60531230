//! Result files (DESIGN §2, §5): streamed from the database through the `files` writer,
//! encrypted with age to the server's identity, recorded with the SHA-256 and row counts of
//! the plaintext. The plaintext parts live only in a private temporary folder beside the
//! destination while they are encrypted.

use crate::ErroreWorker;
use crate::cifratura::{IdentitaFile, cifra_in};
use crate::istantanea::Istantanea;
use crate::motore::Motore;
use domain::esito::Esito;
use files::output::{
    ModoFamiglia, RigaRisultato, ScrittoreRisultati, estrai_componenti, estrai_con_famiglia,
};
use serde_json::Value;
use std::path::{Path, PathBuf};
use store::richieste::{NuovoFileRisposta, Riga, stato};
use store::{Attore, ChiaveMaestra, Store};

/// The secret under which the server's age identity is stored.
pub const SEGRETO_IDENTITA_FILE: &str = "identita_file_age";
const RIGHE_PER_LETTURA: i64 = 1_000;

/// The server's age identity for result files, generated on first use. The download code
/// decrypts with it.
pub async fn identita_file(
    store: &Store,
    chiave: &ChiaveMaestra,
) -> Result<IdentitaFile, ErroreWorker> {
    let s = store
        .segreto_o_genera(SEGRETO_IDENTITA_FILE, chiave, || {
            Ok(IdentitaFile::genera().esporta_segreto().into_bytes())
        })
        .await?;
    let testo = String::from_utf8_lossy(s.esponi()).into_owned();
    Ok(IdentitaFile::da_testo(&testo)?)
}

/// The names under which rotated-out identities are kept (followed by the rotation time).
pub const PREFISSO_IDENTITA_RITIRATA: &str = "identita_file_age_ritirata_";

/// Every identity that may open a result file: the current one first, then the retired ones.
pub async fn identita_file_tutte(
    store: &Store,
    chiave: &ChiaveMaestra,
) -> Result<Vec<IdentitaFile>, ErroreWorker> {
    let mut tutte = vec![identita_file(store, chiave).await?];
    for (_, s) in store
        .segreti_con_prefisso(PREFISSO_IDENTITA_RITIRATA, chiave)
        .await?
    {
        tutte.push(IdentitaFile::da_testo(&String::from_utf8_lossy(
            s.esponi(),
        ))?);
    }
    Ok(tutte)
}

/// A new identity for the files written from now on; the previous one is kept (retired)
/// for the files it encrypted. Returns the new public key (`age1…`).
pub async fn ruota_identita_file(
    store: &Store,
    chiave: &ChiaveMaestra,
    attore: &Attore,
) -> Result<String, ErroreWorker> {
    let nuova = IdentitaFile::genera();
    let ritirata = format!("{PREFISSO_IDENTITA_RITIRATA}{}", store.adesso_ms());
    store
        .ruota_segreto(
            SEGRETO_IDENTITA_FILE,
            &ritirata,
            nuova.esporta_segreto().as_bytes(),
            chiave,
            attore,
        )
        .await?;
    Ok(nuova.destinatario().to_string())
}

impl Motore {
    /// Writes the files of a request that is ending `per` COMPLETATA, FALLITA or ANNULLATA,
    /// then (for COMPLETATA) completes it. Safe to run again: a file already recorded with the
    /// same name and hash is not recorded twice.
    pub(crate) async fn assembla(&self, richiesta_id: i64, per: &str) -> Result<(), ErroreWorker> {
        let r = self.store.richiesta(richiesta_id).await?;
        let atteso = match per {
            stato::COMPLETATA => stato::IN_ELABORAZIONE,
            altro => altro,
        };
        if r.stato != atteso {
            // Resumed or already completed meanwhile: these files are no longer wanted.
            return Ok(());
        }
        let ist = Istantanea::da_json(richiesta_id, &r.snapshot)?;
        let parziale = per != stato::COMPLETATA;
        let scritti = self.scrivi_file(richiesta_id, &ist, parziale).await?;
        let gia = self.store.file_risposta(richiesta_id).await?;
        for f in scritti {
            let presente = gia
                .iter()
                .any(|g| g.nome == f.nome && g.sha256 == f.sha256 && g.eliminato_ms.is_none());
            if !presente {
                self.store
                    .registra_file_risposta(&f, &Attore::sistema())
                    .await?;
            }
        }
        if per == stato::COMPLETATA {
            self.store
                .cambia_stato_richiesta(
                    richiesta_id,
                    &[stato::IN_ELABORAZIONE],
                    stato::COMPLETATA,
                    None,
                    &Attore::sistema(),
                )
                .await?;
        }
        // A FALLITA request may be resumed: its result fields stay for the complete files.
        if per != stato::FALLITA {
            self.store
                .elimina_risultati(richiesta_id, &Attore::sistema())
                .await?;
        }
        self.accoda_purga(richiesta_id, ist.conservazione_giorni)
            .await
    }

    async fn scrivi_file(
        &self,
        richiesta_id: i64,
        ist: &Istantanea,
        parziale: bool,
    ) -> Result<Vec<NuovoFileRisposta>, ErroreWorker> {
        let destinatario = identita_file(&self.store, &self.chiave)
            .await?
            .destinatario();
        let cartella = cartella_richiesta(&self.opzioni.cartella_file, richiesta_id);
        std::fs::create_dir_all(&cartella).map_err(ErroreWorker::io("creazione", &cartella))?;
        let chiaro = tempfile::Builder::new()
            .prefix(".in-chiaro-")
            .tempdir_in(&cartella)
            .map_err(ErroreWorker::io("creazione", &cartella))?;
        let nome = if parziale {
            format!("{richiesta_id}-parziale")
        } else {
            richiesta_id.to_string()
        };
        let layout = ist.layout();
        let mut scrittore = ScrittoreRisultati::nuovo(chiaro.path(), &nome, layout)?;
        self.scrivi_righe(richiesta_id, &mut scrittore).await?;
        let resoconto = scrittore.chiudi()?;
        let mut v = Vec::with_capacity(resoconto.file.len());
        for f in resoconto.file {
            let destinazione: PathBuf = cartella.join(format!("{}.age", f.nome));
            let cifrato = cifra_in(&f.percorso, &destinazione, &destinatario)?;
            debug_assert_eq!(cifrato.sha256, f.sha256_hex);
            v.push(NuovoFileRisposta {
                richiesta_id,
                nome: f.nome,
                percorso: destinazione.display().to_string(),
                righe: i64::try_from(f.righe).unwrap_or(i64::MAX),
                sha256: f.sha256_hex,
                dimensione: i64::try_from(f.byte).unwrap_or(i64::MAX),
                parziale,
            });
        }
        drop(chiaro);
        Ok(v)
    }

    /// Streams the rows, a page at a time, decrypting each row's result fields.
    async fn scrivi_righe(
        &self,
        richiesta_id: i64,
        scrittore: &mut ScrittoreRisultati,
    ) -> Result<(), ErroreWorker> {
        let mut dopo = 0;
        loop {
            let righe = self
                .store
                .righe(richiesta_id, dopo, RIGHE_PER_LETTURA)
                .await?;
            let Some(ultima) = righe.last() else {
                return Ok(());
            };
            dopo = ultima.numero;
            for riga in &righe {
                let risultato = self.store.risultato_riga(riga.id, &self.chiave).await?;
                scrittore.scrivi(&riga_risultato(scrittore, riga, risultato.as_ref()))?;
            }
        }
    }
}

fn riga_risultato(s: &ScrittoreRisultati, riga: &Riga, risultato: Option<&Value>) -> RigaRisultato {
    let layout = s.layout();
    let opzioni = layout.opzioni_estrazione();
    let vuoto = Vec::new();
    let famiglia = risultato
        .and_then(|r| r.get("famiglia"))
        .and_then(Value::as_array)
        .unwrap_or(&vuoto);
    let valori = match risultato.and_then(|r| r.get("soggetto")) {
        Some(soggetto) => estrai_con_famiglia(&layout.campi, soggetto, famiglia, &opzioni),
        None => vec![String::new(); layout.campi.len()],
    };
    let componenti_famiglia = if layout.famiglia == ModoFamiglia::FilePerComponente {
        estrai_componenti(famiglia, &opzioni)
    } else {
        Vec::new()
    };
    RigaRisultato {
        riferimento: riga.riferimento.clone().unwrap_or_default(),
        tipo: riga.tipo.as_str().to_string(),
        identificativo: riga.identificativo.clone().unwrap_or_default(),
        esito: riga.esito.unwrap_or(Esito::NonElaborato),
        messaggio: riga.messaggio.clone().unwrap_or_default(),
        id_operazione_anpr: id_anpr(riga.id_operazioni.as_ref()),
        valori,
        componenti_famiglia,
    }
}

/// ANPR's idOperazioneANPR of each call, in call order, from the stored call ids.
fn id_anpr(id_operazioni: Option<&Value>) -> Vec<String> {
    id_operazioni
        .and_then(Value::as_array)
        .map(|v| {
            v.iter()
                .filter_map(|c| c.get("id_operazione_anpr").and_then(Value::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Where the encrypted parts of a request are written.
pub fn cartella_richiesta(cartella_file: &Path, richiesta_id: i64) -> PathBuf {
    cartella_file.join(format!("richiesta-{richiesta_id}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn id_anpr_in_ordine_di_chiamata() {
        let v = json!([
            {"servizio": "C030", "id_operazione_client": "1", "id_operazione_anpr": "A1"},
            {"servizio": "C020", "id_operazione_client": "2", "id_operazione_anpr": null},
            {"servizio": "C015", "id_operazione_client": "3", "id_operazione_anpr": "A3"}
        ]);
        assert_eq!(id_anpr(Some(&v)), vec!["A1".to_string(), "A3".to_string()]);
        assert!(id_anpr(None).is_empty());
    }
}
