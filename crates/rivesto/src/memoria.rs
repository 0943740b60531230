//! Peak resident memory, read from the kernel: no allocator hooks needed.

/// Peak resident set size of this process in bytes (VmHWM), if the kernel tells.
pub fn picco_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Resets the peak so the next phase is measured on its own (Linux `clear_refs` 5).
pub fn azzera_picco() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

pub fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
