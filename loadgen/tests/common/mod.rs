//! Helpers for loadgen's tests: the two binaries (building `tern` when it is missing or stale,
//! since only the tern crate's own tests get `CARGO_BIN_EXE_tern`), and JSON reports.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;

use tern_loadgen::report::Report;

pub fn loadgen() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_tern-loadgen"))
}

/// The `tern` binary of the same profile, next to `tern-loadgen`; built once per test process
/// (`cargo build --bin tern` is quick when it is up to date).
pub fn tern() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let path = loadgen().with_file_name("tern");
            let release = path.parent().and_then(|d| d.file_name()).is_some_and(|n| n == "release");
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.toml");
            let mut cmd = Command::new(cargo);
            cmd.args(["build", "-q", "--bin", "tern", "--manifest-path", manifest]);
            if release {
                cmd.arg("--release");
            }
            let status = cmd.status().expect("cargo runs");
            assert!(status.success() && path.is_file(), "cannot build tern at {}", path.display());
            path
        })
        .clone()
}

/// Runs `tern-loadgen bench` with `args` (and `--json`); returns the exit code and report.
pub fn bench(args: &[&str]) -> (i32, serde_json::Value, Output) {
    let out = Command::new(loadgen())
        .arg("bench")
        .args(["--json", "--tern"])
        .arg(tern())
        .args(args)
        .output()
        .expect("tern-loadgen runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let report = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("no JSON report ({e}):\n{text}\n{}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), report, out)
}

/// A small bench scenario: 300 messages, 4 sessions, 2 domains, 10 messages per connection.
pub const SMALL: [&str; 8] =
    ["--messages", "300", "--sessions", "4", "--domains", "2", "--messages-per-connection", "10"];

pub fn args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    SMALL.iter().copied().chain(extra.iter().copied()).collect()
}

/// A `tern-loadgen sink --json` process on a random loopback address.
pub struct SinkProcess {
    child: Child,
    pub addr: String,
}

impl SinkProcess {
    /// Starts the sink with `args` and waits (up to 60 s) until it says it is listening, so
    /// no readiness probe shows up in its counts.
    pub fn start(args: &[&str]) -> SinkProcess {
        let ip = format!("127.{}.{}.{}", fastrand::u8(1..=250), fastrand::u8(..), fastrand::u8(2..250));
        let port = std::net::TcpListener::bind((ip.as_str(), 0)).unwrap().local_addr().unwrap().port();
        let addr = format!("{ip}:{port}");
        let mut child = Command::new(loadgen())
            .args(["sink", "--json", "--listen", &addr])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        // Reads stderr to its end, so the sink never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("listening on") {
                    let _ = ready_tx.send(());
                }
            }
        });
        if ready_rx.recv_timeout(std::time::Duration::from_secs(60)).is_err() {
            let _ = child.kill();
            let _ = child.wait();
            panic!("sink on {addr} did not start listening");
        }
        SinkProcess { child, addr }
    }

    /// Stops the sink with SIGTERM and returns its report.
    pub fn stop(self) -> Report {
        // SAFETY: signalling our own child.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let out = self.child.wait_with_output().unwrap();
        serde_json::from_slice(&out.stdout).unwrap()
    }
}
