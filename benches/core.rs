//! Criterion benches of the pure SMTP core: command parsing, the DATA scanner, dot-stuffing.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use tern::proto::command;
use tern::proto::data::{DataScanner, Feed};
use tern::proto::stuff::{stuff_into, unstuff_into};

/// What a bulk client sends for one message with one recipient.
const SESSION: &[(&str, &[u8])] = &[
    ("ehlo", b"EHLO client-07.sender.example.net"),
    ("mail", b"MAIL FROM:<bounces+3f9a2c@mailer.sender.example.net> SIZE=4096 BODY=8BITMIME"),
    ("rcpt", b"RCPT TO:<first.last@recipient.example.org>"),
    ("data", b"DATA"),
    ("quit", b"QUIT"),
];

/// Read size of the session's socket buffer.
const CHUNK: usize = 64 * 1024;

fn commands(c: &mut Criterion) {
    let mut group = c.benchmark_group("command");
    for &(name, line) in SESSION {
        group.throughput(Throughput::Elements(1));
        group.bench_function(name, |b| b.iter(|| command::parse(black_box(line))));
    }
    group.throughput(Throughput::Elements(SESSION.len() as u64));
    group.bench_function("mix", |b| {
        b.iter(|| {
            for &(_, line) in SESSION {
                black_box(command::parse(black_box(line)).is_ok());
            }
        })
    });
    group.finish();
}

/// A wire-form message of about `size` bytes: headers, then 76-character lines, a few of
/// them dot-stuffed, then the end of data.
fn message(size: usize) -> Vec<u8> {
    let mut wire = b"Received: from client-07.sender.example.net ([192.0.2.7])\r\n\
        \tby mx.example.org with ESMTP id 3f9a2c; Tue, 2 Jan 2024 10:00:00 +0000\r\n\
        From: Sender <news@sender.example.net>\r\nTo: first.last@recipient.example.org\r\n\
        Subject: The weekly newsletter\r\nMIME-Version: 1.0\r\n\
        Content-Type: text/plain; charset=utf-8\r\n\r\n"
        .to_vec();
    let text = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut";
    let mut n = 0;
    while wire.len() + 80 < size {
        if n % 97 == 0 {
            wire.extend_from_slice(b"..");
            wire.extend_from_slice(&text[n % 7..74]);
        } else {
            wire.extend_from_slice(&text[n % 7..n % 7 + 76]);
        }
        wire.extend_from_slice(b"\r\n");
        n += 1;
    }
    wire.extend_from_slice(b".\r\n");
    wire
}

fn scan(input: &[u8]) -> usize {
    let mut scanner = DataScanner::new();
    for chunk in input.chunks(CHUNK) {
        if let Feed::End { consumed } = scanner.feed(chunk) {
            return consumed + scanner.saw_bare_eol() as usize;
        }
    }
    0
}

fn data_scanner(c: &mut Criterion) {
    let mut group = c.benchmark_group("data_scan");
    for (name, size) in [("4KiB", 4 * 1024), ("1MiB", 1024 * 1024)] {
        let mut input = message(size);
        group.throughput(Throughput::Bytes(input.len() as u64));
        input.extend_from_slice(b"QUIT\r\n");
        group.bench_with_input(BenchmarkId::from_parameter(name), &input, |b, input| b.iter(|| scan(black_box(input))));
    }
    group.finish();
}

fn stuffing(c: &mut Criterion) {
    let mut wire = message(1024 * 1024);
    wire.truncate(wire.len() - 3);
    let mut content = Vec::with_capacity(wire.len());
    unstuff_into(&wire, &mut content);
    let mut group = c.benchmark_group("stuff");
    group.throughput(Throughput::Bytes(content.len() as u64));
    let mut out = Vec::with_capacity(wire.len() + 64);
    group.bench_function("stuff_1MiB", |b| {
        b.iter(|| {
            out.clear();
            stuff_into(black_box(&content), true, &mut out)
        })
    });
    group.bench_function("unstuff_1MiB", |b| {
        b.iter(|| {
            out.clear();
            unstuff_into(black_box(&wire), &mut out);
        })
    });
    group.finish();
}

criterion_group!(benches, commands, data_scanner, stuffing);
criterion_main!(benches);
