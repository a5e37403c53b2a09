//! The `fraud_detection` binary: on generated input the alerts are exactly the planted fraud
//! pairs, at every parallelism; on a CSV file, the one-minute window and the thresholds hold.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_fraud_detection");

#[test]
fn generated_input_raises_one_alert_per_planted_pair() {
    for parallelism in ["1", "3"] {
        let out = Command::new(BIN)
            .args([
                "--transactions",
                "200000",
                "--accounts",
                "5000",
                "--fraud-every",
                "1000",
                "--parallelism",
                parallelism,
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut alerts: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(String::from)
            .collect();
        alerts.sort();
        assert_eq!(alerts.len(), 200, "parallelism {parallelism}");
        for alert in &alerts {
            let f: Vec<&str> = alert.split(',').collect();
            let (small_ts, large_ts): (i64, i64) = (f[1].parse().unwrap(), f[3].parse().unwrap());
            assert_eq!(large_ts, small_ts + 1, "{alert}");
            assert_eq!(small_ts % 1000, 0, "{alert}");
            assert_eq!((f[2], f[4]), ("0.5", "750"), "{alert}");
        }
    }
}

#[test]
fn a_csv_input_respects_the_window_and_the_thresholds() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("tx.csv");
    std::fs::write(
        &input,
        "account,ts,amount\n\
         1,0,0.99\n\
         2,10,0.10\n\
         1,30000,600\n\
         2,70011,900\n\
         3,80000,1.00\n\
         3,80001,501\n\
         4,90000,0.2\n\
         4,90001,500\n",
    )
    .unwrap();
    let output = dir.path().join("alerts.txt");
    let out = Command::new(BIN)
        .args([
            "--input",
            input.to_str().unwrap(),
            "--output",
            output.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Account 2's large transaction comes 70 001 ms after its small one: outside the minute.
    // Account 3's small one is not under 1.00; account 4's large one is not over 500.00.
    assert_eq!(
        std::fs::read_to_string(&output).unwrap(),
        "1,0,0.99,30000,600\n"
    );

    std::fs::write(&input, "account,ts,amount\n1,0,cheap\n").unwrap();
    let out = Command::new(BIN)
        .args(["--input", input.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("tx.csv:2"));
}
