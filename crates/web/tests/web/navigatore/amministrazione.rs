//! A TOP creates an Ente, a convention with it and the Ente's ADMIN; the ADMIN signs in with the
//! one-time code, chooses a password, enrols the TOTP and creates a STANDARD user with a profile
//! on the new convention; the STANDARD user signs in and can start a request under it.

use super::Prova;
use super::accesso::codice_di_accesso;

const ENTE: &str = "Ufficio Tributi di Prova";
const CONVENZIONE: &str = "Verifiche tributarie 2026";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn top_crea_ente_convenzione_admin_e_l_admin_un_operatore() {
    let Some(mut p) = Prova::avvia("top_crea_ente_convenzione_admin_e_l_admin_un_operatore").await
    else {
        return;
    };
    let password_top = p.app.password("top.roma");
    p.accedi("top.roma", &password_top, None).await;

    // The Ente.
    p.clic_testo("Enti e convenzioni").await;
    assert_eq!(p.percorso().await, "/amministrazione/enti");
    let f = "form[action=\"/amministrazione/enti\"][method=\"post\"]";
    p.scrivi(f, "nome", ENTE).await;
    p.scegli(f, "tipo_codice", "CF").await;
    p.scrivi(f, "codice", "80098765432").await;
    p.scrivi(f, "codice_ufficio", "TRIB-ROMA").await;
    p.invia_modulo(f).await;

    // Straight to the new convention with it.
    assert!(
        p.percorso()
            .await
            .starts_with("/amministrazione/convenzioni/nuova?ente="),
        "{}",
        p.percorso().await
    );
    let f = "form[action=\"/amministrazione/convenzioni\"]";
    p.scrivi(f, "nome", CONVENZIONE).await;
    p.spunta(&format!("{f} input[name=\"campi\"][value=\"generalita\"]"))
        .await;
    p.spunta(&format!("{f} input[name=\"campi\"][value=\"residenza\"]"))
        .await;
    p.spunta(&format!(
        "{f} input[name=\"approvazione\"][value=\"MANUALE\"]"
    ))
    .await;
    // The start of validity comes filled in with today (an ISO date, as `<input type="date">`
    // wants it).
    let dal = p
        .trova(&format!("{f} input[name=\"valida_dal\"]"))
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default();
    assert_eq!(
        dal, "2026-03-02",
        "«Valida dal» non precompilato con la data di oggi in formato ISO"
    );
    p.invia("/amministrazione/convenzioni").await;

    // The Ente's page lists the convention; the ADMIN is created there.
    let pagina_ente = p.percorso().await;
    assert!(
        pagina_ente.starts_with("/amministrazione/enti/"),
        "{pagina_ente}"
    );
    let testo = p.testo_principale().await;
    assert!(testo.contains(ENTE), "{testo}");
    assert!(testo.contains(CONVENZIONE), "{testo}");
    let azione_admin = format!("{}/admin", pagina_ente.split('?').next().unwrap());
    let f = format!("form[action=\"{azione_admin}\"]");
    p.scrivi(&f, "username", "admin.tributi").await;
    p.scrivi(&f, "email", "admin.tributi@example.org").await;
    p.invia(&azione_admin).await;
    let testo = p.testo_principale().await;
    assert!(testo.contains("admin.tributi"), "{testo}");
    let codice_admin =
        codice_di_accesso(&testo).unwrap_or_else(|| panic!("codice non mostrato:\n{testo}"));
    p.esci().await;

    // The ADMIN's first sign-in: the code, a new password, the TOTP.
    let password_admin = "Una frase lunga per l'amministratore dei tributi";
    p.accedi("admin.tributi", &codice_admin, Some(password_admin))
        .await;
    p.clic_testo("Utenti").await;
    assert_eq!(p.percorso().await, "/amministrazione/utenti");
    assert!(p.testo_principale().await.contains(ENTE));
    let f = "form[action=\"/amministrazione/utenti\"]";
    p.scrivi(f, "username", "operatore.tributi").await;
    p.invia("/amministrazione/utenti").await;
    let testo = p.testo_principale().await;
    let codice_op =
        codice_di_accesso(&testo).unwrap_or_else(|| panic!("codice non mostrato:\n{testo}"));
    p.vai("/amministrazione/utenti").await;
    p.clic_testo("operatore.tributi").await;
    let scheda = p.percorso().await;
    assert!(scheda.starts_with("/amministrazione/utenti/"), "{scheda}");
    // The profile on the new convention: personal details only.
    let azione_profilo = format!("{scheda}/profilo");
    let f = format!("form[action=\"{azione_profilo}\"]");
    assert!(p.testo_principale().await.contains(CONVENZIONE));
    p.spunta(&format!("{f} input[name=\"campi\"][value=\"generalita\"]"))
        .await;
    p.invia(&azione_profilo).await;
    let testo = p.testo_principale().await;
    assert!(
        !testo.contains("nessun profilo"),
        "profilo non salvato:\n{testo}"
    );
    p.esci().await;

    // The STANDARD user signs in (password only) and can request under the convention.
    let password_op = "Operatore dei tributi con una frase lunga";
    p.accedi("operatore.tributi", &codice_op, Some(password_op))
        .await;
    p.clic_testo("Nuova richiesta").await;
    let opzioni = p
        .js("return Array.from(document.querySelectorAll('select[name=\"convenzione\"] option')).map(o => o.textContent).join('\\n')")
        .await;
    assert!(
        opzioni.as_str().unwrap_or_default().contains(CONVENZIONE),
        "{opzioni}"
    );
    p.esci().await;
    p.fine().await;
}
