//! `#[lp::nonblocking]` marks: on any function of the crate, what the attribute itself rejects
//! when rustc expands it (so that a package `lpc check` accepts builds), said first and with
//! its place; and the marks that change nothing, where no courier method can be.

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::rust::{CrateModel, Method, Receiver};

/// Reports each mark given arguments or on an `async` function (errors), and each on what can
/// never be a courier method (warnings).
pub(super) fn check(model: &CrateModel, diags: &mut Diagnostics) {
    let methods = model.types.iter().flat_map(|t| &t.methods);
    let in_traits = model.traits.iter().flat_map(|t| &t.methods);
    let functions = model.functions.iter().map(|f| &f.method);
    for (method, servable) in methods
        .map(|m| (m, m.is_callable()))
        .chain(in_traits.map(|m| (m, m.receiver == Receiver::Ref)))
        .chain(functions.map(|m| (m, false)))
    {
        let problem = match misplaced(method) {
            Some(problem) => Some(problem),
            None if servable => None,
            None => idle(method),
        };
        if let Some(problem) = problem {
            diags.push(problem);
        }
    }
    for marked in &model.impl_marks {
        let problem = misplaced(&marked.method);
        if let Some(problem) = problem.or_else(|| in_impl(&marked.method, &marked.trait_name)) {
            diags.push(problem);
        }
    }
}

/// The error, if `method` is marked with arguments or is an `async` function.
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

/// The warning, if `method` is marked and can never be a courier method (not a `pub fn`
/// taking `&self`).
fn idle(method: &Method) -> Option<Diagnostic> {
    let mark = method.nonblocking.as_ref()?;
    let warning = Diagnostic::new(
        Code::IdleNonblocking,
        format!("`#[lp::nonblocking]` on `{}` changes nothing", method.name),
    )
    .primary(mark.span.clone(), "marked here")
    .secondary(method.span.clone(), "not a courier method")
    .note("the mark runs a synchronous courier method (a `pub fn` taking `&self`) where its call is served; constructors, `run` and `fn` nodes run where they always do")
    .help("remove the attribute");
    Some(warning)
}

/// The warning for a marked method of `impl Trait for Type`.
fn in_impl(method: &Method, trait_name: &str) -> Option<Diagnostic> {
    let mark = method.nonblocking.as_ref()?;
    let warning = Diagnostic::new(
        Code::IdleNonblocking,
        format!(
            "`#[lp::nonblocking]` on `{}` of an `impl {trait_name}` changes nothing",
            method.name
        ),
    )
    .primary(mark.span.clone(), "marked here")
    .note(format!(
        "calls through `dyn {trait_name}` run as the trait's declaration of `{}` says",
        method.name
    ))
    .help(format!(
        "mark `{}` in `trait {trait_name}` instead (every implementation then runs it in place)",
        method.name
    ));
    Some(warning)
}
