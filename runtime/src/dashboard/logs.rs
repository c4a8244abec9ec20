//! The last lines each node (or process) logged, kept in a bounded ring per label while a
//! dashboard is on in this process.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};

/// How many lines are kept per label.
pub(crate) const LINES: usize = 200;

/// How many bytes of a line are kept (the rest is cut, at a character boundary).
pub(crate) const LINE_BYTES: usize = 1024;

/// How many labels get a ring (a program's labels are far fewer; this bounds a runaway).
const LABELS: usize = 100_000;

/// Whether lines are kept in this process.
static KEEPING: AtomicBool = AtomicBool::new(false);

fn rings() -> &'static Mutex<HashMap<String, VecDeque<String>>> {
    static RINGS: OnceLock<Mutex<HashMap<String, VecDeque<String>>>> = OnceLock::new();
    RINGS.get_or_init(Default::default)
}

/// Starts keeping lines in this process.
pub(crate) fn keep() {
    KEEPING.store(true, Ordering::Relaxed);
}

/// Whether lines are kept in this process (cheap: checked before formatting a line).
pub(crate) fn keeping() -> bool {
    KEEPING.load(Ordering::Relaxed)
}

/// Keeps `line` as the latest of `label`'s (when keeping).
pub(crate) fn push(label: &str, line: &str) {
    if !keeping() {
        return;
    }
    let mut line = line.trim_end_matches(['\n', '\r']);
    if line.len() > LINE_BYTES {
        let mut cut = LINE_BYTES;
        while !line.is_char_boundary(cut) {
            cut -= 1;
        }
        line = &line[..cut];
    }
    let mut rings = rings().lock().unwrap_or_else(PoisonError::into_inner);
    if !rings.contains_key(label) && rings.len() >= LABELS {
        return;
    }
    let ring = rings.entry(label.to_string()).or_default();
    if ring.len() >= LINES {
        ring.pop_front();
    }
    ring.push_back(line.to_string());
}

/// The last `n` lines of `label`, oldest first.
pub(crate) fn last(label: &str, n: usize) -> Vec<String> {
    let rings = rings().lock().unwrap_or_else(PoisonError::into_inner);
    rings.get(label).map_or_else(Vec::new, |ring| {
        ring.iter()
            .skip(ring.len().saturating_sub(n))
            .cloned()
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ring_keeps_the_last_lines_each_cut_to_its_bound() {
        keep();
        for i in 0..LINES + 10 {
            push("ring/0", &format!("line {i}\n"));
        }
        let lines = last("ring/0", LINES + 100);
        assert_eq!(lines.len(), LINES);
        assert_eq!(lines.first().map(String::as_str), Some("line 10"));
        assert_eq!(
            last("ring/0", 2),
            vec![format!("line {}", LINES + 8), format!("line {}", LINES + 9)]
        );
        push("ring/1", &"é".repeat(LINE_BYTES));
        assert_eq!(last("ring/1", 1)[0].len(), LINE_BYTES);
        assert!(last("nobody", 5).is_empty());
    }
}
