-- notifiche: in-app notices and their e-mail delivery state (web application, W3).

-- The address for e-mail notices; NULL: in-app only.
ALTER TABLE utenti ADD COLUMN email TEXT;

CREATE TABLE notifiche (
    id INTEGER PRIMARY KEY,
    utente_id INTEGER NOT NULL REFERENCES utenti(id),
    richiesta_id INTEGER REFERENCES richieste(id) ON DELETE CASCADE,
    -- IN_ATTESA_CONVALIDA, PROMEMORIA_SILENZIO, CONVALIDATA, RESPINTA, COMPLETATA, FALLITA.
    tipo TEXT NOT NULL,
    titolo TEXT NOT NULL,
    testo TEXT NOT NULL,
    creata_ms INTEGER NOT NULL,
    -- NULL: visible at once; otherwise a reminder scheduled for that time.
    visibile_dal_ms INTEGER,
    letta_ms INTEGER,
    email_stato TEXT NOT NULL CHECK (email_stato IN
        ('DA_INVIARE', 'IN_INVIO', 'INVIATA', 'FALLITA', 'NON_PREVISTA', 'SCADUTA')),
    email_tentativi INTEGER NOT NULL DEFAULT 0,
    email_prossimo_ms INTEGER NOT NULL DEFAULT 0,
    email_lease_proprietario TEXT,
    email_lease_scadenza_ms INTEGER,
    email_errore TEXT
);
CREATE INDEX notifiche_utente ON notifiche (utente_id, letta_ms);
CREATE INDEX notifiche_email ON notifiche (email_stato, email_prossimo_ms);
CREATE INDEX notifiche_richiesta ON notifiche (richiesta_id);
