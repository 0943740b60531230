//! Numbers as an Italian reader expects them, in messages and reports.

/// Italian digit grouping: 50000000 → "50.000.000".
pub fn migliaia(n: u64) -> String {
    let cifre = n.to_string();
    let mut out = String::with_capacity(cifre.len() + cifre.len() / 3);
    for (i, c) in cifre.chars().enumerate() {
        if i > 0 && (cifre.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raggruppa_le_migliaia() {
        assert_eq!(migliaia(50_000_000), "50.000.000");
        assert_eq!(migliaia(999), "999");
        assert_eq!(migliaia(1000), "1.000");
    }
}
