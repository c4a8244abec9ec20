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
        let fields = m.params.iter().map(|(name, ty)| {
            let name = ident(name);
            quote!(#name: #ty)
        });
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
    let params: Vec<TokenStream> = m
        .params
        .iter()
        .map(|(n, ty)| {
            let n = ident(n);
            quote!(#n: #ty)
        })
        .collect();
    let names: Vec<Ident> = m.params.iter().map(|(n, _)| ident(n)).collect();
    let ty = output_type(m);
    let unexpected = format!("unexpected response to `{}`", m.name);
    let doc = format!(
        " Calls `{}` on the node; waits for the node to be up.",
        m.name
    );
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
    let name = ident(&m.name);
    let variant = variant(m);
    let names: Vec<Ident> = m.params.iter().map(|(n, _)| ident(n)).collect();
    let call = if m.is_async {
        quote!(self.#name(#(#names),*).await)
    } else {
        quote!(self.#name(#(#names),*))
    };
    let result = match m.output {
        Output::Plain(_) => quote!(Ok(#response::#variant(#call))),
        Output::Result(_) => {
            quote!(#call.map(#response::#variant).map_err(lp::codegen::remote_error))
        }
    };
    let reply = if m.is_async {
        quote!(lp::codegen::Reply::spawn(async move { #result }))
    } else {
        quote!(lp::codegen::Reply::blocking(move || #result))
    };
    quote!(#request::#variant { #(#names),* } => #reply,)
}

fn output_type(m: &CourierMethod) -> &TokenStream {
    match &m.output {
        Output::Plain(ty) | Output::Result(ty) => ty,
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
