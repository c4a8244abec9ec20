//! One program: its `Params`, its `Program` of nodes, `make_program` and `main`.

use super::courier::{ident, path_tokens};
use super::doc_attrs;
use super::value::{expand_int, expand_value, ref_ident};
use crate::check::model::{
    Build, EnvValue, IntExpr, Kind, Literal, Node, Param, ParamType, Program, Runner, Settings,
    Value,
};
use proc_macro2::{Literal as Lit, TokenStream};
use quote::{format_ident, quote};

/// The module generated for a program.
pub(super) fn expand_program(program: &Program) -> TokenStream {
    let module = ident(&program.name);
    let doc = doc_attrs(program.doc.as_deref());
    let params = expand_params(&program.params);
    let program_struct = expand_program_struct(program);
    let make_program = expand_make_program(program);
    let name = &program.name;
    let about = program
        .doc
        .as_deref()
        .unwrap_or_default()
        .replace('\n', " ");
    quote! {
        #doc
        #[allow(clippy::all, unused_qualifications)]
        pub mod #module {
            #params
            #program_struct
            #make_program

            /// Parses the program's flags and launches it (the entry point of its binary).
            pub fn main() -> ::std::process::ExitCode {
                lp::codegen::main::<Params, Program>(#name, #about, make_program)
            }
        }
    }
}

fn expand_params(params: &[Param]) -> TokenStream {
    let fields = params.iter().map(|p| {
        let doc = doc_attrs(p.doc.as_deref());
        let name = ident(&p.name);
        let ty = param_type(p.ty);
        quote!(#doc pub #name: #ty)
    });
    let default_impl = params
        .iter()
        .map(|p| {
            p.default
                .as_ref()
                .map(|d| (ident(&p.name), default_tokens(d, p.ty)))
        })
        .collect::<Option<Vec<_>>>()
        .map(|defaults| {
            let (names, values): (Vec<_>, Vec<_>) = defaults.into_iter().unzip();
            quote! {
                impl ::core::default::Default for Params {
                    fn default() -> Self {
                        Params { #(#names: #values),* }
                    }
                }
            }
        });
    let flags = params.iter().map(|p| {
        let name = &p.name;
        let ty = p.ty.name();
        let help = p.doc.as_deref().unwrap_or_default().replace('\n', " ");
        let default = match &p.default {
            Some(d) => {
                let text = flag_default(d);
                quote!(::core::option::Option::Some(#text))
            }
            None => quote!(::core::option::Option::None),
        };
        quote!(lp::codegen::Flag { name: #name, ty: #ty, help: #help, default: #default })
    });
    let names: Vec<_> = params.iter().map(|p| ident(&p.name)).collect();
    let keys = params.iter().map(|p| &p.name);
    quote! {
        /// The program's params: one flag of the binary each.
        #[derive(Clone, Debug, lp::codegen::serde::Serialize, lp::codegen::serde::Deserialize)]
        #[serde(crate = "lp::codegen::serde")]
        pub struct Params {
            #(#fields,)*
        }

        #default_impl

        impl lp::codegen::Params for Params {
            fn flags() -> ::std::vec::Vec<lp::codegen::Flag> {
                ::std::vec![#(#flags),*]
            }

            fn from_flags(
                values: &lp::codegen::FlagValues,
            ) -> ::core::result::Result<Self, lp::codegen::FlagError> {
                let _ = values;
                ::core::result::Result::Ok(Params { #(#names: values.get(#keys)?,)* })
            }
        }
    }
}

fn param_type(ty: ParamType) -> TokenStream {
    match ty {
        ParamType::String => quote!(::std::string::String),
        ParamType::Duration => quote!(::std::time::Duration),
        other => {
            let name = format_ident!("{}", other.name());
            quote!(#name)
        }
    }
}

fn default_tokens(literal: &Literal, ty: ParamType) -> TokenStream {
    match (literal, ty) {
        (Literal::Int(v), ParamType::Int(_)) => {
            let lit = Lit::u128_unsuffixed(v.unsigned_abs());
            if *v < 0 {
                quote!(-#lit)
            } else {
                quote!(#lit)
            }
        }
        (Literal::Float(f), _) => {
            let lit = Lit::f64_unsuffixed(f.abs());
            if f.is_sign_negative() {
                quote!(-#lit)
            } else {
                quote!(#lit)
            }
        }
        (Literal::Bool(b), _) => quote!(#b),
        (Literal::Str(s), _) => quote!(::std::string::String::from(#s)),
        (Literal::Duration(d), _) => super::value::duration(d),
        (Literal::Int(v), _) => {
            let lit = Lit::f64_unsuffixed(*v as f64);
            quote!(#lit)
        }
    }
}

/// A default as the flag parser reads it back.
fn flag_default(literal: &Literal) -> String {
    match literal {
        Literal::Int(v) => v.to_string(),
        Literal::Float(f) => f.to_string(),
        Literal::Bool(b) => b.to_string(),
        Literal::Str(s) => s.clone(),
        Literal::Duration(d) if d.subsec_nanos() % 1_000_000 == 0 => format!("{}ms", d.as_millis()),
        Literal::Duration(d) => format!("{}ns", d.as_nanos()),
    }
}

fn expand_program_struct(program: &Program) -> TokenStream {
    let fields = program.nodes.iter().map(|node| {
        let doc = doc_attrs(node.doc.as_deref());
        let name = ident(&node.name);
        let ty = path_tokens(&node.type_path);
        if node.count.is_some() {
            quote!(#doc pub #name: lp::Group<#ty>)
        } else {
            quote!(#doc pub #name: lp::Node<#ty>)
        }
    });
    let erase = program.nodes.iter().map(|node| {
        let name = ident(&node.name);
        quote!(nodes.extend(self.#name.erase());)
    });
    let doc = format!(" The nodes of `{}`, before launch.", program.name);
    quote! {
        #[doc = #doc]
        pub struct Program {
            #(#fields,)*
            #[doc(hidden)]
            pub __layout: lp::codegen::Layout,
        }

        impl lp::Program for Program {
            fn into_parts(self) -> (lp::codegen::Layout, ::std::vec::Vec<lp::codegen::ErasedNode>) {
                let mut nodes = ::std::vec::Vec::new();
                #(#erase)*
                (self.__layout, nodes)
            }
        }
    }
}

fn expand_make_program(program: &Program) -> TokenStream {
    let name = &program.name;
    let mut process: Option<&str> = None;
    let mut allocs: Vec<TokenStream> = Vec::new();
    for node in &program.nodes {
        if node.process.as_deref() != process {
            process = node.process.as_deref();
            allocs.push(match process {
                Some(name) => quote!(ids.process(::core::option::Option::Some(#name));),
                None => quote!(ids.process(::core::option::Option::None);),
            });
        }
        let r = ref_ident(&node.name);
        let ty = path_tokens(&node.type_path);
        let label = &node.name;
        allocs.push(match &node.count {
            Some(count) => {
                let count = expand_int(count);
                quote!(let #r = ids.group::<#ty>(#label, #count);)
            }
            None => quote!(let #r = ids.node::<#ty>(#label);),
        });
    }
    let constructs = program.nodes.iter().map(expand_node);
    let names = program.nodes.iter().map(|n| ident(&n.name));
    quote! {
        /// Builds the program graph: every node's address is allocated before any node is
        /// constructed, so handles may point anywhere.
        pub fn make_program(params: Params) -> Program {
            let mut ids = lp::codegen::IdAlloc::new(#name, &params);
            #(#allocs)*
            #(#constructs)*
            Program { #(#names,)* __layout: ids.finish() }
        }
    }
}

fn expand_node(node: &Node) -> TokenStream {
    let name = ident(&node.name);
    let r = ref_ident(&node.name);
    let ty = path_tokens(&node.type_path);
    let args: Vec<TokenStream> = node
        .args
        .iter()
        .map(|arg| {
            let what = format!("argument `{}` of `{}`", arg.name, node.name);
            expand_value(&arg.value, &arg.target, &what)
        })
        .collect();
    let construct = match &node.build {
        Build::Constructor(ctor) => {
            let ctor = ident(ctor);
            quote!(#ty::#ctor(#(#args),*))
        }
        // A `fn` node's wrapper is built field by field.
        Build::Function(_) => {
            let fields = node.args.iter().map(|a| ident(&a.name));
            quote!(#ty { #(#fields: #args),* })
        }
    };
    let runner = match node.runner {
        Runner::None => quote!(lp::codegen::Runner::none()),
        Runner::Async => quote!(lp::codegen::Runner::run()),
        Runner::Blocking => quote!(lp::codegen::Runner::blocking()),
    };
    let builder = match (node.kind, node.count.is_some()) {
        (Kind::Courier, false) => quote!(lp::codegen::node_courier),
        (Kind::Courier, true) => quote!(lp::codegen::group_courier),
        (Kind::Worker, false) => quote!(lp::codegen::node_worker),
        (Kind::Worker, true) => quote!(lp::codegen::group_worker),
    };
    let mut held = Vec::new();
    for arg in &node.args {
        collect_refs(&arg.value, &mut held);
    }
    let refs: Vec<TokenStream> = held
        .iter()
        .map(|n| ref_ident(n))
        .map(|r| quote!(let #r = #r.clone();))
        .collect();
    let env = if node.args.iter().any(|a| value_uses_env(&a.value)) {
        quote!(env)
    } else {
        quote!(_env)
    };
    let params = if node_uses_params(node) {
        quote!(let params = params.clone();)
    } else {
        quote!()
    };
    let self_ref = if node.count.is_some() {
        quote!(#r.clone())
    } else {
        quote!(#r)
    };
    let factory = quote!(move |#env: &lp::codegen::Env| #construct);
    let factory = if params.is_empty() && refs.is_empty() {
        factory
    } else {
        quote!({ #params #(#refs)* #factory })
    };
    let settings = expand_settings(&node.settings);
    quote! {
        let #name = #builder(#self_ref, #runner, #factory)#settings;
    }
}

/// `.with_settings(…)` for a node with a block, else nothing.
fn expand_settings(settings: &Settings) -> TokenStream {
    if *settings == Settings::default() {
        return TokenStream::new();
    }
    let env = settings.env.iter().map(|(name, value)| {
        let value = match value {
            EnvValue::Literal(s) => quote!(::std::string::String::from(#s)),
            EnvValue::Param(p) => {
                let p = ident(p);
                quote!(params.#p.clone())
            }
        };
        quote!((::std::string::String::from(#name), #value))
    });
    let option = |tokens: Option<TokenStream>| match tokens {
        Some(t) => quote!(::core::option::Option::Some(#t)),
        None => quote!(::core::option::Option::None),
    };
    let cpus = option(settings.cpus.map(|c| {
        let lit = proc_macro2::Literal::f64_suffixed(c);
        quote!(#lit)
    }));
    let memory = option(
        settings
            .memory
            .as_ref()
            .map(|m| quote!(::std::string::String::from(#m))),
    );
    let gpus = option(settings.gpus.map(|g| quote!(#g)));
    let restart = option(settings.restart.map(|r| {
        let (max, backoff) = (r.max, super::value::duration(&r.backoff));
        quote!(lp::Restart { max: #max, backoff: #backoff })
    }));
    let batches = settings.batches.iter().map(|b| {
        let (method, size, parallel) = (&b.method, b.size as usize, b.max_parallelism as usize);
        let timeout = super::value::duration(&b.timeout);
        quote! {
            lp::Batch {
                method: ::std::string::String::from(#method),
                size: #size,
                timeout: #timeout,
                max_parallelism: #parallel,
            }
        }
    });
    quote! {
        .with_settings(lp::Settings {
            env: ::std::vec![#(#env),*],
            resources: lp::Resources { cpus: #cpus, memory: #memory, gpus: #gpus },
            restart: #restart,
            batches: ::std::vec![#(#batches),*],
        })
    }
}

fn node_uses_params(node: &Node) -> bool {
    node.args.iter().any(|a| value_uses_params(&a.value))
}

fn value_uses_params(value: &Value) -> bool {
    match value {
        Value::Param(_) => true,
        Value::Int(e) | Value::GroupAt(_, e) => int_uses_params(e),
        Value::List(items) => items.iter().any(value_uses_params),
        Value::Literal(_) | Value::Node(_) | Value::Group(_) => false,
    }
}

fn int_uses_params(expr: &IntExpr) -> bool {
    match expr {
        IntExpr::Param(_) => true,
        IntExpr::Neg(e) => int_uses_params(e),
        IntExpr::Binary(_, l, r) => int_uses_params(l) || int_uses_params(r),
        IntExpr::Literal(_) | IntExpr::Replica | IntExpr::Replicas => false,
    }
}

fn value_uses_env(value: &Value) -> bool {
    fn int(e: &IntExpr) -> bool {
        match e {
            IntExpr::Replica | IntExpr::Replicas => true,
            IntExpr::Neg(e) => int(e),
            IntExpr::Binary(_, l, r) => int(l) || int(r),
            IntExpr::Literal(_) | IntExpr::Param(_) => false,
        }
    }
    match value {
        Value::Node(_) | Value::Group(_) | Value::GroupAt(..) => true,
        Value::Int(e) => int(e),
        Value::List(items) => items.iter().any(value_uses_env),
        Value::Literal(_) | Value::Param(_) => false,
    }
}

/// Adds the names of the nodes and groups a value holds handles to (each once).
fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Node(n) | Value::Group(n) | Value::GroupAt(n, _) => {
            if !out.contains(n) {
                out.push(n.clone());
            }
        }
        Value::List(items) => items.iter().for_each(|i| collect_refs(i, out)),
        Value::Literal(_) | Value::Param(_) | Value::Int(_) => {}
    }
}
