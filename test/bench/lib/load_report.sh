# Shared by the scheduler and orchestration benchmarks.  Sourced, not run.
#
# load_report PREFIX HIT_TABLE START STOP [GOALS]: for the pipelines named
# PREFIX_%, every fire time between START and STOP (one a second): how many
# runs were expected, done, skipped, missed or doubled, and the start delay
# (from the scheduled time to the step's insert into HIT_TABLE).  GOALS, if
# given, is printed after the delay and done / expected lines.
load_report() {
	local prefix="$1" hit="$2" start="$3" stop="$4"
	local delay_goal="" done_goal=""
	if [ -n "${5:-}" ]; then
		delay_goal=" (goal < 50 ms, < 200 ms)"
		done_goal=" (goal 1.0)"
	fi
	psql -qAtX -v ON_ERROR_STOP=1 <<SQL
WITH w AS (SELECT timestamptz '$start' AS t0, timestamptz '$stop' AS t1),
runs AS (
	SELECT r.* FROM elt.run r, w
	WHERE r.pipeline LIKE '${prefix}\_%' AND r.scheduled_at >= w.t0 AND r.scheduled_at < w.t1),
fires AS (
	SELECT p.name, t FROM elt.pipeline p, w,
	generate_series(w.t0, w.t1 - interval '1 second', interval '1 second') t
	WHERE p.name LIKE '${prefix}\_%'),
per_fire AS (
	SELECT f.name, f.t, count(r.run_id) AS n,
		   count(*) FILTER (WHERE r.status = 'succeeded') AS ok,
		   count(*) FILTER (WHERE r.status = 'skipped') AS skipped
	FROM fires f LEFT JOIN runs r ON r.pipeline = f.name AND r.scheduled_at = f.t
	GROUP BY f.name, f.t),
lag AS (
	SELECT extract(epoch FROM h.at - r.scheduled_at) * 1000 AS ms
	FROM runs r JOIN $hit h ON h.run = r.run_id)
SELECT format(E'runs expected:    %s\n'
	'runs done:        %s\n'
	'skipped (overlap):%s\n'
	'runs missed:      %s\n'
	'runs doubled:     %s\n'
	'start delay:      median %s ms, 95th percentile %s ms$delay_goal\n'
	'done / expected:  %s$done_goal',
	count(*), sum(ok), sum(skipped),
	count(*) FILTER (WHERE n = 0 OR (ok = 0 AND skipped = 0)),
	count(*) FILTER (WHERE n > 1),
	(SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1) FROM lag),
	(SELECT round(percentile_cont(0.95) WITHIN GROUP (ORDER BY ms)::numeric, 1) FROM lag),
	round(sum(ok)::numeric / count(*), 3))
FROM per_fire;
SQL
}
