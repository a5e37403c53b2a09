//! Connected streams against straightforward models: a keyed co-process function that joins
//! two streams through keyed state (a hash join by hand), a plain co-process function, and a
//! broadcast stream that reaches every subtask, at several parallelisms.

use std::collections::{BTreeMap, HashMap};

use eddy_datastream::connected::{
    BroadcastProcessFunction, BroadcastState, CoProcessFunction, KeyedCoProcessFunction,
};
use eddy_datastream::process::Context;
use eddy_datastream::{BoxError, Collector, StreamExecutionEnvironment};
use eddy_runtime::state::{ListState, StateDescriptor, ValueState};

/// Joins orders (id, amount) with names (id, name) whatever their order of arrival.
struct Enrich {
    names: Box<dyn ValueState<u32, String>>,
    waiting: Box<dyn ListState<u32, u64>>,
}

impl KeyedCoProcessFunction<u32, (u32, u64), (u32, String), (String, u64)> for Enrich {
    fn process_element1(
        &mut self,
        order: (u32, u64),
        ctx: &mut Context<'_, u32, (String, u64)>,
    ) -> Result<(), BoxError> {
        match self.names.get(ctx.key())? {
            Some(name) => ctx.collect((name, order.1)),
            None => self.waiting.add(ctx.key(), order.1)?,
        }
        Ok(())
    }
    fn process_element2(
        &mut self,
        name: (u32, String),
        ctx: &mut Context<'_, u32, (String, u64)>,
    ) -> Result<(), BoxError> {
        let waiting = self.waiting.get(ctx.key())?.to_vec();
        for amount in waiting {
            ctx.collect((name.1.clone(), amount));
        }
        self.waiting.clear(ctx.key())?;
        self.names.put(ctx.key(), name.1)?;
        Ok(())
    }
}

#[test]
fn keyed_co_process_joins_through_state_at_every_parallelism() {
    let orders: Vec<(u32, u64)> = (0..3000u64).map(|i| ((i * 7 % 101) as u32, i)).collect();
    let names: Vec<(u32, String)> = (0..101u32)
        .map(|id| (id, format!("customer-{id}")))
        .collect();
    let by_id: HashMap<u32, String> = names.iter().cloned().collect();
    let mut expected: Vec<(String, u64)> = orders
        .iter()
        .map(|(id, a)| (by_id[id].clone(), *a))
        .collect();
    expected.sort();
    for parallelism in [1, 2, 3] {
        let env = StreamExecutionEnvironment::new();
        env.set_parallelism(parallelism);
        let out = env
            .from_collection(orders.clone())
            .connect(&env.from_collection(names.clone()))
            .process_keyed(
                |o: &(u32, u64)| o.0,
                |n: &(u32, String)| n.0,
                |states| {
                    Ok(Enrich {
                        names: states.value_state(StateDescriptor::new("name"))?,
                        waiting: states.list_state(StateDescriptor::new("waiting"))?,
                    })
                },
            )
            .collect();
        env.execute("enrich").unwrap();
        let mut got = out.take();
        got.sort();
        assert_eq!(got, expected, "parallelism {parallelism}");
    }
}

/// Tags each input's records and counts per side within the subtask.
#[derive(Clone, Default)]
struct Tag {
    seen: u64,
}

impl CoProcessFunction<u32, String, String> for Tag {
    fn process_element1(
        &mut self,
        value: u32,
        out: &mut Collector<'_, String>,
    ) -> Result<(), BoxError> {
        self.seen += 1;
        out.collect(format!("n{value}"));
        Ok(())
    }
    fn process_element2(
        &mut self,
        value: String,
        out: &mut Collector<'_, String>,
    ) -> Result<(), BoxError> {
        self.seen += 1;
        if value == "fail" {
            return Err(format!("failing after {} records", self.seen).into());
        }
        out.collect(format!("s{value}"));
        Ok(())
    }
}

#[test]
fn co_process_sees_both_inputs_and_its_errors_fail_the_job() {
    let env = StreamExecutionEnvironment::new();
    env.set_parallelism(2);
    let out = env
        .from_collection(vec![1u32, 2])
        .connect(&env.from_collection(vec!["a".to_string()]))
        .process(Tag::default())
        .collect();
    env.execute("tag").unwrap();
    let mut got = out.take();
    got.sort();
    assert_eq!(got, ["n1", "n2", "sa"]);

    let env = StreamExecutionEnvironment::new();
    env.set_parallelism(1);
    let _ = env
        .from_collection(vec![1u32, 2, 3])
        .connect(&env.from_collection(vec!["fail".to_string()]))
        .process(Tag::default())
        .collect();
    let error = env.execute("failing").unwrap_err().to_string();
    assert!(error.contains("failing after"), "{error}");
}

/// Emits one line per broadcast record per subtask, and each main record once with the rules
/// its subtask knew.
#[derive(Clone)]
struct Rules;

impl BroadcastProcessFunction<u32, String, String> for Rules {
    type StateKey = String;
    type StateValue = u32;
    fn process_element(
        &mut self,
        value: u32,
        state: &BroadcastState<String, u32>,
        out: &mut Collector<'_, String>,
    ) {
        out.collect(format!("value {value} with {} rules", state.len()));
    }
    fn process_broadcast_element(
        &mut self,
        rule: String,
        state: &mut BroadcastState<String, u32>,
        out: &mut Collector<'_, String>,
    ) {
        state.insert(rule.clone(), 1);
        out.collect(format!("rule {rule}"));
    }
}

#[test]
fn broadcast_records_reach_every_subtask_and_main_records_one() {
    for parallelism in [1, 3] {
        let env = StreamExecutionEnvironment::new();
        env.set_parallelism(parallelism);
        let out = env
            .from_collection(0..50u32)
            .connect_broadcast(
                &env.from_collection(vec!["r1".to_string(), "r2".to_string()]),
                Rules,
            )
            .collect();
        env.execute("broadcast").unwrap();
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        let mut values = 0;
        for line in out.take() {
            if line.starts_with("rule") {
                *counts.entry(line).or_default() += 1;
            } else {
                values += 1;
            }
        }
        assert_eq!(values, 50);
        let every = parallelism as usize;
        assert_eq!(
            counts,
            BTreeMap::from([("rule r1".into(), every), ("rule r2".into(), every)])
        );
    }
}
