#!/bin/bash
# End to end, extract -> merge_dimension: 10,000 changed records fetched
# over HTTP from the mock API's member change feed (/members/changes,
# incremental by its seq cursor, pages of 5,000) into a stream's staging
# table, then merged with watermark => '_elt_batch_id' into a type 2
# dimension of 5,000,000 current members built from that staging table
# (aim: extract + merge under 1 s).
#
# The first load (version 0 of every member, exactly the records the feed
# documents) is written into the staging table by SQL, as batch 0: 5M
# records over HTTP from the Python mock API would time the mock API.  The
# dimension's first build is merge_dimension's own, from that staging table
# through the same source view.  Then each round publishes 10,000 changes
# (one new version of 10,000 members spread over the whole id range),
# CHECKPOINTs, and runs elt.extract and elt.merge_dimension, timed by the
# server's clock around each call; a round is checked: 10,000 records
# loaded, 10,000 versions closed, 10,000 inserted, the changed members'
# current versions the ones just extracted, and as many current members as
# before.  A warm-up round comes first, untimed.  Prints the median of
# BENCH_ROUNDS (3, at least 3) rounds, with the extract / merge split.
# Environment: PGHOST/PGPORT/PGDATABASE/PGUSER, MOCK_API_PORT, BENCH_ROUNDS;
# PIPELINE_BENCH_MEMBERS (5000000) and PIPELINE_BENCH_CHANGES (10000)
# shrink it for a quick try; PIPELINE_BENCH_EXPLAIN=1 adds a last, untimed
# round that prints the plans of the merge's statements (auto_explain,
# with ANALYZE, BUFFERS and WAL).
set -euo pipefail
. "$(dirname "$0")/lib/compare.sh"
base="http://127.0.0.1:$MOCK_API_PORT"
MEMBERS=${PIPELINE_BENCH_MEMBERS:-5000000}
CHANGES=${PIPELINE_BENCH_CHANGES:-10000}
AIM=1.0
rounds=${BENCH_ROUNDS:-3}
[ "$rounds" -ge 3 ] || rounds=3

sql() { bench_sql "$@"; }
publish() { curl -sf -X POST "$base/_control/members/advance?changes=$1" >/dev/null; }

MERGE="elt.merge_dimension('bench.dim_member', 'bench.members_v', '{member_id}',
	effective_at => 'updated_at', ignore_columns => '{_elt_batch_id,seq}',
	watermark => '_elt_batch_id', deletes => 'close', deleted_flag => 'deleted')"

bench_settings "mock API on loopback, same machine; $MEMBERS members, $CHANGES changes a round"
curl -sf -X POST "$base/_control/members/reset" >/dev/null
sql >/dev/null <<SQL
SET client_min_messages = warning;
SELECT elt.drop_source(name, cascade => true) FROM elt.source WHERE name = 'bench_members';
DROP SCHEMA IF EXISTS bench CASCADE;
CREATE SCHEMA bench;
SELECT elt.create_source('bench_members', '$base', options => '{"timeout": "300 s"}');
SELECT elt.create_stream('bench_members', 'changes', '/members/changes',
						 params => '{"members": $MEMBERS, "limit": 5000}', records => '\$.members',
						 pagination => '{"type": "cursor", "cursor_path": "\$.next_cursor", "param": "cursor"}',
						 incremental => '{"cursor_field": "\$.seq", "param": "after", "initial": 0}',
						 target => 'bench.stg_members');
-- nothing is published yet: this extract creates the staging table, empty
SELECT elt.extract('bench_members.changes');
SQL
[ "$(sql -c "SELECT count(*) FROM bench.stg_members")" = 0 ] || { echo "the feed was not empty" >&2; exit 1; }

t0=$(date +%s.%N)
sql >/dev/null <<SQL
-- the first load: version 0 of every member, as the mock API documents it
INSERT INTO bench.stg_members (_elt_batch_id, _elt_loaded_at, _elt_record)
SELECT 0, now(), jsonb_build_object('seq', 0, 'member_id', i, 'version', 0, 'name', 'member ' || i,
		'email', 'member' || i || '@example.com',
		'city', (ARRAY['Oslo', 'Rome', 'Lima', 'Paris', 'Nice', 'Kyoto', 'Accra', 'Quito'])[1 + i % 8],
		'tier', (ARRAY['basic', 'silver', 'gold', 'platinum'])[1 + (i / 7) % 4],
		'updated_at', to_char(timestamp '2024-01-01' + i * interval '1 second', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
		'deleted', false)
  FROM generate_series(1, $MEMBERS) AS i;
VACUUM ANALYZE bench.stg_members;
-- the typed source a pipeline merges from: one row per record
CREATE VIEW bench.members_v AS
SELECT _elt_batch_id, (_elt_record->>'seq')::bigint AS seq, (_elt_record->>'member_id')::bigint AS member_id,
	   (_elt_record->>'version')::int AS version, _elt_record->>'name' AS name,
	   _elt_record->>'email' AS email, _elt_record->>'city' AS city, _elt_record->>'tier' AS tier,
	   (_elt_record->>'updated_at')::timestamptz AS updated_at, (_elt_record->>'deleted')::boolean AS deleted
  FROM bench.stg_members;
SQL
t1=$(date +%s.%N)
printf 'first load of %d records into the staging table, by SQL (not compared): %.1f s\n' "$MEMBERS" "$(echo "$t1 - $t0" | bc -l)"
t0=$t1
built=$(sql -c "SELECT format('inserted %s', inserted) FROM $MERGE")
sql -c "VACUUM ANALYZE bench.dim_member"
t1=$(date +%s.%N)
printf 'first build of the dimension by merge_dimension, %s (not compared): %.1f s\n' "$built" "$(echo "$t1 - $t0" | bc -l)"
current=$(sql -c "SELECT count(*) FROM bench.dim_member WHERE is_current AND member_key <> -1")
[ "$current" = "$MEMBERS" ] || { echo "the first build has $current current members, not $MEMBERS" >&2; exit 1; }

# one round: publish, checkpoint, extract and merge, each timed by the
# server's clock; prints "extract_s merge_s"
round() {
	local out batch records pages inserted updated closed unchanged te tm
	publish "$CHANGES" || return 1
	sql -c "CHECKPOINT" || return 1
	out=$(sql -F ' ' <<SQL
SET client_min_messages = warning;
SELECT extract(epoch FROM clock_timestamp()) AS t0 \gset
SELECT batch_id, records, pages FROM elt.extract('bench_members.changes') \gset
SELECT extract(epoch FROM clock_timestamp()) AS t1 \gset
SELECT inserted, updated, closed, unchanged FROM $MERGE \gset
SELECT extract(epoch FROM clock_timestamp()) AS t2 \gset
SELECT :batch_id, :records, :pages, :inserted, :updated, :closed, :unchanged, :t1 - :t0, :t2 - :t1;
SQL
	) || return 1
	read -r batch records pages inserted updated closed unchanged te tm <<<"$out"
	[ "$records" = "$CHANGES" ] && [ "$inserted" = "$CHANGES" ] && [ "$closed" = "$CHANGES" ] &&
		[ "$updated" = 0 ] && [ "$unchanged" = 0 ] || {
		echo "batch $batch: $records records in $pages pages, inserted $inserted, updated $updated, closed $closed, unchanged $unchanged; expected $CHANGES records, inserted and closed" >&2
		return 1
	}
	out=$(sql -F ' ' <<SQL
SELECT (SELECT count(*) FROM bench.dim_member WHERE is_current AND member_key <> -1),
	   (SELECT count(*) FROM bench.stg_members AS s
		  JOIN bench.dim_member AS d ON d.member_id = (s._elt_record->>'member_id')::bigint AND d.is_current
		 WHERE s._elt_batch_id = $batch AND d.version = (s._elt_record->>'version')::int
		   AND d.valid_from = (s._elt_record->>'updated_at')::timestamptz AND d.city = s._elt_record->>'city'),
	   (SELECT count(*) FROM bench.stg_members AS s
		  JOIN bench.dim_member AS d ON d.member_id = (s._elt_record->>'member_id')::bigint AND NOT d.is_current
		 WHERE s._elt_batch_id = $batch AND d.version = (s._elt_record->>'version')::int - 1
		   AND d.valid_to = (s._elt_record->>'updated_at')::timestamptz);
SQL
	) || return 1
	read -r current newest ended <<<"$out"
	[ "$current" = "$MEMBERS" ] && [ "$newest" = "$CHANGES" ] && [ "$ended" = "$CHANGES" ] || {
		echo "batch $batch: $current current members (expected $MEMBERS), $newest of the $CHANGES changed members at their new version, $ended of their previous versions ended at its time" >&2
		return 1
	}
	echo "$te $tm $pages"
}

echo
echo "extract -> merge_dimension of $CHANGES changed records from the mock API into a $MEMBERS-member type 2 dimension"
res=$(round) || exit 1
read -r te tm pages <<<"$res"
printf '  warm-up round (untimed): extract %.0f ms (%d pages), merge %.0f ms\n' "$(echo "$te * 1000" | bc -l)" "$pages" "$(echo "$tm * 1000" | bc -l)"
declare -a ext=() mrg=() tot=()
for r in $(seq 1 "$rounds"); do
	res=$(round) || exit 1
	read -r te tm pages <<<"$res"
	ext+=("$te")
	mrg+=("$tm")
	tot+=("$(echo "$te + $tm" | bc -l)")
	printf '  round %d: extract %.0f ms + merge %.0f ms = %.0f ms\n' "$r" "$(echo "$te * 1000" | bc -l)" \
		"$(echo "$tm * 1000" | bc -l)" "$(echo "(${tot[-1]}) * 1000" | bc -l)"
done
med_e=$(printf '%s\n' "${ext[@]}" | bench_median)
med_m=$(printf '%s\n' "${mrg[@]}" | bench_median)
med_t=$(printf '%s\n' "${tot[@]}" | bench_median)
printf '  median of %d rounds (CHECKPOINT before each): extract %.0f ms, merge %.0f ms, end to end %.0f ms (spread %.0f-%.0f ms)\n' \
	"$rounds" "$(echo "$med_e * 1000" | bc -l)" "$(echo "$med_m * 1000" | bc -l)" "$(echo "$med_t * 1000" | bc -l)" \
	"$(echo "$(printf '%s\n' "${tot[@]}" | sort -g | head -n 1) * 1000" | bc -l)" \
	"$(echo "$(printf '%s\n' "${tot[@]}" | sort -g | tail -n 1) * 1000" | bc -l)"
bench_aim "end-to-end extract + merge_dimension seconds" "$med_t" "$AIM"

if [ -n "${PIPELINE_BENCH_EXPLAIN:-}" ]; then
	publish "$CHANGES"
	echo
	echo "the merge's statements in one more round (auto_explain: ANALYZE, BUFFERS, WAL):"
	sql -c "SET client_min_messages = warning" -c "SELECT records FROM elt.extract('bench_members.changes')" >/dev/null
	sql -c "LOAD 'auto_explain'" -c "SET auto_explain.log_min_duration = 0" -c "SET auto_explain.log_analyze = on" \
		-c "SET auto_explain.log_buffers = on" -c "SET auto_explain.log_wal = on" -c "SET auto_explain.log_nested_statements = on" \
		-c "SET auto_explain.log_level = notice" -c "SET client_min_messages = notice" \
		-c "SELECT format('inserted %s, closed %s', inserted, closed) FROM $MERGE" 2>&1 | sed 's/^/  /'
fi

sql -c "SET client_min_messages = warning" -c "SELECT elt.drop_source('bench_members', cascade => true)" \
	-c "DROP SCHEMA bench CASCADE" >/dev/null
curl -sf -X POST "$base/_control/members/reset" >/dev/null
