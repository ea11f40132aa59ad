#!/usr/bin/env bash
# `make run`: the whole system on this machine with one command.
#
#   1. installs the locked dependencies (uv sync --frozen);
#   2. reads .env (the environment wins over it, as in the application's settings);
#   3. finds PostgreSQL and Redis: a service whose URL you set (environment or .env) is used as
#      it is; otherwise the local default (127.0.0.1:5432 / :6379) when it answers, else a
#      private instance under .run/ that this script starts now and stops on exit; Blob Storage
#      the same way (AZURE_STORAGE_CONNECTION_STRING or _ACCOUNT_URL set, else Azurite on
#      127.0.0.1:10000, else a private Azurite from npm, scripts/azurite.sh, data in .run/azurite);
#   4. creates and migrates the database and seeds the demo organization and admin;
#   5. starts the processes of the Procfile named in RUN_PROCESSES with honcho.
#
# Ctrl-C stops everything it started. Running it again reuses the private data directories.
#
# Knobs (environment or .env):
#   RUN_PROCESSES="vitec api worker scheduler"  the Procfile processes (vitec only without VITEC_BASE_URL) to start (space or comma separated)
#   RUN_PRIVATE_SERVICES=1     use private PostgreSQL/Redis even when the local defaults answer
#                              (for whichever of DATABASE_URL / REDIS_URL is not set)
#   RUN_POSTGRES_PORT=54329    first port tried for the private PostgreSQL
#   RUN_REDIS_PORT=63799       first port tried for the private Redis
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
RUN_DIR="$ROOT/.run"

say() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# State for the exit trap: what this script started and must stop again.
HONCHO_PID=""
STARTED_POSTGRES=0
STARTED_REDIS=0
STARTED_AZURITE=0
PG_BIN=""

# --- helpers -------------------------------------------------------------------------------

# Export KEY=VALUE lines of a dotenv file for keys not already in the environment.
load_dotenv() {
    local file=$1 line key value
    [[ -f $file ]] || return 0
    while IFS= read -r line || [[ -n $line ]]; do
        line=${line%$'\r'}
        [[ $line =~ ^[[:space:]]*(export[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*=[[:space:]]*(.*)$ ]] \
            || continue
        key=${BASH_REMATCH[2]}
        value=${BASH_REMATCH[3]}
        if [[ $value =~ ^\"(.*)\"[[:space:]]*(#.*)?$ ]]; then
            value=${BASH_REMATCH[1]}
        elif [[ $value =~ ^\'(.*)\'[[:space:]]*(#.*)?$ ]]; then
            value=${BASH_REMATCH[1]}
        else
            value=${value%%[[:space:]]#*}                    # an unquoted value's inline comment
            value=${value%"${value##*[![:space:]]}"}        # trailing blanks
        fi
        if [[ -z ${!key+set} ]]; then
            export "$key=$value"
        fi
    done <"$file"
}

# The URL with any password replaced by ***, for printing.
mask_url() { sed -E 's#(://[^:/@]*):[^@/]*@#\1:***@#' <<<"$1"; }

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# The first port from $1 on that nothing listens on (127.0.0.1).
free_port() {
    local port=$1 tries
    for ((tries = 0; tries < 100; tries++)); do
        if ! port_open 127.0.0.1 "$port"; then
            echo "$port"
            return 0
        fi
        port=$((port + 1))
    done
    echo "error: no free port in $1..$port" >&2
    return 1
}

cli() { uv run --frozen python -m cli "$@"; }

# PostgreSQL refuses to run as root: when we are root, run its tools as the postgres user.
as_postgres() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# The newest installed PostgreSQL's bin directory (Debian layout first, then PATH).
find_postgres_bin() {
    local initdb
    initdb=$(printf '%s\n' /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)
    if [[ -x $initdb ]]; then
        dirname "$initdb"
        return 0
    fi
    if initdb=$(command -v initdb) && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$initdb"
        return 0
    fi
    return 1
}

# --- private instances -----------------------------------------------------------------------

start_private_postgres() {
    local dir="$RUN_DIR/postgres"
    local data="$dir/data" port
    mkdir -p "$dir"
    if [[ $(id -u) -eq 0 ]]; then
        id postgres >/dev/null 2>&1 \
            || die "running as root, but there is no 'postgres' system user to run a private PostgreSQL as; set DATABASE_URL"
        chown postgres: "$dir"
        [[ ! -e $data ]] || chown -R postgres: "$data"
        as_postgres test -w "$dir" \
            || die "the postgres user cannot write to $dir (is a parent directory closed to other users?); set DATABASE_URL"
    fi
    if [[ ! -s $data/PG_VERSION ]]; then
        say "initialising a private PostgreSQL in .run/postgres (first run only)"
        rm -rf "$data"
        as_postgres "$PG_BIN/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --locale=C \
            >"$dir/initdb.log" 2>&1 \
            || { cat "$dir/initdb.log" >&2; die "initdb failed (log: .run/postgres/initdb.log)"; }
    fi
    if as_postgres "$PG_BIN/pg_ctl" status -D "$data" >/dev/null 2>&1; then
        # Left behind by a run that could not clean up (kill -9): reuse it, leave it running.
        port=$(sed -n 4p "$data/postmaster.pid")
        say "reusing the private PostgreSQL already running on 127.0.0.1:$port" \
            "(not stopped on exit; stop it with: $PG_BIN/pg_ctl stop -D $data)"
    else
        port=$(free_port "${RUN_POSTGRES_PORT:-54329}")
        say "starting a private PostgreSQL on 127.0.0.1:$port (data: .run/postgres)"
        STARTED_POSTGRES=1
        as_postgres "$PG_BIN/pg_ctl" start -D "$data" -l "$dir/postgres.log" -w -t 60 \
            -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=''" >/dev/null \
            || { tail -n 20 "$dir/postgres.log" >&2 || true; die "the private PostgreSQL did not start (log: .run/postgres/postgres.log)"; }
    fi
    export DATABASE_URL="postgresql+asyncpg://postgres@127.0.0.1:$port/estate_bff"
    cli wait-for postgres --timeout 30 || die "the private PostgreSQL does not answer on 127.0.0.1:$port"
}

stop_private_postgres() {
    local data="$RUN_DIR/postgres/data"
    if as_postgres "$PG_BIN/pg_ctl" status -D "$data" >/dev/null 2>&1; then
        say "stopping the private PostgreSQL"
        as_postgres "$PG_BIN/pg_ctl" stop -D "$data" -m fast -w -t 30 >/dev/null \
            || echo "warning: could not stop the private PostgreSQL in $data" >&2
    fi
}

# The pid in the private Redis's pidfile when that process is a running redis-server.
private_redis_pid() {
    local pidfile="$RUN_DIR/redis/redis.pid" pid
    [[ -s $pidfile ]] || return 1
    pid=$(<"$pidfile")
    [[ $(ps -o comm= -p "$pid" 2>/dev/null) == redis-server* ]] || return 1
    echo "$pid"
}

start_private_redis() {
    local dir="$RUN_DIR/redis" port
    command -v redis-server >/dev/null 2>&1 || die "Redis does not answer and redis-server is not installed; install Redis or set REDIS_URL"
    mkdir -p "$dir"
    if private_redis_pid >/dev/null && [[ -s $dir/port ]]; then
        port=$(<"$dir/port")
        say "reusing the private Redis already running on 127.0.0.1:$port" \
            "(not stopped on exit; stop it with: kill $(private_redis_pid))"
    else
        port=$(free_port "${RUN_REDIS_PORT:-63799}")
        say "starting a private Redis on 127.0.0.1:$port (dir: .run/redis)"
        rm -f "$dir/redis.pid"
        echo "$port" >"$dir/port"
        STARTED_REDIS=1
        redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
            --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
            || die "the private Redis did not start (log: .run/redis/redis.log)"
    fi
    export REDIS_URL="redis://127.0.0.1:$port/0"
    cli wait-for redis --timeout 15 || die "the private Redis does not answer on 127.0.0.1:$port"
}

stop_private_redis() {
    local pid tries
    for ((tries = 0; tries < 50; tries++)); do  # the daemon writes its pidfile just after forking
        pid=$(private_redis_pid) && break
        sleep 0.1
    done
    [[ -n ${pid:-} ]] || return 0
    say "stopping the private Redis"
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((tries = 0; tries < 100; tries++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

# --- exit: stop what we started, whatever way we leave ---------------------------------------

cleanup() {
    local rc=$?
    trap '' INT TERM
    trap - EXIT
    if [[ -n $HONCHO_PID ]] && kill -0 "$HONCHO_PID" 2>/dev/null; then
        kill -TERM "$HONCHO_PID" 2>/dev/null || true
        wait "$HONCHO_PID" 2>/dev/null || true
    fi
    if [[ $STARTED_REDIS -eq 1 ]]; then stop_private_redis; fi
    if [[ $STARTED_AZURITE -eq 1 ]]; then say "stopping the private Azurite"; bash scripts/azurite.sh stop; fi
    if [[ $STARTED_POSTGRES -eq 1 ]]; then stop_private_postgres; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- 1. dependencies ---------------------------------------------------------------------------

# shellcheck source=scripts/ensure-uv.sh
source "$ROOT/scripts/ensure-uv.sh"
say "installing the locked dependencies (uv sync --frozen)"
uv sync --frozen

# --- 2. configuration --------------------------------------------------------------------------

load_dotenv "$ROOT/.env"
# An empty value counts as not set (the application would otherwise read it as an empty URL).
for name in DATABASE_URL REDIS_URL AZURE_STORAGE_CONNECTION_STRING AZURE_STORAGE_ACCOUNT_URL; do
    if [[ -z ${!name:-} ]]; then unset "$name"; fi
done
DATABASE_URL_EXPLICIT=0
REDIS_URL_EXPLICIT=0
[[ -z ${DATABASE_URL:-} ]] || DATABASE_URL_EXPLICIT=1
[[ -z ${REDIS_URL:-} ]] || REDIS_URL_EXPLICIT=1

# The Procfile processes to start; later processes (worker, scheduler, ...) are added here.
# The bundled Vitec Hub simulator stands in for Vitec unless VITEC_BASE_URL points at a real Hub.
if [[ -z ${VITEC_BASE_URL:-} ]]; then
    DEFAULT_PROCESSES="vitec api worker scheduler"
else
    DEFAULT_PROCESSES="api worker scheduler"
fi
RUN_PROCESSES="${RUN_PROCESSES:-$DEFAULT_PROCESSES}"
RUN_PRIVATE_SERVICES="${RUN_PRIVATE_SERVICES:-0}"
export API_HOST="${API_HOST:-127.0.0.1}"
export API_PORT="${API_PORT:-8000}"
case $API_HOST in
    0.0.0.0 | :: | "[::]") API_PROBE_HOST=127.0.0.1 ;;
    *) API_PROBE_HOST=$API_HOST ;;
esac
if port_open "$API_PROBE_HOST" "$API_PORT"; then
    die "something already listens on $API_HOST:$API_PORT; stop it or choose another port: API_PORT=8001 make run"
fi

# --- 3. PostgreSQL -----------------------------------------------------------------------------

if [[ $DATABASE_URL_EXPLICIT -eq 1 ]]; then
    [[ $RUN_PRIVATE_SERVICES != 1 ]] || say "DATABASE_URL is set: RUN_PRIVATE_SERVICES does not apply to PostgreSQL"
    cli wait-for postgres --timeout 10 \
        || die "DATABASE_URL is set ($(mask_url "$DATABASE_URL")) but that PostgreSQL does not answer;" \
            "start it, or unset DATABASE_URL (environment and .env) to let make run start a private one"
    say "PostgreSQL: $(mask_url "$DATABASE_URL") (DATABASE_URL)"
elif [[ $RUN_PRIVATE_SERVICES != 1 ]] && cli wait-for postgres --timeout 0; then
    say "PostgreSQL: the local default answers (127.0.0.1:5432)"
else
    PG_BIN=$(find_postgres_bin) \
        || die "PostgreSQL does not answer on 127.0.0.1:5432 and no PostgreSQL installation was found" \
            "to start a private one; install PostgreSQL or set DATABASE_URL"
    start_private_postgres
fi

# --- 3b. Redis ---------------------------------------------------------------------------------

if [[ $REDIS_URL_EXPLICIT -eq 1 ]]; then
    [[ $RUN_PRIVATE_SERVICES != 1 ]] || say "REDIS_URL is set: RUN_PRIVATE_SERVICES does not apply to Redis"
    cli wait-for redis --timeout 10 \
        || die "REDIS_URL is set ($(mask_url "$REDIS_URL")) but that Redis does not answer;" \
            "start it, or unset REDIS_URL (environment and .env) to let make run start a private one"
    say "Redis: $(mask_url "$REDIS_URL") (REDIS_URL)"
elif [[ $RUN_PRIVATE_SERVICES != 1 ]] && cli wait-for redis --timeout 0; then
    say "Redis: the local default answers (127.0.0.1:6379)"
else
    start_private_redis
fi

# --- 3c. Blob Storage --------------------------------------------------------------------------

if [[ -n ${AZURE_STORAGE_ACCOUNT_URL:-} ]]; then
    say "Blob Storage: $AZURE_STORAGE_ACCOUNT_URL (AZURE_STORAGE_ACCOUNT_URL, DefaultAzureCredential)"
elif [[ -n ${AZURE_STORAGE_CONNECTION_STRING:-} ]]; then
    say "Blob Storage: AZURE_STORAGE_CONNECTION_STRING is set"
elif port_open 127.0.0.1 10000; then
    say "Blob Storage: Azurite answers on 127.0.0.1:10000"
else
    say "starting a private Azurite on 127.0.0.1:10000 (data: .run/azurite)"
    STARTED_AZURITE=1
    bash scripts/azurite.sh start 10000
fi

# --- 4. database and seed ----------------------------------------------------------------------

say "creating the database if missing"
cli ensure-database
say "migrating (alembic upgrade head)"
uv run --frozen alembic upgrade head
say "seeding the demo organization and admin"
cli seed
# The seeded organization syncs at once (the worker runs it when it starts), so /docs has data.
say "queueing a first Vitec sync of the demo organization"
cli sync --mode full || say "no first sync queued (see above)"

# --- 5. processes ------------------------------------------------------------------------------

read -r -a processes <<<"${RUN_PROCESSES//,/ }"
honcho_args=(-e /dev/null)  # .env is already in our environment, with the environment winning
[[ -t 1 ]] || honcho_args+=(--no-colour)
say "starting: ${processes[*]}"
# In the background, then `wait`: the traps above then run as soon as a signal arrives.
uv run --frozen honcho start "${honcho_args[@]}" -f Procfile "${processes[@]}" &
HONCHO_PID=$!

# The banner comes once the API listens, so it is not buried under the start-up logs.
for ((tries = 0; tries < 600; tries++)); do
    kill -0 "$HONCHO_PID" 2>/dev/null || break
    port_open "$API_PROBE_HOST" "$API_PORT" && break
    sleep 0.1
done
if kill -0 "$HONCHO_PID" 2>/dev/null; then
    cat <<BANNER

==============================================================================
  estate-bff is running ($(tr ' ' ',' <<<"${processes[*]}"))

  API docs:  http://$API_PROBE_HOST:$API_PORT/docs
  Admin:     ${SEED_ADMIN_EMAIL:-admin@demo.estate-bff.local}
  Password:  ${SEED_ADMIN_PASSWORD:-admin-password-change-me}

  Ctrl-C stops everything.
==============================================================================

BANNER
fi

status=0
wait "$HONCHO_PID" || status=$?
HONCHO_PID=""
exit "$status"
