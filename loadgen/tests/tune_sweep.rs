//! `tern-loadgen tune` runs the same scenario for messages_per_connection 5, 10, 20, 50, 100
//! and unlimited: one verified row each. The sink answers slowly (5 ms per message) and tern
//! may open one connection, so the queue backs up; each value then bounds the messages a
//! connection carries, and unlimited drains the backlog over very few connections.

mod common;

use std::process::Command;

use tern_loadgen::tune::SweepRow;

#[test]
fn the_sweep_has_one_verified_row_per_value() {
    let out = Command::new(common::loadgen())
        .args(["tune", "--json", "--tern"])
        .arg(common::tern())
        .args(["--messages", "100", "--sessions", "10", "--domains", "1"])
        .args(["--latency-ms", "5", "--connections-per-domain", "1"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows: Vec<SweepRow> = serde_json::from_slice(&out.stdout).unwrap();
    let values: Vec<u32> = rows.iter().map(|r| r.messages_per_connection).collect();
    assert_eq!(values, [5, 10, 20, 50, 100, 0]);
    assert!(rows.iter().all(|r| r.ok && r.max_open_per_domain == 1), "{rows:?}");
    for r in &rows[..5] {
        let least = 100u64.div_ceil(u64::from(r.messages_per_connection));
        assert!(r.connections >= least, "100 messages, at most {} per connection: {r:?}", r.messages_per_connection);
    }
    assert!(rows[5].connections <= 5, "unlimited drains the backlog on few connections: {rows:?}");
}
