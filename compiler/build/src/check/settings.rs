//! Checking a node's block (`{ resources { … } env { … } }`): the launcher settings. Their
//! values are expressions like arguments (params and constant arithmetic, no `replica`: a
//! group's replicas share one block).

use std::time::Duration;

use super::model::{Kind, Literal, NumType, ParamType, Restart, Settings, Value};
use super::scope::Entity;
use super::values::{Ctx, Exprs, Limits};
use crate::diag::{did_you_mean, Code, Diagnostic, Diagnostics};
use crate::rust::{IntType, RustType};
use crate::syntax::ast::{self, ExprKind};

use crate::vocabulary::{BLOCK_ENTRIES as SECTIONS, RESOURCES, RESTART_FIELDS};

/// The settings a block asks for; problems are reported and the entry skipped. `kind`: the
/// node's, when it is known.
pub(super) fn check_block(
    block: &ast::Block,
    node: &str,
    kind: Option<Kind>,
    exprs: &mut Exprs,
) -> Settings {
    let mut settings = Settings::default();
    let mut seen: Vec<&ast::Ident> = Vec::new();
    for entry in &block.entries {
        let name = match entry {
            ast::BlockEntry::Section(section) => &section.name,
            ast::BlockEntry::Setting(setting) => &setting.name,
            ast::BlockEntry::Batch(batch) => {
                if let Some(batch) =
                    super::batch::check_entry(batch, &settings.batches, node, exprs)
                {
                    settings.batches.push(batch);
                }
                continue;
            }
        };
        if let Some(first) = seen.iter().find(|s| s.name == name.name) {
            let twice = given_twice(name, first, "block").help("merge the two into one");
            exprs.diags.push(twice);
            continue;
        }
        seen.push(name);
        match (name.name.as_str(), entry) {
            ("resources", ast::BlockEntry::Section(section)) => {
                resources(section, node, &mut settings, exprs)
            }
            ("env", ast::BlockEntry::Section(section)) => env(section, &mut settings, exprs),
            ("restart", ast::BlockEntry::Setting(setting)) => {
                settings.restart = restart(&setting.value, node, exprs)
            }
            ("deadline", ast::BlockEntry::Setting(setting)) => {
                settings.deadline = deadline(setting, node, kind, exprs)
            }
            _ => unknown(name, &SECTIONS, "block entry", exprs.diags),
        }
    }
    settings
}

/// `name`, given in `place` again after `first`.
pub(super) fn given_twice(name: &ast::Ident, first: &ast::Ident, place: &str) -> Diagnostic {
    Diagnostic::new(
        Code::DuplicateName,
        format!("`{}` is given twice in this {place}", name.name),
    )
    .primary(name.span.clone(), "given again here")
    .secondary(first.span.clone(), "first given here")
}

/// The context of a block field's value.
pub(super) fn field_ctx(field: &str, entry: &str, node: &str) -> Ctx<'static> {
    Ctx {
        what: format!("`{field}` of `{entry}` of `{node}`"),
        rust_span: None,
        group: None,
    }
}

/// A number field of a block.
pub(super) fn number_field(
    field: &ast::Arg,
    entry: &str,
    node: &str,
    target: NumType,
    min: Option<i128>,
    exprs: &mut Exprs,
) -> Option<Value> {
    let ctx = field_ctx(&field.name.name, entry, node);
    let limits = Limits { min, max: None };
    exprs.number(&field.value, target, limits, &ctx)
}

/// A field of a block of type `target` (`Duration`, `String`).
pub(super) fn value_field(
    field: &ast::Arg,
    entry: &str,
    node: &str,
    target: &RustType,
    exprs: &mut Exprs,
) -> Option<Value> {
    exprs.value(
        &field.value,
        target,
        &field_ctx(&field.name.name, entry, node),
    )
}

/// `deadline: 2s`: how long callers of a courier wait for its replies.
fn deadline(
    setting: &ast::Arg,
    node: &str,
    kind: Option<Kind>,
    exprs: &mut Exprs,
) -> Option<Value> {
    if kind == Some(Kind::Worker) {
        exprs.diags.push(
            Diagnostic::new(
                Code::DeadlineOnWorker,
                format!("`{node}` is a worker: no one calls it, so no call waits for it"),
            )
            .primary(setting.name.span.clone(), "a call deadline here")
            .help("declare the node `courier`, or remove the `deadline`"),
        );
        return None;
    }
    let ctx = Ctx {
        what: format!("`deadline` of `{node}`"),
        rust_span: None,
        group: None,
    };
    exprs.value(&setting.value, &RustType::Duration, &ctx)
}

/// How long a restart waits when the policy does not say.
const DEFAULT_BACKOFF: Duration = Duration::from_secs(1);

/// `restart: on_failure(max: 3, backoff: 1s)` or `restart: never`.
fn restart(value: &ast::Expr, node: &str, exprs: &mut Exprs) -> Option<Restart> {
    let (name, args) = match &value.kind {
        ExprKind::Call { name, args } => (name, args),
        ExprKind::Name(name) if name.name == "never" => return None,
        ExprKind::Error => return None, // invalid, already reported
        _ => {
            exprs.diags.push(
                Diagnostic::new(Code::ArgumentType, "`restart` expects a restart policy")
                    .primary(value.span.clone(), "not a restart policy")
                    .help("write `restart: on_failure(max: 3, backoff: 1s)` or `restart: never`"),
            );
            return None;
        }
    };
    if name.name != "on_failure" {
        let mut diagnostic = Diagnostic::new(
            Code::UnknownSetting,
            format!("unknown restart policy `{}`", name.name),
        )
        .primary(name.span.clone(), "not known");
        diagnostic = match did_you_mean(&name.name, ["on_failure"]) {
            Some(near) => diagnostic.help(format!("did you mean `{near}`?")),
            None => diagnostic.help("write `on_failure(max: 3, backoff: 1s)` or `never`"),
        };
        exprs.diags.push(diagnostic);
        return None;
    }
    let mut max = None;
    let mut has_max = false;
    let mut backoff = Some(Value::Literal(Literal::Duration(DEFAULT_BACKOFF)));
    for arg in args {
        match arg.name.name.as_str() {
            "max" => {
                // Given, even if wrong: a wrong value is reported, not a missing one.
                has_max = true;
                let target = NumType::Int(IntType::U32);
                max = number_field(arg, "restart", node, target, None, exprs);
            }
            "backoff" => {
                backoff = value_field(arg, "restart", node, &RustType::Duration, exprs);
            }
            _ => unknown(&arg.name, &RESTART_FIELDS, "restart field", exprs.diags),
        }
    }
    if !has_max {
        exprs.diags.push(
            Diagnostic::new(
                Code::MissingArgument,
                "`on_failure` needs `max`, the number of restarts",
            )
            .primary(value.span.clone(), "no `max` given")
            .help("write e.g. `on_failure(max: 3, backoff: 1s)`"),
        );
        return None;
    }
    Some(Restart {
        max: max?,
        backoff: backoff?,
    })
}

pub(super) fn unknown(name: &ast::Ident, known: &[&str], what: &str, diags: &mut Diagnostics) {
    let mut diagnostic = Diagnostic::new(
        Code::UnknownSetting,
        format!("unknown {what} `{}`", name.name),
    )
    .primary(name.span.clone(), "not known");
    diagnostic = match did_you_mean(&name.name, known.iter().copied()) {
        Some(near) => diagnostic.help(format!("did you mean `{near}`?")),
        None => diagnostic.help(format!(
            "write one of {}",
            known
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    };
    diags.push(diagnostic);
}

fn resources(section: &ast::Section, node: &str, settings: &mut Settings, exprs: &mut Exprs) {
    for field in &section.fields {
        match field.name.name.as_str() {
            "cpus" => {
                let target = NumType::Float("f64");
                settings.cpus = number_field(field, "resources", node, target, Some(0), exprs);
            }
            "memory" => {
                let quantity = match &field.value.kind {
                    ExprKind::Str(s) => !s.is_empty(),
                    ExprKind::Name(name) => matches!(
                        exprs.scope.get(&name.name),
                        Some(Entity::Param {
                            ty: ParamType::String,
                            ..
                        })
                    ),
                    _ => false,
                };
                if !quantity {
                    let help = "a string such as `\"2Gi\"` or `\"512Mi\"`, or a `String` param";
                    wrong(field, "a memory quantity", help, exprs.diags);
                    continue;
                }
                settings.memory = value_field(field, "resources", node, &RustType::String, exprs);
            }
            "gpus" => {
                let target = NumType::Int(IntType::U32);
                settings.gpus = number_field(field, "resources", node, target, None, exprs);
            }
            _ => unknown(&field.name, &RESOURCES, "resource", exprs.diags),
        }
    }
}

fn env(section: &ast::Section, settings: &mut Settings, exprs: &mut Exprs) {
    for field in &section.fields {
        let value = match &field.value.kind {
            ExprKind::Str(s) => super::model::EnvValue::Literal(s.clone()),
            ExprKind::Name(name)
                if matches!(
                    exprs.scope.get(&name.name),
                    Some(Entity::Param {
                        ty: ParamType::String,
                        ..
                    })
                ) =>
            {
                super::model::EnvValue::Param(name.name.clone())
            }
            _ => {
                wrong(
                    field,
                    "a string",
                    "a string literal or a `String` param",
                    exprs.diags,
                );
                continue;
            }
        };
        settings.env.push((field.name.name.clone(), value));
    }
}

/// Reports a field of the wrong type, unless its value is invalid (already reported).
pub(super) fn wrong(field: &ast::Arg, expected: &str, help: &str, diags: &mut Diagnostics) {
    if let ExprKind::Error = field.value.kind {
        return;
    }
    diags.push(
        Diagnostic::new(
            Code::ArgumentType,
            format!("`{}` expects {expected}", field.name.name),
        )
        .primary(field.value.span.clone(), format!("expected {expected}"))
        .help(format!("write {help}")),
    );
}
