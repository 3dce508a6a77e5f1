//! The one way shards talk to each other: glommio channel-mesh messages. Jobs go to the owner
//! shard of their destination, results come back to the shard whose spool holds the message.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use glommio::channels::channel_mesh::{Full, MeshBuilder, Receivers, Senders};

use crate::outbound::{Job, JobResult};

/// What one shard sends another.
#[derive(Debug)]
pub enum ShardMsg {
    Deliver(Job),
    Result(JobResult),
}

/// The builder every shard joins at start (cloned into each executor).
pub type Builder = MeshBuilder<ShardMsg, Full>;

/// Messages in flight per pair of shards before a sender waits.
pub const CHANNEL_SIZE: usize = 4096;

pub fn builder(shards: usize) -> Builder {
    MeshBuilder::full(shards, CHANNEL_SIZE)
}

/// This shard's end of the mesh. Messages to one shard arrive in the order they were sent:
/// once a channel is full, later messages queue behind the waiting ones.
pub struct Mesh {
    senders: Senders<ShardMsg>,
    /// Per destination: messages waiting for room in its channel, oldest first, while a drain
    /// task runs for it (`Some`, possibly empty while its last message waits).
    backlog: RefCell<Vec<Option<VecDeque<ShardMsg>>>>,
}

impl Mesh {
    /// Joins the mesh (waits for every shard) and starts handling incoming messages.
    pub async fn join(builder: Builder, handle: Rc<dyn Fn(ShardMsg)>) -> Result<Rc<Mesh>, String> {
        let (senders, mut receivers): (Senders<ShardMsg>, Receivers<ShardMsg>) =
            builder.join().await.map_err(|_| "cannot join the shard mesh".to_string())?;
        for (_, stream) in receivers.streams() {
            let handle = handle.clone();
            glommio::spawn_local(async move {
                while let Some(msg) = stream.recv().await {
                    handle(msg);
                }
            })
            .detach();
        }
        let backlog = RefCell::new((0..senders.nr_consumers()).map(|_| None).collect());
        Ok(Rc::new(Mesh { senders, backlog }))
    }

    pub fn me(&self) -> usize {
        self.senders.peer_id()
    }

    /// Sends to another shard, in order; when its channel is full the message waits in the
    /// backlog, which one task drains.
    pub fn send(self: &Rc<Self>, to: usize, msg: ShardMsg) {
        use glommio::{GlommioError, ResourceType};
        if let Some(waiting) = self.backlog.borrow_mut()[to].as_mut() {
            waiting.push_back(msg);
            return;
        }
        match self.senders.try_send_to(to, msg) {
            Ok(()) => {}
            Err(GlommioError::WouldBlock(ResourceType::Channel(msg))) => {
                self.backlog.borrow_mut()[to] = Some(VecDeque::from([msg]));
                glommio::spawn_local(self.clone().drain(to)).detach();
            }
            Err(e) => tracing::error!("shard mesh: cannot send to shard {to}: {e}"),
        }
    }

    /// Sends the backlog for `to`, oldest first, waiting for room each time; then sends go
    /// straight to the channel again.
    async fn drain(self: Rc<Self>, to: usize) {
        loop {
            let next = self.backlog.borrow_mut()[to].as_mut().and_then(VecDeque::pop_front);
            let Some(msg) = next else {
                self.backlog.borrow_mut()[to] = None;
                return;
            };
            if self.senders.send_to(to, msg).await.is_err() {
                tracing::error!("shard mesh: shard {to} is gone");
            }
        }
    }
}
