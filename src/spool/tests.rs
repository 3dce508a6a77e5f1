//! Spool tests on real files inside a glommio executor: durability across reopen, group
//! commit, torn tails, corruption, rotation with copy-forward, adoption, write failures and
//! retry state.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use glommio::{LocalExecutorBuilder, Placement};

use super::*;

/// Runs `f` on a fresh executor with a small io_uring memory area.
fn run<F, Fut>(f: F)
where
    F: FnOnce(PathBuf) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    LocalExecutorBuilder::new(Placement::Unbound)
        .io_memory(512 << 10)
        .spawn(move || f(path))
        .expect("executor")
        .join()
        .expect("test task");
}

fn meta(id: &str, recipients: usize) -> Rc<MessageMeta> {
    Rc::new(MessageMeta {
        id: id.to_owned(),
        received_at: 1_700_000_000,
        reverse_path: "sender@example.com".into(),
        recipients: (0..recipients).map(|i| format!("r{i}@example.org")).collect(),
        virtual_server: "Default SMTP Virtual Server".into(),
        flags: 1,
    })
}

fn body(id: &str, size: usize) -> Vec<u8> {
    let mut b = format!("Subject: {id}\r\n\r\n").into_bytes();
    b.resize(size.max(b.len()), b'x');
    b
}

async fn open(dir: &Path, shard: usize, shards: usize) -> (Spool, Vec<Recovered>, Arc<SpoolStats>) {
    open_opts(dir, shard, shards, SpoolOptions::default()).await
}

async fn open_opts(
    dir: &Path,
    shard: usize,
    shards: usize,
    opts: SpoolOptions,
) -> (Spool, Vec<Recovered>, Arc<SpoolStats>) {
    let stats = Arc::new(SpoolStats::default());
    let (spool, rec) = Spool::open_with(dir, shard, shards, stats.clone(), opts).await.expect("open");
    (spool, rec, stats)
}

fn segment_files(dir: &Path, shard: usize) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join(format!("shard-{shard}")))
        .map(|rd| rd.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "seg"));
    files.sort();
    files
}

fn ids(rec: &[Recovered]) -> Vec<&str> {
    rec.iter().map(|r| r.meta.id.as_str()).collect()
}

fn retry(attempts: u32, next_attempt: u64, delay_notified: bool) -> RetryState {
    RetryState { attempts, next_attempt, delay_notified }
}

/// Stores and completes `n` messages of 700 bytes one by one, waiting for clean-up after each;
/// returns the largest number of segment files seen.
async fn churn(spool: &Spool, dir: &Path, prefix: &str, n: usize) -> usize {
    let mut max_files = 0;
    for i in 0..n {
        let id = format!("{prefix}{i}");
        spool.store(&meta(&id, 1), &[&body(&id, 700)]).await.unwrap();
        spool.complete(&id, &[0]).await.unwrap();
        spool.flush().await.unwrap();
        max_files = max_files.max(segment_files(dir, 0).len());
    }
    max_files
}

#[test]
fn store_then_reopen_recovers_each_message_once() {
    run(|dir| async move {
        let (spool, rec, stats) = open(&dir, 0, 1).await;
        assert!(rec.is_empty());
        let mut refs = Vec::new();
        for i in 0..3 {
            let id = format!("m{i}");
            let b = body(&id, 100 + i);
            let r = spool.store(&meta(&id, 2), &[b"Received: x\r\n", &b]).await.unwrap();
            refs.push(r);
        }
        assert_eq!(stats.queued.load(Ordering::Relaxed), 3);
        let mut want = b"Received: x\r\n".to_vec();
        want.extend_from_slice(&body("m1", 101));
        assert_eq!(spool.read_body(&refs[1]).await.unwrap(), want);
        drop(spool);

        for _ in 0..2 {
            let (spool, rec, stats) = open(&dir, 0, 1).await;
            assert_eq!(ids(&rec), ["m0", "m1", "m2"]);
            assert_eq!(stats.queued.load(Ordering::Relaxed), 3);
            for (i, r) in rec.iter().enumerate() {
                let id = format!("m{i}");
                assert_eq!(r.meta, meta(&id, 2));
                assert!(r.done.is_empty());
                let mut want = b"Received: x\r\n".to_vec();
                want.extend_from_slice(&body(&id, 100 + i));
                assert_eq!(spool.read_body(&r.body).await.unwrap(), want);
            }
        }
    });
}

#[test]
fn partial_completion_survives_reopen() {
    run(|dir| async move {
        let (spool, _, stats) = open(&dir, 0, 1).await;
        spool.store(&meta("a", 3), &[b"body"]).await.unwrap();
        spool.store(&meta("b", 1), &[b"body"]).await.unwrap();
        spool.complete("a", &[2, 0, 0, 9]).await.unwrap();
        spool.complete("nope", &[0]).await.unwrap();
        assert_eq!(stats.queued.load(Ordering::Relaxed), 2);
        drop(spool);

        let (spool, rec, stats) = open(&dir, 0, 1).await;
        assert_eq!(ids(&rec), ["a", "b"]);
        assert_eq!(rec[0].done, [0, 2]);
        assert!(rec[1].done.is_empty());
        spool.complete("a", &[1]).await.unwrap();
        assert_eq!(stats.queued.load(Ordering::Relaxed), 1);
        drop(spool);

        let (_, rec, _) = open(&dir, 0, 1).await;
        assert_eq!(ids(&rec), ["b"]);
    });
}

#[test]
fn final_messages_are_not_recovered_and_their_segments_go() {
    run(|dir| async move {
        let (spool, _, stats) = open(&dir, 0, 1).await;
        for id in ["a", "b"] {
            spool.store(&meta(id, 2), &[b"body"]).await.unwrap();
        }
        spool.complete("a", &[0, 1]).await.unwrap();
        spool.complete("b", &[1]).await.unwrap();
        spool.complete("b", &[0]).await.unwrap();
        assert_eq!(stats.queued.load(Ordering::Relaxed), 0);
        drop(spool);
        let old = segment_files(&dir, 0);
        assert_eq!(old.len(), 1);

        let (_spool, rec, stats) = open(&dir, 0, 1).await;
        assert!(rec.is_empty());
        assert_eq!(stats.queued.load(Ordering::Relaxed), 0);
        let now = segment_files(&dir, 0);
        assert_eq!(now.len(), 1, "only the new active segment is left");
        assert!(!now.contains(&old[0]));
    });
}

#[test]
fn concurrent_stores_share_fdatasyncs() {
    const N: usize = 200;
    run(|dir| async move {
        let (spool, _, stats) = open(&dir, 0, 1).await;
        let tasks: Vec<_> = (0..N)
            .map(|i| {
                let spool = spool.clone();
                glommio::spawn_local(async move {
                    let id = format!("c{i:03}");
                    spool.store(&meta(&id, 1), &[&body(&id, 300)]).await.unwrap()
                })
            })
            .collect();
        for t in tasks {
            t.await;
        }
        let fsyncs = stats.fsyncs.load(Ordering::Relaxed);
        assert!(fsyncs < N as u64, "{fsyncs} fdatasyncs for {N} messages");
        assert_eq!(stats.queued.load(Ordering::Relaxed), N as u64);
        assert!(stats.bytes_written.load(Ordering::Relaxed) > (N * 300) as u64);
        drop(spool);

        let (_, rec, _) = open(&dir, 0, 1).await;
        let mut got: Vec<_> = ids(&rec).into_iter().map(String::from).collect();
        got.sort();
        let want: Vec<_> = (0..N).map(|i| format!("c{i:03}")).collect();
        assert_eq!(got, want);
    });
}

/// Stores `n` messages in a fresh spool and returns their body refs.
async fn store_n(dir: &Path, n: usize) -> Vec<BodyRef> {
    let (spool, _, _) = open(dir, 0, 1).await;
    let mut refs = Vec::new();
    for i in 0..n {
        let id = format!("t{i}");
        refs.push(spool.store(&meta(&id, 1), &[&body(&id, 64)]).await.unwrap());
    }
    refs
}

#[test]
fn torn_tail_garbage_is_ignored() {
    run(|dir| async move {
        let refs = store_n(&dir, 3).await;
        let mut frame = Vec::new();
        encode_message(&meta("torn", 1), &[&body("torn", 64)], &mut frame);
        let mut seg = std::fs::read(&*refs[0].segment).unwrap();
        seg.extend_from_slice(&frame[..frame.len() / 2]);
        std::fs::write(&*refs[0].segment, seg).unwrap();

        let (spool, rec, _) = open(&dir, 0, 1).await;
        assert_eq!(ids(&rec), ["t0", "t1", "t2"]);
        spool.store(&meta("after", 1), &[b"x"]).await.unwrap();
        drop(spool);
        let (_, rec, _) = open(&dir, 0, 1).await;
        assert_eq!(ids(&rec), ["t0", "t1", "t2", "after"]);
    });
}

#[test]
fn truncated_last_record_is_ignored() {
    run(|dir| async move {
        let refs = store_n(&dir, 3).await;
        let len = std::fs::metadata(&*refs[2].segment).unwrap().len();
        let file = std::fs::OpenOptions::new().write(true).open(&*refs[2].segment).unwrap();
        file.set_len(len - 5).unwrap();

        let (_, rec, stats) = open(&dir, 0, 1).await;
        assert_eq!(ids(&rec), ["t0", "t1"]);
        assert_eq!(stats.queued.load(Ordering::Relaxed), 2);
    });
}

#[test]
fn damaged_record_mid_segment_is_skipped() {
    run(|dir| async move {
        let refs = store_n(&dir, 3).await;
        let mut seg = std::fs::read(&*refs[1].segment).unwrap();
        seg[refs[1].offset as usize + 10] ^= 0x40;
        std::fs::write(&*refs[1].segment, seg).unwrap();

        let (spool, rec, _) = open(&dir, 0, 1).await;
        assert_eq!(ids(&rec), ["t0", "t2"]);
        let want = body("t2", 64);
        assert_eq!(spool.read_body(&rec[1].body).await.unwrap(), want);
    });
}

#[test]
fn copy_forward_keeps_a_long_lived_message_and_bounds_the_files() {
    let opts = SpoolOptions { segment_size: 2048, copy_forward_lag: 2 };
    run(move |dir| async move {
        let (spool, _, stats) = open_opts(&dir, 0, 1, opts.clone()).await;
        let long_body = body("long", 500);
        let first = spool.store(&meta("long", 3), &[&long_body]).await.unwrap();
        spool.complete("long", &[1]).await.unwrap();
        let max_files = churn(&spool, &dir, "s", 40).await;
        assert!(!segment_files(&dir, 0).contains(&*first.segment), "first segment deleted");
        assert!(max_files <= opts.copy_forward_lag + 2, "{max_files} files");
        assert_eq!(stats.queued.load(Ordering::Relaxed), 1);
        assert_eq!(spool.read_body(&first).await.unwrap(), long_body);
        drop(spool);

        let (spool, rec, _) = open_opts(&dir, 0, 1, opts.clone()).await;
        assert_eq!(ids(&rec), ["long"]);
        assert_eq!(rec[0].meta, meta("long", 3));
        assert_eq!(rec[0].done, [1]);
        assert_eq!(spool.read_body(&rec[0].body).await.unwrap(), long_body);
        assert!(segment_files(&dir, 0).len() <= opts.copy_forward_lag + 2);
    });
}

#[test]
fn a_log_full_of_queued_messages_is_not_rewritten() {
    let opts = SpoolOptions { segment_size: 2048, copy_forward_lag: 2 };
    run(move |dir| async move {
        let (spool, _, stats) = open_opts(&dir, 0, 1, opts.clone()).await;
        let mut framed = 0;
        for i in 0..60 {
            let id = format!("q{i}");
            let b = body(&id, 700);
            let mut record = Vec::new();
            encode_message(&meta(&id, 1), &[&b], &mut record);
            framed += record.len() as u64;
            spool.store(&meta(&id, 1), &[&b]).await.unwrap();
            spool.flush().await.unwrap();
        }
        assert_eq!(stats.bytes_written.load(Ordering::Relaxed), framed, "nothing copied forward");
        drop(spool);
        let (_, rec, _) = open_opts(&dir, 0, 1, opts).await;
        assert_eq!(rec.len(), 60);
    });
}

#[test]
fn a_larger_run_is_adopted_exactly_once() {
    run(|dir| async move {
        let (spool, _, _) = open(&dir, 3, 4).await;
        spool.store(&meta("x", 2), &[b"body x"]).await.unwrap();
        spool.store(&meta("y", 1), &[b"body y"]).await.unwrap();
        spool.complete("x", &[1]).await.unwrap();
        spool.complete("y", &[0]).await.unwrap();
        spool.set_retry("x", retry(2, 1_700_000_900, false)).await.unwrap();
        drop(spool);

        let (_, rec, _) = open(&dir, 0, 2).await;
        assert!(rec.is_empty(), "shard-3 belongs to shard 1 of 2");
        let (spool, rec, stats) = open(&dir, 1, 2).await;
        assert_eq!(ids(&rec), ["x"]);
        assert_eq!(rec[0].done, [1]);
        assert_eq!(rec[0].retry, retry(2, 1_700_000_900, false));
        assert_eq!(spool.read_body(&rec[0].body).await.unwrap(), b"body x");
        assert_eq!(stats.queued.load(Ordering::Relaxed), 1);
        assert!(segment_files(&dir, 3).is_empty(), "adopted files deleted");
        drop(spool);

        let (spool, rec, _) = open(&dir, 1, 2).await;
        assert_eq!(ids(&rec), ["x"]);
        assert_eq!(rec[0].done, [1]);
        assert_eq!(rec[0].retry, retry(2, 1_700_000_900, false), "carried by the adoption copy");
        spool.complete("x", &[0]).await.unwrap();
        drop(spool);
        let (_, rec, _) = open(&dir, 1, 2).await;
        assert!(rec.is_empty());
    });
}

#[test]
fn a_failed_batch_is_cut_off_and_the_spool_keeps_working() {
    run(|dir| async move {
        let (spool, _, stats) = open(&dir, 0, 1).await;
        let a = spool.store(&meta("a", 1), &[b"body a"]).await.unwrap();
        let end_of_a = a.offset + u64::from(a.len);
        spool.0.fail_syncs.set(1);
        let err = spool.store(&meta("b", 1), &[b"body b"]).await.unwrap_err();
        assert!(matches!(err, SpoolError::Io(_)), "{err}");
        assert_eq!(std::fs::metadata(&*a.segment).unwrap().len(), end_of_a);
        assert_eq!(stats.queued.load(Ordering::Relaxed), 1);
        spool.complete("b", &[0]).await.unwrap();

        spool.0.fail_syncs.set(1);
        assert!(spool.complete("a", &[0]).await.is_err());
        assert_eq!(stats.queued.load(Ordering::Relaxed), 1);

        let c = spool.store(&meta("c", 1), &[b"body c"]).await.unwrap();
        let mut frame_c = Vec::new();
        encode_message(&meta("c", 1), &[b"body c"], &mut frame_c);
        let end_of_c = c.offset + u64::from(c.len);
        assert_eq!(end_of_c - frame_c.len() as u64, end_of_a, "c follows a directly");
        assert_eq!(stats.queued.load(Ordering::Relaxed), 2);
        drop(spool);

        let (spool, rec, _) = open(&dir, 0, 1).await;
        assert_eq!(ids(&rec), ["a", "c"]);
        assert_eq!(spool.read_body(&rec[1].body).await.unwrap(), b"body c");
    });
}

#[test]
fn replay_dedupes_copies_and_merges_done_marks_in_any_order() {
    run(|dir| async move {
        let shard = dir.join("shard-0");
        std::fs::create_dir_all(&shard).unwrap();
        let write = |seq: u64, records: &[Record]| {
            let mut buf = Vec::new();
            for r in records {
                encode(r, &mut buf);
            }
            std::fs::write(shard.join(format!("{seq:016x}.seg")), buf).unwrap();
        };
        let msg = |id: &str, n: usize, body: &[u8]| Record::Message {
            meta: MessageMeta::clone(&meta(id, n)),
            body: body.to_vec(),
        };
        let done = |id: &str, r: &[u16]| Record::Done { id: id.into(), recipients: r.to_vec() };
        write(1, &[msg("m", 3, b"old"), done("m", &[1])]);
        write(2, &[msg("m", 3, b"new"), done("m", &[1]), done("m", &[0])]);
        write(3, &[done("n", &[0])]);
        write(4, &[msg("n", 2, b"n body")]);

        for _ in 0..2 {
            let (spool, rec, stats) = open(&dir, 0, 1).await;
            assert_eq!(ids(&rec), ["n", "m"], "m was copied forward past n");
            assert_eq!(rec[0].done, [0]);
            assert_eq!(rec[1].done, [0, 1]);
            assert_eq!(spool.read_body(&rec[1].body).await.unwrap(), b"new");
            assert_eq!(stats.queued.load(Ordering::Relaxed), 2);
            assert!(segment_files(&dir, 0).len() <= 3);
        }
    });
}

#[test]
fn retry_state_survives_reopen_and_the_latest_wins() {
    run(|dir| async move {
        let (spool, _, stats) = open(&dir, 0, 1).await;
        for id in ["a", "b", "c"] {
            spool.store(&meta(id, 2), &[b"body"]).await.unwrap();
        }
        spool.set_retry("a", retry(1, 1_700_000_300, false)).await.unwrap();
        spool.set_retry("b", retry(1, 1_700_000_300, false)).await.unwrap();
        spool.set_retry("b", retry(5, 1_700_086_400, true)).await.unwrap();
        let written = stats.bytes_written.load(Ordering::Relaxed);
        spool.set_retry("nope", retry(9, 9, true)).await.unwrap();
        assert_eq!(stats.bytes_written.load(Ordering::Relaxed), written, "unknown id: nothing written");
        drop(spool);

        for _ in 0..2 {
            let (_, rec, _) = open(&dir, 0, 1).await;
            assert_eq!(ids(&rec), ["a", "b", "c"]);
            assert_eq!(rec[0].retry, retry(1, 1_700_000_300, false));
            assert_eq!(rec[1].retry, retry(5, 1_700_086_400, true), "the later state wins");
            assert_eq!(rec[2].retry, RetryState::default());
            assert!(rec.iter().all(|r| r.done.is_empty()));
        }
    });
}

#[test]
fn retry_state_of_a_final_message_is_not_recovered() {
    run(|dir| async move {
        let (spool, _, stats) = open(&dir, 0, 1).await;
        spool.store(&meta("a", 1), &[b"body a"]).await.unwrap();
        spool.store(&meta("b", 2), &[b"body b"]).await.unwrap();
        spool.set_retry("a", retry(3, 1_700_000_600, true)).await.unwrap();
        spool.set_retry("b", retry(4, 1_700_000_700, false)).await.unwrap();
        spool.complete("a", &[0]).await.unwrap();
        spool.complete("b", &[0]).await.unwrap();
        let written = stats.bytes_written.load(Ordering::Relaxed);
        spool.set_retry("a", retry(4, 1_700_000_900, true)).await.unwrap();
        assert_eq!(stats.bytes_written.load(Ordering::Relaxed), written, "final id: nothing written");
        assert_eq!(stats.queued.load(Ordering::Relaxed), 1);
        drop(spool);

        let (spool, rec, _) = open(&dir, 0, 1).await;
        assert_eq!(ids(&rec), ["b"]);
        assert_eq!(rec[0].done, [0]);
        assert_eq!(rec[0].retry, retry(4, 1_700_000_700, false));
        spool.complete("b", &[1]).await.unwrap();
        drop(spool);
        let (_, rec, _) = open(&dir, 0, 1).await;
        assert!(rec.is_empty());
    });
}

#[test]
fn a_failed_retry_write_restores_the_previous_state() {
    run(|dir| async move {
        let (spool, _, _) = open(&dir, 0, 1).await;
        spool.store(&meta("a", 1), &[b"body a"]).await.unwrap();
        spool.set_retry("a", retry(1, 100, false)).await.unwrap();
        spool.0.fail_syncs.set(1);
        assert!(spool.set_retry("a", retry(2, 200, true)).await.is_err());
        assert_eq!(spool.0.state.borrow().live["a"].retry, retry(1, 100, false));
        drop(spool);

        let (_, rec, _) = open(&dir, 0, 1).await;
        assert_eq!(rec[0].retry, retry(1, 100, false));
    });
}

#[test]
fn copy_forward_carries_the_retry_state() {
    let opts = SpoolOptions { segment_size: 2048, copy_forward_lag: 2 };
    run(move |dir| async move {
        let (spool, _, _) = open_opts(&dir, 0, 1, opts.clone()).await;
        let first = spool.store(&meta("long", 3), &[&body("long", 500)]).await.unwrap();
        spool.complete("long", &[2]).await.unwrap();
        spool.set_retry("long", retry(1, 1_700_000_300, false)).await.unwrap();
        churn(&spool, &dir, "s", 40).await;
        assert!(!segment_files(&dir, 0).contains(&*first.segment), "first segment, with the retry record, deleted");
        drop(spool);

        let (spool, rec, _) = open_opts(&dir, 0, 1, opts.clone()).await;
        assert_eq!(ids(&rec), ["long"]);
        assert_eq!(rec[0].done, [2]);
        assert_eq!(rec[0].retry, retry(1, 1_700_000_300, false));
        let before = segment_files(&dir, 0);
        spool.set_retry("long", retry(2, 1_700_001_200, true)).await.unwrap();
        churn(&spool, &dir, "t", 40).await;
        let after = segment_files(&dir, 0);
        assert!(before.iter().all(|f| !after.contains(f)), "every file holding a retry record deleted");
        drop(spool);

        let (_, rec, _) = open_opts(&dir, 0, 1, opts).await;
        assert_eq!(ids(&rec), ["long"]);
        assert_eq!(rec[0].done, [2]);
        assert_eq!(rec[0].retry, retry(2, 1_700_001_200, true));
    });
}

#[test]
fn replay_applies_retry_records_in_log_order_even_before_their_message() {
    run(|dir| async move {
        let shard = dir.join("shard-0");
        std::fs::create_dir_all(&shard).unwrap();
        let write = |seq: u64, records: &[Record]| {
            let mut buf = Vec::new();
            for r in records {
                encode(r, &mut buf);
            }
            std::fs::write(shard.join(format!("{seq:016x}.seg")), buf).unwrap();
        };
        let msg = |id: &str, n: usize| Record::Message {
            meta: MessageMeta::clone(&meta(id, n)),
            body: id.as_bytes().to_vec(),
        };
        let done = |id: &str, r: &[u16]| Record::Done { id: id.into(), recipients: r.to_vec() };
        let rec = |id: &str, attempts: u32| Record::Retry {
            id: id.into(),
            attempts,
            next_attempt: 1_700_000_000 + u64::from(attempts),
            delay_notified: attempts > 2,
        };
        write(1, &[rec("o", 3), rec("p", 1), rec("f", 1)]);
        write(2, &[msg("o", 2), msg("p", 1), rec("p", 2), msg("f", 1), done("f", &[0]), msg("q", 1), rec("q", 4)]);
        write(3, &[msg("q", 1), done("o", &[1])]);
        let orphan_file = shard.join(format!("{:016x}.seg", 1));

        // Round 1 also copies `o` and `p` forward (more than `copy_forward_lag` newer segments).
        for round in 0..3 {
            let (_, mut rec, stats) = open(&dir, 0, 1).await;
            rec.sort_by(|a, b| a.meta.id.cmp(&b.meta.id));
            assert_eq!(ids(&rec), ["o", "p", "q"], "round {round}");
            assert_eq!(rec[0].retry, retry(3, 1_700_000_003, true), "orphan applied");
            assert_eq!(rec[0].done, [1]);
            assert_eq!(rec[1].retry, retry(2, 1_700_000_002, false), "later record wins over the orphan");
            assert_eq!(rec[2].retry, retry(4, 1_700_000_004, true), "kept across the later copy");
            assert_eq!(stats.queued.load(Ordering::Relaxed), 3);
            assert!(!orphan_file.exists(), "segment of the orphans deleted, its state written again");
            assert_eq!(shard.join(format!("{:016x}.seg", 2)).exists(), round == 0, "o and p copied forward");
        }
    });
}
