#!/usr/bin/env bash
# Durable intake benchmark (issue: core relay path). Measures, in one run on this machine:
#   1. Postfix's smtp-source straight into smtp-sink (stores nothing): the client's ceiling;
#   2. the same client into tern, which fdatasyncs every message before its 250.
# Messages go to a remote domain with allow_relay whose route_to is a closed loopback port, so
# each delivery attempt fails at once and the messages stay queued (deferred); DNS points at a
# closed loopback port too, so nothing ever leaves the machine.
# Needs: postfix (for smtp-source and smtp-sink): apt-get install postfix
# Usage: scripts/bench-intake.sh [messages] [sessions] [size] [shards]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-common.sh
MSGS=${1:-50000}
SESS=${2:-50}
SIZE=${3:-4096}
SHARDS=${4:-0}
IP=127.0.0.61
SINK_PORT=25961
TERN_PORT=25962
ADMIN_PORT=25963

command -v smtp-source >/dev/null || { echo "needs smtp-source: apt-get install postfix" >&2; exit 1; }
cargo build --release --bin tern -q
WORK=$(mktemp -d /var/tmp/tern-bench.XXXXXX)
cleanup() { kill "${SINK_PID:-}" "${TERN_PID:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

rate() { # elapsed-seconds -> msg/s
  awk -v m="$MSGS" -v t="$1" 'BEGIN { printf "%.0f", m / t }'
}
run_source() { # port -> elapsed seconds; client CPU seconds in $WORK/client.cpu
  local start end
  start=$(date +%s.%N)
  nstat -n >/dev/null 2>&1 || true
  /usr/bin/time -f "%U %S" -o "$WORK/client.cpu" \
    smtp-source -d -s "$SESS" -l "$SIZE" -m "$MSGS" -f bench@sender.test -t rcpt@remote.example "$IP:$1" 2> "$WORK/client.err" || { cat "$WORK/client.err" >&2; tail -5 "$WORK/tern.log" >&2 2>/dev/null; }
  end=$(date +%s.%N)
  nstat 2>/dev/null | awk -v m="$MSGS" '$1 == "TcpOutSegs" { printf "%.1f TCP segments per message\n", $2 / m }' > "$WORK/segs" || true
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }'
}
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
per_msg() { # ticks -> "X.XX s (Y us/msg)"
  awk -v t="$1" -v hz="$(getconf CLK_TCK)" -v m="$MSGS" 'BEGIN { printf "%.2f s CPU (%.0f us/msg)", t / hz, 1e6 * t / hz / m }'
}
client_cpu() { awk -v m="$MSGS" '{ printf "%.2f s CPU (%.0f us/msg)", $1 + $2, 1e6 * ($1 + $2) / m }' "$WORK/client.cpu"; }

SINK_USER=(); [ "$(id -u)" = 0 ] && SINK_USER=(-u nobody)
smtp-sink "${SINK_USER[@]}" "$IP:$SINK_PORT" 1024 >/dev/null 2>&1 &
SINK_PID=$!
sleep 0.5
S0=$(ticks $SINK_PID)
SINK_T=$(run_source $SINK_PORT)
SINK_CPU=$(per_msg $(( $(ticks $SINK_PID) - S0 )))
SINK_CLIENT=$(client_cpu)
SINK_SEGS=$(cat "$WORK/segs")
kill $SINK_PID; wait $SINK_PID 2>/dev/null || true; unset SINK_PID

start_tern "[127.0.0.1]:9"
T0=$(ticks $TERN_PID)
TERN_T=$(run_source $TERN_PORT)
TERN_CPU=$(per_msg $(( $(ticks $TERN_PID) - T0 )))
TERN_CLIENT=$(client_cpu)
TERN_SEGS=$(cat "$WORK/segs")
RECEIVED=$(metric 'tern_messages_received_total{virtual_server="bench"}')
FSYNCS=$(metric tern_spool_fsyncs_total)
QUEUED=$(metric tern_queue_messages)

SINK_RATE=$(rate "$SINK_T")
TERN_RATE=$(rate "$TERN_T")
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -r), spool on $(df -T "$WORK" | awk 'NR == 2 { print $2 }')"
echo "load: smtp-source -d -s $SESS -l $SIZE -m $MSGS (one recipient per message)"
echo "smtp-source -> smtp-sink (stores nothing): ${SINK_T}s  $SINK_RATE msg/s; sink $SINK_CPU, client $SINK_CLIENT; $SINK_SEGS"
echo "smtp-source -> tern (durable, shards=$SHARDS): ${TERN_T}s  $TERN_RATE msg/s; tern $TERN_CPU, client $TERN_CLIENT; $TERN_SEGS"
echo "tern / sink: $(awk -v a="$TERN_RATE" -v b="$SINK_RATE" 'BEGIN { printf "%.0f%%", 100 * a / b }')"
echo "tern: received $RECEIVED, queued $QUEUED, fdatasyncs $FSYNCS, messages per fdatasync $(awk -v m="$RECEIVED" -v f="$FSYNCS" 'BEGIN { printf "%.1f", m / f }')"
[ "$RECEIVED" = "$MSGS" ] || { echo "tern received $RECEIVED of $MSGS" >&2; exit 1; }
