//! Collecting a stream into a `Vec`, for tests and small results.

use std::sync::{Arc, Mutex};

use eddy_runtime::{Error, Operator, Output, Record, Result};

/// The values a [`crate::DataStream::collect`] sink gathered; read it after `execute`.
pub struct CollectedStream<T> {
    pub(crate) values: Arc<Mutex<Vec<T>>>,
}

impl<T> CollectedStream<T> {
    /// Takes the values gathered so far (all of them once the job has finished). The order
    /// is that of arrival; with parallelism above one, subtasks' values are not interleaved
    /// in any particular way.
    pub fn take(&self) -> Vec<T> {
        std::mem::take(&mut *self.values.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// Buffers a subtask's values and appends them to the shared vector at the end.
pub(crate) struct CollectSink<T> {
    pub(crate) shared: Arc<Mutex<Vec<T>>>,
    pub(crate) local: Vec<T>,
}

impl<T: Send> Operator<T, ()> for CollectSink<T> {
    #[inline]
    fn process_record(&mut self, record: Record<T>, _: &mut dyn Output<()>) -> Result<()> {
        self.local.push(record.value);
        Ok(())
    }

    fn finish(&mut self, _: &mut dyn Output<()>) -> Result<()> {
        self.shared
            .lock()
            .map_err(|_| Error::Internal("collect sink lock poisoned".into()))?
            .append(&mut self.local);
        Ok(())
    }
}
