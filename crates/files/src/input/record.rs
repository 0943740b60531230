//! A record as both readers (CSV and XLSX) hand it to the row interpreter.

/// Columns kept per record. The tracciato has five; the rest are ignored, so a row of a million
/// delimiters must not become a million empty strings in memory.
pub(crate) const MAX_COLONNE: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Campo {
    pub testo: String,
    /// An XLSX number cell: a CF held as a number has lost its leading zeros.
    pub numerico: bool,
    /// Longer than `Limiti::max_campo`; `testo` is then cut short.
    pub troppo_lungo: bool,
}

impl Campo {
    pub fn testo(testo: impl Into<String>) -> Self {
        Campo {
            testo: testo.into(),
            numerico: false,
            troppo_lungo: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    /// The physical line (CSV) or sheet row (XLSX) where the record starts.
    pub riga: u64,
    pub campi: Vec<Campo>,
    pub troppe_colonne: bool,
    pub virgolette_aperte: bool,
}

impl Record {
    /// Blank lines, and Excel's `;;;;` rows, are counted but skipped (DESIGN §5). A row of
    /// delimiters only is blank even when the file turned out to have a single column, where
    /// the delimiters stay inside the one field.
    pub fn vuoto(&self) -> bool {
        let vuoto = |c: &Campo| {
            c.testo
                .chars()
                .all(|ch| ch.is_whitespace() || ch == ';' || ch == ',')
        };
        !self.virgolette_aperte && self.campi.iter().all(vuoto)
    }
}
