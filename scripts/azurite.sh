#!/usr/bin/env bash
# Azurite, the Blob Storage emulator, for `make run`, the test suite and `.ci/run`: the npm package
# pinned in scripts/azurite/package-lock.json, installed into scripts/azurite/node_modules (ignored
# by git) on first use.
#
#   scripts/azurite.sh ensure          install it when missing or out of date with the lock file
#   scripts/azurite.sh start [PORT]    start one in the background on 127.0.0.1:PORT (default
#                                      10000), data and log under .run/azurite; waits until it answers
#   scripts/azurite.sh stop            stop the one `start` started
#   scripts/azurite.sh exec PORT DIR   run one in the foreground (the test suite's private one)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PKG="$ROOT/scripts/azurite"
BIN="$PKG/node_modules/.bin/azurite-blob"
STAMP="$PKG/node_modules/.installed-lock"
RUN_DIR="$ROOT/.run/azurite"

die() { printf 'error: %s\n' "$*" >&2; exit 1; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

ensure() {
    if [[ -x $BIN && -f $STAMP ]] && cmp -s "$PKG/package-lock.json" "$STAMP"; then
        return 0
    fi
    command -v npm >/dev/null 2>&1 && command -v node >/dev/null 2>&1 \
        || die "Azurite (the local Blob Storage) needs Node.js 20+ and npm: install them (Debian/Ubuntu: apt-get install nodejs npm), or set AZURE_STORAGE_CONNECTION_STRING to a running Blob Storage"
    printf '==> installing Azurite (npm ci in scripts/azurite)\n' >&2
    # Azurite declares node >= 22 but runs on 20; its engine warnings are noise here.
    npm ci --prefix "$PKG" --no-audit --no-fund --loglevel=error >&2 \
        || die "npm ci in scripts/azurite failed (see above)"
    cp "$PKG/package-lock.json" "$STAMP"
}

# The flags every Azurite we start gets: blob service only, the SDK's newer API versions accepted.
run_foreground() {
    local port=$1 dir=$2
    mkdir -p "$dir"
    exec "$BIN" --blobHost 127.0.0.1 --blobPort "$port" --location "$dir" --skipApiVersionCheck --silent
}

start() {
    local port=${1:-10000} tries pid
    ensure
    mkdir -p "$RUN_DIR"
    port_open "$port" && die "something already listens on 127.0.0.1:$port"
    ( run_foreground "$port" "$RUN_DIR/data" ) >"$RUN_DIR/azurite.log" 2>&1 &
    pid=$!
    echo "$pid" >"$RUN_DIR/azurite.pid"
    for ((tries = 0; tries < 300; tries++)); do
        port_open "$port" && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    cat "$RUN_DIR/azurite.log" >&2
    die "Azurite did not start on 127.0.0.1:$port (log: .run/azurite/azurite.log)"
}

stop() {
    local pid tries
    [[ -f $RUN_DIR/azurite.pid ]] || return 0
    pid=$(<"$RUN_DIR/azurite.pid")
    rm -f "$RUN_DIR/azurite.pid"
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((tries = 0; tries < 50; tries++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

case ${1:-} in
    ensure) ensure ;;
    start) start "${2:-10000}" ;;
    stop) stop ;;
    exec)
        [[ $# -eq 3 ]] || die "usage: scripts/azurite.sh exec PORT DIR"
        ensure
        run_foreground "$2" "$3"
        ;;
    *) die "usage: scripts/azurite.sh ensure | start [PORT] | stop | exec PORT DIR" ;;
esac
