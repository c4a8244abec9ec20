//! Values: constructor arguments and block settings (literals, params, handles, and numbers
//! computed from flags through the program's `SITES`), and the sites themselves.

use super::Runtime;
use crate::check::model::{BinOp, Index, Literal, NumExpr, NumType, Site, Value};
use crate::rust::{ident, RustType};
use proc_macro2::{Literal as Lit, TokenStream};
use quote::{format_ident, quote};

/// Where a value is computed: in a node's factory (which has `env`, and returns errors with
/// `?`), or in `make_program` for a block setting (errors are recorded by `ids`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum In {
    Factory,
    Program,
}

/// The expression passing `value` to a parameter of type `target`.
pub(super) fn expand_value(value: &Value, target: &RustType, at: In, lp: &Runtime) -> TokenStream {
    let inner = match target {
        RustType::Vec(inner) | RustType::Option(inner) => &**inner,
        other => other,
    };
    match value {
        // A float computes in `f64`, then converts: the same rounding as a computed value. (No
        // parentheses: the value is always a whole argument, element or field.)
        Value::Literal(Literal::Float(f)) if *target == RustType::Float("f32") => {
            let lit = Lit::f64_suffixed(f.abs());
            let sign = f.is_sign_negative().then(|| quote!(-));
            quote!(#sign #lit as f32)
        }
        Value::Literal(literal) => expand_literal(literal),
        Value::Param(name) => {
            let name = ident(name);
            match target {
                RustType::String => quote!(::core::clone::Clone::clone(&params.#name)),
                _ => quote!(params.#name),
            }
        }
        Value::Computed(site) => {
            let ty = number_type(target);
            computed(*site, ty, at, lp)
        }
        Value::List(items) => {
            let items = items.iter().map(|item| expand_value(item, inner, at, lp));
            quote!(::std::vec![#(#items),*])
        }
        Value::Some(value) => {
            let value = expand_value(value, inner, at, lp);
            quote!(::core::option::Option::Some(#value))
        }
        Value::None => quote!(::core::option::Option::None),
        Value::Node(name) => {
            let r = ref_ident(name);
            quote!(env.handle(&#r))
        }
        Value::Group(name) => {
            let r = ref_ident(name);
            quote!(env.group(&#r))
        }
        Value::GroupAt(name, index) => {
            let r = ref_ident(name);
            let index = match index {
                Index::Const(i) => {
                    let i = Lit::u64_unsuffixed(*i);
                    quote!(#i)
                }
                Index::Site(site) => computed(*site, quote!(usize), at, lp),
            };
            quote!(env.group_at(&#r, #index)?)
        }
    }
}

/// A number computed from a site.
fn computed(site: usize, ty: TokenStream, at: In, lp: &Runtime) -> TokenStream {
    match at {
        In::Factory => quote!(#lp::codegen::value::<#ty, _>(&SITES[#site], &params, env)?),
        In::Program => quote!(ids.setting::<#ty>(&SITES[#site])),
    }
}

/// The numeric Rust type a computed value is converted to.
fn number_type(target: &RustType) -> TokenStream {
    match target {
        RustType::Int(int) => {
            let ty = format_ident!("{}", int.name());
            quote!(#ty)
        }
        RustType::Float(f) => {
            let ty = format_ident!("{}", f);
            quote!(#ty)
        }
        RustType::Option(inner) | RustType::Vec(inner) => number_type(inner),
        // The checker computes only numbers.
        _ => quote!(f64),
    }
}

pub(super) fn expand_literal(literal: &Literal) -> TokenStream {
    match literal {
        Literal::Int(v) => signed(*v),
        Literal::Float(f) => {
            let lit = Lit::f64_unsuffixed(f.abs());
            if f.is_sign_negative() {
                quote!(-#lit)
            } else {
                quote!(#lit)
            }
        }
        Literal::Bool(b) => quote!(#b),
        Literal::Str(s) => string(s),
        Literal::Duration(d) => duration(d),
    }
}

/// A `String` holding `s`, as an expression (`String::from` would need `From` in scope).
pub(super) fn string(s: &str) -> TokenStream {
    quote!(::std::borrow::ToOwned::to_owned(#s))
}

/// A `Duration` as an expression.
fn duration(d: &std::time::Duration) -> TokenStream {
    let nanos = Lit::u128_unsuffixed(d.as_nanos());
    quote!(::std::time::Duration::from_nanos(#nanos))
}

fn signed(v: i128) -> TokenStream {
    let lit = Lit::u128_unsuffixed(v.unsigned_abs());
    if v < 0 {
        quote!(-#lit)
    } else {
        quote!(#lit)
    }
}

/// The local holding a node's or group's reference in `make_program`: `__r_` and the name,
/// so it never meets a user name (no user name becomes a local there).
pub(super) fn ref_ident(name: &str) -> proc_macro2::Ident {
    format_ident!("__r_{}", name)
}

/// The program's `SITES` table.
pub(super) fn expand_sites(sites: &[Site], param_names: &[String], lp: &Runtime) -> TokenStream {
    let sites = sites.iter().map(|site| {
        let (what, text, at) = (&site.what, &site.text, &site.at);
        let expr = expand_num(&site.expr, lp);
        let target = match site.target {
            NumType::Int(int) => format_ident!("{}", capitalize(int.name())),
            NumType::Float(f) => format_ident!("{}", capitalize(f)),
        };
        let option = |v: Option<i128>| match v {
            Some(v) => {
                let v = signed(v);
                quote!(::core::option::Option::Some(#v))
            }
            None => quote!(::core::option::Option::None),
        };
        let (min, max) = (option(site.min), option(site.max));
        let index = |v: Option<usize>| match v {
            Some(v) => quote!(::core::option::Option::Some(#v)),
            None => quote!(::core::option::Option::None),
        };
        let (group, bound) = (index(site.group), index(site.bound));
        let flags = site.flags.iter().map(|&i| {
            let name = param_names.get(i).map_or("?", String::as_str);
            quote!((#name, #i))
        });
        quote! {
            #lp::codegen::Site {
                what: #what,
                text: #text,
                at: #at,
                expr: &#expr,
                target: #lp::codegen::Target::#target,
                min: #min,
                max: #max,
                group: #group,
                bound: #bound,
                flags: &[#(#flags),*],
            }
        }
    });
    quote! {
        /// The values computed from flags when the program is built, each checked once.
        const SITES: &[#lp::codegen::Site] = &[#(#sites),*];
    }
}

fn capitalize(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

/// A [`NumExpr`] as a `::lp::codegen::Expr` constant.
fn expand_num(expr: &NumExpr, lp: &Runtime) -> TokenStream {
    match expr {
        NumExpr::Int(v) => {
            let v = signed(*v);
            quote!(#lp::codegen::Expr::Int(#v))
        }
        NumExpr::Float(f) => {
            let lit = expand_literal(&Literal::Float(*f));
            quote!(#lp::codegen::Expr::Float(#lit))
        }
        NumExpr::Param(i) => quote!(#lp::codegen::Expr::Param(#i)),
        NumExpr::Replica => quote!(#lp::codegen::Expr::Replica),
        NumExpr::Replicas => quote!(#lp::codegen::Expr::Replicas),
        NumExpr::Neg(inner) => {
            let inner = expand_num(inner, lp);
            quote!(#lp::codegen::Expr::Neg(&#inner))
        }
        NumExpr::Binary(op, lhs, rhs) => {
            let (lhs, rhs) = (expand_num(lhs, lp), expand_num(rhs, lp));
            let op = match op {
                BinOp::Add => quote!(Add),
                BinOp::Sub => quote!(Sub),
                BinOp::Mul => quote!(Mul),
                BinOp::Div => quote!(Div),
                BinOp::Rem => quote!(Rem),
            };
            quote!(#lp::codegen::Expr::Binary(#lp::codegen::Op::#op, &#lhs, &#rhs))
        }
    }
}
