//! References to, and renaming of, what a program declares: params, nodes, groups, processes.
//! Names are program-wide, so every occurrence is in the program's own file. Rust names (types,
//! constructors, functions, their parameters) belong to the crate and are not renamed here.

use super::analysis::Analysis;
use super::lookup::{self, Declaration, Hit};
use lpc_build::diag::Span;
use lpc_build::syntax::ast;

use lpc_build::vocabulary::KEYWORDS;

/// A name declared in a program, and everywhere it is written.
pub struct Occurrences<'a> {
    pub name: &'a str,
    pub program: &'a ast::Program,
    /// Where it is declared (`None`: used but never declared).
    pub declaration: Option<&'a Span>,
    /// Its uses, in source order.
    pub uses: Vec<&'a Span>,
}

impl Occurrences<'_> {
    /// The declaration (when asked for and known) and the uses.
    pub fn spans(&self, with_declaration: bool) -> Vec<&Span> {
        let declaration = self.declaration.filter(|_| with_declaration);
        declaration
            .into_iter()
            .chain(self.uses.iter().copied())
            .collect()
    }
}

/// The program's name at `offset` and its occurrences; `Err` says why what is there cannot be
/// renamed (a Rust name), `Ok(None)` that nothing is.
pub fn at<'a>(analysis: &Analysis<'a>, offset: usize) -> Result<Option<Occurrences<'a>>, String> {
    let (name, program) = match lookup::at(analysis.file, offset) {
        None => return Ok(None),
        Some(Hit::Node { node, program }) => (node.name.name.as_str(), program),
        Some(Hit::Reference { name, program }) => (name.name.as_str(), program),
        Some(Hit::Param(param)) => match analysis.program_at(param.span.range.start) {
            Some(program) => (param.name.name.as_str(), program),
            None => return Ok(None),
        },
        Some(Hit::Process(process)) => match analysis.program_at(process.span.range.start) {
            Some(program) => (process.name.name.as_str(), program),
            None => return Ok(None),
        },
        Some(Hit::Target { node, segment, .. }) => {
            let written = node.target.segments.get(segment).map_or("", |s| &s.name);
            return Err(rust_name(written));
        }
        Some(Hit::Import { import, segment }) => {
            let written = import.path.segments.get(segment).map_or("", |s| &s.name);
            return Err(rust_name(written));
        }
        Some(Hit::Argument { arg, .. }) => return Err(rust_name(&arg.name.name)),
    };
    Ok(Some(occurrences(program, name)))
}

fn rust_name(name: &str) -> String {
    format!("`{name}` is a Rust name: rename it in the crate")
}

/// Every occurrence of `name` in `program`.
fn occurrences<'a>(program: &'a ast::Program, name: &'a str) -> Occurrences<'a> {
    let declaration = match lookup::declaration(program, name) {
        Some(Declaration::Param(p)) => Some(&p.name.span),
        Some(Declaration::Node(n)) => Some(&n.name.span),
        None => lookup::process(program, name).map(|p| &p.name.span),
    };
    let uses = lookup::uses(program)
        .into_iter()
        .filter(|i| i.name == name)
        .map(|i| &i.span)
        .collect();
    Occurrences {
        name,
        program,
        declaration,
        uses,
    }
}

/// Why `new_name` cannot replace the name of `occurrences`, if it cannot.
pub fn refuse(occurrences: &Occurrences, new_name: &str) -> Option<String> {
    let mut chars = new_name.chars();
    let starts = chars.next().is_some_and(|c| c == '_' || c.is_alphabetic());
    if !starts || !chars.all(|c| c == '_' || c.is_alphanumeric()) {
        return Some(format!("`{new_name}` is not a name"));
    }
    if KEYWORDS.contains(&new_name) {
        return Some(format!("`{new_name}` is a keyword"));
    }
    if occurrences.declaration.is_none() {
        return Some(format!(
            "`{}` is not declared in this program",
            occurrences.name
        ));
    }
    let taken = lookup::declaration(occurrences.program, new_name).is_some()
        || lookup::process(occurrences.program, new_name).is_some();
    (taken && new_name != occurrences.name).then(|| {
        format!(
            "`{new_name}` is already declared in program `{}`",
            occurrences.program.name.name
        )
    })
}
