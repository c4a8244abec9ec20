//! `#[lp::nonblocking]` marks: on any function of the crate, what the attribute itself rejects
//! when rustc expands it (so that a package `lpc check` accepts builds), said first and with
//! its place; and the marks that change nothing, where no courier method can be.

use crate::diag::{Code, Diagnostic, Diagnostics, Span};
use crate::rust::{CrateModel, NonblockingMark, Receiver, Visibility};

/// Reports each mark given arguments or on an `async` function (errors), and each on what can
/// never be a courier method (warnings).
pub(super) fn check(model: &CrateModel, diags: &mut Diagnostics) {
    let methods = model.types.iter().flat_map(|t| &t.methods);
    let in_traits = model.traits.iter().flat_map(|t| &t.methods);
    let functions = model.functions.iter().map(|f| &f.method);
    for (method, servable) in methods
        .map(|m| {
            (
                m,
                m.visibility == Visibility::Public && m.receiver == Receiver::Ref,
            )
        })
        .chain(in_traits.map(|m| (m, m.receiver == Receiver::Ref)))
        .chain(functions.map(|m| (m, false)))
    {
        let Some(mark) = &method.nonblocking else {
            continue;
        };
        let marked = Marked {
            name: &method.name,
            span: &method.span,
            is_async: method.is_async,
            mark,
        };
        let problem = match marked.misplaced() {
            Some(problem) => Some(problem),
            None if servable => None,
            None => Some(marked.idle()),
        };
        if let Some(problem) = problem {
            diags.push(problem);
        }
    }
    for in_impl in &model.impl_marks {
        let marked = Marked {
            name: &in_impl.method,
            span: &in_impl.method_span,
            is_async: in_impl.is_async,
            mark: &in_impl.mark,
        };
        diags.push(
            marked
                .misplaced()
                .unwrap_or_else(|| marked.in_impl(&in_impl.trait_name)),
        );
    }
}

/// A function marked `#[lp::nonblocking]`.
struct Marked<'a> {
    name: &'a str,
    /// Its name's.
    span: &'a Span,
    is_async: bool,
    mark: &'a NonblockingMark,
}

impl Marked<'_> {
    /// The error, if the mark is given arguments or marks an `async` function.
    fn misplaced(&self) -> Option<Diagnostic> {
        let bad = |message: String| Diagnostic::new(Code::BadNonblocking, message);
        if self.mark.with_arguments {
            return Some(
                bad(format!(
                    "`#[lp::nonblocking]` on `{}` is given arguments",
                    self.name
                ))
                .primary(self.mark.span.clone(), "it takes none")
                .help("write `#[lp::nonblocking]`"),
            );
        }
        self.is_async.then(|| {
            bad(format!(
                "`{}` is `async`: `#[lp::nonblocking]` marks synchronous methods",
                self.name
            ))
            .primary(self.mark.span.clone(), "marked here")
            .secondary(self.span.clone(), "an `async fn`")
            .note("an `async` method already runs on the thread that serves its call")
            .help("remove the attribute")
        })
    }

    /// The warning for a mark on what can never be a courier method (not a `pub fn` taking
    /// `&self`).
    fn idle(&self) -> Diagnostic {
        Diagnostic::new(
            Code::IdleNonblocking,
            format!("`#[lp::nonblocking]` on `{}` changes nothing", self.name),
        )
        .primary(self.mark.span.clone(), "marked here")
        .secondary(self.span.clone(), "not a courier method")
        .note("the mark runs a synchronous courier method (a `pub fn` taking `&self`) where its call is served; constructors, `run` and `fn` nodes run where they always do")
        .help("remove the attribute")
    }

    /// The warning for a mark on a method of `impl Trait for Type`.
    fn in_impl(&self, trait_name: &str) -> Diagnostic {
        Diagnostic::new(
            Code::IdleNonblocking,
            format!(
                "`#[lp::nonblocking]` on `{}` of an `impl {trait_name}` changes nothing",
                self.name
            ),
        )
        .primary(self.mark.span.clone(), "marked here")
        .note(format!(
            "calls through `dyn {trait_name}` run as the trait's declaration of `{}` says",
            self.name
        ))
        .help(format!(
            "mark `{}` in `trait {trait_name}` instead (every implementation then runs it in place)",
            self.name
        ))
    }
}
