//! Side outputs: an operator with a second output emits [`Tagged`] values; two chained select
//! operators split them into the main stream and the side stream.

use std::marker::PhantomData;

use eddy_runtime::{Operator, Output, Record, Result};
use serde::{Deserialize, Serialize};

/// A value of the main output or of the side output.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum Tagged<M, S> {
    Main(M),
    Side(S),
}

/// Keeps the main values.
pub(crate) struct SelectMain<S>(pub(crate) PhantomData<fn() -> S>);

impl<M, S> Operator<Tagged<M, S>, M> for SelectMain<S> {
    #[inline]
    fn process_record(
        &mut self,
        record: Record<Tagged<M, S>>,
        out: &mut dyn Output<M>,
    ) -> Result<()> {
        match record.value {
            Tagged::Main(value) => out.collect(Record {
                value,
                timestamp: record.timestamp,
            }),
            Tagged::Side(_) => Ok(()),
        }
    }
}

/// Keeps the side values.
pub(crate) struct SelectSide<M>(pub(crate) PhantomData<fn() -> M>);

impl<M, S> Operator<Tagged<M, S>, S> for SelectSide<M> {
    #[inline]
    fn process_record(
        &mut self,
        record: Record<Tagged<M, S>>,
        out: &mut dyn Output<S>,
    ) -> Result<()> {
        match record.value {
            Tagged::Side(value) => out.collect(Record {
                value,
                timestamp: record.timestamp,
            }),
            Tagged::Main(_) => Ok(()),
        }
    }
}
