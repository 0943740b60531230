//! `rivesto admin backup`, `admin rotate-file-key` and `admin comune update`: the maintenance
//! an operator does on a running installation (docs/deployment-postgres.md).

use crate::admin::apri_store;
use crate::cli::{ComuneUpdateArgs, Globali};
use crate::segreti::{attore_admin_cli, master_key};
use crate::valori;
use std::path::Path;
use std::process::ExitCode;

/// A consistent copy of a live SQLite database. Other processes may go on working meanwhile:
/// `VACUUM INTO` reads one snapshot.
pub async fn backup(g: &Globali, out: &Path) -> anyhow::Result<ExitCode> {
    if !g.database_url.starts_with("sqlite:") {
        anyhow::bail!(
            "admin backup copia solo un database SQLite: per PostgreSQL usare pg_dump \
             (vedi docs/deployment-postgres.md e scripts/pg-backup-restore)"
        );
    }
    if out.exists() {
        anyhow::bail!("{} esiste già: non lo sovrascrivo", out.display());
    }
    let store = apri_store(g).await?;
    let esito = store.copia_sqlite(out).await;
    store.chiudi().await;
    esito?;
    println!("{}", out.display());
    eprintln!(
        "Copia del database scritta in {}. Per un ripristino servono anche la master key \
         ({}) e la cartella {}: conservarle a parte, la master key lontano dalle copie del \
         database.",
        out.display(),
        g.percorso_master_key().display(),
        g.data_dir.join("risultati").display()
    );
    Ok(ExitCode::SUCCESS)
}

/// A new age identity for the result files; the old ones stay for the files they encrypted.
pub async fn ruota_chiave_file(g: &Globali) -> anyhow::Result<ExitCode> {
    let chiave = master_key(g)?;
    let store = apri_store(g).await?;
    let esito = worker::ruota_identita_file(&store, &chiave, &attore_admin_cli()).await;
    store.chiudi().await;
    let destinatario = esito?;
    println!("{destinatario}");
    eprintln!(
        "Nuova identità per i file di risposta (chiave pubblica {destinatario}): i nuovi file \
         sono cifrati con questa. Le identità precedenti restano, cifrate con la master key, \
         per scaricare i file già scritti fino alla loro eliminazione."
    );
    Ok(ExitCode::SUCCESS)
}

/// Replaces the onboarding file (and key files) of an existing Comune. The workers notice the
/// changed access at their next chunk (the client cache is keyed on its fingerprint).
pub async fn comune_update(g: &Globali, a: ComuneUpdateArgs) -> anyhow::Result<ExitCode> {
    let istat = valori::codice_istat(&a.istat)?;
    // Everything that can fail is checked before the write.
    let chiave = master_key(g)?;
    let accesso = web::onboarding::importa(&a.config)?;
    let store = apri_store(g).await?;
    let Some(comune) = store.comune_per_istat(&istat).await? else {
        anyhow::bail!("il Comune {istat} non esiste: crearlo con rivesto admin comune add");
    };
    web::onboarding::controlla_sede(&accesso, &istat)?;
    store
        .imposta_accesso_anpr(
            comune.id,
            &accesso.toml,
            &accesso.file,
            &chiave,
            &attore_admin_cli(),
        )
        .await?;
    store.chiudi().await;
    println!("{}", comune.id);
    eprintln!(
        "Accesso ANPR del Comune {} ({istat}) sostituito con {} ({} file cifrati); i worker lo \
         usano dal prossimo blocco di righe.",
        comune.nome,
        a.config.display(),
        accesso.file.len()
    );
    Ok(ExitCode::SUCCESS)
}
