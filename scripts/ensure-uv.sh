#!/usr/bin/env bash
# Make sure `uv` can be called, installing it with pip when it is missing.
#
#   bash scripts/ensure-uv.sh       install uv if needed (the Makefile's prerequisite)
#   source scripts/ensure-uv.sh     the same, and afterwards `uv ...` works in the sourcing
#                                   script even when pip put uv somewhere off PATH
#
# Kept free of `set -e`/`set -u` changes so it is safe to source from any script.

_estate_bff_ensure_uv() {
    if command -v uv >/dev/null 2>&1; then
        return 0
    fi
    if ! python3 -m uv --version >/dev/null 2>&1; then
        echo "uv not found: installing it with pip (python3 -m pip install --quiet uv)" >&2
        python3 -m pip install --quiet uv \
            || python3 -m pip install --quiet --break-system-packages uv \
            || { echo "error: could not install uv; see https://docs.astral.sh/uv/" >&2; return 1; }
    fi
    if ! command -v uv >/dev/null 2>&1; then
        # pip installed it into a scripts directory that is not on PATH: go through Python.
        uv() { python3 -m uv "$@"; }
    fi
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    _estate_bff_ensure_uv
else
    _estate_bff_ensure_uv || return 1
fi
