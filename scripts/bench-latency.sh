#!/usr/bin/env bash
# Accept latency (end of DATA to 250) of tern's durable intake at fixed offered loads:
# `tern-loadgen send --rate R` (open loop, 50 sessions) into tern relaying to a closed port, so
# only intake and the spool's syncs are measured. Then the same appends without tern: one
# 16 KiB O_DSYNC write at a time on the same file system, to show what the storage alone does.
# TERN_WORK_BASE chooses the file system of tern's data (default /var/tmp; /dev/shm = no disk).
#
#   scripts/bench-latency.sh RATE [RATE...]     e.g. scripts/bench-latency.sh 2000 8000
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-common.sh
[ $# -gt 0 ] || { echo "usage: $0 RATE [RATE...]" >&2; exit 2; }
SHARDS=${SHARDS:-1}
IP=127.0.0.64
TERN_PORT=25992
ADMIN_PORT=25993

cargo build --release -q --bin tern && cargo build --release -q -p tern-loadgen --bin tern-loadgen
WORK=$(mktemp -d "${TERN_WORK_BASE:-/var/tmp}/tern-bench-latency.XXXXXX")
cleanup() { kill "${TERN_PID:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

echo "machine: $(nproc) cores, $(uname -r); tern shards=$SHARDS; data on $(df --output=fstype "$WORK" | tail -1) ($WORK)"
start_tern "[127.0.0.1]:9"
for rate in "$@"; do
  echo "--rate $rate:"
  ./target/release/tern-loadgen send --target "$IP:$TERN_PORT" --rate "$rate" --duration 10s \
    --domain remote.example | sed -n '3,5p'
done
kill "$TERN_PID"; wait "$TERN_PID" 2>/dev/null || true
python3 - "$WORK/probe" <<'PY'
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_DSYNC, 0o644)
lat, off, buf, end = [], 0, b"x" * 16384, time.time() + 10
while time.time() < end:
    t = time.perf_counter(); os.pwrite(fd, buf, off); lat.append(time.perf_counter() - t); off += len(buf)
lat.sort()
q = lambda p: 1000 * lat[min(len(lat) - 1, int(len(lat) * p))]
print("storage alone, O_DSYNC 16 KiB appends one at a time for 10 s: %d writes/s, p50 %.2f p99 %.2f p99.9 %.2f max %.2f ms"
      % (len(lat) / 10, q(.5), q(.99), q(.999), 1000 * lat[-1]))
PY
