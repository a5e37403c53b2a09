//! `process`: a fallible function that emits through a [`Collector`].

use eddy_runtime::{Error, Operator, OperatorContext, Output, Record, Result};

use crate::function::{BoxError, Collector};

/// Calls the function with each record and a collector; an `Err` fails the job.
pub(crate) struct Process<F> {
    pub(crate) function: F,
    pub(crate) name: String,
}

impl<I, O, F> Operator<I, O> for Process<F>
where
    F: FnMut(I, &mut Collector<'_, O>) -> Result<(), BoxError> + Send,
{
    fn open(&mut self, ctx: &mut OperatorContext<'_>) -> Result<()> {
        self.name = ctx.name.to_string();
        Ok(())
    }

    #[inline]
    fn process_record(&mut self, record: Record<I>, out: &mut dyn Output<O>) -> Result<()> {
        let mut collector = Collector::new(out, record.timestamp);
        let result = (self.function)(record.value, &mut collector);
        collector.finish()?;
        result.map_err(|e| Error::user(&self.name, e.to_string()))
    }
}
