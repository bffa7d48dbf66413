# Starts the bundled mock API on a free loopback port and exports
# MOCK_API_PORT; stops it when the calling shell exits.  Sourced.
# MOCK_API_CACHE_MB sizes its cache of built pages (256 MB).

start_mock_api() {
	local dir="$1"
	mkdir -p "$dir"
	rm -f "$dir/mock_api.port"
	python3 test/mock_api/server.py --host 127.0.0.1 --port 0 \
		--cache-mb "${MOCK_API_CACHE_MB:-256}" \
		--port-file "$dir/mock_api.port" >"$dir/mock_api.log" 2>&1 &
	MOCK_API_PID=$!
	for _ in $(seq 1 100); do
		[ -s "$dir/mock_api.port" ] && break
		sleep 0.1
	done
	if [ ! -s "$dir/mock_api.port" ]; then
		echo "the mock API did not start; its log:" >&2
		cat "$dir/mock_api.log" >&2
		return 1
	fi
	MOCK_API_PORT=$(cat "$dir/mock_api.port")
	export MOCK_API_PORT MOCK_API_PID
	trap 'kill $MOCK_API_PID 2>/dev/null || true' EXIT
}
