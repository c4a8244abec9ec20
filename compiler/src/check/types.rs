//! Resolving a node's Rust type and constructor, and checking that the type can be what the
//! node declares it to be (a courier's methods can be served, a worker can run).

use super::model::{Courier, CourierMethod, FnNode, FnParam, Kind, Output, Runner};
use super::Imports;
use crate::diag::{did_you_mean, Code, Diagnostic, Diagnostics, Span};
use crate::rust::{CrateModel, FunctionDef, Method, Receiver, RustType, TypeDef, Visibility};
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
pub(super) fn check_usable(ty: &TypeDef, at: &Span, diags: &mut Diagnostics) -> bool {
    if ty.visibility != Visibility::Public {
        let why = match ty.visibility {
            Visibility::Restricted => "is only visible inside the crate",
            _ => "is private",
        };
        diags.push(
            Diagnostic::new(Code::NotPublic, format!("type `{}` {why}", ty.name))
                .primary(at.clone(), "used as a node type here")
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
            .primary(at.clone(), "used as a node type here")
            .secondary(generics.clone(), "generic parameter declared here")
            .help(
                "node types must be concrete: wrap the generic type in a non-generic `pub struct`",
            ),
        );
        return false;
    }
    true
}

/// Finds the constructor (`new`, or any associated function named in the `.lp`).
pub(super) fn constructor<'m>(
    ty: &'m TypeDef,
    ctor: &ast::Ident,
    diags: &mut Diagnostics,
) -> Option<&'m Method> {
    let associated = || ty.methods.iter().filter(|m| m.receiver == Receiver::None);
    match associated().find(|m| m.name == ctor.name) {
        Some(method) if method.visibility != Visibility::Public => {
            diags.push(
                Diagnostic::new(
                    Code::NotPublic,
                    format!("constructor `{}::{}` is not `pub`", ty.name, ctor.name),
                )
                .primary(ctor.span.clone(), "called here")
                .secondary(method.span.clone(), "defined here")
                .help(format!("declare it `pub fn {}`", ctor.name)),
            );
            None
        }
        Some(method) => {
            if let Some(generics) = &method.generics {
                diags.push(
                    Diagnostic::new(
                        Code::UnsendableParameter,
                        format!("constructor `{}::{}` is generic", ty.name, ctor.name),
                    )
                    .primary(ctor.span.clone(), "called here")
                    .secondary(generics.clone(), "generic parameter")
                    .help("give the constructor concrete parameter types"),
                );
                return None;
            }
            Some(method)
        }
        None => {
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
            None
        }
    }
}

/// How the node runs, checking that a worker has a `run`.
pub(super) fn runner(ty: &TypeDef, kind: Kind, at: &Span, diags: &mut Diagnostics) -> Runner {
    let runner = if ty.implements("Run") {
        Runner::Async
    } else if ty.implements("BlockingRun") {
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

/// The courier interface of a type: every `pub` method with a `&self` receiver. Methods that
/// cannot be served (`&mut self`, generic or reference parameters) are errors.
pub(super) fn courier(ty: &TypeDef, at: &Span, diags: &mut Diagnostics) -> Courier {
    let mut methods: Vec<CourierMethod> = Vec::new();
    for method in &ty.methods {
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
                            ty.name, method.name
                        ),
                    )
                    .primary(method.receiver_span.clone(), "`&mut self` here")
                    .secondary(
                        at.clone(),
                        format!("`{}` is served as a courier here", ty.name),
                    )
                    .note("courier methods may run concurrently, so they only get `&self`")
                    .help("take `&self` and keep mutable state in a `Mutex`, `RwLock` or atomics"),
                );
                continue;
            }
            Receiver::Value => continue,
            _ => {}
        }
        if methods.iter().any(|m| m.name == method.name) {
            diags.push(
                Diagnostic::new(
                    Code::DuplicateMethod,
                    format!(
                        "courier method `{}::{}` is defined twice",
                        ty.name, method.name
                    ),
                )
                .primary(method.span.clone(), "defined again here")
                .help("give each courier method a distinct name"),
            );
            continue;
        }
        if let Some(served) = servable(ty, method, at, diags) {
            methods.push(served);
        }
    }
    Courier {
        path: ty.path(),
        name: ty.name.clone(),
        methods,
    }
}

fn servable(
    ty: &TypeDef,
    method: &Method,
    at: &Span,
    diags: &mut Diagnostics,
) -> Option<CourierMethod> {
    if let Some(generics) = &method.generics {
        diags.push(
            Diagnostic::new(
                Code::UnsendableParameter,
                format!("courier method `{}::{}` is generic", ty.name, method.name),
            )
            .primary(generics.clone(), "generic parameter")
            .secondary(
                at.clone(),
                format!("`{}` is served as a courier here", ty.name),
            )
            .note("a remote caller must know the concrete types to send")
            .help("use concrete parameter types, or make the method private"),
        );
        return None;
    }
    let mut ok = true;
    for param in &method.params {
        let why = match param.ty {
            RustType::ImplTrait => "`impl Trait` has no concrete type to send",
            RustType::Reference => "a reference cannot cross the wire",
            _ => continue,
        };
        ok = false;
        diags.push(
            Diagnostic::new(
                Code::UnsendableParameter,
                format!(
                    "parameter `{}` of courier method `{}::{}` cannot cross the wire",
                    param.name, ty.name, method.name
                ),
            )
            .primary(param.ty_span.clone(), why)
            .secondary(
                at.clone(),
                format!("`{}` is served as a courier here", ty.name),
            )
            .help("take an owned, serializable type (e.g. `String` instead of `&str`)"),
        );
    }
    if method.output == RustType::ImplTrait || method.output == RustType::Reference {
        ok = false;
        diags.push(
            Diagnostic::new(
                Code::UnsendableParameter,
                format!(
                    "courier method `{}::{}` returns a type that cannot cross the wire",
                    ty.name, method.name
                ),
            )
            .primary(method.span.clone(), "returns a reference or `impl Trait`")
            .help("return an owned, serializable type"),
        );
    }
    ok.then(|| CourierMethod {
        name: method.name.clone(),
        is_async: method.is_async,
        params: method
            .params
            .iter()
            .map(|p| (p.name.clone(), p.tokens.clone()))
            .collect(),
        output: match &method.result_ok {
            Some(ok) => Output::Result(ok.clone()),
            None => Output::Plain(method.output_tokens.clone()),
        },
        batch: None,
    })
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
    if method.visibility != Visibility::Public {
        diags.push(
            Diagnostic::new(
                Code::NotPublic,
                format!("function `{}` is not `pub`", method.name),
            )
            .primary(at.clone(), "run by a `fn` node here")
            .secondary(method.span.clone(), "defined here")
            .help(format!("declare it `pub fn {}`", method.name)),
        );
        return None;
    }
    if let Some(generics) = &method.generics {
        diags.push(
            Diagnostic::new(
                Code::UnsendableParameter,
                format!("function `{}` is generic", method.name),
            )
            .primary(at.clone(), "run by a `fn` node here")
            .secondary(generics.clone(), "generic parameter")
            .help("a `fn` node needs concrete parameter types"),
        );
        return None;
    }
    let mut ok = true;
    for param in &method.params {
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
    let wrapper = function
        .module
        .iter()
        .chain(std::iter::once(&method.name))
        .cloned()
        .collect::<Vec<_>>()
        .join("__");
    ok.then(|| FnNode {
        path: function.path(),
        wrapper,
        is_async: method.is_async,
        params: method
            .params
            .iter()
            .map(|p| FnParam {
                name: p.name.clone(),
                tokens: p.tokens.clone(),
                context: p.ty == RustType::Context,
            })
            .collect(),
        returns_result: method.result_ok.is_some(),
    })
}
