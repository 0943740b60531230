-- Rivesto schema, SQLite. Times are UTC epoch milliseconds; JSON is stored as TEXT exactly as
-- written, so hashes and snapshots read back byte for byte.

CREATE TABLE comuni (
    id INTEGER PRIMARY KEY,
    codice_istat TEXT NOT NULL UNIQUE,
    belfiore TEXT NOT NULL UNIQUE,
    nome TEXT NOT NULL,
    sigla TEXT NOT NULL,
    anpr_toml TEXT,
    creato_ms INTEGER NOT NULL
);

CREATE TABLE comuni_file_accesso (
    comune_id INTEGER NOT NULL REFERENCES comuni(id) ON DELETE CASCADE,
    nome TEXT NOT NULL,
    contenuto_cifrato BLOB NOT NULL,
    PRIMARY KEY (comune_id, nome)
);

CREATE TABLE enti (
    id INTEGER PRIMARY KEY,
    codice TEXT NOT NULL UNIQUE,
    tipo_codice TEXT NOT NULL CHECK (tipo_codice IN ('CF', 'IPA')),
    nome TEXT NOT NULL,
    codice_ufficio TEXT NOT NULL,
    creato_ms INTEGER NOT NULL
);

CREATE TABLE convenzioni (
    id INTEGER PRIMARY KEY,
    comune_id INTEGER NOT NULL REFERENCES comuni(id),
    ente_id INTEGER NOT NULL REFERENCES enti(id),
    nome TEXT NOT NULL,
    campi TEXT NOT NULL,
    ambito TEXT NOT NULL,
    approvazione TEXT NOT NULL CHECK (approvazione IN ('MANUALE', 'SILENZIO_ASSENSO')),
    ritardo_silenzio_ms INTEGER NOT NULL DEFAULT 0,
    finalita TEXT NOT NULL,
    valida_dal_ms INTEGER NOT NULL,
    valida_al_ms INTEGER,
    -- NULL: no cap.
    max_righe_richiesta INTEGER,
    max_soggetti_giorno INTEGER,
    tracciato TEXT NOT NULL,
    conservazione_giorni INTEGER NOT NULL DEFAULT 7,
    ricerca_nazionale BOOLEAN NOT NULL DEFAULT 0,
    creato_ms INTEGER NOT NULL
);

CREATE TABLE utenti (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    ruolo TEXT NOT NULL CHECK (ruolo IN ('TOP', 'ADMIN', 'STANDARD')),
    comune_id INTEGER REFERENCES comuni(id),
    ente_id INTEGER REFERENCES enti(id),
    codice_utente TEXT NOT NULL,
    attivo BOOLEAN NOT NULL DEFAULT 1,
    creato_ms INTEGER NOT NULL
);

CREATE TABLE profili (
    id INTEGER PRIMARY KEY,
    utente_id INTEGER NOT NULL REFERENCES utenti(id),
    convenzione_id INTEGER NOT NULL REFERENCES convenzioni(id),
    campi TEXT NOT NULL,
    ambito TEXT NOT NULL,
    UNIQUE (utente_id, convenzione_id)
);

CREATE TABLE richieste (
    id INTEGER PRIMARY KEY,
    convenzione_id INTEGER NOT NULL REFERENCES convenzioni(id),
    utente_id INTEGER NOT NULL REFERENCES utenti(id),
    stato TEXT NOT NULL CHECK (stato IN ('BOZZA', 'IN_ATTESA_CONVALIDA', 'CONVALIDATA',
        'IN_ELABORAZIONE', 'COMPLETATA', 'RESPINTA', 'ANNULLATA', 'FALLITA')),
    sospesa_fino_a_ms INTEGER,
    motivo_sospensione TEXT,
    motivo TEXT NOT NULL,
    data_riferimento TEXT NOT NULL,
    snapshot TEXT NOT NULL,
    nota_stato TEXT,
    inviata_ms INTEGER,
    creata_ms INTEGER NOT NULL,
    aggiornata_ms INTEGER NOT NULL
);
CREATE INDEX richieste_stato ON richieste (stato);
CREATE INDEX richieste_inviata ON richieste (inviata_ms);

CREATE TABLE righe (
    id INTEGER PRIMARY KEY,
    richiesta_id INTEGER NOT NULL REFERENCES richieste(id) ON DELETE CASCADE,
    numero INTEGER NOT NULL,
    tipo TEXT NOT NULL,
    identificativo TEXT,
    -- After the retention purge only this keyed hash of kind and identifier stays (DESIGN §2).
    identificativo_hmac TEXT,
    riferimento TEXT,
    rilascio TEXT,
    motivo TEXT,
    duplicato_di INTEGER,
    stato TEXT NOT NULL CHECK (stato IN ('DA_ELABORARE', 'IN_CORSO', 'FINALE')),
    esito TEXT,
    messaggio TEXT,
    id_operazioni TEXT,
    risultato_cifrato BLOB,
    lease_proprietario TEXT,
    lease_scadenza_ms INTEGER,
    UNIQUE (richiesta_id, numero)
);
CREATE INDEX righe_da_elaborare ON righe (stato, richiesta_id, numero);

CREATE TABLE id_operazione_hwm (
    unico INTEGER PRIMARY KEY CHECK (unico = 1),
    ultimo TEXT NOT NULL
);
INSERT INTO id_operazione_hwm (unico, ultimo) VALUES (1, '0');

CREATE TABLE id_operazione_chiamate (
    chiave TEXT PRIMARY KEY,
    id TEXT NOT NULL,
    creato_ms INTEGER NOT NULL
);

CREATE TABLE file_risposta (
    id INTEGER PRIMARY KEY,
    richiesta_id INTEGER NOT NULL REFERENCES richieste(id),
    nome TEXT NOT NULL,
    percorso TEXT NOT NULL,
    righe INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    dimensione INTEGER NOT NULL,
    parziale BOOLEAN NOT NULL,
    creato_ms INTEGER NOT NULL,
    eliminato_ms INTEGER
);

CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    tipo TEXT NOT NULL,
    chiave TEXT UNIQUE,
    payload TEXT NOT NULL,
    stato TEXT NOT NULL CHECK (stato IN ('IN_CODA', 'IN_CORSO', 'FATTO', 'FALLITO')),
    eseguire_dopo_ms INTEGER NOT NULL,
    lease_proprietario TEXT,
    lease_scadenza_ms INTEGER,
    tentativi INTEGER NOT NULL DEFAULT 0,
    errore TEXT,
    creato_ms INTEGER NOT NULL
);
CREATE INDEX jobs_pronti ON jobs (stato, eseguire_dopo_ms);

CREATE TABLE quote_contatori (
    comune_id INTEGER NOT NULL REFERENCES comuni(id),
    servizio TEXT NOT NULL,
    giorno TEXT NOT NULL,
    usate INTEGER NOT NULL,
    PRIMARY KEY (comune_id, servizio, giorno)
);

CREATE TABLE segreti (
    nome TEXT PRIMARY KEY,
    valore_cifrato BLOB NOT NULL,
    creato_ms INTEGER NOT NULL
);

-- Web sessions, keyed by the SHA-256 of the session id: the table holds no usable cookie.
CREATE TABLE sessioni (
    id_hash TEXT PRIMARY KEY,
    dati TEXT NOT NULL,
    scadenza_ms INTEGER NOT NULL
);
CREATE INDEX sessioni_scadenza ON sessioni (scadenza_ms);

CREATE TABLE audit_entries (
    id INTEGER PRIMARY KEY,
    istante_ms INTEGER NOT NULL,
    attore TEXT NOT NULL,
    ruolo TEXT,
    comune TEXT,
    ente TEXT,
    oggetto TEXT NOT NULL,
    azione TEXT NOT NULL,
    dettagli TEXT NOT NULL,
    hash_precedente TEXT NOT NULL,
    hash TEXT NOT NULL
);
