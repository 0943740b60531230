//! The router with every area's routes and the layers around them, and serving it over plain
//! HTTP or TLS.

use crate::ErroreWeb;
use crate::stato::StatoApp;
use axum::Router;
use axum::middleware::from_fn_with_state;

/// Every route. Order of layers (outermost first): security headers, session, CSRF.
pub fn router(stato: StatoApp) -> Router {
    Router::new()
        .merge(crate::auth::rotte())
        .merge(crate::richieste::rotte())
        .merge(crate::amministrazione::rotte())
        .merge(crate::notifiche::rotte())
        .merge(crate::api::rotte())
        .merge(crate::statici::rotte())
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

/// The certificate chain and key of `--tls-cert`/`--tls-key`. (W1: implement loading and
/// `servi_tls`; until then serving TLS fails at start-up with a clear message.)
pub struct ConfigTls {
    _privato: (),
}

impl ConfigTls {
    pub fn da_file(_cert: &std::path::Path, _key: &std::path::Path) -> std::io::Result<ConfigTls> {
        Err(std::io::Error::other("TLS in preparazione (W1)"))
    }
}

pub async fn servi_tls(
    _listener: tokio::net::TcpListener,
    _router: Router,
    _tls: ConfigTls,
    _arresto: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    Err(std::io::Error::other("TLS in preparazione (W1)"))
}
