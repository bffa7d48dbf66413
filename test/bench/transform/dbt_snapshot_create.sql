-- dbt's first snapshot run (build_snapshot_table, check strategy):
-- CREATE TABLE AS the source plus dbt_scd_id, dbt_updated_at,
-- dbt_valid_from and dbt_valid_to.
CREATE TABLE bench.dbt_user_snapshot AS
SELECT *,
	   md5(coalesce(cast(id AS varchar), '') || '|' || coalesce(cast(now()::timestamp without time zone AS varchar), '')) AS dbt_scd_id,
	   now()::timestamp without time zone AS dbt_updated_at,
	   now()::timestamp without time zone AS dbt_valid_from,
	   nullif(now()::timestamp without time zone, now()::timestamp without time zone) AS dbt_valid_to
  FROM (SELECT * FROM bench.user_v1) AS sbq;
