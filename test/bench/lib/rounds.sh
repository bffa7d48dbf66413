# Small timing helpers for the benchmarks that time whole psql calls
# (transform.sh, citus.sh).  Sourced.
#   q ARGS...          psql, quiet, unaligned, stopping at the first error
#   timed LABEL ARGS.. q ARGS, printing the wall time; the seconds in $T
#   ratio A B          A / B with two decimals
#   settle             CHECKPOINT and sync before a timed side
#   settle_reading T.. the same after reading the tables T (every side
#                      starts with its own inputs just read, whatever ran
#                      before it) and after autovacuum has gone idle
#   median V...        the median of the values
#   spread A... B...   the lowest and highest per-round ratio A[i] / B[i]

q() {
	psql -X -q -v ON_ERROR_STOP=1 -At "$@"
}

# timed LABEL ARGS...: run psql with ARGS, print the wall time, keep it in $T.
timed() {
	local label="$1"
	shift
	local start end out
	start=$(date +%s.%N)
	out=$(q "$@")
	end=$(date +%s.%N)
	T=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
	printf '  %-44s %8.2f s   %s\n' "$label" "$T" "$out"
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'
}

# settle: before each timed side, write everything out (CHECKPOINT, then
# the kernel's dirty pages), so that no side pays for another's writes and
# all start with the same full-page-write state.
settle() {
	q -c "CHECKPOINT"
	sync
}

# settle_reading TABLE...: read each table (into the kernel's cache, and
# into shared buffers as far as they hold it), wait until no autovacuum
# worker runs (at most a minute), then settle.  So that a side's time does
# not depend on which side ran before it: each starts with its own inputs
# read last and nothing else running.
settle_reading() {
	local t i
	for t in "$@"; do
		q -c "SELECT count(*) FROM $t" >/dev/null
	done
	for i in $(seq 1 120); do
		[ "$(q -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'")" = 0 ] && break
		sleep 0.5
	done
	settle
}

median() {
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# spread A... / B...: the lowest and highest per-round ratio A[i] / B[i]
spread() {
	local n=$(($# / 2)) i lo="" hi=""
	local -a v=("$@")
	for ((i = 0; i < n; i++)); do
		local r
		r=$(ratio "${v[$i]}" "${v[$((i + n))]}")
		lo=$(awk -v a="$r" -v b="${lo:-$r}" 'BEGIN { print (a < b ? a : b) }')
		hi=$(awk -v a="$r" -v b="${hi:-$r}" 'BEGIN { print (a > b ? a : b) }')
	done
	echo "$lo-$hi"
}
