//! The one bound every stream element satisfies, and the one every key satisfies.

use std::hash::Hash;

use serde::de::DeserializeOwned;
use serde::Serialize;

/// What a stream element must be: cloneable (broadcast, fan-out), sendable between task
/// threads, and serializable so that it can cross a process boundary or enter a snapshot.
///
/// Implemented for every type that meets the bounds; users never implement it by hand.
pub trait Data: Clone + Send + Serialize + DeserializeOwned + 'static {}

impl<T: Clone + Send + Serialize + DeserializeOwned + 'static> Data for T {}

/// What a key of a keyed stream must be: [`Data`] that hashes and compares.
pub trait Key: Data + Hash + Eq {}

impl<T: Data + Hash + Eq> Key for T {}
