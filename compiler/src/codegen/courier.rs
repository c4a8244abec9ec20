//! One courier type: its wire enums, its client, and its server dispatch.

use crate::check::model::{Courier, CourierMethod, Output};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

/// Everything generated for one courier type.
pub(super) fn expand_courier(courier: &Courier) -> TokenStream {
    let type_path: TokenStream = path_tokens(&courier.path);
    let request = format_ident!("{}Request", courier.name);
    let response = format_ident!("{}Response", courier.name);
    let client = format_ident!("{}Client", courier.name);
    let client_doc = format!(
        " Client of `{}`: what `lp::Handle<{}>` dereferences to.",
        courier.name, courier.name
    );

    let request_variants = courier.methods.iter().map(|m| {
        let variant = variant(m);
        let fields = params(m);
        quote!(#variant { #(#fields),* })
    });
    let response_variants = courier.methods.iter().map(|m| {
        let variant = variant(m);
        let ty = output_type(m);
        quote!(#variant(#ty))
    });
    let client_methods = courier
        .methods
        .iter()
        .map(|m| expand_client_method(m, &request, &response, &type_path));
    let method_names = courier.methods.iter().map(|m| &m.name);
    let dispatch_arms = courier
        .methods
        .iter()
        .map(|m| expand_dispatch_arm(m, &request, &response));
    let dispatch = if courier.methods.is_empty() {
        quote!(match request {})
    } else {
        quote!(match request { #(#dispatch_arms)* })
    };

    quote! {
        #[derive(lp::codegen::serde::Serialize, lp::codegen::serde::Deserialize)]
        #[serde(crate = "lp::codegen::serde")]
        pub enum #request { #(#request_variants),* }

        #[derive(lp::codegen::serde::Serialize, lp::codegen::serde::Deserialize)]
        #[serde(crate = "lp::codegen::serde")]
        pub enum #response { #(#response_variants),* }

        #[doc = #client_doc]
        #[derive(Clone)]
        pub struct #client {
            core: lp::codegen::ClientCore,
        }

        impl #client {
            #(#client_methods)*
        }

        impl lp::codegen::Courier for #type_path {
            type Request = #request;
            type Response = #response;
            type Client = #client;
            const METHODS: &'static [&'static str] = &[#(#method_names),*];

            fn client(core: lp::codegen::ClientCore) -> #client {
                #client { core }
            }

            fn handle(
                self: ::std::sync::Arc<Self>,
                request: #request,
            ) -> lp::codegen::Reply<#response> {
                #dispatch
            }
        }
    }
}

fn expand_client_method(
    m: &CourierMethod,
    request: &Ident,
    response: &Ident,
    type_path: &TokenStream,
) -> TokenStream {
    let name = ident(&m.name);
    let blocking = format_ident!("{}_blocking", m.name);
    let variant = variant(m);
    let method_name = &m.name;
    let params = params(m);
    let names: Vec<Ident> = m.params.iter().map(|(n, _)| ident(n)).collect();
    let ty = output_type(m);
    let unexpected = format!("unexpected response to `{}`", m.name);
    let doc = match m.batch {
        None => format!(
            " Calls `{}` on the node; waits for the node to be up.",
            m.name
        ),
        Some(_) => format!(
            " Calls `{}` on the node with one request, answered from the batch it joins.",
            m.name
        ),
    };
    let blocking_doc = format!(
        " Calls `{}` and blocks the thread until it returns (for sync `run` bodies).",
        m.name
    );
    quote! {
        #[doc = #doc]
        pub async fn #name(&self, #(#params),*) -> ::core::result::Result<#ty, lp::CallError> {
            match self.core.call::<#type_path>(#method_name, #request::#variant { #(#names),* }).await? {
                #response::#variant(value) => Ok(value),
                #[allow(unreachable_patterns)]
                _ => Err(lp::CallError::Protocol(#unexpected.into())),
            }
        }

        #[doc = #blocking_doc]
        pub fn #blocking(&self, #(#params),*) -> ::core::result::Result<#ty, lp::CallError> {
            lp::codegen::block_on(self.#name(#(#names),*))
        }
    }
}

fn expand_dispatch_arm(m: &CourierMethod, request: &Ident, response: &Ident) -> TokenStream {
    let variant = variant(m);
    let names: Vec<Ident> = m.params.iter().map(|(n, _)| ident(n)).collect();
    let method_name = &m.name;
    match &m.batch {
        None => {
            let wrap = quote!(#response::#variant);
            let result = method_result(m, quote!(self), &names, Some(wrap));
            let reply = reply(m, result);
            quote!(#request::#variant { #(#names),* } => #reply,)
        }
        Some(shape) => {
            let item = &shape.item;
            let batch = format_ident!("batch");
            let result = method_result(m, quote!(this), std::slice::from_ref(&batch), None);
            let reply = reply(m, result);
            quote! {
                #request::#variant { #(#names),* } => lp::codegen::Reply::batch(
                    self,
                    #method_name,
                    #(#names),*,
                    |this: ::std::sync::Arc<Self>, #batch: ::std::vec::Vec<#item>| #reply,
                    #response::#variant,
                ),
            }
        }
    }
}

/// The method's result on `receiver`, wrapped by `wrap` if given, with `Err(e)` made a remote
/// error (carrying `e` itself when its type is `Serialize`).
fn method_result(
    m: &CourierMethod,
    receiver: TokenStream,
    args: &[Ident],
    wrap: Option<TokenStream>,
) -> TokenStream {
    let name = ident(&m.name);
    let call = if m.is_async {
        quote!(#receiver.#name(#(#args),*).await)
    } else {
        quote!(#receiver.#name(#(#args),*))
    };
    let into_remote = quote! {
        map_err(|e| {
            #[allow(unused_imports)]
            use lp::codegen::{RemoteMessage as _, RemoteWithValue as _};
            (&&lp::codegen::ErrValue(e)).into_remote()
        })
    };
    match (&m.output, wrap) {
        (Output::Plain(_), Some(wrap)) => quote!(Ok(#wrap(#call))),
        (Output::Plain(_), None) => quote!(Ok(#call)),
        (Output::Result(_), Some(wrap)) => quote!(#call.map(#wrap).#into_remote),
        (Output::Result(_), None) => quote!(#call.#into_remote),
    }
}

/// The work of a call: on a blocking thread for a sync method, a future for an async one.
fn reply(m: &CourierMethod, result: TokenStream) -> TokenStream {
    if m.is_async {
        quote!(lp::codegen::Reply::spawn(async move { #result }))
    } else {
        quote!(lp::codegen::Reply::blocking(move || #result))
    }
}

/// The method's parameters as `name: Type`; a batched method's single `Vec<I>` parameter is
/// one `I` per call.
fn params(m: &CourierMethod) -> Vec<TokenStream> {
    m.params
        .iter()
        .map(|(n, ty)| {
            let n = ident(n);
            let ty = m.batch.as_ref().map_or(ty, |shape| &shape.item);
            quote!(#n: #ty)
        })
        .collect()
}

/// What a caller gets back: the method's `Ok` type, or a batched method's element type.
fn output_type(m: &CourierMethod) -> &TokenStream {
    match (&m.batch, &m.output) {
        (Some(shape), _) => &shape.output,
        (None, Output::Plain(ty) | Output::Result(ty)) => ty,
    }
}

/// The wire enum variant of a method: `work` → `Work`.
fn variant(m: &CourierMethod) -> Ident {
    let camel: String = m
        .name
        .split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect()
            })
        })
        .collect();
    ident(if camel.is_empty() { "Call" } else { &camel })
}

/// An identifier, raw when it is a keyword.
pub(super) fn ident(name: &str) -> Ident {
    match name {
        "crate" | "self" | "super" | "Self" => Ident::new(name, Span::call_site()),
        _ => syn::parse_str::<Ident>(name)
            .unwrap_or_else(|_| Ident::new_raw(name, Span::call_site())),
    }
}

/// `crate::a::B` as tokens.
pub(super) fn path_tokens(path: &str) -> TokenStream {
    let segments = path.split("::").map(ident);
    quote!(#(#segments)::*)
}
