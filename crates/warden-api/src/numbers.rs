//! Whole numbers as JSON Schema sees them: `60` and `60.0` are both the integer 60, so a body field documented as
//! an integer accepts either; `1.5` is refused.

use serde::{Deserialize, Deserializer};

/// Reads an optional whole number given as an integer or as a float without a fraction.
pub fn optional_whole<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    match Option::<serde_json::Number>::deserialize(deserializer)? {
        None => Ok(None),
        Some(number) => whole(&number).map(Some).ok_or_else(|| {
            serde::de::Error::custom(format!("expected a whole number, found {number}"))
        }),
    }
}

/// The whole number `number` holds, if it holds one within ±2^53 (or any `i64` given as an integer).
pub fn whole(number: &serde_json::Number) -> Option<i64> {
    if let Some(n) = number.as_i64() {
        return Some(n);
    }
    let float = number.as_f64()?;
    // Exactly representable and without a fraction; the casts are exact within this range.
    let in_range = float.fract() == 0.0 && float.abs() < 9_007_199_254_740_992.0;
    #[expect(
        clippy::cast_possible_truncation,
        reason = "checked whole and within ±2^53 above"
    )]
    in_range.then_some(float as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Body {
        #[serde(default, deserialize_with = "optional_whole")]
        n: Option<i64>,
    }

    fn read(json: &str) -> Result<Option<i64>, serde_json::Error> {
        serde_json::from_str::<Body>(json).map(|body| body.n)
    }

    #[test]
    fn whole_floats_are_integers_and_fractions_are_refused() {
        assert_eq!(read(r#"{"n": 60}"#).unwrap(), Some(60));
        assert_eq!(read(r#"{"n": 60.0}"#).unwrap(), Some(60));
        assert_eq!(read(r#"{"n": -3e2}"#).unwrap(), Some(-300));
        assert_eq!(read(r#"{"n": null}"#).unwrap(), None);
        assert_eq!(read("{}").unwrap(), None);
        for bad in [
            r#"{"n": 1.5}"#,
            r#"{"n": 1e300}"#,
            r#"{"n": "60"}"#,
            r#"{"n": true}"#,
        ] {
            assert!(read(bad).is_err(), "{bad}");
        }
    }
}
