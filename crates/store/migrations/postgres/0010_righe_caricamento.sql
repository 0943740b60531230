-- Storing a large upload (issue 8). `cf_hmac` and `id_anpr_hmac` are filled only for TROVATO
-- rows, by the worker. Their indexes now leave out the NULLs that every new row brings (two
-- index entries a row); the search (`cf_hmac = $1`, a strict operator) still uses them.
-- (SQLite's 0010 also defers its foreign key from `righe` to `richieste`, for its statement
-- journal; PostgreSQL keeps none, so its key stays as it is.)
DROP INDEX righe_cf_hmac;
DROP INDEX righe_id_anpr_hmac;
CREATE INDEX righe_cf_hmac ON righe (cf_hmac) WHERE cf_hmac IS NOT NULL;
CREATE INDEX righe_id_anpr_hmac ON righe (id_anpr_hmac) WHERE id_anpr_hmac IS NOT NULL;
