//! The tracciato di input (DESIGN §5 "Input").
