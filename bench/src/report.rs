//! The benchmark table: each row is our figure beside its baseline's, measured in the same run,
//! and their ratio — once with caller and callee on the same vCPU, once split, where the
//! placement matters.

use serde::Serialize;

/// Our figure and the baseline's under one placement.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Pair {
    pub ours: f64,
    pub baseline: f64,
}

impl Pair {
    /// ours / baseline.
    pub fn ratio(&self) -> f64 {
        if self.baseline == 0.0 {
            f64::NAN
        } else {
            self.ours / self.baseline
        }
    }
}

/// One measurement.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// What is measured, e.g. "call p50, local_mp".
    pub name: String,
    /// The unit of both figures, e.g. "µs" or "calls/s".
    pub unit: &'static str,
    /// What the baseline is, e.g. "raw Unix socket".
    pub baseline: String,
    /// Caller and callee on one vCPU (or no placement applies).
    pub same: Pair,
    /// Caller and callee on two vCPUs, where that applies.
    pub split: Option<Pair>,
    /// The target for the ratio, in words, if the issue sets one.
    pub target: Option<String>,
}

/// Every row of a run, and what the run was.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    /// `--quick` or full.
    pub quick: bool,
    pub vcpus: usize,
    pub rows: Vec<Row>,
    /// Rows that could not be measured, and why.
    pub skipped: Vec<String>,
}

fn figure(x: f64) -> String {
    if x.is_nan() {
        "–".into()
    } else if x >= 100_000.0 {
        format!("{:.0}k", x / 1000.0)
    } else if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

impl Report {
    /// The table as Markdown.
    pub fn markdown(&self) -> String {
        let mut out = String::from(
            "| measurement | unit | lp (same vCPU) | baseline | ratio | lp (split) | baseline | ratio | baseline is | target |\n\
             | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |\n",
        );
        for row in &self.rows {
            let split = match &row.split {
                Some(p) => format!(
                    "{} | {} | {:.2}",
                    figure(p.ours),
                    figure(p.baseline),
                    p.ratio()
                ),
                None => "– | – | –".into(),
            };
            out.push_str(&format!(
                "| {} | {} | {} | {} | {:.2} | {split} | {} | {} |\n",
                row.name,
                row.unit,
                figure(row.same.ours),
                figure(row.same.baseline),
                row.same.ratio(),
                row.baseline,
                row.target.as_deref().unwrap_or(""),
            ));
        }
        for skipped in &self.skipped {
            out.push_str(&format!("\nSkipped: {skipped}\n"));
        }
        out
    }
}
