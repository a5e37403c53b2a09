//! Eddy CEP: complex event processing in the style of Flink CEP.
//!
//! A [`Pattern`] (built with the builder or loaded from JSON with [`json::parse`]) compiles to
//! an [`Nfa`]: immutable and shareable between keys. Each key keeps an [`NfaState`] (partial
//! matches in a [`SharedBuffer`]), which is serde-serializable so it can live in keyed state and
//! be checkpointed. [`Nfa::process`] advances a state with one event, [`Nfa::advance_time`]
//! with a watermark, [`Nfa::finish`] at end of input; an [`EventTimeBuffer`] puts out-of-order
//! input in event-time order first. Semantics are in the [`nfa`] module doc;
//! the runnable example is `examples/src/bin/cep_match.rs`.
//!
//! ```
//! use eddy_cep::Pattern;
//! let nfa = Pattern::<char>::begin("a").when(|c| *c == 'a')
//!     .followed_by("b").when(|c| *c == 'b')
//!     .within_ms(10)
//!     .compile().unwrap();
//! let mut st = nfa.new_state();
//! let mut n = 0;
//! for (ts, c) in "axbab".chars().enumerate() {
//!     n += nfa.process(&mut st, c, ts as i64).unwrap().matches.len();
//! }
//! assert_eq!(n, 2);
//! ```

//! # Map
//! - `pattern`: the builder ([`Pattern`]) and its vocabulary ([`Contiguity`], [`Quantifier`],
//!   [`SkipStrategy`], [`WithinKind`]).
//! - [`json`]: the JSON form (version 1) and the dynamic event [`json::DynEvent`].
//! - `compile`: pattern to automaton (take, epsilon and guard nodes; closures).
//! - [`nfa`]: the automaton, the per-key state and the step; the semantics in its doc.
//! - `buffer`: the shared buffer of partial matches ([`SharedBuffer`]).
//! - `event_time`: out-of-order input to timestamp order ([`EventTimeBuffer`]).
//! - [`operator`]: a pattern over a keyed DataStream ([`operator::pattern`]), and a JSON
//!   pattern replaced at run time by a control stream ([`operator::dynamic_pattern`]).
//! - `due`: the time-ordered queue of events and keys the keyed operators wait on.
//! - [`sql`]: the MATCH_RECOGNIZE text form: parser, row pattern matcher (Trino's semantics)
//!   and its keyed operator ([`sql::operator::match_recognize`]).

mod buffer;
mod compile;
mod condition;
mod due;
mod error;
mod event_time;
pub mod json;
pub mod nfa;
pub mod operator;
mod pattern;
pub mod sql;

pub use buffer::SharedBuffer;
pub use condition::{Cond, Context, IterativeFn, SimpleFn};
pub use error::{CepError, Result};
pub use event_time::EventTimeBuffer;
pub use nfa::{Match, Nfa, NfaState, Output, Timeout};
pub use pattern::{Contiguity, Pattern, Quantifier, SkipStrategy, Stage, StageKind, WithinKind};
