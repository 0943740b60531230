//! `rivesto audit verify | checkpoint | purge`: the archive's integrity and retention (issue 6).
//! `verify` needs only the database; `checkpoint` and `purge` sign with the key kept under the
//! master key. Exit codes: 0 done (chain intact), 1 a fault in the chain, 2 usage or I/O error.

use crate::admin::apri_store;
use crate::cli::{AuditComando, Globali};
use crate::migrazione::url_visibile;
use crate::segreti::{attore_admin_cli, master_key};
use anyhow::Context as _;
use domain::numeri::migliaia;
use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;
use store::audit_checkpoint::{
    Checkpoint, CheckpointEsterno, ErroreAudit, EsitoPurga, RapportoVerifica, StatoCheckpoint,
};
use web::pagina::data_ora;

pub async fn esegui(g: &Globali, comando: AuditComando) -> anyhow::Result<ExitCode> {
    match comando {
        AuditComando::Verify { checkpoint } => verifica(g, &checkpoint).await,
        AuditComando::Checkpoint { out } => checkpoint(g, &out).await,
        AuditComando::Purge {
            before,
            retention_months,
        } => purga(g, before, retention_months).await,
    }
}

fn leggi_checkpoint(percorso: &Path) -> anyhow::Result<CheckpointEsterno> {
    let testo = std::fs::read_to_string(percorso)
        .with_context(|| format!("lettura del checkpoint {} non riuscita", percorso.display()))?;
    let checkpoint = Checkpoint::da_json(&testo)
        .with_context(|| format!("checkpoint {}", percorso.display()))?;
    Ok(CheckpointEsterno {
        nome: percorso.display().to_string(),
        checkpoint,
    })
}

async fn verifica(g: &Globali, file: &[std::path::PathBuf]) -> anyhow::Result<ExitCode> {
    let esterni = file
        .iter()
        .map(|p| leggi_checkpoint(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let store = apri_store(g).await?;
    let rapporto = store.verifica_audit(&esterni).await;
    store.chiudi().await;
    let rapporto = rapporto?;
    print!(
        "{}",
        testo_rapporto(&url_visibile(&g.database_url), &rapporto)
    );
    Ok(if rapporto.integra() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn id(n: i64) -> String {
    migliaia(n.unsigned_abs())
}

/// The report `verify` prints: what was checked, then the verdict and each fault.
pub fn testo_rapporto(database: &str, r: &RapportoVerifica) -> String {
    let mut s = format!("Verifica della catena di audit: {database}\n");
    match (r.primo_id, r.ultimo_id) {
        (Some(primo), Some(ultimo)) => s.push_str(&format!(
            "Voci verificate: {} (dalla {} alla {})\n",
            migliaia(r.voci),
            id(primo),
            id(ultimo)
        )),
        _ => s.push_str("Voci verificate: nessuna, la catena è vuota\n"),
    }
    if let Some(t) = r.taglio {
        s.push_str(&format!(
            "Taglio della purga: voci fino alla {} rimosse, la catena riparte dalla {}\n",
            id(t),
            id(t + 1)
        ));
    }
    s.push_str(&format!(
        "Checkpoint nel database: {}; confermati (database e file): {}",
        migliaia(r.checkpoint_database),
        migliaia(r.checkpoint_confermati)
    ));
    match r.ultimo_checkpoint {
        Some(u) => s.push_str(&format!("; il più recente certifica la voce {}\n", id(u))),
        None => s.push('\n'),
    }
    if let Some(k) = &r.chiave_pubblica {
        s.push_str(&format!("Chiave pubblica dei checkpoint (Ed25519): {k}\n"));
    }
    for e in &r.esterni {
        let stato = match e.stato {
            StatoCheckpoint::Confermato => "confermato",
            StatoCheckpoint::AnterioreAlTaglio => {
                "anteriore al taglio della purga, non confrontabile"
            }
            StatoCheckpoint::NonConfermato => "NON confermato (vedi anomalie)",
        };
        s.push_str(&format!(
            "{} ({}, {}, fino alla voce {}): {stato}\n",
            maiuscola(&e.origine.to_string()),
            e.tipo.come_testo(),
            data_ora(e.istante_ms),
            id(e.fino_a_id)
        ));
    }
    if r.integra() {
        s.push_str("Esito: catena integra\n");
        return s;
    }
    let totale = r.anomalie.len() as u64 + r.anomalie_omesse;
    s.push_str(&format!(
        "Esito: CATENA ALTERATA, {} {}\n",
        migliaia(totale),
        if totale == 1 { "anomalia" } else { "anomalie" }
    ));
    for a in &r.anomalie {
        s.push_str(&format!("  - {a}\n"));
    }
    if r.anomalie_omesse > 0 {
        s.push_str(&format!(
            "  - e altre {} non elencate\n",
            migliaia(r.anomalie_omesse)
        ));
    }
    s
}

fn maiuscola(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|p| p.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// A fault in the chain is exit 1, like `verify`'s; anything else goes to `main` (exit 2).
fn esito_audit<T>(r: Result<T, ErroreAudit>) -> anyhow::Result<Result<T, ExitCode>> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(e @ ErroreAudit::CatenaAlterata(_)) => {
            eprintln!("errore: {e}");
            Ok(Err(ExitCode::from(1)))
        }
        Err(e) => Err(e.into()),
    }
}

async fn checkpoint(g: &Globali, out: &Path) -> anyhow::Result<ExitCode> {
    let chiave = master_key(g)?;
    // Created first, so a wrong folder or an existing file fails before anything is signed.
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(out)
        .with_context(|| {
            format!(
                "{}: impossibile creare il file (un checkpoint esistente non si sovrascrive)",
                out.display()
            )
        })?;
    let cp = match firma(g, &chiave).await {
        Ok(Ok(cp)) => cp,
        Ok(Err(code)) => {
            scarta(file, out);
            return Ok(code);
        }
        Err(e) => {
            scarta(file, out);
            return Err(e);
        }
    };
    file.write_all(cp.in_json()?.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("scrittura di {} non riuscita", out.display()))?;
    println!(
        "Checkpoint scritto in {}: voce {} del {}, hash {}",
        out.display(),
        id(cp.fino_a_id),
        data_ora(cp.istante_ms),
        cp.hash
    );
    println!("Chiave pubblica (Ed25519): {}", cp.chiave_pubblica);
    println!(
        "Conservarlo fuori dal server; per verificare: rivesto audit verify --checkpoint {}",
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Removes the file created for a checkpoint that was not taken.
fn scarta(file: std::fs::File, out: &Path) {
    drop(file);
    let _ = std::fs::remove_file(out);
}

async fn firma(
    g: &Globali,
    chiave: &store::ChiaveMaestra,
) -> anyhow::Result<Result<Checkpoint, ExitCode>> {
    let store = apri_store(g).await?;
    let r = store.checkpoint_audit(chiave).await;
    store.chiudi().await;
    esito_audit(r)
}

async fn purga(g: &Globali, prima_di: chrono::NaiveDate, mesi: u32) -> anyhow::Result<ExitCode> {
    let chiave = master_key(g)?;
    let store = apri_store(g).await?;
    let r = store
        .purga_audit(prima_di, mesi, &chiave, &attore_admin_cli())
        .await;
    store.chiudi().await;
    match esito_audit(r)? {
        Ok(e) => {
            print!("{}", testo_purga(prima_di, &e));
            Ok(ExitCode::SUCCESS)
        }
        Err(code) => Ok(code),
    }
}

fn testo_purga(prima_di: chrono::NaiveDate, e: &EsitoPurga) -> String {
    let data = prima_di.format("%d/%m/%Y");
    let (Some((da, a)), Some(cp)) = (e.intervallo, &e.checkpoint) else {
        return format!("Nessuna voce anteriore al {data}: nulla da rimuovere.\n");
    };
    let mut s = format!(
        "Rimosse {} voci di audit anteriori al {data} (dalla {} alla {}).\n",
        migliaia(e.voci_rimosse),
        id(da),
        id(a)
    );
    s.push_str(&format!(
        "Checkpoint TAGLIO firmato alla voce {} (hash {}): la catena riparte dalla {}.\n",
        id(a),
        cp.hash,
        id(a + 1)
    ));
    if let Some(v) = e.voce_audit {
        s.push_str(&format!("La purga è registrata nella voce {}.\n", id(v)));
    }
    s.push_str(
        "Consigliato ora: rivesto audit checkpoint --out FILE, da conservare fuori dal server.\n",
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use store::audit_checkpoint::{Anomalia, EsitoCheckpoint, Origine, TipoCheckpoint};

    fn rapporto() -> RapportoVerifica {
        RapportoVerifica {
            voci: 1_500,
            primo_id: Some(501),
            ultimo_id: Some(2_000),
            ultimo_hash: "ab".repeat(32),
            taglio: Some(500),
            checkpoint_database: 3,
            checkpoint_confermati: 4,
            ultimo_checkpoint: Some(1_990),
            chiave_pubblica: Some("cd".repeat(32)),
            esterni: vec![EsitoCheckpoint {
                origine: Origine::Esterno {
                    nome: "cp.json".into(),
                },
                fino_a_id: 1_990,
                tipo: TipoCheckpoint::SuRichiesta,
                // 01/07/2026 12:00 in Rome.
                istante_ms: 1_782_900_000_000,
                stato: StatoCheckpoint::Confermato,
            }],
            anomalie: Vec::new(),
            anomalie_omesse: 0,
        }
    }

    #[test]
    fn rapporto_integro() {
        assert_eq!(
            testo_rapporto("sqlite://a.db", &rapporto()),
            format!(
                "Verifica della catena di audit: sqlite://a.db\n\
                 Voci verificate: 1.500 (dalla 501 alla 2.000)\n\
                 Taglio della purga: voci fino alla 500 rimosse, la catena riparte dalla 501\n\
                 Checkpoint nel database: 3; confermati (database e file): 4; il più recente \
                 certifica la voce 1.990\n\
                 Chiave pubblica dei checkpoint (Ed25519): {}\n\
                 Checkpoint del file cp.json (SU_RICHIESTA, 01/07/2026 12:00, fino alla voce \
                 1.990): confermato\n\
                 Esito: catena integra\n",
                "cd".repeat(32)
            )
        );
    }

    #[test]
    fn rapporto_con_anomalie() {
        let mut r = rapporto();
        r.anomalie = vec![
            Anomalia::VoceAlterata { id: 7 },
            Anomalia::VociMancanti { da: 9, a: 12 },
        ];
        r.anomalie_omesse = 1_200;
        let t = testo_rapporto("x", &r);
        assert!(
            t.ends_with(
                "Esito: CATENA ALTERATA, 1.202 anomalie\n\
                 \x20 - voce 7: il contenuto non corrisponde al suo hash (voce modificata, o \
                 scambiata con un'altra)\n\
                 \x20 - voci mancanti da 9 a 12 (4 voci cancellate)\n\
                 \x20 - e altre 1.200 non elencate\n"
            ),
            "{t}"
        );
    }

    #[test]
    fn purga_senza_voci() {
        let e = EsitoPurga {
            voci_rimosse: 0,
            intervallo: None,
            checkpoint: None,
            voce_audit: None,
        };
        let d = chrono::NaiveDate::from_ymd_opt(2024, 1, 31).unwrap();
        assert_eq!(
            testo_purga(d, &e),
            "Nessuna voce anteriore al 31/01/2024: nulla da rimuovere.\n"
        );
    }
}
