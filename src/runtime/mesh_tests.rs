//! Order across a full channel: shard 0 fills shard 1's channel (4 slots) so that one more
//! message waits in the backlog; once shard 1 has taken the first four, the next message must
//! still arrive after the waiting one, and nothing is lost on the way.

use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use glommio::channels::channel_mesh::MeshBuilder;
use glommio::{LocalExecutorBuilder, Placement};

use super::mesh::{Mesh, ShardMsg};
use crate::outbound::JobResult;

const SENT: usize = 6;

fn msg(n: usize) -> ShardMsg {
    ShardMsg::Result(JobResult { id: n.to_string(), outcomes: Vec::new() })
}

/// Polls `done` for up to 30 s, letting the executor run (it carries the channel's wake-ups).
async fn wait(done: impl Fn() -> bool) {
    let end = Instant::now() + Duration::from_secs(30);
    while !done() && Instant::now() < end {
        glommio::timer::sleep(Duration::from_millis(1)).await;
    }
}

#[test]
fn messages_to_a_shard_keep_their_order_when_its_channel_is_full() {
    let builder = MeshBuilder::full(2, 4);
    let got = Arc::new(Mutex::new(Vec::new()));
    let taken = Arc::new(AtomicUsize::new(0));
    let receiver = {
        let (builder, got, taken) = (builder.clone(), got.clone(), taken.clone());
        LocalExecutorBuilder::new(Placement::Unbound).io_memory(1 << 20).spawn(move || async move {
            let counter = taken.clone();
            let record = Rc::new(move |m: ShardMsg| {
                if let ShardMsg::Result(r) = m {
                    got.lock().unwrap().push(r.id);
                    counter.fetch_add(1, SeqCst);
                }
            });
            let _mesh = Mesh::join(builder, record).await.unwrap();
            wait(|| taken.load(SeqCst) >= SENT).await;
        })
    }
    .unwrap();
    let sender = {
        let taken = taken.clone();
        LocalExecutorBuilder::new(Placement::Unbound).io_memory(1 << 20).spawn(move || async move {
            let mesh = Mesh::join(builder, Rc::new(|_| {})).await.unwrap();
            let peer = 1 - mesh.me();
            for n in 0..5 {
                mesh.send(peer, msg(n));
            }
            // Four arrived, message 4 waits in the backlog: message 5 goes now, with room free.
            wait(|| taken.load(SeqCst) >= 4).await;
            mesh.send(peer, msg(5));
            wait(|| taken.load(SeqCst) >= SENT).await;
        })
    }
    .unwrap();
    sender.join().unwrap();
    receiver.join().unwrap();
    let want: Vec<String> = (0..SENT).map(|n| n.to_string()).collect();
    assert_eq!(*got.lock().unwrap(), want);
}
