//! The `--json` report round-trips: serialising and reading back gives the same report, with
//! every section filled (the schema is documented in docs/LOADGEN.md).

use tern_loadgen::report::{Client, Cpu, Delivery, Percentiles, Report, Scenario, Tick, SCHEMA};
use tern_loadgen::sink::stats::{ListenerSummary, SinkSummary};
use tern_loadgen::tune::{advise, DomainRate, SweepRow};
use tern_loadgen::verify::messages;

#[test]
fn a_full_report_round_trips_through_json() {
    let p = Percentiles { count: 10, p50: 1, p90: 2, p99: 3, p999: 4, max: 5 };
    let report = Report {
        schema: SCHEMA,
        mode: "bench".into(),
        scenario: Scenario {
            target: Some("127.0.0.1:25".into()),
            sessions: 5,
            size: "4096".into(),
            recipients: 2,
            domains: vec!["d1.bench.test".into()],
            messages: Some(10),
            duration_s: None,
            rate_per_s: Some(5000.0),
            shards: Some(1),
            messages_per_connection: Some(20),
            connections_per_domain: Some(100),
            outbound_connections: Some(500),
            tls: true,
        },
        elapsed_s: 1.5,
        client: Some(Client { accepted: 10, refused: 1, errors: 0, accepted_per_s: 6.5, accept_latency_us: p }),
        delivery: Some(Delivery { delivered: 9, delivered_per_s: 6.0, e2e_latency_us: p }),
        sink: Some(SinkSummary {
            listeners: vec![ListenerSummary { address: "127.0.0.1:2".into(), connections: 3, max_open: 2 }],
            connections: 3,
            max_open: 2,
            messages: 9,
            recipients: 18,
            bytes: 1000,
            foreign: 0,
            tempfails: 1,
            permfails: 0,
            rcpt_limited: 0,
            disconnects: 0,
            tls_sessions: 1,
            auths: 1,
            max_messages_per_connection: 4,
            messages_per_connection: vec![(3, 3)],
        }),
        cpu: Cpu { tern_s: Some(0.5), loadgen_s: 0.25, send_s: Some(0.125), sink_s: Some(0.125) },
        tuning: Some(advise(50, 30.0, vec![DomainRate { domain: "d1.bench.test".into(), peak_per_s: 30.0, sent: 9 }])),
        verdict: Some(messages(&[(1, 2), (2, 2)], &[(1, 2)])),
        sweep: vec![SweepRow {
            messages_per_connection: 0,
            delivered_per_s: 5.0,
            connections: 1,
            max_open_per_domain: 1,
            peak_sent_per_s: 5.0,
            ok: true,
        }],
        timeline: vec![Tick { t_s: 1.0, accepted: 10, delivered: 9, accept_mean_us: 12.5 }],
    };
    let text = report.json();
    let back: Report = serde_json::from_str(&text).unwrap();
    assert_eq!(back, report);
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    for key in ["schema", "mode", "scenario", "client", "delivery", "sink", "cpu", "tuning", "verdict", "timeline"] {
        assert!(value.get(key).is_some(), "{key} in {text}");
    }
    assert!(!report.ok(), "a missing message fails the verdict");
}
