# Shared helpers for the project's scripts.  Sourced, not run.

PG_MAJOR=15
# A PG_CONFIG from the environment (a private install while developing)
# brings its own server binaries.
if [ -n "${PG_CONFIG:-}" ]; then
	PG_BINDIR=$(dirname "$PG_CONFIG")
else
	PG_BINDIR=/usr/lib/postgresql/$PG_MAJOR/bin
	PG_CONFIG=$PG_BINDIR/pg_config
fi
export PG_CONFIG

# Builds for development and CI treat compiler warnings as errors; the
# Makefile itself does not, for packagers with other compilers.  PGXS adds
# COPT to its compiler flags.
case " ${COPT:-} " in
*" -Werror "*) ;;
*) COPT="${COPT:+$COPT }-Werror" ;;
esac
export COPT

# Run a command as root: directly when we are root, through sudo otherwise.
as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	else
		sudo -n "$@" 2>/dev/null || sudo "$@"
	fi
}

# The unprivileged user that owns test servers.  initdb refuses root, so
# root hands the work to "postgres" (created by the postgresql packages).
run_user() {
	if [ "$(id -u)" -eq 0 ]; then
		echo postgres
	else
		id -un
	fi
}

# Run a command as the unprivileged user, keeping the given environment.
as_run_user() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- env "PATH=$PATH" "$@"
	else
		"$@"
	fi
}

log() {
	printf '==> %s\n' "$*"
}
