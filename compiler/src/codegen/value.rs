//! Constructor argument values: literals, params, integer arithmetic and handles.

use super::courier::ident;
use crate::check::model::{BinOp, IntExpr, Literal, Value};
use crate::rust::RustType;
use proc_macro2::{Literal as Lit, TokenStream};
use quote::{format_ident, quote};

/// The expression passing `value` to a parameter of type `target`; `what` names it in the
/// runtime error of an integer conversion that overflows.
pub(super) fn expand_value(value: &Value, target: &RustType, what: &str) -> TokenStream {
    match value {
        Value::Literal(literal) => expand_literal(literal, target),
        Value::Param(name) => {
            let name = ident(name);
            match target {
                RustType::String | RustType::Duration => quote!(params.#name.clone()),
                _ => quote!(params.#name),
            }
        }
        Value::Int(expr) => match target {
            RustType::Int(int) => {
                let ty = format_ident!("{}", int.name());
                let expr = expand_int(expr);
                quote!(lp::codegen::int::<#ty>(#expr, #what))
            }
            RustType::Float(float) => {
                let ty = format_ident!("{}", float);
                let expr = operand(expr);
                quote!(#expr as #ty)
            }
            // The checker only produces integer expressions for numeric targets.
            _ => expand_int(expr),
        },
        Value::List(items) => {
            let inner = match target {
                RustType::Vec(inner) => &**inner,
                other => other,
            };
            let items = items.iter().map(|item| expand_value(item, inner, what));
            quote!(::std::vec![#(#items),*])
        }
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
            let index = expand_int(index);
            quote!(env.group_at(&#r, #index))
        }
    }
}

fn expand_literal(literal: &Literal, target: &RustType) -> TokenStream {
    match literal {
        Literal::Int(v) => match target {
            RustType::Float(_) => {
                let lit = Lit::f64_unsuffixed(*v as f64);
                quote!(#lit)
            }
            _ => signed(*v),
        },
        Literal::Float(f) => {
            let lit = Lit::f64_unsuffixed(f.abs());
            if f.is_sign_negative() {
                quote!(-#lit)
            } else {
                quote!(#lit)
            }
        }
        Literal::Bool(b) => quote!(#b),
        Literal::Str(s) => quote!(::std::string::String::from(#s)),
        Literal::Duration(d) => duration(d),
    }
}

/// A `Duration` as an expression.
pub(super) fn duration(d: &std::time::Duration) -> TokenStream {
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

/// Integer arithmetic in `i128`, as a complete expression (no outer parentheses, which
/// rustc would warn about).
pub(super) fn expand_int(expr: &IntExpr) -> TokenStream {
    match expr {
        IntExpr::Literal(v) => match i128::try_from(v.unsigned_abs()) {
            Ok(abs) => {
                let lit = Lit::i128_suffixed(abs);
                if *v < 0 {
                    quote!(-#lit)
                } else {
                    quote!(#lit)
                }
            }
            // Only `i128::MIN` has no positive counterpart.
            Err(_) => quote!(i128::MIN),
        },
        IntExpr::Param(name) => {
            let name = ident(name);
            quote!(params.#name as i128)
        }
        IntExpr::Replica => quote!(env.replica() as i128),
        IntExpr::Replicas => quote!(env.replicas() as i128),
        IntExpr::Neg(inner) => {
            let inner = expand_int(inner);
            quote!(-(#inner))
        }
        IntExpr::Binary(op, lhs, rhs) => {
            let lhs = operand(lhs);
            let rhs = operand(rhs);
            let op = match op {
                BinOp::Add => quote!(+),
                BinOp::Sub => quote!(-),
                BinOp::Mul => quote!(*),
                BinOp::Div => quote!(/),
                BinOp::Rem => quote!(%),
            };
            quote!(#lhs #op #rhs)
        }
    }
}

/// An integer expression as an operand: parenthesised when it is itself arithmetic or a cast.
fn operand(expr: &IntExpr) -> TokenStream {
    let tokens = expand_int(expr);
    match expr {
        IntExpr::Binary(..) | IntExpr::Param(_) | IntExpr::Replica | IntExpr::Replicas => {
            quote!((#tokens))
        }
        IntExpr::Literal(_) | IntExpr::Neg(_) => tokens,
    }
}

/// The local holding a node's or group's reference in `make_program`.
pub(super) fn ref_ident(name: &str) -> proc_macro2::Ident {
    format_ident!("{}_ref", name)
}
