//! Checking a node's block (`{ resources { … } env { … } }`): the launcher settings.

use std::time::Duration;

use super::model::{ParamType, Restart, Settings};
use super::scope::{Entity, ProgramScope};
use crate::diag::{did_you_mean, Code, Diagnostic, Diagnostics};
use crate::syntax::ast::{self, ExprKind};

const SECTIONS: [&str; 4] = ["resources", "env", "restart", "batch"];
const RESOURCES: [&str; 3] = ["cpus", "memory", "gpus"];

/// The settings a block asks for; problems are reported and the entry skipped.
pub(super) fn check_block(
    block: &ast::Block,
    scope: &ProgramScope,
    diags: &mut Diagnostics,
) -> Settings {
    let mut settings = Settings::default();
    let mut seen: Vec<&ast::Ident> = Vec::new();
    for entry in &block.entries {
        let name = match entry {
            ast::BlockEntry::Section(section) => &section.name,
            ast::BlockEntry::Setting(setting) => &setting.name,
            ast::BlockEntry::Batch(batch) => {
                if let Some(batch) = super::batch::check_entry(batch, &settings.batches, diags) {
                    settings.batches.push(batch);
                }
                continue;
            }
        };
        if let Some(first) = seen.iter().find(|s| s.name == name.name) {
            diags.push(
                Diagnostic::new(
                    Code::DuplicateName,
                    format!("`{}` is given twice in this block", name.name),
                )
                .primary(name.span.clone(), "given again here")
                .secondary(first.span.clone(), "first given here")
                .help("merge the two into one"),
            );
            continue;
        }
        seen.push(name);
        match (name.name.as_str(), entry) {
            ("resources", ast::BlockEntry::Section(section)) => {
                resources(section, &mut settings, diags)
            }
            ("env", ast::BlockEntry::Section(section)) => env(section, scope, &mut settings, diags),
            ("restart", ast::BlockEntry::Setting(setting)) => {
                settings.restart = restart(&setting.value, diags)
            }
            _ => unknown(name, &SECTIONS, "block entry", diags),
        }
    }
    settings
}

const RESTART_FIELDS: [&str; 2] = ["max", "backoff"];

/// How long a restart waits when the policy does not say.
const DEFAULT_BACKOFF: Duration = Duration::from_secs(1);

/// `restart: on_failure(max: 3, backoff: 1s)` or `restart: never`.
fn restart(value: &ast::Expr, diags: &mut Diagnostics) -> Option<Restart> {
    let bad = |diags: &mut Diagnostics| {
        diags.push(
            Diagnostic::new(Code::ArgumentType, "`restart` expects a restart policy")
                .primary(value.span.clone(), "not a restart policy")
                .help("write `restart: on_failure(max: 3, backoff: 1s)` or `restart: never`"),
        );
        None
    };
    let (name, args) = match &value.kind {
        ExprKind::Call { name, args } => (name, args),
        ExprKind::Name(name) if name.name == "never" => return None,
        ExprKind::Error => return None, // invalid, already reported
        _ => return bad(diags),
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
        diags.push(diagnostic);
        return None;
    }
    let mut policy = Restart {
        max: 0,
        backoff: DEFAULT_BACKOFF,
    };
    let mut has_max = false;
    for arg in args {
        match (arg.name.name.as_str(), &arg.value.kind) {
            ("max", kind) => {
                // Given, even if wrong: a wrong value is reported, not a missing one.
                has_max = true;
                match kind {
                    ExprKind::Int(n) if u32::try_from(*n).is_ok() => policy.max = *n as u32,
                    _ => wrong(arg, "a number of restarts", "e.g. `max: 3`", diags),
                }
            }
            ("backoff", ExprKind::Duration(d)) => policy.backoff = *d,
            ("backoff", _) => wrong(arg, "a duration", "e.g. `backoff: 1s`", diags),
            _ => unknown(&arg.name, &RESTART_FIELDS, "restart field", diags),
        }
    }
    if !has_max {
        diags.push(
            Diagnostic::new(
                Code::MissingArgument,
                "`on_failure` needs `max`, the number of restarts",
            )
            .primary(value.span.clone(), "no `max` given")
            .help("write e.g. `on_failure(max: 3, backoff: 1s)`"),
        );
        return None;
    }
    Some(policy)
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

fn resources(section: &ast::Section, settings: &mut Settings, diags: &mut Diagnostics) {
    for field in &section.fields {
        let value = &field.value;
        match (field.name.name.as_str(), &value.kind) {
            ("cpus", ExprKind::Int(n)) => settings.cpus = Some(*n as f64),
            ("cpus", ExprKind::Float(f)) if *f >= 0.0 => settings.cpus = Some(*f),
            ("memory", ExprKind::Str(s)) if !s.is_empty() => settings.memory = Some(s.clone()),
            ("gpus", ExprKind::Int(n)) => match u32::try_from(*n) {
                Ok(n) => settings.gpus = Some(n),
                Err(_) => wrong(field, "a number of GPUs", "e.g. `gpus: 1`", diags),
            },
            ("cpus", _) => wrong(
                field,
                "a number of CPUs",
                "e.g. `cpus: 2` or `cpus: 0.5`",
                diags,
            ),
            ("memory", _) => wrong(
                field,
                "a memory quantity",
                "a string such as `\"2Gi\"` or `\"512Mi\"`",
                diags,
            ),
            ("gpus", _) => wrong(field, "a number of GPUs", "e.g. `gpus: 1`", diags),
            _ => unknown(&field.name, &RESOURCES, "resource", diags),
        }
    }
}

fn env(
    section: &ast::Section,
    scope: &ProgramScope,
    settings: &mut Settings,
    diags: &mut Diagnostics,
) {
    for field in &section.fields {
        let value = match &field.value.kind {
            ExprKind::Str(s) => super::model::EnvValue::Literal(s.clone()),
            ExprKind::Name(name)
                if matches!(
                    scope.get(&name.name),
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
                    diags,
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
