//! From the store's figures to what the page, the CSV and the XLSX show: one definition of the
//! columns of each breakdown, the charts with their tables, and the quota lines.

use super::formato;
use super::grafici::{Barra, Grafico, Serie};
use std::collections::BTreeMap;
use store::statistiche::{
    Cifre, DA_CONCLUDERE, Durate, FiltroStatistiche, FonteQuota, Gruppo, Periodo, Ripartizione,
    Statistiche, UsoQuota,
};

/// A cell before it is written: the page, the CSV and the XLSX each write it their own way.
#[derive(Debug, Clone, PartialEq)]
pub enum Valore {
    Testo(String),
    Intero(i64),
    /// A share (0…1); `None` when it has no denominator.
    Frazione(Option<f64>),
    /// Milliseconds; `None` when nothing was measured.
    Durata(Option<i64>),
}

impl Valore {
    /// As the page shows it.
    pub fn testo(&self) -> String {
        match self {
            Valore::Testo(s) => s.clone(),
            Valore::Intero(n) => formato::intero(*n),
            Valore::Frazione(Some(f)) => formato::percentuale(*f),
            Valore::Durata(Some(ms)) => formato::durata(*ms),
            Valore::Frazione(None) | Valore::Durata(None) => "—".into(),
        }
    }
}

/// The figures' columns, in the order they are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Colonna {
    Richieste,
    Soggetti,
    RigheConcluse,
    Trovati,
    QuotaTrovati,
    NonTrovati,
    QuotaNonTrovati,
    FuoriAmbito,
    QuotaFuoriAmbito,
    Ambigui,
    QuotaAmbigui,
    /// With the outcome breakdown: the group's rows over the period's concluded rows.
    QuotaEsito,
    Chiamate,
    AttesaMediana,
    AttesaP90,
    ElaborazioneMediana,
    ElaborazioneP90,
}

impl Colonna {
    /// The columns of a breakdown: every figure it has (module docs of `store::statistiche`).
    pub fn di(r: Ripartizione) -> Vec<Colonna> {
        use Colonna::*;
        match r {
            Ripartizione::Esito => vec![Richieste, Soggetti, QuotaEsito],
            Ripartizione::Servizio => vec![Chiamate],
            _ => vec![
                Richieste,
                Soggetti,
                RigheConcluse,
                Trovati,
                QuotaTrovati,
                NonTrovati,
                QuotaNonTrovati,
                FuoriAmbito,
                QuotaFuoriAmbito,
                Ambigui,
                QuotaAmbigui,
                Chiamate,
                AttesaMediana,
                AttesaP90,
                ElaborazioneMediana,
                ElaborazioneP90,
            ],
        }
    }

    pub fn intestazione(self, r: Ripartizione) -> &'static str {
        use Colonna::*;
        match self {
            Richieste if r == Ripartizione::Esito => "Richieste con righe con questo esito",
            Richieste => "Richieste inviate",
            Soggetti => "Soggetti (righe)",
            RigheConcluse => "Righe concluse",
            Trovati => "Trovati",
            QuotaTrovati => "% trovati",
            NonTrovati => "Non trovati",
            QuotaNonTrovati => "% non trovati",
            FuoriAmbito => "Fuori ambito",
            QuotaFuoriAmbito => "% fuori ambito",
            Ambigui => "Ambigui",
            QuotaAmbigui => "% ambigui",
            QuotaEsito => "% sulle righe concluse",
            Chiamate => "Chiamate ANPR",
            AttesaMediana => "Dall'invio alla convalida: mediana",
            AttesaP90 => "Dall'invio alla convalida: 90° percentile",
            ElaborazioneMediana => "Dalla convalida al completamento: mediana",
            ElaborazioneP90 => "Dalla convalida al completamento: 90° percentile",
        }
    }

    /// The summary table on the page leaves out the counts that a share stands for.
    pub fn in_riepilogo(self) -> bool {
        use Colonna::*;
        !matches!(self, Trovati | NonTrovati | FuoriAmbito | Ambigui)
    }

    pub fn valore(self, g: &Gruppo, c: &Cifre) -> Valore {
        use Colonna::*;
        match self {
            Richieste => Valore::Intero(c.richieste),
            Soggetti => Valore::Intero(c.soggetti),
            RigheConcluse => Valore::Intero(c.righe_concluse),
            Trovati => Valore::Intero(c.trovati),
            QuotaTrovati => Valore::Frazione(c.frazione(c.trovati)),
            NonTrovati => Valore::Intero(c.non_trovati),
            QuotaNonTrovati => Valore::Frazione(c.frazione(c.non_trovati)),
            FuoriAmbito => Valore::Intero(c.fuori_ambito),
            QuotaFuoriAmbito => Valore::Frazione(c.frazione(c.fuori_ambito)),
            Ambigui => Valore::Intero(c.ambigui),
            QuotaAmbigui => Valore::Frazione(c.frazione(c.ambigui)),
            // Rows still to conclude are not a share of the concluded ones.
            QuotaEsito if g.chiave == DA_CONCLUDERE => Valore::Frazione(None),
            QuotaEsito => Valore::Frazione(c.frazione(c.soggetti)),
            Chiamate => Valore::Intero(c.chiamate),
            AttesaMediana => Valore::Durata(c.attesa_convalida.mediana_ms),
            AttesaP90 => Valore::Durata(c.attesa_convalida.p90_ms),
            ElaborazioneMediana => Valore::Durata(c.durata_elaborazione.mediana_ms),
            ElaborazioneP90 => Valore::Durata(c.durata_elaborazione.p90_ms),
        }
    }
}

/// The group column's heading; `None` without a breakdown.
pub fn intestazione_gruppo(r: Ripartizione) -> Option<&'static str> {
    match r {
        Ripartizione::Totale => None,
        Ripartizione::Ente => Some("Ente"),
        Ripartizione::Utente => Some("Utente"),
        Ripartizione::Convenzione => Some("Convenzione"),
        Ripartizione::Esito => Some("Esito"),
        Ripartizione::Servizio => Some("Servizio ANPR"),
    }
}

/// A group as the reader sees it: outcomes in words, the rest as stored.
pub fn nome_gruppo(r: Ripartizione, g: &Gruppo) -> String {
    if r != Ripartizione::Esito {
        return g.etichetta.clone();
    }
    match g.chiave.as_str() {
        "TROVATO" => "Trovato",
        "NON_TROVATO" => "Non trovato",
        "FUORI_AMBITO" => "Fuori ambito",
        "AMBIGUO" => "Ambiguo",
        "NON_VALIDO" => "Non valido",
        "NON_SUPPORTATO" => "Non supportato",
        "ERRORE" => "Errore",
        "NON_ELABORATO" => "Non elaborato",
        DA_CONCLUDERE => "In attesa o in elaborazione",
        altro => altro,
    }
    .to_string()
}

pub fn nome_periodo(p: Periodo) -> &'static str {
    match p {
        Periodo::Giorno => "Giorno",
        Periodo::Settimana => "Settimana",
        Periodo::Mese => "Mese",
    }
}

pub fn nome_ripartizione(r: Ripartizione) -> &'static str {
    match r {
        Ripartizione::Totale => "Nessuna (totale per periodo)",
        Ripartizione::Ente => "Ente",
        Ripartizione::Utente => "Utente",
        Ripartizione::Convenzione => "Convenzione",
        Ripartizione::Esito => "Esito delle righe",
        Ripartizione::Servizio => "Servizio ANPR",
    }
}

/// A table with a caption; the first cell of each line is its header (`th scope="row"`).
pub struct Tabella {
    pub didascalia: String,
    pub intestazioni: Vec<String>,
    pub righe: Vec<Vec<String>>,
}

/// A chart and the table beside it.
pub struct GraficoVista {
    pub titolo: String,
    pub svg: String,
    pub tabella: Tabella,
}

/// The daily quota configured for each (Comune, service); a missing entry is "not configured".
pub type QuoteConfigurate = BTreeMap<i64, BTreeMap<String, i64>>;

/// Quota use as a cell: share of the calls allowed, or `None` when no quota is configured.
pub fn quota_configurata(q: &QuoteConfigurate, u: &UsoQuota) -> Option<i64> {
    q.get(&u.comune_id)?.get(&u.servizio).copied()
}

pub fn nota_quota(f: FonteQuota) -> &'static str {
    match f {
        FonteQuota::ContatoriComune => {
            "Chiamate contate dal contatore di quota del Comune: tutte quelle arrivate al gateway \
             ANPR, compresi i nuovi tentativi, per tutte le convenzioni del Comune."
        }
        FonteQuota::ChiamateAmbito => {
            "Chiamate registrate per le richieste dell'ente: la sua parte della quota giornaliera \
             del Comune."
        }
    }
}

/// Lines of a chart and of its table: the period (and group) of each figure line.
struct Linee<'a> {
    f: &'a FiltroStatistiche,
    st: &'a Statistiche,
}

impl Linee<'_> {
    fn periodo(&self, i: usize) -> String {
        formato::periodo(self.f.periodo(), &self.st.periodi[i])
    }

    /// The bar's label: the period, and the group when there is a breakdown.
    fn etichetta(&self, periodo: usize, g: &Gruppo) -> String {
        let r = self.f.ripartizione();
        match intestazione_gruppo(r) {
            None => self.periodo(periodo),
            Some(_) => format!("{} · {}", self.periodo(periodo), nome_gruppo(r, g)),
        }
    }

    /// The table's leading cells and headings: period, then the group if any.
    fn intestazioni(&self) -> Vec<String> {
        let mut v = vec![nome_periodo(self.f.periodo()).to_string()];
        v.extend(intestazione_gruppo(self.f.ripartizione()).map(String::from));
        v
    }

    fn celle_iniziali(&self, periodo: usize, g: &Gruppo) -> Vec<String> {
        let mut v = vec![self.periodo(periodo)];
        if intestazione_gruppo(self.f.ripartizione()).is_some() {
            v.push(nome_gruppo(self.f.ripartizione(), g));
        }
        v
    }

    fn intervallo(&self) -> String {
        format!(
            "dal {} al {}",
            formato::data(self.f.dal()),
            formato::data(self.f.al())
        )
    }
}

/// What a chart draws of each figure line.
#[derive(Clone, Copy)]
enum Misura {
    /// One count, one bar.
    Conteggio(fn(&Cifre) -> i64),
    /// The four outcome shares, stacked in one bar.
    Esiti,
    /// A median and a 90th percentile, side by side.
    Durate(fn(&Cifre) -> Durate),
}

/// One chart over the figure lines, and the columns of the table beside it.
struct Specifica<'a> {
    id: &'a str,
    titolo: &'a str,
    serie: &'a [&'a str],
    colonne: &'a [Colonna],
    misura: Misura,
}

fn numero_asse(x: f64) -> String {
    formato::decimale(x, if x.fract() == 0.0 { 0 } else { 1 })
}

fn percentuale_asse(x: f64) -> String {
    format!("{} %", formato::decimale(x * 100.0, 0))
}

/// Durations are drawn in minutes, or in hours when the longest is two hours or more.
fn unita_durate(l: &Linee<'_>, f: fn(&Cifre) -> Durate) -> (f64, &'static str) {
    let piu_lunga =
        l.st.voci
            .iter()
            .filter_map(|v| f(&v.cifre).p90_ms)
            .max()
            .unwrap_or(0);
    if piu_lunga >= 2 * 3_600_000 {
        (3_600_000.0, "h")
    } else {
        (60_000.0, "min")
    }
}

fn testo_durate(d: Durate) -> String {
    match (d.mediana_ms, d.p90_ms) {
        (Some(m), Some(p)) => format!("mediana {}, 90° {}", formato::durata(m), formato::durata(p)),
        _ => "nessuna".into(),
    }
}

fn barre(l: &Linee<'_>, m: Misura, unita_ms: f64) -> Vec<Barra> {
    l.st.voci
        .iter()
        .map(|v| {
            let c = &v.cifre;
            let (valori, testo) = match m {
                Misura::Conteggio(f) => (vec![f(c) as f64], formato::intero(f(c))),
                Misura::Esiti => (
                    [c.trovati, c.non_trovati, c.fuori_ambito, c.ambigui]
                        .iter()
                        .map(|n| c.frazione(*n).unwrap_or(0.0))
                        .collect(),
                    c.frazione(c.trovati)
                        .map_or("nessuna riga conclusa".into(), |f| {
                            format!("{} trovati", formato::percentuale(f))
                        }),
                ),
                Misura::Durate(f) => {
                    let d = f(c);
                    let in_unita = |ms: Option<i64>| ms.map_or(0.0, |ms| ms as f64 / unita_ms);
                    (
                        vec![in_unita(d.mediana_ms), in_unita(d.p90_ms)],
                        testo_durate(d),
                    )
                }
            };
            Barra {
                etichetta: l.etichetta(v.periodo, &v.gruppo),
                valori,
                testo,
            }
        })
        .collect()
}

fn grafico(l: &Linee<'_>, s: &Specifica<'_>) -> GraficoVista {
    let r = l.f.ripartizione();
    let (unita_ms, formato_asse, massimo): (f64, Box<dyn Fn(f64) -> String>, _) = match s.misura {
        Misura::Conteggio(_) => (1.0, Box::new(numero_asse), None),
        Misura::Esiti => (1.0, Box::new(percentuale_asse), Some(1.0)),
        Misura::Durate(f) => {
            let (ms, nome) = unita_durate(l, f);
            let asse = move |x: f64| format!("{} {nome}", numero_asse(x));
            (ms, Box::new(asse), None)
        }
    };
    let descrizione = format!(
        "Grafico a barre orizzontali, per {} {}: {}. Gli stessi valori sono nella tabella \
         accanto.",
        nome_periodo(l.f.periodo()).to_lowercase(),
        l.intervallo(),
        s.serie.join(", ").to_lowercase()
    );
    let g = Grafico {
        id: s.id.into(),
        titolo: s.titolo.into(),
        descrizione,
        serie: s
            .serie
            .iter()
            .map(|n| Serie { nome: (*n).into() })
            .collect(),
        barre: barre(l, s.misura, unita_ms),
        impilato: matches!(s.misura, Misura::Esiti),
        massimo,
        interi: matches!(s.misura, Misura::Conteggio(_)),
        formato_asse,
    };
    let mut intestazioni = l.intestazioni();
    intestazioni.extend(s.colonne.iter().map(|c| c.intestazione(r).to_string()));
    let righe =
        l.st.voci
            .iter()
            .map(|v| {
                let mut celle = l.celle_iniziali(v.periodo, &v.gruppo);
                celle.extend(
                    s.colonne
                        .iter()
                        .map(|c| c.valore(&v.gruppo, &v.cifre).testo()),
                );
                celle
            })
            .collect();
    GraficoVista {
        titolo: s.titolo.into(),
        svg: g.svg(),
        tabella: Tabella {
            didascalia: format!("{} {}", s.titolo, l.intervallo()),
            intestazioni,
            righe,
        },
    }
}

/// Whether a breakdown has a chart's figure.
type Mostra = fn(Ripartizione) -> bool;

/// Every chart, with the breakdowns that have its figure.
const GRAFICI: [(Mostra, Specifica<'static>); 7] = {
    use Colonna::*;
    [
        (
            Ripartizione::per_richiesta,
            Specifica {
                id: "grafico-richieste",
                titolo: "Richieste inviate",
                serie: &["Richieste"],
                colonne: &[Richieste],
                misura: Misura::Conteggio(|c| c.richieste),
            },
        ),
        (
            |r| r.con_esiti() && r != Ripartizione::Esito,
            Specifica {
                id: "grafico-soggetti",
                titolo: "Soggetti (righe)",
                serie: &["Soggetti"],
                colonne: &[Soggetti, RigheConcluse],
                misura: Misura::Conteggio(|c| c.soggetti),
            },
        ),
        (
            |r| r == Ripartizione::Esito,
            Specifica {
                id: "grafico-soggetti",
                titolo: "Soggetti (righe)",
                serie: &["Soggetti"],
                colonne: &[Soggetti, QuotaEsito],
                misura: Misura::Conteggio(|c| c.soggetti),
            },
        ),
        (
            Ripartizione::con_chiamate,
            Specifica {
                id: "grafico-chiamate",
                titolo: "Chiamate ANPR",
                serie: &["Chiamate"],
                colonne: &[Chiamate],
                misura: Misura::Conteggio(|c| c.chiamate),
            },
        ),
        (
            Ripartizione::per_richiesta,
            Specifica {
                id: "grafico-esiti",
                titolo: "Esiti delle righe concluse",
                serie: &["Trovati", "Non trovati", "Fuori ambito", "Ambigui"],
                colonne: &[
                    RigheConcluse,
                    QuotaTrovati,
                    QuotaNonTrovati,
                    QuotaFuoriAmbito,
                    QuotaAmbigui,
                ],
                misura: Misura::Esiti,
            },
        ),
        (
            Ripartizione::per_richiesta,
            Specifica {
                id: "grafico-attesa",
                titolo: "Tempo dall'invio alla convalida",
                serie: &["Mediana", "90° percentile"],
                colonne: &[AttesaMediana, AttesaP90],
                misura: Misura::Durate(|c| c.attesa_convalida),
            },
        ),
        (
            Ripartizione::per_richiesta,
            Specifica {
                id: "grafico-elaborazione",
                titolo: "Tempo dalla convalida al completamento",
                serie: &["Mediana", "90° percentile"],
                colonne: &[ElaborazioneMediana, ElaborazioneP90],
                misura: Misura::Durate(|c| c.durata_elaborazione),
            },
        ),
    ]
};

/// The charts of the figures a breakdown has (quota use apart: see [`grafico_quota`]).
pub fn grafici(f: &FiltroStatistiche, st: &Statistiche) -> Vec<GraficoVista> {
    let l = Linee { f, st };
    GRAFICI
        .iter()
        .filter(|(mostra, _)| mostra(f.ripartizione()))
        .map(|(_, s)| grafico(&l, s))
        .collect()
}

/// The summary over the whole filter, per group: every column of the breakdown but the
/// counts behind the shares.
pub fn riepilogo(f: &FiltroStatistiche, st: &Statistiche) -> Tabella {
    let r = f.ripartizione();
    let colonne: Vec<Colonna> = Colonna::di(r)
        .into_iter()
        .filter(|c| c.in_riepilogo())
        .collect();
    let mut intestazioni = vec![intestazione_gruppo(r).unwrap_or("Intervallo").to_string()];
    intestazioni.extend(colonne.iter().map(|c| c.intestazione(r).to_string()));
    let righe = st
        .totali
        .iter()
        .map(|(g, c)| {
            let mut celle = vec![match intestazione_gruppo(r) {
                Some(_) => nome_gruppo(r, g),
                None => "Totale".into(),
            }];
            celle.extend(colonne.iter().map(|col| col.valore(g, c).testo()));
            celle
        })
        .collect();
    Tabella {
        didascalia: format!(
            "Riepilogo dal {} al {}",
            formato::data(f.dal()),
            formato::data(f.al())
        ),
        intestazioni,
        righe,
    }
}

/// One quota line: the cells of the page and of the exports.
pub struct LineaQuota<'a> {
    pub uso: &'a UsoQuota,
    pub quota_giornaliera: Option<i64>,
}

impl LineaQuota<'_> {
    pub fn frazione(&self) -> Option<f64> {
        self.quota_giornaliera.and_then(|q| self.uso.frazione(q))
    }

    /// After the bar: the calls against those allowed, then the share.
    pub fn testo_barra(&self) -> String {
        match self.quota_giornaliera {
            Some(q) => format!(
                "{} su {} ({})",
                formato::intero(self.uso.usate),
                formato::intero(self.uso.disponibili(q)),
                self.testo_uso()
            ),
            None => format!(
                "{} chiamate, quota non configurata",
                formato::intero(self.uso.usate)
            ),
        }
    }

    pub fn testo_uso(&self) -> String {
        match (self.quota_giornaliera, self.frazione()) {
            (None, _) => "quota non configurata".into(),
            (Some(_), Some(f)) => formato::percentuale(f),
            (Some(_), None) => "quota 0: nessuna chiamata consentita".into(),
        }
    }
}

pub fn linee_quota<'a>(st: &'a Statistiche, q: &QuoteConfigurate) -> Vec<LineaQuota<'a>> {
    st.quote
        .iter()
        .map(|uso| LineaQuota {
            uso,
            quota_giornaliera: quota_configurata(q, uso),
        })
        .collect()
}

/// The quota lines' table: period, Comune (when the scope spans several), service, calls,
/// daily quota, calls allowed in the period, use.
fn tabella_quota(
    f: &FiltroStatistiche,
    st: &Statistiche,
    linee: &[LineaQuota<'_>],
    piu_comuni: bool,
    intervallo: &str,
) -> Tabella {
    let mut intestazioni = vec![nome_periodo(f.periodo()).to_string()];
    if piu_comuni {
        intestazioni.push("Comune".into());
    }
    intestazioni.extend(
        [
            "Servizio ANPR",
            "Chiamate",
            "Quota giornaliera",
            "Consentite nel periodo",
            "Uso",
        ]
        .map(String::from),
    );
    let righe = linee
        .iter()
        .map(|l| {
            let mut celle = vec![formato::periodo(f.periodo(), &st.periodi[l.uso.periodo])];
            if piu_comuni {
                celle.push(l.uso.comune.clone());
            }
            celle.push(l.uso.servizio.clone());
            celle.push(formato::intero(l.uso.usate));
            celle.push(
                l.quota_giornaliera
                    .map_or("non configurata".into(), formato::intero),
            );
            celle.push(
                l.quota_giornaliera
                    .map_or("—".into(), |q| formato::intero(l.uso.disponibili(q))),
            );
            celle.push(l.testo_uso());
            celle
        })
        .collect();
    Tabella {
        didascalia: format!("Uso della quota giornaliera {intervallo}"),
        intestazioni,
        righe,
    }
}

/// The quota chart: the share of the allowed calls used, per period and service (and Comune,
/// when the scope spans several); `None` without calls.
pub fn grafico_quota(
    f: &FiltroStatistiche,
    st: &Statistiche,
    q: &QuoteConfigurate,
) -> Option<GraficoVista> {
    let linee = linee_quota(st, q);
    let prima = linee.first()?.uso.comune_id;
    let piu_comuni = linee.iter().any(|l| l.uso.comune_id != prima);
    let nome = |l: &LineaQuota<'_>| {
        let p = formato::periodo(f.periodo(), &st.periodi[l.uso.periodo]);
        match piu_comuni {
            true => format!("{p} · {} · {}", l.uso.comune, l.uso.servizio),
            false => format!("{p} · {}", l.uso.servizio),
        }
    };
    let intervallo = format!(
        "dal {} al {}",
        formato::data(f.dal()),
        formato::data(f.al())
    );
    let g = Grafico {
        id: "grafico-quota".into(),
        titolo: "Uso della quota giornaliera".into(),
        descrizione: format!(
            "Grafico a barre orizzontali, per {} {}: chiamate usate sul totale consentito dalla \
             quota giornaliera nei giorni del periodo. Gli stessi valori sono nella tabella accanto.",
            nome_periodo(f.periodo()).to_lowercase(),
            intervallo
        ),
        serie: vec![Serie { nome: "Uso".into() }],
        barre: linee
            .iter()
            .map(|l| Barra {
                etichetta: nome(l),
                valori: vec![l.frazione().unwrap_or(0.0)],
                testo: l.testo_barra(),
            })
            .collect(),
        impilato: false,
        // A share over 100 % (a quota lowered after the calls) still fits.
        massimo: Some(
            linee
                .iter()
                .filter_map(LineaQuota::frazione)
                .fold(1.0, f64::max),
        ),
        interi: false,
        formato_asse: Box::new(percentuale_asse),
    };
    Some(GraficoVista {
        titolo: "Uso della quota giornaliera".into(),
        svg: g.svg(),
        tabella: tabella_quota(f, st, &linee, piu_comuni, &intervallo),
    })
}
