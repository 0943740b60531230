//! Horizontal bar charts as SVG, drawn by the server: readable without JavaScript, named for
//! screen readers (`role="img"`, `<title>`, `<desc>`, `aria-labelledby`), coloured by classes of
//! `rivesto.css` (the CSP forbids inline styles). Each chart sits beside a table with the same
//! numbers; the chart is for the eye, the table for reading and for assistive technology.

use std::fmt::Write as _;

/// One series: a legend entry and the class that colours its bars (`serie-0`…`serie-4`).
pub struct Serie {
    pub nome: String,
}

/// One line of the chart: its label, one value per series, and the text written after it.
pub struct Barra {
    pub etichetta: String,
    pub valori: Vec<f64>,
    pub testo: String,
}

pub struct Grafico {
    /// Unique on the page: the ids of `<title>` and `<desc>` derive from it.
    pub id: String,
    pub titolo: String,
    pub descrizione: String,
    pub serie: Vec<Serie>,
    pub barre: Vec<Barra>,
    /// Series stacked in one bar (shares) rather than side by side.
    pub impilato: bool,
    /// The value at the right edge (e.g. 1.0 for shares); `None`: a round number at or above
    /// the largest value.
    pub massimo: Option<f64>,
    /// Counts: the grid steps are whole numbers.
    pub interi: bool,
    /// How the axis' tick values are written.
    pub formato_asse: Box<dyn Fn(f64) -> String>,
}

/// Room after the longest bar for its text (about 40 characters).
const LARGHEZZA: f64 = 900.0;
const X_BARRE: f64 = 220.0;
const LARGHEZZA_BARRE: f64 = 400.0;
const ALTEZZA_BARRA: f64 = 14.0;
const SPAZIO: f64 = 10.0;
const MARGINE_ALTO: f64 = 8.0;
const LEGENDA: f64 = 24.0;
const ASSE: f64 = 28.0;
const MAX_ETICHETTA: usize = 32;

/// `&`, `<`, `>`, `"` and `'` escaped for XML text and attributes.
pub fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The smallest of 1, 2 or 5 times a power of ten that is at least `x` (1 for nothing).
fn tondo_sopra(x: f64) -> f64 {
    if x <= 0.0 || !x.is_finite() {
        return 1.0;
    }
    let potenza = 10f64.powf(x.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * potenza)
        .find(|v| *v >= x * (1.0 - 1e-9))
        .unwrap_or(10.0 * potenza)
}

/// A long label cut with an ellipsis: the table beside the chart has it whole.
fn accorcia(s: &str) -> String {
    if s.chars().count() <= MAX_ETICHETTA {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(MAX_ETICHETTA - 1).collect();
        t.push('…');
        t
    }
}

impl Grafico {
    fn altezza_riga(&self) -> f64 {
        let barre = if self.impilato {
            1
        } else {
            self.serie.len().max(1)
        };
        barre as f64 * ALTEZZA_BARRA + SPAZIO
    }

    /// The right edge and the grid step: about four round steps over the largest value.
    fn scala(&self) -> (f64, f64) {
        if let Some(m) = self.massimo {
            return (m, m / 4.0);
        }
        let piu_grande = self
            .barre
            .iter()
            .map(|b| {
                if self.impilato {
                    b.valori.iter().sum()
                } else {
                    b.valori.iter().copied().fold(0.0, f64::max)
                }
            })
            .fold(0.0, f64::max);
        let mut passo = tondo_sopra(piu_grande / 4.0);
        if self.interi {
            passo = passo.max(1.0);
        }
        let passi = (piu_grande / passo - 1e-9).ceil().max(1.0);
        (passi * passo, passo)
    }

    fn y_inizio(&self) -> f64 {
        MARGINE_ALTO + if self.serie.len() > 1 { LEGENDA } else { 0.0 }
    }

    /// The whole `<svg>` element.
    pub fn svg(&self) -> String {
        let y0 = self.y_inizio();
        let altezza = y0 + self.barre.len() as f64 * self.altezza_riga() + ASSE;
        let mut s = String::new();
        let _ = write!(
            s,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"grafico\" role=\"img\" \
             viewBox=\"0 0 {LARGHEZZA} {altezza}\" aria-labelledby=\"{id}-titolo {id}-desc\">\
             <title id=\"{id}-titolo\">{titolo}</title><desc id=\"{id}-desc\">{desc}</desc>",
            id = xml(&self.id),
            titolo = xml(&self.titolo),
            desc = xml(&self.descrizione),
        );
        self.legenda(&mut s);
        self.asse(&mut s, y0, altezza - ASSE);
        for (i, b) in self.barre.iter().enumerate() {
            self.barra(&mut s, b, y0 + i as f64 * self.altezza_riga());
        }
        s.push_str("</svg>");
        s
    }

    fn legenda(&self, s: &mut String) {
        if self.serie.len() < 2 {
            return;
        }
        let mut x = X_BARRE;
        for (i, serie) in self.serie.iter().enumerate() {
            let _ = write!(
                s,
                "<rect class=\"serie-{i}\" x=\"{x}\" y=\"{MARGINE_ALTO}\" width=\"12\" height=\"12\"/>\
                 <text class=\"grafico-testo\" x=\"{tx}\" y=\"{ty}\">{nome}</text>",
                tx = x + 16.0,
                ty = MARGINE_ALTO + 10.0,
                nome = xml(&serie.nome),
            );
            x += 24.0 + 7.0 * serie.nome.chars().count() as f64;
        }
    }

    /// Grid lines at every step, with their values under the chart.
    fn asse(&self, s: &mut String, y0: f64, y1: f64) {
        let (massimo, passo) = self.scala();
        let passi = (massimo / passo).round() as u32;
        for q in 0..=passi {
            let valore = passo * f64::from(q);
            let x = X_BARRE + LARGHEZZA_BARRE * valore / massimo;
            let _ = write!(
                s,
                "<line class=\"grafico-griglia\" x1=\"{x:.1}\" y1=\"{y0}\" x2=\"{x:.1}\" y2=\"{y1}\"/>\
                 <text class=\"grafico-testo grafico-asse\" x=\"{x:.1}\" y=\"{ty}\" \
                 text-anchor=\"middle\">{v}</text>",
                ty = y1 + 16.0,
                v = xml(&(self.formato_asse)(valore)),
            );
        }
    }

    fn barra(&self, s: &mut String, b: &Barra, y: f64) {
        let (massimo, _) = self.scala();
        let larghezza = |v: f64| (v.max(0.0) / massimo * LARGHEZZA_BARRE).min(LARGHEZZA_BARRE);
        let centro = y + self.altezza_riga() / 2.0;
        let _ = write!(
            s,
            "<text class=\"grafico-testo\" x=\"{x}\" y=\"{ty}\" text-anchor=\"end\">{e}</text>",
            x = X_BARRE - 8.0,
            ty = centro,
            e = xml(&accorcia(&b.etichetta)),
        );
        let mut fine = X_BARRE;
        for (i, v) in b.valori.iter().enumerate() {
            let w = larghezza(*v);
            let (x, yb) = if self.impilato {
                (fine, y + SPAZIO / 2.0)
            } else {
                (X_BARRE, y + SPAZIO / 2.0 + i as f64 * ALTEZZA_BARRA)
            };
            let _ = write!(
                s,
                "<rect class=\"serie-{i}\" x=\"{x:.1}\" y=\"{yb}\" width=\"{w:.1}\" \
                 height=\"{h}\"/>",
                h = ALTEZZA_BARRA - 2.0,
            );
            fine = if self.impilato {
                x + w
            } else {
                fine.max(x + w)
            };
        }
        let _ = write!(
            s,
            "<text class=\"grafico-testo\" x=\"{x:.1}\" y=\"{ty}\">{t}</text>",
            x = fine + 6.0,
            ty = centro,
            t = xml(&b.testo),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grafico(valori: &[f64], interi: bool) -> Grafico {
        Grafico {
            id: "g1".into(),
            titolo: "t".into(),
            descrizione: "d".into(),
            serie: vec![Serie { nome: "x".into() }],
            barre: valori
                .iter()
                .map(|v| Barra {
                    etichetta: "e".into(),
                    valori: vec![*v],
                    testo: String::new(),
                })
                .collect(),
            impilato: false,
            massimo: None,
            interi,
            formato_asse: Box::new(|x| format!("{x}")),
        }
    }

    #[test]
    fn scala_tonda() {
        assert_eq!(tondo_sopra(0.0), 1.0);
        assert_eq!(tondo_sopra(7.0), 10.0);
        assert_eq!(tondo_sopra(10.0), 10.0);
        assert_eq!(tondo_sopra(12.0), 20.0);
        assert_eq!(tondo_sopra(430.0), 500.0);
        assert_eq!(tondo_sopra(0.25), 0.5);
    }

    #[test]
    fn passi_della_griglia() {
        // 2 requests: steps of 1 (never 0.5 of a request), edge 2.
        assert_eq!(grafico(&[2.0, 1.0], true).scala(), (2.0, 1.0));
        // 9 calls: a quarter is 2.25, rounded up to 5; edge 10.
        assert_eq!(grafico(&[9.0], true).scala(), (10.0, 5.0));
        // 5 rows: steps of 2, edge 6.
        assert_eq!(grafico(&[5.0, 1.0], true).scala(), (6.0, 2.0));
        // 40 minutes: steps of 10, edge 40.
        assert_eq!(grafico(&[40.0, 5.0], false).scala(), (40.0, 10.0));
        // Durations under a unit: fractional steps.
        assert_eq!(grafico(&[0.75], false).scala(), (0.8, 0.2));
        assert_eq!(grafico(&[0.0], true).scala(), (1.0, 1.0));
    }

    #[test]
    fn testo_sfuggito_ed_etichette_accorciate() {
        let mut g = grafico(&[5.0], true);
        g.titolo = "Richieste <inviate> & \"altro\"".into();
        g.barre[0].etichetta = "un'etichetta molto lunga che non entra nello spazio".into();
        g.massimo = Some(10.0);
        let svg = g.svg();
        assert!(svg.contains(
            "<title id=\"g1-titolo\">Richieste &lt;inviate&gt; &amp; &quot;altro&quot;</title>"
        ));
        assert!(svg.contains("aria-labelledby=\"g1-titolo g1-desc\""));
        // 31 characters and the ellipsis: "un'etichetta" 12, " molto" 18, " lunga" 24, " che"
        // 28, " no" 31.
        assert!(svg.contains("un&#39;etichetta molto lunga che no…"));
        // 5 of a scale of 10: half of the 400 px.
        assert!(svg.contains("width=\"200.0\""), "{svg}");
        assert!(!svg.contains("style="));
    }
}
