-- ---------------------------------------------------------------------------
-- Data intervals, backfill and pipelines triggered by other pipelines
-- (docs/pipelines.md)
--
-- Every run may cover a data interval (elt.run.interval_start and
-- interval_end): a scheduled run the time from the previous fire time to
-- its own, a backfill run one interval of the schedule, a run started by
-- another pipeline's success the interval of that run.
-- ---------------------------------------------------------------------------

CREATE FUNCTION elt.run_interval(OUT interval_start timestamptz, OUT interval_end timestamptz)
RETURNS record
LANGUAGE sql STABLE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT r.interval_start, r.interval_end FROM elt.run r
	WHERE r.run_id OPERATOR(pg_catalog.=) elt.current_run()
$$;
COMMENT ON FUNCTION elt.run_interval() IS
'The data interval of the run executing the current step (both NULL outside a run or for a run without one).';

CREATE FUNCTION elt.backfill(pipeline text, "from" timestamptz, "to" timestamptz)
RETURNS integer
AS 'MODULE_PATHNAME', 'elt_backfill'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION elt.backfill(text, timestamptz, timestamptz) IS
'Queue one run per interval of the pipeline''s schedule between two times, oldest first; returns how many runs were queued.';

CREATE FUNCTION elt._check_after(name text, owner regrole, after jsonb)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	upstream text;
BEGIN
	-- the option's shape (an array of names) is checked by _check_pipeline_options
	FOR upstream IN SELECT jsonb_array_elements_text(after) LOOP
		IF upstream = name THEN
			PERFORM elt._raise('42P17', format('pipeline "%s" cannot run after itself', name));  -- invalid_object_definition
		END IF;
		-- row-level security hides the pipelines of other roles
		IF NOT EXISTS (SELECT 1 FROM elt.pipeline p WHERE p.name = upstream
					   AND pg_has_role(_check_after.owner, p.owner, 'USAGE')) THEN
			PERFORM elt._raise('42704', format('pipeline "%s" named in option "after" does not exist', upstream));  -- undefined_object
		END IF;
	END LOOP;
END
$$;
COMMENT ON FUNCTION elt._check_after(text, regrole, jsonb) IS
'Internal: refuse an "after" option naming a pipeline the owner cannot see, or the pipeline itself.';

-- Alerts ---------------------------------------------------------------------

CREATE TABLE elt.alert (
	alert_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	run_id bigint NOT NULL REFERENCES elt.run ON DELETE CASCADE,
	pipeline text NOT NULL,
	owner regrole NOT NULL,
	event text NOT NULL CHECK (event IN ('failure', 'success', 'sla')),
	url text NOT NULL,
	status text NOT NULL CHECK (status IN ('sent', 'failed')),
	attempts integer NOT NULL,
	http_status integer,
	error text,
	created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX alert_run_idx ON elt.alert (run_id);
COMMENT ON TABLE elt.alert IS 'Alerts sent at the end of runs (webhook as written, outcome, attempts); pruned with their runs.';
SELECT pg_catalog.pg_extension_config_dump('elt.alert', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('elt.alert', 'alert_id')::regclass, '');
ALTER TABLE elt.alert ENABLE ROW LEVEL SECURITY;
CREATE POLICY alert_owner ON elt.alert
	USING (pg_catalog.pg_has_role(owner, 'USAGE'));
GRANT SELECT ON elt.alert TO PUBLIC;

CREATE FUNCTION elt._check_alert_url(url text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF url !~* '^https?://[^/]' THEN
		PERFORM elt._raise('22023', format('pipeline option "alert_url" must be an http or https URL, not "%s"', url));  -- invalid_parameter_value
	END IF;
END
$$;
COMMENT ON FUNCTION elt._check_alert_url(text) IS
'Internal: refuse an alert_url that is not an http or https URL.';
