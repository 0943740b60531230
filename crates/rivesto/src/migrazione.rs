//! `rivesto migrate`: applies the embedded migrations. It needs only the database URL (no master
//! key, no configuration); on PostgreSQL it runs as the owner and ensures the runtime role.

use crate::cli::{Globali, MigrateArgs};
use crate::segreti::leggi_prima_riga;
use std::process::ExitCode;
use store::OpzioniMigrazione;

pub async fn esegui(g: &Globali, a: MigrateArgs) -> anyhow::Result<ExitCode> {
    let password_runtime = a
        .runtime_password_file
        .as_deref()
        .map(|p| leggi_prima_riga(p, "password del ruolo runtime"))
        .transpose()?;
    let postgres = !g.database_url.starts_with("sqlite:");
    if password_runtime.is_some() && !postgres {
        anyhow::bail!("--runtime-password-file vale solo per PostgreSQL: SQLite non ha ruoli");
    }
    let opzioni = OpzioniMigrazione {
        ruolo_runtime: a.runtime_role,
        password_runtime,
    };
    store::migra(&g.database_url, &opzioni).await?;
    println!("Migrazioni applicate: {}", url_visibile(&g.database_url));
    if postgres {
        println!(
            "Ruolo runtime: {} (SELECT e INSERT su audit_entries e audit_checkpoints, nessun UPDATE/DELETE/TRUNCATE)",
            opzioni.ruolo_runtime
        );
        println!(
            "serve e worker si collegano come {}.",
            opzioni.ruolo_runtime
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The URL without its password, for messages.
pub fn url_visibile(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn la_password_non_compare() {
        assert_eq!(
            url_visibile("postgres://owner:segreta@db:5432/rivesto"),
            "postgres://owner:***@db:5432/rivesto"
        );
        assert_eq!(
            url_visibile("sqlite://rivesto-data/rivesto.db"),
            "sqlite://rivesto-data/rivesto.db"
        );
    }
}
