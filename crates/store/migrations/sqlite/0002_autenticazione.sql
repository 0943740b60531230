-- autenticazione: tables added with the web application (filled in by its owner).
SELECT 1;
