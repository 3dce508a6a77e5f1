# Shared by the benchmark scripts (sourced): start tern or a throwaway Postfix and wait for it.
# Needs IP, TERN_PORT, ADMIN_PORT, SHARDS and WORK set by the caller.

# True when something answers "220 " on $IP:$1.
greets() {
  [ "$(timeout 1 bash -c "exec 3<>/dev/tcp/$IP/$1 && head -c 4 <&3" 2>/dev/null)" = "220 " ]
}

# Starts tern (release build) relaying remote.example to $1 ("[IP]:port"), with the TOML in $2
# (optional) appended to its configuration; sets TERN_PID.
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
${2:-}
TOML
  TERN_LOG=warn ./target/release/tern serve --config "$WORK/tern.toml" 2> "$WORK/tern.log" &
  TERN_PID=$!
  for _ in $(seq 100); do greets "$TERN_PORT" && break; sleep 0.1; done
  kill -0 "$TERN_PID" 2>/dev/null && greets "$TERN_PORT" \
    || { echo "tern did not start:" >&2; cat "$WORK/tern.log" >&2; exit 1; }
}

# The value of one metric sample.
metric() { curl -s "http://$IP:$ADMIN_PORT/metrics" | awk -v k="$1" '$1 == k { print $2 }'; }

# Polls `command...` every 50 ms; gives up after 600 s.
wait_until() {
  for _ in $(seq 12000); do "$@" && return 0; sleep 0.05; done
  echo "timed out waiting for: $*" >&2; return 1
}

# True when no socket listens on $IP at any of the given ports (a previous run's listener can
# linger for a few seconds while its io_uring is torn down).
ports_free() {
  local p
  for p in "$@"; do [ -z "$(ss -Hltn "src $IP:$p")" ] || return 1; done
}

# Starts a throwaway Postfix instance (own config and queue under $WORK/postfix, loopback only,
# smtpd on $IP:$PFX_PORT, in the foreground logging to $WORK/postfix.log) relaying
# remote.example from 127.0.0.0/8 to $1 ("[IP]:port"). Sets P (its directory). The caller's
# cleanup stops it with `postfix -c "$P/etc" stop`.
start_postfix() {
  P="$WORK/postfix"; mkdir -p "$P/etc" "$P/queue" "$P/data"
  cp /etc/postfix/master.cf "$P/etc/master.cf"
  sed -i "s/^smtp      inet  n       -       y       -       -       smtpd/$IP:$PFX_PORT inet n - n - - smtpd/" "$P/etc/master.cf"
  cat > "$P/etc/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $P/queue
data_directory = $P/data
mail_owner = postfix
inet_interfaces = loopback-only
inet_protocols = ipv4
myhostname = postfix.bench.test
mydestination =
mynetworks = 127.0.0.0/8
relay_domains = remote.example
relayhost = $1
smtpd_relay_restrictions = permit_mynetworks, reject
alias_maps =
alias_database =
local_transport = error:local delivery disabled
maillog_file = /dev/stdout
default_process_limit = 200
smtp_destination_concurrency_limit = 100
CF
  chown postfix "$P/data"
  postfix -c "$P/etc" check
  # In the foreground, logging to stdout: this machine may have no syslog daemon.
  postfix -c "$P/etc" start-fg > "$WORK/postfix.log" 2>&1 &
  wait_until greets "$PFX_PORT"
}

# True when the Postfix instance at $P has nothing queued.
pfx_empty() {
  [ -z "$(find "$P/queue/incoming" "$P/queue/active" "$P/queue/deferred" "$P/queue/maildrop" -type f 2>/dev/null | head -1)" ]
}
