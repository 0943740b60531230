//! ANPR's published collaudo test subjects (NOTES §2.7: "casi di test" of C001, and the C020
//! subjects with their idANPR), transcribed as facts.
//!
//! Where the spreadsheet's name columns disagree with the codice fiscale (SOGGETTA ANNA,
//! ATTRI PERANNA) the CF's letters decide which is the surname. CLAUDIA NERI is F, as her CF
//! says (day 50). Subjects without a published idANPR get one of the simulator's, prefixed `V`.
//! Residences, the ROSSI family and the AIRE addresses are the simulator's own choices.

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

#[derive(Debug, Clone)]
pub struct Fixture {
    soggetti: Vec<Soggetto>,
    per_cf: HashMap<String, usize>,
    per_id: HashMap<String, usize>,
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
    Soggetto {
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
    }
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
        Self {
            soggetti,
            per_cf,
            per_id,
        }
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
}
