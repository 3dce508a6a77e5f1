#!/usr/bin/env bash
# Durable intake benchmark (issue: core relay path). Measures, in one run on this machine:
#   1. Postfix's smtp-source straight into smtp-sink (stores nothing): the client's ceiling;
#   2. the same client into tern, which fdatasyncs every message before its 250.
# Messages go to a remote domain with allow_relay, so they stay queued (no delivery work).
# Needs: postfix (for smtp-source and smtp-sink): apt-get install postfix
# Usage: scripts/bench-intake.sh [messages] [sessions] [size] [shards]
set -euo pipefail
cd "$(dirname "$0")/.."
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
run_source() { # port -> elapsed seconds
  local start end
  start=$(date +%s.%N)
  smtp-source -d -s "$SESS" -l "$SIZE" -m "$MSGS" -f bench@sender.test -t rcpt@remote.example "$IP:$1"
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }'
}
metric() { curl -s "http://$IP:$ADMIN_PORT/metrics" | awk -v k="$1" '$1 == k { print $2 }'; }

SINK_USER=(); [ "$(id -u)" = 0 ] && SINK_USER=(-u nobody)
smtp-sink "${SINK_USER[@]}" "$IP:$SINK_PORT" 1024 >/dev/null 2>&1 &
SINK_PID=$!
sleep 0.5
SINK_T=$(run_source $SINK_PORT)
kill $SINK_PID; wait $SINK_PID 2>/dev/null || true; unset SINK_PID

cat > "$WORK/tern.toml" <<TOML
[server]
fqdn = "bench.tern.test"
default_domain = "tern.test"
data_dir = "$WORK/data"
shards = $SHARDS

[[virtual_server]]
name = "bench"
bind = ["$IP:$TERN_PORT"]

[limits]
max_session_size = "1GB"
max_message_size = "10MB"

[[domain]]
name = "remote.example"
kind = "remote"
allow_relay = true

[admin]
listen = "$IP:$ADMIN_PORT"
TOML
TERN_LOG=warn ./target/release/tern serve --config "$WORK/tern.toml" &
TERN_PID=$!
for _ in $(seq 100); do curl -sf "http://$IP:$ADMIN_PORT/metrics" >/dev/null && break; sleep 0.1; done
CPU0=$(awk '{ print $14 " " $15 }' /proc/$TERN_PID/stat)
TERN_T=$(run_source $TERN_PORT)
CPU1=$(awk '{ print $14 " " $15 }' /proc/$TERN_PID/stat)
RECEIVED=$(metric 'tern_messages_received_total{virtual_server="bench"}')
FSYNCS=$(metric tern_spool_fsyncs_total)
QUEUED=$(metric tern_queue_messages)

SINK_RATE=$(rate "$SINK_T")
TERN_RATE=$(rate "$TERN_T")
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -r), spool on $(df -T "$WORK" | awk 'NR == 2 { print $2 }')"
echo "load: smtp-source -d -s $SESS -l $SIZE -m $MSGS (one recipient per message)"
echo "smtp-source -> smtp-sink (stores nothing): ${SINK_T}s  $SINK_RATE msg/s"
echo "smtp-source -> tern (durable, shards=$SHARDS): ${TERN_T}s  $TERN_RATE msg/s"
echo "tern / sink: $(awk -v a="$TERN_RATE" -v b="$SINK_RATE" 'BEGIN { printf "%.0f%%", 100 * a / b }')"
echo "tern: received $RECEIVED, queued $QUEUED, fdatasyncs $FSYNCS, messages per fdatasync $(awk -v m="$RECEIVED" -v f="$FSYNCS" 'BEGIN { printf "%.1f", m / f }')"
read -r U0 S0 <<< "$CPU0"; read -r U1 S1 <<< "$CPU1"
echo "tern CPU: $(awk -v u=$((U1 - U0)) -v s=$((S1 - S0)) -v hz="$(getconf CLK_TCK)" -v m="$MSGS" 'BEGIN { printf "user %.2f s, system %.2f s, %.0f us per message", u / hz, s / hz, 1e6 * (u + s) / hz / m }')"
[ "$RECEIVED" = "$MSGS" ] || { echo "tern received $RECEIVED of $MSGS" >&2; exit 1; }
