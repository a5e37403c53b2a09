//! `cep_match`: runs a CEP pattern (the JSON form of `eddy_cep::json`) over a JSON-lines event
//! file, per key, in event time, and prints every match (and optionally every timeout).

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

Errors (unreadable file, bad JSON, an unknown stage in the pattern, an event without the time
field, ...) print one line naming the file, line and problem, and exit with code 2; no output
file is left behind (it is written to a temporary name and renamed when complete).
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
    /// A MATCH_RECOGNIZE query (not yet supported: exits with code 2).
    #[arg(long, value_name = "FILE.sql")]
    sql: Option<PathBuf>,
    /// The events: one JSON object per line.
    #[arg(long, value_name = "FILE.jsonl")]
    events: PathBuf,
    /// Partition events by this field (default: one partition, key null).
    #[arg(long, value_name = "FIELD")]
    key: Option<String>,
    /// The integer event-time field, in ms.
    #[arg(long, value_name = "NAME", default_value = "ts")]
    time_field: String,
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
        let ts = match fields.remove(&args.time_field) {
            None => {
                return fail(format!(
                    "{p}:{n}: the event has no time field {:?}",
                    args.time_field
                ))
            }
            Some(t) => match t.as_i64() {
                Some(t) => t,
                None => {
                    return fail(format!(
                        "{p}:{n}: time field {:?} is not an integer: {t}",
                        args.time_field
                    ))
                }
            },
        };
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
    if let Some(sql) = &args.sql {
        eprintln!(
            "cep_match: {}: --sql (MATCH_RECOGNIZE) is not yet supported",
            sql.display()
        );
        return ExitCode::from(2);
    }
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
