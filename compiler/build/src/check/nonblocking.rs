//! `#[lp::nonblocking]` marks: on any function of the crate, what the attribute itself rejects
//! when rustc expands it (so that a package `lpc check` accepts builds), said first and with
//! its place.

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::rust::{CrateModel, Method};

/// Reports each mark given arguments, and each on an `async` function.
pub(super) fn check(model: &CrateModel, diags: &mut Diagnostics) {
    let methods = model.types.iter().flat_map(|t| &t.methods);
    let in_traits = model.traits.iter().flat_map(|t| &t.methods);
    let functions = model.functions.iter().map(|f| &f.method);
    for method in methods.chain(in_traits).chain(functions) {
        if let Some(problem) = misplaced(method) {
            diags.push(problem);
        }
    }
}

/// What is wrong with `method`'s mark, if it has one and something is.
fn misplaced(method: &Method) -> Option<Diagnostic> {
    let mark = method.nonblocking.as_ref()?;
    let bad = |message: String| Diagnostic::new(Code::BadNonblocking, message);
    if mark.with_arguments {
        return Some(
            bad(format!(
                "`#[lp::nonblocking]` on `{}` is given arguments",
                method.name
            ))
            .primary(mark.span.clone(), "it takes none")
            .help("write `#[lp::nonblocking]`"),
        );
    }
    method.is_async.then(|| {
        bad(format!(
            "`{}` is `async`: `#[lp::nonblocking]` marks synchronous methods",
            method.name
        ))
        .primary(mark.span.clone(), "marked here")
        .secondary(method.span.clone(), "an `async fn`")
        .note("an `async` method already runs on the thread that serves its call")
        .help("remove the attribute")
    })
}
