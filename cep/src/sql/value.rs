//! The values a MATCH_RECOGNIZE query computes with: [`Scalar`], SQL's null, booleans,
//! 64-bit integers, doubles and strings, with SQL's three-valued comparisons.
//!
//! ```
//! use eddy_cep::sql::Scalar;
//! assert_eq!(Scalar::Int(2).sql_cmp(&Scalar::Float(2.5)), Some(std::cmp::Ordering::Less));
//! assert_eq!(Scalar::Null.sql_cmp(&Scalar::Int(1)), None); // unknown
//! assert_eq!(Scalar::from_json(&serde_json::json!("x")), Scalar::from("x"));
//! ```

use std::cmp::Ordering;
use std::fmt;

use compact_str::CompactString;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One SQL value. Strings up to 24 bytes are stored inline, so rows clone cheaply.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub enum Scalar {
    /// SQL NULL (also "unknown" for a boolean).
    #[default]
    Null,
    /// A boolean.
    Bool(bool),
    /// A 64-bit integer.
    Int(i64),
    /// A double.
    Float(f64),
    /// A string.
    Str(CompactString),
}

impl From<&str> for Scalar {
    fn from(s: &str) -> Self {
        Scalar::Str(CompactString::from(s))
    }
}

impl From<i64> for Scalar {
    fn from(v: i64) -> Self {
        Scalar::Int(v)
    }
}

impl From<f64> for Scalar {
    fn from(v: f64) -> Self {
        Scalar::Float(v)
    }
}

impl From<bool> for Scalar {
    fn from(v: bool) -> Self {
        Scalar::Bool(v)
    }
}

impl Scalar {
    /// A JSON value as a scalar: integers that fit i64 are `Int`, other numbers `Float`;
    /// arrays and objects become their JSON text (so they can still be compared for equality).
    pub fn from_json(v: &Value) -> Scalar {
        match v {
            Value::Null => Scalar::Null,
            Value::Bool(b) => Scalar::Bool(*b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => Scalar::Int(i),
                None => n.as_f64().map_or(Scalar::Null, Scalar::Float),
            },
            Value::String(s) => Scalar::Str(CompactString::from(s.as_str())),
            other => Scalar::Str(CompactString::from(other.to_string())),
        }
    }

    /// The scalar as JSON (a non-finite double is null).
    pub fn to_json(&self) -> Value {
        match self {
            Scalar::Null => Value::Null,
            Scalar::Bool(b) => Value::Bool(*b),
            Scalar::Int(i) => Value::from(*i),
            Scalar::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Scalar::Str(s) => Value::String(s.to_string()),
        }
    }

    /// True for NULL.
    pub fn is_null(&self) -> bool {
        matches!(self, Scalar::Null)
    }

    /// The value as a boolean condition: `Some(b)` for booleans, `None` (unknown) otherwise.
    pub fn truth(&self) -> Option<bool> {
        match self {
            Scalar::Bool(b) => Some(*b),
            _ => None,
        }
    }

    fn as_f64(&self) -> Option<f64> {
        match self {
            Scalar::Int(i) => Some(*i as f64),
            Scalar::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// SQL comparison: `None` when either side is NULL or the types do not compare
    /// (a number with a string, say); integers and doubles compare numerically.
    pub fn sql_cmp(&self, other: &Scalar) -> Option<Ordering> {
        match (self, other) {
            (Scalar::Int(a), Scalar::Int(b)) => Some(a.cmp(b)),
            (Scalar::Str(a), Scalar::Str(b)) => Some(a.as_str().cmp(b.as_str())),
            (Scalar::Bool(a), Scalar::Bool(b)) => Some(a.cmp(b)),
            (a, b) => a.as_f64()?.partial_cmp(&b.as_f64()?),
        }
    }

    /// Arithmetic: integers stay integers (NULL on overflow or division by zero; division
    /// truncates, as in SQL), anything with a double is a double, `||` joins strings;
    /// NULL or a non-number gives NULL.
    pub fn arith(&self, op: ArithOp, other: &Scalar) -> Scalar {
        if let (ArithOp::Concat, Scalar::Str(a), Scalar::Str(b)) = (op, self, other) {
            let mut s = a.clone();
            s.push_str(b);
            return Scalar::Str(s);
        }
        match (self, other) {
            (Scalar::Int(a), Scalar::Int(b)) => {
                let r = match op {
                    ArithOp::Add => a.checked_add(*b),
                    ArithOp::Sub => a.checked_sub(*b),
                    ArithOp::Mul => a.checked_mul(*b),
                    ArithOp::Div => a.checked_div(*b),
                    ArithOp::Rem => a.checked_rem(*b),
                    ArithOp::Concat => None,
                };
                r.map_or(Scalar::Null, Scalar::Int)
            }
            (a, b) => match (a.as_f64(), b.as_f64()) {
                (Some(a), Some(b)) => {
                    let r = match op {
                        ArithOp::Add => a + b,
                        ArithOp::Sub => a - b,
                        ArithOp::Mul => a * b,
                        ArithOp::Div if b == 0.0 => return Scalar::Null,
                        ArithOp::Div => a / b,
                        ArithOp::Rem if b == 0.0 => return Scalar::Null,
                        ArithOp::Rem => a % b,
                        ArithOp::Concat => return Scalar::Null,
                    };
                    Scalar::Float(r)
                }
                _ => Scalar::Null,
            },
        }
    }
}

/// An arithmetic operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ArithOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Rem,
    /// `||`
    Concat,
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_json())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_arithmetic_is_checked_and_truncating() {
        assert_eq!(
            Scalar::Int(7).arith(ArithOp::Div, &Scalar::Int(2)),
            Scalar::Int(3)
        );
        assert_eq!(
            Scalar::Int(7).arith(ArithOp::Div, &Scalar::Int(0)),
            Scalar::Null
        );
        assert_eq!(
            Scalar::Int(i64::MAX).arith(ArithOp::Add, &Scalar::Int(1)),
            Scalar::Null
        );
        assert_eq!(
            Scalar::Int(1).arith(ArithOp::Add, &Scalar::Float(0.5)),
            Scalar::Float(1.5)
        );
        assert_eq!(
            Scalar::from("a").arith(ArithOp::Concat, &Scalar::from("b")),
            Scalar::from("ab")
        );
    }

    #[test]
    fn mixed_types_compare_as_unknown() {
        assert_eq!(Scalar::from("1").sql_cmp(&Scalar::Int(1)), None);
        assert_eq!(Scalar::Float(f64::NAN).sql_cmp(&Scalar::Int(1)), None);
    }
}
