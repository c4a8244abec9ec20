//! Checking a node's block (`{ resources { … } env { … } }`): the launcher settings.

use super::model::{ParamType, Settings};
use super::scope::{Entity, ProgramScope};
use crate::diag::{did_you_mean, Code, Diagnostic, Diagnostics, Span};
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
            ast::BlockEntry::Batch(_) => {
                not_yet(entry.span(), "`batch` handlers", diags);
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
            ("restart", _) => not_yet(entry.span(), "`restart` policies", diags),
            _ => unknown(name, &SECTIONS, "block entry", diags),
        }
    }
    settings
}

fn not_yet(span: &Span, what: &str, diags: &mut Diagnostics) {
    diags.push(
        Diagnostic::new(Code::Unsupported, format!("{what} are not supported yet"))
            .primary(span.clone(), "not supported yet")
            .help("remove this entry; `resources` and `env` are supported"),
    );
}

fn unknown(name: &ast::Ident, known: &[&str], what: &str, diags: &mut Diagnostics) {
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

fn wrong(field: &ast::Arg, expected: &str, help: &str, diags: &mut Diagnostics) {
    diags.push(
        Diagnostic::new(
            Code::ArgumentType,
            format!("`{}` expects {expected}", field.name.name),
        )
        .primary(field.value.span.clone(), format!("expected {expected}"))
        .help(format!("write {help}")),
    );
}
