-- placeholder, filled by issue 6 work
SELECT 1;
