-- Monitoring ------------------------------------------------------------------

-- A monitoring role reads every role's history without being able to change
-- anything or to act as those roles: members of pg_monitor see all batches,
-- runs, step runs, model builds, check results and pipelines (not source
-- or stream definitions, whose headers are the owners' business).  Errors
-- in this history never carry a secret's value.
CREATE POLICY batch_monitor ON elt.batch FOR SELECT
	USING (pg_catalog.pg_has_role('pg_monitor', 'USAGE'));
CREATE POLICY run_monitor ON elt.run FOR SELECT
	USING (pg_catalog.pg_has_role('pg_monitor', 'USAGE'));
CREATE POLICY step_run_monitor ON elt.step_run FOR SELECT
	USING (pg_catalog.pg_has_role('pg_monitor', 'USAGE'));
CREATE POLICY pipeline_monitor ON elt.pipeline FOR SELECT
	USING (pg_catalog.pg_has_role('pg_monitor', 'USAGE'));
CREATE POLICY model_run_monitor ON elt.model_run FOR SELECT
	USING (pg_catalog.pg_has_role('pg_monitor', 'USAGE'));
CREATE POLICY check_result_monitor ON elt.check_result FOR SELECT
	USING (pg_catalog.pg_has_role('pg_monitor', 'USAGE'));
