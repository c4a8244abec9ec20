//! One program: a module holding only generated items — `Params`, `SITES`, `Nodes`, `Program`,
//! `make_program` and `main`. User names appear in it only as fields (of `Params` and `Nodes`)
//! and inside `__r_`-prefixed locals, so no name a `.lp` file declares can clash with them.

use super::value::{expand_literal, expand_sites, expand_value, ref_ident, string, In};
use super::{doc_attrs, Runtime};
use crate::check::model::{
    Build, Count, EnvValue, Index, Kind, Literal, Node, Param, ParamType, Program, Runner,
    Settings, Value,
};
use crate::rust::{ident, path_tokens, RustType};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

/// The module generated for a program.
pub(super) fn expand_program(program: &Program, lp: &Runtime) -> TokenStream {
    let module = ident(&program.name);
    let doc = doc_attrs(program.doc.as_deref());
    let params = expand_params(&program.params, lp);
    let names: Vec<String> = program.params.iter().map(|p| p.name.clone()).collect();
    let sites = expand_sites(&program.sites, &names, lp);
    let program_struct = expand_program_struct(program, lp);
    let make_program = expand_make_program(program, lp);
    let name = &program.name;
    let about = program
        .doc
        .as_deref()
        .unwrap_or_default()
        .replace('\n', " ");
    // Every path is absolute, even where a shorter one would do; user names (the module's, the
    // fields') need not be snake case; literals are the `.lp` file's, as written (`3.14159`).
    quote! {
        #doc
        #[allow(unused_qualifications, non_snake_case, clippy::approx_constant)]
        pub mod #module {
            #params
            #sites
            #program_struct
            #make_program

            /// Parses the program's flags and launches it (the entry point of its binary).
            pub fn main() -> ::std::process::ExitCode {
                #lp::codegen::main::<Params, Program>(#name, #about, make_program)
            }
        }
    }
}

fn expand_params(params: &[Param], lp: &Runtime) -> TokenStream {
    let serde = lp.serde();
    let fields = params.iter().map(|p| {
        let doc = doc_attrs(p.doc.as_deref());
        let name = ident(&p.name);
        let ty = param_type(p.ty);
        quote!(#doc pub #name: #ty)
    });
    let default_impl = expand_default(params);
    let flags = params.iter().map(|p| expand_flag(p, lp));
    let names: Vec<_> = params.iter().map(|p| ident(&p.name)).collect();
    let keys = params.iter().map(|p| &p.name);
    let number = expand_number(params, lp);
    quote! {
        /// The program's params: one flag of the binary each.
        #[derive(
            ::core::clone::Clone,
            ::core::fmt::Debug,
            #lp::codegen::serde::Serialize,
            #lp::codegen::serde::Deserialize
        )]
        #[serde(crate = #serde)]
        pub struct Params {
            #(#fields,)*
        }

        #default_impl

        impl #lp::codegen::Params for Params {
            fn flags() -> ::std::vec::Vec<#lp::codegen::Flag> {
                ::std::vec![#(#flags),*]
            }

            fn from_flags(
                values: &#lp::codegen::FlagValues,
            ) -> ::core::result::Result<Self, #lp::codegen::FlagError> {
                let _ = values;
                ::core::result::Result::Ok(Params { #(#names: values.get(#keys)?,)* })
            }

            #number
        }
    }
}

/// `impl Default for Params` with the `.lp` file's defaults, when every param has one.
fn expand_default(params: &[Param]) -> Option<TokenStream> {
    let defaults = params
        .iter()
        .map(|p| {
            p.default
                .as_ref()
                .map(|d| (ident(&p.name), default_tokens(d)))
        })
        .collect::<Option<Vec<_>>>()?;
    let (names, values): (Vec<_>, Vec<_>) = defaults.into_iter().unzip();
    // The defaults may all be the types' own (`false`, `0`): still the `.lp` file's.
    Some(quote! {
        #[allow(clippy::derivable_impls)]
        impl ::core::default::Default for Params {
            fn default() -> Self {
                Params { #(#names: #values),* }
            }
        }
    })
}

/// A param's entry in `Params::flags`: its name, type, help and default.
fn expand_flag(p: &Param, lp: &Runtime) -> TokenStream {
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
    quote!(#lp::codegen::Flag { name: #name, ty: #ty, help: #help, default: #default })
}

/// `Params::number`: the numeric param `index`, for the sites.
fn expand_number(params: &[Param], lp: &Runtime) -> TokenStream {
    let numbers: Vec<TokenStream> = params
        .iter()
        .enumerate()
        .filter(|(_, p)| p.ty.is_number())
        .map(|(i, p)| {
            let name = ident(&p.name);
            quote!(#i => ::core::convert::From::from(self.#name),)
        })
        .collect();
    // Without a numeric param there is nothing to match on.
    let body = if numbers.is_empty() {
        quote!(let _ = index; #lp::codegen::Num::Int(0))
    } else {
        quote! {
            match index {
                #(#numbers)*
                _ => #lp::codegen::Num::Int(0),
            }
        }
    };
    quote! {
        fn number(&self, index: usize) -> #lp::codegen::Num {
            #body
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

fn default_tokens(literal: &Literal) -> TokenStream {
    expand_literal(literal)
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

/// `Nodes` (a field per node) and `Program` (the nodes, and the layout), which dereferences to
/// its `Nodes`: `program.consumer.disable_run()`.
fn expand_program_struct(program: &Program, lp: &Runtime) -> TokenStream {
    let fields = program.nodes.iter().map(|node| {
        let doc = doc_attrs(node.doc.as_deref());
        let name = ident(&node.name);
        let ty = path_tokens(&node.type_path);
        if node.count.is_some() {
            quote!(#doc pub #name: #lp::Group<#ty>)
        } else {
            quote!(#doc pub #name: #lp::Node<#ty>)
        }
    });
    let erase = program.nodes.iter().map(|node| {
        let name = ident(&node.name);
        quote!(nodes.#name.erase_into(selection);)
    });
    let nodes_doc = format!(" The nodes of `{}`, before launch.", program.name);
    let program_doc = format!(
        " `{}`, ready to launch: its nodes (it dereferences to [`Nodes`]) and their layout.",
        program.name
    );
    quote! {
        #[doc = #nodes_doc]
        pub struct Nodes {
            #(#fields,)*
        }

        #[doc = #program_doc]
        pub struct Program {
            nodes: Nodes,
            layout: #lp::codegen::Layout,
        }

        impl ::core::ops::Deref for Program {
            type Target = Nodes;

            fn deref(&self) -> &Nodes {
                &self.nodes
            }
        }

        impl ::core::ops::DerefMut for Program {
            fn deref_mut(&mut self) -> &mut Nodes {
                &mut self.nodes
            }
        }

        impl #lp::Program for Program {
            fn into_parts(self) -> (#lp::codegen::Layout, ::std::vec::Vec<#lp::codegen::ErasedNode>) {
                #lp::codegen::erase_all(self)
            }

            fn select(self, selection: &mut #lp::codegen::Selection) -> #lp::codegen::Layout {
                let Program { nodes, layout } = self;
                #(#erase)*
                layout
            }
        }
    }
}

fn expand_make_program(program: &Program, lp: &Runtime) -> TokenStream {
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
            if process.is_some_and(|name| program.first_completed.iter().any(|p| p == name)) {
                allocs.push(quote!(ids.return_on_first_completed();));
            }
        }
        let r = ref_ident(&node.name);
        let ty = path_tokens(&node.type_path);
        let label = &node.name;
        allocs.push(match &node.count {
            Some(Count::Const(n)) => {
                quote!(let #r = ids.group::<#ty>(#label, #lp::codegen::Count::Const(#n));)
            }
            Some(Count::Site(site)) => {
                quote!(let #r = ids.group::<#ty>(#label, #lp::codegen::Count::Site(&SITES[#site]));)
            }
            None => quote!(let #r = ids.node::<#ty>(#label);),
        });
    }
    let names = program.nodes.iter().map(|n| ident(&n.name));
    let constructs = program.nodes.iter().map(|n| expand_node(n, lp));
    quote! {
        /// Builds the program graph: every node's address is allocated before any node is
        /// constructed, so handles may point anywhere. Every value computed from the params is
        /// computed and checked here, before any node starts: a bad one makes the launch fail
        /// (the binary reports it as a flag error).
        pub fn make_program(params: Params) -> Program {
            let mut ids = #lp::codegen::IdAlloc::new(#name, &params, SITES);
            #(#allocs)*
            let nodes = Nodes { #(#names: #constructs,)* };
            Program { nodes, layout: ids.finish() }
        }
    }
}

fn expand_node(node: &Node, lp: &Runtime) -> TokenStream {
    let r = ref_ident(&node.name);
    let ty = path_tokens(&node.type_path);
    let args: Vec<TokenStream> = node
        .args
        .iter()
        .map(|arg| expand_value(&arg.value, &arg.target, In::Factory, lp))
        .collect();
    let construct = match &node.build {
        Build::Constructor { name, fallible } => {
            let ctor = ident(name);
            if *fallible {
                quote! {
                    <#ty>::#ctor(#(#args),*)
                        .map_err(|e| #lp::codegen::node_error(#lp::__remote_error!(e)))
                }
            } else {
                quote!(::core::result::Result::Ok(<#ty>::#ctor(#(#args),*)))
            }
        }
        // A `fn` node's wrapper is built field by field.
        Build::Function(_) => {
            let fields = node.args.iter().map(|a| ident(&a.name));
            quote!(::core::result::Result::Ok(#ty { #(#fields: #args),* }))
        }
    };
    let runner = match node.runner {
        Runner::None => quote!(#lp::codegen::Runner::none()),
        Runner::Async => quote!(#lp::codegen::Runner::run()),
        Runner::Blocking => quote!(#lp::codegen::Runner::blocking()),
    };
    let builder = match (node.kind, node.count.is_some()) {
        (Kind::Courier, false) => quote!(#lp::codegen::node_courier),
        (Kind::Courier, true) => quote!(#lp::codegen::group_courier),
        (Kind::Worker, false) => quote!(#lp::codegen::node_worker),
        (Kind::Worker, true) => quote!(#lp::codegen::group_worker),
    };
    // The factory owns a clone of each group it holds handles to; a `NodeRef` is `Copy`, so
    // the `move` closure takes a copy of each node's.
    let mut held = Vec::new();
    for arg in &node.args {
        collect_refs(&arg.value, &mut held);
    }
    let refs: Vec<TokenStream> = held
        .iter()
        .filter(|(_, group)| *group)
        .map(|(n, _)| ref_ident(n))
        .map(|r| quote!(let #r = ::core::clone::Clone::clone(&#r);))
        .collect();
    let uses_env = node.args.iter().any(|a| value_uses_env(&a.value));
    let env = if uses_env { quote!(env) } else { quote!(_env) };
    let params = if node.args.iter().any(|a| value_uses_params(&a.value)) {
        quote!(let params = ::core::clone::Clone::clone(&params);)
    } else {
        quote!()
    };
    let self_ref = if node.count.is_some() {
        quote!(::core::clone::Clone::clone(&#r))
    } else {
        quote!(#r)
    };
    let factory = quote! {
        move |#env: &#lp::codegen::Env| -> ::core::result::Result<#ty, #lp::Error> { #construct }
    };
    let factory = if params.is_empty() && refs.is_empty() {
        factory
    } else {
        quote!({ #params #(#refs)* #factory })
    };
    let settings = expand_settings(&node.settings, lp);
    let calls = expand_calls(&held);
    quote!(#builder(#self_ref, #runner, #factory)#settings #(#calls)*)
}

/// `.calls(…)` for each node and group (`held`: name, whether a group) the node's arguments
/// hold handles to: its process gets their keys (and no others).
fn expand_calls(held: &[(String, bool)]) -> Vec<TokenStream> {
    held.iter()
        .map(|(name, group)| {
            let r = ref_ident(name);
            match group {
                true => quote!(.calls(&#r)),
                false => quote!(.calls(#r)),
            }
        })
        .collect()
}

/// `.with_settings(…)` for a node with a block, else nothing.
fn expand_settings(settings: &Settings, lp: &Runtime) -> TokenStream {
    if settings.is_empty() {
        return TokenStream::new();
    }
    let env = settings.env.iter().map(|(name, value)| {
        let value = match value {
            EnvValue::Literal(s) => string(s),
            EnvValue::Param(p) => {
                let p = ident(p);
                quote!(::core::clone::Clone::clone(&params.#p))
            }
        };
        let name = string(name);
        quote!((#name, #value))
    });
    let setting = |value: &Option<Value>, target: RustType| match value {
        Some(v) => {
            let v = expand_value(v, &target, In::Program, lp);
            quote!(::core::option::Option::Some(#v))
        }
        None => quote!(::core::option::Option::None),
    };
    let cpus = setting(&settings.cpus, RustType::Float("f64"));
    let memory = setting(&settings.memory, RustType::String);
    let gpus = setting(&settings.gpus, RustType::Int(crate::rust::IntType::U32));
    let deadline = setting(&settings.deadline, RustType::Duration);
    let restart = match &settings.restart {
        Some(r) => {
            let max = expand_value(
                &r.max,
                &RustType::Int(crate::rust::IntType::U32),
                In::Program,
                lp,
            );
            let backoff = expand_value(&r.backoff, &RustType::Duration, In::Program, lp);
            quote!(::core::option::Option::Some(#lp::Restart { max: #max, backoff: #backoff }))
        }
        None => quote!(::core::option::Option::None),
    };
    let usize_type = RustType::Int(crate::rust::IntType::Usize);
    let batches = settings.batches.iter().map(|b| {
        let method = string(&b.method);
        let size = expand_value(&b.size, &usize_type, In::Program, lp);
        let parallel = expand_value(&b.max_parallelism, &usize_type, In::Program, lp);
        let timeout = expand_value(&b.timeout, &RustType::Duration, In::Program, lp);
        quote! {
            #lp::Batch {
                method: #method,
                size: #size,
                timeout: #timeout,
                max_parallelism: #parallel,
            }
        }
    });
    quote! {
        .with_settings(#lp::Settings {
            env: ::std::vec![#(#env),*],
            resources: #lp::Resources { cpus: #cpus, memory: #memory, gpus: #gpus },
            restart: #restart,
            batches: ::std::vec![#(#batches),*],
            deadline: #deadline,
        })
    }
}

fn value_uses_params(value: &Value) -> bool {
    match value {
        Value::Param(_) | Value::Computed(_) | Value::GroupAt(_, Index::Site(_)) => true,
        Value::List(items) => items.iter().any(value_uses_params),
        Value::Some(inner) => value_uses_params(inner),
        Value::Literal(_) | Value::None | Value::Node(_) | Value::Group(_) | Value::GroupAt(..) => {
            false
        }
    }
}

fn value_uses_env(value: &Value) -> bool {
    match value {
        Value::Node(_) | Value::Group(_) | Value::GroupAt(..) | Value::Computed(_) => true,
        Value::List(items) => items.iter().any(value_uses_env),
        Value::Some(inner) => value_uses_env(inner),
        Value::Literal(_) | Value::Param(_) | Value::None => false,
    }
}

/// Adds the names of the nodes and groups a value holds handles to (each once), each with
/// whether it is a group.
fn collect_refs(value: &Value, out: &mut Vec<(String, bool)>) {
    let name = match value {
        Value::Node(n) => (n.clone(), false),
        Value::Group(n) | Value::GroupAt(n, _) => (n.clone(), true),
        Value::List(items) => return items.iter().for_each(|i| collect_refs(i, out)),
        Value::Some(inner) => return collect_refs(inner, out),
        Value::Literal(_) | Value::Param(_) | Value::Computed(_) | Value::None => return,
    };
    if !out.contains(&name) {
        out.push(name);
    }
}
