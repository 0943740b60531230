-- autenticazione: TOTP secrets, administrator-issued password resets, failed sign-ins.

-- One enrolled TOTP per user. The secret is encrypted with the master key; `ultimo_passo` is
-- the last 30-second step accepted, so a code is never accepted twice (RFC 6238 §5.2).
CREATE TABLE totp_utenti (
    utente_id INTEGER PRIMARY KEY REFERENCES utenti(id),
    segreto_cifrato BLOB NOT NULL,
    ultimo_passo INTEGER NOT NULL,
    creato_ms INTEGER NOT NULL
);

-- A pending one-time reset code per user: only its SHA-256 is kept.
CREATE TABLE reset_password (
    utente_id INTEGER PRIMARY KEY REFERENCES utenti(id),
    codice_hash TEXT NOT NULL,
    scadenza_ms INTEGER NOT NULL,
    creato_ms INTEGER NOT NULL
);

-- Failed sign-ins, one row per failure and key (the SHA-256 of "utente:<name>" or
-- "indirizzo:<ip>"), so every process sees the same counts.
CREATE TABLE accessi_falliti (
    id INTEGER PRIMARY KEY,
    chiave TEXT NOT NULL,
    istante_ms INTEGER NOT NULL
);
CREATE INDEX accessi_falliti_chiave ON accessi_falliti (chiave, istante_ms);
