//! Resolver tests against the real [`Responder`] on loopback, inside a glommio executor.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::rc::Rc;
use std::time::{Duration, Instant};

use glommio::{LocalExecutorBuilder, Placement};
use hickory_proto::op::Message;

use super::*;

const TIMEOUT: Duration = Duration::from_millis(500);

/// Runs `f` on a fresh executor with a small io_uring memory area.
fn run<F, Fut>(f: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + 'static,
{
    LocalExecutorBuilder::new(Placement::Unbound)
        .io_memory(512 << 10)
        .spawn(f)
        .expect("executor")
        .join()
        .expect("test task");
}

/// Starts a responder for `zone` and runs `f` with a resolver pointed at it; the responder
/// lives until `f` is done, whether or not `f` uses it.
fn with_responder<F, Fut>(zone: Zone, f: F)
where
    F: FnOnce(Resolver, Rc<Responder>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let responder = Responder::start(zone).expect("responder");
    run(move || async move {
        let responder = Rc::new(responder);
        let resolver = Resolver::new(vec![responder.addr()], TIMEOUT);
        f(resolver, Rc::clone(&responder)).await;
    });
}

fn v4(last: u8) -> Ipv4Addr {
    Ipv4Addr::new(192, 0, 2, last)
}

fn ip(last: u8) -> IpAddr {
    IpAddr::V4(v4(last))
}

fn hosts(targets: &[Target]) -> Vec<(&str, u16)> {
    targets.iter().map(|t| (t.host.as_str(), t.preference)).collect()
}

#[test]
fn mx_targets_in_preference_order_with_addresses() {
    let mut zone = Zone::new();
    zone.mx("example.com", 20, "mx2.example.com").mx("example.com", 10, "MX1.example.com.");
    zone.mx("example.com", 30, "mx3.example.com");
    zone.a("mx1.example.com", v4(1)).aaaa("mx1.example.com", Ipv6Addr::LOCALHOST).a("mx1.example.com", v4(11));
    zone.a("mx2.example.com", v4(2)).a("mx3.example.com", v4(3));
    with_responder(zone, |resolver, _responder| async move {
        let targets = resolver.mx_targets("Example.COM").await.unwrap();
        assert_eq!(hosts(&targets), vec![("mx1.example.com", 10), ("mx2.example.com", 20), ("mx3.example.com", 30)]);
        assert_eq!(targets[0].addrs, vec![ip(1), ip(11), IpAddr::V6(Ipv6Addr::LOCALHOST)]);
        assert_eq!(targets[1].addrs, vec![ip(2)]);
    });
}

#[test]
fn mx_host_without_address_is_skipped() {
    let mut zone = Zone::new();
    zone.mx("example.com", 10, "noaddr.example.com").mx("example.com", 20, "gone.example.com");
    zone.mx("example.com", 30, "mx.example.com").exists("noaddr.example.com").a("mx.example.com", v4(3));
    with_responder(zone, |resolver, _responder| async move {
        let targets = resolver.mx_targets("example.com").await.unwrap();
        assert_eq!(targets, vec![Target { host: "mx.example.com".into(), preference: 30, addrs: vec![ip(3)] }]);
    });
}

#[test]
fn mx_without_any_address_is_temporary_and_never_falls_back_to_a() {
    let mut zone = Zone::new();
    zone.mx("example.com", 10, "noaddr.example.com").exists("noaddr.example.com").a("example.com", v4(9));
    with_responder(zone, |resolver, _responder| async move {
        let err = resolver.mx_targets("example.com").await.unwrap_err();
        assert!(matches!(&err, DnsError::Temporary(why) if why.contains("example.com")), "{err:?}");
        assert!(!err.is_permanent());
        assert_eq!(err.enhanced_status(), "4.4.3");
    });
}

#[test]
fn no_mx_falls_back_to_the_domain_addresses() {
    let mut zone = Zone::new();
    zone.aaaa("example.net", Ipv6Addr::LOCALHOST).a("example.net", v4(7));
    with_responder(zone, |resolver, _responder| async move {
        let targets = resolver.mx_targets("example.net.").await.unwrap();
        let expected = vec![ip(7), IpAddr::V6(Ipv6Addr::LOCALHOST)];
        assert_eq!(targets, vec![Target { host: "example.net".into(), preference: 0, addrs: expected }]);
    });
}

#[test]
fn no_mx_and_no_address_is_permanent() {
    let mut zone = Zone::new();
    zone.exists("example.net");
    with_responder(zone, |resolver, _responder| async move {
        let err = resolver.mx_targets("example.net").await.unwrap_err();
        assert_eq!(err, DnsError::NoAddress("example.net".into()));
        assert!(err.is_permanent());
        assert_eq!(err.enhanced_status(), "5.4.4");
    });
}

#[test]
fn null_mx_is_permanent() {
    let mut zone = Zone::new();
    zone.null_mx("example.org").a("example.org", v4(1));
    with_responder(zone, |resolver, _responder| async move {
        let err = resolver.mx_targets("example.org").await.unwrap_err();
        assert_eq!(err, DnsError::NullMx("example.org".into()));
        assert!(err.is_permanent());
        assert_eq!(err.enhanced_status(), "5.1.10");
    });
}

#[test]
fn nxdomain_is_permanent_and_cached() {
    let mut zone = Zone::new();
    zone.mx("gone.example", 10, "mx.gone.example").nxdomain("gone.example");
    with_responder(zone, |resolver, responder| async move {
        for domain in ["gone.example", "unknown.example"] {
            let err = resolver.mx_targets(domain).await.unwrap_err();
            assert_eq!(err, DnsError::NoSuchDomain(domain.into()));
            assert!(err.is_permanent());
            assert_eq!(err.enhanced_status(), "5.1.2");
        }
        assert_eq!(resolver.mx_targets("unknown.example").await, Err(DnsError::NoSuchDomain("unknown.example".into())));
        assert_eq!(responder.queries("unknown.example"), 1, "negative answer cached by the SOA minimum");
    });
}

#[test]
fn servfail_is_temporary_tried_twice_and_not_cached() {
    let mut zone = Zone::new();
    zone.servfail("broken.example");
    with_responder(zone, |resolver, responder| async move {
        let err = resolver.mx_targets("broken.example").await.unwrap_err();
        assert!(matches!(&err, DnsError::Temporary(why) if why.contains("Server Failure")), "{err:?}");
        assert_eq!(responder.queries("broken.example"), 2);
        assert!(resolver.mx_targets("broken.example").await.is_err());
        assert_eq!(responder.queries("broken.example"), 4);
    });
}

#[test]
fn silent_server_is_temporary_after_the_timeouts() {
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap();
    run(move || async move {
        let resolver = Resolver::new(vec![addr], Duration::from_millis(100));
        let started = Instant::now();
        let err = resolver.mx_targets("example.com").await.unwrap_err();
        let elapsed = started.elapsed();
        assert!(matches!(&err, DnsError::Temporary(why) if why.contains("no answer")), "{err:?}");
        assert!(elapsed >= Duration::from_millis(200), "two attempts of 100 ms, took {elapsed:?}");
        assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
        drop(silent);
    });
}

#[test]
fn a_silent_server_moves_queries_to_the_next_one() {
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let dead = silent.local_addr().unwrap();
    let mut zone = Zone::new();
    zone.a("relay.example", v4(5)).a("other.example", v4(6));
    let responder = Responder::start(zone).unwrap();
    run(move || async move {
        let resolver = Resolver::new(vec![dead, responder.addr()], Duration::from_secs(1));
        let started = Instant::now();
        assert_eq!(resolver.host_addrs("relay.example").await, Ok(vec![ip(5)]));
        assert!(started.elapsed() >= Duration::from_secs(1), "first server timed out first");
        let started = Instant::now();
        assert_eq!(resolver.host_addrs("other.example").await, Ok(vec![ip(6)]));
        assert!(started.elapsed() < Duration::from_secs(1), "the answering server is asked first");
        drop(silent);
    });
}

#[test]
fn truncated_udp_answer_is_repeated_over_tcp() {
    let mut zone = Zone::new();
    zone.mx("big.example", 10, "mx.big.example").truncate_udp("big.example").a("mx.big.example", v4(8));
    with_responder(zone, |resolver, responder| async move {
        let targets = resolver.mx_targets("big.example").await.unwrap();
        assert_eq!(hosts(&targets), vec![("mx.big.example", 10)]);
        assert_eq!(targets[0].addrs, vec![ip(8)]);
        assert_eq!(responder.queries("big.example"), 2, "one UDP and one TCP question");
    });
}

#[test]
fn answers_are_cached_within_their_ttl() {
    let mut zone = Zone::new();
    zone.mx("example.com", 10, "mx.example.com").a("mx.example.com", v4(1));
    with_responder(zone, |resolver, responder| async move {
        let first = resolver.mx_targets("example.com").await.unwrap();
        responder.update(|zone| {
            zone.a("mx.example.com", v4(2));
        });
        let copy = resolver.clone();
        assert_eq!(copy.mx_targets("example.com").await.unwrap(), first, "clones share the cache");
        assert_eq!(responder.queries("example.com"), 1);
        assert_eq!(responder.queries("mx.example.com"), 2, "A and AAAA, once each");
    });
}

#[test]
fn ttl_zero_is_asked_again() {
    let mut zone = Zone::new();
    zone.ttl(0).mx("example.com", 10, "mx.example.com").a("mx.example.com", v4(1));
    with_responder(zone, |resolver, responder| async move {
        resolver.mx_targets("example.com").await.unwrap();
        responder.update(|zone| {
            zone.a("mx.example.com", v4(2));
        });
        let targets = resolver.mx_targets("example.com").await.unwrap();
        assert_eq!(targets[0].addrs, vec![ip(1), ip(2)]);
        assert_eq!(responder.queries("example.com"), 2);
        assert_eq!(responder.queries("mx.example.com"), 4);
    });
}

#[test]
fn ttl_expiry_asks_again() {
    let mut zone = Zone::new();
    zone.ttl(1).a("smart.example", v4(1));
    with_responder(zone, |resolver, responder| async move {
        assert_eq!(resolver.host_addrs("smart.example").await, Ok(vec![ip(1)]));
        assert_eq!(resolver.host_addrs("smart.example").await, Ok(vec![ip(1)]));
        assert_eq!(responder.queries("smart.example"), 2, "A and AAAA once");
        glommio::timer::sleep(Duration::from_millis(1100)).await;
        assert_eq!(resolver.host_addrs("smart.example").await, Ok(vec![ip(1)]));
        assert_eq!(responder.queries("smart.example"), 4);
    });
}

#[test]
fn host_addrs_errors() {
    let mut zone = Zone::new();
    zone.exists("bare.example");
    with_responder(zone, |resolver, _responder| async move {
        assert_eq!(resolver.host_addrs("bare.example").await, Err(DnsError::NoAddress("bare.example".into())));
        assert_eq!(resolver.host_addrs("nope.example").await, Err(DnsError::NoSuchDomain("nope.example".into())));
        assert_eq!(resolver.host_addrs("bad..name").await, Err(DnsError::InvalidName("bad..name".into())));
        assert_eq!(resolver.mx_targets("").await, Err(DnsError::InvalidName("".into())));
    });
}

#[test]
fn ptr_names() {
    let v6: IpAddr = "2001:db8::25".parse().unwrap();
    let mut zone = Zone::new();
    zone.ptr(ip(25), "Mail.Example.COM.").ptr(v6, "mail6.example.com");
    with_responder(zone, move |resolver, responder| async move {
        assert_eq!(resolver.ptr(ip(25)).await, Ok(vec!["mail.example.com".to_string()]));
        assert_eq!(resolver.ptr(v6).await, Ok(vec!["mail6.example.com".to_string()]));
        assert_eq!(resolver.ptr(ip(26)).await, Ok(vec![]));
        assert_eq!(responder.queries("25.2.0.192.in-addr.arpa"), 1);
    });
}

#[test]
fn replies_with_another_id_are_ignored() {
    let mut zone = Zone::new();
    zone.a("real.example", v4(1));
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let mut buf = [0u8; 1024];
        for _ in 0..2 {
            let (n, peer) = socket.recv_from(&mut buf).unwrap();
            let query = Message::from_vec(&buf[..n]).unwrap();
            let mut forged = query.clone();
            forged.metadata.id = query.metadata.id.wrapping_add(1);
            forged.queries[0].name = wire::parse_name("real.example").unwrap();
            let mut spoof = Zone::new();
            spoof.a("real.example", v4(66)).aaaa("real.example", Ipv6Addr::LOCALHOST);
            socket.send_to(&spoof.answer(&forged, true).to_vec().unwrap(), peer).unwrap();
            socket.send_to(&zone.answer(&query, true).to_vec().unwrap(), peer).unwrap();
        }
    });
    run(move || async move {
        let resolver = Resolver::new(vec![addr], TIMEOUT);
        assert_eq!(resolver.host_addrs("real.example").await, Ok(vec![ip(1)]));
    });
    server.join().unwrap();
}

#[test]
fn no_servers_is_temporary() {
    run(|| async {
        let resolver = Resolver::new(vec![], TIMEOUT);
        let err = resolver.host_addrs("example.com").await.unwrap_err();
        assert!(matches!(&err, DnsError::Temporary(why) if why.contains("no DNS servers")), "{err:?}");
    });
}

#[test]
fn resolv_conf_nameservers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("resolv.conf");
    let text = "# comment\nsearch example.com\nnameserver 192.0.2.53\n; nameserver 192.0.2.99\n\
                nameserver 2001:db8::53 \nnameserver fe80::1%eth0\noptions rotate\n";
    std::fs::write(&path, text).unwrap();
    let expected: Vec<SocketAddr> = vec!["192.0.2.53:53".parse().unwrap(), "[2001:db8::53]:53".parse().unwrap()];
    assert_eq!(servers_from_resolv_conf(&path).unwrap(), expected);
    std::fs::write(&path, "search example.com\n").unwrap();
    assert_eq!(servers_from_resolv_conf(&path).unwrap(), vec!["127.0.0.1:53".parse::<SocketAddr>().unwrap()]);
    assert!(servers_from_resolv_conf(dir.path().join("missing")).is_err());
}
