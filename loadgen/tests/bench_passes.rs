//! A small self-contained bench run: every accepted message arrives exactly once, the limits
//! hold, the report has its figures, and the exit code is 0.

mod common;

#[test]
fn a_small_bench_run_verifies_and_exits_zero() {
    let (code, r, out) = common::bench(&common::args(&["--recipients", "2", "--connections-per-domain", "2"]));
    assert_eq!(code, 0, "{}", String::from_utf8_lossy(&out.stderr));
    let v = &r["verdict"];
    assert_eq!(v["accepted"], 300);
    assert_eq!((v["missing_count"].as_u64(), v["duplicated_count"].as_u64()), (Some(0), Some(0)));
    assert!(v["violations"].as_array().unwrap().is_empty(), "{v}");
    assert_eq!(r["client"]["accepted"], 300);
    assert_eq!(r["delivery"]["delivered"], 300);
    assert_eq!(r["sink"]["recipients"], 600, "two recipients per message, one domain each");
    assert!(r["sink"]["max_messages_per_connection"].as_u64().unwrap() <= 10);
    for l in r["sink"]["listeners"].as_array().unwrap() {
        assert!(l["max_open"].as_u64().unwrap() <= 2, "{l}");
    }
    assert_eq!(r["client"]["accept_latency_us"]["count"], 300);
    assert_eq!(r["delivery"]["e2e_latency_us"]["count"], 300);
    assert!(r["cpu"]["tern_s"].as_f64().unwrap() > 0.0);
    let domains: Vec<_> =
        r["tuning"]["domains"].as_array().unwrap().iter().map(|d| d["sent"].as_u64().unwrap()).collect();
    assert_eq!(domains, [150, 150], "tern's per-domain counters were scraped");
}
