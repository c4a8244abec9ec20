//! Writes a [`Model`] as the Rust files of a scaffolded package: one file per module with a
//! stub for every node type and function the `.lp` file names, a binary per program and a
//! test that runs each program to its end.
//!
//! The stubs build, check clean and run: a courier answers `status` (a struct of its own,
//! which crosses the wire like any serializable value) and its batched methods; a worker logs
//! its constructor's arguments and returns; in a program with couriers, which serve until
//! something stops the program, one node calls `status` on every courier it holds and then
//! stops the program.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::scaffold::{FnStub, ItemPath, Model, Param, ProgramInfo, Ty, TypeStub, DURATION};
use lpc_build::syntax::ast;

/// The module files: path in the package, contents. The crate root holds `roots` (its `mod`
/// lines and items come first) and ends with `lp::include_generated!()`.
pub(super) fn modules(model: &Model, lp_file: &str, package: &str) -> Vec<(String, String)> {
    let modules = model.modules();
    let mut files = Vec::new();
    let root = std::iter::once(Vec::new()).chain(modules.iter().cloned());
    for module in root {
        let children: Vec<&String> = modules
            .iter()
            .filter(|m| m.len() == module.len() + 1 && m.starts_with(&module))
            .filter_map(|m| m.last())
            .collect();
        let mut text = if module.is_empty() {
            format!(
                "//! The `{package}` package, made by `lpc new --from`. Its topology is `src/{lp_file}`;\n//! the node types and functions it names are stubs that build and run (fill them in); the\n//! launch code `lpc` generates from it is included last.\n"
            )
        } else {
            format!(
                "//! Node types and functions of `src/{lp_file}` in `{}`: stubs to fill in.\n",
                ItemPath {
                    module: module.clone(),
                    name: String::new(),
                }
                .rust()
                .trim_end_matches("::")
            )
        };
        if !children.is_empty() {
            text.push('\n');
        }
        for child in &children {
            let _ = writeln!(text, "pub mod {child};");
        }
        for (path, stub) in model.types.iter().filter(|(p, _)| p.module == module) {
            text.push('\n');
            text.push_str(&type_stub(path, stub, model, lp_file));
        }
        for (path, stub) in model.functions.iter().filter(|(p, _)| p.module == module) {
            text.push('\n');
            text.push_str(&fn_stub(path, stub, model, lp_file));
        }
        for path in model.unused.iter().filter(|p| p.module == module) {
            let _ = write!(
                text,
                "\n/// Imported by `{lp_file}`, but no node uses it yet.\npub struct {};\n",
                path.name
            );
        }
        let file = if module.is_empty() {
            text.push_str("\nlp::include_generated!();\n");
            "src/lib.rs".to_string()
        } else if children.is_empty() {
            format!("src/{}.rs", module.join("/"))
        } else {
            format!("src/{}/mod.rs", module.join("/"))
        };
        files.push((file, format(text)));
    }
    files
}

/// Rust source laid out like the generated code (`prettyplease`), or as it is should it not
/// parse. Comments other than doc comments would be lost: the stubs have none.
fn format(text: String) -> String {
    match syn::parse_file(&text) {
        Ok(file) => space_items(&prettyplease::unparse(&file)),
        Err(_) => text,
    }
}

/// `prettyplease` output with a blank line between items (and after the module's doc), as
/// rustfmt keeps them.
fn space_items(text: &str) -> String {
    const ITEM_STARTS: [&str; 6] = ["///", "#[", "pub ", "impl ", "async fn ", "lp::"];
    let mut out = String::with_capacity(text.len() + 256);
    let mut previous = "";
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim_start();
        let starts_item = ITEM_STARTS.iter().any(|s| trimmed.starts_with(s));
        let after_item = (previous == "}" && indent == 0)
            || (previous == "    }" && indent == 4)
            || (previous.starts_with("//!") && !trimmed.starts_with("//!"))
            || (previous.ends_with(';')
                && !previous.starts_with(' ')
                && previous.split(' ').take(2).ne(trimmed.split(' ').take(2)));
        if starts_item && after_item {
            out.push('\n');
        }
        out.push_str(line);
        out.push('\n');
        previous = line;
    }
    out
}

/// The fields of a type: every parameter of its constructors, as an `Option` when some
/// constructor does not take it.
fn fields(stub: &TypeStub) -> Vec<(String, Ty, bool)> {
    let mut fields: Vec<(String, Ty, bool)> = Vec::new();
    for signature in stub.ctors.values() {
        for (name, ty) in &signature.params {
            if !fields.iter().any(|(n, _, _)| n == name) {
                let everywhere = stub
                    .ctors
                    .values()
                    .all(|s| s.params.iter().any(|(n, _)| n == name));
                fields.push((name.clone(), ty.clone(), everywhere));
            }
        }
    }
    fields
}

/// A block that is every value as `Debug` shows them, in a `String`: `[a, b]` (an array, not
/// a tuple, has no length limit; inside a block, so that no `!Send` array lives across an
/// `.await`).
fn debug_string(values: &[String]) -> String {
    let items: Vec<String> = values.iter().map(|v| format!("&{v}")).collect();
    format!(
        "{{ let values: [&dyn std::fmt::Debug; {}] = [{}]; format!(\"{{values:?}}\") }}",
        items.len(),
        items.join(", ")
    )
}

/// The struct name of what a courier's `status` answers.
fn status_type(path: &ItemPath) -> String {
    format!("{}Status", path.name)
}

/// A node type: its struct, constructors, courier methods, and `lp::Run` when a node of it is a
/// worker or ends its program.
fn type_stub(path: &ItemPath, stub: &TypeStub, model: &Model, lp_file: &str) -> String {
    let name = &path.name;
    let fields = fields(stub);
    let kinds = match (stub.courier, stub.worker) {
        (true, true) => "A `courier` and `worker`",
        (true, false) => "A `courier`",
        _ => "A `worker`",
    };
    let mut out = format!("/// {kinds} node type of `{lp_file}`: a stub to fill in.\n");
    if fields.is_empty() {
        let _ = writeln!(out, "pub struct {name};");
    } else {
        let _ = writeln!(out, "pub struct {name} {{");
        for (field, ty, everywhere) in &fields {
            let ty = if *everywhere {
                ty.rust()
            } else {
                format!("Option<{}>", ty.rust())
            };
            let _ = writeln!(out, "    {field}: {ty},");
        }
        out.push_str("}\n");
    }
    if stub.courier {
        let _ = write!(
            out,
            "\n/// What [`{name}::status`] answers: a struct of your own crosses the wire like any value\n/// serde can serialize.\n#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]\npub struct {} {{\n    /// The node's constructor arguments, as `Debug` shows them.\n    pub state: String,\n}}\n",
            status_type(path)
        );
    }
    let _ = writeln!(out, "\nimpl {name} {{");
    for (i, (ctor, signature)) in stub.ctors.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&constructor(name, ctor, &signature.params, &fields));
    }
    if stub.courier {
        let values: Vec<String> = fields.iter().map(|f| format!("self.{}", f.0)).collect();
        let state = if values.is_empty() {
            "String::from(\"up\")".to_string()
        } else {
            debug_string(&values)
        };
        let _ = write!(
            out,
            "\n    /// How this node is: a method every node holding a handle to it can call.\n    pub fn status(&self) -> {} {{\n        {} {{ state: {state} }}\n    }}\n",
            status_type(path),
            status_type(path),
        );
        for method in &stub.batched {
            let _ = write!(
                out,
                "\n    /// Batched (`batch {method}` in `{lp_file}`): takes every call's input at once and\n    /// answers each, in order.\n    pub fn {method}(&self, inputs: Vec<u64>) -> Vec<u64> {{\n        inputs\n    }}\n"
            );
        }
    }
    out.push_str("}\n");
    if stub.worker || !stub.stops.is_empty() {
        let values: Vec<String> = fields.iter().map(|f| format!("self.{}", f.0)).collect();
        let held: Vec<(String, Ty)> = fields
            .iter()
            .filter(|f| f.2)
            .map(|(n, t, _)| (format!("self.{n}"), t.clone()))
            .collect();
        let _ = write!(
            out,
            "\nimpl lp::Run for {name} {{\n{}    async fn run(&self, ctx: lp::Context) -> lp::Result<()> {{\n{}",
            body_doc("    ", &stub.stops),
            body("        ", &values, &held, &stub.stops, model)
        );
        out.push_str("        Ok(())\n    }\n}\n");
    }
    out
}

/// A constructor: it keeps its arguments in the fields.
fn constructor(name: &str, ctor: &str, params: &[Param], fields: &[(String, Ty, bool)]) -> String {
    let list = params
        .iter()
        .map(|(p, ty)| format!("{p}: {}", ty.rust()))
        .collect::<Vec<_>>()
        .join(", ");
    let value = if fields.is_empty() {
        name.to_string()
    } else {
        let inits = fields
            .iter()
            .map(|(field, _, everywhere)| {
                let given = params.iter().any(|(p, _)| p == field);
                match (given, everywhere) {
                    (true, true) => field.clone(),
                    (true, false) => format!("{field}: Some({field})"),
                    (false, _) => format!("{field}: None"),
                }
            })
            .collect::<Vec<_>>()
            .join(", ");
        format!("{name} {{ {inits} }}")
    };
    format!(
        "    /// The node, from the arguments the `.lp` file passes.\n    pub fn {ctor}({list}) -> Self {{\n        {value}\n    }}\n"
    )
}

/// A function run by `fn` nodes.
fn fn_stub(path: &ItemPath, stub: &FnStub, model: &Model, lp_file: &str) -> String {
    let params = &stub.signature.params;
    let mut list: Vec<String> = params
        .iter()
        .map(|(p, ty)| format!("{p}: {}", ty.rust()))
        .collect();
    list.push("ctx: lp::Context".to_string());
    let values: Vec<String> = params.iter().map(|(p, _)| p.clone()).collect();
    format!(
        "/// Run by a `fn` node of `{lp_file}` (its `lp::Context` parameter is not given in `.lp`): a\n/// stub to fill in.\n///\n{}pub async fn {}({}) -> lp::Result<()> {{\n{}    Ok(())\n}}\n",
        body_doc("", &stub.stops),
        path.name,
        list.join(", "),
        body("    ", &values, params, &stub.stops, model)
    )
}

/// The doc comment, at `indent`, of what [`body`] does.
fn body_doc(indent: &str, stops: &[String]) -> String {
    let mut out = format!("{indent}/// Logs its arguments");
    if stops.is_empty() {
        out.push_str(" and returns: the node is done.\n");
    } else {
        let nodes = stops
            .iter()
            .map(|l| format!("`{l}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = write!(
            out,
            ". The program's couriers serve until something stops it:\n{indent}/// {nodes} calls every courier it holds, then stops the program.\n"
        );
    }
    out
}

/// The body of a `run` or a `fn` node, at `indent`: log the values; the node that ends its
/// program calls `status` on every courier it holds, then stops the program.
fn body(
    indent: &str,
    values: &[String],
    held: &[(String, Ty)],
    stops: &[String],
    model: &Model,
) -> String {
    let mut out = String::new();
    if values.is_empty() {
        let _ = writeln!(
            out,
            "{indent}lp::tracing::info!(\"{{}} is up\", ctx.label());"
        );
    } else {
        let _ = writeln!(
            out,
            "{indent}let values = {};\n{indent}lp::tracing::info!(\"{{}} is up: {{values}}\", ctx.label());",
            debug_string(values)
        );
    }
    if stops.is_empty() {
        return out;
    }
    let labels = stops
        .iter()
        .map(|l| format!("{l:?}"))
        .collect::<Vec<_>>()
        .join(" | ");
    let _ = writeln!(out, "{indent}if matches!(ctx.label(), {labels}) {{");
    let served = |path: &ItemPath| model.types.get(path).is_some_and(|t| t.courier);
    for (value, ty) in held {
        match ty {
            Ty::Handle(path) if served(path) => {
                let _ = writeln!(
                    out,
                    "{indent}    lp::tracing::info!(\"{{:?}}\", {value}.status().await?);"
                );
            }
            Ty::List(item) if matches!(item.as_ref(), Ty::Handle(path) if served(path)) => {
                let _ = writeln!(
                    out,
                    "{indent}    for peer in &{value} {{\n{indent}        lp::tracing::info!(\"{{:?}}\", peer.status().await?);\n{indent}    }}"
                );
            }
            _ => {}
        }
    }
    let _ = writeln!(out, "{indent}    ctx.stop();\n{indent}}}");
    out
}

/// The binaries, one per program, named like it: `src/main.rs` for the program named like the
/// package, `src/bin/<program>.rs` for the others.
pub(super) fn binaries(model: &Model, package: &str, template: &str) -> Vec<(String, String)> {
    model
        .programs
        .iter()
        .map(|program| {
            let path = if program.name == package {
                "src/main.rs".to_string()
            } else {
                format!("src/bin/{}.rs", program.name)
            };
            let text = template
                .replace("{{name}}", package)
                .replace("{{program}}", &program.name);
            (path, text)
        })
        .collect()
}

/// The package's test: each program launched in the test's process, run to its end.
pub(super) fn test(model: &Model, package: &str, lp_file: &str) -> String {
    let mut out = format!(
        "//! Launches every program of `src/{lp_file}` inside this test (`test_mt`: every node a task of\n//! the test process) and waits for it to end by itself, as the binary does.\n\nuse std::time::Duration;\n\n/// How long a program may take before the test fails.\nconst LIMIT: Duration = Duration::from_secs(60);\n"
    );
    for program in &model.programs {
        let _ = write!(
            out,
            "\n#[tokio::test(flavor = \"multi_thread\", worker_threads = 2)]\nasync fn {name}_runs_to_its_end() -> lp::Result<()> {{\n    use {package}::{name}::{{make_program, Params}};\n    let program = make_program({params});\n    let running = lp::launch(program, lp::LaunchType::TestMt).await?;\n    tokio::time::timeout(LIMIT, running.wait()).await??;\n    Ok(())\n}}\n",
            name = program.name,
            params = params_value(program),
        );
    }
    out
}

/// A `Params` value: the defaults, and a value of the right type for a param without one.
fn params_value(program: &ProgramInfo) -> String {
    if program.params.iter().all(|p| p.2.is_some()) {
        return "Params::default()".to_string();
    }
    let fields: Vec<String> = program
        .params
        .iter()
        .map(|(name, ty, default)| {
            let value = match default {
                Some(expr) => literal(expr, ty),
                None => example(ty),
            };
            format!("{name}: {value}")
        })
        .collect();
    format!("Params {{ {} }}", fields.join(", "))
}

/// A param's default as a Rust value.
fn literal(expr: &ast::Expr, ty: &str) -> String {
    match &expr.kind {
        ast::ExprKind::Int(v) => v.to_string(),
        ast::ExprKind::Neg(inner) => format!("-{}", literal(inner, ty)),
        ast::ExprKind::Float(v) => format!("{v:?}"),
        ast::ExprKind::Str(s) => format!("String::from({s:?})"),
        ast::ExprKind::Bool(b) => b.to_string(),
        ast::ExprKind::Duration(d) => format!("{DURATION}::from_nanos({})", d.as_nanos()),
        _ => example(ty),
    }
}

/// A value for a required param of type `ty` (as written in `.lp`).
pub(super) fn example(ty: &str) -> String {
    match ty {
        "bool" => "false".into(),
        "String" => "String::from(\"example\")".into(),
        "Duration" => format!("{DURATION}::from_secs(1)"),
        "f32" | "f64" => "1.0".into(),
        _ => "1".into(),
    }
}

/// A name the crate cannot give as asked: a top-level module named like a program (the
/// generated code has a module per program) or `bin` (`src/bin/` holds the binaries), or a
/// type named like the `status` answer of a courier type beside it.
pub(super) fn clash(model: &Model) -> Option<String> {
    let programs: BTreeSet<&str> = model.programs.iter().map(|p| p.name.as_str()).collect();
    let module = model
        .modules()
        .into_iter()
        .filter(|m| m.len() == 1)
        .find(|m| m[0] == "bin" || programs.contains(m[0].as_str()));
    if let Some(module) = module {
        return Some(format!(
            "module `{}` would clash with {}: rename the module in the `.lp` file's paths",
            module[0],
            if module[0] == "bin" {
                "the binaries' directory `src/bin/`".to_string()
            } else {
                format!("program `{}`'s generated module", module[0])
            }
        ));
    }
    let names: BTreeSet<&ItemPath> = model.types.keys().chain(&model.unused).collect();
    model
        .types
        .iter()
        .filter(|(_, stub)| stub.courier)
        .map(|(path, _)| ItemPath {
            module: path.module.clone(),
            name: status_type(path),
        })
        .find(|status| names.contains(status))
        .map(|status| {
            format!(
                "type `{}` would clash with the answer of `{}::status`: rename it in the `.lp` file",
                status.name,
                status.name.trim_end_matches("Status")
            )
        })
}
