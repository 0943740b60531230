//! The OpenAPI 3.1 document of the JSON API, at `GET /api/openapi.json`, served without
//! authentication. It is derived from the handlers' annotations and the body types, so it
//! cannot drift from the code; a snapshot test pins it.

use super::errore::CorpoErrore;
use super::richieste::{
    AvanzamentoApi, ConteggioRighe, ContenutoFile, ConvenzioneApi, CorpoRespingi, FileApi,
    NuovaRichiestaFile, NuovaRichiestaJson, RichiestaCreata, RigaJson, RigaNonValida, Sospensione,
    StatoRichiesta, StatoRichiestaApi,
};
use crate::stato::StatoApp;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::{Router, routing};
use std::sync::OnceLock;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Rivesto API",
        version = "1",
        description = "Interfaccia JSON di Rivesto per gli uffici che automatizzano: invio delle \
            richieste (righe JSON o file), stato e avanzamento, file di risposta, annullamento e, \
            per i TOP, convalida. Stessi diritti delle pagine web. Autenticazione con un token \
            API creato nella pagina «Profilo › Token API» (`Authorization: Bearer rvt_…`). Gli \
            id sono opachi; un oggetto fuori dal proprio ambito risponde 404 come uno \
            inesistente. Gli errori sono JSON: `{\"errore\": \"…\", \"dettagli\": [\"…\"]}`.",
        license(name = "EUPL-1.2", identifier = "EUPL-1.2"),
    ),
    paths(
        super::richieste::crea,
        super::richieste::dettaglio,
        super::richieste::elenco_file,
        super::richieste::scarica,
        super::richieste::annulla,
        super::richieste::approva,
        super::richieste::respingi,
        super::richieste::convenzioni,
    ),
    components(schemas(
        CorpoErrore,
        NuovaRichiestaJson,
        RigaJson,
        NuovaRichiestaFile,
        CorpoRespingi,
        RichiestaCreata,
        ConteggioRighe,
        RigaNonValida,
        StatoRichiestaApi,
        StatoRichiesta,
        ContenutoFile,
        AvanzamentoApi,
        Sospensione,
        FileApi,
        ConvenzioneApi,
    )),
    modifiers(&Sicurezza),
    tags(
        (name = "richieste", description = "Invio e consultazione delle richieste."),
        (name = "convalida", description = "Approvazione e rifiuto, per i TOP del Comune."),
    )
)]
pub struct DocumentoApi;

/// The bearer scheme every endpoint names as `token`.
struct Sicurezza;

impl Modify for Sicurezza {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let componenti = openapi.components.get_or_insert_with(Default::default);
        componenti.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("rvt_<43 caratteri base64url>")
                    .description(Some(
                        "Token API personale, creato e revocato in «Profilo › Token API»; \
                         mostrato una sola volta alla creazione.",
                    ))
                    .build(),
            ),
        );
    }
}

/// The document as JSON text, built once.
pub fn json() -> &'static str {
    static TESTO: OnceLock<String> = OnceLock::new();
    TESTO.get_or_init(|| {
        DocumentoApi::openapi()
            .to_pretty_json()
            .expect("il documento OpenAPI si serializza sempre")
    })
}

pub fn rotte() -> Router<StatoApp> {
    Router::new().route("/api/openapi.json", routing::get(documento))
}

async fn documento() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        json().to_string(),
    )
        .into_response()
}
