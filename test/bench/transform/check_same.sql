-- Both sides must end with the same current rows.
SELECT format('  same current rows on both sides: %s (%s current rows, %s versions in pg_elt, %s in dbt)',
	   CASE WHEN NOT EXISTS (
			(SELECT id, name, email, city, segment, score, updated_at FROM bench.dim_user
			  WHERE is_current AND user_key <> -1
			 EXCEPT
			 SELECT id, name, email, city, segment, score, updated_at FROM bench.dbt_user_snapshot
			  WHERE dbt_valid_to IS NULL)
			UNION ALL
			(SELECT id, name, email, city, segment, score, updated_at FROM bench.dbt_user_snapshot
			  WHERE dbt_valid_to IS NULL
			 EXCEPT
			 SELECT id, name, email, city, segment, score, updated_at FROM bench.dim_user
			  WHERE is_current AND user_key <> -1))
			THEN 'yes' ELSE 'NO' END,
	   (SELECT count(*) FROM bench.dim_user WHERE is_current AND user_key <> -1),
	   (SELECT count(*) FROM bench.dim_user WHERE user_key <> -1),
	   (SELECT count(*) FROM bench.dbt_user_snapshot));
-- ... and the hand-written merge and the floor's writes too.
SELECT format($q$SELECT format(%L,
	   CASE WHEN NOT EXISTS (
			(SELECT id, name, email, city, segment, score, updated_at, valid_from FROM bench.dim_user
			  WHERE is_current AND user_key <> -1
			 EXCEPT
			 SELECT id, name, email, city, segment, score, updated_at, valid_from FROM bench.%I
			  WHERE is_current)
			UNION ALL
			(SELECT id, name, email, city, segment, score, updated_at, valid_from FROM bench.%I
			  WHERE is_current
			 EXCEPT
			 SELECT id, name, email, city, segment, score, updated_at, valid_from FROM bench.dim_user
			  WHERE is_current AND user_key <> -1))
			THEN 'yes' ELSE 'NO' END)$q$, '  same current rows as ' || side || ': %s', tab, tab)
  FROM (VALUES ('the hand-written merge', 'hand_user'), ('the floor''s writes', 'floor_user')) AS v (side, tab)
\gexec
