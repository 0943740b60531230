-- Request ids are never reused. A discarded draft is deleted, and SQLite would hand its id
-- (when it was the highest) to the next request: the archive's "richiesta:<id>" entries and the
-- URLs built from the id would then name two requests. Ids now come from this counter on both
-- engines; it starts above every id in use and every id the archive has ever named.
CREATE TABLE id_richieste (
    unico INTEGER PRIMARY KEY CHECK (unico = 1),
    ultimo INTEGER NOT NULL
);
INSERT INTO id_richieste (unico, ultimo)
SELECT 1, MAX(
    (SELECT COALESCE(MAX(id), 0) FROM richieste),
    (SELECT COALESCE(MAX(CAST(substr(oggetto, 11) AS INTEGER)), 0) FROM audit_entries
     WHERE oggetto LIKE 'richiesta:%')
);

-- The timeline and the activity log read the chain by object and by scope.
CREATE INDEX audit_entries_oggetto ON audit_entries (oggetto);
CREATE INDEX audit_entries_comune ON audit_entries (comune, id);
CREATE INDEX audit_entries_ente ON audit_entries (ente, id);
