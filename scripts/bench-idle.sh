#!/usr/bin/env bash
# Memory of idle inbound connections, measured: tern-loadgen opens CONNECTIONS sessions that
# greet (EHLO) and then wait (`--rate` puts their first message far in the future); once tern
# counts them all open, tern's resident memory is read from /proc, before and after.
#
#   scripts/bench-idle.sh [CONNECTIONS] [SHARDS]     e.g. scripts/bench-idle.sh 10000 1
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-common.sh
CONNECTIONS=${1:-10000}
SHARDS=${2:-1}
IP=127.0.0.63
TERN_PORT=25982
ADMIN_PORT=25983

cargo build --release -q --bin tern && cargo build --release -q -p tern-loadgen --bin tern-loadgen
WORK=$(mktemp -d /var/tmp/tern-bench-idle.XXXXXX)
cleanup() { kill "${TERN_PID:-}" "${SEND_PID:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

[ "$(ulimit -n)" -gt $((CONNECTIONS + 100)) ] || ulimit -n $((CONNECTIONS + 1000))
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
start_tern "[127.0.0.1]:9"
before=$(rss_kib "$TERN_PID")
# One message more than sessions: message 0 goes out at once, every session's next one is due
# CONNECTIONS / 0.0001 seconds later, so each holds its connection open after EHLO.
./target/release/tern-loadgen send --target "$IP:$TERN_PORT" --sessions "$CONNECTIONS" \
  --messages $((CONNECTIONS + 1)) --rate 0.0001 --duration 300s --domain remote.example > /dev/null &
SEND_PID=$!
open() { [ "$(metric 'tern_connections_inbound_current{virtual_server="bench"}')" = "$CONNECTIONS" ]; }
wait_until open
sleep 2
after=$(rss_kib "$TERN_PID")
echo "machine: $(nproc) cores, $(uname -r); tern shards=$SHARDS"
echo "tern RSS: $before KiB idle, $after KiB with $CONNECTIONS open inbound connections after EHLO"
awk -v a="$after" -v b="$before" -v n="$CONNECTIONS" \
  'BEGIN { printf "total %.1f MiB; %.1f KiB per connection\n", a / 1024, (a - b) / n }'
