//! A hand-built PDND/ModI client for the tests: every part of a call is a plain value the test
//! may spoil before sending, so each gateway check can be triggered on its own.

use anpr_sim::chiavi::{CoppiaChiavi, coppia_condivisa};
use anpr_sim::{ClienteRegistrato, SimConfig, SimHandle};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use std::collections::BTreeMap;

pub const CLIENT_ID: &str = "c1d2e3f4-0000-4000-8000-000000000001";
pub const SERVIZI: [&str; 9] = [
    "C001", "C004", "C015", "C017", "C018", "C019", "C020", "C021", "C030",
];

pub fn purpose(servizio: &str) -> String {
    format!("purpose-{servizio}")
}

pub fn segmento(servizio: &str) -> &'static str {
    match servizio {
        "C001" => "C001-servizioNotifica",
        "C004" => "C004-servizioVerificaDichDecesso",
        "C015" => "C015-servizioAccertamentoGeneralita",
        "C017" => "C017-servizioAccertamentoMatrimonio",
        "C018" => "C018-servizioAccertamentoCittadinanza",
        "C019" => "C019-servizioAccertamentoEsistenzaVita",
        "C020" => "C020-servizioAccertamentoResidenza",
        "C021" => "C021-servizioAccertamentoStatoFamiglia",
        "C030" => "C030-servizioAccertamentoIdUnicoNazionale",
        _ => panic!("servizio sconosciuto {servizio}"),
    }
}

pub fn config() -> SimConfig {
    let c = coppia_condivisa();
    SimConfig {
        seed: 7,
        population: 20_000,
        clients: vec![ClienteRegistrato {
            client_id: CLIENT_ID.into(),
            chiavi: BTreeMap::from([(c.kid.clone(), c.public_pem.clone())]),
            purposes: SERVIZI
                .iter()
                .map(|s| (purpose(s), (*s).to_owned()))
                .collect(),
        }],
        ..SimConfig::default()
    }
}

pub struct Ctx {
    pub sim: SimHandle,
    pub http: reqwest::Client,
    pub chiave: &'static CoppiaChiavi,
}

pub async fn avvia(cfg: SimConfig) -> Ctx {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim = anpr_sim::avvia(cfg, l).await.unwrap();
    Ctx {
        sim,
        http: reqwest::Client::new(),
        chiave: coppia_condivisa(),
    }
}

pub fn ora() -> i64 {
    chrono::Utc::now().timestamp()
}

pub fn firma(chiave: &CoppiaChiavi, claims: &Value) -> String {
    let mut h = Header::new(Algorithm::RS256);
    h.typ = Some("JWT".into());
    h.kid = Some(chiave.kid.clone());
    jsonwebtoken::encode(
        &h,
        claims,
        &EncodingKey::from_rsa_pem(chiave.private_pem.as_bytes()).unwrap(),
    )
    .unwrap()
}

pub fn jti() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl Ctx {
    pub fn aud(&self, servizio: &str) -> String {
        format!("{}/{}/v1", self.sim.audience_base(), segmento(servizio))
    }

    pub fn claims_tracking(&self, servizio: &str) -> Value {
        json!({"iss": CLIENT_ID, "sub": CLIENT_ID, "aud": self.aud(servizio), "purposeId": purpose(servizio),
               "jti": jti(), "iat": ora() - 5, "nbf": ora() - 5, "exp": ora() + 600,
               "dnonce": "1234567890123", "userID": "OPERATORE1", "userLocation": "UFFICIO-1", "LoA": "LoA2"})
    }

    pub fn claims_asserzione(&self, servizio: &str, tracking: &str) -> Value {
        let digest = hex::encode(Sha256::digest(tracking.as_bytes()));
        json!({"iss": CLIENT_ID, "sub": CLIENT_ID, "aud": self.sim.client_assertion_aud(),
               "purposeId": purpose(servizio), "jti": jti(), "iat": ora(), "exp": ora() + 120,
               "digest": {"alg": "SHA256", "value": digest}})
    }

    /// POST /token.oauth2 with the given assertion: (status, JSON body).
    pub async fn token(&self, asserzione: &str) -> (u16, Value) {
        let modulo = [
            ("client_id", CLIENT_ID),
            ("client_assertion", asserzione),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("grant_type", "client_credentials"),
        ];
        let r = self
            .http
            .post(self.sim.token_url())
            .form(&modulo)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    /// A valid (voucher, tracking evidence) pair for a service.
    pub async fn voucher(&self, servizio: &str) -> (String, String) {
        let te = firma(self.chiave, &self.claims_tracking(servizio));
        let (stato, corpo) = self
            .token(&firma(self.chiave, &self.claims_asserzione(servizio, &te)))
            .await;
        assert_eq!(stato, 200, "{corpo}");
        (corpo["access_token"].as_str().unwrap().to_owned(), te)
    }

    pub async fn chiamata(&self, servizio: &str, corpo: Value) -> Chiamata {
        let (voucher, te) = self.voucher(servizio).await;
        Chiamata::nuova(
            self,
            servizio,
            voucher,
            te,
            serde_json::to_vec(&corpo).unwrap(),
        )
    }

    pub fn url(&self, servizio: &str, risorsa: &str) -> String {
        format!(
            "{}/{}/v1/{risorsa}",
            self.sim.base_url(),
            segmento(servizio)
        )
    }
}

pub fn richiesta(id_op: &str, criteri: Value, servizio: &str, data: &str) -> Value {
    json!({"idOperazioneClient": id_op, "criteriRicerca": criteri,
           "datiRichiesta": {"dataRiferimentoRichiesta": data, "motivoRichiesta": "PROT-1", "casoUso": servizio}})
}

/// Every part of one E002 call; tests spoil one and send.
pub struct Chiamata {
    pub url: String,
    pub voucher: String,
    pub tracking: String,
    pub claims_firma: Value,
    pub firma: Option<String>,
    pub digest: Option<String>,
    pub content_type: String,
    pub corpo: Vec<u8>,
}

pub fn digest_di(corpo: &[u8]) -> String {
    format!("SHA-256={}", STANDARD.encode(Sha256::digest(corpo)))
}

pub struct Risposta {
    pub stato: u16,
    pub corpo: Value,
    pub testo: String,
    pub content_type: String,
    pub transazione: Option<String>,
}

impl Chiamata {
    pub fn nuova(
        ctx: &Ctx,
        servizio: &str,
        voucher: String,
        tracking: String,
        corpo: Vec<u8>,
    ) -> Self {
        let digest = digest_di(&corpo);
        let claims_firma = json!({"iss": CLIENT_ID, "sub": CLIENT_ID, "aud": ctx.aud(servizio), "jti": jti(),
            "iat": ora() - 2, "nbf": ora() - 2, "exp": ora() + 300,
            "signed_headers": [{"digest": digest}, {"content-type": "application/json"}]});
        Self {
            url: ctx.url(servizio, "anpr-service-e002"),
            voucher,
            tracking,
            claims_firma,
            firma: None,
            digest: Some(digest),
            content_type: "application/json".into(),
            corpo,
        }
    }

    pub async fn invia(self, ctx: &Ctx) -> Risposta {
        let firma = self
            .firma
            .unwrap_or_else(|| firma(ctx.chiave, &self.claims_firma));
        let mut r = ctx
            .http
            .post(&self.url)
            .header("Authorization", format!("Bearer {}", self.voucher))
            .header("Agid-JWT-TrackingEvidence", &self.tracking)
            .header("Agid-JWT-Signature", firma)
            .header("Content-Type", &self.content_type);
        if let Some(d) = &self.digest {
            r = r.header("Digest", d);
        }
        leggi(r.body(self.corpo).send().await.unwrap()).await
    }
}

pub async fn leggi(r: reqwest::Response) -> Risposta {
    let stato = r.status().as_u16();
    let h = |n: &str| r.headers().get(n).map(|v| v.to_str().unwrap().to_owned());
    let content_type = h("content-type").unwrap_or_default();
    let transazione = h("govway-transaction-id");
    let testo = r.text().await.unwrap();
    let corpo = serde_json::from_str(&testo).unwrap_or(Value::Null);
    Risposta {
        stato,
        corpo,
        testo,
        content_type,
        transazione,
    }
}

/// Asserts a GovWay problem with this status and title, and returns the refusal reason the
/// simulator logged for the last call.
pub fn problema(ctx: &Ctx, r: &Risposta, stato: u16, titolo: &str) -> String {
    assert_eq!(r.stato, stato, "{}", r.testo);
    assert_eq!(r.content_type, "application/problem+json");
    assert_eq!(r.corpo["title"], titolo, "{}", r.testo);
    assert_eq!(r.corpo["status"], stato);
    assert_eq!(
        r.corpo["type"],
        format!("https://govway.org/handling-errors/{stato}/{titolo}.html")
    );
    let id = r.corpo["govway_id"].as_str().unwrap();
    assert_eq!(r.transazione.as_deref(), Some(id));
    ctx.sim
        .richieste_ricevute()
        .last()
        .unwrap()
        .motivo
        .clone()
        .unwrap_or_default()
}
