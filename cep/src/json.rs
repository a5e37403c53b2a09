//! Patterns as data: the JSON form, version 1, loadable at run time.
//!
//! ```text
//! {"stages": [STAGE, ...], "within_ms": N or null, "within_type": "first_and_last" | "previous_and_current",
//!  "skip": {"strategy": "no_skip" | "skip_to_next" | "skip_past_last_event" | "skip_to_first" | "skip_to_last",
//!           "stage": NAME, "throw_on_miss": BOOL}}
//! STAGE = {"name": S, "condition": COND or null, "contiguity": "none" | "strict" | "relaxed" | "nondeterministic",
//!          "negated": BOOL, "quantifier": {"min": N, "max": N or null, "greedy": B, "consecutive": B,
//!          "allow_combinations": B, "optional": B, "until": COND or null}}
//!       | {"name": S, "group": [STAGE, ...], "contiguity": ..., "quantifier": ...}
//! COND = {"field": F, "op": OP, "value": V}
//!      | {"field": F, "op": OP, "value_from": {"stage": S, "index": N, "field": F}}
//!      | {"agg": "sum" | "count" | "min" | "max" | "avg", "field": F, "over_stage": S,
//!         "include_current": B, "op": OP, "value": V}
//!      | {"and": [COND, ...]} | {"or": [COND, ...]} | {"not": COND}
//! OP = "==" | "!=" | "<" | "<=" | ">" | ">=" | "contains" | "starts_with"
//! ```
//! Omitted members take defaults: no condition, contiguity `none` for the first stage and
//! `relaxed` after, not negated, quantifier exactly once (an omitted `max` equals `min`, a null
//! `max` is unbounded), no window, no skip. A missing field makes a predicate false. Numbers
//! compare numerically, strings lexicographically; values of different types are only `!=`.
//! `value_from` reads the `index`-th event (negative: from the end) already taken by `stage`;
//! `agg` aggregates `field` over the events taken by `over_stage` (and the current event with
//! `include_current`); `count` counts events having the field, an empty `min`/`max`/`avg` is
//! false.
//!
//! ```
//! use eddy_cep::json::{self, DynEvent};
//! let p = json::parse::<DynEvent>(r#"{"stages": [
//!     {"name": "a", "condition": {"field": "t", "op": "==", "value": "a"}},
//!     {"name": "b", "condition": {"field": "t", "op": "==", "value": "b"}, "contiguity": "relaxed"}]}"#).unwrap();
//! let nfa = p.compile().unwrap();
//! let mut st = nfa.new_state();
//! let ev = |t: &str| DynEvent::from_json(&format!(r#"{{"t": "{t}"}}"#)).unwrap();
//! assert!(nfa.process(&mut st, ev("a"), 1).unwrap().matches.is_empty());
//! assert!(nfa.process(&mut st, ev("c"), 2).unwrap().matches.is_empty());
//! assert_eq!(nfa.process(&mut st, ev("b"), 3).unwrap().matches.len(), 1);
//! ```

use std::cmp::Ordering;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
/// Re-exported so users of the JSON form need no direct dependency.
pub use serde_json;
pub use serde_json::{Map, Value};

use crate::condition::{Cond, Context};
use crate::error::{CepError, Result};
use crate::pattern::{Contiguity, Pattern, Quantifier, SkipStrategy, Stage, StageKind, WithinKind};

/// Events whose fields JSON conditions can read.
pub trait FieldAccess {
    /// The value of field `name`, if present.
    fn field(&self, name: &str) -> Option<&Value>;
}

/// A dynamic event: a map of field name to JSON value.
///
/// It serializes as that JSON object in human-readable formats and as its JSON text in
/// binary ones (checkpoints, channels between processes), which cannot hold an untyped value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DynEvent(pub Map<String, Value>);

impl Serialize for DynEvent {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            self.0.serialize(serializer)
        } else {
            let text = serde_json::to_string(&self.0).map_err(serde::ser::Error::custom)?;
            serializer.serialize_str(&text)
        }
    }
}

impl<'de> Deserialize<'de> for DynEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        if deserializer.is_human_readable() {
            Map::deserialize(deserializer).map(DynEvent)
        } else {
            let text = String::deserialize(deserializer)?;
            serde_json::from_str(&text)
                .map(DynEvent)
                .map_err(serde::de::Error::custom)
        }
    }
}

impl DynEvent {
    /// Parses one JSON object.
    ///
    /// # Errors
    /// [`CepError::Json`] when `s` is not a JSON object.
    pub fn from_json(s: &str) -> Result<Self> {
        serde_json::from_str(s).map_err(|e| CepError::Json(e.to_string()))
    }
}

impl FieldAccess for DynEvent {
    fn field(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }
}

impl FieldAccess for Map<String, Value> {
    fn field(&self, name: &str) -> Option<&Value> {
        self.get(name)
    }
}

/// The whole JSON document.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatternJson {
    /// Format version; 1 when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    /// The stages.
    pub stages: Vec<StageJson>,
    /// The window in ms.
    #[serde(default)]
    pub within_ms: Option<i64>,
    /// How the window is measured.
    #[serde(default)]
    pub within_type: Option<WithinKind>,
    /// The after-match skip strategy.
    #[serde(default)]
    pub skip: Option<SkipJson>,
}

/// One stage.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageJson {
    /// Its name.
    pub name: String,
    /// Its condition (single stages).
    #[serde(default)]
    pub condition: Option<CondJson>,
    /// Its stages (groups).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<Vec<StageJson>>,
    /// How it is reached.
    #[serde(default)]
    pub contiguity: Option<Contiguity>,
    /// `not_next` / `not_followed_by`.
    #[serde(default)]
    pub negated: bool,
    /// Its quantifier.
    #[serde(default)]
    pub quantifier: Option<QuantJson>,
}

fn double_option<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Option<u32>>, D::Error> {
    Option::<u32>::deserialize(d).map(Some)
}

/// A quantifier.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuantJson {
    /// Fewest repetitions.
    #[serde(default = "one")]
    pub min: u32,
    /// Most repetitions: absent = `min`, null = unbounded.
    #[serde(default, deserialize_with = "double_option")]
    pub max: Option<Option<u32>>,
    /// Greedy loop.
    #[serde(default)]
    pub greedy: bool,
    /// Strictly contiguous repetitions.
    #[serde(default)]
    pub consecutive: bool,
    /// Skip-till-any repetitions.
    #[serde(default)]
    pub allow_combinations: bool,
    /// May be absent.
    #[serde(default)]
    pub optional: bool,
    /// Loop stop condition.
    #[serde(default)]
    pub until: Option<CondJson>,
}

fn one() -> u32 {
    1
}

/// The skip strategy.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkipJson {
    /// `no_skip`, `skip_to_next`, `skip_past_last_event`, `skip_to_first`, `skip_to_last`.
    pub strategy: String,
    /// The stage for skip_to_first/last.
    #[serde(default)]
    pub stage: Option<String>,
    /// Fail when the stage has no event in a match.
    #[serde(default)]
    pub throw_on_miss: bool,
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `contains` (substring, or array element)
    Contains,
    /// `starts_with`
    StartsWith,
}

impl Op {
    fn parse(s: &str) -> std::result::Result<Op, String> {
        Ok(match s {
            "==" => Op::Eq,
            "!=" => Op::Ne,
            "<" => Op::Lt,
            "<=" => Op::Le,
            ">" => Op::Gt,
            ">=" => Op::Ge,
            "contains" => Op::Contains,
            "starts_with" => Op::StartsWith,
            other => {
                return Err(format!(
                    "unknown op {other:?} (expected ==, !=, <, <=, >, >=, contains, starts_with)"
                ))
            }
        })
    }

    fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Contains => "contains",
            Op::StartsWith => "starts_with",
        }
    }

    /// Applies the operator; false when the types do not compare.
    pub fn apply(self, l: &Value, r: &Value) -> bool {
        match self {
            Op::Contains => match (l, r) {
                (Value::String(a), Value::String(b)) => a.contains(b.as_str()),
                (Value::Array(a), v) => a.contains(v),
                _ => false,
            },
            Op::StartsWith => match (l, r) {
                (Value::String(a), Value::String(b)) => a.starts_with(b.as_str()),
                _ => false,
            },
            _ => {
                let ord = compare(l, r);
                match self {
                    Op::Eq => ord == Some(Ordering::Equal),
                    Op::Ne => ord != Some(Ordering::Equal),
                    Op::Lt => ord == Some(Ordering::Less),
                    Op::Le => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
                    Op::Gt => ord == Some(Ordering::Greater),
                    Op::Ge => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
                    _ => false,
                }
            }
        }
    }
}

fn compare(l: &Value, r: &Value) -> Option<Ordering> {
    match (l, r) {
        (Value::Number(a), Value::Number(b)) => match (a.as_i64(), b.as_i64()) {
            (Some(x), Some(y)) => Some(x.cmp(&y)),
            _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
        },
        (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
        (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
        (Value::Null, Value::Null) => Some(Ordering::Equal),
        (a, b) if a == b => Some(Ordering::Equal),
        _ => None,
    }
}

/// An aggregate over a stage's events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Agg {
    /// Sum of the field.
    Sum,
    /// Number of events having the field.
    Count,
    /// Smallest value.
    Min,
    /// Largest value.
    Max,
    /// Mean value.
    Avg,
}

/// A condition in the JSON form.
#[derive(Clone, Debug, PartialEq)]
pub enum CondJson {
    /// `field op value`.
    Field {
        /// Field name.
        field: String,
        /// Operator.
        op: Op,
        /// Constant.
        value: Value,
    },
    /// `field op stage[index].field2`.
    FieldFrom {
        /// Field of the current event.
        field: String,
        /// Operator.
        op: Op,
        /// Stage read from.
        stage: String,
        /// Event index in that stage, negative from the end.
        index: i64,
        /// Field read from that event.
        from_field: String,
    },
    /// `agg(stage.field) op value`.
    Agg {
        /// Aggregate.
        agg: Agg,
        /// Field aggregated.
        field: String,
        /// Stage aggregated over.
        over_stage: String,
        /// Include the current event.
        include_current: bool,
        /// Operator.
        op: Op,
        /// Constant.
        value: Value,
    },
    /// All of.
    And(Vec<CondJson>),
    /// Any of.
    Or(Vec<CondJson>),
    /// Not.
    Not(Box<CondJson>),
}

fn get_str(o: &Map<String, Value>, k: &str) -> std::result::Result<String, String> {
    match o.get(k) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(format!("condition member {k:?} must be a string")),
        None => Err(format!("condition needs member {k:?}")),
    }
}

fn only(o: &Map<String, Value>, allowed: &[&str]) -> std::result::Result<(), String> {
    match o.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(format!("unknown condition member {k:?}")),
        None => Ok(()),
    }
}

impl CondJson {
    /// Reads a condition from a JSON value, with a clear message on failure.
    ///
    /// # Errors
    /// A message naming the offending member.
    pub fn from_value(v: &Value) -> std::result::Result<CondJson, String> {
        let Value::Object(o) = v else {
            return Err("a condition must be a JSON object".into());
        };
        let list = |k: &str| -> std::result::Result<Vec<CondJson>, String> {
            match &o[k] {
                Value::Array(a) => a.iter().map(CondJson::from_value).collect(),
                _ => Err(format!("{k:?} takes an array of conditions")),
            }
        };
        if o.contains_key("and") {
            only(o, &["and"])?;
            return Ok(CondJson::And(list("and")?));
        }
        if o.contains_key("or") {
            only(o, &["or"])?;
            return Ok(CondJson::Or(list("or")?));
        }
        if let Some(n) = o.get("not") {
            only(o, &["not"])?;
            return Ok(CondJson::Not(Box::new(CondJson::from_value(n)?)));
        }
        let op = Op::parse(&get_str(o, "op")?)?;
        if o.contains_key("agg") {
            only(
                o,
                &[
                    "agg",
                    "field",
                    "over_stage",
                    "include_current",
                    "op",
                    "value",
                ],
            )?;
            let agg = match get_str(o, "agg")?.as_str() {
                "sum" => Agg::Sum,
                "count" => Agg::Count,
                "min" => Agg::Min,
                "max" => Agg::Max,
                "avg" => Agg::Avg,
                other => {
                    return Err(format!(
                        "unknown agg {other:?} (expected sum, count, min, max, avg)"
                    ))
                }
            };
            let include_current = match o.get("include_current") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(b)) => *b,
                Some(_) => return Err("\"include_current\" must be a boolean".into()),
            };
            let value = o
                .get("value")
                .cloned()
                .ok_or("agg condition needs member \"value\"")?;
            return Ok(CondJson::Agg {
                agg,
                field: get_str(o, "field")?,
                over_stage: get_str(o, "over_stage")?,
                include_current,
                op,
                value,
            });
        }
        let field = get_str(o, "field")?;
        if let Some(vf) = o.get("value_from") {
            only(o, &["field", "op", "value_from"])?;
            let Value::Object(f) = vf else {
                return Err("\"value_from\" must be an object".into());
            };
            only(f, &["stage", "index", "field"]).map_err(|e| format!("value_from: {e}"))?;
            let index = match f.get("index") {
                None => -1,
                Some(v) => v
                    .as_i64()
                    .ok_or("value_from \"index\" must be an integer")?,
            };
            return Ok(CondJson::FieldFrom {
                field,
                op,
                stage: get_str(f, "stage")?,
                index,
                from_field: get_str(f, "field")?,
            });
        }
        only(o, &["field", "op", "value"])?;
        let value = o
            .get("value")
            .cloned()
            .ok_or("condition needs member \"value\" or \"value_from\"")?;
        Ok(CondJson::Field { field, op, value })
    }

    /// The JSON value of this condition.
    pub fn to_value(&self) -> Value {
        use serde_json::json;
        match self {
            CondJson::Field { field, op, value } => {
                json!({"field": field, "op": op.as_str(), "value": value})
            }
            CondJson::FieldFrom {
                field,
                op,
                stage,
                index,
                from_field,
            } => {
                json!({"field": field, "op": op.as_str(), "value_from": {"stage": stage, "index": index, "field": from_field}})
            }
            CondJson::Agg {
                agg,
                field,
                over_stage,
                include_current,
                op,
                value,
            } => json!({
                "agg": match agg { Agg::Sum => "sum", Agg::Count => "count", Agg::Min => "min", Agg::Max => "max", Agg::Avg => "avg" },
                "field": field, "over_stage": over_stage, "include_current": include_current, "op": op.as_str(), "value": value}),
            CondJson::And(v) => json!({"and": v.iter().map(|c| c.to_value()).collect::<Vec<_>>()}),
            CondJson::Or(v) => json!({"or": v.iter().map(|c| c.to_value()).collect::<Vec<_>>()}),
            CondJson::Not(c) => json!({"not": c.to_value()}),
        }
    }

    fn stages_named<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            CondJson::Field { .. } => {}
            CondJson::FieldFrom { stage, .. } => out.push(stage),
            CondJson::Agg { over_stage, .. } => out.push(over_stage),
            CondJson::And(v) | CondJson::Or(v) => v.iter().for_each(|c| c.stages_named(out)),
            CondJson::Not(c) => c.stages_named(out),
        }
    }

    /// Compiles to a [`Cond`] over any event with named fields.
    pub fn to_cond<E: FieldAccess + 'static>(&self) -> Cond<E> {
        match self.clone() {
            CondJson::Field { field, op, value } => {
                Cond::simple(move |e: &E| e.field(&field).is_some_and(|v| op.apply(v, &value)))
            }
            CondJson::FieldFrom {
                field,
                op,
                stage,
                index,
                from_field,
            } => Cond::iterative(move |e: &E, ctx: &Context<'_, E>| {
                let Some(l) = e.field(&field) else {
                    return false;
                };
                let evs = ctx.events(&stage);
                let i = if index < 0 {
                    evs.len() as i64 + index
                } else {
                    index
                };
                if i < 0 || i as usize >= evs.len() {
                    return false;
                }
                evs[i as usize]
                    .field(&from_field)
                    .is_some_and(|r| op.apply(l, r))
            }),
            CondJson::Agg {
                agg,
                field,
                over_stage,
                include_current,
                op,
                value,
            } => Cond::iterative(move |e: &E, ctx: &Context<'_, E>| {
                let mut evs: Vec<&E> = ctx.events(&over_stage);
                if include_current {
                    evs.push(e);
                }
                let vals: Vec<&Value> = evs.iter().filter_map(|x| x.field(&field)).collect();
                let nums = || vals.iter().filter_map(|v| v.as_f64());
                let r = match agg {
                    Agg::Count => Some(vals.len() as f64),
                    Agg::Sum => Some(nums().sum::<f64>()),
                    Agg::Min => nums().reduce(f64::min),
                    Agg::Max => nums().reduce(f64::max),
                    Agg::Avg => {
                        let n = nums().count();
                        (n > 0).then(|| nums().sum::<f64>() / n as f64)
                    }
                };
                let Some(r) = r else { return false };
                let l = if r.fract() == 0.0 && r.abs() < 9.0e15 {
                    Value::from(r as i64)
                } else {
                    serde_json::Number::from_f64(r)
                        .map(Value::Number)
                        .unwrap_or(Value::Null)
                };
                op.apply(&l, &value)
            }),
            CondJson::And(v) => Cond::And(v.iter().map(|c| c.to_cond()).collect()),
            CondJson::Or(v) => Cond::Or(v.iter().map(|c| c.to_cond()).collect()),
            CondJson::Not(c) => c.to_cond().not(),
        }
    }
}

impl<'de> Deserialize<'de> for CondJson {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        CondJson::from_value(&v).map_err(serde::de::Error::custom)
    }
}

impl Serialize for CondJson {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.to_value().serialize(s)
    }
}

fn bad<T>(msg: String) -> Result<T> {
    Err(CepError::Json(msg))
}

fn collect_names<'a>(stages: &'a [StageJson], out: &mut Vec<&'a str>) {
    for s in stages {
        out.push(&s.name);
        if let Some(g) = &s.group {
            collect_names(g, out);
        }
    }
}

fn check_conds<'a>(stages: &'a [StageJson], out: &mut Vec<(&'a str, &'a str)>) {
    for s in stages {
        let mut v = Vec::new();
        if let Some(c) = &s.condition {
            c.stages_named(&mut v);
        }
        if let Some(c) = s.quantifier.as_ref().and_then(|q| q.until.as_ref()) {
            c.stages_named(&mut v);
        }
        out.extend(v.into_iter().map(|n| (s.name.as_str(), n)));
        if let Some(g) = &s.group {
            check_conds(g, out);
        }
    }
}

fn stage<E: FieldAccess + 'static>(s: &StageJson, first: bool) -> Result<Stage<E>> {
    let kind = match (&s.condition, &s.group) {
        (Some(_), Some(_)) => {
            return bad(format!(
                "stage {:?} has both a condition and a group",
                s.name
            ))
        }
        (_, Some(g)) => {
            if s.negated {
                return bad(format!("stage {:?}: a group cannot be negated", s.name));
            }
            StageKind::Group(
                g.iter()
                    .enumerate()
                    .map(|(i, x)| stage(x, i == 0))
                    .collect::<Result<_>>()?,
            )
        }
        (c, None) => StageKind::Single(c.as_ref().map_or(Cond::True, |c| c.to_cond())),
    };
    let contiguity = match (s.contiguity, first) {
        (Some(c), _) => c,
        (None, true) => Contiguity::None,
        (None, false) => Contiguity::Relaxed,
    };
    if first && contiguity != Contiguity::None {
        return bad(format!(
            "stage {:?}: the first stage of a pattern or group takes contiguity \"none\"",
            s.name
        ));
    }
    let quantifier = match &s.quantifier {
        None => Quantifier::default(),
        Some(q) => Quantifier {
            min: q.min,
            max: match q.max {
                None => Some(q.min),
                Some(m) => m,
            },
            greedy: q.greedy,
            consecutive: q.consecutive,
            allow_combinations: q.allow_combinations,
            optional: q.optional,
            until: q.until.as_ref().map(|c| c.to_cond()),
        },
    };
    Ok(Stage {
        name: s.name.clone(),
        kind,
        contiguity,
        negated: s.negated,
        quantifier,
    })
}

impl PatternJson {
    /// Builds the pattern this document describes.
    ///
    /// # Errors
    /// [`CepError::Json`] for an unsupported version, an unknown skip strategy, or a stage
    /// named by the skip strategy or a condition that does not exist.
    pub fn to_pattern<E: FieldAccess + 'static>(&self) -> Result<Pattern<E>> {
        if let Some(v) = self.version {
            if v != 1 {
                return bad(format!("unsupported version {v} (expected 1)"));
            }
        }
        if self.stages.is_empty() {
            return bad("\"stages\" is empty".into());
        }
        let mut names = Vec::new();
        collect_names(&self.stages, &mut names);
        let mut refs = Vec::new();
        check_conds(&self.stages, &mut refs);
        if let Some((at, n)) = refs.iter().find(|(_, n)| !names.contains(n)) {
            return bad(format!(
                "unknown stage {n:?} in a condition of stage {at:?}"
            ));
        }
        let skip = match &self.skip {
            None => SkipStrategy::NoSkip,
            Some(s) => {
                let named = || -> Result<String> {
                    match &s.stage {
                        Some(n) if names.contains(&n.as_str()) => Ok(n.clone()),
                        Some(n) => bad(format!(
                            "unknown stage {n:?} in skip strategy {:?}",
                            s.strategy
                        )),
                        None => bad(format!("skip strategy {:?} needs a \"stage\"", s.strategy)),
                    }
                };
                match s.strategy.as_str() {
                    "no_skip" => SkipStrategy::NoSkip,
                    "skip_to_next" => SkipStrategy::SkipToNext,
                    "skip_past_last_event" => SkipStrategy::SkipPastLastEvent,
                    "skip_to_first" => SkipStrategy::SkipToFirst { stage: named()?, throw_on_miss: s.throw_on_miss },
                    "skip_to_last" => SkipStrategy::SkipToLast { stage: named()?, throw_on_miss: s.throw_on_miss },
                    other => return bad(format!(
                        "unknown skip strategy {other:?} (expected no_skip, skip_to_next, skip_past_last_event, skip_to_first, skip_to_last)"
                    )),
                }
            }
        };
        let stages = self
            .stages
            .iter()
            .enumerate()
            .map(|(i, s)| stage(s, i == 0))
            .collect::<Result<Vec<_>>>()?;
        let mut p = Pattern {
            misuse: None,
            stages,
            within: None,
            within_kind: WithinKind::FirstAndLast,
            skip,
        };
        if let Some(k) = self.within_type {
            p = p.within_kind(k);
        }
        if let Some(ms) = self.within_ms {
            p = p.within_ms(ms);
        }
        Ok(p)
    }
}

/// Parses a pattern document.
///
/// # Errors
/// [`CepError::Json`] with serde's line and column for malformed JSON, or as
/// [`PatternJson::to_pattern`].
pub fn parse<E: FieldAccess + 'static>(text: &str) -> Result<Pattern<E>> {
    let doc: PatternJson = serde_json::from_str(text).map_err(|e| CepError::Json(e.to_string()))?;
    doc.to_pattern()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: a `DynEvent` in keyed state failed every restore, because bincode (the
    /// checkpoint format) cannot read an untyped JSON value back.
    #[test]
    fn a_dyn_event_round_trips_through_a_binary_format_and_stays_an_object_in_json() {
        let event = DynEvent::from_json(r#"{"t": "a", "n": 1.5, "tags": [1, {"x": null}]}"#)
            .expect("an object");
        let bytes = bincode::serialize(&event).expect("serializes");
        assert_eq!(
            bincode::deserialize::<DynEvent>(&bytes).expect("reads"),
            event
        );
        let text = serde_json::to_string(&event).expect("serializes");
        assert!(text.starts_with('{'), "{text}");
        assert_eq!(
            serde_json::from_str::<DynEvent>(&text).expect("reads"),
            event
        );
    }
}
