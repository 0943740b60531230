-- Storing a large upload (issue 8). The rows of a request go in with multi-row INSERTs, in one
-- transaction. SQLite gives such a statement a statement journal, a copy of every page it
-- changes, whenever it might fail half-way and have to undo itself alone: here because of the
-- immediate foreign key to `richieste`. With the random keys of `identificativo_hmac` that is
-- about one 4 KiB page per row, written and thrown away. With the key checked at COMMIT
-- (DEFERRABLE INITIALLY DEFERRED) and the INSERT written `OR FAIL`, none is kept: a row that
-- breaks a constraint still fails the upload, and its transaction is rolled back whole.
-- ON DELETE CASCADE is an action, not a check: it still runs at once.
--
-- `cf_hmac` and `id_anpr_hmac` are filled only for TROVATO rows, by the worker. Their indexes
-- now leave out the NULLs that every new row brings (two index entries a row); the search
-- (`cf_hmac = ?`) still uses them.
--
-- SQLite cannot change a constraint in place: the table is rebuilt, with the same columns in
-- the same order, the same rows and ids, and its indexes. No table refers to `righe`.
CREATE TABLE righe_nuove (
    id INTEGER PRIMARY KEY,
    richiesta_id INTEGER NOT NULL
        REFERENCES richieste(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
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
    cf_hmac TEXT,
    id_anpr_hmac TEXT,
    UNIQUE (richiesta_id, numero)
);
INSERT INTO righe_nuove (id, richiesta_id, numero, tipo, identificativo, identificativo_hmac,
    riferimento, rilascio, motivo, duplicato_di, stato, esito, messaggio, id_operazioni,
    risultato_cifrato, lease_proprietario, lease_scadenza_ms, cf_hmac, id_anpr_hmac)
SELECT id, richiesta_id, numero, tipo, identificativo, identificativo_hmac,
    riferimento, rilascio, motivo, duplicato_di, stato, esito, messaggio, id_operazioni,
    risultato_cifrato, lease_proprietario, lease_scadenza_ms, cf_hmac, id_anpr_hmac
FROM righe ORDER BY id;
DROP TABLE righe;
ALTER TABLE righe_nuove RENAME TO righe;
CREATE INDEX righe_da_elaborare ON righe (stato, richiesta_id, numero);
CREATE INDEX righe_identificativo_hmac ON righe (identificativo_hmac);
CREATE INDEX righe_cf_hmac ON righe (cf_hmac) WHERE cf_hmac IS NOT NULL;
CREATE INDEX righe_id_anpr_hmac ON righe (id_anpr_hmac) WHERE id_anpr_hmac IS NOT NULL;
