#!/usr/bin/env bash
# tern-loadgen against tern and Postfix in one run (issue 4, item 7). The same client load,
# `tern-loadgen send` (4 KiB, one recipient, PIPELINING when offered), goes
#   1. straight into `tern-loadgen sink` (no MTA: the load generator's own ceiling), next to
#      Postfix's smtp-source into smtp-sink as the reference it must beat by 2x;
#   2. into tern relaying (route_to) to the same sink;
#   3. into a throwaway Postfix instance (loopback only, own config and queue directory)
#      relaying to the same sink.
# End to end runs until the relay's queue is empty; the ratio tern / Postfix is printed. The
# sink counts every message it received: the script fails if any is missing.
# Needs: postfix (apt-get install postfix); run as root (Postfix's master runs as root).
# Usage: scripts/bench-loadgen.sh [messages] [sessions] [size] [shards]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-common.sh
MSGS=${1:-20000}
SESS=${2:-50}
SIZE=${3:-4096}
SHARDS=${4:-0}
IP=127.0.0.81
SINK_PORT=25981
TERN_PORT=25982
ADMIN_PORT=25983
PFX_PORT=25984
PSINK_PORT=25985

for tool in postfix smtp-source smtp-sink; do
  command -v "$tool" >/dev/null || { echo "no $tool on this machine: apt-get install postfix (comparison skipped)" >&2; exit 1; }
done
cargo build --release -q --bin tern && cargo build --release -q -p tern-loadgen --bin tern-loadgen
LG=./target/release/tern-loadgen
WORK=$(mktemp -d /var/tmp/tern-loadgen.XXXXXX)
chmod 755 "$WORK"  # Postfix daemons (user postfix) must reach their directories
cleanup() {
  kill "${PSINK_PID:-}" "${TERN_PID:-}" 2>/dev/null || true
  [ -n "${LSINK_PID:-}" ] && kill -TERM "$LSINK_PID" 2>/dev/null || true
  [ -f "$WORK/postfix/etc/main.cf" ] && postfix -c "$WORK/postfix/etc" stop >/dev/null 2>&1 || true
  wait 2>/dev/null || true
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
rate() { awk -v m="$MSGS" -v t="$1" 'BEGIN { printf "%.0f", m / t }'; }
field() { grep -m1 "\"$2\":" "$1" | sed 's/.*: //; s/,$//'; }  # first occurrence in a JSON report
send_to() { # port name
  "$LG" send --target "$IP:$1" --messages "$MSGS" --sessions "$SESS" --size "$SIZE" --domain remote.example --json > "$WORK/$2.json"
}

wait_until ports_free $SINK_PORT $TERN_PORT $ADMIN_PORT $PFX_PORT $PSINK_PORT
"$LG" sink --listen "$IP:$SINK_PORT" --json > "$WORK/sink.json" 2> "$WORK/sink.log" &
LSINK_PID=$!
sink_up() { kill -0 "$LSINK_PID" 2>/dev/null || { echo "the sink did not start:" >&2; cat "$WORK/sink.log" >&2; exit 1; }; greets $SINK_PORT; }
wait_until sink_up

T=$(now); send_to $SINK_PORT direct; DIRECT_T=$(since "$T")
SINK_USER=(); [ "$(id -u)" = 0 ] && SINK_USER=(-u nobody)
smtp-sink "${SINK_USER[@]}" "$IP:$PSINK_PORT" 1024 >/dev/null 2>&1 &
PSINK_PID=$!
wait_until greets $PSINK_PORT
T=$(now); smtp-source -d -s "$SESS" -l "$SIZE" -m "$MSGS" -f bench@sender.test -t rcpt@remote.example "$IP:$PSINK_PORT"; SOURCE_T=$(since "$T")
kill $PSINK_PID; unset PSINK_PID

start_tern "[$IP]:$SINK_PORT"
tern_empty() { [ "$(metric tern_queue_messages)" = 0 ]; }
T=$(now); send_to $TERN_PORT tern; wait_until tern_empty; TERN_E2E=$(since "$T")
TERN_CPU=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$TERN_PID/stat")
kill $TERN_PID; wait $TERN_PID 2>/dev/null || true; unset TERN_PID

start_postfix "[$IP]:$SINK_PORT"
T=$(now); send_to $PFX_PORT postfix; wait_until pfx_empty; PFX_E2E=$(since "$T")
postfix -c "$P/etc" stop >/dev/null 2>&1 || true

kill -TERM $LSINK_PID; wait $LSINK_PID || true; unset LSINK_PID
RECEIVED=$(field "$WORK/sink.json" delivered)
ACCEPTED=$(( $(field "$WORK/direct.json" accepted) + $(field "$WORK/tern.json" accepted) + $(field "$WORK/postfix.json" accepted) ))
ms() { awk -v u="$1" 'BEGIN { printf "%.2f ms", u / 1000 }'; }

echo "machine: $(nproc) cores, $(uname -r); load: tern-loadgen send --sessions $SESS --size $SIZE --messages $MSGS, one recipient"
DIRECT=$(field "$WORK/direct.json" accepted_per_s | cut -d. -f1)  # the client's own clock, without its start-up
echo "tern-loadgen send -> tern-loadgen sink:  $DIRECT msg/s (wall clock $(rate "$DIRECT_T") msg/s; client CPU $(printf "%.2f" "$(field "$WORK/direct.json" send_s)") s)"
echo "smtp-source -> smtp-sink (reference):    $(rate "$SOURCE_T") msg/s"
echo "load generator / smtp-source:            $(awk -v a="$DIRECT" -v b="$(rate "$SOURCE_T")" 'BEGIN { printf "%.1fx", a / b }') (target: at least 2x)"
echo "send -> tern (shards=$SHARDS) -> sink:        accepted $(field "$WORK/tern.json" accepted_per_s | cut -d. -f1) msg/s (p99 $(ms "$(field "$WORK/tern.json" p99)")), end to end $(rate "$TERN_E2E") msg/s; tern CPU ${TERN_CPU} s"
echo "send -> postfix -> sink:                 accepted $(field "$WORK/postfix.json" accepted_per_s | cut -d. -f1) msg/s (p99 $(ms "$(field "$WORK/postfix.json" p99)")), end to end $(rate "$PFX_E2E") msg/s"
echo "tern / postfix end to end:               $(awk -v a="$PFX_E2E" -v b="$TERN_E2E" 'BEGIN { printf "%.1fx", a / b }')"
echo "sink received $RECEIVED of $ACCEPTED accepted messages"
[ "$RECEIVED" = "$ACCEPTED" ] || { echo "messages missing or duplicated at the sink" >&2; exit 1; }
