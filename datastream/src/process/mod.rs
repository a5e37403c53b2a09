//! Process functions: the lowest-level operators, with keyed state and timers.
//!
//! ```
//! use eddy_datastream::process::{Context, KeyedProcessFunction};
//! use eddy_datastream::{BoxError, WatermarkStrategy};
//! use eddy_runtime::state::{StateDescriptor, ValueState};
//!
//! /// Emits each key's running count, and the final count one ms after its last event.
//! struct CountWithTimeout {
//!     count: Box<dyn ValueState<char, u32>>,
//! }
//! impl KeyedProcessFunction<char, (char, i64), String> for CountWithTimeout {
//!     fn process_element(&mut self, e: (char, i64), ctx: &mut Context<'_, char, String>) -> Result<(), BoxError> {
//!         let n = self.count.upsert(ctx.key(), &mut |c| c.unwrap_or(0) + 1)?;
//!         ctx.register_event_time_timer(e.1 + 1);
//!         ctx.collect(format!("{}:{n}", e.0));
//!         Ok(())
//!     }
//!     fn on_timer(&mut self, ts: i64, ctx: &mut Context<'_, char, String>) -> Result<(), BoxError> {
//!         let key = *ctx.key();
//!         if let Some(n) = self.count.get(&key)? {
//!             ctx.collect(format!("{key} done at {ts} with {n}"));
//!             self.count.clear(&key)?;
//!         }
//!         Ok(())
//!     }
//! }
//!
//! let out = eddy_datastream::example(|env| {
//!     env.from_collection(vec![('a', 1), ('a', 2), ('b', 2)])
//!         .assign_timestamps_and_watermarks(
//!             WatermarkStrategy::for_monotonous_timestamps().with_timestamp_assigner(|e: &(char, i64)| e.1).punctuated(),
//!         )
//!         .key_by(|e: &(char, i64)| e.0)
//!         .process(|states| Ok(CountWithTimeout { count: states.value_state(StateDescriptor::new("count"))? }))
//! });
//! // a set timers at 2 and 3: the first finds 2 records, the second an already cleared count.
//! assert_eq!(out, ["a:1", "a:2", "b:1", "a done at 2 with 2", "b done at 3 with 1"]);
//! ```

mod keyed;
mod timers;

pub use keyed::{Context, KeyedProcessFunction, StateContext, TimeDomain};
pub(crate) use keyed::{FunctionBuilder, KeyedProcessOperator};
pub(crate) use timers::TimerQueue;
