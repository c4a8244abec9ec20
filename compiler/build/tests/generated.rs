//! Snapshots of the code generated for the examples (the examples' own builds compile it,
//! with `#![deny(warnings)]`).

use lpc_build::codegen::Runtime;
use std::path::{Path, PathBuf};

/// The code generated for the example package `name`, naming the runtime by `lp`.
fn generated(name: &str, lp: &Runtime) -> String {
    let package: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name);
    let lp_files = lpc_build::driver::lp_files(&package);
    let checked = lpc_build::driver::check_package(&package, &lp_files).expect("example checks");
    let diagnostics: Vec<_> = checked.diagnostics.iter().collect();
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
    checked.generate(&lp_files, lp).expect("generated code")
}

#[test]
fn consumer_producers() {
    insta::assert_snapshot!(generated("consumer_producers", &Runtime::default()));
}

/// With `Build::runtime_path`, every path into the runtime — in code, in the `__remote_error!`
/// macro's path and in `#[serde(crate = "…")]` — starts with the path given, and nothing else
/// changes. The examples together use every construct that names the runtime.
#[test]
fn runtime_path_replaces_every_path_into_the_runtime() {
    let renamed = Runtime::new("::my_lp").expect("a path");
    for example in [
        "consumer_producers",
        "batching",
        "hello_world",
        "program_wait",
        "mapreduce",
        "actor_learner",
    ] {
        let default = generated(example, &Runtime::default());
        let code = generated(example, &renamed);
        assert!(!code.contains("::lp::"), "{example}: `::lp::` is left");
        assert!(code.contains("#[serde(crate = \"::my_lp::codegen::serde\")]"));
        assert!(code.contains("::my_lp::__remote_error!") || !default.contains("__remote_error!"));
        // The same code but for the path. Lines may break elsewhere, the path being longer, and a
        // list broken over lines gets a trailing comma.
        let tokens = |code: &str| {
            let code: String = code.split_whitespace().collect();
            [")", "]", "}", ">"].iter().fold(code, |code, close| {
                code.replace(&format!(",{close}"), close)
            })
        };
        assert!(
            tokens(&code) == tokens(&default.replace("::lp::", "::my_lp::")),
            "{example}: the code differs in more than the runtime's path"
        );
    }
}

#[test]
fn runtime_paths_are_rust_paths() {
    for path in ["::my_lp", "my_lp", "crate::deps::lp", " ::my_lp ", "r#lp"] {
        assert!(Runtime::new(path).is_ok(), "{path}");
    }
    for path in [
        "",
        "::",
        "my-lp",
        "::my_lp::",
        "my_lp<T>",
        "a b",
        "::lp;",
        "1x",
        "(lp)",
    ] {
        let error = Runtime::new(path).expect_err(path);
        assert!(
            error.to_string().contains("write one like `::my_lp`"),
            "{error}"
        );
    }
}

/// Methods in `impl` blocks of other modules than the type's are found and served.
#[test]
fn impl_blocks_across_modules() {
    let package = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases/ok_impl_across_modules");
    let lp_files = lpc_build::driver::lp_files(&package);
    let checked = lpc_build::driver::check_package(&package, &lp_files).expect("case checks");
    let package = checked.package.expect("checks clean");
    let methods: Vec<&str> = package.couriers[0]
        .interface
        .methods
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    assert_eq!(methods, ["capacity", "reserve"]);
    assert_eq!(
        package.couriers[0].interface.path,
        "crate::nodes::types::Store"
    );
}

/// What generated code must never name without a path from a crate root: the items of the
/// standard prelude, and names a crate often defines for itself (and the standard crates, as a
/// path's first segment). The package `tests/packages/shadowed_prelude` defines `Ok`, `Vec`, `Clone`… at its
/// root and has `#![no_implicit_prelude]`, so there any of these names would not resolve, or
/// resolve to the wrong item.
const PRELUDE_ITEMS: &[&str] = &[
    "Copy",
    "Send",
    "Sized",
    "Sync",
    "Unpin",
    "Drop",
    "Fn",
    "FnMut",
    "FnOnce",
    "drop",
    "size_of",
    "size_of_val",
    "align_of",
    "align_of_val",
    "Box",
    "ToOwned",
    "Clone",
    "PartialEq",
    "PartialOrd",
    "Eq",
    "Ord",
    "AsRef",
    "AsMut",
    "Into",
    "From",
    "Default",
    "Iterator",
    "Extend",
    "IntoIterator",
    "DoubleEndedIterator",
    "ExactSizeIterator",
    "Option",
    "Some",
    "None",
    "Result",
    "Ok",
    "Err",
    "String",
    "ToString",
    "Vec",
    "TryFrom",
    "TryInto",
    "FromIterator",
    "Future",
    "IntoFuture",
    "Arc",
    "Rc",
    "Duration",
];

/// The prelude's macros, named by a macro invocation or a derive.
const PRELUDE_MACROS: &[&str] = &[
    "assert",
    "assert_eq",
    "assert_ne",
    "cfg",
    "column",
    "compile_error",
    "concat",
    "dbg",
    "debug_assert",
    "debug_assert_eq",
    "debug_assert_ne",
    "env",
    "eprint",
    "eprintln",
    "file",
    "format",
    "format_args",
    "include",
    "include_bytes",
    "include_str",
    "line",
    "matches",
    "module_path",
    "option_env",
    "panic",
    "print",
    "println",
    "stringify",
    "todo",
    "unimplemented",
    "unreachable",
    "vec",
    "write",
    "writeln",
    "Clone",
    "Copy",
    "Debug",
    "Default",
    "Eq",
    "Hash",
    "Ord",
    "PartialEq",
    "PartialOrd",
];

/// Methods of the prelude's traits: a method call resolves them only while the trait is in
/// scope, so generated code calls them by path (`::core::clone::Clone::clone(&x)`).
const PRELUDE_METHODS: &[&str] = &[
    "clone",
    "clone_from",
    "into",
    "try_into",
    "to_owned",
    "to_string",
    "extend",
    "into_iter",
    "collect",
    "next",
    "as_ref",
    "as_mut",
    "eq",
    "ne",
    "cmp",
    "partial_cmp",
];

/// Every name of generated code that reaches the standard library through the prelude.
#[derive(Default)]
struct ThroughThePrelude {
    found: Vec<String>,
}

impl ThroughThePrelude {
    fn check(&mut self, path: &syn::Path, names: &[&str]) {
        let Some(first) = path.segments.first().map(|s| s.ident.to_string()) else {
            return;
        };
        let crate_path = path.segments.len() > 1 && ["std", "core", "alloc"].contains(&&*first);
        if path.leading_colon.is_none() && (names.contains(&first.as_str()) || crate_path) {
            self.found
                .push(quote::ToTokens::to_token_stream(path).to_string());
        }
    }
}

impl<'ast> syn::visit::Visit<'ast> for ThroughThePrelude {
    fn visit_path(&mut self, path: &'ast syn::Path) {
        self.check(path, PRELUDE_ITEMS);
        syn::visit::visit_path(self, path);
    }

    /// A macro's path, and the elements of `vec![…]` (other macros' input is not Rust syntax).
    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.check(&mac.path, PRELUDE_MACROS);
        if mac.path.segments.last().is_some_and(|s| s.ident == "vec") {
            use syn::punctuated::Punctuated;
            let items = mac
                .parse_body_with(Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated)
                .expect("`vec!` holds expressions");
            items.iter().for_each(|item| self.visit_expr(item));
        }
    }

    fn visit_attribute(&mut self, attr: &'ast syn::Attribute) {
        if attr.path().is_ident("derive") {
            use syn::punctuated::Punctuated;
            let derived = attr
                .parse_args_with(Punctuated::<syn::Path, syn::Token![,]>::parse_terminated)
                .expect("derives are paths");
            derived
                .iter()
                .for_each(|path| self.check(path, PRELUDE_MACROS));
        }
        syn::visit::visit_attribute(self, attr);
    }

    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        if PRELUDE_METHODS.contains(&call.method.to_string().as_str()) {
            self.found.push(format!(".{}(…)", call.method));
        }
        syn::visit::visit_expr_method_call(self, call);
    }
}

/// The package `tests/packages/shadowed_prelude` has every construct of generated code; the
/// code generated for it names nothing through the prelude: every standard item by its path
/// from `::core` or `::std` (`::core::result::Result::Ok`, `#[derive(::core::clone::Clone)]`,
/// `::core::iter::Extend::extend(&mut v, …)`), the paths of its own signatures' external types
/// rooted too (`::std::collections::BTreeMap`, imported by `use`). `tests/tests/shadowed_prelude.rs`
/// builds the package, which has no prelude, with clippy.
#[test]
fn generated_code_names_nothing_through_the_prelude() {
    let package = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/packages/shadowed_prelude");
    let lp_files = lpc_build::driver::lp_files(&package);
    let checked = lpc_build::driver::check_package(&package, &lp_files).expect("package checks");
    let diagnostics: Vec<_> = checked.diagnostics.iter().collect();
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
    let code = checked
        .generate(&lp_files, &Runtime::default())
        .expect("generated code");
    let file = syn::parse_file(&code).expect("generated code parses");
    let mut prelude = ThroughThePrelude::default();
    syn::visit::Visit::visit_file(&mut prelude, &file);
    assert!(
        prelude.found.is_empty(),
        "generated code names these through the prelude: {:#?}",
        prelude.found
    );
    for rooted in [
        "::std::collections::BTreeMap",
        "crate::Vec",
        "#[derive(::core::clone::Clone)]",
    ] {
        let tokens: String = code.split_whitespace().collect();
        assert!(
            tokens.contains(&rooted.replace(' ', "")),
            "`{rooted}` is missing"
        );
    }
}
