//! Tenant isolation (issue 5, acceptance; DESIGN §1): every route with an object id in its path,
//! pages and JSON API, called by every user outside the object's scope, answers exactly like an
//! id that does not exist — 404, or the role's 403 where the route refuses the role whatever the
//! id — with none of the object's data in the body, and changes nothing. Forged ids (a zeroed
//! tag, a neighbour's number with this tag, another kind's tag, a bare number) answer the same
//! way, for in-scope users too; in-scope users do succeed, so the matrix can fail. Lists show
//! only the user's own tenant, and ids outside the path (form fields, query, JSON) are checked
//! too. A guard test keeps [`ROTTE_CON_ID`] in step with the routers in `crates/web/src`.

use crate::aiuto::{self, Browser, Risposta, TestApp};
use serde_json::{Value, json};
use store::anagrafiche::NuovoUtente;
use web::ids::Tipo;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Metodo {
    Get,
    Post,
}

/// Every route with `{…}` in its path: method, template, and the kinds of the ids in it, in
/// path order (`{azione}` is an action name, not an id).
const ROTTE_CON_ID: &[(Metodo, &str, &[Tipo])] = &[
    (Metodo::Get, "/richieste/{id}", &[Tipo::Richiesta]),
    (
        Metodo::Get,
        "/richieste/{id}/file/{fid}",
        &[Tipo::Richiesta, Tipo::FileRisposta],
    ),
    (Metodo::Post, "/richieste/{id}/{azione}", &[Tipo::Richiesta]),
    (Metodo::Get, "/api/v1/richieste/{id}", &[Tipo::Richiesta]),
    (
        Metodo::Get,
        "/api/v1/richieste/{id}/file",
        &[Tipo::Richiesta],
    ),
    (
        Metodo::Get,
        "/api/v1/richieste/{id}/file/{fid}",
        &[Tipo::Richiesta, Tipo::FileRisposta],
    ),
    (
        Metodo::Post,
        "/api/v1/richieste/{id}/annulla",
        &[Tipo::Richiesta],
    ),
    (
        Metodo::Post,
        "/api/v1/richieste/{id}/approva",
        &[Tipo::Richiesta],
    ),
    (
        Metodo::Post,
        "/api/v1/richieste/{id}/respingi",
        &[Tipo::Richiesta],
    ),
    (Metodo::Post, "/profilo/token/{id}/revoca", &[Tipo::Token]),
    (Metodo::Get, "/amministrazione/enti/{id}", &[Tipo::Ente]),
    (
        Metodo::Post,
        "/amministrazione/enti/{id}/admin",
        &[Tipo::Ente],
    ),
    (
        Metodo::Post,
        "/amministrazione/enti/{id}/admin/{uid}/attivo",
        &[Tipo::Ente, Tipo::Utente],
    ),
    (
        Metodo::Post,
        "/amministrazione/enti/{id}/admin/{uid}/reset",
        &[Tipo::Ente, Tipo::Utente],
    ),
    (
        Metodo::Get,
        "/amministrazione/utenti/{uid}",
        &[Tipo::Utente],
    ),
    (
        Metodo::Post,
        "/amministrazione/utenti/{uid}/attivo",
        &[Tipo::Utente],
    ),
    (
        Metodo::Post,
        "/amministrazione/utenti/{uid}/reset",
        &[Tipo::Utente],
    ),
    (
        Metodo::Post,
        "/amministrazione/utenti/{uid}/profilo",
        &[Tipo::Utente],
    ),
    (Metodo::Post, "/notifiche/{id}/letta", &[Tipo::Notifica]),
];

/// Paths with `{…}` that carry no id: the API's JSON 404 for any other `/api/` path, and the
/// embedded static files.
const ROTTE_SENZA_ID: &[&str] = &["/api/{*resto}", "/static/{*percorso}"];

/// The actions of `POST /richieste/{id}/{azione}`.
const AZIONI: [&str; 6] = [
    "invia", "scarta", "annulla", "approva", "respingi", "riprendi",
];

/// The demo's users plus an ADMIN of the Tribunale (another Comune's Ente) and a second
/// STANDARD of the Polizia Locale (same Ente as the owner, not the owner).
const UTENTI: [&str; 9] = [
    "top.roma",
    "top.milano",
    "admin.polizia",
    "operatore.polizia",
    "operatore2.polizia",
    "admin.asl",
    "operatore.asl",
    "admin.tribunale",
    "operatore.tribunale",
];

const PROPRIETARIO: &str = "operatore.polizia";
/// Users who see every submitted request of the Polizia Locale under Roma: the owner and the
/// two monitors of its Comune and of its Ente.
const MONITOR_E_PROPRIETARIO: &[&str] = &["operatore.polizia", "top.roma", "admin.polizia"];

const TUTTI_I_RUOLI: &[&str] = &["TOP", "ADMIN", "STANDARD"];
const SOLO_TOP: &[&str] = &["TOP"];
const SOLO_ADMIN: &[&str] = &["ADMIN"];

const MOTIVO_COMPLETATA: &str = "PROT-ISOLA-COMPLETATA-7781";
const MOTIVO_ATTESA: &str = "PROT-ISOLA-ATTESA-3309";
const MOTIVO_BOZZA: &str = "PROT-ISOLA-BOZZA-5512";
const NOME_TOKEN: &str = "script-isolamento-polizia";
/// Two CFs of the demo population: the rows of every request of the world.
const CF: [&str; 2] = ["STTSGT90A01H501J", "SGGTTV60A01H501T"];
/// What names the owner's tenant (Ente, its code and office, its convention, its users).
const MARCHE_TENANT: [&str; 6] = [
    "operatore.polizia",
    "admin.polizia",
    "Polizia Locale",
    "02438750586",
    "PL-ROMA",
    "verifiche anagrafiche",
];
const INTRUSO: &str = "intruso.isolamento";

/// Each Ente's names (its own, its code and office, its convention, its users), who belongs to
/// it, and the TOP of the Comune it is convened with: only they may read them.
const ENTI: [(&[&str], &[&str], &str); 3] = [
    (
        &MARCHE_TENANT,
        &["admin.polizia", "operatore.polizia", "operatore2.polizia"],
        "top.roma",
    ),
    (
        &[
            "ASL Roma 1",
            "asl_rm1",
            "ASL-RM1",
            "admin.asl",
            "operatore.asl",
            "assistiti",
        ],
        &["admin.asl", "operatore.asl"],
        "top.roma",
    ),
    (
        &[
            "Tribunale di Milano",
            "97103880585",
            "TRIB-MI",
            "admin.tribunale",
            "operatore.tribunale",
            "Tribunale - Milano",
        ],
        &["admin.tribunale", "operatore.tribunale"],
        "top.milano",
    ),
];

/// Each Comune's name as pages show it, and the users under it.
const COMUNI: [(&str, &[&str]); 2] = [
    (
        "Comune di Roma",
        &[
            "top.roma",
            "admin.polizia",
            "operatore.polizia",
            "operatore2.polizia",
            "admin.asl",
            "operatore.asl",
        ],
    ),
    (
        "Comune di Milano",
        &["top.milano", "admin.tribunale", "operatore.tribunale"],
    ),
];

/// Form fields (JSON fields for the API).
type Campi = Vec<(&'static str, String)>;

fn ruolo(utente: &str) -> &'static str {
    if utente.starts_with("top.") {
        "TOP"
    } else if utente.starts_with("admin.") {
        "ADMIN"
    } else {
        "STANDARD"
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    Pagina,
    Api,
}

/// The world: the demo, two more users, and the Polizia Locale's objects under Roma.
struct Mondo {
    app: TestApp,
    browser: Vec<(&'static str, Browser)>,
    /// Each user's API token.
    bearer: Vec<(&'static str, String)>,
    client: reqwest::Client,
    /// operatore.polizia's request, processed to COMPLETATA, with its result file.
    completata: i64,
    file: i64,
    nome_file: String,
    /// operatore.polizia's request waiting for approval (manual convention).
    attesa: i64,
    bozza: i64,
    /// One of operatore.polizia's notifications, and its API token.
    notifica: i64,
    token: i64,
    ente_polizia: i64,
    ente_asl: i64,
    ente_tribunale: i64,
    conv_polizia: i64,
    conv_asl: i64,
}

async fn id_ente(app: &TestApp, codice: &str) -> i64 {
    app.store.ente_per_codice(codice).await.unwrap().unwrap().id
}

async fn prima_convenzione(app: &TestApp, ente: i64) -> i64 {
    app.store.convenzioni(ente, true).await.unwrap()[0].id
}

/// A user straight into the store, with a profile equal to convention `profilo` if given.
async fn aggiungi_utente(app: &TestApp, username: &str, ente: i64, profilo: Option<i64>) {
    let a = web::demo::attore_demo();
    // Managed by the Comune of the Ente's first convention, as if its TOP had created it.
    let comune = app.store.convenzioni(ente, true).await.unwrap()[0].comune_id;
    let nuovo = NuovoUtente {
        username: username.into(),
        password: web::demo::password_casuale().unwrap(),
        ruolo: ruolo(username).into(),
        comune_id: Some(comune),
        ente_id: Some(ente),
        codice_utente: username.chars().take(20).collect(),
    };
    let id = app.store.crea_utente(&nuovo, &a).await.unwrap();
    if let Some(c) = profilo {
        let conv = app.store.convenzione(c).await.unwrap();
        app.store
            .imposta_profilo(id, c, &conv.campi, conv.ambito, &a)
            .await
            .unwrap();
    }
}

/// The new-request page's form, sent as its author would, with convention id `conv`.
async fn modulo_richiesta(b: &Browser, conv: &str, motivo: &str) -> Risposta {
    let csrf = b.csrf.lock().unwrap().clone();
    let f = reqwest::multipart::Form::new()
        .text("_csrf", csrf)
        .text("convenzione", conv.to_string())
        .text("motivo", motivo.to_string())
        .text("data_riferimento", "")
        .text("testo", CF.join("\n"));
    b.post_multipart("/richieste/nuova", f).await
}

/// A BOZZA made through the new-request page.
async fn nuova_bozza(app: &TestApp, b: &Browser, conv: i64, motivo: &str) -> i64 {
    let conv = app.stato.ids.codifica(Tipo::Convenzione, conv);
    let r = modulo_richiesta(b, &conv, motivo).await;
    assert_eq!(r.stato, 303, "{}", r.corpo);
    let pubblico = r.location().unwrap().trim_start_matches("/richieste/");
    app.stato
        .ids
        .decodifica(Tipo::Richiesta, pubblico)
        .expect("id della bozza")
}

async fn azione_pagina(m: &Mondo, utente: &str, id: i64, azione: &str) {
    let url = format!("/richieste/{}/{azione}", m.id(Tipo::Richiesta, id));
    let r = m.b(utente).post_form(&url, &[]).await;
    assert_eq!(r.stato, 303, "{utente} {azione}: {}", r.corpo);
}

/// A token made in the profile page; the secret is read from the page that shows it once.
async fn crea_token(b: &Browser, nome: &str) -> String {
    let r = b.post_form("/profilo/token", &[("nome", nome)]).await;
    assert_eq!(r.stato, 200, "{}", r.corpo);
    let i = r.corpo.find("rvt_").expect("token nella pagina");
    r.corpo[i..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect()
}

async fn mondo() -> Mondo {
    let app = aiuto::avvia().await;
    let ente_polizia = id_ente(&app, "02438750586").await;
    let ente_asl = id_ente(&app, "asl_rm1").await;
    let ente_tribunale = id_ente(&app, "97103880585").await;
    let conv_polizia = prima_convenzione(&app, ente_polizia).await;
    let conv_asl = prima_convenzione(&app, ente_asl).await;
    aggiungi_utente(&app, "admin.tribunale", ente_tribunale, None).await;
    aggiungi_utente(&app, "operatore2.polizia", ente_polizia, Some(conv_polizia)).await;
    let mut browser = Vec::new();
    for u in UTENTI {
        browser.push((u, app.connesso(u).await));
    }
    let mut m = Mondo {
        app,
        browser,
        bearer: Vec::new(),
        client: reqwest::Client::new(),
        completata: 0,
        file: 0,
        nome_file: String::new(),
        attesa: 0,
        bozza: 0,
        notifica: 0,
        token: 0,
        ente_polizia,
        ente_asl,
        ente_tribunale,
        conv_polizia,
        conv_asl,
    };
    oggetti_del_proprietario(&mut m).await;
    m
}

/// operatore.polizia's objects: a COMPLETATA request with its file, one waiting, a BOZZA, a
/// notification; then every user's API token (the owner's is one of the objects).
async fn oggetti_del_proprietario(m: &mut Mondo) {
    let (app, op) = (&m.app, m.b(PROPRIETARIO));
    let completata = nuova_bozza(app, op, m.conv_polizia, MOTIVO_COMPLETATA).await;
    let attesa = nuova_bozza(app, op, m.conv_polizia, MOTIVO_ATTESA).await;
    let bozza = nuova_bozza(app, op, m.conv_polizia, MOTIVO_BOZZA).await;
    azione_pagina(m, PROPRIETARIO, completata, "invia").await;
    azione_pagina(m, PROPRIETARIO, attesa, "invia").await;
    azione_pagina(m, "top.roma", completata, "approva").await;
    (m.completata, m.attesa, m.bozza) = (completata, attesa, bozza);
    m.app.elabora_tutto().await;
    let r = m.app.store.richiesta(m.completata).await.unwrap();
    assert_eq!(r.stato, "COMPLETATA");
    let file = m.app.store.file_risposta(m.completata).await.unwrap();
    m.file = file[0].id;
    m.nome_file = file[0].nome.clone();
    let op_id = m.app.id_utente(PROPRIETARIO).await;
    let notifiche = m
        .app
        .store
        .notifiche(op_id, m.app.stato.adesso_ms(), 50)
        .await
        .unwrap();
    m.notifica = notifiche
        .iter()
        .find(|n| n.richiesta_id == Some(m.completata))
        .expect("una notifica al richiedente")
        .id;
    for u in UTENTI {
        let nome = if u == PROPRIETARIO {
            NOME_TOKEN.to_string()
        } else {
            format!("script di {u}")
        };
        let segreto = crea_token(m.b(u), &nome).await;
        m.bearer.push((u, segreto));
    }
    m.token = m.app.store.token_api_utente(op_id).await.unwrap()[0].id;
}

impl Mondo {
    fn b(&self, utente: &str) -> &Browser {
        &self.browser.iter().find(|(u, _)| *u == utente).unwrap().1
    }

    fn id(&self, tipo: Tipo, n: i64) -> String {
        self.app.stato.ids.codifica(tipo, n)
    }

    /// One call as `utente`: a page with its session (forms carry the CSRF token), or the API
    /// with its bearer token (`campi` become a JSON object).
    async fn chiama(
        &self,
        utente: &str,
        via: Via,
        metodo: Metodo,
        percorso: &str,
        campi: &[(&str, String)],
    ) -> Risposta {
        match (via, metodo) {
            (Via::Pagina, Metodo::Get) => self.b(utente).get(percorso).await,
            (Via::Pagina, Metodo::Post) => {
                let c: Vec<(&str, &str)> = campi.iter().map(|(k, v)| (*k, v.as_str())).collect();
                self.b(utente).post_form(percorso, &c).await
            }
            (Via::Api, _) => self.api(utente, metodo, percorso, campi).await,
        }
    }

    async fn api(
        &self,
        utente: &str,
        metodo: Metodo,
        percorso: &str,
        campi: &[(&str, String)],
    ) -> Risposta {
        let corpo = match metodo {
            Metodo::Get => None,
            Metodo::Post => Some(Value::Object(
                campi
                    .iter()
                    .map(|(k, v)| (k.to_string(), json!(v)))
                    .collect(),
            )),
        };
        self.api_json(utente, percorso, corpo.as_ref()).await
    }

    /// An API call with a JSON body (POST), or without (GET).
    async fn api_json(&self, utente: &str, percorso: &str, corpo: Option<&Value>) -> Risposta {
        let bearer = &self.bearer.iter().find(|(u, _)| *u == utente).unwrap().1;
        let url = format!("{}{percorso}", self.app.url);
        let r = match corpo {
            None => self.client.get(url),
            Some(c) => self.client.post(url).json(c),
        };
        let r = r.bearer_auth(bearer).send().await.unwrap();
        Risposta {
            stato: r.status().as_u16(),
            intestazioni: r.headers().clone(),
            corpo: r.text().await.unwrap(),
        }
    }

    /// The object data no outsider may ever read: motivi, rows, the file's name, the token's
    /// name, and the opaque ids of the owner's objects.
    fn marche_oggetti(&self) -> Vec<String> {
        let mut v: Vec<String> = [MOTIVO_COMPLETATA, MOTIVO_ATTESA, MOTIVO_BOZZA, NOME_TOKEN]
            .into_iter()
            .chain(CF)
            .map(str::to_string)
            .collect();
        v.push(self.nome_file.clone());
        v.extend([
            self.id(Tipo::Richiesta, self.completata),
            self.id(Tipo::Richiesta, self.attesa),
            self.id(Tipo::Richiesta, self.bozza),
            self.id(Tipo::FileRisposta, self.file),
            self.id(Tipo::Notifica, self.notifica),
            self.id(Tipo::Token, self.token),
        ]);
        v
    }
}

/// Fails naming the first of `marche` found in `r`'s body.
fn senza(r: &Risposta, marche: &[String], contesto: &str) {
    for marca in marche {
        assert!(
            !r.corpo.contains(marca.as_str()),
            "{contesto}: «{marca}» nel corpo:\n{}",
            r.corpo
        );
    }
}

// --- The matrix of routes with ids ----------------------------------------------------------

/// One row of the matrix: a route with real ids, and who is inside the object's scope.
struct Caso {
    via: Via,
    metodo: Metodo,
    /// The template, as in [`ROTTE_CON_ID`].
    rotta: &'static str,
    /// The template with the non-id placeholder (`{azione}`) filled.
    forma: String,
    ids: Vec<(Tipo, i64)>,
    campi: Campi,
    /// Users who may see the object (their answers are checked by the positive controls).
    dentro: &'static [&'static str],
    /// Roles the route serves; the others get 403 whatever the id.
    ruoli: &'static [&'static str],
}

impl Caso {
    fn nuovo(
        via: Via,
        metodo: Metodo,
        rotta: &'static str,
        ids: Vec<(Tipo, i64)>,
        dentro: &'static [&'static str],
    ) -> Caso {
        Caso {
            via,
            metodo,
            rotta,
            forma: rotta.to_string(),
            ids,
            campi: Vec::new(),
            dentro,
            ruoli: TUTTI_I_RUOLI,
        }
    }

    fn forma(mut self, forma: String) -> Caso {
        self.forma = forma;
        self
    }

    fn campi(mut self, campi: &[(&'static str, &str)]) -> Caso {
        self.campi = campi.iter().map(|(k, v)| (*k, v.to_string())).collect();
        self
    }

    fn ruoli(mut self, ruoli: &'static [&'static str]) -> Caso {
        self.ruoli = ruoli;
        self
    }

    /// The path with `ids` in the placeholders, in order.
    fn percorso(&self, ids: &[String]) -> String {
        let (mut out, mut resto, mut i) = (String::new(), self.forma.as_str(), 0);
        while let Some(a) = resto.find('{') {
            let b = a + resto[a..].find('}').unwrap();
            out.push_str(&resto[..a]);
            out.push_str(&ids[i]);
            i += 1;
            resto = &resto[b + 1..];
        }
        out.push_str(resto);
        assert_eq!(i, ids.len(), "{}", self.forma);
        out
    }

    fn veri(&self, m: &Mondo) -> Vec<String> {
        self.ids.iter().map(|(t, n)| m.id(*t, *n)).collect()
    }

    /// Valid ids of objects that do not exist.
    fn mancanti(&self, m: &Mondo) -> Vec<String> {
        self.ids.iter().map(|(t, _)| m.id(*t, 987_654)).collect()
    }

    /// What anyone outside the scope gets: 404, or 403 from a route that refuses the role.
    fn atteso(&self, utente: &str) -> u16 {
        if self.ruoli.contains(&ruolo(utente)) {
            404
        } else {
            403
        }
    }

    fn descrivi(&self, utente: &str, percorso: &str) -> String {
        format!("{utente} {:?} {:?} {percorso}", self.via, self.metodo)
    }
}

/// Pages and API on the owner's three requests and the result file.
fn casi_richieste(m: &Mondo) -> Vec<Caso> {
    const API_AZIONI: [&str; 3] = [
        "/api/v1/richieste/{id}/annulla",
        "/api/v1/richieste/{id}/approva",
        "/api/v1/richieste/{id}/respingi",
    ];
    let (p, a, g, post) = (Via::Pagina, Via::Api, Metodo::Get, Metodo::Post);
    let mut v = Vec::new();
    let richieste: [(i64, &'static [&'static str]); 3] = [
        (m.completata, MONITOR_E_PROPRIETARIO),
        (m.attesa, MONITOR_E_PROPRIETARIO),
        // A BOZZA is its author's alone until submitted.
        (m.bozza, &[PROPRIETARIO]),
    ];
    let rifiuto = [("motivo", "intrusione")];
    for (r, dentro) in richieste {
        let ids = || vec![(Tipo::Richiesta, r)];
        v.push(Caso::nuovo(p, g, "/richieste/{id}", ids(), dentro));
        for azione in AZIONI {
            let forma = format!("/richieste/{{id}}/{azione}");
            let c = Caso::nuovo(p, post, "/richieste/{id}/{azione}", ids(), dentro);
            v.push(c.forma(forma).campi(&rifiuto));
        }
        v.push(Caso::nuovo(a, g, "/api/v1/richieste/{id}", ids(), dentro));
        v.push(Caso::nuovo(
            a,
            g,
            "/api/v1/richieste/{id}/file",
            ids(),
            dentro,
        ));
        for rotta in API_AZIONI {
            v.push(Caso::nuovo(a, post, rotta, ids(), dentro).campi(&rifiuto));
        }
    }
    let file = |r| vec![(Tipo::Richiesta, r), (Tipo::FileRisposta, m.file)];
    for (via, rotta) in [
        (p, "/richieste/{id}/file/{fid}"),
        (a, "/api/v1/richieste/{id}/file/{fid}"),
    ] {
        // Monitors see the request; they get 403 on the download (positive controls).
        v.push(Caso::nuovo(
            via,
            g,
            rotta,
            file(m.completata),
            MONITOR_E_PROPRIETARIO,
        ));
        // A real file named under another request of the same owner: nobody.
        v.push(Caso::nuovo(via, g, rotta, file(m.attesa), &[]));
    }
    v
}

/// The owner's token and notification, the Enti and their users.
async fn casi_gestione(m: &Mondo) -> Vec<Caso> {
    let admin = m.app.id_utente("admin.polizia").await;
    let op = m.app.id_utente(PROPRIETARIO).await;
    let (p, post) = (Via::Pagina, Metodo::Post);
    let mut v = vec![
        Caso::nuovo(
            p,
            post,
            "/profilo/token/{id}/revoca",
            vec![(Tipo::Token, m.token)],
            &[PROPRIETARIO],
        ),
        Caso::nuovo(
            p,
            post,
            "/notifiche/{id}/letta",
            vec![(Tipo::Notifica, m.notifica)],
            &[PROPRIETARIO],
        ),
    ];
    v.extend(casi_enti(m, admin, op));
    v.extend(casi_utenti(m, admin, op));
    v
}

/// The TOP's pages on Enti and their ADMIN users.
fn casi_enti(m: &Mondo, admin: i64, op: i64) -> Vec<Caso> {
    const SCHEDA: &str = "/amministrazione/enti/{id}";
    const NUOVO: &str = "/amministrazione/enti/{id}/admin";
    const ATTIVO: &str = "/amministrazione/enti/{id}/admin/{uid}/attivo";
    const RESET: &str = "/amministrazione/enti/{id}/admin/{uid}/reset";
    let (roma, milano): (&'static [&'static str], _) = (&["top.roma"], &["top.milano"]);
    // (route, Ente, user, who is inside the scope)
    let righe: [(&'static str, i64, Option<i64>, &'static [&'static str]); 11] = [
        (SCHEDA, m.ente_polizia, None, roma),
        (SCHEDA, m.ente_asl, None, roma),
        (SCHEDA, m.ente_tribunale, None, milano),
        (NUOVO, m.ente_polizia, None, roma),
        (ATTIVO, m.ente_polizia, Some(admin), roma),
        (RESET, m.ente_polizia, Some(admin), roma),
        // A real ADMIN named under another real Ente, and a STANDARD through the TOP's
        // route: nobody, not even Roma's TOP.
        (ATTIVO, m.ente_asl, Some(admin), &[]),
        (RESET, m.ente_asl, Some(admin), &[]),
        (ATTIVO, m.ente_tribunale, Some(admin), &[]),
        (ATTIVO, m.ente_polizia, Some(op), &[]),
        (RESET, m.ente_polizia, Some(op), &[]),
    ];
    righe
        .into_iter()
        .map(|(rotta, ente, utente, dentro)| {
            let mut ids = vec![(Tipo::Ente, ente)];
            ids.extend(utente.map(|u| (Tipo::Utente, u)));
            let (metodo, campi): (_, &[(&str, &str)]) = match rotta {
                SCHEDA => (Metodo::Get, &[]),
                NUOVO => (Metodo::Post, &[("username", INTRUSO), ("email", "")]),
                ATTIVO => (Metodo::Post, &[("attivo", "no")]),
                _ => (Metodo::Post, &[]),
            };
            Caso::nuovo(Via::Pagina, metodo, rotta, ids, dentro)
                .campi(campi)
                .ruoli(SOLO_TOP)
        })
        .collect()
}

/// The ADMIN's pages on its Ente's STANDARD users.
fn casi_utenti(m: &Mondo, admin: i64, op: i64) -> Vec<Caso> {
    const SCHEDA: &str = "/amministrazione/utenti/{uid}";
    let conv = m.id(Tipo::Convenzione, m.conv_polizia);
    let dentro: &'static [&'static str] = &["admin.polizia"];
    let righe: [(&'static str, i64, &'static [&'static str]); 5] = [
        (SCHEDA, op, dentro),
        ("/amministrazione/utenti/{uid}/attivo", op, dentro),
        ("/amministrazione/utenti/{uid}/reset", op, dentro),
        ("/amministrazione/utenti/{uid}/profilo", op, dentro),
        // An ADMIN through the ADMIN's pages for STANDARD users: nobody.
        (SCHEDA, admin, &[]),
    ];
    righe
        .into_iter()
        .map(|(rotta, utente, dentro)| {
            let metodo = if rotta == SCHEDA {
                Metodo::Get
            } else {
                Metodo::Post
            };
            let campi: Vec<(&str, &str)> = if rotta.ends_with("attivo") {
                vec![("attivo", "no")]
            } else if rotta.ends_with("profilo") {
                vec![
                    ("convenzione", &conv),
                    ("campi", "generalita"),
                    ("ambito", "COMUNE"),
                ]
            } else {
                vec![]
            };
            let ids = vec![(Tipo::Utente, utente)];
            Caso::nuovo(Via::Pagina, metodo, rotta, ids, dentro)
                .campi(&campi)
                .ruoli(SOLO_ADMIN)
        })
        .collect()
}

/// Every user outside each case's scope: the case's status, none of the owner's data, and
/// exactly the answer to a valid id of an object that does not exist. Returns the calls made.
async fn fuori_ambito(m: &Mondo, casi: &[Caso]) -> usize {
    let marche = m.marche_oggetti();
    let mut n = 0;
    for c in casi {
        let vero = c.percorso(&c.veri(m));
        let mancante = c.percorso(&c.mancanti(m));
        for u in UTENTI.into_iter().filter(|u| !c.dentro.contains(u)) {
            let ctx = c.descrivi(u, &vero);
            let r = m.chiama(u, c.via, c.metodo, &vero, &c.campi).await;
            assert_eq!(r.stato, c.atteso(u), "{ctx}: {}", r.corpo);
            senza(&r, &marche, &ctx);
            let base = m.chiama(u, c.via, c.metodo, &mancante, &c.campi).await;
            assert_eq!(
                (r.stato, &r.corpo),
                (base.stato, &base.corpo),
                "{ctx}: risposta diversa da quella per un id inesistente"
            );
            n += 1;
        }
    }
    n
}

/// Forgeries of a real id: a zeroed tag, the neighbour's number with this tag, the tag of
/// another kind for this number, a bare number.
fn falsi(m: &Mondo, tipo: Tipo, n: i64) -> [(String, &'static str); 4] {
    let vero = m.id(tipo, n);
    let (_, tag) = vero.split_once('-').unwrap();
    let altro = if tipo == Tipo::Notifica {
        Tipo::Richiesta
    } else {
        Tipo::Notifica
    };
    [
        (
            format!("{n}-{}", "0".repeat(tag.len())),
            "etichetta azzerata",
        ),
        (
            format!("{}-{tag}", n + 1),
            "numero vicino con questa etichetta",
        ),
        (m.id(altro, n), "etichetta di un altro tipo"),
        (n.to_string(), "numero senza etichetta"),
    ]
}

/// Every user, in scope or not, with each id of each case forged in turn: the answer to an id
/// that does not exist. Returns the calls made.
async fn id_falsi(m: &Mondo, casi: &[Caso]) -> usize {
    let mut n = 0;
    for c in casi {
        let veri = c.veri(m);
        let mancante = c.percorso(&c.mancanti(m));
        for u in UTENTI {
            let base = m.chiama(u, c.via, c.metodo, &mancante, &c.campi).await;
            assert_eq!(base.stato, c.atteso(u), "{}", c.descrivi(u, &mancante));
            for (k, (tipo, numero)) in c.ids.iter().enumerate() {
                for (falso, come) in falsi(m, *tipo, *numero) {
                    let mut ids = veri.clone();
                    ids[k] = falso;
                    let percorso = c.percorso(&ids);
                    let r = m.chiama(u, c.via, c.metodo, &percorso, &c.campi).await;
                    assert_eq!(
                        (r.stato, &r.corpo),
                        (base.stato, &base.corpo),
                        "{} ({come})",
                        c.descrivi(u, &percorso)
                    );
                    n += 1;
                }
            }
        }
    }
    n
}

// --- State, before and after --------------------------------------------------------------

/// Everything the POST routes of the matrix could change.
#[derive(Debug, PartialEq)]
struct Fotografia {
    /// (state, note) of the owner's requests; `None` once deleted.
    richieste: Vec<Option<(String, Option<String>)>>,
    token_revocato: Option<i64>,
    notifica_letta: Option<i64>,
    attivi: Vec<(&'static str, bool)>,
    profilo: Option<store::anagrafiche::Profilo>,
    intruso: bool,
    /// The last audit entry: every state change appends one.
    ultimo_audit: i64,
}

async fn fotografa(m: &Mondo) -> Fotografia {
    let s = &m.app.store;
    let mut richieste = Vec::new();
    for id in [m.completata, m.attesa, m.bozza] {
        richieste.push(s.richiesta(id).await.ok().map(|r| (r.stato, r.nota_stato)));
    }
    let op = m.app.id_utente(PROPRIETARIO).await;
    let ora = m.app.stato.adesso_ms();
    let notifiche = s.notifiche(op, ora, 50).await.unwrap();
    let token = s.token_api_utente(op).await.unwrap();
    let mut attivi = Vec::new();
    for u in UTENTI {
        let utente = s.utente_per_username(u).await.unwrap().unwrap();
        attivi.push((u, utente.attivo));
    }
    Fotografia {
        richieste,
        token_revocato: token.iter().find(|t| t.id == m.token).unwrap().revocato_ms,
        notifica_letta: notifiche
            .iter()
            .find(|n| n.id == m.notifica)
            .unwrap()
            .letta_ms,
        attivi,
        profilo: s.profilo(op, m.conv_polizia).await.unwrap(),
        intruso: s.utente_per_username(INTRUSO).await.unwrap().is_some(),
        ultimo_audit: s.voci_audit(0, 1_000_000).await.unwrap().last().unwrap().id,
    }
}

/// The same routes work for the users in scope: the matrix above can fail.
async fn nel_proprio_ambito_si_legge(m: &Mondo) {
    let p = |r: i64| format!("/richieste/{}", m.id(Tipo::Richiesta, r));
    let file = format!(
        "{}/file/{}",
        p(m.completata),
        m.id(Tipo::FileRisposta, m.file)
    );
    for u in MONITOR_E_PROPRIETARIO {
        for (r, motivo) in [(m.completata, MOTIVO_COMPLETATA), (m.attesa, MOTIVO_ATTESA)] {
            let pagina = m.b(u).get(&p(r)).await;
            assert!(pagina.stato == 200 && pagina.corpo.contains(motivo), "{u}");
            let api = m
                .api(u, Metodo::Get, &format!("/api/v1{}", p(r)), &[])
                .await;
            assert!(api.stato == 200 && api.corpo.contains(motivo), "{u}");
        }
        let file_api = format!("/api/v1{}/file", p(m.completata));
        let elenco = m.api(u, Metodo::Get, &file_api, &[]).await;
        assert!(
            elenco.corpo.contains(&m.id(Tipo::FileRisposta, m.file)),
            "{u}"
        );
        // Only the submitter downloads; the monitors see the metadata (DESIGN §2).
        let atteso = if *u == PROPRIETARIO { 200 } else { 403 };
        for r in [
            m.b(u).get(&file).await,
            m.api(u, Metodo::Get, &format!("/api/v1{file}"), &[]).await,
        ] {
            assert_eq!(r.stato, atteso, "{u} {file}: {}", r.corpo);
            assert_eq!(r.corpo.contains(CF[0]), atteso == 200, "{u}");
        }
    }
    let bozza = m.b(PROPRIETARIO).get(&p(m.bozza)).await;
    assert!(bozza.stato == 200 && bozza.corpo.contains(MOTIVO_BOZZA));
    let ente = |e| format!("/amministrazione/enti/{}", m.id(Tipo::Ente, e));
    let r = m.b("top.roma").get(&ente(m.ente_polizia)).await;
    assert!(
        r.stato == 200 && r.corpo.contains("admin.polizia"),
        "{}",
        r.corpo
    );
    let r = m.b("top.milano").get(&ente(m.ente_tribunale)).await;
    assert!(r.stato == 200 && r.corpo.contains("Tribunale di Milano"));
    let op = m.id(Tipo::Utente, m.app.id_utente(PROPRIETARIO).await);
    let r = m
        .b("admin.polizia")
        .get(&format!("/amministrazione/utenti/{op}"))
        .await;
    assert!(
        r.stato == 200 && r.corpo.contains(PROPRIETARIO),
        "{}",
        r.corpo
    );
}

/// Form POSTs by users in scope: each must be accepted (200 or 303).
async fn scrivi(m: &Mondo, scritture: &[(&'static str, String, Campi)]) {
    for (u, percorso, campi) in scritture {
        let r = m
            .chiama(u, Via::Pagina, Metodo::Post, percorso, campi)
            .await;
        assert!(
            r.stato == 200 || r.stato == 303,
            "{u} {percorso}: {}",
            r.corpo
        );
    }
}

/// The POST routes work for the users in scope, and change what the outsiders could not.
async fn nel_proprio_ambito_si_scrive(m: &Mondo) {
    let s = |v: &str| v.to_string();
    let op = m.id(Tipo::Utente, m.app.id_utente(PROPRIETARIO).await);
    let admin = m.id(Tipo::Utente, m.app.id_utente("admin.polizia").await);
    let ente = format!(
        "/amministrazione/enti/{}/admin",
        m.id(Tipo::Ente, m.ente_polizia)
    );
    let utente = format!("/amministrazione/utenti/{op}");
    let profilo = vec![
        ("convenzione", m.id(Tipo::Convenzione, m.conv_polizia)),
        ("campi", s("generalita")),
        ("ambito", s("COMUNE")),
    ];
    let notifica = m.id(Tipo::Notifica, m.notifica);
    let bozza = m.id(Tipo::Richiesta, m.bozza);
    let token = m.id(Tipo::Token, m.token);
    scrivi(
        m,
        &[
            (PROPRIETARIO, format!("/notifiche/{notifica}/letta"), vec![]),
            ("admin.polizia", format!("{utente}/profilo"), profilo),
            (
                "admin.polizia",
                format!("{utente}/attivo"),
                vec![("attivo", s("si"))],
            ),
            (
                "top.roma",
                format!("{ente}/{admin}/attivo"),
                vec![("attivo", s("si"))],
            ),
            (
                "top.roma",
                ente.clone(),
                vec![("username", s(INTRUSO)), ("email", s(""))],
            ),
            (PROPRIETARIO, format!("/richieste/{bozza}/scarta"), vec![]),
            (
                PROPRIETARIO,
                format!("/profilo/token/{token}/revoca"),
                vec![],
            ),
        ],
    )
    .await;
    let attesa = format!(
        "/api/v1/richieste/{}/approva",
        m.id(Tipo::Richiesta, m.attesa)
    );
    let r = m.api("top.roma", Metodo::Post, &attesa, &[]).await;
    assert!(
        r.stato == 200 && r.corpo.contains("CONVALIDATA"),
        "{}",
        r.corpo
    );
    let dopo = fotografa(m).await;
    let attesi = [
        Some((s("COMPLETATA"), None)),
        Some((s("CONVALIDATA"), None)),
        None,
    ];
    assert_eq!(dopo.richieste, attesi);
    assert!(dopo.token_revocato.is_some() && dopo.notifica_letta.is_some() && dopo.intruso);
    assert_eq!(dopo.profilo.unwrap().ambito, domain::ambito::Ambito::Comune);
}

/// The reset routes work for the users in scope. Last: they may end the reset user's sessions.
async fn nel_proprio_ambito_si_reimposta(m: &Mondo) {
    let prima = fotografa(m).await;
    let op = m.id(Tipo::Utente, m.app.id_utente(PROPRIETARIO).await);
    let admin = m.id(Tipo::Utente, m.app.id_utente("admin.polizia").await);
    let ente = m.id(Tipo::Ente, m.ente_polizia);
    scrivi(
        m,
        &[
            (
                "admin.polizia",
                format!("/amministrazione/utenti/{op}/reset"),
                vec![],
            ),
            (
                "top.roma",
                format!("/amministrazione/enti/{ente}/admin/{admin}/reset"),
                vec![],
            ),
        ],
    )
    .await;
    let nuove = m
        .app
        .store
        .voci_audit(prima.ultimo_audit, 10)
        .await
        .unwrap();
    assert_eq!(nuove.len(), 2, "{nuove:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn matrice_rotte_con_id() {
    let m = mondo().await;
    let mut casi = casi_richieste(&m);
    casi.extend(casi_gestione(&m).await);
    // Every route of the table has at least one row in the matrix.
    for (metodo, rotta, tipi) in ROTTE_CON_ID {
        let righe: Vec<&Caso> = casi
            .iter()
            .filter(|c| c.rotta == *rotta && c.metodo == *metodo)
            .collect();
        assert!(!righe.is_empty(), "{metodo:?} {rotta} non è nella matrice");
        for c in righe {
            let kinds: Vec<Tipo> = c.ids.iter().map(|(t, _)| *t).collect();
            assert_eq!(kinds, *tipi, "{rotta}");
        }
    }
    let prima = fotografa(&m).await;
    let fuori = fuori_ambito(&m, &casi).await;
    let falsi = id_falsi(&m, &casi).await;
    let nuove = m
        .app
        .store
        .voci_audit(prima.ultimo_audit, 10)
        .await
        .unwrap();
    assert!(nuove.is_empty(), "voci d'archivio nuove: {nuove:?}");
    assert_eq!(
        fotografa(&m).await,
        prima,
        "le chiamate fuori ambito hanno cambiato qualcosa"
    );
    eprintln!(
        "matrice: {} rotte, {} casi, {fuori} chiamate fuori ambito, {falsi} con id falsi",
        ROTTE_CON_ID.len(),
        casi.len()
    );
    nel_proprio_ambito_si_legge(&m).await;
    nel_proprio_ambito_si_scrive(&m).await;
    nel_proprio_ambito_si_reimposta(&m).await;
}

// --- Guard: no route with an id escapes the matrix -------------------------------------------

fn sorgenti(cartella: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for voce in std::fs::read_dir(cartella).unwrap() {
        let p = voce.unwrap().path();
        if p.is_dir() {
            sorgenti(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The text between the `(` that `s` starts with and its matching `)`.
fn argomenti(s: &str) -> &str {
    let mut profondita = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => profondita += 1,
            ')' => {
                profondita -= 1;
                if profondita == 0 {
                    return &s[1..i];
                }
            }
            _ => {}
        }
    }
    panic!("parentesi non chiusa: {s}");
}

/// The HTTP methods named in a `.route(…)`'s handler: `get(`, `post(`… as whole words.
fn metodi(argomenti: &str) -> Vec<&'static str> {
    let mut v = Vec::new();
    for (nome, metodo) in [
        ("get(", "GET"),
        ("post(", "POST"),
        ("put(", "PUT"),
        ("patch(", "PATCH"),
        ("delete(", "DELETE"),
        ("any(", "ANY"),
    ] {
        for (i, _) in argomenti.match_indices(nome) {
            let prima = argomenti[..i].chars().next_back();
            if !prima.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                v.push(metodo);
            }
        }
    }
    v
}

/// (method, path) of every `.route(…)` in `crates/web/src`.
fn rotte_nel_codice() -> Vec<(&'static str, String)> {
    let mut file = Vec::new();
    sorgenti(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut file,
    );
    let mut rotte = Vec::new();
    for f in file {
        let testo = std::fs::read_to_string(&f).unwrap();
        for (i, _) in testo.match_indices(".route(") {
            let args = argomenti(&testo[i + ".route".len()..]);
            let percorso = args
                .trim_start()
                .strip_prefix('"')
                .and_then(|r| r.split_once('"'))
                .unwrap_or_else(|| panic!("{}: percorso non letterale: {args}", f.display()))
                .0
                .to_string();
            let metodi = metodi(args);
            assert!(
                !metodi.is_empty(),
                "{}: metodo non riconosciuto: {args}",
                f.display()
            );
            rotte.extend(metodi.into_iter().map(|m| (m, percorso.clone())));
        }
    }
    rotte
}

fn nome_metodo(m: Metodo) -> &'static str {
    match m {
        Metodo::Get => "GET",
        Metodo::Post => "POST",
    }
}

#[test]
fn ogni_rotta_con_id_e_nella_matrice() {
    let rotte = rotte_nel_codice();
    let con_graffe: Vec<&(&str, String)> = rotte.iter().filter(|(_, p)| p.contains('{')).collect();
    for (metodo, percorso) in &con_graffe {
        let in_tabella = ROTTE_CON_ID
            .iter()
            .any(|(m, p, _)| nome_metodo(*m) == *metodo && p == percorso);
        assert!(
            in_tabella || ROTTE_SENZA_ID.contains(&percorso.as_str()),
            "{metodo} {percorso} ha un id nel percorso ma non è in ROTTE_CON_ID: aggiungerla \
             alla tabella e alla matrice di isolamento"
        );
    }
    // The table is not stale, and its kinds match the placeholders that are ids.
    for (m, p, tipi) in ROTTE_CON_ID {
        assert!(
            con_graffe
                .iter()
                .any(|(mc, pc)| *mc == nome_metodo(*m) && pc == p),
            "{m:?} {p} è nella tabella ma non nel codice"
        );
        let segnaposti = p.matches('{').count() - p.matches("{azione}").count();
        assert_eq!(segnaposti, tipi.len(), "{p}");
    }
    for p in ROTTE_SENZA_ID {
        assert!(
            con_graffe.iter().any(|(_, pc)| pc == p),
            "{p} non è nel codice"
        );
    }
    // The scan reads the routers: a sign-in page and a list are there too.
    assert!(
        rotte.contains(&("POST", "/accedi".to_string())),
        "{rotte:?}"
    );
    assert!(
        rotte.contains(&("GET", "/monitoraggio".to_string())),
        "{rotte:?}"
    );
}

// --- Lists and pages without ids -------------------------------------------------------------

/// Pages without ids and the roles they serve (the others get 403).
const ELENCHI: [(&str, &[&str]); 12] = [
    ("/", TUTTI_I_RUOLI),
    ("/richieste", &["STANDARD"]),
    ("/richieste/elenco", &["STANDARD"]),
    ("/richieste/nuova", &["STANDARD"]),
    ("/convalida", SOLO_TOP),
    ("/monitoraggio", &["TOP", "ADMIN"]),
    // A state filter cannot bring drafts into monitoring.
    ("/monitoraggio?stato=BOZZA", &["TOP", "ADMIN"]),
    ("/notifiche", TUTTI_I_RUOLI),
    ("/profilo", TUTTI_I_RUOLI),
    ("/profilo/token", TUTTI_I_RUOLI),
    ("/amministrazione/anpr", SOLO_TOP),
    ("/amministrazione/utenti", SOLO_ADMIN),
];

/// What `utente` must never read in a list: the owner's objects as DESIGN allows them (monitors
/// see submitted requests, nobody else's drafts, tokens or notifications), and the names of
/// the Enti and Comuni outside the user's scope.
fn vietate(m: &Mondo, utente: &str) -> Vec<String> {
    let privati = [
        MOTIVO_BOZZA.to_string(),
        m.id(Tipo::Richiesta, m.bozza),
        NOME_TOKEN.to_string(),
        m.id(Tipo::Token, m.token),
        m.id(Tipo::Notifica, m.notifica),
    ];
    let mut v = match utente {
        PROPRIETARIO => Vec::new(),
        "top.roma" | "admin.polizia" => privati.to_vec(),
        _ => m.marche_oggetti(),
    };
    if utente == "operatore2.polizia" {
        // A STANDARD sees no other user of its Ente.
        v.push(PROPRIETARIO.to_string());
    }
    for (marche, utenti, top) in ENTI {
        if !utenti.contains(&utente) && utente != top {
            v.extend(marche.iter().map(|s| s.to_string()));
        }
    }
    for (marca, utenti) in COMUNI {
        if !utenti.contains(&utente) {
            v.push(marca.to_string());
        }
    }
    v
}

async fn elenco(m: &Mondo, utente: &str, percorso: &str, ruoli: &[&str]) -> Risposta {
    let r = m.b(utente).get(percorso).await;
    let atteso = if ruoli.contains(&ruolo(utente)) {
        200
    } else {
        403
    };
    assert_eq!(r.stato, atteso, "{utente} {percorso}: {}", r.corpo);
    senza(&r, &vietate(m, utente), &format!("{utente} {percorso}"));
    r
}

/// The lists do show the user's own tenant: the checks above can fail.
async fn elenchi_mostrano_il_proprio(m: &Mondo) {
    let contiene = |r: &Risposta, s: &str, ctx: &str| {
        assert!(r.corpo.contains(s), "{ctx}: «{s}» manca:\n{}", r.corpo);
    };
    let richieste = elenco(m, PROPRIETARIO, "/richieste", &["STANDARD"]).await;
    for motivo in [MOTIVO_COMPLETATA, MOTIVO_ATTESA, MOTIVO_BOZZA] {
        contiene(&richieste, motivo, "/richieste");
    }
    let token = elenco(m, PROPRIETARIO, "/profilo/token", TUTTI_I_RUOLI).await;
    contiene(&token, NOME_TOKEN, "/profilo/token");
    let notifiche = elenco(m, PROPRIETARIO, "/notifiche", TUTTI_I_RUOLI).await;
    contiene(&notifiche, &m.id(Tipo::Notifica, m.notifica), "/notifiche");
    for u in ["top.roma", "admin.polizia"] {
        let r = elenco(m, u, "/monitoraggio", &["TOP", "ADMIN"]).await;
        contiene(&r, MOTIVO_COMPLETATA, u);
        contiene(&r, MOTIVO_ATTESA, u);
    }
    let coda = elenco(m, "top.roma", "/convalida", SOLO_TOP).await;
    contiene(&coda, MOTIVO_ATTESA, "/convalida");
    let enti = elenco(m, "top.roma", "/amministrazione/enti", SOLO_TOP).await;
    contiene(&enti, "Polizia Locale di Roma", "enti di Roma");
    contiene(&enti, "ASL Roma 1", "enti di Roma");
    let enti = elenco(m, "top.milano", "/amministrazione/enti", SOLO_TOP).await;
    contiene(&enti, "Tribunale di Milano", "enti di Milano");
    let utenti = elenco(m, "admin.polizia", "/amministrazione/utenti", SOLO_ADMIN).await;
    contiene(&utenti, PROPRIETARIO, "utenti della Polizia Locale");
    let anpr = elenco(m, "top.roma", "/amministrazione/anpr", SOLO_TOP).await;
    contiene(&anpr, "Comune di Roma", "accesso ANPR");
    let conv = m
        .api(PROPRIETARIO, Metodo::Get, "/api/v1/convenzioni", &[])
        .await;
    contiene(
        &conv,
        &m.id(Tipo::Convenzione, m.conv_polizia),
        "/api/v1/convenzioni",
    );
}

/// A POST page without ids: path, roles it serves, fields.
type Modulo<'a> = (&'a str, &'a [&'a str], &'a [(&'a str, &'a str)]);

/// POST pages without ids, by a role they do not serve: 403, none of anyone's data.
async fn moduli_di_altri_ruoli(m: &Mondo) -> usize {
    let ente = m.id(Tipo::Ente, m.ente_polizia);
    let moduli: [Modulo; 5] = [
        ("/amministrazione/anpr/verifica", SOLO_TOP, &[]),
        (
            "/amministrazione/anpr/ricerca",
            SOLO_TOP,
            &[("cf", CF[0]), ("motivo", "x")],
        ),
        (
            "/amministrazione/enti",
            SOLO_TOP,
            &[("codice", "02438750586")],
        ),
        (
            "/amministrazione/convenzioni",
            SOLO_TOP,
            &[("ente", ente.as_str())],
        ),
        (
            "/amministrazione/utenti",
            SOLO_ADMIN,
            &[("username", INTRUSO)],
        ),
    ];
    let marche = m.marche_oggetti();
    let mut n = 0;
    for (percorso, ruoli, campi) in &moduli {
        for u in UTENTI.into_iter().filter(|u| !ruoli.contains(&ruolo(u))) {
            let r = m.b(u).post_form(percorso, campi).await;
            assert_eq!(r.stato, 403, "{u} {percorso}: {}", r.corpo);
            senza(&r, &marche, &format!("{u} {percorso}"));
            senza(&r, &vietate(m, u), &format!("{u} {percorso}"));
            n += 1;
        }
    }
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn elenchi_solo_del_proprio_ambito() {
    let m = mondo().await;
    let prima = fotografa(&m).await;
    let mut n = 0;
    for u in UTENTI {
        for (percorso, ruoli) in ELENCHI {
            elenco(&m, u, percorso, ruoli).await;
            n += 1;
        }
        // A TOP's list of Enti holds only those convened with its own Comune.
        elenco(&m, u, "/amministrazione/enti", SOLO_TOP).await;
        let conv = m.api(u, Metodo::Get, "/api/v1/convenzioni", &[]).await;
        assert_eq!(conv.stato, 200, "{u}");
        senza(&conv, &vietate(&m, u), &format!("{u} /api/v1/convenzioni"));
        n += 2;
    }
    n += moduli_di_altri_ruoli(&m).await;
    assert_eq!(
        fotografa(&m).await,
        prima,
        "un modulo rifiutato ha cambiato qualcosa"
    );
    eprintln!("elenchi e pagine di ruolo: {n} chiamate");
    elenchi_mostrano_il_proprio(&m).await;
}

// --- Ids outside the path ---------------------------------------------------------------------

/// A JSON submission under convention `conv`.
fn richiesta_json(conv: &str) -> Value {
    json!({
        "convenzione": conv,
        "motivo": "PROT-INTRUSO",
        "righe": [{"tipo": "CF", "identificativo": CF[0]}],
    })
}

/// Every user outside the Polizia Locale names its convention in the new-request form's URL,
/// in the form and in an API submission: the form does not offer it, the submissions answer
/// like a convention that does not exist (404 for a STANDARD, 403 for the other roles).
async fn convenzione_altrui_nella_richiesta(m: &Mondo) {
    let conv = m.id(Tipo::Convenzione, m.conv_polizia);
    let inesistente = m.id(Tipo::Convenzione, 987_654);
    let mut marche = m.marche_oggetti();
    marche.extend([conv.clone(), "verifiche anagrafiche".to_string()]);
    for u in UTENTI.into_iter().filter(|u| !u.ends_with(".polizia")) {
        let standard = ruolo(u) == "STANDARD";
        let r = m
            .b(u)
            .get(&format!("/richieste/nuova?convenzione={conv}"))
            .await;
        assert_eq!(r.stato, if standard { 200 } else { 403 }, "{u}");
        senza(&r, &marche, u);
        let atteso = if standard { 404 } else { 403 };
        let r = modulo_richiesta(m.b(u), &conv, "PROT-INTRUSO").await;
        let base = modulo_richiesta(m.b(u), &inesistente, "PROT-INTRUSO").await;
        assert_eq!(r.stato, atteso, "{u}: {}", r.corpo);
        assert_eq!((r.stato, &r.corpo), (base.stato, &base.corpo), "{u}");
        let api = "/api/v1/richieste";
        let r = m.api_json(u, api, Some(&richiesta_json(&conv))).await;
        let base = m
            .api_json(u, api, Some(&richiesta_json(&inesistente)))
            .await;
        assert_eq!(r.stato, atteso, "{u}: {}", r.corpo);
        assert_eq!((r.stato, &r.corpo), (base.stato, &base.corpo), "{u}");
        senza(&r, &marche, u);
    }
}

/// An ADMIN sets a profile for its own STANDARD user under another Ente's convention: 404,
/// like a convention that does not exist, and no profile.
async fn profilo_su_convenzione_altrui(m: &Mondo) {
    let inesistente = m.id(Tipo::Convenzione, 987_654);
    let campi = |c: String| {
        vec![
            ("convenzione", c),
            ("campi", "generalita".into()),
            ("ambito", "COMUNE".into()),
        ]
    };
    for (admin, standard, conv) in [
        ("admin.asl", "operatore.asl", m.conv_polizia),
        ("admin.tribunale", "operatore.tribunale", m.conv_polizia),
        ("admin.polizia", PROPRIETARIO, m.conv_asl),
    ] {
        let id = m.app.id_utente(standard).await;
        let percorso = format!("/amministrazione/utenti/{}/profilo", m.id(Tipo::Utente, id));
        let altrui = campi(m.id(Tipo::Convenzione, conv));
        let r = m
            .chiama(admin, Via::Pagina, Metodo::Post, &percorso, &altrui)
            .await;
        let base = campi(inesistente.clone());
        let base = m
            .chiama(admin, Via::Pagina, Metodo::Post, &percorso, &base)
            .await;
        assert_eq!(r.stato, 404, "{admin}: {}", r.corpo);
        assert_eq!((r.stato, &r.corpo), (base.stato, &base.corpo), "{admin}");
        assert!(
            m.app.store.profilo(id, conv).await.unwrap().is_none(),
            "{admin}"
        );
    }
}

/// Ids in a query, a form field or a JSON body: another Ente's convention is answered like one
/// that does not exist, and nothing is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn id_nei_moduli_e_nel_corpo() {
    let m = mondo().await;
    let prima = fotografa(&m).await;
    convenzione_altrui_nella_richiesta(&m).await;
    profilo_su_convenzione_altrui(&m).await;
    let nuove = m
        .app
        .store
        .voci_audit(prima.ultimo_audit, 10)
        .await
        .unwrap();
    assert!(nuove.is_empty(), "voci d'archivio nuove: {nuove:?}");
    assert_eq!(fotografa(&m).await, prima);
    // The owner's Ente does submit under it, by page and by API.
    let conv = m.id(Tipo::Convenzione, m.conv_polizia);
    let r = modulo_richiesta(m.b(PROPRIETARIO), &conv, "PROT-PROPRIO-1").await;
    assert_eq!(r.stato, 303, "{}", r.corpo);
    let r = m
        .api_json(
            "operatore2.polizia",
            "/api/v1/richieste",
            Some(&richiesta_json(&conv)),
        )
        .await;
    assert_eq!(r.stato, 201, "{}", r.corpo);
}

/// Enti are global: a TOP of another Comune may convene an Ente that already works with Roma.
/// That must give it no hold on the accounts Roma manages, and the ADMIN it creates for the
/// Ente must see nothing of Roma's conventions, requests or users.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn un_altro_comune_non_prende_gli_account_dell_ente() {
    let app = aiuto::avvia().await;
    let polizia = id_ente(&app, "02438750586").await;
    let pubblico = app.stato.ids.codifica(Tipo::Ente, polizia);
    let conv_roma = prima_convenzione(&app, polizia).await;
    // Roma's side: a submitted request of the Polizia Locale.
    let op = app.connesso("operatore.polizia").await;
    let id = nuova_bozza(&app, &op, conv_roma, "PROT-ROMA-RISERVATO").await;
    let r = op
        .post_form(
            &format!(
                "/richieste/{}/invia",
                app.stato.ids.codifica(Tipo::Richiesta, id)
            ),
            &[],
        )
        .await;
    assert_eq!(r.stato, 303, "{}", r.corpo);

    let milano = app.connesso("top.milano").await;
    let r = milano
        .post_form(
            "/amministrazione/convenzioni",
            &[
                ("ente", pubblico.as_str()),
                ("nome", "Polizia Locale - Milano"),
                ("campi", "generalita"),
                ("ambito", "COMUNE"),
                ("approvazione", "MANUALE"),
                ("valida_dal", "2026-01-01"),
                ("conservazione_giorni", "7"),
            ],
        )
        .await;
    assert_eq!(r.stato, 303, "{}", r.corpo);
    // The Ente is now convened with Milano too, but Roma's ADMIN is not Milano's to manage.
    let scheda = milano
        .get(&format!("/amministrazione/enti/{pubblico}"))
        .await;
    assert_eq!(scheda.stato, 200);
    assert!(!scheda.corpo.contains("admin.polizia"), "{}", scheda.corpo);
    let admin_roma = app.id_utente("admin.polizia").await;
    let uid = app.stato.ids.codifica(Tipo::Utente, admin_roma);
    for azione in ["reset", "attivo"] {
        let r = milano
            .post_form(
                &format!("/amministrazione/enti/{pubblico}/admin/{uid}/{azione}"),
                &[("attivo", "no")],
            )
            .await;
        assert_eq!(r.stato, 404, "{azione}: {}", r.corpo);
        assert!(!r.corpo.contains("admin.polizia"));
    }
    assert!(app.store.utente(admin_roma).await.unwrap().attivo);

    // Milano's own ADMIN for the same Ente.
    let r = milano
        .post_form(
            &format!("/amministrazione/enti/{pubblico}/admin"),
            &[("username", "admin.polizia.milano"), ("email", "")],
        )
        .await;
    assert_eq!(r.stato, 200, "{}", r.corpo);
    let nuovo = app
        .store
        .utente_per_username("admin.polizia.milano")
        .await
        .unwrap()
        .unwrap();
    let milano_id = app
        .store
        .comune_per_istat("015146")
        .await
        .unwrap()
        .unwrap()
        .id;
    assert_eq!(
        (nuovo.ente_id, nuovo.comune_id),
        (Some(polizia), Some(milano_id))
    );
    let admin_mi = app.connesso("admin.polizia.milano").await;
    let m = admin_mi.get("/monitoraggio").await;
    assert_eq!(m.stato, 200);
    assert!(!m.corpo.contains("PROT-ROMA-RISERVATO"), "{}", m.corpo);
    let d = admin_mi
        .get(&format!(
            "/richieste/{}",
            app.stato.ids.codifica(Tipo::Richiesta, id)
        ))
        .await;
    assert_eq!(d.stato, 404);
    let u = admin_mi.get("/amministrazione/utenti").await;
    assert!(!u.corpo.contains("operatore.polizia"), "{}", u.corpo);
    let op_id = app.id_utente("operatore.polizia").await;
    let r = admin_mi
        .post_form(
            &format!(
                "/amministrazione/utenti/{}/reset",
                app.stato.ids.codifica(Tipo::Utente, op_id)
            ),
            &[],
        )
        .await;
    assert_eq!(r.stato, 404);
    // Its own STANDARD user may get a profile under Milano's convention only.
    let r = admin_mi
        .post_form(
            "/amministrazione/utenti",
            &[("username", "agente.milano"), ("email", "")],
        )
        .await;
    assert_eq!(r.stato, 200, "{}", r.corpo);
    let agente = app.id_utente("agente.milano").await;
    let agente_pub = app.stato.ids.codifica(Tipo::Utente, agente);
    let r = admin_mi
        .post_form(
            &format!("/amministrazione/utenti/{agente_pub}/profilo"),
            &[
                (
                    "convenzione",
                    app.stato
                        .ids
                        .codifica(Tipo::Convenzione, conv_roma)
                        .as_str(),
                ),
                ("campi", "generalita"),
                ("ambito", "COMUNE"),
            ],
        )
        .await;
    assert_eq!(r.stato, 404, "{}", r.corpo);
    assert!(
        app.store
            .profilo(agente, conv_roma)
            .await
            .unwrap()
            .is_none()
    );
    // Roma's ADMIN still manages its own, and does not see Milano's accounts.
    let roma = app.connesso("admin.polizia").await;
    let u = roma.get("/amministrazione/utenti").await;
    assert!(u.corpo.contains("operatore.polizia"));
    assert!(!u.corpo.contains("agente.milano"), "{}", u.corpo);
}
