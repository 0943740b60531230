-- richieste_web: what the request pages need (web W2).
-- The validation preview's warnings of a BOZZA (JSON array of "riga N: …" texts). Rows keep
-- their own problems (NON_VALIDO, duplicates); warnings are not a row state, so they live here.
CREATE TABLE avvisi_bozza (
    richiesta_id INTEGER PRIMARY KEY REFERENCES richieste(id) ON DELETE CASCADE,
    avvisi TEXT NOT NULL
);
-- "Le mie richieste" and the monitoring lists: newest first, per user and per convention.
CREATE INDEX richieste_utente ON richieste (utente_id, id);
CREATE INDEX richieste_convenzione ON richieste (convenzione_id, id);
