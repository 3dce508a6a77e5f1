//! Criterion benches of the pure queue core: spool record encoding and decoding, MX ordering,
//! DSN generation.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use tern::delivery::dsn::{self, Kind, RecipientStatus, Report};
use tern::dns::mx;
use tern::proto::reply::Status;
use tern::spool::{decode, encode_done, encode_message, encode_retry, MessageMeta, RetryState};

/// A bulk message's metadata with `rcpts` recipients.
fn meta(rcpts: usize) -> MessageMeta {
    MessageMeta {
        id: "0000018c2f3a9b1e-03-000042".into(),
        received_at: 1_700_000_000,
        reverse_path: "bounces+3f9a2c@mailer.sender.example.net".into(),
        recipients: (0..rcpts).map(|i| format!("user{i}@recipient{}.example.org", i % 7)).collect(),
        virtual_server: "Default SMTP Virtual Server".into(),
        flags: 1,
    }
}

/// A wire-form body of `size` bytes: a header section, then 78-octet lines.
fn body(size: usize) -> Vec<u8> {
    let mut wire =
        b"From: news@sender.example.net\r\nTo: list@recipient.example.org\r\nSubject: weekly\r\n\r\n".to_vec();
    while wire.len() < size {
        wire.extend_from_slice(&[b'x'; 76]);
        wire.extend_from_slice(b"\r\n");
    }
    wire.truncate(size);
    wire
}

fn spool_records(c: &mut Criterion) {
    let mut group = c.benchmark_group("spool_record");
    let mut out = Vec::with_capacity(200 * 1024);
    for (name, size, rcpts) in [("4KiB_1rcpt", 4 * 1024, 1), ("100KiB_50rcpt", 100 * 1024, 50)] {
        let (meta, body) = (meta(rcpts), body(size));
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::new("encode_message", name), &(meta.clone(), &body), |b, (m, body)| {
            b.iter(|| {
                out.clear();
                encode_message(black_box(m), &[black_box(body.as_slice())], &mut out);
            })
        });
        out.clear();
        encode_message(&meta, &[&body], &mut out);
        let framed = out.clone();
        group.bench_with_input(BenchmarkId::new("decode_message", name), &framed, |b, framed| {
            b.iter(|| decode(black_box(framed)).map(|(_, used)| used))
        });
    }
    group.throughput(Throughput::Elements(1));
    group.bench_function("encode_done", |b| {
        b.iter(|| {
            out.clear();
            encode_done(black_box("0000018c2f3a9b1e-03-000042"), black_box(&[0, 1, 2]), &mut out);
        })
    });
    let state = RetryState { attempts: 3, next_attempt: 1_700_003_600, delay_notified: false };
    group.bench_function("encode_retry", |b| {
        b.iter(|| {
            out.clear();
            encode_retry(black_box("0000018c2f3a9b1e-03-000042"), black_box(state), &mut out);
        })
    });
    group.finish();
}

fn mx_ordering(c: &mut Criterion) {
    let mut group = c.benchmark_group("mx_order");
    let typical: Vec<(u16, String)> =
        vec![(10, "MX1.Example.NET.".into()), (10, "mx2.example.net.".into()), (20, "backup.example.net.".into())];
    let large: Vec<(u16, String)> = (0..16).map(|i| ((i % 4) * 10, format!("mx{i}.mail.example.com."))).collect();
    let mut rng = fastrand::Rng::with_seed(7);
    group.throughput(Throughput::Elements(1));
    for (name, records) in [("3_records", &typical), ("16_records", &large)] {
        group.bench_with_input(BenchmarkId::from_parameter(name), records, |b, records| {
            b.iter(|| mx::order(black_box(records), &mut rng))
        });
    }
    group.finish();
}

fn dsn_generation(c: &mut Criterion) {
    let original = meta(3);
    let wire = body(4 * 1024);
    let recipients: Vec<RecipientStatus> = original
        .recipients
        .iter()
        .map(|address| RecipientStatus {
            address: address.clone(),
            status: Status(5, 1, 1),
            remote_mta: Some("mx1.recipient.example.org".into()),
            diagnostic: Some(format!("550 5.1.1 <{address}>: no such user")),
            last_attempt: Some(1_700_000_100),
        })
        .collect();
    let report = Report {
        fqdn: "mx.tern.test",
        id: "0000018c2f3a9b1e-03-000043",
        original: &original,
        original_wire: &wire,
        recipients: &recipients,
        kind: Kind::Failed,
        now: 1_700_000_200,
    };
    let mut group = c.benchmark_group("dsn");
    group.throughput(Throughput::Elements(1));
    group.bench_function("failed_3rcpt_4KiB", |b| b.iter(|| dsn::build(black_box(&report)).len()));
    group.finish();
}

criterion_group!(benches, spool_records, mx_ordering, dsn_generation);
criterion_main!(benches);
