//! The rules for names `.lp` declares: each becomes a Rust identifier somewhere (a module, a
//! field, a flag), so some are taken by Rust, by the generated code or by the launcher.
//!
//! Generated code otherwise lives in namespaces no user name can reach (a module per program
//! holding only generated items, `crate::__lp` for the rest, injective manglings), so these
//! few rules are all the reserved names there are; `docs/language.md` lists them.

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::rust::CrateModel;
use crate::syntax::ast;

/// Names no Rust identifier can have, even raw.
const NOT_IDENTIFIERS: [&str; 5] = ["_", "crate", "self", "super", "Self"];

/// The crate-root module generated code keeps its items in.
pub(super) const GENERATED_MODULE: &str = "__lp";

/// Crates every package can name at its root.
const PRELUDE_CRATES: [&str; 4] = ["std", "core", "alloc", "lp"];

/// Checks a node, group or process name.
pub(super) fn check_node_name(name: &ast::Ident, diags: &mut Diagnostics) {
    not_identifier(name, "a node name", diags);
}

/// Checks a param name: it becomes a field and a flag `--NAME`, beside the launcher's own
/// flags, which all start with `lp_` (and `--help`).
pub(super) fn check_param(name: &ast::Ident, diags: &mut Diagnostics) {
    if not_identifier(name, "a param name", diags) {
        return;
    }
    let reason = if name.name == "help" {
        "`--help` prints the program's flags"
    } else if name.name.starts_with("lp_") {
        "flags starting with `--lp_` are the launcher's (`--lp_launch_type`, `--lp_termination_notice_secs`, …)"
    } else {
        return;
    };
    diags.push(
        Diagnostic::new(
            Code::ReservedName,
            format!("param `{}` would be the launcher's flag", name.name),
        )
        .primary(name.span.clone(), "reserved flag name")
        .note(reason)
        .help("rename the param (params may not be named `help` or start with `lp_`)"),
    );
}

/// Checks a program name: it becomes a module at the crate root, beside the crate's own items.
pub(super) fn check_program(name: &ast::Ident, model: &CrateModel, diags: &mut Diagnostics) {
    if not_identifier(name, "a program name", diags) {
        return;
    }
    let taken = if name.name == GENERATED_MODULE {
        Some("the module generated code keeps its items in".to_string())
    } else if model.root_names.contains(&name.name) {
        Some(format!(
            "the crate root already has an item `{}`",
            name.name
        ))
    } else if PRELUDE_CRATES.contains(&name.name.as_str())
        || model.dependencies.contains(&name.name)
    {
        Some(format!(
            "the crate `{}` is named at the crate root (e.g. `lp::include_generated!()`)",
            name.name
        ))
    } else {
        None
    };
    if let Some(taken) = taken {
        diags.push(
            Diagnostic::new(
                Code::ReservedName,
                format!(
                    "program `{}` would clash with an item of the crate root",
                    name.name
                ),
            )
            .primary(
                name.span.clone(),
                format!("becomes the module `crate::{}`", name.name),
            )
            .note(taken)
            .help("rename the program (each program is a module at the crate root)"),
        );
    }
}

/// Reports a name that cannot be a Rust identifier; true when it was reported.
fn not_identifier(name: &ast::Ident, what: &str, diags: &mut Diagnostics) -> bool {
    if !NOT_IDENTIFIERS.contains(&name.name.as_str()) {
        return false;
    }
    diags.push(
        Diagnostic::new(
            Code::ReservedName,
            format!("`{}` cannot be {what}", name.name),
        )
        .primary(name.span.clone(), "not a Rust identifier, even raw")
        .help("choose another name"),
    );
    true
}
