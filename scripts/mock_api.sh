# Starts the bundled mock API on a loopback port and exports MOCK_API_PORT
# and MOCK_API_PID.  Sourced.  MOCK_API_CACHE_MB sizes its cache of built
# pages (256 MB).

# start_mock_api DIR [PORT]: a free port unless PORT is given (falling back
# to a free one when PORT is taken).  The server is stopped when the calling
# shell exits, unless MOCK_API_DETACH=1, which leaves it running on its own
# (the demo's playground) with its process id in DIR/mock_api.pid.
start_mock_api() {
	local dir="$1" want="${2:-0}" port
	mkdir -p "$dir"
	for port in $want 0; do
		rm -f "$dir/mock_api.port" "$dir/mock_api.pid"
		if [ "${MOCK_API_DETACH:-0}" = 1 ]; then
			setsid python3 test/mock_api/server.py --host 127.0.0.1 --port "$port" \
				--cache-mb "${MOCK_API_CACHE_MB:-256}" \
				--port-file "$dir/mock_api.port" --pid-file "$dir/mock_api.pid" \
				</dev/null >"$dir/mock_api.log" 2>&1 &
		else
			python3 test/mock_api/server.py --host 127.0.0.1 --port "$port" \
				--cache-mb "${MOCK_API_CACHE_MB:-256}" \
				--port-file "$dir/mock_api.port" >"$dir/mock_api.log" 2>&1 &
		fi
		MOCK_API_PID=$!
		for _ in $(seq 1 100); do
			[ -s "$dir/mock_api.port" ] && break
			kill -0 "$MOCK_API_PID" 2>/dev/null || break
			sleep 0.1
		done
		[ -s "$dir/mock_api.port" ] && break
		kill "$MOCK_API_PID" 2>/dev/null || true
		[ "$port" = 0 ] && break
	done
	if [ ! -s "$dir/mock_api.port" ]; then
		echo "the mock API did not start; its log:" >&2
		cat "$dir/mock_api.log" >&2
		return 1
	fi
	MOCK_API_PORT=$(cat "$dir/mock_api.port")
	export MOCK_API_PORT MOCK_API_PID
	if [ "${MOCK_API_DETACH:-0}" != 1 ]; then
		trap 'kill $MOCK_API_PID 2>/dev/null || true' EXIT
	fi
}

# stop_mock_api DIR: stops a detached mock API started in DIR, if it still
# runs (the process id is checked to be that server, not a reused id).
stop_mock_api() {
	local dir="$1" pid
	[ -s "$dir/mock_api.pid" ] || return 0
	pid=$(cat "$dir/mock_api.pid")
	if [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'mock_api/server.py'; then
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null || true
	fi
	rm -f "$dir/mock_api.pid" "$dir/mock_api.port"
}
