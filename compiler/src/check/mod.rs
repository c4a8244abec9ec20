//! Checking `.lp` programs against the user's crate: names, topology, constructor arguments,
//! handle types, courier interfaces. Produces the checked [`model::Package`] that code
//! generation accepts; every problem becomes a diagnostic, all of them in one run.

mod args;
mod batch;
pub mod model;
mod param_type;
mod program;
mod scope;
mod settings;
mod types;

use crate::diag::{did_you_mean, Code, Diagnostic, Diagnostics, FileId, Span};
use crate::rust::CrateModel;
use crate::syntax::ast;
use std::collections::BTreeMap;

/// The types a file's `use` items bring into scope: name → (module path and type name from the
/// crate root, where it was imported).
pub(crate) type Imports = BTreeMap<String, (Vec<String>, Span)>;

/// Checks every program of every file of a package.
pub fn check(
    files: &[(FileId, &ast::File)],
    model: &CrateModel,
    diags: &mut Diagnostics,
) -> model::Package {
    let mut package = model::Package::default();
    let mut program_names: BTreeMap<String, Span> = BTreeMap::new();
    for &(id, file) in files {
        let imports = imports(file, model, diags);
        if !file
            .items
            .iter()
            .any(|i| matches!(i, ast::Item::Program(_)))
        {
            no_program(id, diags);
        }
        for item in &file.items {
            let ast::Item::Program(program) = item else {
                continue;
            };
            if let Some(first) = program_names.get(&program.name.name) {
                diags.push(
                    Diagnostic::new(
                        Code::DuplicateProgram,
                        format!(
                            "program `{}` is defined twice in this package",
                            program.name.name
                        ),
                    )
                    .primary(program.name.span.clone(), "defined again here")
                    .secondary(first.clone(), "first defined here")
                    .help("program names are unique per package: rename one"),
                );
                continue;
            }
            program_names.insert(program.name.name.clone(), program.name.span.clone());
            let mut generated = program::Generated {
                couriers: &mut package.couriers,
                functions: &mut package.functions,
            };
            let checked = program::check_program(program, &imports, model, &mut generated, diags);
            package.programs.push(checked);
        }
    }
    batch::check_consistency(&package, diags);
    package
}

/// A file without a program: reported on its first line (there may be nothing else to point at).
fn no_program(file: FileId, diags: &mut Diagnostics) {
    let failed = diags
        .iter()
        .any(|d| d.code.is_syntax() && d.labels.iter().any(|l| l.span.file == file));
    if failed {
        return; // the program may be what failed to parse
    }
    let span = Span::new(file, 0..0);
    diags.push(
        Diagnostic::new(Code::NoProgram, "this file has no `program`")
            .primary(span, "expected a program in this file")
            .help("add `program NAME { … }` with the program's params, nodes and groups"),
    );
}

/// Resolves a file's `use` items against the crate.
fn imports(file: &ast::File, model: &CrateModel, diags: &mut Diagnostics) -> Imports {
    let mut imports = Imports::new();
    for item in &file.items {
        let ast::Item::Use(use_item) = item else {
            continue;
        };
        for import in &use_item.imports {
            let segments: Vec<String> = import
                .path
                .segments
                .iter()
                .map(|s| s.name.clone())
                .collect();
            let Some(("crate", rest)) = segments.split_first().map(|(f, r)| (f.as_str(), r)) else {
                diags.push(
                    Diagnostic::new(
                        Code::UnresolvedImport,
                        format!("unresolved import `{}`", segments.join("::")),
                    )
                    .primary(import.path.span.clone(), "not a path in this crate")
                    .help("node types come from the package's own crate: start the path with `crate::`"),
                );
                continue;
            };
            let Some((name, module)) = rest.split_last() else {
                continue;
            };
            if model.type_at(module, name).is_none() && model.function_at(module, name).is_none() {
                let mut diagnostic = Diagnostic::new(
                    Code::UnresolvedImport,
                    format!("unresolved import `{}`", segments.join("::")),
                )
                .primary(
                    import.path.span.clone(),
                    format!("no type `{name}` in `{}`", module_name(module)),
                );
                let in_module = model
                    .types
                    .iter()
                    .filter(|t| t.module == module)
                    .map(|t| t.name.as_str());
                if let Some(near) = did_you_mean(name, in_module) {
                    diagnostic = diagnostic.help(format!("did you mean `{near}`?"));
                } else if let Some(t) = model.types_named(name).next() {
                    diagnostic = diagnostic
                        .secondary(t.span.clone(), "a type with this name is defined here")
                        .help(format!("write `use {};`", t.path()));
                } else {
                    diagnostic = diagnostic.help(format!(
                        "define `pub struct {name}` in `{}`, or fix the path",
                        module_name(module)
                    ));
                }
                diags.push(diagnostic);
                continue;
            }
            if let Some((_, first)) = imports.get(&import.name.name) {
                diags.push(
                    Diagnostic::new(
                        Code::DuplicateName,
                        format!("`{}` is imported twice", import.name.name),
                    )
                    .primary(import.name.span.clone(), "imported again here")
                    .secondary(first.clone(), "first imported here")
                    .help("remove one import, or rename one with `as`"),
                );
                continue;
            }
            imports.insert(
                import.name.name.clone(),
                (rest.to_vec(), import.name.span.clone()),
            );
        }
    }
    imports
}

fn module_name(module: &[String]) -> String {
    if module.is_empty() {
        "crate".into()
    } else {
        format!("crate::{}", module.join("::"))
    }
}
