-- consultazioni: "chi ha consultato questo soggetto?" (GDPR art. 15, issue 6).
-- Every row keeps keyed hashes (HMAC-SHA256, key `hmac_identificativi`, see store::conservazione)
-- so that a person is found whichever identifier was used to ask for them:
--   identificativo_hmac  of the submitted identifier, from the row's creation (0001 filled it
--                        only at the retention purge);
--   cf_hmac              of the CF that ANPR returned for a TROVATO row, hashed with the same
--                        kind code as a submitted CF ('CF');
--   id_anpr_hmac         of the idANPR that ANPR returned for a TROVATO row, with the kind code
--                        of a submitted idANPR ('IDANPR').
-- One hash of the searched value is compared with all three columns.
ALTER TABLE righe ADD COLUMN cf_hmac TEXT;
ALTER TABLE righe ADD COLUMN id_anpr_hmac TEXT;
CREATE INDEX righe_identificativo_hmac ON righe (identificativo_hmac);
CREATE INDEX righe_cf_hmac ON righe (cf_hmac);
CREATE INDEX righe_id_anpr_hmac ON righe (id_anpr_hmac);
