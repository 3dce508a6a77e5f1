//! `bench --tls` runs TLS both ways: tern requires STARTTLS of the client (`[tls].require`
//! with a generated certificate, so a clear-text client would get 530 and nothing would be
//! accepted) and of the sinks (every delivering connection is a TLS session).

mod common;

#[test]
fn a_tls_bench_run_encrypts_both_hops() {
    let (code, r, out) = common::bench(&common::args(&["--tls"]));
    assert_eq!(code, 0, "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(r["scenario"]["tls"], true);
    assert_eq!(r["client"]["accepted"], 300, "tern requires STARTTLS, so the client used it");
    assert_eq!(r["delivery"]["delivered"], 300);
    let sink = &r["sink"];
    assert!(sink["connections"].as_u64().unwrap() > 0);
    assert_eq!(sink["tls_sessions"], sink["connections"], "{sink}");
}
