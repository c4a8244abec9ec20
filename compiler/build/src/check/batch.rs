//! Batched handlers: `batch METHOD { size: 8, timeout: 200ms, max_parallelism: 1 }` in a
//! courier node's block. The method must take one `Vec<I>` and return a `Vec<O>` (or
//! `Result<Vec<O>, E>`); callers then send one `I` and get one `O`. Because the client of a
//! courier type is generated once, every node of that type must batch the same methods.

use std::time::Duration;

use super::model::{
    BatchSetting, BatchShape, Courier, CourierMethod, Kind, Literal, NumType, Output, Package,
    Value,
};
use super::settings::{number_field, unknown, value_field};
use super::values::Exprs;
use crate::diag::{did_you_mean, Code, Diagnostic, Diagnostics};
use crate::rust::{vec_element, IntType, RustType};
use crate::syntax::ast;

use crate::vocabulary::BATCH_FIELDS as FIELDS;

/// How long a partial batch waits when the entry does not say.
const DEFAULT_TIMEOUT: Duration = Duration::from_millis(100);

/// Checks one `batch` entry's fields (the method is checked against the type later).
pub(super) fn check_entry(
    batch: &ast::Batch,
    earlier: &[BatchSetting],
    node: &str,
    exprs: &mut Exprs,
) -> Option<BatchSetting> {
    if let Some(first) = earlier.iter().find(|b| b.method == batch.method.name) {
        exprs.diags.push(
            Diagnostic::new(
                Code::DuplicateName,
                format!("`{}` is batched twice in this block", batch.method.name),
            )
            .primary(batch.method.span.clone(), "batched again here")
            .secondary(first.span.clone(), "first batched here")
            .help("merge the two entries into one"),
        );
        return None;
    }
    let entry = format!("batch {}", batch.method.name);
    let count = NumType::Int(IntType::Usize);
    let mut size = None;
    let mut has_size = false;
    let mut timeout = Some(Value::Literal(Literal::Duration(DEFAULT_TIMEOUT)));
    let mut max_parallelism = Some(Value::Literal(Literal::Int(1)));
    for field in &batch.fields {
        match field.name.name.as_str() {
            "size" => {
                has_size = true;
                size = number_field(field, &entry, node, count, Some(1), exprs);
            }
            "max_parallelism" => {
                max_parallelism = number_field(field, &entry, node, count, Some(1), exprs);
            }
            "timeout" => {
                timeout = value_field(field, &entry, node, &RustType::Duration, exprs);
            }
            _ => unknown(&field.name, &FIELDS, "batch field", exprs.diags),
        }
    }
    if !has_size {
        exprs.diags.push(
            Diagnostic::new(
                Code::MissingArgument,
                format!("`batch {}` needs a `size`", batch.method.name),
            )
            .primary(batch.span.clone(), "no `size` given")
            .help("write e.g. `batch compute { size: 8, timeout: 200ms }`"),
        );
        return None;
    }
    // A field that did not check is reported already; the entry still counts as given (its
    // method is batched), so that no second error follows from the first.
    let one = || Value::Literal(Literal::Int(1));
    Some(BatchSetting {
        method: batch.method.name.clone(),
        span: batch.method.span.clone(),
        size: size.unwrap_or_else(one),
        timeout: timeout.unwrap_or(Value::Literal(Literal::Duration(DEFAULT_TIMEOUT))),
        max_parallelism: max_parallelism.unwrap_or_else(one),
    })
}

/// Checks that a node's batched methods exist on its courier type and take and return a `Vec`;
/// marks them batched in the courier's interface.
pub(super) fn check_methods(
    batches: &[BatchSetting],
    kind: Kind,
    courier: Option<&mut Courier>,
    diags: &mut Diagnostics,
) {
    let Some(first) = batches.first() else {
        return;
    };
    let courier = match (kind, courier) {
        (Kind::Courier, Some(courier)) => &mut courier.interface,
        _ => {
            diags.push(
                Diagnostic::new(Code::BadBatch, "only courier nodes have batched methods")
                    .primary(first.span.clone(), "batched here")
                    .help("declare the node `courier`, or remove the `batch` entry"),
            );
            return;
        }
    };
    for batch in batches {
        let Some(method) = courier.methods.iter_mut().find(|m| m.name == batch.method) else {
            let mut diagnostic = Diagnostic::new(
                Code::BadBatch,
                format!(
                    "`{}` has no courier method `{}` to batch",
                    courier.name, batch.method
                ),
            )
            .primary(batch.span.clone(), "no such method");
            let names = courier.methods.iter().map(|m| m.name.as_str());
            diagnostic = match did_you_mean(&batch.method, names) {
                Some(near) => diagnostic.help(format!("did you mean `{near}`?")),
                None => diagnostic.help(format!(
                    "add `pub fn {}(&self, requests: Vec<…>) -> Vec<…>` to `{}`",
                    batch.method, courier.name
                )),
            };
            diags.push(diagnostic);
            continue;
        };
        match shape(method) {
            Some(shape) => method.batch = Some(shape),
            None => diags.push(
                Diagnostic::new(
                    Code::BadBatch,
                    format!(
                        "`{}::{}` cannot be batched: it must take one `Vec` and return a `Vec`",
                        courier.name, batch.method
                    ),
                )
                .primary(batch.span.clone(), "batched here")
                .note("a batched method gets every queued request at once and answers each")
                .help(format!(
                    "write `pub fn {}(&self, requests: Vec<Request>) -> Vec<Response>` (or return \
                     `Result<Vec<Response>, E>`), one response per request, in order",
                    batch.method
                )),
            ),
        }
    }
}

/// `I` and `O` of `fn m(&self, xs: Vec<I>) -> Vec<O>` (or `Result<Vec<O>, E>`).
fn shape(method: &CourierMethod) -> Option<BatchShape> {
    let [(_, param)] = method.params.as_slice() else {
        return None;
    };
    let output = match &method.output {
        Output::Plain(ty) | Output::Result(ty) => ty,
        Output::Unit => return None,
    };
    Some(BatchShape {
        item: vec_element(param)?,
        output: vec_element(output)?,
    })
}

/// Every courier node must batch exactly the methods its type's interface batches.
pub(super) fn check_consistency(package: &Package, diags: &mut Diagnostics) {
    let couriers = || {
        package
            .programs
            .iter()
            .flat_map(|p| &p.nodes)
            .filter(|n| n.kind == Kind::Courier)
    };
    for node in couriers() {
        let Some(courier) = package
            .couriers
            .iter()
            .find(|c| c.interface.path == node.type_path)
            .map(|c| &c.interface)
        else {
            continue;
        };
        for method in courier.methods.iter().filter(|m| m.batch.is_some()) {
            if node
                .settings
                .batches
                .iter()
                .any(|b| b.method == method.name)
            {
                continue;
            }
            let batching = couriers()
                .filter(|other| other.type_path == node.type_path)
                .flat_map(|other| other.settings.batches.iter().map(move |b| (other, b)))
                .find(|(_, b)| b.method == method.name);
            let mut diagnostic = Diagnostic::new(
                Code::BatchMismatch,
                format!(
                    "`{}` does not batch `{}`, but another `{}` node does",
                    node.name, method.name, courier.name
                ),
            )
            .primary(
                node.span.clone(),
                format!("`{}` not batched here", method.name),
            );
            if let Some((other, batch)) = batching {
                diagnostic = diagnostic.secondary(
                    batch.span.clone(),
                    format!("`{}` batches it here", other.name),
                );
            }
            diags.push(
                diagnostic
                    .note(format!(
                        "batched, `{}` takes a `Vec`; the `{}` client is one for every node",
                        method.name, courier.name
                    ))
                    .help(format!(
                        "add `batch {} {{ size: … }}` to this node's block",
                        method.name
                    )),
            );
        }
    }
}
