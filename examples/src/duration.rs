//! Durations on the command line: `500ms`, `10s`, `5m`, `1h`, `2d`.

/// Parses a duration into milliseconds: a non-negative integer followed by `ms`, `s`, `m`,
/// `h` or `d`.
///
/// ```
/// use eddy_examples::duration::parse_millis;
/// assert_eq!(parse_millis("500ms"), Ok(500));
/// assert_eq!(parse_millis("5m"), Ok(300_000));
/// assert!(parse_millis("5 parsecs").is_err());
/// ```
///
/// # Errors
/// A message naming what is wrong, for clap to print.
pub fn parse_millis(text: &str) -> Result<i64, String> {
    let digits = text.trim().chars().take_while(char::is_ascii_digit).count();
    let (number, unit) = text.trim().split_at(digits);
    let number: i64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a duration like 500ms, 10s, 5m or 1h"))?;
    let scale = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(format!("'{text}' has no unit: use ms, s, m, h or d")),
    };
    number
        .checked_mul(scale)
        .ok_or_else(|| format!("'{text}' is too long a duration"))
}
