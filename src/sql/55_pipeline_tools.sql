
-- ---------------------------------------------------------------------------
-- Pipeline tools (docs/pipelines.md): the one-call schedule of a command,
-- the DAG of a pipeline as text, the timeline of a run, what a step said,
-- and the refusal of schedules that no scheduler would fire.
--
-- Everything here runs as the caller: row-level security on elt.pipeline,
-- elt.step, elt.run and elt.step_run decides what exists for a role, so
-- another role's pipeline or run "does not exist".
-- ---------------------------------------------------------------------------

-- What a step said: its NOTICE/WARNING messages and the first row of its
-- last statement, masked of secret values and capped in size.
ALTER TABLE elt.step_run ADD COLUMN messages jsonb;
ALTER TABLE elt.step_run ADD COLUMN result text;
COMMENT ON COLUMN elt.step_run.rows IS
'Rows processed by the last statement of the step''s command (SPI_processed): returned, inserted, updated or deleted.';
COMMENT ON COLUMN elt.step_run.messages IS
'INFO, NOTICE and WARNING messages the attempt raised: [{"level": ..., "message": ...}], at most 100 of 1000 characters, secret values masked.';
COMMENT ON COLUMN elt.step_run.result IS
'The first row of the last statement''s result as column=value text (at most 1000 characters, secret values masked), NULL when it returned no rows.';

-- Schedules only where a scheduler fires them ------------------------------

CREATE FUNCTION elt._require_scheduler(pipeline text)
RETURNS void
AS 'MODULE_PATHNAME', 'elt_require_scheduler'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION elt._require_scheduler(text) IS
'Internal: raise an error when no pg_elt scheduler runs for the current database.';

CREATE FUNCTION elt._pipeline_schedule_check()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NEW.schedule IS NOT NULL
	   AND (TG_OP = 'INSERT' OR NEW.schedule IS DISTINCT FROM OLD.schedule) THEN
		PERFORM elt._require_scheduler(NEW.name);
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION elt._pipeline_schedule_check() IS
'Internal: refuse a schedule in a database where no scheduler would fire it.';

CREATE TRIGGER pipeline_schedule_check BEFORE INSERT OR UPDATE ON elt.pipeline
	FOR EACH ROW EXECUTE FUNCTION elt._pipeline_schedule_check();

-- One call for the simple case ----------------------------------------------

CREATE FUNCTION elt.schedule(name text, schedule text, command text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	id bigint;
	nsteps bigint;
BEGIN
	IF schedule.name IS NULL OR schedule.schedule IS NULL OR schedule.command IS NULL THEN
		RAISE EXCEPTION 'name, schedule and command must not be null'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	SELECT p.pipeline_id INTO id FROM elt.pipeline p WHERE p.name = schedule.name FOR UPDATE;
	IF id IS NULL THEN
		id := elt.create_pipeline(schedule.name, schedule.schedule);
	ELSE
		SELECT count(*) INTO nsteps FROM elt.step s WHERE s.pipeline_id = id;
		IF nsteps > 1 OR EXISTS (SELECT 1 FROM elt.step s
								 WHERE s.pipeline_id = id AND s.name <> 'command') THEN
			RAISE EXCEPTION 'pipeline "%" already exists and is not a one-command pipeline', schedule.name
				USING ERRCODE = 'duplicate_object',
					  HINT = 'elt.schedule() replaces only the pipelines it made; change this one with elt.alter_pipeline() and elt.add_step().';
		END IF;
		UPDATE elt.pipeline p SET schedule = schedule.schedule WHERE p.pipeline_id = id;
		DELETE FROM elt.step s WHERE s.pipeline_id = id;
	END IF;
	INSERT INTO elt.step (pipeline_id, name, position, command)
	VALUES (id, 'command', 1, schedule.command);
	RETURN id;
END
$$;
COMMENT ON FUNCTION elt.schedule(text, text, text) IS
'Schedule one SQL command (as pg_cron''s cron.schedule): creates, or replaces, the one-step pipeline of that name and returns its id.';

CREATE FUNCTION elt.unschedule(name text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	id bigint := elt._pipeline_id(unschedule.name, true);
BEGIN
	IF EXISTS (SELECT 1 FROM elt.step s WHERE s.pipeline_id = id AND s.name <> 'command') THEN
		RAISE EXCEPTION 'pipeline "%" is not a one-command pipeline', unschedule.name
			USING ERRCODE = 'wrong_object_type',
				  HINT = 'Drop it with elt.drop_pipeline().';
	END IF;
	PERFORM elt.drop_pipeline(unschedule.name);
	RETURN true;
END
$$;
COMMENT ON FUNCTION elt.unschedule(text) IS
'Drop a pipeline made by elt.schedule(), with its history; refused while it runs.';

-- The DAG of a pipeline -----------------------------------------------------

CREATE FUNCTION elt._step_levels(pipeline_id bigint)
RETURNS TABLE (level integer, step text, depends_on text[], "position" integer, command text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	-- a step's level is one more than the highest level of its dependencies
	WITH RECURSIVE lv(name, level) AS (
		SELECT s.name, 0 FROM elt.step s
		WHERE s.pipeline_id = $1 AND cardinality(s.depends_on) = 0
		UNION ALL
		SELECT s.name, lv.level + 1
		FROM lv JOIN elt.step s ON s.pipeline_id = $1 AND lv.name = ANY (s.depends_on)
		WHERE lv.level < 10000
	)
	SELECT max(lv.level)::integer, s.name, s.depends_on, s.position, s.command
	FROM lv JOIN elt.step s ON s.pipeline_id = $1 AND s.name = lv.name
	GROUP BY s.name, s.depends_on, s.position, s.command
	ORDER BY 1, s.position, s.name
$$;
COMMENT ON FUNCTION elt._step_levels(bigint) IS
'Internal: the steps of a pipeline the caller may see, by level of the DAG, in run order.';

CREATE FUNCTION elt.pipeline_levels(name text)
RETURNS TABLE (level integer, step text, depends_on text[], "position" integer, command text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT * FROM elt._step_levels(elt._pipeline_id($1))
$$;
COMMENT ON FUNCTION elt.pipeline_levels(text) IS
'The steps of a pipeline by level of the DAG (0: no dependencies), with their dependencies, in run order.';

CREATE FUNCTION elt.pipeline_graph(name text, format text DEFAULT 'mermaid')
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	fmt text := lower(coalesce(pipeline_graph.format, ''));
	lines text[];
	ids jsonb;
BEGIN
	IF fmt NOT IN ('mermaid', 'dot') THEN
		RAISE EXCEPTION 'unknown graph format "%"', pipeline_graph.format
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'The formats are mermaid and dot.';
	END IF;
	-- node ids by run order, so that any step name is safe in the text
	SELECT coalesce(jsonb_object_agg(g.step, 's' || g.n), '{}') INTO ids
	FROM elt.pipeline_levels(pipeline_graph.name) WITH ORDINALITY
		AS g(level, step, depends_on, "position", command, n);
	IF fmt = 'mermaid' THEN
		lines := ARRAY['flowchart LR'];
		lines := lines || ARRAY(
			SELECT format('    %s["%s"]', ids->>g.step,
						  replace(replace(replace(replace(g.step, '&', '#amp;'), '"', '#quot;'),
										  '<', '#lt;'), '>', '#gt;'))
			FROM elt.pipeline_levels(pipeline_graph.name) g);
		lines := lines || ARRAY(
			SELECT format('    %s --> %s', ids->>d, ids->>g.step)
			FROM elt.pipeline_levels(pipeline_graph.name) g, unnest(g.depends_on) WITH ORDINALITY AS u(d, k)
			ORDER BY g.level, g.position, u.k);
	ELSE
		lines := ARRAY[format('digraph "%s" {', replace(replace(pipeline_graph.name, '\', '\\'), '"', '\"')),
					   '    rankdir=LR;'];
		lines := lines || ARRAY(
			SELECT format('    %s [label="%s"];', ids->>g.step,
						  replace(replace(g.step, '\', '\\'), '"', '\"'))
			FROM elt.pipeline_levels(pipeline_graph.name) g);
		lines := lines || ARRAY(
			SELECT format('    %s -> %s;', ids->>d, ids->>g.step)
			FROM elt.pipeline_levels(pipeline_graph.name) g, unnest(g.depends_on) WITH ORDINALITY AS u(d, k)
			ORDER BY g.level, g.position, u.k);
		lines := lines || '}'::text;
	END IF;
	RETURN array_to_string(lines, E'\n');
END
$$;
COMMENT ON FUNCTION elt.pipeline_graph(text, text) IS
'The DAG of a pipeline as Mermaid (flowchart) or Graphviz DOT text.';

-- The timeline of a run -----------------------------------------------------

CREATE FUNCTION elt.run_timeline(run_id bigint)
RETURNS TABLE (step text, attempt integer, status text, level integer,
			   queued_at timestamptz, started_at timestamptz, finished_at timestamptz,
			   waited interval, duration interval, start_offset interval, error text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r elt.run;
BEGIN
	IF run_timeline.run_id IS NULL THEN
		RAISE EXCEPTION 'run id must not be null'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	SELECT * INTO r FROM elt.run x WHERE x.run_id = run_timeline.run_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'run % does not exist', run_timeline.run_id
			USING ERRCODE = 'undefined_object';
	END IF;
	-- a step is queued when the run starts or its last dependency finishes,
	-- and a retry when the attempt before it ends
	RETURN QUERY
	WITH lv AS (
		SELECT g.step, g.level, g.depends_on
		FROM elt._step_levels(r.pipeline_id) g
	), attempts AS (
		SELECT sr.step, sr.attempt, sr.status, sr.started_at, sr.finished_at, sr.error,
			   lag(sr.finished_at) OVER (PARTITION BY sr.step ORDER BY sr.attempt) AS previous_end
		FROM elt.step_run sr WHERE sr.run_id = r.run_id
	), ready AS (
		SELECT lv.step, lv.level,
			   greatest(r.started_at,
						(SELECT max(sr.finished_at) FROM elt.step_run sr
						 WHERE sr.run_id = r.run_id AND sr.step = ANY (lv.depends_on))) AS ready_at
		FROM lv
	)
	SELECT a.step, a.attempt, a.status, rd.level,
		   coalesce(a.previous_end, rd.ready_at, r.started_at),
		   a.started_at, a.finished_at,
		   a.started_at - coalesce(a.previous_end, rd.ready_at, r.started_at),
		   a.finished_at - a.started_at,
		   a.started_at - r.started_at,
		   a.error
	FROM attempts a LEFT JOIN ready rd ON rd.step = a.step
	ORDER BY coalesce(a.started_at, a.finished_at), rd.level, a.step, a.attempt;
END
$$;
COMMENT ON FUNCTION elt.run_timeline(bigint) IS
'Each step attempt of a run with when it was queued, started and finished, its wait and duration (a Gantt view of the run).';
