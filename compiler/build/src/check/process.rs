//! Checking the settings of `process` blocks (`return_on_first_completed: true;`).

use super::settings::{given_twice, unknown};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::syntax::ast::{self, ExprKind};

use crate::vocabulary::PROCESS_SETTINGS as SETTINGS;

/// The names of the `process` blocks of `program` that end with their first finished node.
pub(super) fn first_completed(program: &ast::Program, diags: &mut Diagnostics) -> Vec<String> {
    let mut ending = Vec::new();
    for item in &program.items {
        let ast::ProgramItem::Process(process) = item else {
            continue;
        };
        let mut seen: Vec<&ast::Ident> = Vec::new();
        for setting in &process.settings {
            if let Some(first) = seen.iter().find(|s| s.name == setting.name.name) {
                diags.push(given_twice(&setting.name, first, "process").help("keep one"));
                continue;
            }
            seen.push(&setting.name);
            if setting.name.name != SETTINGS[0] {
                unknown(&setting.name, &SETTINGS, "process setting", diags);
                continue;
            }
            match setting.value.kind {
                ExprKind::Bool(true) => ending.push(process.name.name.clone()),
                ExprKind::Bool(false) | ExprKind::Error => {}
                _ => diags.push(
                    Diagnostic::new(
                        Code::ArgumentType,
                        "`return_on_first_completed` is `true` or `false`",
                    )
                    .primary(setting.value.span.clone(), "not `true` or `false`")
                    .help("write `return_on_first_completed: true;`"),
                ),
            }
        }
    }
    ending
}
