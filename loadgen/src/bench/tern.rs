//! The tern process under test: its configuration (pure text), start-up until the banner,
//! CPU seconds from `/proc/PID/stat`, and a clean stop with SIGTERM.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::verify::Limits;

/// What the configuration says.
pub struct Setup<'a> {
    pub data_dir: &'a Path,
    pub shards: usize,
    pub listen: SocketAddr,
    pub admin: SocketAddr,
    pub dns: SocketAddr,
    pub remote_port: u16,
    pub limits: Limits,
    pub recipients: u32,
    /// TLS both ways: tern requires STARTTLS from the client with this certificate and key,
    /// and requires it of the sinks (`outbound_security.tls = true`).
    pub tls: Option<(&'a Path, &'a Path)>,
}

/// The TOML configuration of a bench run: every `*.bench.test` domain is remote and relayed
/// via DNS (our responder) to `remote_port`.
pub fn config_text(s: &Setup) -> String {
    let tls = match s.tls {
        Some((cert, key)) => format!(
            "\n[delivery.outbound_security]\ntls = true\n\n[tls]\ncertificate = {:?}\nkey = {:?}\nrequire = true\n",
            cert.display().to_string(),
            key.display().to_string()
        ),
        None => String::new(),
    };
    format!(
        r#"[server]
fqdn = "tern.bench.test"
default_domain = "tern.bench.test"
data_dir = "{data}"
shards = {shards}

[[virtual_server]]
name = "bench"
bind = ["{listen}"]

[limits]
max_session_size = "100GB"
max_message_size = "100MB"
max_recipients = {rcpts}

[delivery]
dns_servers = ["{dns}"]
remote_port = {port}
outbound_connections = {oc}
connections_per_domain = {cpd}
messages_per_connection = {mpc}
{tls}
[relay]
mode = "only"
list = ["127.0.0.0/8"]

[[domain]]
name = "*.bench.test"
kind = "remote"
allow_relay = true

[admin]
listen = "{admin}"
"#,
        data = s.data_dir.display(),
        shards = s.shards,
        listen = s.listen,
        rcpts = s.recipients.max(100),
        dns = s.dns,
        port = s.remote_port,
        oc = s.limits.outbound_connections,
        cpd = s.limits.connections_per_domain,
        mpc = s.limits.messages_per_connection,
        admin = s.admin,
    )
}

/// A running `tern serve`.
pub struct Tern {
    child: Child,
    pub log: PathBuf,
}

impl Tern {
    /// Starts `binary` on `config` and waits (up to 20 s) for its banner on `listen`.
    pub fn start(binary: &Path, config: &Path, listen: SocketAddr, log: PathBuf) -> Result<Tern, String> {
        let file = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let child = Command::new(binary)
            .args(["serve", "--config"])
            .arg(config)
            .env("TERN_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let mut tern = Tern { child, log };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(stream) = TcpStream::connect(listen) {
                let mut banner = String::new();
                if BufReader::new(stream).read_line(&mut banner).is_ok() && banner.starts_with("220 ") {
                    return Ok(tern);
                }
            }
            if let Ok(Some(status)) = tern.child.try_wait() {
                return Err(format!("tern exited at start ({status}):\n{}", tern.log_text()));
            }
            if Instant::now() > deadline {
                return Err(format!("tern did not start:\n{}", tern.log_text()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// User + system CPU seconds so far.
    pub fn cpu_seconds(&self) -> Option<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).ok()?;
        cpu_from_stat(&stat)
    }

    /// SIGTERM, then up to 15 s for a clean exit (SIGKILL after that).
    pub fn stop(mut self) {
        // SAFETY: signalling our own child process.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// utime + stime (fields 14 and 15) of a `/proc/PID/stat` line, in seconds.
pub fn cpu_from_stat(stat: &str) -> Option<f64> {
    let after = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1);
    Some(ticks as f64 / hz as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_is_read_after_the_command_name() {
        let stat = "42 (tern (x) y) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 100 0 0";
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
        assert_eq!(cpu_from_stat(stat), Some(300.0 / hz));
        assert_eq!(cpu_from_stat("garbage"), None);
    }

    #[test]
    fn the_config_names_the_limits_and_the_responder() {
        let s = Setup {
            data_dir: Path::new("/tmp/x"),
            shards: 2,
            listen: "127.0.0.1:2525".parse().unwrap(),
            admin: "127.0.0.1:8025".parse().unwrap(),
            dns: "127.0.0.1:53".parse().unwrap(),
            remote_port: 2526,
            limits: Limits { connections_per_domain: 3, outbound_connections: 7, messages_per_connection: 5 },
            recipients: 1,
            tls: Some((Path::new("/tmp/x/cert.pem"), Path::new("/tmp/x/key.pem"))),
        };
        let text = config_text(&s);
        for want in [
            "connections_per_domain = 3",
            "outbound_connections = 7",
            "messages_per_connection = 5",
            "remote_port = 2526",
            "dns_servers = [\"127.0.0.1:53\"]",
            "tls = true",
            "certificate = \"/tmp/x/cert.pem\"",
            "require = true",
        ] {
            assert!(text.contains(want), "{want} in\n{text}");
        }
        assert!(text.parse::<toml::Table>().is_ok());
    }
}
