#!/usr/bin/env bash
# End-to-end relay benchmark (outbound engine issue): Postfix's smtp-source sends 4 KiB
# single-recipient messages to the relay, which delivers them to Postfix's smtp-sink. In one
# run: the client straight into the sink, then through tern, then through a throwaway Postfix
# instance (loopback only, its own config and queue directory). Reports accept rate (client
# elapsed) and end-to-end rate (until the relay's queue is empty).
# Needs: postfix (apt-get install postfix). Run as root (Postfix's master runs as root).
# Usage: scripts/bench-relay.sh [messages] [sessions] [size] [shards]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-common.sh
MSGS=${1:-50000}
SESS=${2:-50}
SIZE=${3:-4096}
SHARDS=${4:-0}
IP=127.0.0.71
SINK_PORT=25971
TERN_PORT=25972
ADMIN_PORT=25973
PFX_PORT=25974

command -v smtp-source >/dev/null || { echo "needs smtp-source: apt-get install postfix" >&2; exit 1; }
cargo build --release --bin tern -q
WORK=$(mktemp -d /var/tmp/tern-relay.XXXXXX)
chmod 755 "$WORK"  # Postfix daemons (user postfix) must reach their directories
cleanup() {
  kill "${SINK_PID:-}" "${TERN_PID:-}" 2>/dev/null || true
  [ -f "$WORK/postfix/etc/main.cf" ] && postfix -c "$WORK/postfix/etc" stop >/dev/null 2>&1 || true
  wait 2>/dev/null || true
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM  # exit runs the cleanup, which stops Postfix
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
rate() { awk -v m="$MSGS" -v t="$1" 'BEGIN { printf "%.0f", m / t }'; }
source_to() { # port
  smtp-source -d -s "$SESS" -l "$SIZE" -m "$MSGS" -f bench@sender.test -t rcpt@remote.example "$IP:$1"
}

SINK_USER=(); [ "$(id -u)" = 0 ] && SINK_USER=(-u nobody)
smtp-sink "${SINK_USER[@]}" "$IP:$SINK_PORT" 1024 >/dev/null 2>&1 &
SINK_PID=$!
sleep 0.5
T=$(now); source_to $SINK_PORT; SINK_T=$(since "$T")

# tern: the remote domain routes to the sink.
start_tern "[$IP]:$SINK_PORT"
tern_empty() { [ "$(metric tern_queue_messages)" = 0 ]; }
T=$(now); source_to $TERN_PORT; TERN_ACCEPT=$(since "$T"); wait_until tern_empty; TERN_E2E=$(since "$T")
SENT=$(metric 'tern_messages_sent_total{domain="remote.example"}')
kill $TERN_PID; wait $TERN_PID 2>/dev/null || true; unset TERN_PID

start_postfix "[$IP]:$SINK_PORT"
T=$(now); source_to $PFX_PORT; PFX_ACCEPT=$(since "$T"); wait_until pfx_empty; PFX_E2E=$(since "$T")
DEFERRED=$(find "$P/queue/deferred" -type f 2>/dev/null | wc -l)
postfix -c "$P/etc" stop >/dev/null 2>&1 || true

echo "machine: $(nproc) cores, $(uname -r); load: smtp-source -d -s $SESS -l $SIZE -m $MSGS, one recipient"
echo "client -> smtp-sink:                    ${SINK_T}s  $(rate "$SINK_T") msg/s"
echo "client -> tern (shards=$SHARDS) -> sink: accepted in ${TERN_ACCEPT}s ($(rate "$TERN_ACCEPT") msg/s), delivered in ${TERN_E2E}s ($(rate "$TERN_E2E") msg/s end to end); sent $SENT"
echo "client -> postfix -> sink:              accepted in ${PFX_ACCEPT}s ($(rate "$PFX_ACCEPT") msg/s), delivered in ${PFX_E2E}s ($(rate "$PFX_E2E") msg/s end to end); deferred $DEFERRED"
echo "tern / postfix end to end: $(awk -v a="$PFX_E2E" -v b="$TERN_E2E" 'BEGIN { printf "%.1fx", a / b }')"
[ "$SENT" = "$MSGS" ] || { echo "tern delivered $SENT of $MSGS" >&2; exit 1; }
