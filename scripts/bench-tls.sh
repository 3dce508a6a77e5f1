#!/usr/bin/env bash
# STARTTLS cost, measured: handshakes per second against tern, and intake throughput of the
# same message load with and without STARTTLS (examples/tls_handshakes.rs, blocking rustls
# client threads). Everything stays on loopback; mail is relayed to a closed port and stays
# queued, so only the intake path is measured.
#
#   scripts/bench-tls.sh [SECONDS] [THREADS] [SIZE] [SHARDS]     e.g. scripts/bench-tls.sh 10 8 4096 0
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-common.sh
SECONDS_=${1:-10}
THREADS=${2:-8}
SIZE=${3:-4096}
SHARDS=${4:-0}
IP=127.0.0.62
TERN_PORT=25972
ADMIN_PORT=25973

cargo build --release -q --bin tern --example tls_handshakes && cargo build --release -q -p tern-loadgen --bin tern-loadgen
WORK=$(mktemp -d /var/tmp/tern-bench-tls.XXXXXX)
cleanup() { kill "${TERN_PID:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

./target/release/tern gen-cert --name bench.tern.test --out "$WORK/certs" >/dev/null
start_tern "[127.0.0.1]:9" "[tls]
certificate = \"$WORK/certs/cert.pem\"
key = \"$WORK/certs/key.pem\""

load() { # mode -> the example's summary line
  ./target/release/examples/tls_handshakes --addr "$IP:$TERN_PORT" --ca "$WORK/certs/cert.pem" \
    --name bench.tern.test --mode "$1" --threads "$THREADS" --seconds "$SECONDS_" --size "$SIZE"
}

echo "machine: $(nproc) cores, $(uname -r); tern shards=$SHARDS; client: $THREADS threads, ${SECONDS_}s per run, ${SIZE}-byte messages"
echo "STARTTLS handshakes (connect, EHLO, STARTTLS, handshake, EHLO, QUIT): $(load handshakes)"
echo "intake without TLS (one connection per thread): $(load plain)"
echo "intake with STARTTLS (one handshake per connection): $(load tls)"
pipelined() { # extra send options -> "N msg/s (accept p99 X ms)"
  ./target/release/tern-loadgen send --target "$IP:$TERN_PORT" --sessions 50 --size "$SIZE" --duration "${SECONDS_}s" \
    --domain remote.example "$@" --json > "$WORK/send.json"
  local rate p99
  rate=$(grep -m1 '"accepted_per_s":' "$WORK/send.json" | sed 's/.*: //; s/,$//')
  p99=$(grep -A8 '"accept_latency_us":' "$WORK/send.json" | grep -m1 '"p99":' | sed 's/.*: //; s/,$//')
  awk -v r="$rate" -v p="$p99" 'BEGIN { printf "%.0f msg/s (accept p99 %.2f ms)", r, p / 1000 }'
}
echo "pipelined intake, tern-loadgen send, 50 sessions, without TLS: $(pipelined)"
echo "pipelined intake, tern-loadgen send, 50 sessions, STARTTLS:    $(pipelined --starttls)"
echo "tern: handshakes ok $(metric 'tern_tls_handshakes_total{virtual_server="bench",result="success"}'), failed $(metric 'tern_tls_handshakes_total{virtual_server="bench",result="failure"}'), messages received $(metric 'tern_messages_received_total{virtual_server="bench"}')"
