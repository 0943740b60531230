//! E-mail delivery of notices, when SMTP is configured (`stato.config.smtp`).
//!
//! The dispatcher claims due notices in the database with a lease (`Store::reclama_email`), so
//! several `rivesto serve` processes never send the same notice twice while they are alive, and
//! a process that dies mid-send leaves a lease that expires and another takes over. Each
//! outcome is recorded with bounded retries (`Store::concludi_email`).
//!
//! The message says only what happened and where to look: the notice's title (request number
//! and state) and a link to the notices page. No citizen data, no rejection reason (a TOP's free
//! text could hold anything): those stay behind the sign-in.

use crate::ErroreWeb;
use crate::stato::{ConfigSmtp, StatoApp};
use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};
use std::time::Duration;
use store::notifiche::EmailDaInviare;

/// How often the dispatcher looks for notices to send.
const INTERVALLO: Duration = Duration::from_secs(15);
/// How long a claim lasts: well beyond one SMTP exchange with its timeout.
const LEASE_MS: i64 = 5 * 60 * 1000;
const PER_PASSO: i64 = 20;
const TIMEOUT_SMTP: Duration = Duration::from_secs(30);

/// Starts the e-mail dispatcher: every 15 seconds it sends the notices that are due. Without
/// SMTP settings the task ends at once (notices stay in-app only).
pub fn avvia_posta(stato: StatoApp) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if stato.config.smtp.is_none() {
            tracing::info!("SMTP non configurato: notifiche solo nell'applicazione");
            return;
        }
        loop {
            match invia_posta_dovuta(&stato).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(inviate = n, "notifiche inviate per e-mail"),
                Err(e) => {
                    tracing::warn!(errore = %e, "invio delle notifiche per e-mail non riuscito")
                }
            }
            tokio::time::sleep(INTERVALLO).await;
        }
    })
}

/// One pass of the dispatcher: claims the due notices, sends each, records each outcome.
/// Returns how many were sent. Does nothing without SMTP settings.
pub async fn invia_posta_dovuta(stato: &StatoApp) -> Result<usize, ErroreWeb> {
    let Some(smtp) = stato.config.smtp.as_ref() else {
        return Ok(0);
    };
    let proprietario = proprietario();
    let presi = stato
        .store
        .reclama_email(&proprietario, stato.adesso_ms(), LEASE_MS, PER_PASSO)
        .await?;
    if presi.is_empty() {
        return Ok(0);
    }
    let trasporto = trasporto(smtp)?;
    let mut inviate = 0;
    for e in &presi {
        let esito = invia(stato, smtp, &trasporto, e).await;
        if let Err(motivo) = &esito {
            tracing::warn!(notifica = e.id, tentativo = e.tentativi, errore = %motivo, "e-mail non inviata");
        } else {
            inviate += 1;
        }
        stato
            .store
            .concludi_email(
                e.id,
                &proprietario,
                esito.err().as_deref(),
                stato.adesso_ms(),
            )
            .await?;
    }
    Ok(inviate)
}

/// This process's name on its claims.
fn proprietario() -> String {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| {
        format!(
            "posta-{}-{}",
            std::process::id(),
            &crate::sessione::token_casuale()[..8]
        )
    })
    .clone()
}

/// `smtp://host:port` (plain, for a local relay), `smtps://…` (TLS) or `smtp://…?tls=starttls`
/// (lettre calls it `tls=required`).
fn trasporto(smtp: &ConfigSmtp) -> Result<AsyncSmtpTransport<Tokio1Executor>, ErroreWeb> {
    let mut url = smtp.url.clone();
    let coppie: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "tls" && v == "starttls" {
                "required".to_string()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    if !coppie.is_empty() {
        url.query_pairs_mut().clear().extend_pairs(coppie);
    }
    // The URL may carry a password: the error names the host only.
    let t = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.as_str()).map_err(|e| {
        ErroreWeb::Interno(format!(
            "impostazioni SMTP non valide per {}: {e}",
            smtp.url.host_str().unwrap_or("?")
        ))
    })?;
    Ok(t.timeout(Some(TIMEOUT_SMTP)).build())
}

/// The message for one notice: subject, and a body with no citizen data.
pub(crate) fn messaggio(
    stato: &StatoApp,
    smtp: &ConfigSmtp,
    e: &EmailDaInviare,
) -> Result<Message, String> {
    let da: Mailbox = smtp
        .mittente
        .parse()
        .map_err(|x| format!("mittente non valido: {x}"))?;
    let a: Mailbox = e
        .email
        .parse()
        .map_err(|x| format!("indirizzo del destinatario non valido: {x}"))?;
    let dove = match &stato.config.public_url {
        Some(u) => format!(
            "Per i dettagli acceda a Rivesto:\n{}",
            u.join("/notifiche")
                .map(|u| u.to_string())
                .unwrap_or_default()
        ),
        None => "Per i dettagli acceda a Rivesto, alla pagina Notifiche.".to_string(),
    };
    let corpo = format!(
        "{}\n\n{dove}\n\nQuesto messaggio è inviato automaticamente da Rivesto: non risponda.\n",
        e.titolo
    );
    Message::builder()
        .from(da)
        .to(a)
        .subject(format!("[Rivesto] {}", e.titolo))
        .header(ContentType::TEXT_PLAIN)
        .body(corpo)
        .map_err(|x| format!("messaggio non valido: {x}"))
}

async fn invia(
    stato: &StatoApp,
    smtp: &ConfigSmtp,
    t: &AsyncSmtpTransport<Tokio1Executor>,
    e: &EmailDaInviare,
) -> Result<(), String> {
    let m = messaggio(stato, smtp, e)?;
    t.send(m).await.map(|_| ()).map_err(|x| x.to_string())
}
