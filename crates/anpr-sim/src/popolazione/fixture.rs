//! ANPR's published collaudo test subjects (NOTES §2.7: "casi di test" of C001, and the C020
//! subjects with their idANPR), transcribed as facts.
//!
//! Where the spreadsheet's name columns disagree with the codice fiscale (SOGGETTA ANNA,
//! ATTRI PERANNA) the CF's letters decide which is the surname. CLAUDIA NERI is F, as her CF
//! says (day 50). Subjects without a published idANPR get one of the simulator's, prefixed `V`.
//! Residences, the ROSSI family, the AIRE addresses and the documents are the simulator's own
//! choices.

use super::documenti::{self, CartaIdentita, PermessoSoggiorno};
use super::luoghi::{self, LuogoNascita, LuogoResidenza};
use super::{Anagrafici, Esempi, Famiglia, Residenza, Soggetto, coppia};
use chrono::NaiveDate;
use domain::Sesso;
use std::collections::HashMap;

struct Riga {
    cf: &'static str,
    id: &'static str,
    cognome: &'static str,
    nome: &'static str,
    sesso: Sesso,
    nascita: (i32, u32, u32),
    luogo: &'static str,
    nota: Nota,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Nota {
    Nessuna,
    Aire,
    Deceduto(i32, u32, u32),
    SenzaGiorno,
    SenzaGiornoMese,
    Eccezionale(&'static str),
    Duplicato,
    Cancellato,
}

use Nota::*;
use Sesso::{F, M};

#[rustfmt::skip]
const RIGHE: &[Riga] = &[
    Riga { cf: "STTSGT90A01H501J", id: "AF41450AS", cognome: "SETTIMO", nome: "SOGGETTO", sesso: M, nascita: (1990, 1, 1), luogo: "H501", nota: Nessuna },
    Riga { cf: "QNTSGT90A01H501X", id: "VA00002QX", cognome: "QUINTO", nome: "SOGGETTO", sesso: M, nascita: (1990, 1, 1), luogo: "H501", nota: Nessuna },
    Riga { cf: "NNOSGT90A01H501I", id: "EV45959WW", cognome: "NONO", nome: "SOGGETTO", sesso: M, nascita: (1990, 1, 1), luogo: "H501", nota: Nessuna },
    Riga { cf: "QRTSGT90A01H501B", id: "VA00004QR", cognome: "QUARTO", nome: "SOGGETTO", sesso: M, nascita: (1990, 1, 1), luogo: "H501", nota: Nessuna },
    Riga { cf: "SGGNNA90R50F839T", id: "VA00005SN", cognome: "SOGGETTA", nome: "ANNA", sesso: F, nascita: (1990, 10, 10), luogo: "F839", nota: Nessuna },
    Riga { cf: "TTVSGT90A01H501H", id: "TK44563XB", cognome: "OTTAVO", nome: "SOGGETTO", sesso: M, nascita: (1990, 1, 1), luogo: "H501", nota: Aire },
    Riga { cf: "TRZSGT90A01H501S", id: "VA00007TR", cognome: "TERZO", nome: "SOGGETTO", sesso: M, nascita: (1990, 1, 1), luogo: "H501", nota: Nessuna },
    Riga { cf: "SCNSGT90A01H501Y", id: "VA00008SC", cognome: "SECONDO", nome: "SOGGETTO", sesso: M, nascita: (1990, 1, 1), luogo: "H501", nota: Nessuna },
    Riga { cf: "SGGSTM60A01H501J", id: "VA00009SS", cognome: "SOGGETTO", nome: "SETTIMO", sesso: M, nascita: (1960, 1, 1), luogo: "H501", nota: Nessuna },
    Riga { cf: "SGGSST60A01H501O", id: "VA00010SS", cognome: "SOGGETTO", nome: "SESTO", sesso: M, nascita: (1960, 1, 1), luogo: "H501", nota: Nessuna },
    Riga { cf: "SGGSND60A01H501G", id: "VA00011SS", cognome: "SOGGETTO", nome: "SECONDO", sesso: M, nascita: (1960, 1, 1), luogo: "H501", nota: Nessuna },
    Riga { cf: "DLGBNC70E60Z509S", id: "VA00012DB", cognome: "DELGADO", nome: "BLANCA", sesso: F, nascita: (1970, 5, 20), luogo: "Z509", nota: Nessuna },
    Riga { cf: "SGGPRM60A01H501A", id: "VA00013SP", cognome: "SOGGETTO", nome: "PRIMO", sesso: M, nascita: (1960, 1, 1), luogo: "H501", nota: Aire },
    Riga { cf: "SGGTTV60A01H501T", id: "VA00014SO", cognome: "SOGGETTO", nome: "OTTAVO", sesso: M, nascita: (1960, 1, 1), luogo: "H501", nota: Deceduto(2021, 11, 13) },
    Riga { cf: "TTRPNN00R50F839W", id: "VA00015AP", cognome: "ATTRI", nome: "PERANNA", sesso: F, nascita: (2000, 10, 10), luogo: "F839", nota: Nessuna },
    Riga { cf: "TTRPNN00R51F839V", id: "VA00016AP", cognome: "ATTRI", nome: "PERANNA", sesso: F, nascita: (2000, 10, 11), luogo: "F839", nota: Nessuna },
    Riga { cf: "NRENTN80B22G393L", id: "VA00017NA", cognome: "NERI", nome: "ANTONIO", sesso: M, nascita: (1980, 2, 22), luogo: "G393", nota: Deceduto(2022, 2, 3) },
    Riga { cf: "DLGPPE90R10E329Q", id: "VA00018DP", cognome: "DELGADO", nome: "PEPE", sesso: M, nascita: (1990, 10, 10), luogo: "Z611", nota: Nessuna },
    Riga { cf: "RSSLGU90C24H501L", id: "VA00019RL", cognome: "ROSSI", nome: "LUIGI", sesso: M, nascita: (1990, 3, 24), luogo: "H501", nota: Nessuna },
    Riga { cf: "RSSGLC20T24H501W", id: "VA00020RG", cognome: "ROSSI", nome: "GIANLUCA", sesso: M, nascita: (2020, 12, 24), luogo: "H501", nota: Nessuna },
    Riga { cf: "NRECLD90R50H501G", id: "JF28000UG", cognome: "NERI", nome: "CLAUDIA", sesso: F, nascita: (1990, 10, 10), luogo: "H501", nota: Nessuna },
    Riga { cf: "SNGXXX00R10Z222D", id: "VA00022SX", cognome: "SING", nome: "", sesso: M, nascita: (2000, 10, 10), luogo: "Z222", nota: Nessuna },
    Riga { cf: "XXXPYN00D60Z222V", id: "VA00023XP", cognome: "", nome: "PRYANI", sesso: F, nascita: (2000, 4, 20), luogo: "Z222", nota: Nessuna },
    Riga { cf: "SNZGRN00T01Z329P", id: "VA00024SG", cognome: "SENZA", nome: "GIORNO", sesso: M, nascita: (2000, 10, 1), luogo: "Z329", nota: SenzaGiorno },
    Riga { cf: "SNZGNM02A01Z329P", id: "VA00025SM", cognome: "SENZA", nome: "MESEGIORNO", sesso: M, nascita: (2002, 1, 1), luogo: "Z329", nota: SenzaGiornoMese },
    Riga { cf: "LGUCCE40R10Z600T", id: "VA00026LE", cognome: "LUOGO", nome: "ECCE", sesso: M, nascita: (1940, 10, 10), luogo: "Z600", nota: Eccezionale("ARGENTINA/NAVE") },
    Riga { cf: "DPLPRM90R10H501I", id: "VA00027DP", cognome: "DUPLICATO", nome: "PRIMO", sesso: M, nascita: (1990, 10, 10), luogo: "H501", nota: Nessuna },
    // The duplicate position of PRIMO DUPLICATO: found by personal data, never by CF.
    Riga { cf: "DPLPRM90R10H501I", id: "VA00028DP", cognome: "DUPLICATO", nome: "PRIMO", sesso: M, nascita: (1990, 10, 10), luogo: "H501", nota: Duplicato },
    Riga { cf: "PRVGNN90R10H501Q", id: "UK79569LF", cognome: "PROVA", nome: "GIOVANNI", sesso: M, nascita: (1990, 10, 10), luogo: "H501", nota: Nessuna },
    // italia/anpr#4951: cancelled, EN122 "Soggetto cancellato da ANPR". Name not published.
    Riga { cf: "PRVCCL60B50G393U", id: "OR69233LN", cognome: "PROVA", nome: "", sesso: F, nascita: (1960, 2, 10), luogo: "G393", nota: Cancellato },
];

/// The ROSSI family: (CF, legame Tabella 05).
const FAMIGLIA_ROSSI: &[(&str, u8)] = &[
    ("RSSLGU90C24H501L", 1),
    ("NRECLD90R50H501G", 2),
    ("RSSGLC20T24H501W", 3),
];

/// Cards of the fixtures, by idANPR (the duplicate position shares its CF): (idANPR, numero,
/// rilascio). The format says CIE (`CA00000ZA`) or paper (`AZ0000000`), outside the synthetic
/// formats; the residence at issue says Comune or consulate; the expiry follows the law
/// (`documenti::scadenza_carta`). Without a card: SOGGETTO SESTO, SENZA MESEGIORNO, SING, the
/// duplicate position (numbers stay unique) and the cancelled PROVA. QUINTO and QUARTO
/// SOGGETTO share a number: the data error of `Esempi::documento_condiviso`.
#[rustfmt::skip]
const CARTE: &[(&str, &str, (i32, u32, u32))] = &[
    ("AF41450AS", "CA00001ZA", (2019, 5, 14)),
    ("VA00002QX", NUMERO_CONDIVISO, (2016, 3, 2)),
    ("EV45959WW", "CA00003ZA", (2021, 9, 20)),
    ("VA00004QR", NUMERO_CONDIVISO, (2017, 11, 8)),
    ("VA00005SN", "CA00005ZA", (2022, 2, 1)),
    // AIRE in Berlin since 2015: issued by the consulate.
    ("TK44563XB", "CA00006ZA", (2020, 10, 5)),
    ("VA00007TR", "AZ1020304", (2016, 5, 3)),
    ("VA00008SC", "CA00008ZA", (2023, 4, 11)),
    ("VA00009SS", "CA00009ZA", (2018, 6, 30)),
    // Expired in 2009, never renewed.
    ("VA00011SS", "AZ0000011", (2004, 2, 10)),
    ("VA00012DB", "CA00012ZA", (2020, 1, 15)),
    // AIRE since 2015, still with the card Roma issued before.
    ("VA00013SP", "AZ0000013", (2012, 5, 10)),
    ("VA00014SO", "AZ0000014", (2011, 9, 1)),
    ("VA00015AP", "CA00015ZA", (2018, 10, 10)),
    ("VA00016AP", "CA00016ZA", (2019, 10, 11)),
    ("VA00017NA", "CA00017ZA", (2019, 3, 3)),
    ("VA00018DP", "CA00018ZA", (2024, 10, 1)),
    ("VA00019RL", "CA00019ZA", (2020, 7, 7)),
    // Renewed at 3: 5 years, to the birthday.
    ("VA00020RG", "CA00020ZA", (2024, 1, 15)),
    ("JF28000UG", "CA00021ZA", (2021, 6, 1)),
    ("VA00023XP", "CA00023ZA", (2022, 5, 5)),
    ("VA00024SG", "CA00024ZA", (2023, 2, 2)),
    ("VA00026LE", "AZ0000026", (2010, 3, 15)),
    ("VA00027DP", "CA00027ZA", (2020, 11, 30)),
    ("UK79569LF", "CA00029ZA", (2022, 8, 8)),
];

const NUMERO_CONDIVISO: &str = "AZ0000505";

type Data = (i32, u32, u32);

/// A permesso of a foreign fixture (all live in Roma). Numbers are `IZ` + 7 digits and
/// passports `YA` + 7 digits: outside the synthetic formats.
struct RigaPermesso {
    id: &'static str,
    tipo: u8,
    numero: &'static str,
    rilascio: Data,
    scadenza: Option<Data>,
    passaporto: Option<&'static str>,
}

#[rustfmt::skip]
const PERMESSI: &[RigaPermesso] = &[
    RigaPermesso { id: "VA00012DB", tipo: 2, numero: "IZ0000012", rilascio: (2014, 3, 3), scadenza: None, passaporto: Some("YA0000012") },
    RigaPermesso { id: "VA00018DP", tipo: 1, numero: "IZ0000018", rilascio: (2024, 9, 1), scadenza: Some((2026, 9, 1)), passaporto: Some("YA0000018") },
    RigaPermesso { id: "VA00022SX", tipo: 1, numero: "IZ0000022", rilascio: (2025, 2, 10), scadenza: Some((2027, 2, 10)), passaporto: Some("YA0000022") },
    // Expired in 2024, renewal pending.
    RigaPermesso { id: "VA00023XP", tipo: 6, numero: "IZ0000023", rilascio: (2022, 3, 1), scadenza: Some((2024, 3, 1)), passaporto: None },
    RigaPermesso { id: "VA00024SG", tipo: 1, numero: "IZ0000024", rilascio: (2025, 6, 16), scadenza: Some((2027, 6, 16)), passaporto: Some("YA0000024") },
    RigaPermesso { id: "VA00025SM", tipo: 2, numero: "IZ0000025", rilascio: (2021, 1, 20), scadenza: None, passaporto: None },
];

#[derive(Debug, Clone)]
pub struct Fixture {
    soggetti: Vec<Soggetto>,
    per_cf: HashMap<String, usize>,
    per_id: HashMap<String, usize>,
    per_carta: HashMap<String, Vec<usize>>,
    /// (questura, numero) → subject.
    per_permesso: HashMap<(String, String), usize>,
    per_passaporto: HashMap<String, usize>,
}

fn data(a: i32, m: u32, g: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(a, m, g).expect("date delle fixture valide")
}

fn residenza(r: &Riga, nascita: NaiveDate, k: usize) -> Vec<Residenza> {
    let roma = &luoghi::RESIDENZE[0];
    let italia = LuogoResidenza::Italia {
        istat: roma.1.clone(),
        comune: roma.2.clone(),
        sigla: roma.3.clone(),
        cap: roma.4.clone(),
        cod_specie: "213".into(),
        specie: "VIA".into(),
        denominazione: if r.cognome == "ROSSI" || r.cf == "NRECLD90R50H501G" {
            "DEI TEST".into()
        } else {
            "ROMA".into()
        },
        civico: if r.cognome == "ROSSI" || r.cf == "NRECLD90R50H501G" {
            "1".into()
        } else {
            (k + 1).to_string()
        },
    };
    let mut v = vec![Residenza {
        dal: nascita,
        luogo: italia,
    }];
    if r.nota == Aire {
        v.push(Residenza {
            dal: data(2015, 6, 1),
            luogo: LuogoResidenza::Estero {
                codice_stato: "216".into(),
                stato: "GERMANIA".into(),
                localita: "BERLINO".into(),
                indirizzo: "FRIEDRICHSTRASSE".into(),
                civico: "10".into(),
                consolato: "CONSOLATO D'ITALIA A BERLINO".into(),
            },
        });
    }
    v
}

fn soggetto(r: &Riga, k: usize) -> Soggetto {
    let nascita = data(r.nascita.0, r.nascita.1, r.nascita.2);
    let luogo_nascita = match r.nota {
        Eccezionale(d) => LuogoNascita::Eccezionale {
            descrizione: d.to_owned(),
        },
        _ => luoghi::nascita_da_belfiore(r.luogo).expect("luoghi delle fixture noti"),
    };
    let legame = FAMIGLIA_ROSSI
        .iter()
        .find(|(cf, _)| *cf == r.cf)
        .map(|(_, l)| *l);
    let famiglia = Famiglia {
        chiave: if legame.is_some() {
            "F-ROSSI".into()
        } else {
            format!("F-{}", r.id)
        },
        legame: legame.unwrap_or(1),
        dal: data(2021, 1, 1).max(nascita),
    };
    let sposato = matches!(legame, Some(1 | 2));
    let estero = r.luogo.starts_with('Z') && !matches!(r.nota, Eccezionale(_));
    let cittadinanze = if estero {
        let stato = domain::luoghi::stato_per_belfiore(r.luogo)
            .map_or(String::new(), |s| s.nome.to_uppercase());
        vec![(
            luoghi::codice_stato(r.luogo).unwrap_or_default().to_owned(),
            stato,
        )]
    } else {
        vec![("100".into(), "ITALIA".into())]
    };
    let mut s = Soggetto {
        id_anpr: r.id.to_owned(),
        codice_fiscale: r.cf.to_owned(),
        cognome: (!r.cognome.is_empty()).then(|| r.cognome.to_owned()),
        nome: (!r.nome.is_empty()).then(|| r.nome.to_owned()),
        sesso: r.sesso,
        data_nascita: nascita,
        senza_giorno: r.nota == SenzaGiorno,
        senza_giorno_mese: r.nota == SenzaGiornoMese,
        luogo_nascita,
        residenze: residenza(r, nascita, k),
        decesso: match r.nota {
            Deceduto(a, m, g) => Some(data(a, m, g)),
            _ => None,
        },
        cancellato: r.nota == Cancellato,
        stato_civile: if sposato { 2 } else { 1 },
        cittadinanze,
        matrimonio: sposato.then(|| data(2019, 9, 14)),
        famiglia,
        domicilio_digitale: (r.cf == "STTSGT90A01H501J")
            .then(|| "soggetto.settimo@pec.esempio.it".to_owned()),
        carta_identita: None,
        permesso: None,
    };
    s.carta_identita = carta(&s);
    s.permesso = permesso(&s);
    s
}

fn carta(s: &Soggetto) -> Option<CartaIdentita> {
    let (_, numero, (a, m, g)) = CARTE.iter().find(|(id, _, _)| *id == s.id_anpr)?;
    let rilascio = data(*a, *m, *g);
    let (comune_rilascio, consolato_rilascio) = documenti::ente_rilascio(s, rilascio);
    Some(CartaIdentita {
        numero: (*numero).to_owned(),
        elettronica: domain::documenti::ha_formato_cie(numero),
        data_rilascio: rilascio,
        data_scadenza: documenti::scadenza_carta(s.data_nascita, rilascio),
        comune_rilascio,
        consolato_rilascio,
        interdizione_espatrio: !documenti::italiano(s),
    })
}

fn permesso(s: &Soggetto) -> Option<PermessoSoggiorno> {
    let riga = PERMESSI.iter().find(|p| p.id == s.id_anpr)?;
    let (a, m, g) = riga.rilascio;
    let rilascio = data(a, m, g);
    Some(PermessoSoggiorno {
        numero: riga.numero.to_owned(),
        tipo: riga.tipo,
        questura: documenti::questura_al(s, rilascio, rilascio)?,
        data_rilascio: rilascio,
        data_scadenza: riga.scadenza.map(|(a, m, g)| data(a, m, g)),
        numero_passaporto: riga.passaporto.map(str::to_owned),
    })
}

impl Fixture {
    pub fn new() -> Self {
        let soggetti: Vec<Soggetto> = RIGHE
            .iter()
            .enumerate()
            .map(|(k, r)| soggetto(r, k))
            .collect();
        let mut per_cf = HashMap::new();
        for (k, r) in RIGHE.iter().enumerate() {
            if r.nota != Duplicato {
                per_cf.insert(r.cf.to_owned(), k);
            }
        }
        let per_id = soggetti
            .iter()
            .enumerate()
            .map(|(k, s)| (s.id_anpr.clone(), k))
            .collect();
        let mut per_carta: HashMap<String, Vec<usize>> = HashMap::new();
        let mut per_permesso = HashMap::new();
        let mut per_passaporto = HashMap::new();
        for (k, s) in soggetti.iter().enumerate() {
            if let Some(c) = &s.carta_identita {
                per_carta.entry(c.numero.clone()).or_default().push(k);
            }
            if let Some(p) = &s.permesso {
                per_permesso.insert((p.questura.clone(), p.numero.clone()), k);
                if let Some(n) = &p.numero_passaporto {
                    per_passaporto.insert(n.clone(), k);
                }
            }
        }
        Self {
            soggetti,
            per_cf,
            per_id,
            per_carta,
            per_permesso,
            per_passaporto,
        }
    }

    pub fn per_carta_identita(&self, numero: &str) -> Vec<Soggetto> {
        self.per_carta.get(numero).map_or_else(Vec::new, |v| {
            v.iter().map(|k| self.soggetti[*k].clone()).collect()
        })
    }

    pub fn per_permesso(&self, questura: &str, numero: &str) -> Vec<Soggetto> {
        self.per_permesso
            .get(&(questura.to_owned(), numero.to_owned()))
            .map(|k| self.soggetti[*k].clone())
            .into_iter()
            .collect()
    }

    pub fn per_passaporto(&self, numero: &str) -> Vec<Soggetto> {
        self.per_passaporto
            .get(numero)
            .map(|k| self.soggetti[*k].clone())
            .into_iter()
            .collect()
    }

    pub fn per_cf(&self, cf: &str) -> Option<Soggetto> {
        self.per_cf.get(cf).map(|k| self.soggetti[*k].clone())
    }

    pub fn per_id_anpr(&self, id: &str) -> Option<Soggetto> {
        self.per_id.get(id).map(|k| self.soggetti[*k].clone())
    }

    pub fn per_anagrafici(&self, q: &Anagrafici) -> Vec<Soggetto> {
        self.soggetti
            .iter()
            .filter(|s| corrisponde(s, q))
            .cloned()
            .collect()
    }

    pub fn famiglia(&self, chiave: &str) -> Option<Vec<Soggetto>> {
        let mut v: Vec<Soggetto> = self
            .soggetti
            .iter()
            .filter(|s| s.famiglia.chiave == chiave)
            .cloned()
            .collect();
        v.sort_by_key(|s| s.famiglia.legame);
        (!v.is_empty()).then_some(v)
    }

    pub fn esempi(&self) -> Esempi {
        let per = |cf: &str| coppia(&self.per_cf(cf).expect("fixture presente"));
        let soggetto = |cf: &str| self.per_cf(cf).expect("fixture presente");
        let carta = |cf: &str| {
            let s = soggetto(cf);
            let c = s.carta_identita.expect("fixture con carta d'identità");
            (s.codice_fiscale, c.numero)
        };
        let permesso = |cf: &str| {
            let s = soggetto(cf);
            let p = s.permesso.expect("fixture con permesso");
            (s.codice_fiscale, p.questura, p.numero)
        };
        let passaporto = |cf: &str| {
            let s = soggetto(cf);
            let n = s
                .permesso
                .and_then(|p| p.numero_passaporto)
                .expect("fixture con passaporto");
            (s.codice_fiscale, n)
        };
        Esempi {
            normali: vec![
                per("STTSGT90A01H501J"),
                per("NNOSGT90A01H501I"),
                per("PRVGNN90R10H501Q"),
            ],
            deceduti: vec![per("SGGTTV60A01H501T"), per("NRENTN80B22G393L")],
            aire: vec![per("TTVSGT90A01H501H"), per("SGGPRM60A01H501A")],
            cancellati: vec![per("PRVCCL60B50G393U")],
            omocodici: Vec::new(),
            famiglia: FAMIGLIA_ROSSI.iter().map(|(cf, _)| per(cf)).collect(),
            senza_nome: vec![per("SNGXXX00R10Z222D")],
            senza_giorno: vec![per("SNZGRN00T01Z329P")],
            // A CIE and a paper card, both valid until at least 2027.
            carte_identita: vec![carta("STTSGT90A01H501J"), carta("TRZSGT90A01H501S")],
            permessi: vec![permesso("DLGBNC70E60Z509S"), permesso("DLGPPE90R10E329Q")],
            passaporti: vec![
                passaporto("DLGBNC70E60Z509S"),
                passaporto("DLGPPE90R10E329Q"),
            ],
            documento_condiviso: (
                NUMERO_CONDIVISO.to_owned(),
                ["QNTSGT90A01H501X".to_owned(), "QRTSGT90A01H501B".to_owned()],
            ),
        }
    }
}

fn uguale(a: Option<&str>, b: Option<&String>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b.trim()),
        (None, None) => true,
        _ => false,
    }
}

fn corrisponde(s: &Soggetto, q: &Anagrafici) -> bool {
    use chrono::Datelike;
    let data_ok = if q.senza_giorno_mese || s.senza_giorno_mese {
        s.data_nascita.year() == q.data_nascita.year() && s.senza_giorno_mese == q.senza_giorno_mese
    } else if q.senza_giorno || s.senza_giorno {
        (s.data_nascita.year(), s.data_nascita.month())
            == (q.data_nascita.year(), q.data_nascita.month())
            && s.senza_giorno == q.senza_giorno
    } else {
        s.data_nascita == q.data_nascita
    };
    let luogo_ok = match (&s.luogo_nascita, &q.belfiore) {
        (
            LuogoNascita::Comune { belfiore, .. } | LuogoNascita::Estero { belfiore, .. },
            Some(b),
        ) => belfiore == b,
        (LuogoNascita::Eccezionale { descrizione }, _) => q
            .nome_luogo
            .as_deref()
            .is_some_and(|n| n.eq_ignore_ascii_case(descrizione)),
        (_, None) => false,
    };
    uguale(s.cognome.as_deref(), q.cognome.as_ref())
        && uguale(s.nome.as_deref(), q.nome.as_ref())
        && q.sesso.is_none_or(|x| x == s.sesso)
        && data_ok
        && luogo_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn i_codici_delle_fixture_sono_validi() {
        // Every published CF passes domain's check, so the client can send them.
        for r in RIGHE {
            assert!(domain::CodiceFiscale::parse(r.cf).is_ok(), "{}", r.cf);
            assert!(domain::IdAnpr::parse(r.id).is_ok(), "{}", r.id);
        }
    }

    #[test]
    fn gli_id_anpr_pubblicati_sono_quelli_delle_note() {
        let f = Fixture::new();
        assert_eq!(f.per_cf("STTSGT90A01H501J").unwrap().id_anpr, "AF41450AS");
        assert_eq!(f.per_cf("NRECLD90R50H501G").unwrap().id_anpr, "JF28000UG");
        assert_eq!(
            f.per_id_anpr("TK44563XB").unwrap().codice_fiscale,
            "TTVSGT90A01H501H"
        );
        assert!(f.per_id_anpr("OR69233LN").unwrap().cancellato);
    }

    #[test]
    fn il_duplicato_si_trova_due_volte_per_dati_anagrafici() {
        let f = Fixture::new();
        let q = Anagrafici {
            cognome: Some("DUPLICATO".into()),
            nome: Some("PRIMO".into()),
            sesso: Some(M),
            data_nascita: data(1990, 10, 10),
            senza_giorno: false,
            senza_giorno_mese: false,
            belfiore: Some("H501".into()),
            nome_luogo: None,
        };
        assert_eq!(f.per_anagrafici(&q).len(), 2);
        assert_eq!(f.per_cf("DPLPRM90R10H501I").unwrap().id_anpr, "VA00027DP");
    }

    #[test]
    fn i_documenti_delle_fixture_sono_coerenti() {
        use domain::documenti::{CartaIdentita as Ci, FormatoCartaIdentita as F};
        let f = Fixture::new();
        // Every row of the tables names a fixture, once.
        for id in CARTE
            .iter()
            .map(|c| c.0)
            .chain(PERMESSI.iter().map(|p| p.id))
        {
            assert!(f.per_id_anpr(id).is_some(), "{id} sconosciuto");
        }
        assert_eq!(
            f.per_carta.values().map(Vec::len).sum::<usize>(),
            CARTE.len()
        );
        assert_eq!(f.per_permesso.len(), PERMESSI.len());
        for (numero, chi) in &f.per_carta {
            assert_eq!(
                chi.len(),
                if numero == NUMERO_CONDIVISO { 2 } else { 1 },
                "{numero}"
            );
        }
        for s in &f.soggetti {
            let italiano = documenti::italiano(s);
            if let Some(c) = &s.carta_identita {
                let formato = Ci::parse(&c.numero).unwrap().formato();
                assert_eq!(formato == F::Elettronica, c.elettronica, "{}", c.numero);
                assert!(c.elettronica || formato == F::Cartacea);
                assert!(c.data_rilascio > s.data_nascita);
                assert!(s.decesso.is_none_or(|d| c.data_rilascio < d));
                assert!(c.data_scadenza > c.data_rilascio);
                assert_ne!(c.comune_rilascio.is_some(), c.consolato_rilascio.is_some());
                assert_eq!(c.interdizione_espatrio, !italiano);
                // CIE only since 2016.
                assert!(!c.elettronica || c.data_rilascio >= data(2016, 7, 4));
            }
            // Every foreign fixture is a non-EU citizen living in Roma.
            assert_eq!(s.permesso.is_some(), !italiano, "{}", s.codice_fiscale);
            if let Some(p) = &s.permesso {
                assert_eq!(p.questura, "ROMA");
                assert!(p.data_rilascio > s.data_nascita);
                assert_eq!(p.data_scadenza.is_none(), p.tipo == 2);
            }
        }
        let ottavo = f.per_id_anpr("TK44563XB").unwrap().carta_identita.unwrap();
        assert_eq!(
            ottavo.consolato_rilascio,
            Some(("2160001".into(), "CONSOLATO D'ITALIA A BERLINO".into()))
        );
        let primo = f.per_id_anpr("VA00013SP").unwrap().carta_identita.unwrap();
        assert_eq!(
            primo.comune_rilascio,
            Some(("ROMA".into(), "058091".into(), "RM".into()))
        );
        // The duplicate position and the cancelled subject hold no document.
        assert!(f.per_id_anpr("VA00028DP").unwrap().carta_identita.is_none());
        assert!(f.per_id_anpr("OR69233LN").unwrap().carta_identita.is_none());
    }

    #[test]
    fn le_fixture_si_ritrovano_per_documento() {
        let f = Fixture::new();
        let e = f.esempi();
        let (numero, [a, b]) = &e.documento_condiviso;
        let chi = f.per_carta_identita(numero);
        assert_eq!(chi.len(), 2);
        assert_eq!((&chi[0].codice_fiscale, &chi[1].codice_fiscale), (a, b));
        assert_ne!(chi[0].id_anpr, chi[1].id_anpr);
        for (cf, numero) in &e.carte_identita {
            let v = f.per_carta_identita(numero);
            assert_eq!(v.len(), 1);
            assert_eq!(&v[0].codice_fiscale, cf);
        }
        for (cf, questura, numero) in &e.permessi {
            assert_eq!(&f.per_permesso(questura, numero)[0].codice_fiscale, cf);
            assert!(f.per_permesso("MILANO", numero).is_empty());
        }
        for (cf, numero) in &e.passaporti {
            assert_eq!(&f.per_passaporto(numero)[0].codice_fiscale, cf);
        }
    }
}
