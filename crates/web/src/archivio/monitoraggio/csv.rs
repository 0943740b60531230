//! The CSV export of a filtered view: `;` separated, UTF-8 with BOM and CRLF (what Excel opens
//! as is, like the result files), a header row, cells that a spreadsheet could read as a formula
//! neutralised (DESIGN §5).

use axum::http::header;
use axum::response::{IntoResponse, Response};
use files::output::cella::neutralizza;

pub struct Csv {
    testo: String,
}

impl Csv {
    pub fn nuovo(intestazione: &[&str]) -> Csv {
        let mut c = Csv {
            testo: String::from("\u{feff}"),
        };
        c.riga(intestazione.iter().copied());
        c
    }

    pub fn riga<'a>(&mut self, celle: impl IntoIterator<Item = &'a str>) {
        for (i, cella) in celle.into_iter().enumerate() {
            if i > 0 {
                self.testo.push(';');
            }
            self.testo.push_str(&cella_csv(cella));
        }
        self.testo.push_str("\r\n");
    }

    /// The file as an attachment named `nome`; never stored by caches.
    pub fn risposta(self, nome: &str) -> Response {
        (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{nome}\""),
                ),
                (header::CACHE_CONTROL, "no-store".to_string()),
            ],
            self.testo,
        )
            .into_response()
    }
}

/// One cell: neutralised, then quoted when it holds the separator, a quote or a line break.
fn cella_csv(s: &str) -> String {
    let s = neutralizza(s);
    if s.contains([';', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.into_owned()
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn celle_quotate_e_neutralizzate() {
        let mut c = Csv::nuovo(&["a", "b"]);
        c.riga(["x;y", "=SOMMA(A1)"]);
        c.riga(["di \"lui\"", "riga\nnuova"]);
        assert_eq!(
            c.testo,
            "\u{feff}a;b\r\n\"x;y\";'=SOMMA(A1)\r\n\"di \"\"lui\"\"\";\"riga\nnuova\"\r\n"
        );
    }
}
