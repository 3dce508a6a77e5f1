//! A spool write that fails (here: the file size limit, as when a disk fills up) answers
//! `452 4.3.1`, stores nothing half, and the server stays up; after a restart exactly the
//! acknowledged messages are queued.

mod common;

use common::{base_config, Tern};
use std::os::unix::process::CommandExt;

const LIMIT: u64 = 256 * 1024;

#[test]
fn a_failing_spool_write_gets_452_and_loses_nothing_acknowledged() {
    let config = base_config("[[domain]]\nname = \"remote.example\"\nkind = \"remote\"\nallow_relay = true\n");
    let mut tern = Tern::start_with(&config, |cmd| {
        // SAFETY: setrlimit is async-signal-safe; it only changes this child's limits.
        unsafe {
            cmd.pre_exec(|| {
                let lim = libc::rlimit { rlim_cur: LIMIT, rlim_max: LIMIT };
                if libc::setrlimit(libc::RLIMIT_FSIZE, &lim) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    });
    let mut smtp = tern.connect();
    smtp.cmd("EHLO a.test", 250);
    let body = format!("Subject: big\r\n\r\n{}", format!("{}\r\n", "d".repeat(78)).repeat(100));
    let mut accepted = 0;
    let mut refused = 0;
    for _ in 0..60 {
        let reply = smtp.send_message("a@a.test", &["x@remote.example"], &body);
        if reply.starts_with("250 ") {
            assert_eq!(refused, 0, "once full, the spool stays full here");
            accepted += 1;
        } else {
            assert_eq!(reply, "452 4.3.1 Insufficient system storage, try again later");
            refused += 1;
        }
    }
    assert!(accepted > 0 && refused > 0, "accepted {accepted}, refused {refused}");
    smtp.cmd("NOOP", 250);
    assert_eq!(tern.metric("tern_queue_messages"), accepted as f64);
    assert_eq!(tern.metric("tern_messages_rejected_total{virtual_server=\"main\",reason=\"spool\"}"), refused as f64);

    tern.kill9();
    tern.restart();
    tern.wait_metric("tern_queue_messages", accepted as f64);
}
