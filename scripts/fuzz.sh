#!/usr/bin/env bash
# `make fuzz`: schemathesis over the whole OpenAPI of a running API, signed in, with every check.
#
# Starts its own world and removes it again: a fresh database (migrated, seeded), a private
# Azurite (Blob Storage), a Vitec simulator, a worker that runs one full sync (so estates, images and jobs exist for the stateful
# phase to reach), and the API on a free port. Needs PostgreSQL on 127.0.0.1:5432 and Redis on
# 127.0.0.1:6379, as the tests do. Passes with 0 server errors and 0 failed checks.
#
# Knobs: FUZZ_SECONDS (time budget of schemathesis, default 150), FUZZ_ARGS (extra arguments).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

say() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

FUZZ_SECONDS=${FUZZ_SECONDS:-150}
RUN_ID="$(date +%s)$$"
LOG_DIR="$(mktemp -d -t estate-bff-fuzz.XXXXXX)"
free_port() { uv run python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
API_PORT=$(free_port)
SIMULATOR_PORT=$(free_port)
AZURITE_PORT=$(free_port)
API="http://127.0.0.1:$API_PORT"

# Only this run's names: a run never meets the tests, `make run` or another fuzz run.
export ENVIRONMENT=test LOG_LEVEL=WARNING
export DATABASE_URL="postgresql+asyncpg://postgres@127.0.0.1:5432/estate_bff_fuzz_$RUN_ID"
export REDIS_URL="redis://127.0.0.1:6379/14"
export JOB_STREAM="estate-bff:fuzz:$RUN_ID:jobs" JOB_CONSUMER_GROUP="estate-bff:fuzz:$RUN_ID:workers"
export JOB_WORKER_METRICS_PORT=0 VITEC_SYNC_INTERVAL_SECONDS=0
export VITEC_BASE_URL="http://127.0.0.1:$SIMULATOR_PORT" SIMULATOR_ESTATES=40
export SEED_VITEC_INSTALLATION_ID=DEMOINSTALL SEED_ADMIN_EMAIL="fuzz-$RUN_ID@example.com"
export SEED_ADMIN_PASSWORD="fuzz-password-$RUN_ID"
# Every fuzzed login would otherwise cost a full Argon2 hash on two shared cores.
export PASSWORD_HASH_MEMORY_KIB=1024 PASSWORD_HASH_TIME_COST=1 PASSWORD_HASH_PARALLELISM=1
# The fuzzer signs in far more often than a person: the limits themselves are tested elsewhere.
export LOGIN_RATE_LIMIT=100000/minute JOB_CREATE_RATE_LIMIT=100000/minute

PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    uv run python -c 'import asyncio, os; from repository.databases import drop_database; asyncio.run(drop_database(os.environ["DATABASE_URL"]))' \
        >/dev/null 2>&1 || true
    redis-cli -n 14 DEL "$JOB_STREAM" >/dev/null 2>&1 || true
}
trap cleanup EXIT

start() {  # name, command...: in the background, its output in the log directory
    local name=$1
    shift
    "$@" >"$LOG_DIR/$name.log" 2>&1 &
    PIDS+=($!)
}

wait_http() {  # url: until it answers, at most 60 s
    local tries
    for ((tries = 0; tries < 120; tries++)); do
        curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
        sleep 0.5
    done
    die "$1 does not answer (logs: $LOG_DIR)"
}

say "a private Azurite on 127.0.0.1:$AZURITE_PORT"
bash scripts/azurite.sh ensure
start azurite bash scripts/azurite.sh exec "$AZURITE_PORT" "$LOG_DIR/azurite"
AZURE_STORAGE_CONNECTION_STRING=$(uv run python -c 'import sys; from core.settings import AZURITE_CONNECTION_STRING as s; print(s.replace(":10000/", f":{sys.argv[1]}/"))' "$AZURITE_PORT")
export AZURE_STORAGE_CONNECTION_STRING AZURE_STORAGE_CONTAINER="fuzz-$RUN_ID"
for ((tries = 0; tries < 120; tries++)); do
    (exec 3<>"/dev/tcp/127.0.0.1/$AZURITE_PORT") 2>/dev/null && break
    sleep 0.5
done

say "database, migrations, seed"
uv run python -m cli ensure-database >/dev/null
uv run alembic upgrade head >/dev/null 2>&1 || die "alembic upgrade failed"
uv run python -m cli seed >/dev/null

say "simulator, worker and API (logs: $LOG_DIR)"
start vitec uv run uvicorn vitec_simulator.app:app --host 127.0.0.1 --port "$SIMULATOR_PORT" --log-level warning
start worker uv run taskiq worker worker.broker:broker worker.tasks --workers 1 --no-configure-logging
start api uv run uvicorn api.main:app --host 127.0.0.1 --port "$API_PORT" --no-access-log
wait_http "$VITEC_BASE_URL/_control/stats"
wait_http "$API/healthz"

TOKEN=$(curl -fsS "$API/api/v1/auth/token" --data-urlencode "username=$SEED_ADMIN_EMAIL" \
    --data-urlencode "password=$SEED_ADMIN_PASSWORD" | uv run python -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
AUTH="Authorization: Bearer $TOKEN"

say "a full sync, so the stateful phase finds estates, images and jobs"
JOB=$(curl -fsS -X POST "$API/api/v1/sync/vitec" -H "$AUTH" -H 'Content-Type: application/json' -d '{"mode": "full"}' \
    | uv run python -c 'import json, sys; print(json.load(sys.stdin)["id"])')
for ((tries = 0; tries < 240; tries++)); do
    status=$(curl -fsS "$API/api/v1/jobs/$JOB" -H "$AUTH" | uv run python -c 'import json, sys; print(json.load(sys.stdin)["status"])')
    [[ $status == succeeded ]] && break
    [[ $status == failed || $status == cancelled ]] && die "the sync ended $status (logs: $LOG_DIR)"
    sleep 0.5
done
[[ $status == succeeded ]] || die "the sync did not finish in 120 s (logs: $LOG_DIR)"

say "schemathesis, every check, $FUZZ_SECONDS s"
# shellcheck disable=SC2086  # FUZZ_ARGS is a list of arguments on purpose
uv run schemathesis run "$API/openapi.json" --checks all -H "$AUTH" --max-time "$FUZZ_SECONDS" \
    --workers 1 --seed 1 --no-color --generation-database none ${FUZZ_ARGS:-}
