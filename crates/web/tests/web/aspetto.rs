//! The look and its rules, over HTTP, on every page a user can reach: each role's pages are
//! crawled from the home page by following links, and each page must
//! - load Bootstrap Italia and our files from `/static/` only (no CDN), each of which is served;
//! - carry no inline style or script and no event-handler attribute (the CSP forbids them);
//! - be in Italian (`lang="it"`) with a title;
//! - label every input (a `<label for>` or an `aria-label`), and point every
//!   `aria-describedby` at an element that exists.
//!
//! The browser tests (`navigatore`) run axe-core on the pages a real browser shows; this module
//! covers every page, including those no browser scenario visits.

use crate::aiuto::{self, Browser, TestApp};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Every value of attribute `nome` in the tags of `html` (`nome="…"`).
fn valori(html: &str, nome: &str) -> Vec<String> {
    let segno = format!(" {nome}=\"");
    html.match_indices(&segno)
        .map(|(i, _)| {
            let v = &html[i + segno.len()..];
            v[..v.find('"').unwrap_or(v.len())].to_string()
        })
        .collect()
}

/// The attribute `nome` of one tag's text (`<input … >`).
fn attributo(tag: &str, nome: &str) -> Option<String> {
    valori(tag, nome).into_iter().next()
}

/// The text of every `<nome …>` opening tag.
fn tag<'a>(html: &'a str, nome: &str) -> Vec<&'a str> {
    let segno = format!("<{nome}");
    html.match_indices(&segno)
        .filter(|(i, _)| {
            html[i + segno.len()..]
                .chars()
                .next()
                .is_some_and(|c| c == ' ' || c == '>' || c == '\n')
        })
        .map(|(i, _)| &html[i..i + html[i..].find('>').map_or(html.len() - i, |f| f + 1)])
        .collect()
}

/// What is wrong with one page, in words (empty when nothing).
fn difetti(html: &str) -> Vec<String> {
    let mut d = Vec::new();
    if !html.contains("<html lang=\"it\">") {
        d.push("manca <html lang=\"it\">".into());
    }
    if !html.contains("<title>") {
        d.push("manca <title>".into());
    }
    if !html.contains("/static/vendor/bootstrap-italia/css/bootstrap-italia.min.css") {
        d.push("non carica il CSS di Bootstrap Italia".into());
    }
    if html.contains(" style=\"") || html.contains("<style") {
        d.push("stile in linea (vietato dalla CSP)".into());
    }
    for s in tag(html, "script") {
        if !attributo(s, "src").is_some_and(|src| src.starts_with("/static/")) {
            d.push(format!("script in linea o esterno: {s}"));
        }
    }
    for l in tag(html, "link") {
        if let Some(href) = attributo(l, "href")
            && !href.starts_with("/static/")
        {
            d.push(format!("risorsa esterna: {href}"));
        }
    }
    for evento in [
        " onclick=",
        " onload=",
        " onchange=",
        " onsubmit=",
        " oninput=",
    ] {
        if html.contains(evento) {
            d.push(format!("attributo di evento {evento}"));
        }
    }
    let etichette: BTreeSet<String> = valori(html, "for").into_iter().collect();
    let ids: BTreeSet<String> = valori(html, "id").into_iter().collect();
    for nome in ["input", "select", "textarea"] {
        for campo in tag(html, nome) {
            let tipo = attributo(campo, "type").unwrap_or_default();
            if ["hidden", "submit", "button", "image", "reset"].contains(&tipo.as_str()) {
                continue;
            }
            let etichettato = attributo(campo, "id").is_some_and(|id| etichette.contains(&id))
                || attributo(campo, "aria-label").is_some()
                || attributo(campo, "aria-labelledby").is_some();
            if !etichettato {
                d.push(format!("campo senza etichetta: {campo}"));
            }
        }
    }
    for riferiti in valori(html, "aria-describedby")
        .iter()
        .chain(valori(html, "aria-labelledby").iter())
    {
        for id in riferiti.split_whitespace() {
            if !ids.contains(id) {
                d.push(format!(
                    "aria-describedby/labelledby verso un id che manca: {id}"
                ));
            }
        }
    }
    d
}

/// The links of a page worth visiting: same-site GET pages (no downloads, exports, API or the
/// TOTP image).
fn collegamenti(html: &str) -> Vec<String> {
    valori(html, "href")
        .into_iter()
        .map(|h| h.replace("&amp;", "&"))
        .filter(|h| h.starts_with('/') && !h.starts_with("//"))
        .filter(|h| {
            !["/static/", "/file/", "/api/", "export", "/totp/", "/esci"]
                .iter()
                .any(|x| h.contains(x))
        })
        .collect()
}

/// Visits every page reachable from `/` (at most `massimo`), checks each, and returns the
/// defects by URL and the static files the pages asked for.
async fn visita(b: &Browser, massimo: usize) -> (BTreeMap<String, Vec<String>>, BTreeSet<String>) {
    let mut da_visitare = VecDeque::from([String::from("/")]);
    let mut visti = BTreeSet::new();
    let mut difetti_per_url = BTreeMap::new();
    let mut statici = BTreeSet::new();
    while let Some(url) = da_visitare.pop_front() {
        // Query strings (filters, notices) make more URLs of the same page: one of each path.
        let percorso = url.split('?').next().unwrap().to_string();
        if !visti.insert(percorso) || visti.len() > massimo {
            continue;
        }
        let r = b.get(&url).await;
        assert!(
            r.stato == 200 || r.stato == 303,
            "{url} risponde {}: {}",
            r.stato,
            r.corpo
        );
        if r.stato != 200 {
            continue;
        }
        let d = difetti(&r.corpo);
        if !d.is_empty() {
            difetti_per_url.insert(url.clone(), d);
        }
        for s in valori(&r.corpo, "src")
            .into_iter()
            .chain(valori(&r.corpo, "href"))
            .filter(|s| s.starts_with("/static/"))
        {
            statici.insert(s.split('#').next().unwrap().to_string());
        }
        da_visitare.extend(collegamenti(&r.corpo));
    }
    (difetti_per_url, statici)
}

/// A completed request of `operatore.polizia`, so detail pages, files and timelines exist.
async fn storia(app: &TestApp) {
    let b = app.connesso("operatore.polizia").await;
    let r = b.get("/richieste/nuova").await;
    let segno = "<option value=\"";
    let i = r.corpo.find(segno).expect("nessuna convenzione") + segno.len();
    let convenzione = r.corpo[i..].split('"').next().unwrap().to_string();
    let token = b.csrf.lock().unwrap().clone();
    let modulo = reqwest::multipart::Form::new()
        .text("_csrf", token)
        .text("convenzione", convenzione)
        .text("motivo", "pratica 7/2026")
        .text("data_riferimento", "")
        .text(
            "testo",
            "STTSGT90A01H501J\nSGGTTV60A01H501T\nSTTSGT90A01H501X\n",
        );
    let r = b.post_multipart("/richieste/nuova", modulo).await;
    assert_eq!(r.stato, 303, "{}", r.corpo);
    let url = r.location().unwrap().to_string();
    b.get(&url).await;
    let r = b.post_form(&format!("{url}/invia"), &[]).await;
    assert_eq!(r.stato, 303, "{}", r.corpo);
    let top = app.connesso("top.roma").await;
    top.get(&url).await;
    let r = top.post_form(&format!("{url}/approva"), &[]).await;
    assert_eq!(r.stato, 303, "{}", r.corpo);
    app.elabora_tutto().await;
    // A second request left as a draft, with a problem row, for the preview.
    let token = b.csrf.lock().unwrap().clone();
    let r = b.get("/richieste/nuova").await;
    let i = r.corpo.find(segno).unwrap() + segno.len();
    let convenzione = r.corpo[i..].split('"').next().unwrap().to_string();
    let modulo = reqwest::multipart::Form::new()
        .text("_csrf", token)
        .text("convenzione", convenzione)
        .text("motivo", "pratica 8/2026")
        .text("data_riferimento", "")
        .text("testo", "STTSGT90A01H501J\nNONVALIDO\n");
    let r = b.post_multipart("/richieste/nuova", modulo).await;
    assert_eq!(r.stato, 303, "{}", r.corpo);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ogni_pagina_rispetta_csp_lingua_ed_etichette() {
    let app = aiuto::avvia().await;
    storia(&app).await;
    let mut tutti = BTreeMap::new();
    let mut statici = BTreeSet::new();
    let mut pagine = 0;
    for utente in [
        "top.roma",
        "admin.polizia",
        "operatore.polizia",
        "operatore.tribunale",
    ] {
        let b = app.connesso(utente).await;
        let (difetti, s) = visita(&b, 80).await;
        pagine += 1;
        for (url, d) in difetti {
            tutti.insert(format!("{utente} {url}"), d);
        }
        statici.extend(s);
    }
    // The pages before sign-in.
    let anonimo = app.browser();
    let r = anonimo.get("/").await;
    assert_eq!(r.stato, 200);
    assert!(r.corpo.contains("action=\"/accedi\""), "{}", r.corpo);
    let d = difetti(&r.corpo);
    if !d.is_empty() {
        tutti.insert("anonimo /".into(), d);
    }
    assert!(pagine > 0);
    assert!(tutti.is_empty(), "pagine con difetti: {tutti:#?}");

    // Every static file a page asked for is served, with a fitting type.
    assert!(
        statici.contains("/static/vendor/bootstrap-italia/css/bootstrap-italia.min.css"),
        "{statici:?}"
    );
    for s in &statici {
        let (stato, intestazioni, corpo) = anonimo.scarica(s).await;
        assert_eq!(stato, 200, "{s}");
        assert!(!corpo.is_empty(), "{s}");
        let tipo = intestazioni
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        let atteso = match s.rsplit('.').next().unwrap() {
            "css" => "text/css",
            "js" => "text/javascript",
            "svg" => "image/svg+xml",
            altro => panic!("tipo di file inatteso {altro} in {s}"),
        };
        assert!(tipo.starts_with(atteso), "{s}: {tipo}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caratteri_e_icone_incorporati() {
    let app = aiuto::avvia().await;
    let b = app.browser();
    let (stato, _, css) = b.scarica("/static/fonts.css").await;
    assert_eq!(stato, 200);
    let css = String::from_utf8(css).unwrap();
    assert!(css.contains("Titillium Web"));
    let caratteri: Vec<String> = css
        .split("url(\"")
        .skip(1)
        .map(|u| u.split('"').next().unwrap().to_string())
        .collect();
    assert!(caratteri.len() >= 5, "{caratteri:?}");
    for url in caratteri {
        let (stato, h, corpo) = b.scarica(&url).await;
        assert_eq!(stato, 200, "{url}");
        assert_eq!(h.get("content-type").unwrap(), "font/woff2", "{url}");
        assert_eq!(&corpo[..4], b"wOF2", "{url}");
    }
    let (stato, _, sprite) = b
        .scarica("/static/vendor/bootstrap-italia/svg/sprites.svg")
        .await;
    assert_eq!(stato, 200);
    let sprite = String::from_utf8(sprite).unwrap();
    assert!(sprite.contains("id=\"it-download\""));
    // The licence travels with the files.
    let (stato, _, licenza) = b.scarica("/static/vendor/bootstrap-italia/LICENSE").await;
    assert_eq!(stato, 200);
    assert!(
        String::from_utf8(licenza)
            .unwrap()
            .contains("Redistribution")
    );
    let (stato, _, _) = b.scarica("/static/vendor/non-esiste.js").await;
    assert_eq!(stato, 404);
}

#[test]
fn il_controllo_trova_i_difetti() {
    let buona = "<html lang=\"it\"><title>x</title>\
        <link rel=\"stylesheet\" href=\"/static/vendor/bootstrap-italia/css/bootstrap-italia.min.css\">\
        <label for=\"a\">A</label><input type=\"text\" id=\"a\" aria-describedby=\"a-aiuto\">\
        <p id=\"a-aiuto\">aiuto</p><input type=\"hidden\" name=\"_csrf\">\
        <script src=\"/static/rivesto.js\" defer></script>";
    assert_eq!(difetti(buona), Vec::<String>::new());
    let cattiva = buona
        .replace("<label for=\"a\">A</label>", "")
        .replace("<p id=\"a-aiuto\">", "<p style=\"color:red\">")
        .replace("/static/rivesto.js", "https://cdn.example/x.js");
    let d = difetti(&cattiva);
    assert!(d.iter().any(|x| x.contains("senza etichetta")), "{d:?}");
    assert!(d.iter().any(|x| x.contains("stile in linea")), "{d:?}");
    assert!(d.iter().any(|x| x.contains("id che manca")), "{d:?}");
    assert!(
        d.iter().any(|x| x.contains("script in linea o esterno")),
        "{d:?}"
    );
}
