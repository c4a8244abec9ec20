//! Signature help in a constructor (or `fn` node) call: the Rust signature, with the argument
//! being written highlighted — the one named before the cursor, else the first not given yet.

use super::analysis::Analysis;
use super::context::{self, Place};
use super::hover::{signature, tidy};
use lsp_types::{ParameterInformation, ParameterLabel, SignatureHelp, SignatureInformation};

/// The signature help at byte `offset`, if it is in a call.
pub fn help(analysis: &Analysis, offset: usize) -> Option<SignatureHelp> {
    let call = match context::at(analysis.text, offset)?.place {
        Place::Argument(call) => call,
        Place::Value(value) => value.call?,
        _ => return None,
    };
    let kind = call.decl.kind?;
    let callee = analysis.callee(kind, &call.decl.target)?;
    let label = signature(callee, &call.decl.target.join("::"));
    let mut from = label.find('(').map_or(0, |i| i + 1);
    let parameters = callee
        .params
        .iter()
        .map(|p| {
            let text = format!("{}: {}", p.name, tidy(&p.ty.display()));
            let (start, end) = match label.get(from..).and_then(|rest| rest.find(&text)) {
                Some(i) => (from + i, from + i + text.len()),
                None => (from, from),
            };
            from = end;
            ParameterInformation {
                label: ParameterLabel::LabelOffsets([
                    utf16(label.get(..start).unwrap_or("")),
                    utf16(label.get(..end).unwrap_or("")),
                ]),
                documentation: None,
            }
        })
        .collect();
    let active = match &call.current {
        Some(name) => callee.params.iter().position(|p| &p.name == name),
        None => callee
            .params
            .iter()
            .position(|p| !call.given.contains(&p.name)),
    };
    let active = active.and_then(|i| u32::try_from(i).ok());
    Some(SignatureHelp {
        signatures: vec![SignatureInformation {
            label,
            documentation: None,
            parameters: Some(parameters),
            active_parameter: active,
        }],
        active_signature: Some(0),
        active_parameter: active,
    })
}

fn utf16(text: &str) -> u32 {
    u32::try_from(text.encode_utf16().count()).unwrap_or(u32::MAX)
}
