//! The verifier catches broken limits: tern is really configured with larger limits than the
//! ones `bench` checks, so its connections break them, and `bench` exits 1 naming each.

mod common;

fn violations(r: &serde_json::Value) -> Vec<String> {
    r["verdict"]["violations"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect()
}

#[test]
fn too_many_messages_on_one_connection_fail_the_bench() {
    // A slow sink keeps each domain's queue long, so tern's connections really carry more than
    // 10 messages (with a fast sink the queue can drain between messages and a connection end
    // early, within the limit).
    let (code, r, _) = common::bench(&common::args(&["--tern-messages-per-connection", "100", "--latency-ms", "5"]));
    assert_eq!(code, 1);
    let v = violations(&r);
    assert!(v.iter().any(|l| l.contains("messages_per_connection = 10")), "{v:?}");
    assert_eq!(r["verdict"]["missing_count"], 0, "nothing lost, only the limit broken");
}

#[test]
fn too_many_connections_per_domain_fail_the_bench() {
    let args = ["--messages", "400", "--sessions", "16", "--domains", "1", "--messages-per-connection", "1"];
    let limit = ["--connections-per-domain", "1", "--tern-connections-per-domain", "50", "--latency-ms", "5"];
    let (code, r, _) = common::bench(&[&args[..], &limit[..]].concat());
    assert_eq!(code, 1);
    let v = violations(&r);
    assert!(v.iter().any(|l| l.contains("connections_per_domain = 1")), "{v:?}");
}
