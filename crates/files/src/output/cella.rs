//! Formula-injection neutralisation (DESIGN §5 "Output").

use std::borrow::Cow;

/// Whether a spreadsheet could read the cell as a formula: it starts with `= + - @`, tab or CR.
pub fn da_neutralizzare(cella: &str) -> bool {
    matches!(
        cella.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    )
}

/// The cell with a leading `'` when a spreadsheet could read it as a formula.
pub fn neutralizza(cella: &str) -> Cow<'_, str> {
    if da_neutralizzare(cella) {
        Cow::Owned(format!("'{cella}"))
    } else {
        Cow::Borrowed(cella)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_six_triggers_and_nothing_else() {
        for s in ["=1+1", "+39 06", "-5", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(neutralizza(s), format!("'{s}"));
        }
        for s in ["", "ROSSI", " =1", "'=1", "\nx", "1-2", "€"] {
            assert_eq!(neutralizza(s), s);
        }
    }
}
