//! Checking `.lp` programs against the user's crate: names, topology, constructor arguments,
//! handle types, courier interfaces. Produces the checked [`model::Package`] that code
//! generation accepts; every problem becomes a diagnostic, all of them in one run.

mod batch;
mod fold;
pub mod model;
mod names;
mod nonblocking;
mod param_type;
mod process;
mod program;
mod scope;
mod settings;
mod types;
mod values;

use crate::diag::{did_you_mean, Code, Diagnostic, Diagnostics, FileId, SourceMap, Span};
use crate::rust::{CrateModel, Visibility};
use crate::syntax::ast;
use std::collections::{BTreeMap, BTreeSet};

/// The path of a `fn` node's generated wrapper type, `{}` standing for its mangled name.
const FNS_MODULE: &str = "crate::__lp::fns::{}";

/// The types a file's `use` items bring into scope, and the names of those that did not resolve.
#[derive(Default)]
pub(crate) struct Imports {
    /// Name → (module path and type name from the crate root, where it was imported).
    resolved: BTreeMap<String, (Vec<String>, Span)>,
    /// Names bound by a `use` reported unresolved: their uses are not reported again.
    broken: BTreeSet<String>,
}

impl Imports {
    /// What `name` was imported as, if its `use` resolved.
    pub fn get(&self, name: &str) -> Option<&(Vec<String>, Span)> {
        self.resolved.get(name)
    }

    /// The names imported by `use` items that resolved.
    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.resolved.keys()
    }

    /// Whether `name` is bound by a `use` that did not resolve (and was reported).
    pub fn is_broken(&self, name: &str) -> bool {
        self.broken.contains(name)
    }
}

/// Checks every program of every file of a package (`sources` holds their text).
pub fn check(
    files: &[(FileId, &ast::File)],
    model: &CrateModel,
    sources: &SourceMap,
    diags: &mut Diagnostics,
) -> model::Package {
    let mut package = model::Package::default();
    let mut program_names: BTreeMap<String, Span> = BTreeMap::new();
    let mut locate = values::Locate::new(sources);
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
            names::check_program(&program.name, model, diags);
            program_names.insert(program.name.name.clone(), program.name.span.clone());
            let mut generated = program::Generated {
                couriers: &mut package.couriers,
                functions: &mut package.functions,
            };
            let mut inputs = program::Inputs {
                imports: &imports,
                model,
                locate: &mut locate,
            };
            let checked = program::check_program(program, &mut inputs, &mut generated, diags);
            package.programs.push(checked);
        }
    }
    handle_targets(model, &mut package, diags);
    batch::check_consistency(&package, diags);
    nonblocking::check(model, diags);
    idle_nodes(&package, diags);
    package
}

/// Warns of nodes that do nothing: no `run`, nothing to serve, and no node holds a handle to
/// them.
fn idle_nodes(package: &model::Package, diags: &mut Diagnostics) {
    for program in &package.programs {
        let mut held = std::collections::BTreeSet::new();
        for node in &program.nodes {
            node.args.iter().for_each(|a| a.value.held(&mut held));
        }
        for node in &program.nodes {
            let serves = package.couriers.iter().any(|c| {
                c.interface.path == node.type_path
                    && (!c.interface.methods.is_empty() || !c.traits.is_empty())
            });
            let serves = serves && node.kind == model::Kind::Courier;
            if node.runner == model::Runner::None && !serves && !held.contains(node.name.as_str()) {
                diags.push(
                    Diagnostic::new(Code::IdleNode, format!("node `{}` does nothing", node.name))
                        .primary(
                            node.span.clone(),
                            "no `run`, no methods, and no node holds its handle",
                        )
                        .help(
                            "implement `lp::Run` for its type, give it `pub fn` methods, or remove it",
                        ),
                );
            }
        }
    }
}

/// Every type named by an `lp::Handle<T>` anywhere in the crate is a courier type, and every
/// trait named by an `lp::Handle<dyn Trait>` a courier trait, whichever programs use them: a
/// crate of node types builds whatever subset of them a program uses.
fn handle_targets(model: &CrateModel, package: &mut model::Package, diags: &mut Diagnostics) {
    // Each type or trait is checked once, at the first handle to it (one mistake, one error).
    let mut seen: std::collections::BTreeSet<(bool, String)> = package
        .couriers
        .iter()
        .map(|c| (false, c.interface.path.clone()))
        .collect();
    for used in &model.handles {
        let path = used.target.path.join("::");
        if !seen.insert((used.target.is_dyn, path.clone())) {
            continue;
        }
        if used.target.is_dyn {
            let Some(tr) = model.trait_at_path(&used.target.path) else {
                continue;
            };
            let why = format!(
                "a handle to `dyn {}` here makes it a courier trait",
                tr.name
            );
            if !courier_trait_usable(tr, &used.span, &why, diags) {
                continue;
            }
            let served = types::Served {
                name: &tr.name,
                is_trait: true,
                at: &used.span,
                why: &why,
                model,
            };
            let interface =
                types::interface(tr.methods.iter(), &served, path, tr.module.clone(), diags);
            package.traits.push(interface);
        } else {
            let Some(ty) = model.type_at_path(&used.target.path) else {
                continue;
            };
            let why = format!("a handle to `{}` here makes it a courier type", ty.name);
            if !types::check_usable(ty, &used.span, &why, diags) {
                continue;
            }
            let served = types::Served {
                name: &ty.name,
                is_trait: false,
                at: &used.span,
                why: &why,
                model,
            };
            let interface =
                types::interface(ty.methods.iter(), &served, path, ty.module.clone(), diags);
            package.couriers.push(model::Courier {
                interface,
                traits: Vec::new(),
            });
        }
    }
    for courier in &mut package.couriers {
        let segments: Vec<String> = courier
            .interface
            .path
            .split("::")
            .map(String::from)
            .collect();
        let Some(ty) = model.type_at_path(&segments) else {
            continue;
        };
        courier.traits = package
            .traits
            .iter()
            .filter(|t| {
                let trait_path: Vec<String> = t.path.split("::").map(String::from).collect();
                ty.implements(&trait_path)
            })
            .map(|t| t.path.clone())
            .collect();
    }
}

/// A courier trait must be `pub` and not generic.
fn courier_trait_usable(
    tr: &crate::rust::TraitDef,
    at: &Span,
    why: &str,
    diags: &mut Diagnostics,
) -> bool {
    if tr.visibility != Visibility::Public {
        diags.push(
            Diagnostic::new(Code::NotPublic, format!("trait `{}` is not `pub`", tr.name))
                .primary(at.clone(), why.to_string())
                .secondary(tr.span.clone(), "defined here")
                .help(format!("declare it `pub trait {}`", tr.name)),
        );
        return false;
    }
    if let Some(generics) = &tr.generics {
        diags.push(
            Diagnostic::new(
                Code::GenericNodeType,
                format!("courier trait `{}` is generic", tr.name),
            )
            .primary(at.clone(), why.to_string())
            .secondary(generics.clone(), "generic parameter declared here")
            .help("courier traits must be concrete: remove the generic parameters"),
        );
        return false;
    }
    true
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
    let mut imports = Imports::default();
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
                imports.broken.insert(import.name.name.clone());
                continue;
            };
            let Some((name, module)) = rest.split_last() else {
                continue;
            };
            if model.type_at(module, name).is_none() && model.function_at(module, name).is_none() {
                let diagnostic = Diagnostic::new(
                    Code::UnresolvedImport,
                    format!("unresolved import `{}`", segments.join("::")),
                );
                let leaf = import.path.last().map_or(&import.path.span, |l| &l.span);
                let mut diagnostic = diagnostic.primary(
                    leaf.clone(),
                    format!("no type or function `{name}` in `{}`", module_name(module)),
                );
                let types = model.types.iter().filter(|t| t.module == module);
                let functions = model.functions.iter().filter(|f| f.module == module);
                let in_module = types
                    .map(|t| t.name.as_str())
                    .chain(functions.map(|f| f.method.name.as_str()));
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
                imports.broken.insert(import.name.name.clone());
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
            imports.resolved.insert(
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
