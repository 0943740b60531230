//! The exports of a filtered view: CSV (the figures, or the quota lines with `tabella=quota`)
//! and XLSX (both, one sheet each). Same columns as the page; numbers as numbers, shares as
//! percentages, durations in seconds. The CSV is what Italian spreadsheets open directly: UTF-8
//! with BOM, `;`, CRLF, decimal comma. Text cells that a spreadsheet could take for a formula
//! get the usual quote prefix (DESIGN §5).

use super::formato;
use super::vista::{Colonna, LineaQuota, Valore, intestazione_gruppo, nome_gruppo};
use crate::ErroreWeb;
use files::output::cella::{da_neutralizzare, neutralizza};
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, Worksheet, XlsxError};
use store::statistiche::{Cifre, FiltroStatistiche, Gruppo, Statistiche};

/// A table to export: headings and lines of cells.
pub struct Foglio {
    pub intestazioni: Vec<String>,
    pub righe: Vec<Vec<Valore>>,
}

/// The label of the lines that add up the whole filter.
const INTERVALLO: &str = "Intero intervallo";

fn intestazioni_periodo(f: &FiltroStatistiche) -> Vec<String> {
    let mut v: Vec<String> = ["Periodo", "Dal", "Al"].map(String::from).into();
    v.extend(intestazione_gruppo(f.ripartizione()).map(String::from));
    v
}

fn riga_cifre(f: &FiltroStatistiche, inizio: [String; 3], g: &Gruppo, c: &Cifre) -> Vec<Valore> {
    let r = f.ripartizione();
    let mut v: Vec<Valore> = inizio.into_iter().map(Valore::Testo).collect();
    if intestazione_gruppo(r).is_some() {
        v.push(Valore::Testo(nome_gruppo(r, g)));
    }
    v.extend(Colonna::di(r).into_iter().map(|col| col.valore(g, c)));
    v
}

/// The figures: one line per period and group, then the whole filter's lines.
pub fn foglio_cifre(f: &FiltroStatistiche, st: &Statistiche) -> Foglio {
    let r = f.ripartizione();
    let mut intestazioni = intestazioni_periodo(f);
    let colonne = Colonna::di(r);
    intestazioni.extend(colonne.iter().map(|c| match c {
        // Seconds in the exports: a number a spreadsheet can add up.
        Colonna::AttesaMediana
        | Colonna::AttesaP90
        | Colonna::ElaborazioneMediana
        | Colonna::ElaborazioneP90 => format!("{} (secondi)", c.intestazione(r)),
        _ => c.intestazione(r).to_string(),
    }));
    let mut righe = Vec::new();
    for v in &st.voci {
        let p = &st.periodi[v.periodo];
        let inizio = [
            formato::periodo(f.periodo(), p),
            formato::data(p.dal),
            formato::data(p.al),
        ];
        righe.push(riga_cifre(f, inizio, &v.gruppo, &v.cifre));
    }
    for (g, c) in &st.totali {
        let inizio = [
            INTERVALLO.to_string(),
            formato::data(f.dal()),
            formato::data(f.al()),
        ];
        righe.push(riga_cifre(f, inizio, g, c));
    }
    Foglio {
        intestazioni,
        righe,
    }
}

/// The quota lines.
pub fn foglio_quota(f: &FiltroStatistiche, st: &Statistiche, linee: &[LineaQuota<'_>]) -> Foglio {
    let intestazioni = [
        "Periodo",
        "Dal",
        "Al",
        "Comune",
        "Servizio ANPR",
        "Chiamate",
        "Quota giornaliera",
        "Consentite nel periodo",
        "Uso",
    ]
    .map(String::from)
    .into();
    let righe = linee
        .iter()
        .map(|l| {
            let p = &st.periodi[l.uso.periodo];
            vec![
                Valore::Testo(formato::periodo(f.periodo(), p)),
                Valore::Testo(formato::data(p.dal)),
                Valore::Testo(formato::data(p.al)),
                Valore::Testo(l.uso.comune.clone()),
                Valore::Testo(l.uso.servizio.clone()),
                Valore::Intero(l.uso.usate),
                l.quota_giornaliera
                    .map_or(Valore::Testo("non configurata".into()), Valore::Intero),
                l.quota_giornaliera
                    .map_or(Valore::Testo(String::new()), |q| {
                        Valore::Intero(l.uso.disponibili(q))
                    }),
                Valore::Frazione(l.frazione()),
            ]
        })
        .collect();
    Foglio {
        intestazioni,
        righe,
    }
}

/// A CSV field: neutralised, and quoted when it holds `;`, `"` or a line break.
fn campo(s: &str) -> String {
    let s = neutralizza(s);
    if s.contains([';', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.into_owned()
    }
}

fn cella_csv(v: &Valore) -> String {
    match v {
        Valore::Testo(s) => campo(s),
        Valore::Intero(n) => n.to_string(),
        // Percent with a decimal comma and no thousands dots: what an Italian spreadsheet reads.
        Valore::Frazione(Some(f)) => formato::decimale(f * 100.0, 1).replace('.', ""),
        Valore::Durata(Some(ms)) => (ms / 1_000).to_string(),
        Valore::Frazione(None) | Valore::Durata(None) => String::new(),
    }
}

pub fn csv(foglio: &Foglio) -> Vec<u8> {
    let mut out = String::from("\u{feff}");
    let percentuali: Vec<bool> = foglio
        .righe
        .first()
        .map(|r| r.iter().map(|v| matches!(v, Valore::Frazione(_))).collect())
        .unwrap_or_default();
    let intestazioni: Vec<String> = foglio
        .intestazioni
        .iter()
        .enumerate()
        .map(|(i, h)| match percentuali.get(i) {
            Some(true) if !h.starts_with('%') => campo(&format!("{h} (%)")),
            _ => campo(h),
        })
        .collect();
    out.push_str(&intestazioni.join(";"));
    out.push_str("\r\n");
    for r in &foglio.righe {
        let celle: Vec<String> = r.iter().map(cella_csv).collect();
        out.push_str(&celle.join(";"));
        out.push_str("\r\n");
    }
    out.into_bytes()
}

/// Writes one sheet: headings in bold, then the lines; shares as `0.0%`, durations in seconds.
fn scrivi_foglio(ws: &mut Worksheet, foglio: &Foglio) -> Result<(), XlsxError> {
    let grassetto = Format::new().set_bold();
    let percento = Format::new().set_num_format("0.0%");
    let prefisso = Format::new().set_quote_prefix();
    for (c, h) in foglio.intestazioni.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, h, &grassetto)?;
    }
    for (i, riga) in foglio.righe.iter().enumerate() {
        let r = i as u32 + 1;
        for (c, v) in riga.iter().enumerate() {
            let c = c as u16;
            match v {
                Valore::Testo(s) if da_neutralizzare(s) => {
                    ws.write_string_with_format(r, c, s, &prefisso)?;
                }
                Valore::Testo(s) => {
                    ws.write_string(r, c, s)?;
                }
                Valore::Intero(n) => {
                    ws.write_number(r, c, *n as f64)?;
                }
                Valore::Frazione(Some(f)) => {
                    ws.write_number_with_format(r, c, *f, &percento)?;
                }
                Valore::Durata(Some(ms)) => {
                    ws.write_number(r, c, (*ms / 1_000) as f64)?;
                }
                Valore::Frazione(None) | Valore::Durata(None) => {}
            }
        }
    }
    Ok(())
}

/// The workbook: "Statistiche" and "Quota". Fixed document properties (author, title, a
/// fixed creation date) make the same view give the same bytes; rows go straight to a temp
/// file (constant memory), not to a table in memory.
pub fn xlsx(cifre: &Foglio, quota: &Foglio) -> Result<Vec<u8>, ErroreWeb> {
    let errore = |e: XlsxError| ErroreWeb::interno(format!("esportazione XLSX: {e}"));
    let data = ExcelDateTime::from_ymd(2000, 1, 1).map_err(errore)?;
    let proprieta = DocProperties::new()
        .set_creation_datetime(&data)
        .set_author("Rivesto")
        .set_title("Statistiche");
    let mut libro = Workbook::new();
    libro.set_properties(&proprieta);
    for (nome, foglio) in [("Statistiche", cifre), ("Quota", quota)] {
        let ws = libro
            .add_worksheet_with_constant_memory()
            .map_err(errore)?
            .set_name(nome)
            .map_err(errore)?;
        scrivi_foglio(ws, foglio).map_err(errore)?;
    }
    libro.save_to_buffer().map_err(errore)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn campi_csv() {
        assert_eq!(campo("mario.rossi"), "mario.rossi");
        assert_eq!(campo("a;b"), "\"a;b\"");
        assert_eq!(campo("di \"x\""), "\"di \"\"x\"\"\"");
        assert_eq!(campo("=SOMMA(A1)"), "'=SOMMA(A1)");
        assert_eq!(cella_csv(&Valore::Frazione(Some(4.0 / 9.0))), "44,4");
        assert_eq!(cella_csv(&Valore::Frazione(Some(12.345))), "1234,5");
        assert_eq!(cella_csv(&Valore::Durata(Some(7_200_999))), "7200");
        assert_eq!(cella_csv(&Valore::Durata(None)), "");
    }
}
