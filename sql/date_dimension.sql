-- elt.create_date_dimension: one row per day, calendar attributes, the
-- unknown member; extending keeps existing days.
SET timezone = 'UTC';
CREATE SCHEMA date_t;

SELECT elt.create_date_dimension('date_t.dim_date', '2024-12-28', '2025-01-06');
\d date_t.dim_date
SELECT * FROM date_t.dim_date ORDER BY date_key;

-- Extending: only the missing days are added; calling again adds nothing.
SELECT elt.create_date_dimension('date_t.dim_date', '2025-01-01', '2025-01-10');
SELECT elt.create_date_dimension('date_t.dim_date', '2025-01-01', '2025-01-10');
SELECT count(*) AS days, min("date"), max("date") FROM date_t.dim_date WHERE date_key <> -1;

-- A leap year, and quarters.
SELECT elt.create_date_dimension('date_t.dim_date_2024', '2024-01-01', '2024-12-31');
SELECT count(*) FILTER (WHERE date_key <> -1) AS days,
	   count(*) FILTER (WHERE is_weekend) AS weekend_days,
	   count(DISTINCT quarter) AS quarters,
	   max(day_of_year) AS last_day_of_year
  FROM date_t.dim_date_2024;
SELECT date_key, day_name, iso_week, iso_year FROM date_t.dim_date_2024
 WHERE "date" IN ('2024-02-29', '2024-12-30');

-- Refusals.
SELECT elt.create_date_dimension('date_t.dim_date', '2025-02-01', '2025-01-01');
SELECT elt.create_date_dimension('date_t.dim_date', '-infinity', '2025-01-01');
SELECT elt.create_date_dimension('date_t.dim_date', '0001-01-01 BC', '2025-01-01');
SELECT elt.create_date_dimension('date_t.dim_date', NULL, '2025-01-01');
CREATE TABLE date_t.not_a_calendar (id int);
SELECT elt.create_date_dimension('date_t.not_a_calendar', '2025-01-01', '2025-01-02');
SELECT elt.create_date_dimension('"date_t"."Cal; DROP"', '2025-01-01', '2025-01-02');
SELECT count(*) FROM date_t."Cal; DROP";

SELECT function, target, inserted FROM elt.model_run
 WHERE function = 'create_date_dimension' AND target LIKE 'date_t.%' ORDER BY id;
