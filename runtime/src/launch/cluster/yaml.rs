//! A small YAML writer for Kubernetes manifests: block style, every string double-quoted (a
//! JSON string is a valid YAML double-quoted scalar), so no value can change meaning (`no`,
//! `1.0`, `on`…). Keys are written plain when they are plain-safe, quoted otherwise.

use serde_json::Value;

/// One YAML document for `value`.
pub(crate) fn document(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => write_map(&mut out, map, 0),
        Value::Array(items) if !items.is_empty() => write_list(&mut out, items, 0),
        scalar => {
            out.push_str(&inline(scalar));
            out.push('\n');
        }
    }
    out
}

/// Several documents, separated by `---`.
pub(crate) fn documents<'a>(values: impl IntoIterator<Item = &'a Value>) -> String {
    values
        .into_iter()
        .map(|v| format!("---\n{}", document(v)))
        .collect()
}

fn key(k: &str) -> String {
    let plain = !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '/' | '_' | '-'))
        && k.starts_with(|c: char| c.is_ascii_alphabetic());
    if plain {
        k.to_string()
    } else {
        inline(&Value::String(k.to_string()))
    }
}

/// A scalar or an empty collection on one line.
fn inline(value: &Value) -> String {
    match value {
        Value::Object(m) if m.is_empty() => "{}".into(),
        Value::Array(a) if a.is_empty() => "[]".into(),
        Value::String(s) if plain(s) => s.clone(),
        // serde_json's string escaping is valid YAML double-quoted escaping.
        other => serde_json::to_string(other).unwrap_or_else(|_| "null".into()),
    }
}

/// Whether a string can be written unquoted and still read back as the same string: a
/// letter, then letters, digits, `.`, `/`, `_`, `-`, and not a YAML 1.1 boolean or null.
fn plain(s: &str) -> bool {
    const RESERVED: &[&str] = &["y", "n", "yes", "no", "on", "off", "true", "false", "null"];
    s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '/' | '_' | '-'))
        && !RESERVED.contains(&s.to_ascii_lowercase().as_str())
}

fn is_block(value: &Value) -> bool {
    match value {
        Value::Object(m) => !m.is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => false,
    }
}

fn write_map(out: &mut String, map: &serde_json::Map<String, Value>, indent: usize) {
    for (k, v) in map {
        out.push_str(&" ".repeat(indent));
        out.push_str(&key(k));
        out.push(':');
        match v {
            Value::Object(m) if !m.is_empty() => {
                out.push('\n');
                write_map(out, m, indent + 2);
            }
            Value::Array(a) if !a.is_empty() => {
                out.push('\n');
                write_list(out, a, indent);
            }
            scalar => {
                out.push(' ');
                out.push_str(&inline(scalar));
                out.push('\n');
            }
        }
    }
}

fn write_list(out: &mut String, items: &[Value], indent: usize) {
    for item in items {
        out.push_str(&" ".repeat(indent));
        out.push_str("- ");
        match item {
            Value::Object(m) if !m.is_empty() => {
                // The first entry on the dash's line, the rest aligned under it.
                let mut inner = String::new();
                write_map(&mut inner, m, indent + 2);
                out.push_str(inner.trim_start());
            }
            Value::Array(a) if !a.is_empty() => {
                out.push('\n');
                write_list(out, a, indent + 2);
            }
            scalar => {
                debug_assert!(!is_block(scalar));
                out.push_str(&inline(scalar));
                out.push('\n');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn writes_block_yaml() {
        let v = json!({
            "apiVersion": "v1",
            "metadata": {"labels": {"lp.program": "no"}, "annotations": {}},
            "spec": {"containers": [{"name": "node", "args": ["--a=1", "x: y"], "env": []}], "n": 2, "ok": true},
        });
        assert_eq!(
            document(&v),
            "apiVersion: v1\nmetadata:\n  annotations: {}\n  labels:\n    lp.program: \"no\"\nspec:\n  containers:\n  - args:\n    - \"--a=1\"\n    - \"x: y\"\n    env: []\n    name: node\n  n: 2\n  ok: true\n"
        );
    }

    #[test]
    fn quotes_unsafe_keys() {
        assert_eq!(key("nvidia.com/gpu"), "nvidia.com/gpu");
        assert_eq!(key("a b"), "\"a b\"");
        assert_eq!(key("1x"), "\"1x\"");
    }
}
