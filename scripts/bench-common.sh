# Shared by the benchmark scripts (sourced): start tern on a bench config and wait for it.
# Needs IP, TERN_PORT, ADMIN_PORT, SHARDS and WORK set by the caller.

# True when something answers "220 " on $IP:$1.
greets() {
  [ "$(timeout 1 bash -c "exec 3<>/dev/tcp/$IP/$1 && head -c 4 <&3" 2>/dev/null)" = "220 " ]
}

# Starts tern (release build) relaying remote.example to $1 ("[IP]:port"); sets TERN_PID.
# DNS points at a closed loopback port: nothing ever leaves the machine.
start_tern() {
  cat > "$WORK/tern.toml" <<TOML
[server]
fqdn = "bench.tern.test"
default_domain = "tern.test"
data_dir = "$WORK/tern"
shards = $SHARDS

[[virtual_server]]
name = "bench"
bind = ["$IP:$TERN_PORT"]

[limits]
max_session_size = "1GB"
max_message_size = "10MB"

[delivery]
dns_servers = ["127.0.0.1:9"]

[[domain]]
name = "remote.example"
kind = "remote"
allow_relay = true
route_to = "$1"

[admin]
listen = "$IP:$ADMIN_PORT"
TOML
  TERN_LOG=warn ./target/release/tern serve --config "$WORK/tern.toml" 2> "$WORK/tern.log" &
  TERN_PID=$!
  for _ in $(seq 100); do greets "$TERN_PORT" && break; sleep 0.1; done
  kill -0 "$TERN_PID" 2>/dev/null && greets "$TERN_PORT" \
    || { echo "tern did not start:" >&2; cat "$WORK/tern.log" >&2; exit 1; }
}

# The value of one metric sample.
metric() { curl -s "http://$IP:$ADMIN_PORT/metrics" | awk -v k="$1" '$1 == k { print $2 }'; }
