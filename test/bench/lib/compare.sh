# Shared by the benchmarks in test/bench/.  Sourced, not run.
#
# A comparison runs pg_elt's side and its baseline on the same server and
# the same data, in rounds: each round runs both sides, the side that goes
# first alternating, each after its own untimed preparation and a
# CHECKPOINT.  A side's time is its median over the rounds; the ratio is
# pg_elt's median over the baseline's, printed with its spread (the lowest
# and the highest ratio of one round's two sides).
#
#   bench_settings [NOTE]
#       Print the server's settings that move timings (version,
#       shared_buffers, work_mem, max_wal_size, synchronous_commit, jit,
#       parallel workers), the machine's cores and load, and NOTE.
#   bench_compare LABEL PREP PGELT BASELINE [AIM]
#       BENCH_ROUNDS rounds (default 3, at least 3).  PREP, PGELT and
#       BASELINE are shell commands (functions, usually).  PREP is run with
#       the side's name ("pgelt" or "baseline") before it, untimed.  A side
#       prints nothing on stdout and is timed by its wall clock, or prints
#       only its own time in seconds (measured inside the server); it fails
#       the benchmark by exiting non-zero.  AIM, a number: the ratio must
#       be at most AIM, reported as met or NOT met (never an error: the
#       figures are for people to read).  Prints the medians, the ratio and
#       its spread; sets BENCH_PGELT and BENCH_BASELINE (median seconds),
#       BENCH_RATIO, BENCH_RATIO_MIN and BENCH_RATIO_MAX.
#   bench_aim TEXT VALUE LIMIT
#       Print "aim: TEXT VALUE <= LIMIT: met" (or NOT met).
#   bench_median
#       The median of the numbers on stdin, one a line.
#   bench_sql ARGS...
#       psql, quiet, unaligned, stopping at the first error.
# Environment: PGHOST/PGPORT/PGDATABASE/PGUSER (the benchmark's server),
# BENCH_ROUNDS.

bench_sql() { psql -qAtX -v ON_ERROR_STOP=1 "$@"; }

bench_median() {
	sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

bench_settings() {
	bench_sql <<'SQL'
SELECT format('server: PostgreSQL %s; shared_buffers %s, work_mem %s, maintenance_work_mem %s, '
			  'max_wal_size %s, synchronous_commit %s, fsync %s, jit %s, '
			  'max_parallel_workers_per_gather %s',
			  current_setting('server_version'), current_setting('shared_buffers'),
			  current_setting('work_mem'), current_setting('maintenance_work_mem'),
			  current_setting('max_wal_size'), current_setting('synchronous_commit'),
			  current_setting('fsync'), current_setting('jit'),
			  current_setting('max_parallel_workers_per_gather'));
SQL
	echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)${1:+; $1}"
}

# one side of a round: prepare, checkpoint, run; prints its seconds
bench_side() {
	local prep="$1" side="$2" cmd="$3" t0 t1 out
	$prep "$side" >/dev/null
	bench_sql -c "CHECKPOINT" >/dev/null
	t0=$(date +%s.%N)
	out=$($cmd) || { echo "benchmark side $side ($cmd) failed" >&2; return 1; }
	t1=$(date +%s.%N)
	if [ -z "$out" ]; then
		echo "$t1 - $t0" | bc -l
	elif [[ "$out" =~ ^[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?$ ]]; then
		echo "$out"
	else
		echo "benchmark side $side ($cmd) printed \"$out\", not its time" >&2
		return 1
	fi
}

bench_compare() {
	local label="$1" prep="$2" pgelt="$3" baseline="$4" aim="${5:-}"
	local rounds=${BENCH_ROUNDS:-3} round a b
	local -a ta=() tb=() ratios=()
	[ "$rounds" -ge 3 ] || rounds=3
	for round in $(seq 1 "$rounds"); do
		if [ $((round % 2)) -eq 1 ]; then
			a=$(bench_side "$prep" pgelt "$pgelt") || exit 1
			b=$(bench_side "$prep" baseline "$baseline") || exit 1
		else
			b=$(bench_side "$prep" baseline "$baseline") || exit 1
			a=$(bench_side "$prep" pgelt "$pgelt") || exit 1
		fi
		ta+=("$a")
		tb+=("$b")
		ratios+=("$(echo "$a / $b" | bc -l)")
	done
	BENCH_PGELT=$(printf '%s\n' "${ta[@]}" | bench_median)
	BENCH_BASELINE=$(printf '%s\n' "${tb[@]}" | bench_median)
	BENCH_RATIO=$(echo "$BENCH_PGELT / $BENCH_BASELINE" | bc -l)
	BENCH_RATIO_MIN=$(printf '%s\n' "${ratios[@]}" | sort -g | head -n 1)
	BENCH_RATIO_MAX=$(printf '%s\n' "${ratios[@]}" | sort -g | tail -n 1)
	printf '%s (median of %d rounds, alternated, CHECKPOINT before each side)\n' "$label" "$rounds"
	printf '  %-10s %8.3f s   rounds: %s\n' "baseline" "$BENCH_BASELINE" "$(printf '%.3f ' "${tb[@]}")"
	printf '  %-10s %8.3f s   rounds: %s\n' "pg_elt" "$BENCH_PGELT" "$(printf '%.3f ' "${ta[@]}")"
	printf '  ratio %.2fx (spread %.2f-%.2fx)' "$BENCH_RATIO" "$BENCH_RATIO_MIN" "$BENCH_RATIO_MAX"
	if [ -n "$aim" ]; then
		if [ "$(echo "$BENCH_RATIO <= $aim" | bc -l)" = 1 ]; then
			printf ', aim at most %.2fx: met\n' "$aim"
		else
			printf ', aim at most %.2fx: NOT met\n' "$aim"
		fi
	else
		echo
	fi
}

bench_aim() {
	local text="$1" value="$2" limit="$3"
	if [ "$(echo "$value <= $limit" | bc -l)" = 1 ]; then
		printf 'aim: %s %.2f <= %s: met\n' "$text" "$value" "$limit"
	else
		printf 'aim: %s %.2f <= %s: NOT met\n' "$text" "$value" "$limit"
	fi
}
