//! The one way shards talk to each other: glommio channel-mesh messages. Jobs go to the owner
//! shard of their destination, results come back to the shard whose spool holds the message.

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

/// This shard's end of the mesh.
pub struct Mesh {
    senders: Senders<ShardMsg>,
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
        Ok(Rc::new(Mesh { senders }))
    }

    pub fn me(&self) -> usize {
        self.senders.peer_id()
    }

    /// Sends to another shard; waits in a task when that shard's channel is full.
    pub fn send(self: &Rc<Self>, to: usize, msg: ShardMsg) {
        use glommio::{GlommioError, ResourceType};
        match self.senders.try_send_to(to, msg) {
            Ok(()) => {}
            Err(GlommioError::WouldBlock(ResourceType::Channel(msg))) => {
                let me = self.clone();
                glommio::spawn_local(async move {
                    if me.senders.send_to(to, msg).await.is_err() {
                        tracing::error!("shard mesh: shard {to} is gone");
                    }
                })
                .detach();
            }
            Err(e) => tracing::error!("shard mesh: cannot send to shard {to}: {e}"),
        }
    }
}
