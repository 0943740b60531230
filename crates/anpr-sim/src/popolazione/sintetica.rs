//! The synthetic population.
//!
//! Person `i` gets a point `j = perm(i)` of a mixed-radix space (surname, name, birth date,
//! birth place), where `perm` is a seeded Feistel permutation. The CF is computed from those
//! four, so a CF leads back to `j` (surname and name codes are unique in their lists), then to
//! `i = perm⁻¹(j)`: lookups cost a few hashes whatever the size. People come in blocks of four
//! (`i / 4`): a block is a family of 1–4 members, or, rarely, an omocodia pair whose second
//! member shares the first's personal data and carries the level-1 omocodic variant.
//! Document numbers encode `i` too (`documenti`), so document searches are computed as well.

use super::documenti;
use super::luoghi::{self, LuogoResidenza};
use super::{Anagrafici, Esempi, Famiglia, Residenza, Soggetto, coppia};
use chrono::{Datelike, Days, NaiveDate};
use domain::{CodiceFiscale, Sesso, cf};
use std::collections::HashMap;
use std::sync::LazyLock;

/// idANPRs are `[W-Z][A-Z]` + 5 digits + 2 check characters: room for this many people.
pub const CAPIENZA: u32 = 4 * 26 * 100_000;

const COGNOMI: &[&str] = &[
    "ROSSI",
    "RUSSO",
    "FERRARI",
    "ESPOSITO",
    "BIANCHI",
    "ROMANO",
    "COLOMBO",
    "RICCI",
    "MARINO",
    "GRECO",
    "BRUNO",
    "GALLO",
    "CONTI",
    "DE LUCA",
    "MANCINI",
    "COSTA",
    "GIORDANO",
    "RIZZO",
    "LOMBARDI",
    "MORETTI",
    "BARBIERI",
    "FONTANA",
    "SANTORO",
    "MARIANI",
    "RINALDI",
    "CARUSO",
    "FERRARA",
    "GALLI",
    "MARTINI",
    "LEONE",
    "LONGO",
    "GENTILE",
    "MARTINELLI",
    "VITALE",
    "LOMBARDO",
    "SERRA",
    "COPPOLA",
    "DE SANTIS",
    "D'ANGELO",
    "MARCHETTI",
    "PARISI",
    "VILLA",
    "CONTE",
    "FERRARO",
    "FERRI",
    "FABBRI",
    "BIANCO",
    "MARINI",
    "GRASSO",
    "VALENTINI",
    "MESSINA",
    "SALA",
    "DE ANGELIS",
    "GATTI",
    "PELLEGRINI",
    "PALUMBO",
    "SANNA",
    "FARINA",
    "RIZZI",
    "MONTI",
    "CATTANEO",
    "MORELLI",
    "AMATO",
    "SILVESTRI",
    "MAZZA",
    "TESTA",
    "GRASSI",
    "PELLEGRINO",
    "CARBONE",
    "GIULIANI",
    "BENEDETTI",
    "BARONE",
    "ROSSETTI",
    "CAPUTO",
    "MONTANARI",
    "GUERRA",
    "PALMIERI",
    "BERNARDI",
    "MARTINO",
    "FIORE",
    "DE ROSA",
    "FERRANTE",
    "BASSI",
    "PIRAS",
    "ORLANDO",
    "MELIS",
    "NERI",
    "CARLI",
    "TOSI",
    "ZANETTI",
    "BELLINI",
];
const NOMI_M: &[&str] = &[
    "MARCO",
    "GIUSEPPE",
    "LUCA",
    "GIOVANNI",
    "ANDREA",
    "FRANCESCO",
    "ALESSANDRO",
    "ANTONIO",
    "MATTEO",
    "LORENZO",
    "DAVIDE",
    "STEFANO",
    "PAOLO",
    "ROBERTO",
    "SIMONE",
    "FEDERICO",
    "RICCARDO",
    "MASSIMO",
    "FABIO",
    "DANIELE",
    "SALVATORE",
    "VINCENZO",
    "PIETRO",
    "CARLO",
    "MARIO",
    "LUIGI",
    "TOMMASO",
    "EMANUELE",
    "GABRIELE",
    "NICOLA",
    "ENRICO",
    "DIEGO",
    "BRUNO",
    "SERGIO",
    "CLAUDIO",
    "FILIPPO",
    "ALBERTO",
    "EDOARDO",
    "UMBERTO",
    "OSCAR",
];
const NOMI_F: &[&str] = &[
    "GIULIA",
    "MARIA",
    "ANNA",
    "FRANCESCA",
    "SARA",
    "CHIARA",
    "LAURA",
    "MARTINA",
    "ELENA",
    "ALESSIA",
    "VALENTINA",
    "SILVIA",
    "FEDERICA",
    "ROBERTA",
    "PAOLA",
    "GIORGIA",
    "SOFIA",
    "AURORA",
    "BEATRICE",
    "ELISA",
    "CRISTINA",
    "MONICA",
    "BARBARA",
    "ROSA",
    "TERESA",
    "LUCIA",
    "GIOVANNA",
    "ILARIA",
    "NOEMI",
    "CAMILLA",
    "DENISE",
    "ORNELLA",
    "VIVIANA",
    "IRENE",
];

const GIORNI: u64 = 29_220; // 1930-01-01 ..= 2009-12-31
fn inizio_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(1930, 1, 1).expect("data fissa valida")
}

/// The lists, with names whose CF letters repeat an earlier entry's dropped, so a CF's letters
/// name exactly one surname and one name.
struct Tabelle {
    cognomi: Vec<&'static str>,
    nomi: Vec<(&'static str, Sesso)>,
    luoghi: Vec<String>,
    per_cognome: HashMap<String, usize>,
    per_nome: HashMap<(String, Sesso), usize>,
    per_luogo: HashMap<String, usize>,
}

fn lettere(cognome: &str, nome: &str) -> String {
    let d = NaiveDate::from_ymd_opt(2000, 1, 1).expect("data fissa valida");
    cf::calcola(cognome, nome, Sesso::M, d, "H501").as_str()[..6].to_owned()
}

static TABELLE: LazyLock<Tabelle> = LazyLock::new(|| {
    let mut per_cognome = HashMap::new();
    let mut cognomi = Vec::new();
    for c in COGNOMI {
        let k = lettere(c, "X")[..3].to_owned();
        if let std::collections::hash_map::Entry::Vacant(v) = per_cognome.entry(k) {
            v.insert(cognomi.len());
            cognomi.push(*c);
        }
    }
    let mut per_nome = HashMap::new();
    let mut nomi = Vec::new();
    for (lista, sesso) in [(NOMI_M, Sesso::M), (NOMI_F, Sesso::F)] {
        for n in lista {
            let k = (lettere("X", n)[3..].to_owned(), sesso);
            if let std::collections::hash_map::Entry::Vacant(v) = per_nome.entry(k) {
                v.insert(nomi.len());
                nomi.push((*n, sesso));
            }
        }
    }
    let luoghi: Vec<String> = luoghi::COMUNI_NASCITA
        .iter()
        .chain(luoghi::STATI_NASCITA)
        .map(|s| (*s).to_owned())
        .collect();
    let per_luogo = luoghi
        .iter()
        .enumerate()
        .map(|(i, b)| (b.clone(), i))
        .collect();
    Tabelle {
        cognomi,
        nomi,
        luoghi,
        per_cognome,
        per_nome,
        per_luogo,
    }
});

/// SplitMix64 finaliser: a stable, platform-independent hash.
fn mescola(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

pub(super) fn h(seed: u64, etichetta: u64, x: u64) -> u64 {
    mescola(seed ^ mescola(etichetta.wrapping_mul(0x100_0000_01B3) ^ mescola(x)))
}

#[derive(Debug, Clone)]
pub struct Sintetica {
    seed: u64,
    n: u32,
    /// Size of the mixed-radix space, and the even bit width of the permutation.
    spazio: u64,
    bit: u32,
}

impl Sintetica {
    pub fn new(seed: u64, n: u32) -> Self {
        let t = &*TABELLE;
        let spazio = t.cognomi.len() as u64 * t.nomi.len() as u64 * GIORNI * t.luoghi.len() as u64;
        let bit = (64 - spazio.leading_zeros()).next_multiple_of(2);
        Self {
            seed,
            n: n.min(CAPIENZA),
            spazio,
            bit,
        }
    }

    pub fn n(&self) -> u32 {
        self.n
    }

    fn feistel(&self, x: u64, inverso: bool) -> u64 {
        let meta = self.bit / 2;
        let maschera = (1u64 << meta) - 1;
        let (mut l, mut r) = (x >> meta, x & maschera);
        let giri: [u64; 4] = if inverso { [3, 2, 1, 0] } else { [0, 1, 2, 3] };
        for g in giri {
            if inverso {
                (l, r) = (r ^ (h(self.seed, 100 + g, l) & maschera), l);
            } else {
                (l, r) = (r, l ^ (h(self.seed, 100 + g, r) & maschera));
            }
        }
        (l << meta) | r
    }

    /// A bijection of `0..spazio` (cycle-walking keeps the Feistel output inside the space).
    fn perm(&self, i: u64, inverso: bool) -> u64 {
        let mut x = self.feistel(i, inverso);
        while x >= self.spazio {
            x = self.feistel(x, inverso);
        }
        x
    }

    fn blocco(&self, b: u32) -> (bool, u32) {
        let hb = h(self.seed, 1, u64::from(b));
        let omocodico = hb.is_multiple_of(53);
        (
            omocodico,
            if omocodico {
                1
            } else {
                1 + ((hb >> 8) % 4) as u32
            },
        )
    }

    /// The personal data at point `j`: surname, name, sex, birth date, birth-place Belfiore.
    fn punto(&self, j: u64) -> (&'static str, &'static str, Sesso, NaiveDate, &'static str) {
        let t = &*TABELLE;
        let p = (j % t.luoghi.len() as u64) as usize;
        let r = j / t.luoghi.len() as u64;
        let d = r % GIORNI;
        let r = r / GIORNI;
        let n = (r % t.nomi.len() as u64) as usize;
        let c = (r / t.nomi.len() as u64) as usize;
        let data = inizio_date() + Days::new(d);
        (
            t.cognomi[c],
            t.nomi[n].0,
            t.nomi[n].1,
            data,
            t.luoghi[p].as_str(),
        )
    }

    fn punto_inverso(&self, base: &CodiceFiscale) -> Option<u64> {
        let t = &*TABELLE;
        let s = base.as_str();
        let c = *t.per_cognome.get(&s[..3])?;
        let sesso = base.sesso()?;
        let n = *t.per_nome.get(&(s[3..6].to_owned(), sesso))?;
        let fine = NaiveDate::from_ymd_opt(2009, 12, 31)?;
        let data = base.data_nascita(fine)?;
        let d = u64::try_from((data - inizio_date()).num_days())
            .ok()
            .filter(|d| *d < GIORNI)?;
        let p = *t.per_luogo.get(&base.belfiore()?)?;
        Some(
            ((c as u64 * t.nomi.len() as u64 + n as u64) * GIORNI + d) * t.luoghi.len() as u64
                + p as u64,
        )
    }

    pub fn id_anpr(&self, i: u32) -> String {
        const ALFA: &[u8; 36] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        let k = h(self.seed, 2, u64::from(i));
        let prima = char::from(b'W' + (i / 2_600_000) as u8);
        let seconda = char::from(b'A' + ((i / 100_000) % 26) as u8);
        let c1 = char::from(ALFA[(k % 36) as usize]);
        let c2 = char::from(ALFA[((k >> 8) % 36) as usize]);
        format!("{prima}{seconda}{:05}{c1}{c2}", i % 100_000)
    }

    fn indice_da_id(&self, id: &str) -> Option<u32> {
        let b = id.as_bytes();
        if b.len() != 9 || !(b'W'..=b'Z').contains(&b[0]) || !b[1].is_ascii_uppercase() {
            return None;
        }
        let cifre: u32 = id.get(2..7)?.parse().ok()?;
        let i = u32::from(b[0] - b'W') * 2_600_000 + u32::from(b[1] - b'A') * 100_000 + cifre;
        (i < self.n && self.id_anpr(i) == id).then_some(i)
    }

    pub fn per_id_anpr(&self, id: &str) -> Option<Soggetto> {
        self.indice_da_id(id).map(|i| self.soggetto(i))
    }

    /// Candidate indices for a base CF: the person at its point, and their omocodic twin.
    fn candidati(&self, base: &CodiceFiscale) -> Vec<u32> {
        let Some(j) = self.punto_inverso(base) else {
            return Vec::new();
        };
        let i0 = self.perm(j, true);
        let mut v = Vec::new();
        if let Ok(i0) = u32::try_from(i0)
            && i0 < self.n
        {
            v.push(i0);
            if i0 % 4 == 0 && i0 + 1 < self.n && self.blocco(i0 / 4).0 {
                v.push(i0 + 1);
            }
        }
        v
    }

    pub fn per_cf(&self, cf: &str) -> Option<Soggetto> {
        let codice = CodiceFiscale::parse(cf).ok()?;
        self.candidati(&codice.base())
            .into_iter()
            .map(|i| self.soggetto(i))
            .find(|s| s.codice_fiscale == cf)
    }

    /// The person `i` named by a document number, if they exist.
    fn da_indice(&self, i: Option<u32>) -> Option<Soggetto> {
        i.filter(|i| *i < self.n).map(|i| self.soggetto(i))
    }

    pub fn per_carta_identita(&self, numero: &str) -> Option<Soggetto> {
        self.da_indice(documenti::indice_da_carta(self.seed, numero))
            .filter(|s| {
                s.carta_identita
                    .as_ref()
                    .is_some_and(|c| c.numero == numero)
            })
    }

    pub fn per_permesso(&self, questura: &str, numero: &str) -> Option<Soggetto> {
        self.da_indice(documenti::indice_da_permesso(self.seed, numero))
            .filter(|s| {
                s.permesso
                    .as_ref()
                    .is_some_and(|p| p.numero == numero && p.questura == questura)
            })
    }

    pub fn per_passaporto(&self, numero: &str) -> Option<Soggetto> {
        self.da_indice(documenti::indice_da_passaporto(self.seed, numero))
            .filter(|s| {
                s.permesso
                    .as_ref()
                    .and_then(|p| p.numero_passaporto.as_deref())
                    == Some(numero)
            })
    }

    pub fn per_anagrafici(&self, q: &Anagrafici) -> Vec<Soggetto> {
        let (Some(cognome), Some(nome), Some(sesso), Some(belfiore)) =
            (&q.cognome, &q.nome, q.sesso, &q.belfiore)
        else {
            return Vec::new();
        };
        if q.senza_giorno || q.senza_giorno_mese {
            return Vec::new();
        }
        let base = cf::calcola(cognome, nome, sesso, q.data_nascita, belfiore);
        self.candidati(&base)
            .into_iter()
            .map(|i| self.soggetto(i))
            .filter(|s| {
                s.cognome
                    .as_deref()
                    .is_some_and(|c| c.eq_ignore_ascii_case(cognome.trim()))
                    && s.nome
                        .as_deref()
                        .is_some_and(|n| n.eq_ignore_ascii_case(nome.trim()))
                    && s.data_nascita == q.data_nascita
                    && s.sesso == sesso
            })
            .collect()
    }

    pub fn famiglia(&self, chiave: &str) -> Option<Vec<Soggetto>> {
        let b: u32 = chiave.strip_prefix('S')?.parse().ok()?;
        let (_, membri) = self.blocco(b);
        Some(
            (b * 4..(b * 4 + membri).min(self.n))
                .map(|i| self.soggetto(i))
                .collect(),
        )
    }

    pub fn soggetto(&self, i: u32) -> Soggetto {
        let (b, m) = (i / 4, i % 4);
        let (omocodico, membri) = self.blocco(b);
        let gemello = omocodico && m == 1;
        let origine = if gemello { i - 1 } else { i };
        let (cognome, nome, sesso, data, belfiore) =
            self.punto(self.perm(u64::from(origine), false));
        let mut codice = cf::calcola(cognome, nome, sesso, data, belfiore);
        if gemello {
            codice = codice
                .variante_omocodica(1)
                .expect("un codice personale ha varianti");
        }
        let in_famiglia = m < membri;
        let chiave = if in_famiglia {
            format!("S{b}")
        } else {
            format!("P{i}")
        };
        let hp = h(self.seed, 3, u64::from(i));
        let famiglia = Famiglia {
            legame: if in_famiglia {
                [1, 2, 3, 3][m as usize]
            } else {
                1
            },
            dal: data.max(self.data_famiglia(&chiave)),
            chiave,
        };
        let sposati = in_famiglia && membri >= 2 && m < 2;
        let decesso = self.decesso(hp, data);
        let cancellato = decesso.is_none() && (hp >> 16).is_multiple_of(100);
        let mut residenze = self.residenze(&famiglia.chiave, data);
        if !in_famiglia && (hp >> 24).is_multiple_of(25) {
            self.emigra(&mut residenze, hp, data);
        }
        let mut s = Soggetto {
            id_anpr: self.id_anpr(i),
            codice_fiscale: codice.as_str().to_owned(),
            cognome: Some(cognome.to_owned()),
            nome: Some(nome.to_owned()),
            sesso,
            data_nascita: data,
            senza_giorno: false,
            senza_giorno_mese: false,
            luogo_nascita: luoghi::nascita_da_belfiore(belfiore)
                .expect("luoghi verificati dai test"),
            cittadinanze: cittadinanze(belfiore, hp),
            stato_civile: stato_civile(sposati, in_famiglia && m >= 2, data, hp),
            matrimonio: sposati.then_some(famiglia.dal),
            famiglia,
            residenze,
            decesso,
            cancellato,
            domicilio_digitale: ((hp >> 32).is_multiple_of(5)).then(|| {
                format!(
                    "{}.{}.{i}@pec.esempio.it",
                    nome.to_lowercase(),
                    cognome.to_lowercase().replace([' ', '\''], "")
                )
            }),
            carta_identita: None,
            permesso: None,
        };
        s.carta_identita = documenti::carta_sintetica(self.seed, i, &s);
        s.permesso = documenti::permesso_sintetico(self.seed, i, &s);
        s
    }

    fn data_famiglia(&self, chiave: &str) -> NaiveDate {
        let hf = h(
            self.seed,
            4,
            chiave
                .bytes()
                .fold(0u64, |a, c| a.wrapping_mul(31).wrapping_add(u64::from(c))),
        );
        NaiveDate::from_ymd_opt(1995, 1, 1).expect("data fissa valida") + Days::new(hf % 9000)
    }

    /// From birth in one comune; a third of the families later move to another.
    fn residenze(&self, chiave: &str, nascita: NaiveDate) -> Vec<Residenza> {
        let hf = h(
            self.seed,
            5,
            chiave
                .bytes()
                .fold(7u64, |a, c| a.wrapping_mul(131).wrapping_add(u64::from(c))),
        );
        let mut v = vec![Residenza {
            dal: nascita,
            luogo: indirizzo_italiano(hf),
        }];
        let trasloco = self.data_famiglia(chiave);
        if hf.is_multiple_of(3) && trasloco > nascita {
            v.push(Residenza {
                dal: trasloco,
                luogo: indirizzo_italiano(mescola(hf)),
            });
        }
        v
    }

    /// An AIRE registration: abroad from some date after the 18th birthday.
    fn emigra(&self, residenze: &mut Vec<Residenza>, hp: u64, nascita: NaiveDate) {
        let maggiorenne = nascita.with_year(nascita.year() + 18).unwrap_or(nascita);
        let dal = maggiorenne.max(NaiveDate::from_ymd_opt(1990, 1, 1).expect("data fissa"))
            + Days::new(hp % 9000);
        if dal > NaiveDate::from_ymd_opt(2025, 12, 31).expect("data fissa") {
            return;
        }
        let (belfiore, codice, citta) = luoghi::STATI[((hp >> 40) % 9) as usize];
        let stato = domain::luoghi::stato_per_belfiore(belfiore)
            .map_or(String::new(), |s| s.nome.to_uppercase());
        residenze.retain(|r| r.dal < dal);
        residenze.push(Residenza {
            dal,
            luogo: LuogoResidenza::Estero {
                codice_stato: codice.to_owned(),
                stato,
                localita: citta.to_owned(),
                indirizzo: luoghi::VIE[((hp >> 44) % luoghi::VIE.len() as u64) as usize].to_owned(),
                civico: ((hp >> 48) % 200 + 1).to_string(),
                consolato: format!("CONSOLATO D'ITALIA A {citta}"),
            },
        });
    }

    fn decesso(&self, hp: u64, nascita: NaiveDate) -> Option<NaiveDate> {
        if !hp.is_multiple_of(20) {
            return None;
        }
        let d = nascita + Days::new(365 * 20 + (hp >> 8) % (365 * 75));
        (d <= NaiveDate::from_ymd_opt(2025, 6, 30)?).then_some(d)
    }

    pub fn aggiungi_esempi(&self, e: &mut Esempi) {
        let limite = self.n.min(4_000);
        let (mut cie, mut cartacee, mut permessi, mut passaporti) = (0, 0, 0, 0);
        for i in 0..limite {
            let s = self.soggetto(i);
            let oggi = NaiveDate::from_ymd_opt(2026, 1, 1).expect("data fissa");
            if !s.cancellato && s.decesso.is_none() {
                if let Some(c) = s.carta_identita.as_ref().filter(|c| c.valida_al(oggi)) {
                    let conteggio = if c.elettronica {
                        &mut cie
                    } else {
                        &mut cartacee
                    };
                    if *conteggio < 4 {
                        *conteggio += 1;
                        e.carte_identita
                            .push((s.codice_fiscale.clone(), c.numero.clone()));
                    }
                }
                if let Some(p) = &s.permesso {
                    if permessi < 6 {
                        permessi += 1;
                        e.permessi.push((
                            s.codice_fiscale.clone(),
                            p.questura.clone(),
                            p.numero.clone(),
                        ));
                    }
                    if let Some(n) = &p.numero_passaporto
                        && passaporti < 6
                    {
                        passaporti += 1;
                        e.passaporti.push((s.codice_fiscale.clone(), n.clone()));
                    }
                }
            }
            let lista = if s.cancellato {
                &mut e.cancellati
            } else if s.decesso.is_some() {
                &mut e.deceduti
            } else if s.aire_al(oggi) {
                &mut e.aire
            } else {
                &mut e.normali
            };
            if lista.len() < 8 {
                lista.push(coppia(&s));
            }
            if i % 4 == 0 && self.blocco(i / 4).0 && i + 1 < self.n && e.omocodici.len() < 4 {
                e.omocodici
                    .push((coppia(&s), coppia(&self.soggetto(i + 1))));
            }
        }
    }
}

fn indirizzo_italiano(k: u64) -> LuogoResidenza {
    let comuni = &*luoghi::RESIDENZE;
    let (_, istat, nome, sigla, cap) = &comuni[(k % comuni.len() as u64) as usize];
    let (cod, specie) = luoghi::SPECIE[((k >> 12) % luoghi::SPECIE.len() as u64) as usize];
    LuogoResidenza::Italia {
        istat: istat.clone(),
        comune: nome.clone(),
        sigla: sigla.clone(),
        cap: cap.clone(),
        cod_specie: cod.to_owned(),
        specie: specie.to_owned(),
        denominazione: luoghi::VIE[((k >> 20) % luoghi::VIE.len() as u64) as usize].to_owned(),
        civico: ((k >> 28) % 150 + 1).to_string(),
    }
}

fn cittadinanze(belfiore: &str, hp: u64) -> Vec<(String, String)> {
    let italia = ("100".to_owned(), "ITALIA".to_owned());
    if !belfiore.starts_with('Z') {
        return vec![italia];
    }
    let nome = domain::luoghi::stato_per_belfiore(belfiore)
        .map_or(String::new(), |s| s.nome.to_uppercase());
    let estera = (
        luoghi::codice_stato(belfiore)
            .unwrap_or_default()
            .to_owned(),
        nome,
    );
    if (hp >> 52).is_multiple_of(2) {
        vec![estera, italia]
    } else {
        vec![estera]
    }
}

fn stato_civile(sposato: bool, figlio: bool, nascita: NaiveDate, hp: u64) -> u8 {
    if sposato {
        return 2;
    }
    if figlio || nascita.year() > 2005 {
        return 1;
    }
    [1, 1, 1, 3, 4][((hp >> 56) % 5) as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn la_permutazione_e_biiettiva_e_invertibile() {
        let s = Sintetica::new(42, 1000);
        for i in [0u64, 1, 2, 999, 123_456, s.spazio - 1] {
            let j = s.perm(i, false);
            assert!(j < s.spazio);
            assert_eq!(s.perm(j, true), i);
        }
    }

    #[test]
    fn gli_elenchi_hanno_lettere_uniche_e_sono_ampi() {
        let t = &*TABELLE;
        assert!(t.cognomi.len() >= 60, "{}", t.cognomi.len());
        assert!(t.nomi.len() >= 50, "{}", t.nomi.len());
        assert!(Sintetica::new(1, 1).spazio > 1_000_000_000);
    }

    #[test]
    fn ogni_persona_si_ritrova_per_cf_e_per_id() {
        let s = Sintetica::new(7, 5_000);
        for i in (0..5_000).step_by(37).chain([4_999]) {
            let p = s.soggetto(i);
            assert_eq!(s.per_cf(&p.codice_fiscale).as_ref(), Some(&p), "i={i}");
            assert_eq!(s.per_id_anpr(&p.id_anpr).as_ref(), Some(&p), "i={i}");
            assert!(CodiceFiscale::parse(&p.codice_fiscale).is_ok());
            assert!(domain::IdAnpr::parse(&p.id_anpr).is_ok());
        }
    }

    #[test]
    fn un_milione_di_persone_senza_costo_di_avvio() {
        let inizio = std::time::Instant::now();
        let s = Sintetica::new(3, 1_000_000);
        let p = s.soggetto(999_999);
        assert_eq!(s.per_cf(&p.codice_fiscale), Some(p.clone()));
        assert_eq!(s.per_id_anpr(&p.id_anpr), Some(p));
        assert!(inizio.elapsed() < std::time::Duration::from_secs(2));
    }

    #[test]
    fn fuori_dalla_popolazione_non_ce_nessuno() {
        let piccola = Sintetica::new(9, 100);
        let grande = Sintetica::new(9, 10_000);
        let p = grande.soggetto(5_000);
        assert!(piccola.per_cf(&p.codice_fiscale).is_none());
        assert!(piccola.per_id_anpr(&p.id_anpr).is_none());
        // A well-formed id with wrong check characters is nobody.
        let mut id = p.id_anpr.clone().into_bytes();
        id[8] = if id[8] == b'A' { b'B' } else { b'A' };
        assert!(
            grande
                .per_id_anpr(std::str::from_utf8(&id).unwrap())
                .is_none()
        );
    }

    #[test]
    fn stesso_seme_stessa_popolazione_semi_diversi_popolazioni_diverse() {
        let a = Sintetica::new(5, 100).soggetto(17);
        assert_eq!(a, Sintetica::new(5, 100).soggetto(17));
        assert_ne!(
            a.codice_fiscale,
            Sintetica::new(6, 100).soggetto(17).codice_fiscale
        );
    }

    #[test]
    fn le_coppie_omocodiche_condividono_i_dati_ma_non_il_codice() {
        let s = Sintetica::new(1, 20_000);
        let b = (0..5_000)
            .find(|b| s.blocco(*b).0)
            .expect("almeno un blocco omocodico");
        let (p, q) = (s.soggetto(b * 4), s.soggetto(b * 4 + 1));
        assert_eq!(
            (&p.cognome, &p.nome, p.data_nascita),
            (&q.cognome, &q.nome, q.data_nascita)
        );
        let cp = CodiceFiscale::parse(&p.codice_fiscale).unwrap();
        let cq = CodiceFiscale::parse(&q.codice_fiscale).unwrap();
        assert_eq!(cq, cp.variante_omocodica(1).unwrap());
        assert_eq!(s.per_cf(&q.codice_fiscale), Some(q.clone()));
        let belfiore = cp.belfiore().unwrap();
        let q_anag = Anagrafici {
            cognome: p.cognome.clone(),
            nome: p.nome.clone(),
            sesso: Some(p.sesso),
            data_nascita: p.data_nascita,
            senza_giorno: false,
            senza_giorno_mese: false,
            belfiore: Some(belfiore),
            nome_luogo: None,
        };
        let trovati = s.per_anagrafici(&q_anag);
        assert_eq!(trovati.len(), 2);
        assert_ne!(trovati[0].id_anpr, trovati[1].id_anpr);
    }

    #[test]
    fn la_popolazione_ha_ogni_tipo_di_persona() {
        let s = Sintetica::new(11, 20_000);
        let v: Vec<Soggetto> = (0..20_000).map(|i| s.soggetto(i)).collect();
        let oggi = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        assert!(v.iter().filter(|p| p.decesso.is_some()).count() > 100);
        assert!(v.iter().filter(|p| p.cancellato).count() > 20);
        assert!(v.iter().filter(|p| p.aire_al(oggi)).count() > 50);
        assert!(v.iter().filter(|p| p.residenze.len() > 1).count() > 100);
        assert!(v.iter().filter(|p| p.famiglia.legame == 3).count() > 100);
        let comuni: std::collections::HashSet<_> = v
            .iter()
            .filter_map(|p| match &p.residenza_al(oggi)?.luogo {
                LuogoResidenza::Italia { istat, .. } => Some(istat.clone()),
                LuogoResidenza::Estero { .. } => None,
            })
            .collect();
        assert!(comuni.len() >= 10);
    }

    /// Looks `p` up by each of their documents and checks the lookups return exactly `p`.
    fn si_ritrova_per_documento(s: &Sintetica, p: &Soggetto) {
        if let Some(c) = &p.carta_identita {
            assert_eq!(
                s.per_carta_identita(&c.numero).as_ref(),
                Some(p),
                "{}",
                c.numero
            );
        }
        if let Some(ps) = &p.permesso {
            assert_eq!(s.per_permesso(&ps.questura, &ps.numero).as_ref(), Some(p));
            let altra = if ps.questura == "ROMA" {
                "MILANO"
            } else {
                "ROMA"
            };
            assert_eq!(s.per_permesso(altra, &ps.numero), None);
            if let Some(n) = &ps.numero_passaporto {
                assert_eq!(s.per_passaporto(n).as_ref(), Some(p), "{n}");
                // A passport number is no card number, nor the other way round.
                assert_eq!(s.per_carta_identita(n), None);
            }
        }
    }

    #[test]
    fn ogni_persona_si_ritrova_per_documento() {
        let s = Sintetica::new(7, 20_000);
        let (mut carte, mut permessi, mut passaporti) = (0, 0, 0);
        for i in 0..20_000 {
            let p = s.soggetto(i);
            si_ritrova_per_documento(&s, &p);
            carte += usize::from(p.carta_identita.is_some());
            if let Some(ps) = &p.permesso {
                permessi += 1;
                passaporti += usize::from(ps.numero_passaporto.is_some());
            }
        }
        assert!(carte > 15_000, "{carte}");
        assert!(permessi > 300, "{permessi}");
        assert!(passaporti > 200, "{passaporti}");
    }

    #[test]
    fn i_documenti_si_ritrovano_a_ogni_dimensione() {
        let inizio = std::time::Instant::now();
        for (seme, n) in [(3, 1_000_000), (4, CAPIENZA)] {
            let s = Sintetica::new(seme, n);
            for i in (n - 2_000..n).chain([0, n / 2, 2_600_000, 9_999_999, 10_000_000]) {
                if i < n {
                    si_ritrova_per_documento(&s, &s.soggetto(i));
                }
            }
        }
        assert!(inizio.elapsed() < std::time::Duration::from_secs(10));
    }

    #[test]
    fn documenti_sbagliati_o_fuori_popolazione_non_trovano_nessuno() {
        let piccola = Sintetica::new(9, 100);
        let grande = Sintetica::new(9, 10_000);
        let p = (5_000..10_000)
            .map(|i| grande.soggetto(i))
            .find(|p| p.carta_identita.is_some() && p.permesso.is_some())
            .expect("uno straniero con carta");
        let carta = p.carta_identita.clone().unwrap().numero;
        let permesso = p.permesso.clone().unwrap();
        assert_eq!(piccola.per_carta_identita(&carta), None);
        assert_eq!(
            piccola.per_permesso(&permesso.questura, &permesso.numero),
            None
        );
        // Another seed, another population: the same numbers belong to nobody or to others.
        let altro = Sintetica::new(10, 10_000);
        assert_ne!(altro.per_carta_identita(&carta).as_ref(), Some(&p));
        // The last letter of a CIE or the second of a paper card is checked.
        let mut b = carta.clone().into_bytes();
        let k = if p.carta_identita.unwrap().elettronica {
            8
        } else {
            1
        };
        b[k] = if b[k] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            grande.per_carta_identita(std::str::from_utf8(&b).unwrap()),
            None
        );
        assert_eq!(grande.per_permesso("ATLANTIDE", &permesso.numero), None);
        assert_eq!(grande.per_permesso(&permesso.questura, "I0"), None);
    }

    #[test]
    fn i_documenti_sono_coerenti() {
        use std::collections::{HashMap, HashSet};
        let s = Sintetica::new(11, 20_000);
        let fine = NaiveDate::from_ymd_opt(2025, 12, 31).unwrap();
        let oggi = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let comuni: HashSet<(String, String, String)> = luoghi::RESIDENZE
            .iter()
            .map(|(_, istat, nome, sigla, _)| (nome.clone(), istat.clone(), sigla.clone()))
            .collect();
        let mut numeri = HashSet::new();
        let mut conta: HashMap<&str, usize> = HashMap::new();
        for i in 0..20_000 {
            let p = s.soggetto(i);
            let italiano = p.cittadinanze.iter().any(|(c, _)| c == "100");
            if p.cancellato {
                assert!(p.carta_identita.is_none() && p.permesso.is_none());
            }
            match &p.carta_identita {
                None => *conta.entry("senza carta").or_default() += 1,
                Some(c) => {
                    assert!(numeri.insert(c.numero.clone()), "{} ripetuto", c.numero);
                    assert!(c.data_rilascio > p.data_nascita, "i={i}");
                    assert!(c.data_rilascio <= p.decesso.unwrap_or(fine), "i={i}");
                    assert!(c.data_scadenza > c.data_rilascio);
                    assert!(c.data_scadenza <= c.data_rilascio + Days::new(11 * 366));
                    assert_eq!(
                        domain::documenti::ha_formato_cie(&c.numero),
                        c.elettronica,
                        "{}",
                        c.numero
                    );
                    if c.elettronica {
                        assert!(c.data_rilascio >= NaiveDate::from_ymd_opt(2016, 7, 4).unwrap());
                        *conta.entry("CIE").or_default() += 1;
                    } else {
                        assert!(c.data_rilascio < NaiveDate::from_ymd_opt(2018, 1, 1).unwrap());
                        *conta.entry("cartacea").or_default() += 1;
                    }
                    if !c.valida_al(oggi) {
                        *conta.entry("scaduta").or_default() += 1;
                    }
                    match (
                        &c.comune_rilascio,
                        &c.consolato_rilascio,
                        &p.residenza_al(c.data_rilascio).unwrap().luogo,
                    ) {
                        (Some(comune), None, LuogoResidenza::Italia { istat, .. }) => {
                            assert!(comuni.contains(comune), "{comune:?}");
                            assert_eq!(&comune.1, istat);
                        }
                        (
                            None,
                            Some((codice, descrizione)),
                            LuogoResidenza::Estero { consolato, .. },
                        ) => {
                            assert!(
                                codice.len() <= 7 && codice.bytes().all(|b| b.is_ascii_digit())
                            );
                            assert_eq!(descrizione, consolato);
                            *conta.entry("consolato").or_default() += 1;
                        }
                        altro => panic!("ente di rilascio incoerente per i={i}: {altro:?}"),
                    }
                    if !italiano {
                        assert!(c.interdizione_espatrio);
                    } else if c.interdizione_espatrio {
                        *conta.entry("interdizione").or_default() += 1;
                    }
                }
            }
            if let Some(ps) = &p.permesso {
                assert!(!italiano, "permesso a un cittadino italiano, i={i}");
                assert!(!p.aire_al(p.decesso.unwrap_or(fine)));
                assert!(numeri.insert(ps.numero.clone()), "{} ripetuto", ps.numero);
                assert!(ps.data_rilascio > p.data_nascita);
                assert!(ps.data_rilascio <= p.decesso.unwrap_or(fine));
                assert!(luoghi::QUESTURE.iter().any(|(_, q)| *q == ps.questura));
                assert!(domain::documenti::PermessoSoggiorno::parse(&ps.numero).is_ok());
                assert_eq!(ps.data_scadenza.is_none(), ps.tipo == 2);
                if ps.tipo == 6 {
                    assert!(ps.data_scadenza.unwrap() < fine);
                }
                *conta
                    .entry(["", "tipo 1", "tipo 2", "", "", "", "tipo 6"][usize::from(ps.tipo)])
                    .or_default() += 1;
                if let Some(n) = &ps.numero_passaporto {
                    assert!(numeri.insert(n.clone()), "{n} ripetuto");
                    assert!(domain::documenti::Passaporto::parse(n).is_ok());
                    *conta.entry("passaporto").or_default() += 1;
                }
            } else if !italiano && !p.cancellato && !p.aire_al(fine) {
                // Without a permesso a foreigner living here is a citizen of the EU, EEA or CH.
                assert!(
                    p.cittadinanze
                        .iter()
                        .all(|(c, _)| ["206", "215", "216", "235", "239", "241"]
                            .contains(&c.as_str())),
                    "i={i}: {:?}",
                    p.cittadinanze
                );
            }
        }
        for (chiave, minimo) in [
            ("CIE", 10_000),
            ("cartacea", 1_000),
            ("scaduta", 500),
            ("senza carta", 500),
            ("consolato", 10),
            ("interdizione", 20),
            ("tipo 1", 100),
            ("tipo 2", 100),
            ("tipo 6", 5),
            ("passaporto", 200),
        ] {
            let n = conta.get(chiave).copied().unwrap_or(0);
            assert!(n >= minimo, "{chiave}: {n} < {minimo}");
        }
    }

    #[test]
    fn gli_esempi_di_documenti_sono_validi_e_di_ogni_tipo() {
        let s = Sintetica::new(13, 4_000);
        let mut e = super::super::fixture::Fixture::new().esempi();
        let gia = (e.carte_identita.len(), e.permessi.len(), e.passaporti.len());
        s.aggiungi_esempi(&mut e);
        let sintetiche = &e.carte_identita[gia.0..];
        let oggi = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let mut elettroniche = 0;
        for (cf, numero) in sintetiche {
            let p = s.per_carta_identita(numero).expect("esempio presente");
            assert_eq!(&p.codice_fiscale, cf);
            assert!(p.decesso.is_none() && !p.cancellato);
            let c = p.carta_identita.unwrap();
            assert!(c.valida_al(oggi));
            elettroniche += usize::from(c.elettronica);
        }
        assert_eq!((sintetiche.len(), elettroniche), (8, 4));
        assert_eq!(e.permessi.len() - gia.1, 6);
        for (cf, questura, numero) in &e.permessi[gia.1..] {
            assert_eq!(
                &s.per_permesso(questura, numero).unwrap().codice_fiscale,
                cf
            );
        }
        assert_eq!(e.passaporti.len() - gia.2, 6);
        for (cf, numero) in &e.passaporti[gia.2..] {
            assert_eq!(&s.per_passaporto(numero).unwrap().codice_fiscale, cf);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        #[test]
        fn ogni_documento_riporta_alla_persona(seme: u64, i in 0..CAPIENZA) {
            let s = Sintetica::new(seme, CAPIENZA);
            si_ritrova_per_documento(&s, &s.soggetto(i));
        }
    }
}
