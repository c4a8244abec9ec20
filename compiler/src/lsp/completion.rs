//! Completion at the cursor's place (`lsp/context.rs`): keywords, node kinds, the crate's types
//! (couriers first after `courier`), constructors, functions, module members, argument names with
//! their Rust types, the program's params, nodes and groups as values, block entries and fields,
//! and the methods `batch` can name.

use super::analysis::Analysis;
use super::context::{self, Call, Decl, Place, Value};
use super::hover::{signature, tidy};
use super::lookup;
use super::position::{LineIndex, LspPositions as _};
use lpc_build::rust::{Receiver, TypeDef, Visibility};
use lpc_build::syntax::ast::{self, NodeKind};
use lsp_types::{CompletionItem, CompletionItemKind as Kind, CompletionTextEdit, TextEdit};
use std::collections::BTreeSet;

use lpc_build::vocabulary::{PARAM_TYPES, PROCESS_SETTINGS};

/// The completions at byte `offset`.
pub fn complete(analysis: &Analysis, offset: usize) -> Vec<CompletionItem> {
    let Some(cursor) = context::at(analysis.text, offset) else {
        return Vec::new();
    };
    let mut items = match &cursor.place {
        Place::TopItem => keywords(&["use", "program"]),
        Place::ProgramItem => keywords(&["param", "node", "group", "process"]),
        Place::ProcessItem => {
            let mut items = keywords(&["node", "group"]);
            items.extend(PROCESS_SETTINGS.iter().map(|name| {
                let detail = "end the process with its first finished node".into();
                detailed(name, Kind::PROPERTY, detail, format!("{name}: true;"), 0)
            }));
            items
        }
        Place::Kind => keywords(&["courier", "worker", "fn"]),
        Place::ParamType => PARAM_TYPES
            .iter()
            .map(|t| item(t, Kind::TYPE_PARAMETER))
            .collect(),
        Place::Target { kind, written } => target(analysis, *kind, written),
        Place::UsePath { written } if written.is_empty() => vec![item("crate", Kind::MODULE)],
        Place::UsePath { written } => members(analysis, written),
        Place::Argument(call) => arguments(analysis, call),
        Place::Value(value) => values(analysis, value, offset),
        Place::BlockEntry(decl) => block_entries(decl),
        Place::BatchMethod(decl) => batch_methods(analysis, decl),
        Place::Field { section } => fields(section),
    };
    let range = LineIndex::new(analysis.text).range(cursor.prefix);
    for item in &mut items {
        let text = item
            .insert_text
            .take()
            .unwrap_or_else(|| item.label.clone());
        item.text_edit = Some(CompletionTextEdit::Edit(TextEdit::new(range, text)));
    }
    items
}

fn item(label: &str, kind: Kind) -> CompletionItem {
    CompletionItem {
        label: label.to_string(),
        kind: Some(kind),
        ..CompletionItem::default()
    }
}

/// An item with a detail, inserting `insert`, sorted by `rank` (lower first).
fn detailed(label: &str, kind: Kind, detail: String, insert: String, rank: u8) -> CompletionItem {
    CompletionItem {
        detail: Some(detail),
        insert_text: Some(insert),
        sort_text: Some(format!("{rank}{label}")),
        ..item(label, kind)
    }
}

fn keywords(words: &[&str]) -> Vec<CompletionItem> {
    words.iter().map(|w| item(w, Kind::KEYWORD)).collect()
}

/// After a kind: types (or functions for `fn`), `crate`; after `Type::`, its constructors;
/// after a module path, what the module holds.
fn target(analysis: &Analysis, kind: NodeKind, written: &[String]) -> Vec<CompletionItem> {
    if written.is_empty() {
        let mut items = vec![detailed(
            "crate",
            Kind::MODULE,
            "the crate root".into(),
            "crate".into(),
            3,
        )];
        if kind == NodeKind::Fn {
            items.extend(functions(analysis));
        } else {
            items.extend(types(analysis, kind));
        }
        return items;
    }
    if kind != NodeKind::Fn {
        if let Some(def) = analysis.written_type(written) {
            return constructors(def);
        }
    }
    analysis
        .full_path(written)
        .map(|full| members(analysis, &full))
        .unwrap_or_default()
}

/// The bound name a `use` of the document gives the item at `full`, if any.
fn imported_as(analysis: &Analysis, full: &[String]) -> Option<String> {
    analysis.file.items.iter().find_map(|item| match item {
        ast::Item::Use(u) => u
            .imports
            .iter()
            .find(|i| i.path.segments.iter().map(|s| &s.name).eq(full.iter()))
            .map(|i| i.name.name.clone()),
        ast::Item::Program(_) => None,
    })
}

/// The crate's public types: by their imported name, else by their full path; for `courier`,
/// those with callable methods first; for `worker`, those that run first.
fn types(analysis: &Analysis, kind: NodeKind) -> Vec<CompletionItem> {
    let Some(model) = analysis.model() else {
        return Vec::new();
    };
    let public = model
        .types
        .iter()
        .filter(|t| t.visibility == Visibility::Public);
    public
        .map(|def| {
            let fits = match kind {
                NodeKind::Courier => callable(def).next().is_some(),
                _ => def.implements_runtime("Run") || def.implements_runtime("BlockingRun"),
            };
            let insert = imported_as(analysis, &def.segments()).unwrap_or_else(|| def.path());
            let rank = if fits { 0 } else { 1 };
            detailed(&def.name, Kind::STRUCT, def.path(), insert, rank)
        })
        .collect()
}

/// The crate's public free functions, by imported name or full path.
fn functions(analysis: &Analysis) -> Vec<CompletionItem> {
    let Some(model) = analysis.model() else {
        return Vec::new();
    };
    let public = model
        .functions
        .iter()
        .filter(|f| f.method.visibility == Visibility::Public);
    public
        .map(|f| {
            let mut full = vec!["crate".to_string()];
            full.extend(f.module.iter().cloned());
            full.push(f.method.name.clone());
            let insert = imported_as(analysis, &full).unwrap_or_else(|| f.path());
            let shown = signature(&f.method, &f.method.name);
            detailed(&f.method.name, Kind::FUNCTION, shown, insert, 0)
        })
        .collect()
}

/// A type's public associated functions (its constructors).
fn constructors(def: &TypeDef) -> Vec<CompletionItem> {
    def.methods
        .iter()
        .filter(|m| m.visibility == Visibility::Public && m.receiver == Receiver::None)
        .map(|m| {
            detailed(
                &m.name,
                Kind::CONSTRUCTOR,
                signature(m, &m.name),
                m.name.clone(),
                0,
            )
        })
        .collect()
}

/// The public methods a handle to a courier of type `def` can call.
fn callable(def: &TypeDef) -> impl Iterator<Item = &lpc_build::rust::Method> {
    def.methods.iter().filter(|m| m.is_callable())
}

/// What the module at `full` (`crate::nodes`) holds: its submodules, types and functions.
fn members(analysis: &Analysis, full: &[String]) -> Vec<CompletionItem> {
    let (Some(model), Some(("crate", module))) = (
        analysis.model(),
        full.split_first().map(|(f, rest)| (f.as_str(), rest)),
    ) else {
        return Vec::new();
    };
    let modules = model
        .types
        .iter()
        .map(|t| &t.module)
        .chain(model.functions.iter().map(|f| &f.module));
    let submodules: BTreeSet<&String> = modules
        .filter(|m| m.len() > module.len() && m.starts_with(module))
        .map(|m| &m[module.len()])
        .collect();
    let mut items: Vec<CompletionItem> = submodules
        .into_iter()
        .map(|m| item(m, Kind::MODULE))
        .collect();
    let here = model.types.iter().filter(|t| t.module == module);
    items.extend(here.map(|t| detailed(&t.name, Kind::STRUCT, t.path(), t.name.clone(), 0)));
    let functions = model.functions.iter().filter(|f| f.module == module);
    items.extend(functions.map(|f| {
        let shown = signature(&f.method, &f.method.name);
        detailed(
            &f.method.name,
            Kind::FUNCTION,
            shown,
            f.method.name.clone(),
            0,
        )
    }));
    items
}

/// The callee's parameters not given yet, as `name: ` with their Rust types.
fn arguments(analysis: &Analysis, call: &Call) -> Vec<CompletionItem> {
    let Some(callee) = call
        .decl
        .kind
        .and_then(|k| analysis.callee(k, &call.decl.target))
    else {
        return Vec::new();
    };
    callee
        .params
        .iter()
        .filter(|p| !p.is_pattern && p.ty != lpc_build::rust::RustType::Context)
        .filter(|p| !call.given.contains(&p.name))
        .enumerate()
        .map(|(i, p)| {
            let rank = u8::try_from(i.min(9)).unwrap_or(9);
            detailed(
                &p.name,
                Kind::FIELD,
                tidy(&p.ty.display()),
                format!("{}: ", p.name),
                rank,
            )
        })
        .collect()
}

/// The program's params, nodes and groups, `replica`/`replicas` in a group's arguments, and the
/// policies of `restart`.
fn values(analysis: &Analysis, value: &Value, offset: usize) -> Vec<CompletionItem> {
    if value.setting.as_deref() == Some("restart") {
        return vec![
            detailed(
                "on_failure",
                Kind::FUNCTION,
                "restart a failed node".into(),
                "on_failure(max: 3, backoff: 1s)".into(),
                0,
            ),
            detailed(
                "never",
                Kind::KEYWORD,
                "do not restart".into(),
                "never".into(),
                0,
            ),
        ];
    }
    let mut items = Vec::new();
    if let Some(program) = analysis.program_at(offset) {
        for item in &program.items {
            if let ast::ProgramItem::Param(p) = item {
                let detail = format!("param: {}", p.ty.name);
                items.push(detailed(
                    &p.name.name,
                    Kind::CONSTANT,
                    detail,
                    p.name.name.clone(),
                    0,
                ));
            }
        }
        for node in lookup::nodes(program) {
            let what = if node.is_group() { "group" } else { "node" };
            let detail = format!("{what} = {} {}", node.kind.as_str(), node.target);
            items.push(detailed(
                &node.name.name,
                Kind::VARIABLE,
                detail,
                node.name.name.clone(),
                0,
            ));
        }
    }
    if value.replica {
        items.extend(keywords(&["replica", "replicas"]));
    }
    items.extend(keywords(&["true", "false"]));
    items
}

/// The entries of a node's block (`batch` only for a courier).
fn block_entries(decl: &Decl) -> Vec<CompletionItem> {
    let mut entries = vec![
        (
            "resources",
            "resources { cpus: 1, memory: \"1Gi\" }",
            "cluster resources",
        ),
        (
            "env",
            "env { }",
            "environment variables of the node's process",
        ),
        (
            "restart",
            "restart: ",
            "rebuild a failed node: on_failure(…) or never",
        ),
    ];
    if decl.kind == Some(NodeKind::Courier) {
        entries.push(("deadline", "deadline: ", "how long a call may take"));
        entries.push(("batch", "batch ", "batch the calls of a method"));
    }
    entries
        .into_iter()
        .map(|(label, insert, detail)| {
            detailed(label, Kind::PROPERTY, detail.into(), insert.into(), 0)
        })
        .collect()
}

/// The methods `batch` may name: the courier type's callable methods.
fn batch_methods(analysis: &Analysis, decl: &Decl) -> Vec<CompletionItem> {
    let type_path = decl
        .target
        .split_last()
        .map_or(&[][..], |(_, parent)| parent);
    let Some(def) = analysis.written_type(type_path) else {
        return Vec::new();
    };
    callable(def)
        .map(|m| {
            detailed(
                &m.name,
                Kind::METHOD,
                signature(m, &m.name),
                m.name.clone(),
                0,
            )
        })
        .collect()
}

/// The fields of a block section, of `batch`, or of `on_failure`.
fn fields(section: &str) -> Vec<CompletionItem> {
    let names: &[(&str, &str)] = match section {
        "resources" => &[("cpus", "u32"), ("memory", "\"2Gi\""), ("gpus", "u32")],
        "batch" => &[
            ("size", "usize"),
            ("timeout", "Duration"),
            ("max_parallelism", "usize"),
        ],
        "on_failure" => &[("max", "u32: restarts"), ("backoff", "Duration")],
        _ => &[],
    };
    names
        .iter()
        .map(|(name, detail)| detailed(name, Kind::FIELD, (*detail).into(), format!("{name}: "), 0))
        .collect()
}
