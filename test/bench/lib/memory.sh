# Memory of one backend while it works, for the benchmarks with a memory
# aim (extract.sh, export.sh).  Sourced, after compare.sh.
#
#   bench_memory APPNAME OUT PSQL_ARGS...
#
# runs psql with PSQL_ARGS in the background as application APPNAME, its
# output in OUT.  Its commands must reach a pg_sleep before the work: the
# backend is measured idle during that sleep, then sampled every 50 ms until
# psql ends.  Sets (in kB) idle_rss, idle_anon and idle_hwm (VmRSS, RssAnon,
# VmHWM when idle), peak_hwm and peak_anon; fails when psql fails.
bench_memory() {
	local app="$1" out="$2" client pid="" h a
	shift 2
	PGAPPNAME=$app psql -qAtX -v ON_ERROR_STOP=1 "$@" >"$out" 2>&1 &
	client=$!
	for _ in $(seq 1 100); do
		pid=$(bench_sql -c "SELECT pid FROM pg_stat_activity WHERE application_name = '$app' AND wait_event = 'PgSleep'")
		[ -n "$pid" ] && break
		sleep 0.05
	done
	[ -n "$pid" ] || { echo "could not find the benchmark backend" >&2; return 1; }
	sleep 0.5
	idle_rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
	idle_anon=$(awk '/^RssAnon:/ {print $2}' "/proc/$pid/status")
	idle_hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")
	peak_hwm=$idle_rss
	peak_anon=$idle_anon
	while kill -0 "$client" 2>/dev/null && [ -r "/proc/$pid/status" ]; do
		h=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
		a=$(awk '/^RssAnon:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
		[ -n "$h" ] && [ "$h" -gt "$peak_hwm" ] && peak_hwm=$h
		[ -n "$a" ] && [ "$a" -gt "$peak_anon" ] && peak_anon=$a
		sleep 0.05
	done
	wait "$client" || { cat "$out" >&2; return 1; }
}
