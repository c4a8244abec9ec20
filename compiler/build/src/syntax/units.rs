//! Duration units: the four `.lp` knows, the longer names people write for them, and the
//! literal to write instead of a duration that is not a whole number of its unit.

/// The units, largest first, with their length in milliseconds.
const UNITS: [(&str, u64); 4] = [("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1)];

/// How durations are written, for a `help:`.
pub(crate) const HOW: &str =
    "write a whole number followed by `ms`, `s`, `m` or `h`, with no space: `250ms`, `2s`, `5m`, `1h`";

/// Milliseconds in one `unit` (`ms`, `s`, `m` or `h`).
pub(crate) fn millis(unit: &str) -> Option<u64> {
    UNITS.iter().find(|(u, _)| *u == unit).map(|&(_, ms)| ms)
}

/// The unit a word means: a unit itself or a longer name for one (`sec`, `minutes`, `hrs`).
pub(crate) fn unit_named(word: &str) -> Option<&'static str> {
    Some(match word.to_ascii_lowercase().as_str() {
        "ms" | "msec" | "msecs" | "millis" | "millisecond" | "milliseconds" => "ms",
        "s" | "sec" | "secs" | "second" | "seconds" => "s",
        "m" | "min" | "mins" | "minute" | "minutes" => "m",
        "h" | "hr" | "hrs" | "hour" | "hours" => "h",
        _ => return None,
    })
}

/// The literal for `number` (decimal, as written) of `unit`: `10`, `ms` → `10ms`; `1.5`, `s` →
/// `1500ms` (the largest unit that makes it whole). `None` when it is not a whole number of
/// milliseconds, or too large.
pub(crate) fn literal(number: &str, unit: &str) -> Option<String> {
    let per_unit = millis(unit)?;
    let digits: String = number.chars().filter(|&c| c != '_').collect();
    let (whole, fraction) = digits.split_once('.').unwrap_or((&digits, ""));
    if fraction.is_empty() {
        return whole
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| format!("{number}{unit}"));
    }
    let scale = 10u128.checked_pow(u32::try_from(fraction.len()).ok()?)?;
    let scaled: u128 = format!("{whole}{fraction}").parse().ok()?;
    let total = scaled.checked_mul(u128::from(per_unit))?;
    if total % scale != 0 {
        return None;
    }
    let total = u64::try_from(total / scale).ok()?;
    UNITS
        .iter()
        .find(|&&(_, ms)| total % ms == 0)
        .map(|&(unit, ms)| format!("{}{unit}", total / ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals() {
        assert_eq!(literal("10", "ms").as_deref(), Some("10ms"));
        assert_eq!(literal("1_000", "s").as_deref(), Some("1_000s"));
        assert_eq!(literal("1.5", "s").as_deref(), Some("1500ms"));
        assert_eq!(literal("0.5", "h").as_deref(), Some("30m"));
        assert_eq!(literal("1.25", "m").as_deref(), Some("75s"));
        assert_eq!(literal("0.0001", "s"), None);
        assert_eq!(literal("1e3", "s"), None);
        assert_eq!(literal("99999999999999999999.5", "h"), None);
        assert_eq!(unit_named("Seconds"), Some("s"));
        assert_eq!(unit_named("parsecs"), None);
    }
}
