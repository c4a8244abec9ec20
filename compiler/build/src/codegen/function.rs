//! Functions run by `fn` nodes: each is wrapped in a worker type (in `crate::__lp::fns`, under
//! an injective mangling of its path) whose fields hold the arguments given in `.lp`, and whose
//! `run` calls the function.

use super::Runtime;
use crate::check::model::FnNode;
use crate::rust::{ident, path_tokens};
use proc_macro2::TokenStream;
use quote::quote;

/// The `fns` module, or nothing when no program has `fn` nodes.
pub(super) fn expand_functions(functions: &[FnNode], lp: &Runtime) -> TokenStream {
    if functions.is_empty() {
        return TokenStream::new();
    }
    let wrappers = functions.iter().map(|f| expand_wrapper(f, lp));
    quote! {
        /// Worker types that run the functions of `fn` nodes.
        pub mod fns {
            #(#wrappers)*
        }
    }
}

fn expand_wrapper(function: &FnNode, lp: &Runtime) -> TokenStream {
    let name = ident(&function.wrapper);
    let path = path_tokens(&function.path);
    let doc = format!(" Runs `{}` as a node.", function.path);
    let fields = function.params.iter().filter(|p| !p.context).map(|p| {
        let field = ident(&p.name);
        let ty = &p.tokens;
        quote!(pub #field: #ty)
    });
    // The node's context goes to the last parameter that takes it (clones to any before), each
    // field as a copy when its type is `Copy`, else as a clone (`run` has only `&self`).
    let last_context = function.params.iter().rposition(|p| p.context);
    let args = function.params.iter().enumerate().map(|(i, p)| {
        if p.context {
            return if Some(i) == last_context {
                quote!(ctx)
            } else {
                quote!(::core::clone::Clone::clone(&ctx))
            };
        }
        let field = ident(&p.name);
        if p.copy {
            quote!(self.#field)
        } else {
            quote!(::core::clone::Clone::clone(&self.#field))
        }
    });
    let ctx = if last_context.is_some() {
        quote!(ctx)
    } else {
        quote!(_ctx)
    };
    let call = if function.is_async {
        quote!(#path(#(#args),*).await)
    } else {
        quote!(#path(#(#args),*))
    };
    let body = if function.returns_result {
        quote! {
            match #call {
                ::core::result::Result::Ok(_) => ::core::result::Result::Ok(()),
                ::core::result::Result::Err(e) => {
                    ::core::result::Result::Err(#lp::codegen::node_error(#lp::__remote_error!(e)))
                }
            }
        }
    } else {
        // The function's value, whatever it is (`()` often), is not the node's.
        quote! {
            #[allow(clippy::let_unit_value)]
            let _ = #call;
            ::core::result::Result::Ok(())
        }
    };
    let run = if function.is_async {
        quote! {
            impl #lp::Run for #name {
                async fn run(&self, #ctx: #lp::Context) -> #lp::Result<()> {
                    #body
                }
            }
        }
    } else {
        quote! {
            impl #lp::BlockingRun for #name {
                fn run(&self, #ctx: #lp::Context) -> #lp::Result<()> {
                    #body
                }
            }
        }
    };
    quote! {
        #[doc = #doc]
        pub struct #name { #(#fields,)* }
        #run
    }
}
