//! The shared buffer of partial matches.
//!
//! # Algorithm
//! Every event taken by at least one partial match is stored once, in an event slot. A partial
//! match is a path in a forest of nodes: a node names one taken event and the stage that took
//! it, and points to the node of the previous taken event. Partial matches that share a prefix
//! share its nodes, exactly like Flink's `SharedBuffer`, where a node is an (event, stage) entry
//! and the edges to its predecessors carry Dewey versions telling which branch walks which edge.
//! Here each branch owns its own node, so a node has exactly one predecessor and the branch
//! identity *is* the node: the Dewey version of a branch is implicit in its path, extraction is
//! a walk up parent pointers, and no version comparison is needed.
//!
//! # Memory
//! Slots and nodes are reference counted and recycled through free lists: a node is counted by
//! its children, by partial matches pointing at it and by completed matches waiting for their
//! skip strategy; an event slot by the nodes naming it. When the last partial match of a prefix
//! dies (taken further, timed out by `within`, pruned by a skip strategy or killed by
//! contiguity) its nodes and events are freed at once, so memory is bounded by the live partial
//! matches, which `within` bounds.

use serde::{Deserialize, Serialize};

/// "No node" / "no parent".
pub(crate) const NONE: u32 = u32::MAX;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct EventSlot<E> {
    pub(crate) ev: Option<E>,
    pub(crate) ts: i64,
    pub(crate) seq: u64,
    rc: u32,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub(crate) struct Node {
    pub(crate) event: u32,
    pub(crate) stage: u16,
    pub(crate) parent: u32,
    rc: u32,
}

/// Events and partial-match nodes, shared between partial matches (see the module doc).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(bound(
    serialize = "E: Serialize",
    deserialize = "E: serde::de::DeserializeOwned"
))]
pub struct SharedBuffer<E> {
    events: Vec<EventSlot<E>>,
    free_events: Vec<u32>,
    nodes: Vec<Node>,
    free_nodes: Vec<u32>,
}

impl<E> Default for SharedBuffer<E> {
    fn default() -> Self {
        SharedBuffer {
            events: Vec::new(),
            free_events: Vec::new(),
            nodes: Vec::new(),
            free_nodes: Vec::new(),
        }
    }
}

impl<E> SharedBuffer<E> {
    /// Number of events currently stored.
    pub fn live_events(&self) -> usize {
        self.events.len() - self.free_events.len()
    }

    /// Number of partial-match nodes currently stored.
    pub fn live_nodes(&self) -> usize {
        self.nodes.len() - self.free_nodes.len()
    }

    pub(crate) fn node(&self, n: u32) -> &Node {
        &self.nodes[n as usize]
    }

    pub(crate) fn event(&self, slot: u32) -> Option<&E> {
        self.events[slot as usize].ev.as_ref()
    }

    pub(crate) fn slot(&self, slot: u32) -> &EventSlot<E> {
        &self.events[slot as usize]
    }

    /// Reserves an empty slot for the event being processed; filled by [`Self::fill`].
    pub(crate) fn reserve_event(&mut self, ts: i64, seq: u64) -> u32 {
        let slot = EventSlot {
            ev: None,
            ts,
            seq,
            rc: 0,
        };
        if let Some(i) = self.free_events.pop() {
            self.events[i as usize] = slot;
            i
        } else {
            self.events.push(slot);
            (self.events.len() - 1) as u32
        }
    }

    pub(crate) fn fill(&mut self, slot: u32, ev: E) {
        self.events[slot as usize].ev = Some(ev);
    }

    /// A new node (reference count 1, owned by the caller) for `slot` taken by `stage` after `parent`.
    pub(crate) fn push_node(&mut self, slot: u32, stage: u16, parent: u32) -> u32 {
        self.events[slot as usize].rc += 1;
        if parent != NONE {
            self.nodes[parent as usize].rc += 1;
        }
        let node = Node {
            event: slot,
            stage,
            parent,
            rc: 1,
        };
        if let Some(i) = self.free_nodes.pop() {
            self.nodes[i as usize] = node;
            i
        } else {
            self.nodes.push(node);
            (self.nodes.len() - 1) as u32
        }
    }

    pub(crate) fn retain(&mut self, n: u32) {
        if n != NONE {
            self.nodes[n as usize].rc += 1;
        }
    }

    /// Drops one reference to `n`, freeing it and its unshared ancestors and events.
    pub(crate) fn release(&mut self, mut n: u32) {
        while n != NONE {
            let node = &mut self.nodes[n as usize];
            node.rc -= 1;
            if node.rc > 0 {
                return;
            }
            let (slot, parent) = (node.event, node.parent);
            self.free_nodes.push(n);
            let ev = &mut self.events[slot as usize];
            ev.rc -= 1;
            if ev.rc == 0 {
                ev.ev = None;
                self.free_events.push(slot);
            }
            n = parent;
        }
    }

    /// The path ending at `n`, oldest first: (stage, event slot).
    pub(crate) fn path(&self, n: u32) -> Vec<(u16, u32)> {
        let mut len = 0;
        let mut m = n;
        while m != NONE {
            len += 1;
            m = self.nodes[m as usize].parent;
        }
        let mut out = vec![(0u16, 0u32); len];
        let mut m = n;
        while m != NONE {
            let node = &self.nodes[m as usize];
            len -= 1;
            out[len] = (node.stage, node.event);
            m = node.parent;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two branches sharing a prefix store it once, and freeing them frees everything.
    #[test]
    fn shared_prefix_is_stored_once_and_freed_with_the_last_branch() {
        let mut b = SharedBuffer::<&str>::default();
        let a = b.reserve_event(0, 0);
        b.fill(a, "a");
        let na = b.push_node(a, 0, NONE);
        let x = b.reserve_event(1, 1);
        b.fill(x, "x");
        let y = b.reserve_event(2, 2);
        b.fill(y, "y");
        let nx = b.push_node(x, 1, na);
        let ny = b.push_node(y, 1, na);
        b.release(na); // the partial match that ended at "a" moved on
        assert_eq!((b.live_events(), b.live_nodes()), (3, 3));
        assert_eq!(b.path(nx), vec![(0, a), (1, x)]);
        assert_eq!(b.path(ny), vec![(0, a), (1, y)]);
        b.release(nx);
        assert_eq!(
            (b.live_events(), b.live_nodes()),
            (2, 2),
            "x is gone, a stays for y"
        );
        b.release(ny);
        assert_eq!((b.live_events(), b.live_nodes()), (0, 0));
        // slots and nodes are recycled
        let z = b.reserve_event(3, 3);
        b.fill(z, "z");
        let nz = b.push_node(z, 0, NONE);
        assert_eq!(b.event(b.node(nz).event), Some(&"z"));
        assert_eq!(b.live_nodes(), 1);
    }
}
