//! `cep_match`: runs a CEP pattern (the JSON form of `eddy_cep::json`) or a MATCH_RECOGNIZE
//! statement (`eddy_cep::sql`) over a JSON-lines event file, per key, in event time, and
//! prints every match (and optionally every timeout). The `--sql` path runs as a DataStream
//! job through the keyed operator `eddy_cep::sql::operator::match_recognize`.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use eddy_cep::json::{self, FieldAccess, Map, PatternJson, Value};
use eddy_cep::{Match, Nfa, NfaState, Output};

const ABOUT: &str = "Finds the matches of a CEP pattern in a file of JSON events.";
const LONG_ABOUT: &str = "\
Finds the matches of a CEP pattern in a file of JSON events.

The pattern is the JSON form (version 1) of eddy-cep: stages with conditions, contiguity,
negation and quantifiers, a window (within_ms, within_type) and an after-match skip strategy.

Events: one JSON object per line. The time field (`ts`, or --time-field) is the integer event
time in ms; the other members are the event's fields. With --key, events are partitioned by
that field (a missing field is the key null) and each key is matched on its own. Events are
processed in event-time order (equal timestamps keep input order); before each event, time
advances to its timestamp for every key, which expires partial matches whose window closed.
At end of input time advances to the end of time (--final-watermark max, the default), which
ends every partial match (timing out those with a window) and releases every match a skip
strategy held back for them; or it stays at the last timestamp (none), leaving them open.

Output: one JSON object per line, in the order produced:
  {\"key\":K,\"match\":{\"stage\":[i,...],...}}
  {\"key\":K,\"timeout_ts\":T,\"partial\":{\"stage\":[i,...],...}}   (with --timeouts)
where i is the 0-based line number of an event in the events file and K the key value (or
null). Stages appear in pattern order.

With --sql FILE.sql, the file holds one MATCH_RECOGNIZE statement (SQL:2016 row pattern
recognition as Trino implements it, plus Flink SQL's WITHIN INTERVAL), optionally after
`SELECT * FROM name`. It runs as a keyed DataStream job in event time:
  - PARTITION BY chooses the key (the listed fields' values; a missing field is null). Without
    PARTITION BY, --key FIELD partitions as `PARTITION BY FIELD` would; with it, --key may
    only repeat it (a single identical field), otherwise the run fails with code 2.
  - ORDER BY names the integer event-time field (one column, ascending). Without ORDER BY,
    --time-field (default ts) is the time; with it, --time-field may only repeat it.
  - Rows are matched per partition in time order (equal timestamps keep input order). At end
    of input, --final-watermark max ends every partition (deciding every match in progress,
    and `$`); none leaves them open. --timeouts does not apply to --sql.
Output, one JSON object per line, in the order matches are decided:
  ONE ROW PER MATCH:  {\"match_number\":n,\"match\":{\"VAR\":[i,...],...},\"measures\":{...}}
  ALL ROWS PER MATCH: {\"row\":i,\"match_number\":n,\"classifier\":\"VAR\",\"measures\":{...}}
where i is the 0-based line number of an event, variables appear in PATTERN order (those
with no row left out; excluded rows included), measures in MEASURES order. An empty match
gives \"row\":null and \"classifier\":null; an unmatched row (WITH UNMATCHED ROWS) gives
\"match_number\":null, \"classifier\":null and null measures.

Errors (unreadable file, bad JSON, an unknown stage in the pattern, bad SQL, an event without
the time field, an AFTER MATCH SKIP with nowhere to go, ...) print one line naming the file,
line and problem, and exit with code 2; no output file is left behind (it is written to a
temporary name and renamed when complete).
Logs go to stderr through tracing (RUST_LOG=info for progress).";

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum FinalWatermark {
    /// Advance time to the end of time at end of input.
    Max,
    /// Leave time at the last event's timestamp.
    None,
}

#[derive(Parser, Debug)]
#[command(name = "cep_match", about = ABOUT, long_about = LONG_ABOUT)]
struct Args {
    /// The pattern, in the JSON form (version 1).
    #[arg(
        long,
        value_name = "FILE.json",
        required_unless_present = "sql",
        conflicts_with = "sql"
    )]
    pattern: Option<PathBuf>,
    /// A MATCH_RECOGNIZE statement (see the long help for how it relates to the flags).
    #[arg(long, value_name = "FILE.sql")]
    sql: Option<PathBuf>,
    /// The events: one JSON object per line.
    #[arg(long, value_name = "FILE.jsonl")]
    events: PathBuf,
    /// Partition events by this field (default: one partition, key null).
    #[arg(long, value_name = "FIELD")]
    key: Option<String>,
    /// The integer event-time field, in ms [default: ts; with --sql, ORDER BY's column].
    #[arg(long, value_name = "NAME")]
    time_field: Option<String>,
    /// Where time goes at end of input.
    #[arg(long, value_enum, default_value = "max")]
    final_watermark: FinalWatermark,
    /// Also print timed-out partial matches.
    #[arg(long)]
    timeouts: bool,
    /// Write the output here instead of stdout.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// One input event: its line number and its fields.
#[derive(Clone, Debug)]
struct LineEvent {
    line: usize,
    fields: Map<String, Value>,
}

impl FieldAccess for LineEvent {
    fn field(&self, name: &str) -> Option<&Value> {
        self.fields.get(name)
    }
}

/// Errors are one line each.
struct Failure(String);

type Res<T> = Result<T, Failure>;

fn fail<T>(msg: String) -> Res<T> {
    Err(Failure(msg))
}

/// The line of `text` holding the first quoted name in `msg`, for errors serde cannot place.
fn locate(text: &str, msg: &str) -> Option<usize> {
    let start = msg.find('"')?;
    let end = start + 1 + msg[start + 1..].find('"')?;
    let needle = &msg[start..=end];
    text.lines().position(|l| l.contains(needle)).map(|i| i + 1)
}

fn load_pattern(path: &Path) -> Res<Nfa<LineEvent>> {
    let p = path.display();
    let text =
        fs::read_to_string(path).map_err(|e| Failure(format!("{p}: cannot read pattern: {e}")))?;
    let doc: PatternJson = json::serde_json::from_str(&text).map_err(|e| {
        let msg = e.to_string();
        let msg = msg
            .rsplit_once(" at line ")
            .map_or(msg.as_str(), |(m, _)| m)
            .to_string();
        Failure(format!(
            "{p}:{}:{}: bad pattern: {msg}",
            e.line(),
            e.column()
        ))
    })?;
    let semantic = |e: eddy_cep::CepError| {
        let msg = e.to_string();
        match locate(&text, &msg) {
            Some(l) => Failure(format!("{p}:{l}: bad pattern: {msg}")),
            None => Failure(format!("{p}: bad pattern: {msg}")),
        }
    };
    let pattern = doc.to_pattern::<LineEvent>().map_err(semantic)?;
    pattern.compile().map_err(semantic)
}

/// (timestamp, key index, event).
type Timed = (i64, usize, LineEvent);

/// Events in input order with their timestamps and key indices; keys in first-seen order.
fn load_events(path: &Path, args: &Args) -> Res<(Vec<Timed>, Vec<Value>)> {
    let p = path.display();
    let text =
        fs::read_to_string(path).map_err(|e| Failure(format!("{p}: cannot read events: {e}")))?;
    let mut events = Vec::new();
    let mut keys: Vec<Value> = Vec::new();
    let mut key_index: HashMap<String, usize> = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = json::serde_json::from_str(line).map_err(|e| {
            let msg = e.to_string();
            let msg = msg
                .rsplit_once(" at line ")
                .map_or(msg.as_str(), |(m, _)| m)
                .to_string();
            Failure(format!("{p}:{n}:{}: bad JSON: {msg}", e.column()))
        })?;
        let Value::Object(mut fields) = v else {
            return fail(format!("{p}:{n}: an event must be a JSON object"));
        };
        let time_field = args.time_field.as_deref().unwrap_or("ts");
        let ts = event_time(&mut fields, time_field, &format!("{p}:{n}"))?;
        let key = match &args.key {
            None => Value::Null,
            Some(k) => fields.get(k).cloned().unwrap_or(Value::Null),
        };
        let repr = key.to_string();
        let k = *key_index.entry(repr).or_insert_with(|| {
            keys.push(key);
            keys.len() - 1
        });
        events.push((ts, k, LineEvent { line: i, fields }));
    }
    Ok((events, keys))
}

/// Removes and reads the integer time field of an event at `place` (`file:line`).
fn event_time(fields: &mut Map<String, Value>, field: &str, place: &str) -> Res<i64> {
    match fields.remove(field) {
        None => fail(format!("{place}: the event has no time field {field:?}")),
        Some(t) => match t.as_i64() {
            Some(t) => Ok(t),
            None => fail(format!(
                "{place}: time field {field:?} is not an integer: {t}"
            )),
        },
    }
}

fn stages_json(m: &Match<LineEvent>) -> String {
    let mut s = String::from("{");
    for (i, (name, evs)) in m.stages.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&Value::String(name.to_string()).to_string());
        s.push_str(":[");
        let lines: Vec<String> = evs.iter().map(|e| e.line.to_string()).collect();
        s.push_str(&lines.join(","));
        s.push(']');
    }
    s.push('}');
    s
}

fn write_output(
    w: &mut dyn Write,
    key: &Value,
    out: &Output<LineEvent>,
    timeouts: bool,
) -> io::Result<()> {
    if timeouts {
        for t in &out.timeouts {
            writeln!(
                w,
                "{{\"key\":{key},\"timeout_ts\":{},\"partial\":{}}}",
                t.timeout_ts,
                stages_json(&t.partial)
            )?;
        }
    }
    for m in &out.matches {
        writeln!(w, "{{\"key\":{key},\"match\":{}}}", stages_json(m))?;
    }
    Ok(())
}

fn run(args: &Args, w: &mut dyn Write) -> Res<()> {
    let pattern_path = args
        .pattern
        .as_ref()
        .expect("clap requires --pattern without --sql");
    let nfa = load_pattern(pattern_path)?;
    let (mut events, keys) = load_events(&args.events, args)?;
    events.sort_by_key(|e| e.0); // stable: equal timestamps keep input order
    tracing::info!(events = events.len(), keys = keys.len(), "loaded");
    let ev_path = args.events.display();
    let io_err = |e: io::Error| Failure(format!("cannot write output: {e}"));
    let mut states: Vec<NfaState<LineEvent>> = keys.iter().map(|_| nfa.new_state()).collect();
    // keys with a partial match whose window may close, by deadline
    let mut deadlines: BinaryHeap<Reverse<(i64, usize)>> = BinaryHeap::new();
    let mut out = Output::default();
    let mut matches = 0usize;
    for (ts, k, ev) in events {
        let line = ev.line + 1;
        while let Some(&Reverse((d, other))) = deadlines.peek() {
            if d > ts {
                break;
            }
            deadlines.pop();
            out.clear();
            nfa.advance_time_into(&mut states[other], ts, &mut out)
                .map_err(|e| Failure(format!("{ev_path}:{line}: {e}")))?;
            matches += out.matches.len();
            write_output(w, &keys[other], &out, args.timeouts).map_err(io_err)?;
            if let Some(d) = nfa.next_deadline(&states[other]) {
                deadlines.push(Reverse((d, other)));
            }
        }
        out.clear();
        nfa.process_into(&mut states[k], ev, ts, &mut out)
            .map_err(|e| Failure(format!("{ev_path}:{line}: {e}")))?;
        matches += out.matches.len();
        write_output(w, &keys[k], &out, args.timeouts).map_err(io_err)?;
        if let Some(d) = nfa.next_deadline(&states[k]) {
            deadlines.push(Reverse((d, k)));
        }
    }
    if args.final_watermark == FinalWatermark::Max {
        for (k, st) in states.iter_mut().enumerate() {
            let out = nfa
                .finish(st)
                .map_err(|e| Failure(format!("{ev_path}: at end of input: {e}")))?;
            matches += out.matches.len();
            write_output(w, &keys[k], &out, args.timeouts).map_err(io_err)?;
        }
    }
    tracing::info!(matches, "done");
    Ok(())
}

fn main() -> ExitCode {
    eddy_examples::init_logging();
    let args = Args::parse();
    let run = |args: &Args, w: &mut dyn Write| match &args.sql {
        Some(sql) => sql_path::run(args, sql, w),
        None => run(args, w),
    };
    let result = match &args.output {
        None => {
            let stdout = io::stdout();
            let mut w = BufWriter::new(stdout.lock());
            run(&args, &mut w).and_then(|()| {
                w.flush()
                    .map_err(|e| Failure(format!("cannot write output: {e}")))
            })
        }
        Some(path) => write_atomically(path, |w| run(&args, w)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(msg)) => {
            eprintln!("cep_match: {msg}");
            ExitCode::from(2)
        }
    }
}

/// Writes through `f` to a temporary file beside `path`, renamed to `path` only on success.
fn write_atomically(path: &Path, f: impl FnOnce(&mut dyn Write) -> Res<()>) -> Res<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let p = path.display();
    let file =
        fs::File::create(&tmp).map_err(|e| Failure(format!("{p}: cannot create output: {e}")))?;
    let mut w = BufWriter::new(file);
    let result = f(&mut w).and_then(|()| {
        let file = w
            .into_inner()
            .map_err(|e| Failure(format!("{p}: cannot write output: {}", e.error())))?;
        file.sync_all()
            .map_err(|e| Failure(format!("{p}: cannot write output: {e}")))?;
        fs::rename(&tmp, path).map_err(|e| Failure(format!("{p}: cannot write output: {e}")))
    });
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// The `--sql` path: a MATCH_RECOGNIZE statement as a keyed DataStream job.
mod sql_path {
    use std::fs;
    use std::io::Write;
    use std::path::Path;
    use std::sync::Arc;

    use eddy_cep::json::{self, Value};
    use eddy_cep::sql::{
        operator::match_recognize, MatchRecognize, MatchRow, RowsPerMatch, Scalar,
    };
    use eddy_datastream::{StreamExecutionEnvironment, WatermarkStrategy};
    use serde::{Deserialize, Serialize};

    use super::{event_time, fail, Args, Failure, FinalWatermark, Res};

    /// One event as the job sees it: its line, time, partition and the statement's columns.
    #[derive(Clone, Debug, Serialize, Deserialize)]
    struct SqlEvent {
        line: usize,
        ts: i64,
        key: String,
        values: Vec<Scalar>,
    }

    fn load_statement(path: &Path) -> Res<MatchRecognize> {
        let p = path.display();
        let text =
            fs::read_to_string(path).map_err(|e| Failure(format!("{p}: cannot read SQL: {e}")))?;
        MatchRecognize::parse(&text).map_err(|e| {
            Failure(format!(
                "{p}:{}:{}: bad SQL: {}",
                e.line, e.column, e.message
            ))
        })
    }

    /// The partition fields and the time field, from the statement and the flags.
    fn fields(q: &MatchRecognize, args: &Args, sql: &Path) -> Res<(Vec<String>, String)> {
        let p = sql.display();
        if args.timeouts {
            return fail(format!("{p}: --timeouts does not apply to --sql"));
        }
        let partition = match (&args.key, q.partition_by()) {
            (None, cols) => cols.to_vec(),
            (Some(k), []) => vec![k.clone()],
            (Some(k), cols) if cols.len() == 1 && cols[0] == *k => cols.to_vec(),
            (Some(k), cols) => {
                return fail(format!(
                    "{p}: --key {k} contradicts PARTITION BY {}",
                    cols.join(", ")
                ))
            }
        };
        let time = match (&args.time_field, q.order_by()) {
            (None, None) => "ts".to_string(),
            (Some(t), None) => t.clone(),
            (None, Some(o)) => o.to_string(),
            (Some(t), Some(o)) if t == o => o.to_string(),
            (Some(t), Some(o)) => {
                return fail(format!("{p}: --time-field {t} contradicts ORDER BY {o}"))
            }
        };
        Ok((partition, time))
    }

    fn load_events(
        path: &Path,
        q: &MatchRecognize,
        partition: &[String],
        time: &str,
    ) -> Res<Vec<SqlEvent>> {
        let p = path.display();
        let text = fs::read_to_string(path)
            .map_err(|e| Failure(format!("{p}: cannot read events: {e}")))?;
        let mut events = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let n = i + 1;
            if line.trim().is_empty() {
                continue;
            }
            let v: Value = json::serde_json::from_str(line).map_err(|e| {
                let msg = e.to_string();
                let msg = msg
                    .rsplit_once(" at line ")
                    .map_or(msg.as_str(), |(m, _)| m)
                    .to_string();
                Failure(format!("{p}:{n}:{}: bad JSON: {msg}", e.column()))
            })?;
            let Value::Object(mut fields) = v else {
                return fail(format!("{p}:{n}: an event must be a JSON object"));
            };
            // The time column may also be read by the statement (ORDER BY's column usually is).
            let ts_value = fields.get(time).cloned();
            let ts = event_time(&mut fields, time, &format!("{p}:{n}"))?;
            if let Some(t) = ts_value {
                fields.insert(time.to_string(), t);
            }
            let key: Vec<Value> = partition
                .iter()
                .map(|c| fields.get(c).cloned().unwrap_or(Value::Null))
                .collect();
            let values = q
                .columns()
                .iter()
                .map(|c| fields.get(c).map_or(Scalar::Null, Scalar::from_json))
                .collect();
            events.push(SqlEvent {
                line: i,
                ts,
                key: Value::Array(key).to_string(),
                values,
            });
        }
        events.sort_by_key(|e| e.ts); // stable: equal timestamps keep input order
        Ok(events)
    }

    fn measures_json(q: &MatchRecognize, m: &[Scalar]) -> String {
        let parts: Vec<String> = q
            .measure_names()
            .iter()
            .zip(m)
            .map(|(name, v)| format!("{}:{}", Value::String(name.clone()), v.to_json()))
            .collect();
        format!("{{{}}}", parts.join(","))
    }

    fn format_row(q: &MatchRecognize, m: &MatchRow<SqlEvent>) -> String {
        let opt = |v: Option<String>| v.unwrap_or_else(|| "null".into());
        if q.rows_per_match() == RowsPerMatch::One {
            let vars: Vec<String> = m
                .matched
                .iter()
                .map(|(var, rows)| {
                    let lines: Vec<String> = rows.iter().map(|r| r.line.to_string()).collect();
                    format!("{}:[{}]", Value::String(var.to_string()), lines.join(","))
                })
                .collect();
            format!(
                "{{\"match_number\":{},\"match\":{{{}}},\"measures\":{}}}",
                opt(m.match_number.map(|n| n.to_string())),
                vars.join(","),
                measures_json(q, &m.measures)
            )
        } else {
            format!(
                "{{\"row\":{},\"match_number\":{},\"classifier\":{},\"measures\":{}}}",
                opt(m.row.as_ref().map(|r| r.line.to_string())),
                opt(m.match_number.map(|n| n.to_string())),
                opt(m
                    .classifier
                    .as_ref()
                    .map(|c| Value::String(c.to_string()).to_string())),
                measures_json(q, &m.measures)
            )
        }
    }

    pub(super) fn run(args: &Args, sql: &Path, w: &mut dyn Write) -> Res<()> {
        let q = load_statement(sql)?;
        let (partition, time) = fields(&q, args, sql)?;
        let events = load_events(&args.events, &q, &partition, &time)?;
        tracing::info!(events = events.len(), "loaded");
        let q = Arc::new(q);
        let env = StreamExecutionEnvironment::new();
        env.set_parallelism(1);
        let keyed = env
            .from_collection(events)
            .assign_timestamps_and_watermarks(
                WatermarkStrategy::for_monotonous_timestamps()
                    .with_timestamp_assigner(|e: &SqlEvent| e.ts)
                    .punctuated(),
            )
            .key_by(|e: &SqlEvent| e.key.clone());
        let place = args.events.display().to_string();
        let mut op = match_recognize(&keyed, q.clone(), |e: &SqlEvent, row: &mut Vec<Scalar>| {
            row.extend(e.values.iter().cloned())
        })
        .describe_rows(move |e: &SqlEvent| format!("{place}:{}", e.line + 1));
        if args.final_watermark == FinalWatermark::None {
            op = op.keep_partitions_open();
        }
        let fq = q.clone();
        let lines = op.build().map(move |(_, m)| format_row(&fq, &m)).collect();
        env.execute("cep_match --sql")
            .map_err(|e| Failure(e.to_string()))?;
        for line in lines.take() {
            writeln!(w, "{line}").map_err(|e| Failure(format!("cannot write output: {e}")))?;
        }
        Ok(())
    }
}
