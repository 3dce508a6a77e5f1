//! `tern-loadgen tune` runs the same scenario for messages_per_connection 5, 10, 20, 50, 100
//! and unlimited: one verified row each, with fewer messages per connection needing more
//! connections.

mod common;

use std::process::Command;

use tern_loadgen::tune::SweepRow;

#[test]
fn the_sweep_has_one_verified_row_per_value() {
    let out = Command::new(common::loadgen())
        .args(["tune", "--json", "--tern"])
        .arg(common::tern())
        .args(["--messages", "100", "--sessions", "2", "--domains", "1"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows: Vec<SweepRow> = serde_json::from_slice(&out.stdout).unwrap();
    let values: Vec<u32> = rows.iter().map(|r| r.messages_per_connection).collect();
    assert_eq!(values, [5, 10, 20, 50, 100, 0]);
    assert!(rows.iter().all(|r| r.ok), "{rows:?}");
    assert!(rows[0].connections >= 20, "100 messages, at most 5 per connection: {rows:?}");
    assert!(rows[0].connections > rows[5].connections, "{rows:?}");
}
