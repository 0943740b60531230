-- Keyed hashes of identifiers shortened to 128 bits (issue 8). `identificativo_hmac`,
-- `cf_hmac` and `id_anpr_hmac` were the whole HMAC-SHA256 tag in hex, 64 digits; they are now
-- its first 32 digits (`store::conservazione`, RFC 2104 §5 allows a tag truncated to half the
-- hash). A million-row upload inserts into `righe_identificativo_hmac` at random places, and
-- with the whole tag that index outgrew the upload's page cache about twice: the upload took
-- 19 s instead of 14. A hash kept here is only ever compared with a hash computed now, so the
-- stored ones are cut the same way. Audit entries written before this (the archive searches,
-- the access checks) keep their 64 digits, as the chain requires: their first 32 digits are
-- the hash that later entries carry.
UPDATE righe SET identificativo_hmac = substr(identificativo_hmac, 1, 32)
    WHERE length(identificativo_hmac) > 32;
UPDATE righe SET cf_hmac = substr(cf_hmac, 1, 32) WHERE length(cf_hmac) > 32;
UPDATE righe SET id_anpr_hmac = substr(id_anpr_hmac, 1, 32) WHERE length(id_anpr_hmac) > 32;
