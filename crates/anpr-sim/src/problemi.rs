//! Error answers in the shapes the real systems use: GovWay problem+json (NOTES §2.4) and the
//! PDND token endpoint's Problem (pdnd-interop-auth-v2.yaml).

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use serde_json::json;

/// The GovWay errors the simulator can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErroreGovWay {
    AutenticazioneRichiesta,
    InteroperabilitaNonValida,
    ContenutoNonValido,
    NonTrovato,
    MetodoNonAmmesso,
    LimiteSuperato,
    TroppeRichieste,
    GatewayNonDisponibile,
    TempoScaduto,
}

impl ErroreGovWay {
    pub fn stato(self) -> StatusCode {
        match self {
            Self::AutenticazioneRichiesta => StatusCode::UNAUTHORIZED,
            Self::InteroperabilitaNonValida | Self::ContenutoNonValido => StatusCode::BAD_REQUEST,
            Self::NonTrovato => StatusCode::NOT_FOUND,
            Self::MetodoNonAmmesso => StatusCode::METHOD_NOT_ALLOWED,
            Self::LimiteSuperato | Self::TroppeRichieste => StatusCode::TOO_MANY_REQUESTS,
            Self::GatewayNonDisponibile => StatusCode::SERVICE_UNAVAILABLE,
            Self::TempoScaduto => StatusCode::GATEWAY_TIMEOUT,
        }
    }

    /// GovWay's title, which is also the last segment of `type`.
    pub fn titolo(self) -> &'static str {
        match self {
            Self::AutenticazioneRichiesta => "AuthenticationRequired",
            Self::InteroperabilitaNonValida => "InteroperabilityInvalidRequest",
            Self::ContenutoNonValido => "InvalidRequestContent",
            Self::NonTrovato => "NotFound",
            Self::MetodoNonAmmesso => "MethodNotAllowed",
            Self::LimiteSuperato => "LimitExceeded",
            Self::TroppeRichieste => "TooManyRequests",
            Self::GatewayNonDisponibile => "GatewayError",
            Self::TempoScaduto => "EndpointRequestTimedOut",
        }
    }

    /// GovWay's generic detail. The precise reason stays on the gateway side (the real one shows
    /// it only to ANPR staff, by govway_id); the simulator keeps it in its request log.
    pub fn dettaglio(self) -> &'static str {
        match self {
            Self::AutenticazioneRichiesta => "Errore nella validazione del JWT",
            Self::InteroperabilitaNonValida => {
                "Received request is not conform to the required interoperability profile"
            }
            Self::ContenutoNonValido => "Request content not conform to API specification",
            Self::NonTrovato => "Resource not found",
            Self::MetodoNonAmmesso => "Method not allowed",
            Self::LimiteSuperato => "Limit exceeded detected",
            Self::TroppeRichieste => "Too many requests detected",
            Self::GatewayNonDisponibile => "The API Gateway is unable to serve the request",
            Self::TempoScaduto => "Request timed out",
        }
    }
}

/// A refused call: which GovWay error, and the precise reason for the simulator's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rifiuto {
    pub errore: ErroreGovWay,
    pub motivo: String,
}

impl Rifiuto {
    pub fn new(errore: ErroreGovWay, motivo: impl Into<String>) -> Self {
        Self {
            errore,
            motivo: motivo.into(),
        }
    }
}

/// The body of a GovWay problem. InvalidRequestContent carries the validation reason, as
/// GovWay does for OpenAPI validation failures.
pub fn corpo_govway(r: &Rifiuto, govway_id: &str) -> serde_json::Value {
    let e = r.errore;
    let dettaglio = if e == ErroreGovWay::ContenutoNonValido {
        format!("{}: {}", e.dettaglio(), r.motivo)
    } else {
        e.dettaglio().to_owned()
    };
    json!({
        "type": format!("https://govway.org/handling-errors/{}/{}.html", e.stato().as_u16(), e.titolo()),
        "title": e.titolo(),
        "status": e.stato().as_u16(),
        "detail": dettaglio,
        "govway_id": govway_id,
    })
}

pub fn intestazioni_problema(govway_id: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    if let Ok(v) = HeaderValue::from_str(govway_id) {
        h.insert("GovWay-Transaction-ID", v);
    }
    h
}

/// PDND token endpoint errors (Problem with `errors[{code, detail}]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorePdnd {
    pub stato: StatusCode,
    pub codice: &'static str,
    pub dettaglio: String,
}

impl ErrorePdnd {
    pub fn richiesta(codice: &'static str, dettaglio: impl Into<String>) -> Self {
        Self {
            stato: StatusCode::BAD_REQUEST,
            codice,
            dettaglio: dettaglio.into(),
        }
    }
    pub fn non_autorizzato(codice: &'static str, dettaglio: impl Into<String>) -> Self {
        Self {
            stato: StatusCode::UNAUTHORIZED,
            codice,
            dettaglio: dettaglio.into(),
        }
    }

    pub fn corpo(&self) -> serde_json::Value {
        let titolo = if self.stato == StatusCode::UNAUTHORIZED {
            "Unauthorized"
        } else {
            "The request contains bad syntax or cannot be fulfilled"
        };
        json!({
            "type": "about:blank",
            "status": self.stato.as_u16(),
            "title": titolo,
            "detail": "Unable to generate a token for the given request",
            "errors": [{"code": self.codice, "detail": self.dettaglio}],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn il_problema_govway_ha_la_forma_reale() {
        let r = Rifiuto::new(ErroreGovWay::InteroperabilitaNonValida, "aud");
        let v = corpo_govway(&r, "abc");
        assert_eq!(
            v["type"],
            "https://govway.org/handling-errors/400/InteroperabilityInvalidRequest.html"
        );
        assert_eq!(v["title"], "InteroperabilityInvalidRequest");
        assert_eq!(v["status"], 400);
        assert_eq!(
            v["detail"],
            "Received request is not conform to the required interoperability profile"
        );
        assert_eq!(v["govway_id"], "abc");
    }

    #[test]
    fn il_problema_pdnd_rispetta_lo_schema() {
        let e = ErrorePdnd::non_autorizzato("015-0008", "firma non valida");
        let v = e.corpo();
        let titolo = v["title"].as_str().unwrap();
        assert!(titolo.len() <= 64 && titolo.chars().all(|c| (' '..='~').contains(&c)));
        let codice = v["errors"][0]["code"].as_str().unwrap();
        assert_eq!(codice.len(), 8);
        assert_eq!(&codice[3..4], "-");
        assert_eq!(v.as_object().unwrap().len(), 5);
    }
}
