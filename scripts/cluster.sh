# Throwaway PostgreSQL cluster with pg_elt preloaded, for the demo and the
# benchmarks.  Sourced; run as the unprivileged user (see common.sh).

# start_cluster DIR: initdb in DIR/data unless present, start the server on
# a free port with its socket in DIR, export PGHOST/PGPORT/PGDATABASE.  The
# secret key file is DIR/pg_elt_secret.key, outside the data directory.
start_cluster() {
	local dir="$1"
	local data="$dir/data"
	mkdir -p "$dir"
	if [ -f "$data/postmaster.pid" ]; then
		"$PG_BINDIR/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
	fi
	if [ ! -f "$data/PG_VERSION" ]; then
		"$PG_BINDIR/initdb" -D "$data" -A trust -U postgres --no-sync --encoding=UTF8 --no-locale >"$dir/initdb.log" 2>&1 || {
			cat "$dir/initdb.log" >&2
			return 1
		}
	fi
	PGPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	cat >"$data/postgresql.auto.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PGPORT
unix_socket_directories = '$dir'
shared_preload_libraries = 'pg_elt'
pg_elt.database = 'postgres'
pg_elt.allow_private_networks = on
pg_elt.secret_key_file = '../pg_elt_secret.key'
max_worker_processes = 32
${CLUSTER_EXTRA_CONF:-}
CONF
	"$PG_BINDIR/pg_ctl" -D "$data" -l "$dir/server.log" -w start >/dev/null || {
		tail -n 40 "$dir/server.log" >&2
		return 1
	}
	PGHOST="$dir"
	PGDATABASE=postgres
	PGUSER=postgres
	export PGHOST PGPORT PGDATABASE PGUSER
	CLUSTER_DATA="$data"
}

stop_cluster() {
	if [ -n "${CLUSTER_DATA:-}" ]; then
		"$PG_BINDIR/pg_ctl" -D "$CLUSTER_DATA" -m fast -w stop >/dev/null 2>&1 || true
	fi
}
