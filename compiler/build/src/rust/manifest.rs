//! The names of a package's dependencies, read from its `Cargo.toml` without a TOML parser:
//! the keys of `[dependencies]` tables (`name = …`, `name.workspace = true`, and
//! `[dependencies.name]` headers), as the code names them (`-` becomes `_`). What a line does
//! not say plainly is skipped: this only serves to keep generated modules from shadowing a
//! dependency.

use std::collections::BTreeSet;

/// The dependency names in a manifest's text.
pub(super) fn dependencies(manifest: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut in_table = false;
    for line in manifest.lines().map(str::trim) {
        if let Some(header) = line.strip_prefix('[') {
            let header = header.trim_end_matches(']').trim();
            let table = header.rsplit_once('.').map_or(header, |(t, _)| t);
            let is_deps = |h: &str| h == "dependencies" || h.ends_with(".dependencies");
            in_table = is_deps(header);
            if !in_table && is_deps(table) {
                if let Some((_, name)) = header.rsplit_once('.') {
                    out.insert(code_name(name));
                }
            }
            continue;
        }
        if !in_table || line.starts_with('#') {
            continue;
        }
        if let Some((key, _)) = line.split_once('=') {
            let key = key.trim();
            let name = key
                .split_once('.')
                .map_or(key, |(n, _)| n)
                .trim_matches('"');
            if !name.is_empty() {
                out.insert(code_name(name));
            }
        }
    }
    out
}

fn code_name(name: &str) -> String {
    name.trim().trim_matches('"').replace('-', "_")
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_every_form() {
        let manifest = r#"
[package]
name = "demo"

[dependencies]
lp = { path = "../runtime" }
serde-json = "1"
tokio.workspace = true

[dependencies.rand_core]
version = "0.6"

[target.'cfg(unix)'.dependencies]
libc = "0.2"

[build-dependencies]
lpc = "0.1"
"#;
        let deps = super::dependencies(manifest);
        let names: Vec<&str> = deps.iter().map(String::as_str).collect();
        assert_eq!(names, ["libc", "lp", "rand_core", "serde_json", "tokio"]);
    }
}
