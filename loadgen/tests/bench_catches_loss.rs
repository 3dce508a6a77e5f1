//! The verifier catches a loss: the sink answers 250 to every 50th message but forgets it,
//! and `bench` names the missing messages and exits 1.

mod common;

#[test]
fn a_lost_message_fails_the_bench() {
    let (code, r, _) = common::bench(&common::args(&["--drop-every", "50"]));
    assert_eq!(code, 1);
    assert_eq!(r["verdict"]["missing_count"], 6, "{}", r["verdict"]);
    assert_eq!(r["verdict"]["missing"].as_array().unwrap().len(), 6);
    assert_eq!(r["verdict"]["duplicated_count"], 0);
}
