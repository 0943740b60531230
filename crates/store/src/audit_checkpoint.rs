//! Signed checkpoints of the audit chain, verification against them, and the retention purge
//! (issue 6 "Integrity").
