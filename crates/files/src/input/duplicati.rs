//! Which earlier row a row repeats (DESIGN §3), in memory that stays small for a million rows.
//!
//! Only a 96-bit keyed hash of each key is kept, with the first line. Two different keys
//! collide with probability about n²/2⁹⁷ (≈ 10⁻¹⁷ for a million rows): negligible, which matters
//! because a false duplicate would hand one person's data to another's row. The hash keys are
//! random per run, so a file cannot be crafted to collide.

use std::collections::HashMap;
use std::collections::hash_map::{Entry, RandomState};
use std::hash::{BuildHasher, BuildHasherDefault, Hash, Hasher};

use super::righe::{RigaAnalizzata, Rilascio};

#[derive(PartialEq, Eq)]
struct Impronta([u32; 3]);

impl Hash for Impronta {
    fn hash<H: Hasher>(&self, h: &mut H) {
        h.write_u64((u64::from(self.0[0]) << 32) | u64::from(self.0[1]));
    }
}

/// The key is already a random hash: the table uses it as it is.
#[derive(Default)]
struct Diretto(u64);

impl Hasher for Diretto {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, byte: &[u8]) {
        for &b in byte {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

pub(crate) struct Impronte {
    chiave_a: RandomState,
    chiave_b: RandomState,
    /// Line numbers fit in 32 bits because `Limiti` caps the file below 4 GiB.
    prime: HashMap<Impronta, u32, BuildHasherDefault<Diretto>>,
}

impl Impronte {
    /// Room for `righe` rows from the start (16 bytes and a control byte each, in a table of
    /// a power of two at most 7/8 full: about 36 MB for a million rows).
    pub(crate) fn con_capacita(righe: usize) -> Self {
        Impronte {
            chiave_a: RandomState::new(),
            chiave_b: RandomState::new(),
            prime: HashMap::with_capacity_and_hasher(righe, BuildHasherDefault::default()),
        }
    }

    /// The line of the first valid row with the same key as `riga`, or `None` when `riga` is
    /// the first (and is then remembered).
    pub(crate) fn primo(&mut self, riga: &RigaAnalizzata) -> Option<u64> {
        let a = self.chiave_a.hash_one(Chiave(riga));
        let b = self.chiave_b.hash_one(Chiave(riga));
        let impronta = Impronta([(a >> 32) as u32, a as u32, b as u32]);
        match self.prime.entry(impronta) {
            Entry::Occupied(e) => Some(u64::from(*e.get())),
            Entry::Vacant(e) => {
                e.insert(u32::try_from(riga.riga).unwrap_or(u32::MAX));
                None
            }
        }
    }
}

/// Kind, normalised identifier, rilascio and motivo; never the riferimento (DESIGN §3).
struct Chiave<'a>(&'a RigaAnalizzata);

impl Hash for Chiave<'_> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        let r = self.0;
        r.tipo.hash(h);
        r.identificativo.hash(h);
        match &r.rilascio {
            None => 0u8.hash(h),
            Some(Rilascio::Comune { istat, .. }) => (1u8, istat).hash(h),
            Some(Rilascio::Questura(q)) => (2u8, q).hash(h),
        }
        r.motivo.hash(h);
    }
}
