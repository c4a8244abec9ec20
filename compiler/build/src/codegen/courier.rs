//! Courier interfaces: for each courier type and courier trait, its wire enums and its client
//! (in `crate::__lp::couriers::<its path>`), its `::lp::codegen::Courier` impl, and for each
//! courier type the dispatch of every interface it serves (`Serve<I>`) and the list of them
//! (`Served`).

use super::{nest, Runtime};
use crate::check::model::{Courier, CourierMethod, Interface, Output, Package};
use crate::rust::{ident, path_tokens};
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

/// The `couriers` module and every courier impl.
pub(super) fn expand_couriers(package: &Package, lp: &Runtime) -> TokenStream {
    let interfaces = package
        .couriers
        .iter()
        .map(|c| &c.interface)
        .chain(&package.traits);
    let modules: Vec<(Vec<String>, TokenStream)> = interfaces
        .map(|i| (mirror(i), expand_wire(i, lp)))
        .collect();
    let modules = nest(modules);
    let serve_impls = package
        .couriers
        .iter()
        .map(|c| expand_serve(c, package, lp));
    quote! {
        // Its modules mirror the crate's, whose names they repeat.
        #[allow(clippy::module_inception)]
        pub mod couriers {
            #modules
        }
        #(#serve_impls)*
    }
}

/// Where an interface's module is: the crate's module path, then its name.
fn mirror(interface: &Interface) -> Vec<String> {
    let mut path = interface.module.clone();
    path.push(interface.name.clone());
    path
}

/// The absolute path of an interface's module.
fn module_path(interface: &Interface) -> TokenStream {
    let segments = mirror(interface);
    let segments = segments.iter().map(|s| ident(s));
    quote!(crate::__lp::couriers #(::#segments)*)
}

fn type_path(interface: &Interface) -> TokenStream {
    path_tokens(&interface.path)
}

/// `dyn Trait + 'static`: written out, so no elided object lifetime turns into a
/// higher-ranked one inside async code.
fn dyn_path(path: &str) -> TokenStream {
    let path = path_tokens(path);
    quote!(dyn #path + 'static)
}

fn client_ident(interface: &Interface) -> Ident {
    format_ident!("{}Client", interface.name)
}

/// The request and response enums and the client of one interface.
fn expand_wire(interface: &Interface, lp: &Runtime) -> TokenStream {
    let serde = lp.serde();
    let client = client_ident(interface);
    let client_doc = format!(
        " The client of `{}`: what an `lp::Handle` to it dereferences to.",
        interface.path
    );
    let request_variants = interface.methods.iter().map(|m| {
        let variant = ident(&m.name);
        let types = param_types(m);
        quote!(#variant(#(#types),*))
    });
    let response_variants = interface.methods.iter().map(|m| {
        let variant = ident(&m.name);
        let ty = output_type(m);
        quote!(#variant(#ty))
    });
    let client_methods = interface
        .methods
        .iter()
        .map(|m| expand_client_method(interface, m, lp));
    let courier_impl = expand_courier_impl(interface, lp);
    // A type served only through its courier traits has a client with no method of its own.
    let unused = interface
        .methods
        .is_empty()
        .then(|| quote!(#[allow(dead_code)]));
    // The variants hold the user's parameter and result types, and the client's methods take
    // the user's methods' parameters: whatever their sizes, shapes and numbers.
    quote! {
        #[derive(#lp::codegen::serde::Serialize, #lp::codegen::serde::Deserialize)]
        #[serde(crate = #serde)]
        #[allow(clippy::large_enum_variant, clippy::type_complexity)]
        pub enum Request { #(#request_variants),* }

        #[derive(#lp::codegen::serde::Serialize, #lp::codegen::serde::Deserialize)]
        #[serde(crate = #serde)]
        #[allow(clippy::large_enum_variant, clippy::type_complexity)]
        pub enum Response { #(#response_variants),* }

        #[doc = #client_doc]
        #[derive(::core::clone::Clone)]
        pub struct #client {
            #unused
            core: #lp::codegen::ClientCore,
        }

        // The node's methods, named as the user named them (`clone`, `cmp`…), taking what
        // they take.
        #[allow(
            clippy::too_many_arguments,
            clippy::type_complexity,
            clippy::should_implement_trait
        )]
        impl #client {
            #(#client_methods)*
        }

        #courier_impl
    }
}

/// `impl ::lp::codegen::Courier for T` (or `for dyn Trait`), inside the interface's module
/// (where the client's field is visible).
fn expand_courier_impl(interface: &Interface, lp: &Runtime) -> TokenStream {
    let module = module_path(interface);
    let client = client_ident(interface);
    let for_type = if interface.is_trait {
        dyn_path(&interface.path)
    } else {
        type_path(interface)
    };
    let method_names = interface.methods.iter().map(|m| &m.name);
    let name = if interface.is_trait {
        format!("dyn {}", interface.path)
    } else {
        interface.path.clone()
    };
    quote! {
        impl #lp::codegen::Courier for #for_type {
            type Request = #module::Request;
            type Response = #module::Response;
            type Client = #module::#client;
            const NAME: &'static str = #name;
            const METHODS: &'static [&'static str] = &[#(#method_names),*];

            fn client(core: #lp::codegen::ClientCore) -> #module::#client {
                #module::#client { core }
            }
        }
    }
}

fn expand_client_method(interface: &Interface, m: &CourierMethod, lp: &Runtime) -> TokenStream {
    let name = ident(&m.name);
    let blocking = format_ident!("{}_blocking", name.to_string().trim_start_matches("r#"));
    let client = client_ident(interface);
    let method_name = &m.name;
    let params = m.params.iter().zip(param_types(m)).map(|((n, _), ty)| {
        let n = ident(n);
        quote!(#n: #ty)
    });
    let params: Vec<TokenStream> = params.collect();
    let names: Vec<Ident> = m.params.iter().map(|(n, _)| ident(n)).collect();
    let ty = output_type(m);
    let unexpected = format!("unexpected response to `{}`", m.name);
    let courier = if interface.is_trait {
        dyn_path(&interface.path)
    } else {
        type_path(interface)
    };
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
    let call = if interface.is_trait {
        quote!(call_boxed)
    } else {
        quote!(call)
    };
    quote! {
        #[doc = #doc]
        #[doc = ""]
        #[doc = " The call starts when first awaited, or at once with `.start()` (`lp::Start`)."]
        pub fn #name(
            &self,
            #(#params),*
        ) -> impl ::core::future::Future<
            Output = ::core::result::Result<#ty, #lp::CallError>
        > + 'static {
            let core = ::core::clone::Clone::clone(&self.core);
            async move {
                match core.#call::<#courier>(#method_name, Request::#name(#(#names),*)).await? {
                    Response::#name(value) => ::core::result::Result::Ok(value),
                    #[allow(unreachable_patterns)]
                    _ => ::core::result::Result::Err(#lp::CallError::Protocol(
                        ::std::borrow::ToOwned::to_owned(#unexpected),
                    )),
                }
            }
        }

        #[doc = #blocking_doc]
        pub fn #blocking(&self, #(#params),*) -> ::core::result::Result<#ty, #lp::CallError> {
            #lp::codegen::block_on(#client::#name(self, #(#names),*))
        }
    }
}

/// `impl Serve<I> for T` for every interface `T` serves, and `impl Served for T`.
fn expand_serve(courier: &Courier, package: &Package, lp: &Runtime) -> TokenStream {
    let ty = type_path(&courier.interface);
    let own = expand_dispatch(&courier.interface, &ty, &ty, None, lp);
    let traits: Vec<&Interface> = courier
        .traits
        .iter()
        .filter_map(|path| package.traits.iter().find(|t| &t.path == path))
        .collect();
    let trait_impls = traits.iter().map(|t| {
        let trait_path = path_tokens(&t.path);
        expand_dispatch(t, &ty, &dyn_path(&t.path), Some(&trait_path), lp)
    });
    let trait_interfaces = traits.iter().map(|t| dyn_path(&t.path));
    quote! {
        #own
        #(#trait_impls)*

        impl #lp::codegen::Served for #ty {
            fn interfaces(set: &mut #lp::codegen::Interfaces<Self>) {
                set.add::<#ty>();
                #(set.add::<#trait_interfaces>();)*
            }
        }
    }
}

/// `impl Serve<interface> for ty`: each request to its method. Methods are called by path
/// (`<T>::m(&self, …)`, or `<T as Trait>::m` for a trait's), never by method-call syntax, so
/// no method of `Arc` or of another trait can stand in for them.
fn expand_dispatch(
    interface: &Interface,
    ty: &TokenStream,
    served: &TokenStream,
    via_trait: Option<&TokenStream>,
    lp: &Runtime,
) -> TokenStream {
    let module = module_path(interface);
    let callee = match via_trait {
        Some(tr) => quote!(<#ty as #tr>),
        None => quote!(<#ty>),
    };
    let arms = interface
        .methods
        .iter()
        .map(|m| expand_dispatch_arm(m, &callee, lp));
    let body = if interface.methods.is_empty() {
        quote!(match request {})
    } else {
        quote! {
            use #module::{Request, Response};
            match request { #(#arms)* }
        }
    };
    // A batch is a `Vec` of the user's parameter type, whatever its shape.
    quote! {
        #[allow(clippy::type_complexity)]
        impl #lp::codegen::Serve<#served> for #ty {
            fn serve(
                self: ::std::sync::Arc<Self>,
                request: #module::Request,
            ) -> #lp::codegen::Reply<#module::Response> {
                #body
            }
        }
    }
}

fn expand_dispatch_arm(m: &CourierMethod, callee: &TokenStream, lp: &Runtime) -> TokenStream {
    let variant = ident(&m.name);
    let args: Vec<Ident> = (0..m.params.len()).map(|i| format_ident!("a{i}")).collect();
    let method_name = &m.name;
    match &m.batch {
        None => {
            let wrap = quote!(Response::#variant);
            let result = method_result(m, callee, quote!(&self), &args, Some(wrap), lp);
            let reply = reply(m, result, lp);
            quote!(Request::#variant(#(#args),*) => #reply,)
        }
        Some(shape) => {
            let item = &shape.item;
            let batch = format_ident!("batch");
            let result = method_result(
                m,
                callee,
                quote!(&this),
                std::slice::from_ref(&batch),
                None,
                lp,
            );
            let reply = reply(m, result, lp);
            quote! {
                Request::#variant(#(#args),*) => #lp::codegen::Reply::batch(
                    self,
                    #method_name,
                    #(#args),*,
                    |this: ::std::sync::Arc<Self>, #batch: ::std::vec::Vec<#item>| #reply,
                    Response::#variant,
                ),
            }
        }
    }
}

/// The method's result, wrapped by `wrap` if given, with `Err(e)` made a remote error
/// (carrying `e` itself when its type is `Serialize`).
fn method_result(
    m: &CourierMethod,
    callee: &TokenStream,
    receiver: TokenStream,
    args: &[Ident],
    wrap: Option<TokenStream>,
    lp: &Runtime,
) -> TokenStream {
    let name = ident(&m.name);
    let call = if m.is_async {
        quote!(#callee::#name(#receiver, #(#args),*).await)
    } else {
        quote!(#callee::#name(#receiver, #(#args),*))
    };
    let into_remote = quote!(map_err(|e| #lp::__remote_error!(e)));
    match (&m.output, wrap) {
        // The call is a statement: a call returning `()` is no argument (clippy's `unit_arg`).
        (Output::Unit, Some(wrap)) => quote!({ #call; ::core::result::Result::Ok(#wrap(())) }),
        (Output::Unit, None) => quote!({ #call; ::core::result::Result::Ok(()) }),
        (Output::Plain(_), Some(wrap)) => quote!(::core::result::Result::Ok(#wrap(#call))),
        (Output::Plain(_), None) => quote!(::core::result::Result::Ok(#call)),
        (Output::Result(_), Some(wrap)) => quote!(#call.map(#wrap).#into_remote),
        (Output::Result(_), None) => quote!(#call.#into_remote),
    }
}

/// The work of a call: a future for an async method; for a sync one, work for a blocking
/// thread, or (`#[lp::nonblocking]`) for the thread serving the call.
fn reply(m: &CourierMethod, result: TokenStream, lp: &Runtime) -> TokenStream {
    match (m.is_async, m.nonblocking) {
        (true, _) => quote!(#lp::codegen::Reply::spawn(async move { #result })),
        (false, true) => quote!(#lp::codegen::Reply::nonblocking(move || #result)),
        (false, false) => quote!(#lp::codegen::Reply::blocking(move || #result)),
    }
}

/// The types of a method's parameters; a batched method's single `Vec<I>` parameter is one `I`
/// per call.
fn param_types(m: &CourierMethod) -> Vec<&TokenStream> {
    m.params
        .iter()
        .map(|(_, ty)| m.batch.as_ref().map_or(ty, |shape| &shape.item))
        .collect()
}

/// What a caller gets back: the method's `Ok` type, or a batched method's element type.
fn output_type(m: &CourierMethod) -> TokenStream {
    match (&m.batch, &m.output) {
        (Some(shape), _) => shape.output.clone(),
        (None, Output::Unit) => quote!(()),
        (None, Output::Plain(ty) | Output::Result(ty)) => ty.clone(),
    }
}
