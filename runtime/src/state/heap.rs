//! The heap state backend: state as live objects in hash maps.

use std::any::Any;
use std::collections::HashSet;

use super::{StateBackend, StateDescriptor};
use crate::{Error, Result};

/// Keeps keyed state as objects on the heap (Flink's HashMapStateBackend). The default.
#[derive(Debug, Default)]
pub struct HeapStateBackend {
    names: HashSet<String>,
}

impl StateBackend for HeapStateBackend {
    fn name(&self) -> &'static str {
        "heap"
    }

    fn register(&mut self, descriptor: &StateDescriptor) -> Result<()> {
        if !self.names.insert(descriptor.name.clone()) {
            return Err(Error::InvalidGraph(format!(
                "state '{}' is declared twice in one operator",
                descriptor.name
            )));
        }
        Ok(())
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}
