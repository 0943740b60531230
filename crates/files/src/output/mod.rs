//! The tracciato di risposta (DESIGN §5 "Output").
