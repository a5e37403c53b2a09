//! Bounded channels between tasks, and [`ChannelWriter`], the [`Output`] at the end of a chain
//! that routes records into them in batches.
//!
//! Every consumer subtask owns one bounded queue; all of its producers send into it, each
//! message tagged with the producer's channel index ([`Envelope`]). A full queue blocks its
//! producers (backpressure). Records are buffered per target and sent as one
//! [`Message::Records`] batch, so a hand-off costs one synchronisation per batch.
//!
//! Failure needs no control plane: a task that fails drops its queue's receiver and its
//! senders, so its producers' next send and its consumers' next receive fail with
//! [`Error::Disconnected`], and the failure spreads through the whole job.

use crossbeam_channel::{Receiver, Sender};

use crate::element::{CheckpointBarrier, Envelope, Message, Record, StreamStatus, Watermark};
use crate::operator::Output;
use crate::partition::{key_group_for_hash, subtask_for_key_group, PartitionKind, Partitioner};
use crate::{Error, Result};

/// Records per batch unless configured otherwise.
pub const DEFAULT_BATCH_SIZE: usize = 1024;

/// Creates the bounded queue of one consumer subtask, `capacity` messages deep.
pub fn bounded<T>(capacity: usize) -> (Sender<Envelope<T>>, Receiver<Envelope<T>>) {
    crossbeam_channel::bounded(capacity)
}

/// Routes a producer subtask's records to its consumers' queues, in batches.
pub struct ChannelWriter<T> {
    targets: Vec<Sender<Envelope<T>>>,
    channel: u32,
    kind: PartitionKind,
    partitioner: Partitioner<T>,
    buffers: Vec<Vec<Record<T>>>,
    batch_size: usize,
    round_robin: usize,
    rng: u64,
    /// For hash routing: the target of each key group, computed once.
    group_to_target: Vec<u32>,
    max_parallelism: u32,
}

impl<T: Clone + Send> ChannelWriter<T> {
    /// A writer sending to `targets` (for [`PartitionKind::Forward`], the one consumer subtask;
    /// otherwise all of them, in subtask order) as channel `channel` of each.
    ///
    /// `kind` may differ from the partitioner's own kind: a forward edge between operators of
    /// different parallelism is planned as rebalance.
    pub fn new(
        targets: Vec<Sender<Envelope<T>>>,
        channel: u32,
        kind: PartitionKind,
        partitioner: Partitioner<T>,
        batch_size: usize,
        max_parallelism: u32,
    ) -> Self {
        let n = targets.len() as u32;
        let group_to_target = if kind == PartitionKind::Hash {
            (0..max_parallelism)
                .map(|g| subtask_for_key_group(g, max_parallelism, n))
                .collect()
        } else {
            Vec::new()
        };
        ChannelWriter {
            buffers: (0..targets.len())
                .map(|_| Vec::with_capacity(batch_size))
                .collect(),
            targets,
            channel,
            kind,
            partitioner,
            batch_size: batch_size.max(1),
            // Start each producer at a different consumer so that rebalance spreads evenly.
            round_robin: channel as usize,
            rng: 0x9E37_79B9_7F4A_7C15 ^ (channel as u64 + 1),
            group_to_target,
            max_parallelism,
        }
    }

    #[inline]
    fn push(&mut self, target: usize, record: Record<T>) -> Result<()> {
        let buffer = &mut self.buffers[target];
        buffer.push(record);
        if buffer.len() >= self.batch_size {
            self.send_buffer(target)?;
        }
        Ok(())
    }

    fn send_buffer(&mut self, target: usize) -> Result<()> {
        if self.buffers[target].is_empty() {
            return Ok(());
        }
        let batch = std::mem::replace(
            &mut self.buffers[target],
            Vec::with_capacity(self.batch_size),
        );
        self.send(target, Message::Records(batch))
    }

    fn send(&self, target: usize, message: Message<T>) -> Result<()> {
        self.targets[target]
            .send(Envelope {
                channel: self.channel,
                message,
            })
            .map_err(|_| Error::Disconnected)
    }

    fn flush_all(&mut self) -> Result<()> {
        for target in 0..self.targets.len() {
            self.send_buffer(target)?;
        }
        Ok(())
    }

    fn send_to_all(&mut self, make: impl Fn() -> Message<T>) -> Result<()> {
        self.flush_all()?;
        for target in 0..self.targets.len() {
            self.send(target, make())?;
        }
        Ok(())
    }
}

impl<T: Clone + Send> Output<T> for ChannelWriter<T> {
    #[inline]
    fn collect(&mut self, record: Record<T>) -> Result<()> {
        let n = self.targets.len();
        match self.kind {
            PartitionKind::Forward => self.push(0, record),
            PartitionKind::Rebalance => {
                self.round_robin += 1;
                if self.round_robin >= n {
                    self.round_robin = 0;
                }
                self.push(self.round_robin, record)
            }
            PartitionKind::Shuffle => {
                // xorshift64: cheap and good enough to spread load.
                self.rng ^= self.rng << 13;
                self.rng ^= self.rng >> 7;
                self.rng ^= self.rng << 17;
                self.push((self.rng % n as u64) as usize, record)
            }
            PartitionKind::Broadcast => {
                for target in 1..n {
                    self.push(target, record.clone())?;
                }
                self.push(0, record)
            }
            PartitionKind::Hash => {
                let Partitioner::Hash(hash) = &self.partitioner else {
                    return Err(Error::Internal("hash edge without a key".into()));
                };
                let group = key_group_for_hash(hash(&record.value), self.max_parallelism);
                let target = self.group_to_target[group as usize] as usize;
                self.push(target, record)
            }
        }
    }

    fn emit_watermark(&mut self, watermark: Watermark) -> Result<()> {
        self.send_to_all(|| Message::Watermark(watermark))
    }

    fn emit_status(&mut self, status: StreamStatus) -> Result<()> {
        self.send_to_all(|| Message::Status(status))
    }

    fn emit_barrier(&mut self, barrier: CheckpointBarrier) -> Result<()> {
        self.send_to_all(|| Message::Barrier(barrier))
    }

    fn flush(&mut self) -> Result<()> {
        self.flush_all()
    }

    fn end_of_input(&mut self) -> Result<()> {
        self.send_to_all(|| Message::EndOfInput)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::partition::hash_key;
    use std::sync::Arc;

    fn drain<T>(rx: &Receiver<Envelope<T>>) -> Vec<T> {
        let mut out = Vec::new();
        while let Ok(env) = rx.try_recv() {
            if let Message::Records(batch) = env.message {
                out.extend(batch.into_iter().map(|r| r.value));
            }
        }
        out
    }

    #[test]
    fn hash_routing_sends_equal_keys_to_one_target_in_order() {
        let (txs, rxs): (Vec<_>, Vec<_>) = (0..3).map(|_| bounded::<u64>(1000)).unzip();
        let key = Arc::new(|v: &u64| hash_key(&(v % 10)));
        let mut w = ChannelWriter::new(txs, 0, PartitionKind::Hash, Partitioner::Hash(key), 4, 128);
        for i in 0..100 {
            w.collect(Record::new(i)).unwrap();
        }
        w.end_of_input().unwrap();
        let per_target: Vec<Vec<u64>> = rxs.iter().map(drain).collect();
        assert_eq!(per_target.iter().map(Vec::len).sum::<usize>(), 100);
        for k in 0..10 {
            let holders: Vec<_> = per_target
                .iter()
                .filter(|t| t.iter().any(|v| v % 10 == k))
                .collect();
            assert_eq!(holders.len(), 1, "key {k} went to several targets");
            let seq: Vec<_> = holders[0]
                .iter()
                .filter(|v| *v % 10 == k)
                .copied()
                .collect();
            assert!(
                seq.windows(2).all(|w| w[0] < w[1]),
                "order lost for key {k}"
            );
        }
    }

    #[test]
    fn rebalance_spreads_and_broadcast_copies() {
        let (txs, rxs): (Vec<_>, Vec<_>) = (0..4).map(|_| bounded::<u32>(1000)).unzip();
        let mut w = ChannelWriter::new(
            txs,
            0,
            PartitionKind::Rebalance,
            Partitioner::Rebalance,
            8,
            128,
        );
        for i in 0..400 {
            w.collect(Record::new(i)).unwrap();
        }
        w.flush().unwrap();
        for rx in &rxs {
            assert_eq!(drain(rx).len(), 100);
        }
        let (txs, rxs): (Vec<_>, Vec<_>) = (0..3).map(|_| bounded::<u32>(1000)).unzip();
        let mut w = ChannelWriter::new(
            txs,
            0,
            PartitionKind::Broadcast,
            Partitioner::Broadcast,
            8,
            128,
        );
        for i in 0..10 {
            w.collect(Record::new(i)).unwrap();
        }
        w.flush().unwrap();
        for rx in &rxs {
            assert_eq!(drain(rx), (0..10).collect::<Vec<_>>());
        }
    }

    #[test]
    fn send_to_a_dropped_receiver_is_disconnected() {
        let (tx, rx) = bounded::<u32>(1);
        drop(rx);
        let mut w = ChannelWriter::new(
            vec![tx],
            0,
            PartitionKind::Forward,
            Partitioner::Forward,
            1,
            128,
        );
        assert!(matches!(
            w.collect(Record::new(1)),
            Err(Error::Disconnected)
        ));
    }
}
