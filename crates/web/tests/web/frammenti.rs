//! Snapshots of stable HTML fragments (the `<main>` content only): the sign-in form, the
//! new-request form, a BOZZA's validation preview, the empty notifications list. Volatile
//! parts (CSRF tokens, opaque ids, dates) are replaced by placeholders first, so a snapshot
//! changes only when the markup does.

use crate::aiuto::{self, Risposta};

/// The content of `<main …>…</main>`, trimmed.
fn principale(r: &Risposta) -> String {
    assert_eq!(r.stato, 200, "{}", r.corpo);
    let inizio = r.corpo.find("<main").expect("nessun <main>");
    let inizio = inizio + r.corpo[inizio..].find('>').unwrap() + 1;
    let fine = inizio + r.corpo[inizio..].find("</main>").expect("nessun </main>");
    r.corpo[inizio..fine].trim().to_string()
}

/// `\d+-[0-9a-f]{24}` (an opaque id) at the start of `s`: its length.
fn id_opaco(s: &[u8]) -> Option<usize> {
    let cifre = s.iter().take_while(|b| b.is_ascii_digit()).count();
    let hex = |b: &u8| b.is_ascii_digit() || (b'a'..=b'f').contains(b);
    let resto = s.get(cifre..)?;
    let esadecimali = resto.iter().skip(1).take_while(|b| hex(b)).count();
    (cifre > 0 && resto.first() == Some(&b'-') && esadecimali == 24).then_some(cifre + 25)
}

/// Digits and separators as in `forma` (`9` a digit, anything else itself) at the start of `s`.
fn come(s: &[u8], forma: &str) -> Option<usize> {
    let f = forma.as_bytes();
    let uguale = s.len() >= f.len()
        && f.iter().zip(s).all(|(f, c)| {
            if *f == b'9' {
                c.is_ascii_digit()
            } else {
                f == c
            }
        });
    let segue_cifra = s.get(f.len()).is_some_and(u8::is_ascii_digit);
    (uguale && !segue_cifra).then_some(f.len())
}

/// A date (`dd/mm/yyyy hh:mm`, `dd/mm/yyyy`, `yyyy-mm-dd`) at the start of `s`: its length.
fn data(s: &[u8]) -> Option<usize> {
    ["99/99/9999 99:99", "99/99/9999", "9999-99-99"]
        .iter()
        .find_map(|f| come(s, f))
}

/// The fragment with CSRF tokens, opaque ids and dates replaced by placeholders.
fn oscura(html: &str) -> String {
    let segno = "name=\"_csrf\" value=\"";
    let mut senza_csrf = String::new();
    let mut resto = html;
    while let Some(i) = resto.find(segno) {
        let valore = i + segno.len();
        let fine = valore + resto[valore..].find('"').unwrap();
        senza_csrf.push_str(&resto[..valore]);
        senza_csrf.push_str("[csrf]");
        resto = &resto[fine..];
    }
    senza_csrf.push_str(resto);

    let b = senza_csrf.as_bytes();
    let mut fuori = String::new();
    let mut i = 0;
    while i < b.len() {
        let dopo_parola = i > 0 && b[i - 1].is_ascii_alphanumeric();
        let trovato = if dopo_parola {
            None
        } else if let Some(n) = id_opaco(&b[i..]) {
            Some((n, "[id]"))
        } else {
            data(&b[i..]).map(|n| (n, "[data]"))
        };
        match trovato {
            Some((n, segnaposto)) => {
                fuori.push_str(segnaposto);
                i += n;
            }
            None => {
                let c = senza_csrf[i..].chars().next().unwrap();
                fuori.push(c);
                i += c.len_utf8();
            }
        }
    }
    fuori
}

#[test]
fn oscura_sostituisce_solo_le_parti_variabili() {
    let html = "<input type=\"hidden\" name=\"_csrf\" value=\"abc-123_X\">\
        <a href=\"/richieste/17-0123456789abcdef01234567\">del 02/03/2026 11:00</a> \
        riferimento 2026-03-01; riga 17-ab; CF RSSMRA85T10A562S; x12-0123456789abcdef01234567";
    assert_eq!(
        oscura(html),
        "<input type=\"hidden\" name=\"_csrf\" value=\"[csrf]\">\
        <a href=\"/richieste/[id]\">del [data]</a> \
        riferimento [data]; riga 17-ab; CF RSSMRA85T10A562S; x12-0123456789abcdef01234567"
    );
}

#[tokio::test]
async fn modulo_di_accesso() {
    let app = aiuto::avvia().await;
    let r = app.browser().get("/").await;
    insta::assert_snapshot!("modulo_di_accesso", oscura(&principale(&r)));
}

#[tokio::test]
async fn modulo_nuova_richiesta_di_operatore_polizia() {
    let app = aiuto::avvia().await;
    let op = app.connesso("operatore.polizia").await;
    let r = op.get("/richieste/nuova").await;
    insta::assert_snapshot!("nuova_richiesta", oscura(&principale(&r)));
}

/// Two valid CFs, one with a wrong check character (line 3), a repeat of line 1 (line 4).
const TESTO: &str = "STTSGT90A01H501J\nSGGTTV60A01H501T\nSTTSGT90A01H501X\nSTTSGT90A01H501J\n";

#[tokio::test]
async fn anteprima_di_validazione_di_una_bozza() {
    let app = aiuto::avvia().await;
    let op = app.connesso("operatore.polizia").await;
    let modulo = op.get("/richieste/nuova").await;
    let segno = "<option value=\"";
    let i = modulo.corpo.find(segno).expect("nessuna convenzione") + segno.len();
    let convenzione = modulo.corpo[i..].split('"').next().unwrap().to_string();
    let token = op.csrf.lock().unwrap().clone();
    let form = reqwest::multipart::Form::new()
        .text("_csrf", token)
        .text("convenzione", convenzione)
        .text("motivo", "PROT-2026/9")
        .text("data_riferimento", "")
        .text("testo", TESTO);
    let r = op.post_multipart("/richieste/nuova", form).await;
    assert_eq!(r.stato, 303, "{}", r.corpo);
    let dettaglio = op.get(r.location().unwrap()).await;
    insta::assert_snapshot!("anteprima_bozza", oscura(&principale(&dettaglio)));
}

#[tokio::test]
async fn notifiche_vuote() {
    let app = aiuto::avvia().await;
    let r = app.connesso("operatore.asl").await.get("/notifiche").await;
    insta::assert_snapshot!("notifiche_vuote", oscura(&principale(&r)));
}
