//! The attributes of the `lp` runtime, re-exported by it: use them as `#[lp::nonblocking]`.
//! They change nothing in the item they mark: `lpc` reads them from the source. They reject
//! what `lpc check` rejects, for code `lpc` does not check.

use proc_macro::{Delimiter, TokenStream, TokenTree};

/// Marks a synchronous courier method that never blocks: lp runs it on the thread that serves
/// the call, rather than on a blocking thread. See `lp::nonblocking` for what it promises.
#[proc_macro_attribute]
pub fn nonblocking(attr: TokenStream, item: TokenStream) -> TokenStream {
    let problem = if !attr.is_empty() {
        Some("`#[lp::nonblocking]` takes no arguments: write `#[lp::nonblocking]`")
    } else {
        misplaced(&item)
    };
    match problem {
        None => item,
        // The item stays, so that the error is the only one.
        Some(why) => {
            let error: TokenStream = format!("::core::compile_error!({why:?});")
                .parse()
                .expect("a compile_error! invocation parses");
            item.into_iter().chain(error).collect()
        }
    }
}

/// Why `item` cannot be marked `#[lp::nonblocking]`, if it cannot: an `async` function (which
/// never takes a blocking thread). On any other item but a synchronous courier method the mark
/// has no effect (as `lpc check`, which reports the same problems, sees it).
fn misplaced(item: &TokenStream) -> Option<&'static str> {
    let mut is_async = false;
    for token in item.clone() {
        match token {
            TokenTree::Ident(ident) if ident.to_string() == "async" => is_async = true,
            TokenTree::Ident(ident) if ident.to_string() == "fn" => break,
            // Attributes and the visibility's `(crate)` come before `fn`; a body does not.
            TokenTree::Group(group) if group.delimiter() == Delimiter::Brace => break,
            _ => {}
        }
    }
    is_async.then_some(
        "`#[lp::nonblocking]` marks a synchronous method: an `async` one already runs on the \
         thread that serves its call; remove the attribute",
    )
}
