//! `rivesto admin`: non-interactive bootstrap for scripts (DESIGN §6). Each `add` prints the new
//! object's id alone on stdout (so a script can capture it) and a description on stderr. Every
//! change is audited by the store with the actor `admin-cli` (see `segreti::attore_admin_cli`).

use crate::cli::{
    AdminComando, AdminComuneComando, AdminConvenzioneComando, AdminEnteComando,
    AdminProfiloComando, AdminUserComando, ComuneAddArgs, ConvenzioneAddArgs, EnteAddArgs, Globali,
    ProfiloSetArgs, UserAddArgs,
};
use crate::segreti::{attore_admin_cli, leggi_da_stdin, leggi_prima_riga, master_key};
use crate::valori;
use anyhow::Context as _;
use domain::ruolo::Ruolo;
use std::process::ExitCode;
use store::Store;
use store::anagrafiche::{NuovaConvenzione, NuovoComune, NuovoUtente, TipoCodiceEnte};

pub async fn esegui(g: &Globali, comando: AdminComando) -> anyhow::Result<ExitCode> {
    match comando {
        AdminComando::GenMasterKey { out } => gen_master_key(g, out),
        AdminComando::Comune {
            comando: AdminComuneComando::Add(a),
        } => comune_add(g, a).await,
        AdminComando::Ente {
            comando: AdminEnteComando::Add(a),
        } => ente_add(g, a).await,
        AdminComando::Convenzione {
            comando: AdminConvenzioneComando::Add(a),
        } => convenzione_add(g, a).await,
        AdminComando::User {
            comando: AdminUserComando::Add(a),
        } => user_add(g, a).await,
        AdminComando::Profilo {
            comando: AdminProfiloComando::Set(a),
        } => profilo_set(g, a).await,
        AdminComando::Comune {
            comando: AdminComuneComando::Update(a),
        } => crate::manutenzione::comune_update(g, a).await,
        AdminComando::Backup { out } => crate::manutenzione::backup(g, &out).await,
        AdminComando::RotateFileKey => crate::manutenzione::ruota_chiave_file(g).await,
    }
}

fn gen_master_key(g: &Globali, out: Option<std::path::PathBuf>) -> anyhow::Result<ExitCode> {
    let percorso = out.unwrap_or_else(|| g.percorso_master_key());
    if percorso.exists() {
        anyhow::bail!(
            "{} esiste già: non la sovrascrivo (una master key diversa rende illeggibili i segreti \
             già cifrati nel database)",
            percorso.display()
        );
    }
    store::genera_master_key(&percorso)?;
    println!("{}", percorso.display());
    eprintln!(
        "Master key creata: {} (32 byte casuali, permessi 0600). Conservarne una copia sicura: \
         senza di essa i segreti nel database non si leggono più. Tutti i processi che usano lo \
         stesso database devono avere la stessa master key (RIVESTO_MASTER_KEY_FILE).",
        percorso.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Opens the database and refuses one that `rivesto migrate` has not prepared.
pub async fn apri_store(g: &Globali) -> anyhow::Result<Store> {
    let store = Store::connetti(&g.database_url).await?;
    if !store.schema_aggiornato().await? {
        anyhow::bail!(
            "il database {} non è aggiornato: eseguire prima rivesto migrate",
            crate::migrazione::url_visibile(&g.database_url)
        );
    }
    Ok(store)
}

fn stampa_id(id: i64, descrizione: String) -> anyhow::Result<ExitCode> {
    println!("{id}");
    eprintln!("{descrizione}");
    Ok(ExitCode::SUCCESS)
}

async fn comune_add(g: &Globali, a: ComuneAddArgs) -> anyhow::Result<ExitCode> {
    let nuovo = NuovoComune {
        codice_istat: valori::codice_istat(&a.istat)?,
        belfiore: valori::belfiore(&a.belfiore)?,
        nome: valori::non_vuoto("--nome", &a.nome)?,
        sigla: valori::sigla(&a.sigla)?,
    };
    // Everything that can fail is checked before the first write.
    let chiave = master_key(g)?;
    let accesso = web::onboarding::importa(&a.config)?;
    let store = apri_store(g).await?;
    if store.comune_per_istat(&nuovo.codice_istat).await?.is_some() {
        anyhow::bail!("il Comune {} esiste già", nuovo.codice_istat);
    }
    web::onboarding::controlla_sede(&accesso, &nuovo.codice_istat)?;
    let attore = attore_admin_cli();
    let id = store.crea_comune(&nuovo, &attore).await?;
    store
        .imposta_accesso_anpr(id, &accesso.toml, &accesso.file, &chiave, &attore)
        .await?;
    stampa_id(
        id,
        format!(
            "Comune creato: {} ({}, {}), ISTAT {}, con l'accesso ANPR di {} ({} file cifrati)",
            nuovo.nome,
            nuovo.sigla,
            nuovo.belfiore,
            nuovo.codice_istat,
            a.config.display(),
            accesso.file.len()
        ),
    )
}

async fn ente_add(g: &Globali, a: EnteAddArgs) -> anyhow::Result<ExitCode> {
    let (codice, tipo) = match (&a.cf, &a.ipa) {
        (Some(cf), _) => (valori::cf_ente(cf)?, TipoCodiceEnte::CodiceFiscale),
        (None, Some(ipa)) => (valori::codice_ipa(ipa)?, TipoCodiceEnte::Ipa),
        (None, None) => anyhow::bail!("serve --cf oppure --ipa"),
    };
    let nome = valori::non_vuoto("--nome", &a.nome)?;
    let ufficio = valori::codice_ufficio(a.codice_ufficio.as_deref().unwrap_or(&codice))?;
    let store = apri_store(g).await?;
    let id = store
        .crea_ente(&codice, tipo, &nome, &ufficio, &attore_admin_cli())
        .await
        .map_err(|e| duplicato(e, format!("l'Ente {codice} esiste già")))?;
    stampa_id(id, format!("Ente creato: {nome} ({codice}), id {id}"))
}

/// A unique-key violation as a plain message; other errors unchanged.
fn duplicato(e: store::ErroreStore, messaggio: String) -> anyhow::Error {
    if e.duplicato() {
        anyhow::anyhow!(messaggio)
    } else {
        e.into()
    }
}

async fn convenzione_add(g: &Globali, a: ConvenzioneAddArgs) -> anyhow::Result<ExitCode> {
    let campi = valori::gruppi(&a.campi)?;
    let ambito = valori::ambito(&a.ambito)?;
    let approvazione = valori::approvazione(&a.approvazione)?;
    let finalita = valori::finalita(&a.finalita)?;
    let valida_dal_ms = match &a.valida_dal {
        Some(d) => valori::inizio_giorno(d)?,
        None => store::limiti_giorno_roma(chrono::Utc::now().timestamp_millis()).0,
    };
    let valida_al_ms = a
        .valida_al
        .as_deref()
        .map(valori::fine_giorno)
        .transpose()?;
    if valida_al_ms.is_some_and(|al| al < valida_dal_ms) {
        anyhow::bail!("--valida-al precede --valida-dal");
    }
    for (nome, v) in [
        ("--max-righe-richiesta", a.max_righe_richiesta),
        ("--max-soggetti-giorno", a.max_soggetti_giorno),
    ] {
        if v.is_some_and(|n| n < 1) {
            anyhow::bail!("{nome}: serve un numero maggiore di zero");
        }
    }
    if a.conservazione_giorni < 1 {
        anyhow::bail!("--conservazione-giorni: serve almeno 1 giorno");
    }
    let store = apri_store(g).await?;
    let comune = store
        .comune_per_istat(&valori::codice_istat(&a.comune)?)
        .await?
        .with_context(|| format!("Comune {} non trovato", a.comune))?;
    let ente = store
        .ente(a.ente)
        .await
        .with_context(|| format!("Ente con id {} non trovato", a.ente))?;
    let nuova = NuovaConvenzione {
        comune_id: comune.id,
        ente_id: ente.id,
        nome: a
            .nome
            .unwrap_or_else(|| format!("{} - {}", ente.nome, comune.nome)),
        tracciato: valori::tracciato(&campi)?,
        campi,
        ambito,
        approvazione,
        finalita,
        valida_dal_ms,
        valida_al_ms,
        max_righe_richiesta: a.max_righe_richiesta,
        max_soggetti_giorno: a.max_soggetti_giorno,
        conservazione_giorni: a.conservazione_giorni,
        ricerca_nazionale: a.ricerca_nazionale,
    };
    let id = store.crea_convenzione(&nuova, &attore_admin_cli()).await?;
    stampa_id(
        id,
        format!(
            "Convenzione creata: {} (Comune {}, Ente {}), id {id}",
            nuova.nome, comune.codice_istat, ente.codice
        ),
    )
}

async fn user_add(g: &Globali, a: UserAddArgs) -> anyhow::Result<ExitCode> {
    let ruolo = Ruolo::parse(&a.ruolo.to_ascii_uppercase())
        .with_context(|| format!("--ruolo: atteso TOP, ADMIN o STANDARD, trovato {}", a.ruolo))?;
    let username = valori::username(&a.username)?;
    if a.password.is_some() {
        anyhow::bail!(
            "la password non si passa sulla riga di comando (la vedrebbero ps e la cronologia \
             della shell): usare --password-file FILE oppure --password-stdin"
        );
    }
    let password = match &a.password_file {
        Some(p) => leggi_prima_riga(p, "password")?,
        None => leggi_da_stdin("password")?,
    };
    valori::password(&password, &username)?;
    let store = apri_store(g).await?;
    let (comune_id, ente_id) = match (ruolo, &a.comune, a.ente) {
        (Ruolo::Top, Some(istat), None) => {
            let c = store
                .comune_per_istat(&valori::codice_istat(istat)?)
                .await?
                .with_context(|| format!("Comune {istat} non trovato"))?;
            (Some(c.id), None)
        }
        // With --comune, the account acts only under the Ente's conventions with that Comune
        // and is managed by its TOP; without, it spans the Ente (console-managed).
        (Ruolo::Admin | Ruolo::Standard, comune, Some(ente)) => {
            let e = store
                .ente(ente)
                .await
                .with_context(|| format!("Ente con id {ente} non trovato"))?;
            let c = match comune {
                Some(istat) => Some(
                    store
                        .comune_per_istat(&valori::codice_istat(istat)?)
                        .await?
                        .with_context(|| format!("Comune {istat} non trovato"))?
                        .id,
                ),
                None => None,
            };
            (c, Some(e.id))
        }
        (Ruolo::Top, _, _) => anyhow::bail!("un utente TOP appartiene a un Comune: serve --comune"),
        _ => anyhow::bail!("un utente {ruolo} appartiene a un Ente: serve --ente"),
    };
    let codice_utente = valori::codice_ufficio(a.codice_utente.as_deref().unwrap_or(&username))?;
    let nuovo = NuovoUtente {
        username: username.clone(),
        password,
        ruolo: ruolo.as_str().to_string(),
        comune_id,
        ente_id,
        codice_utente,
    };
    let id = store
        .crea_utente(&nuovo, &attore_admin_cli())
        .await
        .map_err(|e| duplicato(e, format!("l'utente {username} esiste già")))?;
    stampa_id(id, format!("Utente creato: {username} ({ruolo}), id {id}"))
}

async fn profilo_set(g: &Globali, a: ProfiloSetArgs) -> anyhow::Result<ExitCode> {
    let store = apri_store(g).await?;
    let utente = store
        .utente(a.utente)
        .await
        .with_context(|| format!("utente con id {} non trovato", a.utente))?;
    let convenzione = store
        .convenzione(a.convenzione)
        .await
        .with_context(|| format!("convenzione con id {} non trovata", a.convenzione))?;
    if utente.ente_id != Some(convenzione.ente_id) {
        anyhow::bail!(
            "l'utente {} non appartiene all'Ente della convenzione {}",
            utente.username,
            convenzione.id
        );
    }
    let campi = if a.campi.is_empty() {
        convenzione.campi.clone()
    } else {
        valori::gruppi(&a.campi)?
    };
    let ambito = match &a.ambito {
        Some(s) => valori::ambito(s)?,
        None => convenzione.ambito,
    };
    valori::profilo_entro(&campi, ambito, &convenzione)?;
    let id = store
        .imposta_profilo(
            utente.id,
            convenzione.id,
            &campi,
            ambito,
            &attore_admin_cli(),
        )
        .await?;
    stampa_id(
        id,
        format!(
            "Profilo impostato: {} nella convenzione {} ({} gruppi di campi, ambito {})",
            utente.username,
            convenzione.id,
            campi.len(),
            ambito.as_str()
        ),
    )
}
