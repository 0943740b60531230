-- token_api: the JSON API's bearer tokens (web W4). Only the SHA-256 of each token is kept, so
-- a copy of the table gives no token that works. `loa` is fixed at creation (DESIGN §4).
CREATE TABLE token_api (
    id INTEGER PRIMARY KEY,
    utente_id INTEGER NOT NULL REFERENCES utenti(id),
    nome TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    loa TEXT NOT NULL CHECK (loa IN ('LoA1', 'LoA2')),
    creato_ms INTEGER NOT NULL,
    ultimo_uso_ms INTEGER,
    revocato_ms INTEGER
);
CREATE INDEX token_api_utente ON token_api (utente_id);
