//! The router with every area's routes and the layers around them, and serving it over plain
//! HTTP or TLS.

use crate::ErroreWeb;
use crate::stato::StatoApp;
use axum::Router;
use axum::middleware::from_fn_with_state;

/// Every route. Order of layers (outermost first): the latency metric, request id and its log
/// span, security headers, session, CSRF.
pub fn router(stato: StatoApp) -> Router {
    Router::new()
        .merge(crate::auth::rotte())
        .merge(crate::richieste::rotte())
        .merge(crate::amministrazione::rotte())
        .merge(crate::notifiche::rotte())
        .merge(crate::archivio::rotte())
        .merge(crate::statistiche::rotte())
        .merge(crate::api::rotte())
        .merge(crate::statici::rotte())
        .merge(crate::salute::rotte())
        // After routing: hands the matched route template to the latency metric.
        .route_layer(axum::middleware::from_fn(crate::metriche::segna_rotta))
        .fallback(|| async { ErroreWeb::NonTrovato })
        .layer(from_fn_with_state(
            stato.clone(),
            crate::auth::csrf::proteggi,
        ))
        .layer(from_fn_with_state(stato.clone(), crate::sessione::carica))
        .layer(from_fn_with_state(
            stato.clone(),
            crate::auth::intestazioni::aggiungi,
        ))
        // Outermost, so that every log line of the request carries its id.
        .layer(axum::middleware::from_fn(crate::traccia::traccia))
        // The latency histogram times all of the above.
        .layer(axum::middleware::from_fn(crate::metriche::misura))
        .with_state(stato)
}

/// Serves `router` on `listener` until `arresto` completes, then lets requests in flight end.
/// Plain HTTP; TLS is `servi_tls`.
pub async fn servi(
    listener: tokio::net::TcpListener,
    router: Router,
    arresto: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(arresto)
    .await
}

/// The certificate chain and key of `--tls-cert`/`--tls-key`, ready to serve.
#[derive(Clone)]
pub struct ConfigTls {
    config: std::sync::Arc<tokio_rustls::rustls::ServerConfig>,
}

impl std::fmt::Debug for ConfigTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigTls").finish_non_exhaustive()
    }
}

/// How long a client may take over the TLS handshake before its connection is dropped.
const TEMPO_HANDSHAKE: std::time::Duration = std::time::Duration::from_secs(10);

impl ConfigTls {
    /// Reads a PEM certificate chain (server certificate first) and a PEM private key (PKCS#8,
    /// PKCS#1 or SEC1). Errors name the file and say what is wrong, in Italian.
    pub fn da_file(cert: &std::path::Path, key: &std::path::Path) -> std::io::Result<ConfigTls> {
        use rustls_pki_types::pem::PemObject as _;
        use rustls_pki_types::{CertificateDer, PrivateKeyDer};
        let errore = |file: &std::path::Path, cosa: String| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{}: {cosa}", file.display()),
            )
        };
        let catena: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
            .map_err(|e| errore(cert, format!("certificato TLS non leggibile ({e})")))?
            .collect::<Result<_, _>>()
            .map_err(|e| errore(cert, format!("certificato PEM non valido ({e})")))?;
        if catena.is_empty() {
            return Err(errore(
                cert,
                "nessun certificato PEM («-----BEGIN CERTIFICATE-----») nel file".into(),
            ));
        }
        let chiave = PrivateKeyDer::from_pem_file(key).map_err(|e| {
            errore(
                key,
                format!("chiave privata TLS non leggibile: serve un file PEM con la chiave ({e})"),
            )
        })?;
        let provider =
            std::sync::Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
        let mut config = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| std::io::Error::other(format!("configurazione TLS non valida: {e}")))?
            .with_no_client_auth()
            .with_single_cert(catena, chiave)
            .map_err(|e| {
                errore(
                    key,
                    format!(
                        "la chiave privata non corrisponde al certificato {} ({e})",
                        cert.display()
                    ),
                )
            })?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(ConfigTls {
            config: std::sync::Arc::new(config),
        })
    }
}

/// The TLS connections whose handshake has completed. A task accepts TCP connections and runs
/// each handshake in its own task, so a slow or silent client never holds up the others.
struct AscoltoTls {
    pronte: tokio::sync::mpsc::Receiver<(
        tokio_rustls::server::TlsStream<tokio::net::TcpStream>,
        std::net::SocketAddr,
    )>,
    locale: std::net::SocketAddr,
}

impl axum::serve::Listener for AscoltoTls {
    type Io = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.pronte.recv().await {
            Some(c) => c,
            // The accept task has ended: nothing more will come.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.locale)
    }
}

async fn accetta_tls(
    listener: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    pronte: tokio::sync::mpsc::Sender<(
        tokio_rustls::server::TlsStream<tokio::net::TcpStream>,
        std::net::SocketAddr,
    )>,
) {
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                // Out of file descriptors and the like: wait a little instead of spinning.
                tracing::warn!(errore = %e, "connessione TCP non accettata");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let acceptor = acceptor.clone();
        let pronte = pronte.clone();
        tokio::spawn(async move {
            match tokio::time::timeout(TEMPO_HANDSHAKE, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => {
                    let _ = pronte.send((tls, peer)).await;
                }
                Ok(Err(e)) => tracing::debug!(%peer, errore = %e, "handshake TLS fallito"),
                Err(_) => tracing::debug!(%peer, "handshake TLS scaduto"),
            }
        });
    }
}

/// Serves `router` over TLS on `listener` until `arresto` completes. The connect info is the
/// peer's `SocketAddr`, as with [`servi`].
pub async fn servi_tls(
    listener: tokio::net::TcpListener,
    router: Router,
    tls: ConfigTls,
    arresto: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt as _;
    let locale = listener.local_addr()?;
    let (invia, pronte) = tokio::sync::mpsc::channel(64);
    let acceptor = tokio_rustls::TlsAcceptor::from(tls.config);
    let accettazione = tokio::spawn(accetta_tls(listener, acceptor, invia));
    // `tap_io` makes axum's blanket `Connected` impl give the listener's `SocketAddr`.
    let ascolto = AscoltoTls { pronte, locale }.tap_io(|_| {});
    let esito = axum::serve(
        ascolto,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(arresto)
    .await;
    accettazione.abort();
    esito
}
