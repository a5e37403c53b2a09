//! Keyed state: values scoped to the key of the record being processed.
//!
//! A [`StateBackend`] decides where state lives. The heap backend ([`HeapStateBackend`], the
//! default) keeps live objects in hash maps: fastest, bounded by memory. Operators create
//! typed handles such as [`ValueState`] through functions that take `&mut dyn StateBackend`,
//! so that operator code does not change when another backend is configured.
//!
//! ```
//! use eddy_runtime::state::{value_state, HeapStateBackend, StateDescriptor};
//!
//! let mut backend = HeapStateBackend::default();
//! let mut counts = value_state::<String, u64>(&mut backend, StateDescriptor::new("count")).unwrap();
//! for word in ["a", "b", "a"] {
//!     counts.upsert(&word.to_string(), &mut |old| old.unwrap_or(0) + 1).unwrap();
//! }
//! assert_eq!(counts.get(&"a".to_string()).unwrap(), Some(2));
//! ```

mod heap;
mod value;

pub use heap::HeapStateBackend;
pub use value::{value_state, ValueState};

use std::any::Any;

/// A key read from a record: borrowed when it is a part of the record, owned when computed.
#[derive(Debug)]
pub enum KeyRef<'a, K> {
    /// A reference into the record.
    Borrowed(&'a K),
    /// A key computed from the record.
    Owned(K),
}

impl<K: Clone> KeyRef<'_, K> {
    /// The key as an owned value, copied only if borrowed.
    pub fn into_owned(self) -> K {
        match self {
            KeyRef::Borrowed(k) => k.clone(),
            KeyRef::Owned(k) => k,
        }
    }
}

impl<K> std::ops::Deref for KeyRef<'_, K> {
    type Target = K;
    fn deref(&self) -> &K {
        match self {
            KeyRef::Borrowed(k) => k,
            KeyRef::Owned(k) => k,
        }
    }
}

/// Names a piece of keyed state within an operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateDescriptor {
    /// Unique within the operator.
    pub name: String,
}

impl StateDescriptor {
    /// A descriptor with the given name.
    pub fn new(name: impl Into<String>) -> Self {
        StateDescriptor { name: name.into() }
    }
}

/// Where keyed state lives. One backend per subtask; the runtime creates it, operators create
/// state handles in it when they open.
pub trait StateBackend: Send {
    /// A short name for logs and errors, such as `"heap"`.
    fn name(&self) -> &'static str;

    /// Records that state `descriptor` was created, rejecting a second state of the same name.
    ///
    /// # Errors
    /// [`crate::Error::InvalidGraph`] when the name is taken.
    fn register(&mut self, descriptor: &StateDescriptor) -> crate::Result<()>;

    /// Gives state constructors access to the concrete backend.
    fn as_any_mut(&mut self) -> &mut dyn Any;
}
