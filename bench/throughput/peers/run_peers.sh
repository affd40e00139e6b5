#!/usr/bin/env bash
# Usage: run_peers.sh DATA.tsv OUTDIR
# One process per (library, model) so each peak RSS is that entry's own. Results go to
# OUTDIR/<library>_<model>.json, entry logs to OUTDIR/<library>_<model>.log, and all result
# lines to OUTDIR/peers.jsonl.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 DATA.tsv OUTDIR" >&2; exit 2; }
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PY="$HERE/../../.venv-peers/bin/python"
[ -x "$PY" ] || { echo "missing venv: run $HERE/setup_env.sh first" >&2; exit 1; }
DATA="$(realpath "$1")"
OUT="$2"
mkdir -p "$OUT"
: > "$OUT/peers.jsonl"
status=0
for lib in deepctr_torch fuxictr; do
  for model in deepfm nfm fm; do
    name="${lib}_${model}"
    # Throughput is only comparable on an otherwise idle machine: log the load before each entry.
    load="$(cut -d' ' -f1 /proc/loadavg)"
    echo "== $name (loadavg $load)" >&2
    awk -v l="$load" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }' \
      && echo "   warning: machine is busy; torch threads will be oversubscribed" >&2
    if "$PY" "$HERE/${lib}_entry.py" --data "$DATA" --model "$model" --json "$OUT/$name.json" \
        2> "$OUT/$name.log"; then
      cat "$OUT/$name.json" >> "$OUT/peers.jsonl"
    else
      echo "!! $name failed, see $OUT/$name.log" >&2
      status=1
    fi
  done
done
exit $status
