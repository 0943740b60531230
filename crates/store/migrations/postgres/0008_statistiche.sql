-- statistiche (issue 6): what the statistics need that the schema did not keep.
-- When a request was approved (by a TOP or by silent consent) and when it was completed, stamped
-- by cambia_stato_richiesta with the store clock. Requests approved before this migration have
-- NULL and are left out of the durations (the audit chain still holds the times).
ALTER TABLE richieste ADD COLUMN convalidata_ms BIGINT;
ALTER TABLE richieste ADD COLUMN completata_ms BIGINT;
-- ANPR calls per request, service and Europe/Rome day of the call: one counter row, incremented
-- in the transaction that records the outcomes of a worker chunk (lease.rs registra_esiti), from
-- the call ids stored with each row. Counting at that point keeps the day the calls were made,
-- which righe.id_operazioni does not.
CREATE TABLE chiamate_anpr_giorno (
    richiesta_id BIGINT NOT NULL REFERENCES richieste(id) ON DELETE CASCADE,
    servizio TEXT NOT NULL,
    giorno TEXT NOT NULL,
    chiamate BIGINT NOT NULL,
    PRIMARY KEY (richiesta_id, servizio, giorno)
);
CREATE INDEX chiamate_anpr_giorno_giorno ON chiamate_anpr_giorno (giorno);
