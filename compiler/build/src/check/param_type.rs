//! E0306, a param type that is not supported: the supported types, and what to write instead of
//! another (`std::time::Duration` → `Duration`, `&str` → `String`, `u23` → `u32`).

use crate::diag::{did_you_mean, Code, Diagnostic};
use crate::syntax::ast;

use crate::vocabulary::PARAM_TYPES as SUPPORTED;

/// The diagnostic for a param whose type, as written, is not supported.
pub(super) fn unsupported(param: &ast::Param) -> Diagnostic {
    let ty = &param.ty;
    let list = SUPPORTED.map(|t| format!("`{t}`")).join(", ");
    let diagnostic = Diagnostic::new(
        Code::UnsupportedParamType,
        format!("param type `{}` is not supported", ty.name),
    )
    .primary(ty.span.clone(), "unsupported type");
    if let Some(inner) = optional(&ty.name) {
        return diagnostic
            .help(format!(
                "write `param {}: {inner} = …;` with a default, or without one to make the flag \
                 required: a param always has a value",
                param.name.name
            ))
            .note(format!("a param's type is one of {list}"));
    }
    match suggestion(&ty.name) {
        Some(help) => diagnostic
            .help(help)
            .note(format!("a param's type is one of {list}")),
        None => diagnostic.help(format!("use one of {list}")),
    }
}

/// The supported type inside `Option<…>`, if that is what `written` is.
fn optional(written: &str) -> Option<&'static str> {
    let inner = written.strip_prefix("Option<")?.strip_suffix('>')?.trim();
    SUPPORTED.into_iter().find(|&t| t == inner)
}

/// What to write instead of `written` when a supported type is near: the type behind a
/// reference or a path (`&str`, `std::time::Duration`), or a near spelling (`u23`, `string`).
fn suggestion(written: &str) -> Option<String> {
    let mut core = written.trim();
    let mut referent = false;
    if let Some(rest) = core.strip_prefix('&') {
        referent = true;
        core = rest.trim_start();
        if let Some(lifetime) = core.strip_prefix('\'') {
            core = lifetime
                .split_once(char::is_whitespace)
                .map_or("", |(_, rest)| rest.trim_start());
        }
        core = core.strip_prefix("mut ").unwrap_or(core).trim_start();
    }
    let mut path = false;
    if !core.contains(['<', '[', '(']) {
        if let Some((_, last)) = core.rsplit_once("::") {
            (core, path) = (last, true);
        }
    }
    let supported = |t: &str| SUPPORTED.into_iter().find(|&s| s == t);
    let why = match (referent, path) {
        (true, _) => ": a param holds its own value, not a reference",
        (false, true) => ": param types are written without a path",
        (false, false) => {
            return did_you_mean(core, SUPPORTED).map(|t| format!("did you mean `{t}`?"))
        }
    };
    let ty = if core == "str" {
        Some("String")
    } else {
        supported(core)
    };
    ty.map(|t| format!("write `{t}`{why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        for (written, expected) in [
            (
                "std::time::Duration",
                Some("write `Duration`: param types are written without a path"),
            ),
            (
                "core::primitive::u32",
                Some("write `u32`: param types are written without a path"),
            ),
            (
                "&str",
                Some("write `String`: a param holds its own value, not a reference"),
            ),
            (
                "&'static str",
                Some("write `String`: a param holds its own value, not a reference"),
            ),
            (
                "&mut u64",
                Some("write `u64`: a param holds its own value, not a reference"),
            ),
            ("u23", Some("did you mean `u32`?")),
            ("string", Some("did you mean `String`?")),
            ("std::vec::Vec", None),
            ("Vec<u8>", None),
            ("[u8; 4]", None),
            ("(u8, u8)", None),
            ("HashMap<String, u32>", None),
        ] {
            assert_eq!(suggestion(written).as_deref(), expected, "{written}");
        }
        assert_eq!(optional("Option<u32>"), Some("u32"));
        assert_eq!(optional("Option<Vec<u8>>"), None);
    }
}
