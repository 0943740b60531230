//! The JSON API over real HTTP: tokens made in the profile page, submission by JSON rows and
//! by file, status, approval by a TOP's own token, processing, files, cancellation, the
//! authentication and isolation answers, and the OpenAPI document.

use crate::aiuto::{self, Browser, TestApp};
use serde_json::{Value, json};

/// A script's HTTP client: no cookies, a bearer token.
struct Api {
    base: String,
    client: reqwest::Client,
    token: Option<String>,
}

struct Esito {
    stato: u16,
    intestazioni: reqwest::header::HeaderMap,
    corpo: Vec<u8>,
}

impl Esito {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.corpo).unwrap_or_else(|e| {
            panic!(
                "JSON atteso ({e}): {}",
                String::from_utf8_lossy(&self.corpo)
            )
        })
    }

    fn testo(&self) -> String {
        String::from_utf8_lossy(&self.corpo).into_owned()
    }

    fn intestazione(&self, nome: &str) -> &str {
        self.intestazioni
            .get(nome)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

impl Api {
    fn nuovo(app: &TestApp, token: Option<&str>) -> Api {
        Api {
            base: app.url.clone(),
            client: reqwest::Client::new(),
            token: token.map(str::to_string),
        }
    }

    async fn invia(&self, r: reqwest::RequestBuilder) -> Esito {
        let r = match &self.token {
            Some(t) => r.bearer_auth(t),
            None => r,
        };
        let r = r.send().await.unwrap();
        Esito {
            stato: r.status().as_u16(),
            intestazioni: r.headers().clone(),
            corpo: r.bytes().await.unwrap().to_vec(),
        }
    }

    async fn get(&self, percorso: &str) -> Esito {
        self.invia(self.client.get(format!("{}{percorso}", self.base)))
            .await
    }

    async fn post(&self, percorso: &str, corpo: &Value) -> Esito {
        self.invia(
            self.client
                .post(format!("{}{percorso}", self.base))
                .json(corpo),
        )
        .await
    }

    async fn post_file(&self, campi: &[(&str, &str)], file: &[u8]) -> Esito {
        let mut form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(file.to_vec()).file_name("soggetti.csv"),
        );
        for (k, v) in campi {
            form = form.text(k.to_string(), v.to_string());
        }
        self.invia(
            self.client
                .post(format!("{}/api/v1/richieste", self.base))
                .multipart(form),
        )
        .await
    }
}

/// Creates a token through the profile page, as a user would, and returns it.
async fn crea_token(b: &Browser, nome: &str) -> String {
    let r = b.post_form("/profilo/token", &[("nome", nome)]).await;
    assert_eq!(r.stato, 200, "{}", r.corpo);
    estrai_token(&r.corpo).unwrap_or_else(|| panic!("nessun token nella pagina: {}", r.corpo))
}

fn estrai_token(pagina: &str) -> Option<String> {
    let i = pagina.find("rvt_")?;
    Some(
        pagina[i..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect(),
    )
}

async fn api_di(app: &TestApp, username: &str) -> Api {
    let b = app.connesso(username).await;
    let token = crea_token(&b, &format!("script di {username}")).await;
    Api::nuovo(app, Some(&token))
}

/// The opaque id of the convention `api`'s user submits under: the only one, or, for the
/// Polizia Locale operator, the one that is not the identity documents' (demo seed).
async fn convenzione(api: &Api) -> String {
    let r = api.get("/api/v1/convenzioni").await;
    assert_eq!(r.stato, 200, "{}", r.testo());
    let v = r.json();
    let scelte: Vec<&Value> = v
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| !c["nome"].as_str().unwrap().contains("documenti"))
        .collect();
    assert_eq!(scelte.len(), 1, "{v}");
    scelte[0]["id"].as_str().unwrap().to_string()
}

fn righe_esempio() -> Value {
    json!([
        {"tipo": "CF", "identificativo": "STTSGT90A01H501J", "riferimento": "pratica \"1\"; a"},
        {"tipo": "CF", "identificativo": "RSSMRA85T10A562X", "riferimento": "errata"},
        {"tipo": "IDANPR", "identificativo": "EV45959WW"},
        {"tipo": "CF", "identificativo": "STTSGT90A01H501J", "riferimento": "ripetuta"}
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn token_mostrato_una_volta_e_revocabile() {
    let app = aiuto::avvia().await;
    let b = app.connesso("operatore.polizia").await;
    let r = b.get("/profilo/token").await;
    assert_eq!(r.stato, 200);
    assert!(r.corpo.contains("Nessun token creato"), "{}", r.corpo);

    let token = crea_token(&b, "procedura protocollo").await;
    assert!(
        token.starts_with("rvt_") && token.len() == 4 + 43,
        "{token}"
    );

    // Never again: not on the list, not in the archive.
    let elenco = b.get("/profilo/token").await;
    assert!(elenco.corpo.contains("procedura protocollo"));
    assert!(elenco.corpo.contains("LoA2"));
    assert!(!elenco.corpo.contains(&token));
    assert!(!elenco.corpo.contains("rvt_"));
    let voci = app.store.voci_audit(0, 100_000).await.unwrap();
    assert!(voci.iter().any(|v| v.azione == "TOKEN_API_CREATO"));
    assert!(voci.iter().all(|v| !v.dettagli.contains(&token[4..])));

    let api = Api::nuovo(&app, Some(&token));
    assert_eq!(api.get("/api/v1/convenzioni").await.stato, 200);

    // Revoke it from the page: the next call is refused.
    let inizio = elenco.corpo.find("/profilo/token/").unwrap();
    let azione: String = elenco.corpo[inizio..]
        .chars()
        .take_while(|c| *c != '"')
        .collect();
    let r = b.post_form(&azione, &[]).await;
    assert_eq!(r.stato, 303, "{}", r.corpo);
    let r = api.get("/api/v1/convenzioni").await;
    assert_eq!(r.stato, 401);
    assert_eq!(r.json()["errore"], "Token non valido o revocato.");
    assert!(b.get("/profilo/token").await.corpo.contains("revocato il"));

    // Another user cannot revoke (or learn of) this user's token: 404.
    let altro = app.connesso("operatore.asl").await;
    assert_eq!(altro.post_form(&azione, &[]).await.stato, 404);

    // An empty name is refused with the page and a message, and creates nothing.
    let r = b.post_form("/profilo/token", &[("nome", "  ")]).await;
    assert_eq!(r.stato, 400);
    assert!(r.corpo.contains("Indichi un nome"));
    let id = app.id_utente("operatore.polizia").await;
    assert_eq!(app.store.token_api_utente(id).await.unwrap().len(), 1);
}

/// A session signed in with the password only gives LoA1 tokens, and their requests say so.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn loa_del_token_dalla_sessione() {
    use web::sessione::{DatiSessione, Fase};
    let app = aiuto::avvia().await;
    let dati = DatiSessione {
        fase: Fase::Completa,
        utente_id: Some(app.id_utente("operatore.polizia").await),
        loa: "LoA1".into(),
        ..DatiSessione::anonima(app.stato.adesso_ms())
    };
    let sessione = web::sessione::apri(&app.stato, &dati).await.unwrap();
    let b = app.browser();
    b.imposta_cookie(&format!(
        "{}={sessione}",
        web::sessione::nome_cookie(&app.stato)
    ));
    *b.csrf.lock().unwrap() = dati.csrf.clone();
    assert!(b.get("/profilo/token").await.corpo.contains("LoA1"));
    let api = Api::nuovo(&app, Some(&crea_token(&b, "senza totp").await));
    let conv = convenzione(&api).await;
    let r = api
        .post(
            "/api/v1/richieste",
            &json!({"convenzione": conv, "motivo": "PROT-1", "righe": righe_esempio()}),
        )
        .await;
    assert_eq!(r.stato, 201, "{}", r.testo());
    let id = r.json()["id"].as_str().unwrap().to_string();
    let numero: i64 = id.split('-').next().unwrap().parse().unwrap();
    let richiesta = app.store.richiesta(numero).await.unwrap();
    assert_eq!(richiesta.snapshot["LoA"], "LoA1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn invio_json_convalida_elaborazione_e_download() {
    let app = aiuto::avvia().await;
    let operatore = api_di(&app, "operatore.polizia").await;
    let conv = convenzione(&operatore).await;

    let r = operatore
        .post(
            "/api/v1/richieste",
            &json!({
                "convenzione": conv,
                "motivo": "PROT-2026/15",
                "data_riferimento": "2026-03-01",
                "righe": righe_esempio()
            }),
        )
        .await;
    assert_eq!(r.stato, 201, "{}", r.testo());
    let v = r.json();
    let id = v["id"].as_str().unwrap().to_string();
    assert_eq!(
        r.intestazione("location"),
        format!("/api/v1/richieste/{id}")
    );
    assert_eq!(v["stato"], "IN_ATTESA_CONVALIDA");
    assert_eq!(
        v["righe"],
        json!({"totali": 4, "non_valide": 1, "duplicate": 1})
    );
    // The invalid row is named by its position in `righe`.
    assert_eq!(v["righe_non_valide"][0]["riga"], 2);
    assert!(
        v["righe_non_valide"][0]["problema"]
            .as_str()
            .unwrap()
            .contains("carattere di controllo"),
        "{v}"
    );

    let s = operatore
        .get(&format!("/api/v1/richieste/{id}"))
        .await
        .json();
    assert_eq!(s["stato"], "IN_ATTESA_CONVALIDA");
    assert_eq!(s["finale"], false);
    assert_eq!(s["motivo"], "PROT-2026/15");
    assert_eq!(s["data_riferimento"], "2026-03-01");
    assert_eq!(s["convenzione"], conv.as_str());
    assert_eq!(s["avanzamento"]["totali"], 4);

    // The operator cannot approve; the TOP of Roma can, with its own token.
    let r = operatore
        .post(&format!("/api/v1/richieste/{id}/approva"), &json!({}))
        .await;
    assert_eq!(r.stato, 403, "{}", r.testo());
    let top = api_di(&app, "top.roma").await;
    assert_eq!(top.get("/api/v1/convenzioni").await.json(), json!([]));
    let r = top
        .post(&format!("/api/v1/richieste/{id}/approva"), &json!({}))
        .await;
    assert_eq!(r.stato, 200, "{}", r.testo());
    assert_eq!(r.json()["stato"], "CONVALIDATA");

    app.elabora_tutto().await;
    let s = operatore
        .get(&format!("/api/v1/richieste/{id}"))
        .await
        .json();
    assert_eq!(s["stato"], "COMPLETATA", "{s}");
    assert_eq!(s["finale"], true);
    assert_eq!(s["avanzamento"]["finali"], 4);

    let file = operatore
        .get(&format!("/api/v1/richieste/{id}/file"))
        .await
        .json();
    let file = file.as_array().unwrap();
    assert!(!file.is_empty());
    let primo = &file[0];
    let nome = primo["nome"].as_str().unwrap();
    assert!(
        nome.starts_with("richiesta-") && nome.ends_with(".csv"),
        "{nome}"
    );
    let r = operatore
        .get(&format!(
            "/api/v1/richieste/{id}/file/{}",
            primo["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(r.stato, 200, "{}", r.testo());
    assert_eq!(r.intestazione("cache-control"), "no-store");
    assert_eq!(
        r.intestazione("content-disposition"),
        format!("attachment; filename=\"{nome}\"")
    );
    assert_eq!(r.corpo.len() as i64, primo["dimensione"].as_i64().unwrap());
    let csv = r.testo();
    // The caller's reference comes back exactly, CSV-quoted.
    assert!(csv.contains("\"pratica \"\"1\"\"; a\""), "{csv}");
    assert!(csv.contains("NON_VALIDO"), "{csv}");

    // The TOP sees the files' metadata but may not download them (DESIGN §2).
    let r = top
        .get(&format!(
            "/api/v1/richieste/{id}/file/{}",
            primo["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(r.stato, 403, "{}", r.testo());
    assert_eq!(
        top.get(&format!("/api/v1/richieste/{id}/file")).await.stato,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn invio_file_annullamento_e_rifiuto() {
    let app = aiuto::avvia().await;
    let operatore = api_di(&app, "operatore.polizia").await;
    let conv = convenzione(&operatore).await;

    let r = operatore
        .post_file(
            &[("convenzione", &conv), ("motivo", "PROT-9")],
            web::demo::RICHIESTA_ESEMPIO.as_bytes(),
        )
        .await;
    assert_eq!(r.stato, 201, "{}", r.testo());
    let v = r.json();
    assert_eq!(v["righe"]["totali"], 12);
    // A file's problems are named by the line in the file.
    assert_eq!(v["righe_non_valide"][0]["riga"], 12);
    let id = v["id"].as_str().unwrap().to_string();

    let r = operatore
        .post(&format!("/api/v1/richieste/{id}/annulla"), &json!({}))
        .await;
    assert_eq!(r.stato, 200, "{}", r.testo());
    assert_eq!(r.json()["stato"], "ANNULLATA");
    assert_eq!(r.json()["finale"], true);
    // Twice: refused, in JSON.
    let r = operatore
        .post(&format!("/api/v1/richieste/{id}/annulla"), &json!({}))
        .await;
    assert_eq!(r.stato, 400);
    assert!(r.json()["errore"].as_str().unwrap().contains("ANNULLATA"));

    // A file refused as a whole stores nothing.
    let prima = numero_richieste(&app).await;
    let r = operatore
        .post_file(&[("convenzione", &conv), ("motivo", "PROT-9")], b"")
        .await;
    assert_eq!(r.stato, 400, "{}", r.testo());
    assert!(
        r.json()["errore"]
            .as_str()
            .unwrap()
            .starts_with("File rifiutato")
    );
    assert_eq!(numero_richieste(&app).await, prima);
    // So do JSON rows that cannot be a CSV line, with the row named.
    let r = operatore
        .post(
            "/api/v1/richieste",
            &json!({"convenzione": conv, "motivo": "X", "righe": [
                {"tipo": "CF", "identificativo": "A\nB"}
            ]}),
        )
        .await;
    assert_eq!(r.stato, 400);
    assert_eq!(
        r.json()["dettagli"][0],
        "riga 1: un campo contiene un a capo o un carattere nullo"
    );
    // A missing motivo, an unknown field: refused, nothing stored.
    let r = operatore
        .post(
            "/api/v1/richieste",
            &json!({"convenzione": conv, "motivo": " ", "righe": righe_esempio()}),
        )
        .await;
    assert_eq!(r.stato, 400);
    assert!(r.json()["errore"].as_str().unwrap().contains("motivo"));
    let r = operatore
        .post(
            "/api/v1/richieste",
            &json!({"convenzione": conv, "motivo": "X", "righe": [], "extra": 1}),
        )
        .await;
    assert_eq!(r.stato, 400);
    assert_eq!(r.json()["errore"], "Corpo JSON non valido.");
    assert_eq!(numero_richieste(&app).await, prima);

    // The TOP rejects another one, with a reason the submitter reads.
    let r = operatore
        .post(
            "/api/v1/richieste",
            &json!({"convenzione": conv, "motivo": "PROT-10", "righe": righe_esempio()}),
        )
        .await;
    let id = r.json()["id"].as_str().unwrap().to_string();
    let top = api_di(&app, "top.roma").await;
    let r = top
        .post(&format!("/api/v1/richieste/{id}/respingi"), &json!({}))
        .await;
    assert_eq!(r.stato, 400);
    let r = top
        .post(
            &format!("/api/v1/richieste/{id}/respingi"),
            &json!({"motivo": "manca la delega"}),
        )
        .await;
    assert_eq!(r.stato, 200, "{}", r.testo());
    let s = operatore
        .get(&format!("/api/v1/richieste/{id}"))
        .await
        .json();
    assert_eq!(s["stato"], "RESPINTA");
    assert_eq!(s["nota"], "manca la delega");
}

async fn numero_richieste(app: &TestApp) -> usize {
    let mut n = 0;
    for s in [
        "BOZZA",
        "IN_ATTESA_CONVALIDA",
        "CONVALIDATA",
        "IN_ELABORAZIONE",
        "COMPLETATA",
        "RESPINTA",
        "ANNULLATA",
        "FALLITA",
    ] {
        n += app.store.richieste_in_stato(s, 10_000).await.unwrap().len();
    }
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn autenticazione_solo_con_token() {
    let app = aiuto::avvia().await;
    let r = Api::nuovo(&app, None).get("/api/v1/convenzioni").await;
    assert_eq!(r.stato, 401);
    assert!(
        r.intestazione("content-type")
            .starts_with("application/json")
    );
    assert!(r.intestazione("www-authenticate").starts_with("Bearer"));
    assert!(
        r.json()["errore"]
            .as_str()
            .unwrap()
            .contains("Authorization")
    );

    for falso in ["rvt_inventato", "qualcosa", "rvt_"] {
        let r = Api::nuovo(&app, Some(falso))
            .get("/api/v1/convenzioni")
            .await;
        assert_eq!(r.stato, 401, "{falso}");
        assert_eq!(r.json()["errore"], "Token non valido o revocato.");
    }

    // A POST without a token gets the same JSON 401 (not a CSRF page).
    let r = Api::nuovo(&app, None)
        .post("/api/v1/richieste", &json!({}))
        .await;
    assert_eq!(r.stato, 401, "{}", r.testo());
    assert!(
        r.json()["errore"]
            .as_str()
            .unwrap()
            .contains("Authorization")
    );

    // A signed-in browser's cookie alone does not authenticate the API, for reading or for
    // acting (even with its CSRF token).
    let b = app.connesso("operatore.polizia").await;
    let r = b.get("/api/v1/convenzioni").await;
    assert_eq!(r.stato, 401, "{}", r.corpo);
    assert!(r.corpo.contains("errore"));
    let r = b.post_form("/api/v1/richieste", &[("motivo", "X")]).await;
    assert_eq!(r.stato, 401, "{}", r.corpo);

    // A disabled account's tokens stop working at once.
    let token = crea_token(&b, "da disattivare").await;
    let api = Api::nuovo(&app, Some(&token));
    assert_eq!(api.get("/api/v1/convenzioni").await.stato, 200);
    let id = app.id_utente("operatore.polizia").await;
    app.store
        .imposta_utente_attivo(id, false, &web::demo::attore_demo())
        .await
        .unwrap();
    let r = api.get("/api/v1/convenzioni").await;
    assert_eq!(r.stato, 401);
    assert_eq!(r.json()["errore"], "Token non valido o revocato.");

    // An unknown API path answers JSON 404, not the HTML page.
    let r = Api::nuovo(&app, None).get("/api/v1/nulla").await;
    assert_eq!(r.stato, 404);
    assert!(r.json()["errore"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn isolamento_tra_enti_e_comuni() {
    let app = aiuto::avvia().await;
    let operatore = api_di(&app, "operatore.polizia").await;
    let conv = convenzione(&operatore).await;
    let r = operatore
        .post(
            "/api/v1/richieste",
            &json!({"convenzione": conv, "motivo": "RISERVATO-77", "righe": righe_esempio()}),
        )
        .await;
    let id = r.json()["id"].as_str().unwrap().to_string();
    let numero = id.split('-').next().unwrap().to_string();

    let falso = format!("{numero}-{}", "0".repeat(24));
    let asl = api_di(&app, "operatore.asl").await;
    let milano = api_di(&app, "top.milano").await;
    let admin_asl = api_di(&app, "admin.asl").await;
    let percorsi = [
        format!("/api/v1/richieste/{id}"),
        format!("/api/v1/richieste/{id}/file"),
    ];
    for api in [&asl, &milano, &admin_asl] {
        for p in &percorsi {
            let r = api.get(p).await;
            assert_eq!(r.stato, 404, "{p}: {}", r.testo());
            let t = r.testo();
            assert!(!t.contains("RISERVATO") && !t.contains(&numero), "{t}");
        }
        for azione in ["annulla", "approva"] {
            let r = api
                .post(&format!("/api/v1/richieste/{id}/{azione}"), &json!({}))
                .await;
            assert_eq!(r.stato, 404, "{azione}: {}", r.testo());
        }
    }
    // A forged id is 404 even for the owner, exactly like another tenant's.
    let r = operatore.get(&format!("/api/v1/richieste/{falso}")).await;
    assert_eq!(r.stato, 404);
    assert_eq!(r.json(), asl.get(&percorsi[0]).await.json());
    // Another Ente's convention id cannot be used to submit.
    let r = asl
        .post(
            "/api/v1/richieste",
            &json!({"convenzione": conv, "motivo": "X", "righe": righe_esempio()}),
        )
        .await;
    assert_eq!(r.stato, 404, "{}", r.testo());
    // The request stayed untouched.
    let s = operatore.get(&percorsi[0]).await.json();
    assert_eq!(s["stato"], "IN_ATTESA_CONVALIDA");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn documento_openapi() {
    let app = aiuto::avvia().await;
    let r = Api::nuovo(&app, None).get("/api/openapi.json").await;
    assert_eq!(r.stato, 200);
    assert!(
        r.intestazione("content-type")
            .starts_with("application/json")
    );
    let v = r.json();
    assert_eq!(v["openapi"], "3.1.0");
    // Every route of the API is described.
    for p in [
        "/api/v1/richieste",
        "/api/v1/richieste/{id}",
        "/api/v1/richieste/{id}/file",
        "/api/v1/richieste/{id}/file/{fid}",
        "/api/v1/richieste/{id}/annulla",
        "/api/v1/richieste/{id}/approva",
        "/api/v1/richieste/{id}/respingi",
        "/api/v1/convenzioni",
    ] {
        assert!(v["paths"][p].is_object(), "{p}");
    }
    insta::assert_json_snapshot!("openapi", v);
}

/// The configured input limit holds through the API, with the message, and stores nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn limite_di_dimensione() {
    let app = aiuto::avvia_con(|c| c.limiti_input.max_byte = 2_000).await;
    let operatore = api_di(&app, "operatore.polizia").await;
    let conv = convenzione(&operatore).await;
    let riga = "CF;STTSGT90A01H501J\n";
    for dimensione in [3_000, 300_000] {
        let file = format!(
            "tipo;identificativo\n{}",
            riga.repeat(dimensione / riga.len())
        );
        let r = operatore
            .post_file(&[("convenzione", &conv), ("motivo", "X")], file.as_bytes())
            .await;
        assert_eq!(r.stato, 400, "{dimensione}: {}", r.testo());
        let errore = r.json()["errore"].as_str().unwrap().to_string();
        assert!(errore.starts_with("File rifiutato"), "{errore}");
    }
    assert_eq!(numero_richieste(&app).await, 0);
}
