
-- ---------------------------------------------------------------------------
-- Pipelines and scheduling (docs/pipelines.md)
--
-- Definitions live in elt.pipeline and elt.step, history in elt.run and
-- elt.step_run.  Row-level security shows each role only the pipelines it
-- owns (or whose owner it is a member of); superusers see all.  The
-- functions below run as the caller, so the same rules apply to them; the
-- triggers keep every definition valid whichever way it is written.
-- ---------------------------------------------------------------------------

CREATE TABLE elt.pipeline (
	pipeline_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name text NOT NULL UNIQUE,
	owner regrole NOT NULL DEFAULT elt._current_role(),
	schedule text,
	options jsonb NOT NULL DEFAULT '{}',
	paused boolean NOT NULL DEFAULT false,
	next_run_at timestamptz,
	created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE elt.pipeline IS 'Pipelines: a schedule, options and an owner; steps are in elt.step.';

CREATE TABLE elt.step (
	pipeline_id bigint NOT NULL REFERENCES elt.pipeline ON DELETE CASCADE,
	name text NOT NULL,
	position integer NOT NULL,
	command text NOT NULL,
	depends_on text[] NOT NULL DEFAULT '{}',
	retries integer,
	timeout interval,
	PRIMARY KEY (pipeline_id, name)
);
COMMENT ON TABLE elt.step IS 'Steps of pipelines: a SQL command each, forming a DAG through depends_on.';

CREATE TABLE elt.run (
	run_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	pipeline_id bigint NOT NULL REFERENCES elt.pipeline ON DELETE CASCADE,
	pipeline text NOT NULL,
	owner regrole NOT NULL,
	trigger text NOT NULL CHECK (trigger IN ('schedule', 'catchup', 'manual', 'trigger', 'backfill', 'after')),
	status text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'skipped')),
	scheduled_at timestamptz,
	queued_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	started_at timestamptz,
	finished_at timestamptz,
	pid integer,
	error text,
	interval_start timestamptz,
	interval_end timestamptz,
	triggered_by bigint,
	CHECK (interval_start <= interval_end)
);
CREATE INDEX run_pipeline_idx ON elt.run (pipeline_id, run_id);
CREATE INDEX run_active_idx ON elt.run (status) WHERE status IN ('queued', 'running');
CREATE INDEX run_finished_idx ON elt.run (finished_at);
COMMENT ON TABLE elt.run IS 'History of pipeline runs, pruned after pg_elt.history_retention.';

CREATE TABLE elt.step_run (
	run_id bigint NOT NULL REFERENCES elt.run ON DELETE CASCADE,
	step text NOT NULL,
	attempt integer NOT NULL,
	status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled', 'skipped')),
	started_at timestamptz,
	finished_at timestamptz,
	rows bigint,
	error text,
	PRIMARY KEY (run_id, step, attempt)
);
COMMENT ON TABLE elt.step_run IS 'Every attempt of every step of a run; a skipped step has attempt 0.';

SELECT pg_catalog.pg_extension_config_dump('elt.pipeline', '');
SELECT pg_catalog.pg_extension_config_dump('elt.step', '');
SELECT pg_catalog.pg_extension_config_dump('elt.run', '');
SELECT pg_catalog.pg_extension_config_dump('elt.step_run', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('elt.pipeline', 'pipeline_id')::regclass, '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('elt.run', 'run_id')::regclass, '');

ALTER TABLE elt.pipeline ENABLE ROW LEVEL SECURITY;
ALTER TABLE elt.step ENABLE ROW LEVEL SECURITY;
ALTER TABLE elt.run ENABLE ROW LEVEL SECURITY;
ALTER TABLE elt.step_run ENABLE ROW LEVEL SECURITY;
CREATE POLICY pipeline_owner ON elt.pipeline
	USING (pg_catalog.pg_has_role(owner, 'USAGE'))
	WITH CHECK (pg_catalog.pg_has_role(owner, 'USAGE'));
CREATE POLICY step_owner ON elt.step
	USING (EXISTS (SELECT 1 FROM elt.pipeline p WHERE p.pipeline_id = step.pipeline_id))
	WITH CHECK (EXISTS (SELECT 1 FROM elt.pipeline p WHERE p.pipeline_id = step.pipeline_id));
CREATE POLICY run_owner ON elt.run
	USING (pg_catalog.pg_has_role(owner, 'USAGE'));
CREATE POLICY step_run_owner ON elt.step_run
	USING (EXISTS (SELECT 1 FROM elt.run r WHERE r.run_id = step_run.run_id));

GRANT SELECT, INSERT, UPDATE, DELETE ON elt.pipeline, elt.step TO PUBLIC;
GRANT SELECT ON elt.run, elt.step_run TO PUBLIC;

-- C functions ---------------------------------------------------------------

CREATE FUNCTION elt.next_runs(schedule text, count integer DEFAULT 5,
	after timestamptz DEFAULT now(), timezone text DEFAULT NULL)
RETURNS SETOF timestamptz
AS 'MODULE_PATHNAME', 'elt_next_runs'
LANGUAGE C STABLE PARALLEL SAFE ROWS 5;
COMMENT ON FUNCTION elt.next_runs(text, integer, timestamptz, text) IS
'The next fire times of a schedule (cron, @-shorthand or interval) after a time, in a time zone (default pg_elt.timezone).';

CREATE FUNCTION elt.run_pipeline(name text, interval_start timestamptz DEFAULT NULL,
	interval_end timestamptz DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'elt_run_pipeline'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION elt.run_pipeline(text, timestamptz, timestamptz) IS
'Run a pipeline now, as its owner, for an optional data interval, and wait for the end of the run; returns the run id, raises an error when the run fails.';

CREATE FUNCTION elt.trigger(name text, interval_start timestamptz DEFAULT NULL,
	interval_end timestamptz DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'elt_trigger'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION elt.trigger(text, timestamptz, timestamptz) IS
'Queue a run of a pipeline for the scheduler, for an optional data interval, which starts it once the transaction commits; returns the run id.';

CREATE FUNCTION elt.cancel(run_id bigint)
RETURNS boolean
AS 'MODULE_PATHNAME', 'elt_cancel'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION elt.cancel(bigint) IS
'Cancel a queued run, or stop a running one at once; false when it had already finished.';

CREATE FUNCTION elt.current_run()
RETURNS bigint
AS 'MODULE_PATHNAME', 'elt_current_run'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION elt.current_run() IS
'The id of the run executing the current step, NULL outside a pipeline run.';

CREATE FUNCTION elt.scheduler_pid()
RETURNS integer
AS 'MODULE_PATHNAME', 'elt_scheduler_pid'
LANGUAGE C VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION elt.scheduler_pid() IS
'Process id of the pg_elt scheduler (launcher), NULL when it is not running.';

CREATE FUNCTION elt._wake_scheduler()
RETURNS void
AS 'MODULE_PATHNAME', 'elt_wake_scheduler'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION elt._wake_scheduler() IS
'Internal: wake the scheduler when the current transaction commits, so it sees changed definitions.';

CREATE FUNCTION elt._check_command(command text)
RETURNS void
AS 'MODULE_PATHNAME', 'elt_check_command'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION elt._check_command(text) IS
'Internal: raise a syntax error when a step command is not valid SQL.';

-- Validation triggers -------------------------------------------------------

CREATE FUNCTION elt._check_pipeline_options(options jsonb)
RETURNS void
AS 'MODULE_PATHNAME', 'elt_check_pipeline_options'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION elt._check_pipeline_options(jsonb) IS
'Internal: raise an error naming the first invalid pipeline option.';

CREATE FUNCTION elt._pipeline_before()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF btrim(NEW.name) = '' THEN
		PERFORM elt._raise('22023', 'pipeline name must not be empty');  -- invalid_parameter_value
	END IF;
	PERFORM elt._check_pipeline_options(NEW.options);
	IF NEW.options ? 'alert_url' THEN
		PERFORM elt._check_alert_url(NEW.options->>'alert_url');
	END IF;
	IF NEW.options ? 'after' THEN
		PERFORM elt._check_after(NEW.name, NEW.owner, NEW.options->'after');
	END IF;
	IF TG_OP = 'INSERT' OR NEW.schedule IS DISTINCT FROM OLD.schedule
	   OR NEW.options IS DISTINCT FROM OLD.options OR NEW.paused IS DISTINCT FROM OLD.paused THEN
		IF NEW.schedule IS NULL THEN
			NEW.next_run_at := NULL;
		ELSE
			-- also refuses a malformed schedule, naming the wrong field
			NEW.next_run_at := (SELECT t FROM elt.next_runs(NEW.schedule, 1, clock_timestamp(),
															 NEW.options->>'timezone') AS t);
		END IF;
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION elt._pipeline_before() IS
'Internal: validate a pipeline and compute its next run time when its schedule, options or pause change.';

CREATE FUNCTION elt._pipeline_changed()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	-- the scheduler's own updates of next_run_at need no wake-up
	IF elt.scheduler_pid() IS DISTINCT FROM pg_backend_pid() THEN
		PERFORM elt._wake_scheduler();
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION elt._pipeline_changed() IS
'Internal: wake the scheduler after a committed change of pipelines.';

CREATE TRIGGER pipeline_before BEFORE INSERT OR UPDATE ON elt.pipeline
	FOR EACH ROW EXECUTE FUNCTION elt._pipeline_before();
CREATE TRIGGER pipeline_changed AFTER INSERT OR UPDATE OR DELETE ON elt.pipeline
	FOR EACH STATEMENT EXECUTE FUNCTION elt._pipeline_changed();

CREATE FUNCTION elt._step_before()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	dep text;
	pname text;
BEGIN
	SELECT p.name INTO pname FROM elt.pipeline p WHERE p.pipeline_id = NEW.pipeline_id;
	IF btrim(NEW.name) = '' THEN
		PERFORM elt._raise('22023', 'step name must not be empty');  -- invalid_parameter_value
	END IF;
	IF btrim(NEW.command) = '' THEN
		PERFORM elt._raise('22023', format('command of step "%s" must not be empty', NEW.name));  -- invalid_parameter_value
	END IF;
	PERFORM elt._check_command(NEW.command);
	IF NEW.retries IS NOT NULL AND (NEW.retries < 0 OR NEW.retries > 1000) THEN
		PERFORM elt._raise('22023', format('retries of step "%s" must be between 0 and 1000', NEW.name));  -- invalid_parameter_value
	END IF;
	IF NEW.timeout IS NOT NULL AND NEW.timeout <= interval '0' THEN
		PERFORM elt._raise('22023', format('timeout of step "%s" must be positive', NEW.name));  -- invalid_parameter_value
	END IF;
	IF array_position(NEW.depends_on, NULL) IS NOT NULL THEN
		PERFORM elt._raise('22004', format('depends_on of step "%s" must not contain NULL', NEW.name));  -- null_value_not_allowed
	END IF;
	IF cardinality(NEW.depends_on) <> (SELECT count(DISTINCT d) FROM unnest(NEW.depends_on) d) THEN
		PERFORM elt._raise('22023', format('depends_on of step "%s" lists a step twice', NEW.name));  -- invalid_parameter_value
	END IF;
	FOREACH dep IN ARRAY NEW.depends_on LOOP
		IF dep = NEW.name THEN
			PERFORM elt._raise('42P17', format('step "%s" cannot depend on itself', NEW.name));  -- invalid_object_definition
		END IF;
		IF NOT EXISTS (SELECT 1 FROM elt.step s
					   WHERE s.pipeline_id = NEW.pipeline_id AND s.name = dep) THEN
			PERFORM elt._raise('42704', format('step "%s" depends on unknown step "%s"', NEW.name, dep),
				NULL,
				format('Add step "%s" to pipeline "%s" first.', dep, pname));  -- undefined_object
		END IF;
	END LOOP;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION elt._step_before() IS
'Internal: validate a step: a valid command, known dependencies, sane retries and timeout.';

CREATE FUNCTION elt._step_after()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	cycle text[];
BEGIN
	-- a path from the step back to itself through depends_on is a cycle
	WITH RECURSIVE walk(name, path) AS (
		SELECT d, ARRAY[NEW.name, d]
		FROM unnest(NEW.depends_on) d
		UNION ALL
		SELECT d, w.path || d
		FROM walk w
		JOIN elt.step s ON s.pipeline_id = NEW.pipeline_id AND s.name = w.name
		CROSS JOIN LATERAL unnest(s.depends_on) d
		WHERE w.name <> NEW.name AND cardinality(w.path) <= 1000
	)
	SELECT w.path INTO cycle FROM walk w WHERE w.name = NEW.name LIMIT 1;
	IF cycle IS NOT NULL THEN
		PERFORM elt._raise('42P17', format('step dependencies form a cycle: %s',
			array_to_string(ARRAY(SELECT format('"%s"', c) FROM unnest(cycle) c), ' -> ')));  -- invalid_object_definition
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION elt._step_after() IS
'Internal: refuse a change of steps that makes their dependencies circular.';

CREATE FUNCTION elt._step_before_delete()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	dependent text;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM elt.pipeline p WHERE p.pipeline_id = OLD.pipeline_id) THEN
		RETURN OLD;				-- the whole pipeline is being dropped
	END IF;
	SELECT s.name INTO dependent FROM elt.step s
	WHERE s.pipeline_id = OLD.pipeline_id AND OLD.name = ANY (s.depends_on)
	ORDER BY s.position LIMIT 1;
	IF dependent IS NOT NULL THEN
		PERFORM elt._raise('2BP01', format('step "%s" is a dependency of step "%s"', OLD.name, dependent));  -- dependent_objects_still_exist
	END IF;
	RETURN OLD;
END
$$;
COMMENT ON FUNCTION elt._step_before_delete() IS
'Internal: refuse to remove a step that another step depends on.';

CREATE TRIGGER step_before BEFORE INSERT OR UPDATE ON elt.step
	FOR EACH ROW EXECUTE FUNCTION elt._step_before();
CREATE TRIGGER step_after AFTER INSERT OR UPDATE ON elt.step
	FOR EACH ROW EXECUTE FUNCTION elt._step_after();
CREATE TRIGGER step_before_delete BEFORE DELETE ON elt.step
	FOR EACH ROW EXECUTE FUNCTION elt._step_before_delete();

-- Definition functions ------------------------------------------------------

CREATE FUNCTION elt._pipeline_id(name text, for_update boolean DEFAULT false)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	id bigint;
BEGIN
	IF name IS NULL THEN
		PERFORM elt._raise('22004', 'pipeline name must not be null');  -- null_value_not_allowed
	END IF;
	IF for_update THEN
		SELECT p.pipeline_id INTO id FROM elt.pipeline p WHERE p.name = _pipeline_id.name FOR UPDATE;
	ELSE
		SELECT p.pipeline_id INTO id FROM elt.pipeline p WHERE p.name = _pipeline_id.name;
	END IF;
	IF id IS NULL THEN
		PERFORM elt._raise('42704', format('pipeline "%s" does not exist', name));  -- undefined_object
	END IF;
	RETURN id;
END
$$;
COMMENT ON FUNCTION elt._pipeline_id(text, boolean) IS
'Internal: the id of a pipeline the current role may see, or an error.';

CREATE FUNCTION elt.create_pipeline(name text, schedule text DEFAULT NULL,
	options jsonb DEFAULT '{}')
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	id bigint;
BEGIN
	IF create_pipeline.name IS NULL THEN
		RAISE EXCEPTION 'pipeline name must not be null'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	BEGIN
		INSERT INTO elt.pipeline (name, schedule, options)
		VALUES (create_pipeline.name, create_pipeline.schedule,
				coalesce(create_pipeline.options, '{}'))
		RETURNING pipeline_id INTO id;
	EXCEPTION WHEN unique_violation THEN
		RAISE EXCEPTION 'pipeline "%" already exists', create_pipeline.name
			USING ERRCODE = 'duplicate_object';
	END;
	RETURN id;
END
$$;
COMMENT ON FUNCTION elt.create_pipeline(text, text, jsonb) IS
'Define a pipeline owned by the current role, with an optional schedule (cron, @-shorthand or interval) and options.';

CREATE FUNCTION elt.alter_pipeline(name text, schedule text DEFAULT NULL,
	options jsonb DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	id bigint := elt._pipeline_id(alter_pipeline.name, true);
BEGIN
	IF alter_pipeline.options IS NOT NULL AND jsonb_typeof(alter_pipeline.options) <> 'object' THEN
		RAISE EXCEPTION 'pipeline options must be a JSON object'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	UPDATE elt.pipeline p
	SET schedule = CASE WHEN alter_pipeline.schedule IS NULL THEN p.schedule
						WHEN lower(btrim(alter_pipeline.schedule)) = 'none' THEN NULL
						ELSE alter_pipeline.schedule END,
		options = CASE WHEN alter_pipeline.options IS NULL THEN p.options
					   ELSE jsonb_strip_nulls(p.options || alter_pipeline.options) END
	WHERE p.pipeline_id = id;
	RETURN format('pipeline "%s" altered', alter_pipeline.name);
END
$$;
COMMENT ON FUNCTION elt.alter_pipeline(text, text, jsonb) IS
'Change a pipeline''s schedule (''none'' removes it) and merge options (a null value removes an option).';

CREATE FUNCTION elt.add_step(pipeline text, name text, command text,
	depends_on text[] DEFAULT '{}', retries integer DEFAULT NULL,
	timeout interval DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	id bigint := elt._pipeline_id(add_step.pipeline, true);
BEGIN
	IF add_step.name IS NULL OR add_step.command IS NULL THEN
		RAISE EXCEPTION 'step name and command must not be null'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	BEGIN
		INSERT INTO elt.step (pipeline_id, name, position, command, depends_on, retries, timeout)
		VALUES (id, add_step.name,
				coalesce((SELECT max(s.position) + 1 FROM elt.step s WHERE s.pipeline_id = id), 1),
				add_step.command, coalesce(add_step.depends_on, '{}'),
				add_step.retries, add_step.timeout);
	EXCEPTION WHEN unique_violation THEN
		RAISE EXCEPTION 'step "%" already exists in pipeline "%"', add_step.name, add_step.pipeline
			USING ERRCODE = 'duplicate_object';
	END;
	RETURN format('step "%s" added to pipeline "%s"', add_step.name, add_step.pipeline);
END
$$;
COMMENT ON FUNCTION elt.add_step(text, text, text, text[], integer, interval) IS
'Add a step (a SQL command) to a pipeline, after the steps it depends on; retries and timeout override the pipeline''s.';

CREATE FUNCTION elt.drop_step(pipeline text, name text)
RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	id bigint := elt._pipeline_id(drop_step.pipeline, true);
BEGIN
	DELETE FROM elt.step s WHERE s.pipeline_id = id AND s.name = drop_step.name;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'step "%" does not exist in pipeline "%"', drop_step.name, drop_step.pipeline
			USING ERRCODE = 'undefined_object';
	END IF;
	RETURN format('step "%s" dropped from pipeline "%s"', drop_step.name, drop_step.pipeline);
END
$$;
COMMENT ON FUNCTION elt.drop_step(text, text) IS
'Remove a step that no other step depends on.';

CREATE FUNCTION elt.pause(name text)
RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	id bigint := elt._pipeline_id(pause.name, true);
BEGIN
	UPDATE elt.pipeline p SET paused = true WHERE p.pipeline_id = id;
	RETURN format('pipeline "%s" paused', pause.name);
END
$$;
COMMENT ON FUNCTION elt.pause(text) IS
'Stop scheduling a pipeline (runs in progress finish; queued runs wait).';

CREATE FUNCTION elt.resume(name text)
RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	id bigint := elt._pipeline_id(resume.name, true);
BEGIN
	UPDATE elt.pipeline p SET paused = false WHERE p.pipeline_id = id;
	RETURN format('pipeline "%s" resumed', resume.name);
END
$$;
COMMENT ON FUNCTION elt.resume(text) IS
'Schedule a paused pipeline again, from its next fire time after now.';

CREATE FUNCTION elt.drop_pipeline(name text)
RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	id bigint := elt._pipeline_id(drop_pipeline.name, true);
	active bigint;
BEGIN
	SELECT r.run_id INTO active FROM elt.run r
	WHERE r.pipeline_id = id AND r.status = 'running' LIMIT 1;
	IF active IS NOT NULL THEN
		RAISE EXCEPTION 'pipeline "%" has a run in progress', drop_pipeline.name
			USING ERRCODE = 'object_in_use',
				  HINT = format('Cancel run %s with elt.cancel() or wait for it to finish.', active);
	END IF;
	DELETE FROM elt.pipeline p WHERE p.pipeline_id = id;
	RETURN format('pipeline "%s" dropped', drop_pipeline.name);
END
$$;
COMMENT ON FUNCTION elt.drop_pipeline(text) IS
'Drop a pipeline, its steps and its run history; refused while a run is in progress.';

CREATE VIEW elt.pipeline_status WITH (security_invoker = true) AS
SELECT p.name AS pipeline,
	   p.owner,
	   p.schedule,
	   p.paused,
	   CASE WHEN NOT p.paused THEN p.next_run_at END AS next_run_at,
	   a.run_id AS active_run_id,
	   a.status AS active_status,
	   l.run_id AS last_run_id,
	   l.status AS last_status,
	   l.started_at AS last_started_at,
	   l.finished_at AS last_finished_at,
	   f.error AS last_error,
	   f.finished_at AS last_error_at
FROM elt.pipeline p
LEFT JOIN LATERAL (
	SELECT r.run_id, r.status FROM elt.run r
	WHERE r.pipeline_id = p.pipeline_id AND r.status IN ('queued', 'running')
	ORDER BY r.run_id LIMIT 1) a ON true
LEFT JOIN LATERAL (
	SELECT r.run_id, r.status, r.started_at, r.finished_at FROM elt.run r
	WHERE r.pipeline_id = p.pipeline_id AND r.status IN ('succeeded', 'failed', 'cancelled')
	ORDER BY r.run_id DESC LIMIT 1) l ON true
LEFT JOIN LATERAL (
	SELECT r.error, r.finished_at FROM elt.run r
	WHERE r.pipeline_id = p.pipeline_id AND r.status IN ('failed', 'cancelled')
	ORDER BY r.run_id DESC LIMIT 1) f ON true;
COMMENT ON VIEW elt.pipeline_status IS
'Each visible pipeline: schedule, next run, the run in progress, the last finished run and the last error.';
GRANT SELECT ON elt.pipeline_status TO PUBLIC;

-- wake a scheduler that waits for CREATE EXTENSION in its database
SELECT elt._wake_scheduler();
