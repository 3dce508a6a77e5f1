#!/usr/bin/env bash
# Mallocs per relayed message: a uprobe on libc's malloc counts tern's calls over seconds 3..9 of
# a 10 s `tern-loadgen bench`, divided by the messages the sink got in that window (--json
# timeline). The uprobe slows tern down a lot: the count is the result, not the rate.
# Needs: perf, root (uprobes). Build first: cargo build --release --workspace --bins
# Usage: scripts/bench-mallocs.sh [shards] [bin-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
SHARDS=${1:-1}
BIN=${2:-target/release}
LIBC=$(ldd "$BIN/tern" | awk '/libc.so.6/ {print $3}')
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
perf probe -q -x "$LIBC" malloc 2>/dev/null || true
"$BIN/tern-loadgen" bench --duration 10s --shards "$SHARDS" --tern "$BIN/tern" --json >"$OUT/bench.json" &
LOADGEN=$!
sleep 3
TERN=$(pgrep -n -x -P "$LOADGEN" tern)
perf stat -e probe_libc:malloc -p "$TERN" -x, -o "$OUT/perf.csv" -- sleep 6
wait "$LOADGEN"
python3 - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
report = json.load(open(f"{out}/bench.json"))
delivered = {round(e["t_s"]): e["delivered"] for e in report["timeline"]}
messages = delivered.get(9, 0) - delivered.get(3, 0)
mallocs = int(next(l for l in open(f"{out}/perf.csv") if "malloc" in l).split(",")[0])
missing = report["verdict"]["missing_count"]
print(f"mallocs {mallocs} messages {messages} mallocs/msg {mallocs / messages:.1f} missing {missing}")
PY
