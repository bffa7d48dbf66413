# Small timing helpers for the benchmarks that time whole psql calls
# (transform.sh, citus.sh).  Sourced.
#   q ARGS...          psql, quiet, unaligned, stopping at the first error
#   timed LABEL ARGS.. q ARGS, printing the wall time; the seconds in $T
#   ratio A B          A / B with two decimals
#   settle             CHECKPOINT and sync before a timed side
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
