//! Functions run by `fn` nodes: each is wrapped in a worker type whose fields hold the
//! arguments given in `.lp`, and whose `run` calls the function.

use super::courier::{ident, path_tokens};
use crate::check::model::FnNode;
use proc_macro2::TokenStream;
use quote::quote;

/// The `__lp_fns` module, or nothing when no program has `fn` nodes.
pub(super) fn expand_functions(functions: &[FnNode]) -> TokenStream {
    if functions.is_empty() {
        return TokenStream::new();
    }
    let wrappers = functions.iter().map(expand_wrapper);
    quote! {
        /// Worker types that run the functions of `fn` nodes.
        #[doc(hidden)]
        #[allow(clippy::all, non_camel_case_types, unused_qualifications)]
        pub mod __lp_fns {
            #(#wrappers)*
        }
    }
}

fn expand_wrapper(function: &FnNode) -> TokenStream {
    let name = ident(&function.wrapper);
    let path = path_tokens(&function.path);
    let doc = format!(" Runs `{}` as a node.", function.path);
    let fields = function.params.iter().filter(|p| !p.context).map(|p| {
        let field = ident(&p.name);
        let ty = &p.tokens;
        quote!(pub #field: #ty)
    });
    let args = function.params.iter().map(|p| {
        if p.context {
            quote!(ctx.clone())
        } else {
            let field = ident(&p.name);
            quote!(self.#field.clone())
        }
    });
    let call = if function.is_async {
        quote!(#path(#(#args),*).await)
    } else {
        quote!(#path(#(#args),*))
    };
    let body = if function.returns_result {
        quote!(#call?; Ok(()))
    } else {
        quote!(let _ = #call; Ok(()))
    };
    let run = if function.is_async {
        quote! {
            impl lp::Run for #name {
                async fn run(&self, ctx: lp::Context) -> lp::Result<()> {
                    let _ = &ctx;
                    #body
                }
            }
        }
    } else {
        quote! {
            impl lp::BlockingRun for #name {
                fn run(&self, ctx: lp::Context) -> lp::Result<()> {
                    let _ = &ctx;
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
