//! The verifier catches a duplicate: the sink records every 70th message twice, and `bench`
//! names the duplicated messages and exits 1.

mod common;

#[test]
fn a_duplicated_message_fails_the_bench() {
    let (code, r, _) = common::bench(&common::args(&["--duplicate-every", "70"]));
    assert_eq!(code, 1);
    assert_eq!(r["verdict"]["duplicated_count"], 4, "{}", r["verdict"]);
    assert_eq!(r["verdict"]["missing_count"], 0);
}
