//! Signing in through the real pages: password, the change of password after a reset code, the
//! TOTP enrolment (the key read from the page, the code computed as an authenticator app
//! would) and the TOTP code at the next sign-in; signing out.

use super::Prova;

/// The base32 key of the enrolment page: the line of the main text made of groups of base32
/// letters that decode to a 20-byte secret.
fn chiave_totp(testo: &str) -> Option<Vec<u8>> {
    testo.lines().find_map(|riga| {
        let riga = riga.trim();
        let gruppi: Vec<&str> = riga.split_whitespace().collect();
        if gruppi.len() < 2 || gruppi.iter().any(|g| g.len() > 4) {
            return None;
        }
        let unito: String = gruppi.concat();
        if unito.len() != 32
            || !unito
                .bytes()
                .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b))
        {
            return None;
        }
        data_encoding::BASE32_NOPAD.decode(unito.as_bytes()).ok()
    })
}

/// The one-time access code an administrator is shown (`XXXX-XXXX-XXXX-XXXX`).
pub fn codice_di_accesso(testo: &str) -> Option<String> {
    testo
        .split(|c: char| c.is_whitespace() || c == '«' || c == '»')
        .find(|t| {
            let g: Vec<&str> = t.split('-').collect();
            g.len() == 4
                && g.iter().all(|x| {
                    x.len() == 4
                        && x.bytes()
                            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
                })
        })
        .map(str::to_string)
}

impl Prova {
    /// The TOTP code the user's app would show now (the app's clock).
    fn codice_totp(&self, username: &str) -> String {
        let segreto = self
            .totp
            .get(username)
            .unwrap_or_else(|| panic!("nessun TOTP iscritto per {username}"));
        let passo = web::auth::totp::passo(self.app.stato.adesso_ms());
        format!("{:06}", web::auth::totp::codice(segreto, passo))
    }

    /// Signs in as `username` with `password` through the pages, going through every step the
    /// app asks for: a new password (`nuova_password`, when `password` is a reset code), the
    /// TOTP enrolment or the TOTP code. Ends on the home page.
    pub async fn accedi(&mut self, username: &str, password: &str, nuova_password: Option<&str>) {
        self.vai("/").await;
        assert!(
            self.c_e("form[action=\"/accedi\"]").await,
            "modulo di accesso assente: {}",
            self.testo_principale().await
        );
        self.scrivi("form[action=\"/accedi\"]", "username", username)
            .await;
        self.scrivi("form[action=\"/accedi\"]", "password", password)
            .await;
        self.invia("/accedi").await;
        for _ in 0..5 {
            if self.c_e("form[action=\"/accedi/password\"]").await {
                let nuova = nuova_password
                    .unwrap_or_else(|| panic!("{username}: nuova password richiesta"));
                let f = "form[action=\"/accedi/password\"]";
                self.scrivi(f, "nuova", nuova).await;
                self.scrivi(f, "conferma", nuova).await;
                self.invia("/accedi/password").await;
            } else if self.c_e("form[action=\"/accedi/totp/iscrizione\"]").await {
                let testo = self.testo_principale().await;
                assert!(
                    testo.contains("Attivi l'autenticazione a due fattori"),
                    "{testo}"
                );
                assert!(
                    !testo.contains("Salta (solo ambiente demo)"),
                    "non è una demo"
                );
                // The QR code is there for the phone.
                assert!(self.c_e("img[src=\"/totp/qr.svg\"]").await);
                let segreto = chiave_totp(&testo)
                    .unwrap_or_else(|| panic!("chiave TOTP non trovata nella pagina:\n{testo}"));
                self.totp.insert(username.to_string(), segreto);
                let codice = self.codice_totp(username);
                let f = "form[action=\"/accedi/totp/iscrizione\"]";
                self.scrivi(f, "codice", &codice).await;
                self.invia("/accedi/totp/iscrizione").await;
            } else if self.c_e("form[action=\"/accedi/totp\"]").await {
                // A code is accepted once: the app shows the next one 30 seconds later.
                self.app.orologio.avanza_ms(web::auth::totp::PASSO_MS);
                let codice = self.codice_totp(username);
                let f = "form[action=\"/accedi/totp\"]";
                self.scrivi(f, "codice", &codice).await;
                self.invia("/accedi/totp").await;
            } else if self.c_e("form[action=\"/esci\"]").await {
                let intestazione = self.js("return document.body.innerText").await;
                assert!(
                    intestazione.as_str().unwrap_or_default().contains(username),
                    "utente connesso non mostrato"
                );
                return;
            } else {
                panic!(
                    "{username}: pagina inattesa durante l'accesso ({}):\n{}",
                    self.percorso().await,
                    self.testo_principale().await
                );
            }
        }
        panic!("{username}: accesso non concluso");
    }

    /// Signs out with the header's «Esci» and checks the sign-in form is back.
    pub async fn esci(&mut self) {
        self.invia("/esci").await;
        assert!(
            self.c_e("form[action=\"/accedi\"]").await,
            "dopo l'uscita: {}",
            self.testo_principale().await
        );
        assert!(!self.c_e("form[action=\"/esci\"]").await);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accesso_con_totp_e_uscita() {
    let Some(mut p) = Prova::avvia("accesso_con_totp_e_uscita").await else {
        return;
    };
    let password = p.app.password("top.roma");

    // A wrong password: the form again, with the reason.
    p.vai("/").await;
    p.scrivi("form[action=\"/accedi\"]", "username", "top.roma")
        .await;
    p.scrivi("form[action=\"/accedi\"]", "password", "non è questa")
        .await;
    p.invia("/accedi").await;
    assert!(
        p.testo_principale()
            .await
            .contains("Nome utente o password non corretti."),
        "{}",
        p.testo_principale().await
    );

    // First sign-in of a TOP: the TOTP must be enrolled.
    p.accedi("top.roma", &password, None).await;
    p.vai("/profilo").await;
    assert!(p.testo_principale().await.contains("LoA2"));
    p.esci().await;

    // Next sign-in: the code of the app.
    p.accedi("top.roma", &password, None).await;
    p.vai("/profilo").await;
    let testo = p.testo_principale().await;
    assert!(testo.contains("LoA2"), "{testo}");
    // After signing out, the pages ask to sign in again.
    p.esci().await;
    p.vai("/profilo").await;
    assert!(
        p.c_e("form[action=\"/accedi\"]").await,
        "{}",
        p.testo_principale().await
    );
    p.fine().await;
}

#[test]
fn chiave_e_codice_dal_testo() {
    let k = chiave_totp("Chiave:\nABCD EFGH IJKL MNOP QRST UVWX YZ23 4567\naltro").unwrap();
    assert_eq!(k.len(), 20);
    assert_eq!(
        codice_di_accesso("Codice: ABCD-EFGH-JKLM-2345 fine").as_deref(),
        Some("ABCD-EFGH-JKLM-2345")
    );
}
