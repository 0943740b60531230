//! Embedded assets, served from memory (the binary runs from any folder, so nothing is read from
//! disk):
//! - our stylesheet, font faces and start-up script (`static/`);
//! - htmx 2 (vendored, 0BSD; see static/htmx.LICENSE);
//! - Bootstrap Italia's built CSS, JS bundle, icon sprite and fonts, vendored at a pinned version
//!   under `assets/vendor/bootstrap-italia/` by `scripts/refresh-vendor` (BSD-3-Clause; the fonts
//!   SIL OFL 1.1 and Apache-2.0).

use crate::stato::StatoApp;
use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// One embedded file: its URL path under `/static/`, its media type and its bytes.
struct Statico {
    percorso: &'static str,
    tipo: &'static str,
    corpo: &'static [u8],
}

macro_rules! vendor_bi {
    ($rel:literal, $tipo:expr) => {
        Statico {
            percorso: concat!("vendor/bootstrap-italia/", $rel),
            tipo: $tipo,
            corpo: include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../assets/vendor/bootstrap-italia/",
                $rel
            )),
        }
    };
}

const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const WOFF2: &str = "font/woff2";
const SVG: &str = "image/svg+xml";
const TESTO: &str = "text/plain; charset=utf-8";

static STATICI: &[Statico] = &[
    Statico {
        percorso: "rivesto.css",
        tipo: CSS,
        corpo: include_bytes!("../static/rivesto.css"),
    },
    Statico {
        percorso: "fonts.css",
        tipo: CSS,
        corpo: include_bytes!("../static/fonts.css"),
    },
    Statico {
        percorso: "rivesto.js",
        tipo: JS,
        corpo: include_bytes!("../static/rivesto.js"),
    },
    Statico {
        percorso: "htmx.min.js",
        tipo: JS,
        corpo: include_bytes!("../static/htmx.min.js"),
    },
    vendor_bi!("css/bootstrap-italia.min.css", CSS),
    vendor_bi!("js/bootstrap-italia.bundle.min.js", JS),
    vendor_bi!("svg/sprites.svg", SVG),
    vendor_bi!("LICENSE", TESTO),
    vendor_bi!(
        "fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-300.woff2",
        WOFF2
    ),
    vendor_bi!(
        "fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-regular.woff2",
        WOFF2
    ),
    vendor_bi!(
        "fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-italic.woff2",
        WOFF2
    ),
    vendor_bi!(
        "fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-600.woff2",
        WOFF2
    ),
    vendor_bi!(
        "fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-700.woff2",
        WOFF2
    ),
    vendor_bi!("fonts/Titillium_Web/OFL.txt", TESTO),
    vendor_bi!(
        "fonts/Roboto_Mono/roboto-mono-v13-latin-ext_latin-regular.woff2",
        WOFF2
    ),
    vendor_bi!(
        "fonts/Roboto_Mono/roboto-mono-v13-latin-ext_latin-700.woff2",
        WOFF2
    ),
    vendor_bi!("fonts/Roboto_Mono/LICENSE.txt", TESTO),
];

pub fn rotte() -> Router<StatoApp> {
    Router::new().route("/static/{*percorso}", get(servi))
}

async fn servi(Path(percorso): Path<String>) -> Response {
    match STATICI.iter().find(|s| s.percorso == percorso) {
        Some(s) => (
            [
                (header::CONTENT_TYPE, s.tipo),
                // Vendored files change only with a new release of the binary.
                (header::CACHE_CONTROL, "public, max-age=86400"),
            ],
            s.corpo,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "risorsa non trovata").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn i_percorsi_sono_unici_e_i_file_non_vuoti() {
        let mut visti = std::collections::BTreeSet::new();
        for s in STATICI {
            assert!(
                visti.insert(s.percorso),
                "percorso ripetuto: {}",
                s.percorso
            );
            assert!(!s.corpo.is_empty(), "file vuoto: {}", s.percorso);
        }
    }

    #[test]
    fn i_caratteri_di_fonts_css_sono_tutti_serviti() {
        let fonts = std::str::from_utf8(include_bytes!("../static/fonts.css")).unwrap();
        for url in fonts.split("url(\"/static/").skip(1) {
            let percorso = url.split('"').next().unwrap();
            assert!(
                STATICI.iter().any(|s| s.percorso == percorso),
                "fonts.css chiede {percorso}, che non è incorporato"
            );
        }
    }
}
