-- Duplicate rows still waiting for their original's outcome (issue 8). After every chunk the
-- engine copies finished originals' outcomes to their duplicates (`Store::completa_duplicati`);
-- without this index that statement reads every row of the request, a million times a
-- thousand chunks for the largest ones. The index holds only the duplicates not yet final.
CREATE INDEX righe_duplicati_in_attesa ON righe (richiesta_id, duplicato_di)
    WHERE duplicato_di IS NOT NULL AND stato <> 'FINALE';
