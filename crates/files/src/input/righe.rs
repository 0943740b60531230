//! From records to rows: header, columns, identifier validation and duplicates (DESIGN §3, §5).

use chrono::NaiveDate;
use domain::cf::{CodiceFiscale, ErroreCf};
use domain::documenti::{
    CartaIdentita, ErroreDocumento, ErroreQuestura, Passaporto, PermessoSoggiorno, Questura,
};
use domain::id_anpr::{ErroreIdAnpr, IdAnpr};
use domain::luoghi;
use domain::tipo::TipoIdentificativo;
use serde::Serialize;

use super::duplicati::Impronte;
use super::rapporto::Rapporto;
use super::record::{Campo, MAX_COLONNE, Record};
use super::{Limiti, RifiutoFile};

/// `riferimento` is echoed in the output, so it has a length of its own (DESIGN §5).
pub const MAX_RIFERIMENTO: usize = 64;

const COLONNE: [&str; 5] = [
    "tipo",
    "identificativo",
    "riferimento",
    "rilascio",
    "motivo",
];

/// One data row, as the submission and `input check` see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RigaAnalizzata {
    /// Physical line where the record starts (CSV) or sheet row (XLSX), 1-based.
    pub riga: u64,
    /// Stated, named by the header, or inferred; `None` when it could not be told.
    pub tipo: Option<TipoIdentificativo>,
    /// Normalised when the row is valid, otherwise as written (trimmed).
    pub identificativo: String,
    pub riferimento: Option<String>,
    pub rilascio: Option<Rilascio>,
    pub motivo: Option<String>,
    pub esito: EsitoRiga,
    pub avvisi: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Rilascio {
    /// The Comune that issued a carta d'identità, resolved through the table of comuni.
    Comune { istat: String, nome: String },
    /// The questura that issued a permesso di soggiorno, normalised.
    Questura(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum EsitoRiga {
    Valida,
    /// Same kind, identifier, rilascio and motivo as the valid row at line `di` (DESIGN §3).
    Duplicata {
        di: u64,
    },
    NonValida(#[serde(serialize_with = "come_testo")] ErroreRiga),
}

fn come_testo<S: serde::Serializer>(e: &ErroreRiga, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(e)
}

/// Why a row is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErroreRiga {
    #[error("virgolette aperte e mai chiuse: il campo prosegue fino alla fine del file")]
    VirgoletteAperte,
    #[error("troppe colonne: più di {MAX_COLONNE}")]
    TroppeColonne,
    #[error("campo {colonna} troppo lungo: più di {massimo} caratteri")]
    CampoTroppoLungo {
        colonna: &'static str,
        massimo: usize,
    },
    #[error("la riga usa {trovato} come separatore, ma il file usa {atteso}")]
    SeparatoreDiverso {
        trovato: &'static str,
        atteso: &'static str,
    },
    #[error("l'intestazione non ha la colonna identificativo")]
    SenzaColonnaIdentificativo,
    #[error("riferimento troppo lungo: {trovati} caratteri, al massimo {MAX_RIFERIMENTO}")]
    RiferimentoTroppoLungo { trovati: usize },
    #[error("tipo mancante: indicare CF, IDANPR, CI, PDS o PASS")]
    TipoMancante,
    #[error("tipo sconosciuto \"{tipo}\": indicare CF, IDANPR, CI, PDS o PASS")]
    TipoSconosciuto { tipo: String },
    #[error("identificativo mancante")]
    IdentificativoMancante,
    #[error(
        "\"{valore}\" non è un codice fiscale né un ID ANPR: aggiungere la colonna tipo per indicare che cosa è"
    )]
    NonRiconosciuto { valore: String },
    #[error("codice fiscale non valido: {0}")]
    Cf(#[from] ErroreCf),
    #[error("ID ANPR non valido: {0}")]
    IdAnpr(#[from] ErroreIdAnpr),
    #[error("{0}")]
    Documento(#[from] ErroreDocumento),
    #[error("{0}")]
    Questura(#[from] ErroreQuestura),
    #[error("comune di rilascio sconosciuto: \"{valore}\"")]
    ComuneSconosciuto { valore: String },
    #[error(
        "comune di rilascio ambiguo: \"{valore}\" può essere {candidati}; indicare il codice ISTAT o la provincia tra parentesi"
    )]
    ComuneAmbiguo { valore: String, candidati: String },
}

impl ErroreRiga {
    /// The column of the tracciato the error is about (`tipo`, `identificativo`,
    /// `riferimento`, `rilascio`, `motivo`), or `intera riga` for the row's shape.
    pub fn campo(&self) -> &'static str {
        match self {
            ErroreRiga::VirgoletteAperte
            | ErroreRiga::TroppeColonne
            | ErroreRiga::SeparatoreDiverso { .. } => "intera riga",
            ErroreRiga::CampoTroppoLungo { colonna, .. } => colonna,
            ErroreRiga::SenzaColonnaIdentificativo
            | ErroreRiga::IdentificativoMancante
            | ErroreRiga::NonRiconosciuto { .. }
            | ErroreRiga::Cf(_)
            | ErroreRiga::IdAnpr(_)
            | ErroreRiga::Documento(_) => "identificativo",
            ErroreRiga::RiferimentoTroppoLungo { .. } => "riferimento",
            ErroreRiga::TipoMancante | ErroreRiga::TipoSconosciuto { .. } => "tipo",
            ErroreRiga::Questura(_)
            | ErroreRiga::ComuneSconosciuto { .. }
            | ErroreRiga::ComuneAmbiguo { .. } => "rilascio",
        }
    }
}

/// Where each column of the tracciato is, decided by the first non-blank record.
#[derive(Debug, Clone, Copy, Default)]
struct Disposizione {
    tipo: Option<usize>,
    /// The kind a single-column header names (`cf`, `ci`, …) for every row.
    tipo_fisso: Option<TipoIdentificativo>,
    identificativo: Option<usize>,
    riferimento: Option<usize>,
    rilascio: Option<usize>,
    motivo: Option<usize>,
    /// Headerless files only: columns past the fifth, ignored with a warning once.
    posizionale: bool,
}

impl Disposizione {
    fn posizionale() -> Self {
        Disposizione {
            tipo: Some(0),
            identificativo: Some(1),
            riferimento: Some(2),
            rilascio: Some(3),
            motivo: Some(4),
            posizionale: true,
            ..Default::default()
        }
    }

    fn colonna_singola(tipo_fisso: Option<TipoIdentificativo>) -> Self {
        Disposizione {
            identificativo: Some(0),
            tipo_fisso,
            ..Default::default()
        }
    }

    /// Builds the layout from a header; returns the warnings to report on the header's line.
    fn da_intestazione(campi: &[Campo]) -> (Self, Vec<String>) {
        let mut d = Disposizione::default();
        let mut avvisi = Vec::new();
        let mut per_tipo = None;
        for (i, campo) in campi.iter().enumerate() {
            let nome = nome_colonna(&campo.testo);
            if nome.is_empty() {
                continue;
            }
            let posto = match nome.as_str() {
                "tipo" => Some(&mut d.tipo),
                "identificativo" => Some(&mut d.identificativo),
                "riferimento" => Some(&mut d.riferimento),
                "rilascio" => Some(&mut d.rilascio),
                "motivo" => Some(&mut d.motivo),
                _ => None,
            };
            match posto {
                Some(posto @ None) => *posto = Some(i),
                Some(Some(_)) => avvisi.push(format!("colonna \"{nome}\" ripetuta: ignorata")),
                None => match TipoIdentificativo::parse(&nome) {
                    Some(tipo) if per_tipo.is_none() => per_tipo = Some((i, tipo)),
                    _ => avvisi.push(format!(
                        "colonna \"{}\" sconosciuta: ignorata",
                        campo.testo.trim()
                    )),
                },
            }
        }
        if let Some((i, tipo)) = per_tipo {
            if d.identificativo.is_none() {
                d.identificativo = Some(i);
                d.tipo_fisso = Some(tipo);
            } else {
                let testo = campi[i].testo.trim();
                avvisi.push(format!("colonna \"{testo}\" sconosciuta: ignorata"));
            }
        }
        (d, avvisi)
    }
}

fn nome_colonna(testo: &str) -> String {
    testo.trim_start_matches('\u{feff}').trim().to_lowercase()
}

/// Is the first non-blank record a header? In a file with several columns, only the column
/// names can tell, because a data row's first cell is itself a kind (`CF`). A single value is
/// a header when it is a column name or names a kind.
fn intestazione(rec: &Record, colonna_singola: bool) -> bool {
    let nomi = || rec.campi.iter().map(|c| nome_colonna(&c.testo));
    nomi().any(|n| COLONNE.contains(&n.as_str()))
        || (colonna_singola && nomi().any(|n| TipoIdentificativo::parse(&n).is_some()))
}

pub(crate) struct Interprete<F> {
    limiti: Limiti,
    data_riferimento: NaiveDate,
    separatore: Option<u8>,
    disposizione: Option<Disposizione>,
    righe_dati: u64,
    colonne_extra_segnalate: bool,
    impronte: Impronte,
    pub(crate) rapporto: Rapporto,
    visita: F,
}

impl<F: FnMut(RigaAnalizzata)> Interprete<F> {
    pub(crate) fn new(
        limiti: Limiti,
        data_riferimento: NaiveDate,
        separatore: Option<u8>,
        rapporto: Rapporto,
        visita: F,
        righe_stimate: u64,
    ) -> Self {
        // The duplicate table sized once for the rows the file can hold (its lines, at most
        // the limit): growing it near the end of a big file would briefly hold it twice.
        let capacita = righe_stimate.min(limiti.max_righe.saturating_add(1));
        Interprete {
            limiti,
            data_riferimento,
            separatore,
            disposizione: None,
            righe_dati: 0,
            colonne_extra_segnalate: false,
            impronte: Impronte::con_capacita(usize::try_from(capacita).unwrap_or(0)),
            rapporto,
            visita,
        }
    }

    pub(crate) fn record(&mut self, rec: Record) -> Result<(), RifiutoFile> {
        if rec.vuoto() {
            return Ok(());
        }
        if self.disposizione.is_none() && self.prima(&rec) {
            return Ok(());
        }
        self.righe_dati += 1;
        if self.righe_dati > self.limiti.max_righe {
            return Err(RifiutoFile::TroppeRighe {
                limite: self.limiti.max_righe,
            });
        }
        self.segnala_colonne_extra(&rec);
        let riga = self.analizza(&rec);
        self.rapporto.registra(&riga);
        (self.visita)(riga);
        Ok(())
    }

    /// Sets the layout from the first record; true when that record is the header.
    fn prima(&mut self, rec: &Record) -> bool {
        let colonna_singola = rec.campi.iter().skip(1).all(|c| c.testo.trim().is_empty());
        if !intestazione(rec, colonna_singola) {
            self.disposizione = Some(if colonna_singola {
                Disposizione::colonna_singola(None)
            } else {
                Disposizione::posizionale()
            });
            return false;
        }
        let (d, avvisi) = if colonna_singola {
            let nome = nome_colonna(&rec.campi[0].testo);
            (
                Disposizione::colonna_singola(TipoIdentificativo::parse(&nome)),
                Vec::new(),
            )
        } else {
            Disposizione::da_intestazione(&rec.campi)
        };
        for avviso in avvisi {
            self.rapporto
                .problema(rec.riga, format!("avviso: {avviso}"));
        }
        self.rapporto.intestazione = Some(rec.riga);
        self.disposizione = Some(d);
        true
    }

    fn segnala_colonne_extra(&mut self, rec: &Record) {
        let d = self.disposizione.as_ref().expect("set by the first record");
        if d.posizionale
            && !self.colonne_extra_segnalate
            && rec.campi.iter().skip(5).any(|c| !c.testo.trim().is_empty())
        {
            self.colonne_extra_segnalate = true;
            self.rapporto.problema(
                rec.riga,
                "avviso: colonne oltre la quinta (motivo) sconosciute: ignorate".to_owned(),
            );
        }
    }

    /// The header, once seen, with no data after it; or nothing at all.
    pub(crate) fn fine(self) -> Result<Rapporto, RifiutoFile> {
        match (self.righe_dati, self.rapporto.intestazione) {
            (0, Some(riga)) => Err(RifiutoFile::SoloIntestazione { riga }),
            (0, None) => Err(RifiutoFile::Vuoto),
            _ => Ok(self.rapporto),
        }
    }

    fn analizza(&mut self, rec: &Record) -> RigaAnalizzata {
        let d = self.disposizione.expect("set by the first record");
        let testo = |i: Option<usize>| {
            i.and_then(|i| rec.campi.get(i))
                .map(|c| c.testo.trim().to_owned())
                .filter(|t| !t.is_empty())
        };
        let mut riga = RigaAnalizzata {
            riga: rec.riga,
            tipo: None,
            identificativo: testo(d.identificativo).unwrap_or_default(),
            riferimento: testo(d.riferimento),
            rilascio: None,
            motivo: testo(d.motivo),
            esito: EsitoRiga::Valida,
            avvisi: Vec::new(),
        };
        // Known early, so that a row rejected for its shape still counts under its kind.
        riga.tipo = match d.tipo {
            Some(i) => rec
                .campi
                .get(i)
                .and_then(|c| TipoIdentificativo::parse(&c.testo)),
            None => d.tipo_fisso,
        };
        let rilascio = testo(d.rilascio);
        let verifica = self
            .forma(rec, &d)
            .and_then(|()| self.verifica(rec, &d, rilascio.as_deref(), &mut riga));
        match verifica {
            Ok(()) => {
                if let Some(di) = self.impronte.primo(&riga) {
                    riga.esito = EsitoRiga::Duplicata { di };
                }
            }
            Err(e) => {
                // The reason is what matters for a rejected row; warnings would only add noise.
                riga.avvisi.clear();
                riga.esito = EsitoRiga::NonValida(e);
            }
        }
        riga
    }

    /// Problems of the record itself, before any cell is read.
    fn forma(&self, rec: &Record, d: &Disposizione) -> Result<(), ErroreRiga> {
        if rec.virgolette_aperte {
            return Err(ErroreRiga::VirgoletteAperte);
        }
        if rec.troppe_colonne {
            return Err(ErroreRiga::TroppeColonne);
        }
        let usate = [
            d.tipo,
            d.identificativo,
            d.riferimento,
            d.rilascio,
            d.motivo,
        ];
        for (nome, i) in COLONNE.iter().zip(usate) {
            if i.and_then(|i| rec.campi.get(i))
                .is_some_and(|c| c.troppo_lungo)
            {
                return Err(ErroreRiga::CampoTroppoLungo {
                    colonna: nome,
                    massimo: self.limiti.max_campo,
                });
            }
        }
        if d.identificativo.is_none() {
            return Err(ErroreRiga::SenzaColonnaIdentificativo);
        }
        self.separatore_diverso(rec, d)
    }

    /// A row written with another delimiter arrives as one cell holding the others.
    fn separatore_diverso(&self, rec: &Record, d: &Disposizione) -> Result<(), ErroreRiga> {
        let (Some(atteso), false) = (self.separatore, d.tipo.is_none()) else {
            return Ok(());
        };
        let pieni: Vec<&Campo> = rec
            .campi
            .iter()
            .filter(|c| !c.testo.trim().is_empty())
            .collect();
        let [unico] = pieni.as_slice() else {
            return Ok(());
        };
        let altro = [b';', b',', b'\t']
            .into_iter()
            .find(|&s| s != atteso && unico.testo.as_bytes().contains(&s));
        match altro {
            Some(trovato) => Err(ErroreRiga::SeparatoreDiverso {
                trovato: nome_separatore(trovato),
                atteso: nome_separatore(atteso),
            }),
            None => Ok(()),
        }
    }

    fn verifica(
        &self,
        rec: &Record,
        d: &Disposizione,
        rilascio: Option<&str>,
        riga: &mut RigaAnalizzata,
    ) -> Result<(), ErroreRiga> {
        let campo_id = d.identificativo.and_then(|i| rec.campi.get(i));
        let numerico = campo_id.is_some_and(|c| c.numerico);
        let tipo = match (d.tipo, d.tipo_fisso) {
            (Some(i), _) => tipo_dichiarato(rec.campi.get(i))?,
            (None, Some(tipo)) => tipo,
            (None, None) => inferisci(&riga.identificativo, numerico, &mut riga.avvisi)?,
        };
        riga.tipo = Some(tipo);
        if let Some(rif) = &riga.riferimento {
            let trovati = rif.chars().count();
            if trovati > MAX_RIFERIMENTO {
                return Err(ErroreRiga::RiferimentoTroppoLungo { trovati });
            }
        }
        if riga.identificativo.is_empty() {
            return Err(ErroreRiga::IdentificativoMancante);
        }
        if tipo == TipoIdentificativo::Cf && numerico {
            riga.identificativo = zeri_ripristinati(&riga.identificativo);
        }
        let (normale, avvisi) = valida(tipo, &riga.identificativo, self.data_riferimento)?;
        riga.identificativo = normale;
        riga.avvisi.extend(avvisi);
        riga.rilascio = rilascio_per(tipo, rilascio, &mut riga.avvisi)?;
        Ok(())
    }
}

fn nome_separatore(s: u8) -> &'static str {
    match s {
        b';' => "\";\"",
        b',' => "\",\"",
        _ => "il tabulatore",
    }
}

fn tipo_dichiarato(campo: Option<&Campo>) -> Result<TipoIdentificativo, ErroreRiga> {
    let testo = campo.map(|c| c.testo.trim()).unwrap_or_default();
    if testo.is_empty() {
        return Err(ErroreRiga::TipoMancante);
    }
    TipoIdentificativo::parse(testo).ok_or_else(|| ErroreRiga::TipoSconosciuto {
        tipo: testo.to_owned(),
    })
}

/// Excel shows the 11-digit temporary CF `01234567890` as the number 1234567890.
fn zeri_ripristinati(valore: &str) -> String {
    if valore.len() < 11 && valore.bytes().all(|b| b.is_ascii_digit()) {
        format!("{valore:0>11}")
    } else {
        valore.to_owned()
    }
}

/// The single-column rule of DESIGN §5: 16 characters or 11 digits is a CF, the ID ANPR format
/// is an ID ANPR (with a warning when it is also a CIE number), anything else needs `tipo`.
fn inferisci(
    valore: &str,
    numerico: bool,
    avvisi: &mut Vec<String>,
) -> Result<TipoIdentificativo, ErroreRiga> {
    if valore.is_empty() {
        return Err(ErroreRiga::IdentificativoMancante);
    }
    let compatto: String = valore.chars().filter(|c| !c.is_whitespace()).collect();
    let cifre = compatto.bytes().all(|b| b.is_ascii_digit());
    let lunghezza = compatto.chars().count();
    if lunghezza == 16 || (cifre && (lunghezza == 11 || (numerico && lunghezza < 11))) {
        return Ok(TipoIdentificativo::Cf);
    }
    // IdAnpr::parse keeps inner spaces as errors, so the inference must not drop them either.
    match IdAnpr::parse(valore) {
        Ok(id) => {
            if id.ha_formato_cie() {
                avvisi.push(format!(
                    "{} ha sia il formato dell'ID ANPR sia quello della CIE: letto come ID ANPR; \
                     per un elenco di carte d'identità indicare il tipo (intestazione \"ci\" o colonna tipo)",
                    id.as_str()
                ));
            }
            Ok(TipoIdentificativo::IdAnpr)
        }
        Err(_) => Err(ErroreRiga::NonRiconosciuto {
            valore: valore.to_owned(),
        }),
    }
}

fn valida(
    tipo: TipoIdentificativo,
    valore: &str,
    riferimento: NaiveDate,
) -> Result<(String, Vec<String>), ErroreRiga> {
    fn testi<T: ToString>(v: Vec<T>) -> Vec<String> {
        v.iter().map(ToString::to_string).collect()
    }
    Ok(match tipo {
        TipoIdentificativo::Cf => {
            let cf = CodiceFiscale::parse(valore)?;
            let avvisi = testi(cf.avvisi(riferimento));
            (cf.as_str().to_owned(), avvisi)
        }
        TipoIdentificativo::IdAnpr => (IdAnpr::parse(valore)?.as_str().to_owned(), Vec::new()),
        TipoIdentificativo::Ci => {
            let ci = CartaIdentita::parse(valore)?;
            (ci.as_str().to_owned(), testi(ci.avvisi()))
        }
        TipoIdentificativo::Pds => {
            let pds = PermessoSoggiorno::parse(valore)?;
            (pds.as_str().to_owned(), testi(pds.avvisi()))
        }
        TipoIdentificativo::Pass => {
            let pass = Passaporto::parse(valore)?;
            (pass.as_str().to_owned(), testi(pass.avvisi()))
        }
    })
}

fn rilascio_per(
    tipo: TipoIdentificativo,
    valore: Option<&str>,
    avvisi: &mut Vec<String>,
) -> Result<Option<Rilascio>, ErroreRiga> {
    match (tipo, valore) {
        (TipoIdentificativo::Pds, v) => {
            let questura = Questura::parse(v.unwrap_or_default())?;
            Ok(Some(Rilascio::Questura(questura.as_str().to_owned())))
        }
        (TipoIdentificativo::Ci, Some(v)) => comune(v).map(Some),
        (_, None) => Ok(None),
        (_, Some(_)) => {
            avvisi.push(format!(
                "rilascio ignorato: vale solo per CI e PDS, non per {}",
                tipo.as_str()
            ));
            Ok(None)
        }
    }
}

/// The issuing Comune of a carta d'identità, by ISTAT code or by name (DESIGN §5).
fn comune(valore: &str) -> Result<Rilascio, ErroreRiga> {
    let sconosciuto = || ErroreRiga::ComuneSconosciuto {
        valore: valore.to_owned(),
    };
    let trovato = |c: &luoghi::Comune| Rilascio::Comune {
        istat: c.codice_istat.unwrap_or_default().to_owned(),
        nome: c.nome.to_owned(),
    };
    if valore.bytes().all(|b| b.is_ascii_digit()) {
        // A spreadsheet drops the leading zeros of 001001.
        if valore.len() > 6 {
            return Err(sconosciuto());
        }
        let codice = format!("{valore:0>6}");
        return luoghi::comune_per_istat(&codice)
            .map(trovato)
            .ok_or_else(sconosciuto);
    }
    match luoghi::comuni_per_nome(valore).as_slice() {
        [] => Err(sconosciuto()),
        [c] => Ok(trovato(c)),
        molti => Err(ErroreRiga::ComuneAmbiguo {
            valore: valore.to_owned(),
            candidati: molti
                .iter()
                .map(|c| format!("{} ({})", c.nome, c.sigla_provincia))
                .collect::<Vec<_>>()
                .join(" o "),
        }),
    }
}
