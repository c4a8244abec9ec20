//! Resolving a node's Rust type and constructor, and checking that the type can be what the
//! node declares it to be (a courier's methods can be served, a worker can run).

use super::model::{CourierMethod, FnNode, FnParam, Interface, Kind, Output, Runner};
use super::Imports;
use crate::diag::{did_you_mean, Code, Diagnostic, Diagnostics, Span};
use crate::rust::{
    CrateModel, FunctionDef, Method, Param, Receiver, RustType, TypeDef, Visibility,
};
use crate::syntax::ast;

/// Finds the type a node's target path names (`Producer::new` → `Producer`), reporting why not.
pub(super) fn resolve_type<'m>(
    target: &ast::Path,
    imports: &Imports,
    model: &'m CrateModel,
    diags: &mut Diagnostics,
) -> Option<&'m TypeDef> {
    let segments = &target.segments;
    let (_ctor, type_path) = segments.split_last()?;
    let Some((type_name, module)) = type_path.split_last() else {
        diags.push(
            Diagnostic::new(Code::Syntax, "expected `Type::constructor`")
                .primary(target.span.clone(), "a constructor needs its type")
                .help("write the type before the constructor: `Type::new(…)`"),
        );
        return None;
    };
    let module_names: Vec<String> = module.iter().map(|s| s.name.clone()).collect();
    let found = if module_names.is_empty() {
        imports.get(&type_name.name).and_then(|(path, _)| {
            let (name, module) = path.split_last()?;
            model.type_at(module, name)
        })
    } else if module_names.first().map(String::as_str) == Some("crate") {
        model.type_at(&module_names[1..], &type_name.name)
    } else {
        None
    };
    if let Some(found) = found {
        return Some(found);
    }
    if module_names.is_empty() && imports.is_broken(&type_name.name) {
        return None; // its `use` is reported unresolved
    }
    let span = Span::new(
        type_name.span.file,
        type_path
            .first()
            .map_or(type_name.span.range.start, |s| s.span.range.start)
            ..type_name.span.range.end,
    );
    let mut diagnostic = Diagnostic::new(
        Code::UnknownType,
        format!("cannot find type `{}` in this scope", type_name.name),
    )
    .primary(span, "not found");
    let elsewhere: Vec<&TypeDef> = model.types_named(&type_name.name).collect();
    if let Some(t) = elsewhere.first() {
        diagnostic = diagnostic
            .secondary(t.span.clone(), "a type with this name is defined here")
            .help(format!("bring it into scope: `use {};`", t.path()));
    } else if let Some(near) = did_you_mean(&type_name.name, imports.keys().map(String::as_str)) {
        diagnostic = diagnostic.help(format!("did you mean `{near}`?"));
    } else {
        diagnostic = diagnostic.help(
            "define the type as a `pub struct` in the crate and import it with `use crate::…;`",
        );
    }
    diags.push(diagnostic);
    None
}

/// Checks the type may be used as a node at all: public and not generic.
pub(super) fn check_usable(ty: &TypeDef, at: &Span, used: &str, diags: &mut Diagnostics) -> bool {
    if ty.visibility != Visibility::Public {
        let why = match ty.visibility {
            Visibility::Restricted => "is only visible inside the crate",
            _ => "is private",
        };
        diags.push(
            Diagnostic::new(Code::NotPublic, format!("type `{}` {why}", ty.name))
                .primary(at.clone(), used.to_string())
                .secondary(ty.span.clone(), "defined here")
                .note("the generated program exposes its node types, so they must be `pub`")
                .help(format!("declare it `pub struct {}`", ty.name)),
        );
        return false;
    }
    if let Some(generics) = &ty.generics {
        diags.push(
            Diagnostic::new(
                Code::GenericNodeType,
                format!("node type `{}` is generic", ty.name),
            )
            .primary(at.clone(), used.to_string())
            .secondary(generics.clone(), "generic parameter declared here")
            .help(
                "node types must be concrete: wrap the generic type in a non-generic `pub struct`",
            ),
        );
        return false;
    }
    true
}

/// A constructor as generated code calls it.
pub(super) struct Constructor<'m> {
    pub method: &'m Method,
    /// It returns `Result<Self, E>`.
    pub fallible: bool,
}

/// Finds the constructor (`new`, or any associated function named in the `.lp`) and checks
/// generated code can call it: `pub`, not generic, not `unsafe` or `async`, returning `Self`
/// or `Result<Self, E>`, every parameter named.
pub(super) fn constructor<'m>(
    ty: &'m TypeDef,
    ctor: &ast::Ident,
    diags: &mut Diagnostics,
) -> Option<Constructor<'m>> {
    let associated = || ty.methods.iter().filter(|m| m.receiver == Receiver::None);
    let Some(method) = associated().find(|m| m.name == ctor.name) else {
        let mut diagnostic = Diagnostic::new(
            Code::MissingConstructor,
            format!(
                "no associated function `{}` on type `{}`",
                ctor.name, ty.name
            ),
        )
        .primary(ctor.span.clone(), "not found")
        .secondary(ty.span.clone(), format!("`{}` defined here", ty.name));
        diagnostic = match did_you_mean(&ctor.name, associated().map(|m| m.name.as_str())) {
            Some(near) => diagnostic.help(format!("did you mean `{near}`?")),
            None => diagnostic.help(format!(
                "add `pub fn {}(…) -> Self` to an `impl {}` block",
                ctor.name, ty.name
            )),
        };
        diags.push(diagnostic);
        return None;
    };
    let display = format!("constructor `{}::{}`", ty.name, ctor.name);
    if method.visibility != Visibility::Public {
        diags.push(
            Diagnostic::new(Code::NotPublic, format!("{display} is not `pub`"))
                .primary(ctor.span.clone(), "called here")
                .secondary(method.span.clone(), "defined here")
                .help(format!("declare it `pub fn {}`", ctor.name)),
        );
        return None;
    }
    let callable = callable(method, &display, &ctor.span, "called here", diags);
    let named = named_params(method, &display, &ctor.span, diags);
    let returns = ctor_returns(ty, method, &ctor.span, diags);
    if !(callable && named) {
        return None;
    }
    Some(Constructor {
        method,
        fallible: returns?,
    })
}

/// Whether generated code can call `method` at all: not generic, not `unsafe`, and (for a
/// constructor, called synchronously) not `async`. `at` is where `.lp` uses it, and how.
fn callable(
    method: &Method,
    display: &str,
    at: &Span,
    label: &str,
    diags: &mut Diagnostics,
) -> bool {
    if let Some(generics) = &method.generics {
        diags.push(
            Diagnostic::new(Code::UnsendableParameter, format!("{display} is generic"))
                .primary(generics.clone(), "generic parameter")
                .secondary(at.clone(), label.to_string())
                .note("generated code must know the concrete types to pass")
                .help("give it concrete parameter types (or make a method private)"),
        );
        return false;
    }
    if method.is_unsafe {
        diags.push(
            Diagnostic::new(Code::UnsendableParameter, format!("{display} is `unsafe`"))
                .primary(method.span.clone(), "declared `unsafe fn` here")
                .secondary(at.clone(), label.to_string())
                .note("generated code calls it without an `unsafe` block: its contract cannot be upheld there")
                .help("make it a safe `fn` that upholds its own invariants"),
        );
        return false;
    }
    if display.starts_with("constructor") && method.is_async {
        diags.push(
            Diagnostic::new(Code::UnsendableParameter, format!("{display} is `async`"))
                .primary(method.span.clone(), "declared `async fn` here")
                .secondary(at.clone(), label.to_string())
                .note("a node is constructed synchronously, before it serves or runs")
                .help(
                    "make the constructor a plain `fn`, and do async set-up at the start of `run`",
                ),
        );
        return false;
    }
    true
}

/// Whether every parameter has a name `.lp` can give it by (not a pattern such as `_`).
fn named_params(method: &Method, display: &str, at: &Span, diags: &mut Diagnostics) -> bool {
    let mut ok = true;
    for param in method.params.iter().filter(|p| p.is_pattern) {
        ok = false;
        diags.push(
            Diagnostic::new(
                Code::UnsendableParameter,
                format!("a parameter of {display} is the pattern `{}`", param.name),
            )
            .primary(param.span.clone(), "no name to give it by")
            .secondary(at.clone(), "called here")
            .note("`.lp` arguments are matched to parameters by name")
            .help("bind the parameter to a name, e.g. `seed: u64`, and destructure it in the body"),
        );
    }
    ok
}

/// `Some(false)` for a constructor returning `Self`, `Some(true)` for `Result<Self, E>`; reports
/// any other return type.
fn ctor_returns(ty: &TypeDef, method: &Method, at: &Span, diags: &mut Diagnostics) -> Option<bool> {
    let segments = ty.segments();
    let is_self = |t: &RustType| t.path() == Some(segments.as_slice());
    match &method.output {
        t if is_self(t) => return Some(false),
        RustType::Result(ok, _) if is_self(ok) => return Some(true),
        _ => {}
    }
    diags.push(
        Diagnostic::new(
            Code::ArgumentType,
            format!(
                "constructor `{}::{}` does not return `{}`",
                ty.name, method.name, ty.name
            ),
        )
        .primary(at.clone(), "called here")
        .secondary(
            method.output_span.clone(),
            format!("returns `{}`", method.output.display()),
        )
        .note("a node's value is what its constructor returns")
        .help(format!(
            "return `Self` (or `Result<Self, E>`, whose `Err` fails the node) from `{}`",
            method.name
        )),
    );
    None
}

/// How the node runs, checking that a worker has a `run`.
pub(super) fn runner(ty: &TypeDef, kind: Kind, at: &Span, diags: &mut Diagnostics) -> Runner {
    let runner = if ty.implements_runtime("Run") {
        Runner::Async
    } else if ty.implements_runtime("BlockingRun") {
        Runner::Blocking
    } else {
        Runner::None
    };
    if kind == Kind::Worker && runner == Runner::None {
        diags.push(
            Diagnostic::new(
                Code::WorkerWithoutRun,
                format!("worker type `{}` does not implement the run trait", ty.name),
            )
            .primary(at.clone(), "declared a `worker` here")
            .secondary(ty.span.clone(), "defined here")
            .note("a worker has no server: its `run` is all it does")
            .help(format!(
                "add `impl lp::Run for {} {{ async fn run(&self, ctx: lp::Context) -> lp::Result<()> {{ … }} }}` (or `lp::BlockingRun` for a sync `run`), or declare the node `courier`",
                ty.name
            )),
        );
    }
    runner
}

/// What a courier interface is checked for: its name, and why it is one (for labels).
pub(super) struct Served<'a> {
    /// `Producer`, or `Source`.
    pub name: &'a str,
    /// A courier trait (its methods must be synchronous: `dyn Trait` has no async methods).
    pub is_trait: bool,
    /// Where it is used as a courier, and how.
    pub at: &'a Span,
    pub why: &'a str,
    pub model: &'a CrateModel,
}

/// The courier interface of a type or trait: its callable methods (every `pub` method, or
/// every trait method, with a `&self` receiver). Methods that cannot be served (`&mut self`,
/// generic, `unsafe`, types that cannot cross the wire) are errors.
pub(super) fn interface<'m>(
    methods: impl Iterator<Item = &'m Method> + Clone,
    served: &Served,
    path: String,
    module: Vec<String>,
    diags: &mut Diagnostics,
) -> Interface {
    let mut out: Vec<CourierMethod> = Vec::new();
    for method in methods.clone() {
        if method.visibility != Visibility::Public || method.receiver == Receiver::None {
            continue;
        }
        match method.receiver {
            Receiver::RefMut => {
                diags.push(
                    Diagnostic::new(
                        Code::MutCourierMethod,
                        format!(
                            "courier method `{}::{}` takes `&mut self`",
                            served.name, method.name
                        ),
                    )
                    .primary(method.receiver_span.clone(), "`&mut self` here")
                    .secondary(served.at.clone(), served.why.to_string())
                    .note("courier methods may run concurrently, so they only get `&self`")
                    .help("take `&self` and keep mutable state in a `Mutex`, `RwLock` or atomics"),
                );
                continue;
            }
            Receiver::Value => continue,
            _ => {}
        }
        if out.iter().any(|m| m.name == method.name) {
            diags.push(
                Diagnostic::new(
                    Code::DuplicateMethod,
                    format!(
                        "courier method `{}::{}` is defined twice",
                        served.name, method.name
                    ),
                )
                .primary(method.span.clone(), "defined again here")
                .help("give each courier method a distinct name"),
            );
            continue;
        }
        if let Some(m) = servable(method, served, diags) {
            out.push(m);
        }
    }
    blocking_clashes(&out, methods, served, diags);
    let name = module_name(&path);
    Interface {
        path,
        module,
        name,
        is_trait: served.is_trait,
        methods: out,
    }
}

/// The last segment of `crate::a::B`.
fn module_name(path: &str) -> String {
    path.rsplit("::").next().unwrap_or(path).to_string()
}

/// A method `m` beside a method `m_blocking` would collide with `m`'s generated blocking form.
fn blocking_clashes<'m>(
    methods: &[CourierMethod],
    rust: impl Iterator<Item = &'m Method> + Clone,
    served: &Served,
    diags: &mut Diagnostics,
) {
    for method in methods {
        let generated = format!("{}_blocking", method.name);
        if !methods.iter().any(|m| m.name == generated) {
            continue;
        }
        let Some(clashing) = rust.clone().find(|m| m.name == generated) else {
            continue;
        };
        diags.push(
            Diagnostic::new(
                Code::GeneratedNameClash,
                format!(
                    "courier method `{}::{generated}` clashes with the blocking form of `{}`",
                    served.name, method.name
                ),
            )
            .primary(clashing.span.clone(), format!("the blocking form of `{}` is named so", method.name))
            .secondary(served.at.clone(), served.why.to_string())
            .note(format!(
                "every courier method `m` gets a client method `m_blocking` for synchronous callers, so `{}` gets `{generated}`",
                method.name
            ))
            .help(format!("rename `{generated}` (or `{}`)", method.name)),
        );
    }
}

fn servable(method: &Method, served: &Served, diags: &mut Diagnostics) -> Option<CourierMethod> {
    let display = format!("courier method `{}::{}`", served.name, method.name);
    if !callable(method, &display, served.at, served.why, diags) {
        return None;
    }
    if served.is_trait && method.is_async {
        diags.push(
            Diagnostic::new(
                Code::UnsendableParameter,
                format!("{display} is `async`, but `dyn {}` cannot have async methods", served.name),
            )
            .primary(method.span.clone(), "an `async fn` in a courier trait")
            .secondary(served.at.clone(), served.why.to_string())
            .note("a handle to `dyn Trait` needs `dyn Trait` to be a type, which async trait methods prevent")
            .help("make the trait method synchronous (it runs on a blocking thread, so it may block)"),
        );
        return None;
    }
    let mut ok = true;
    for param in &method.params {
        ok &= travels(
            &param.wire,
            &param.ty_span,
            &format!("parameter `{}` of {display}", param.name),
            served,
            diags,
        );
    }
    ok &= travels(
        &method.output_wire,
        &method.output_span,
        &format!("the result of {display}"),
        served,
        diags,
    );
    ok.then(|| CourierMethod {
        name: method.name.clone(),
        is_async: method.is_async,
        nonblocking: method.nonblocking.is_some() && !method.is_async,
        params: param_names(&method.params),
        output: match &method.result_ok {
            Some(ok) => Output::Result(ok.clone()),
            None if method.output == RustType::Unit => Output::Unit,
            None => Output::Plain(method.output_tokens.clone()),
        },
        batch: None,
    })
}

/// Distinct identifiers for a method's parameters: their own names, and a fresh `argN` for a
/// parameter bound by a pattern.
fn param_names(params: &[Param]) -> Vec<(String, proc_macro2::TokenStream)> {
    let mut names: Vec<String> = Vec::new();
    for (i, param) in params.iter().enumerate() {
        let name = if param.is_pattern {
            let mut n = i;
            loop {
                let candidate = format!("arg{n}");
                if !params.iter().any(|p| !p.is_pattern && p.name == candidate)
                    && !names.contains(&candidate)
                {
                    break candidate;
                }
                n += params.len();
            }
        } else {
            param.name.clone()
        };
        names.push(name);
    }
    names
        .into_iter()
        .zip(params)
        .map(|(n, p)| (n, p.tokens.clone()))
        .collect()
}

/// Whether a type can cross the wire: no reference, trait object or live resource in it, and
/// every type of the crate in it `Serialize` and `Deserialize`.
fn travels(
    wire: &crate::rust::Wire,
    span: &Span,
    what: &str,
    served: &Served,
    diags: &mut Diagnostics,
) -> bool {
    if let Some(name) = &wire.unnamed {
        diags.push(
            Diagnostic::new(
                Code::UnsendableParameter,
                format!("{what} names `{name}`, which generated code cannot resolve"),
            )
            .primary(span.clone(), format!("`{name}` is not imported by name"))
            .secondary(served.at.clone(), served.why.to_string())
            .note("generated code lives at the crate root: it sees the types a signature names through `use` items that name them, not through glob imports of other crates or macros")
            .help(format!("import `{name}` by name (`use some_crate::{name};`), or write its full path in the signature")),
        );
        return false;
    }
    if let Some(problem) = wire.problem {
        diags.push(
            Diagnostic::new(
                Code::UnsendableParameter,
                format!("{what} cannot cross the wire"),
            )
            .primary(span.clone(), problem)
            .secondary(served.at.clone(), served.why.to_string())
            .help("take and return owned, serializable types (e.g. `String` instead of `&str`)"),
        );
        return false;
    }
    let mut ok = true;
    for path in &wire.mentions {
        let Some(ty) = served.model.type_at_path(path) else {
            continue;
        };
        if ty.serde {
            continue;
        }
        ok = false;
        diags.push(
            Diagnostic::new(
                Code::UnsendableParameter,
                format!(
                    "{what} cannot cross the wire: `{}` is not `Serialize` and `Deserialize`",
                    ty.name
                ),
            )
            .primary(span.clone(), format!("`{}` sent in a call", ty.name))
            .secondary(ty.span.clone(), format!("`{}` defined here", ty.name))
            .help(format!(
                "add `#[derive(serde::Serialize, serde::Deserialize)]` to `{}`",
                ty.name
            )),
        );
    }
    ok
}

/// Finds the free function a `fn` node runs (`setup` imported with `use`, or a full path).
pub(super) fn resolve_function<'m>(
    target: &ast::Path,
    imports: &Imports,
    model: &'m CrateModel,
    diags: &mut Diagnostics,
) -> Option<&'m FunctionDef> {
    let names: Vec<String> = target.segments.iter().map(|s| s.name.clone()).collect();
    let (name, module) = names.split_last()?;
    let found = match module.split_first() {
        None => imports.get(name).and_then(|(path, _)| {
            let (name, module) = path.split_last()?;
            model.function_at(module, name)
        }),
        Some((first, rest)) if first == "crate" => model.function_at(rest, name),
        Some(_) => None,
    };
    if found.is_none() && !(module.is_empty() && imports.is_broken(name)) {
        let mut diagnostic = Diagnostic::new(
            Code::UnknownFunction,
            format!("cannot find function `{}`", names.join("::")),
        )
        .primary(target.span.clone(), "not found");
        diagnostic = match model.functions.iter().find(|f| &f.method.name == name) {
            Some(f) => diagnostic
                .secondary(
                    f.method.span.clone(),
                    "a function with this name is defined here",
                )
                .help(format!(
                    "write its full path, `{}`, or import it with `use`",
                    f.path()
                )),
            None => diagnostic.help(format!(
                "define `pub fn {name}(…)` in the crate and write its path from `crate::`"
            )),
        };
        diags.push(diagnostic);
    }
    found
}

/// The worker wrapper generated for a function, checking that it can be run as a node.
pub(super) fn function_wrapper(
    function: &FunctionDef,
    at: &Span,
    diags: &mut Diagnostics,
) -> Option<FnNode> {
    let method = &function.method;
    let display = format!("function `{}`", method.name);
    if method.visibility != Visibility::Public {
        diags.push(
            Diagnostic::new(Code::NotPublic, format!("{display} is not `pub`"))
                .primary(at.clone(), "run by a `fn` node here")
                .secondary(method.span.clone(), "defined here")
                .help(format!("declare it `pub fn {}`", method.name)),
        );
        return None;
    }
    let mut ok = callable(method, &display, at, "run by a `fn` node here", diags);
    ok &= named_params(method, &display, at, diags);
    for param in &method.params {
        if let Some(name) = &param.wire.unnamed {
            ok = false;
            diags.push(
                Diagnostic::new(
                    Code::UnsendableParameter,
                    format!(
                        "parameter `{}` of function `{}` names `{name}`, which generated code cannot resolve",
                        param.name, method.name
                    ),
                )
                .primary(param.ty_span.clone(), format!("`{name}` is not imported by name"))
                .secondary(at.clone(), "run by a `fn` node here")
                .help(format!("import `{name}` by name, or write its full path in the signature")),
            );
            continue;
        }
        if matches!(param.ty, RustType::Reference | RustType::ImplTrait) {
            ok = false;
            diags.push(
                Diagnostic::new(
                    Code::UnsendableParameter,
                    format!(
                        "parameter `{}` of function `{}` must be owned",
                        param.name, method.name
                    ),
                )
                .primary(param.ty_span.clone(), "a reference or `impl Trait`")
                .secondary(at.clone(), "run by a `fn` node here")
                .help("take an owned type (e.g. `String` instead of `&str`)"),
            );
        }
    }
    ok.then(|| FnNode {
        path: function.path(),
        wrapper: mangle(function.module.iter().chain([&method.name])),
        is_async: method.is_async,
        params: method
            .params
            .iter()
            .map(|p| FnParam {
                name: p.name.clone(),
                tokens: p.tokens.clone(),
                context: p.ty == RustType::Context,
                copy: p.ty.is_copy(),
            })
            .collect(),
        returns_result: method.result_ok.is_some(),
        returns_unit: method.output == RustType::Unit,
    })
}

/// An injective identifier for a path: each segment prefixed by its length (`a::b_c` →
/// `F1a3b_c`), so two paths never give one name.
fn mangle<'a>(segments: impl Iterator<Item = &'a String>) -> String {
    let mut out = String::from("F");
    for segment in segments {
        out.push_str(&segment.len().to_string());
        out.push_str(segment);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn mangling_is_injective() {
        let m = |s: &[&str]| {
            let v: Vec<String> = s.iter().map(|s| s.to_string()).collect();
            super::mangle(v.iter())
        };
        assert_ne!(m(&["a", "b__c"]), m(&["a__b", "c"]));
        assert_ne!(m(&["a1b"]), m(&["a", "b"]));
        assert_eq!(m(&["nodes", "setup"]), "F5nodes5setup");
    }
}
