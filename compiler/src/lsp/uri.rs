//! `file://` URIs ↔ paths. Only local files are served: another scheme gives `None`.

use lsp_types::Uri;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The local path of a `file://` URI (percent-decoded), if it is one.
pub fn to_path(uri: &Uri) -> Option<PathBuf> {
    let rest = uri.as_str().strip_prefix("file://")?;
    // `file:///path` (empty authority) or `file://localhost/path`.
    let path = rest.strip_prefix("localhost").unwrap_or(rest);
    if !path.starts_with('/') {
        return None;
    }
    let decoded = percent_decode(path)?;
    Some(PathBuf::from(decoded))
}

/// The `file://` URI of an absolute path (made absolute from the current directory if needed).
pub fn from_path(path: &Path) -> Option<Uri> {
    let absolute = std::path::absolute(path).ok()?;
    let mut encoded = String::from("file://");
    for byte in absolute.to_str()?.bytes() {
        if byte.is_ascii_alphanumeric() || b"/-._~!$&'()*+,;=:@".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    Uri::from_str(&encoded).ok()
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_paths_with_spaces_and_unicode() {
        for path in ["/tmp/a b/c.lp", "/tmp/é/ünï.lp", "/x/100%.lp"] {
            let uri = from_path(Path::new(path)).expect("a uri");
            assert!(uri.as_str().starts_with("file:///"), "{}", uri.as_str());
            assert_eq!(to_path(&uri).as_deref(), Some(Path::new(path)));
        }
    }

    #[test]
    fn refuses_other_schemes_and_hosts() {
        for text in ["untitled:Untitled-1", "https://x/y.lp", "file://host/a.lp"] {
            let uri = Uri::from_str(text).expect("a valid uri");
            assert_eq!(to_path(&uri), None, "{text}");
        }
    }
}
