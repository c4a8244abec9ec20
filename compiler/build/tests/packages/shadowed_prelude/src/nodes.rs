//! Node types written without the prelude: every name is a path from a crate root, an import,
//! or one of the crate's own items named like the prelude's.

use crate::Vec;
use ::lp::Handle;
use ::std::collections::BTreeMap;
use ::std::string::String as Text;
use ::std::sync::atomic::{AtomicU64, Ordering};

/// What a store answers through a handle to the trait.
pub trait Source: ::core::marker::Send + ::core::marker::Sync + 'static {
    /// A value of the store's.
    fn value(&self) -> u64;
}

/// A courier with every kind of method generated code dispatches.
pub struct Store {
    base: u64,
    ratio: f32,
    label: Text,
    count: AtomicU64,
}

impl Store {
    /// A store of base `base`; the other arguments are only checked.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        base: u64,
        ratio: f32,
        label: Text,
        on: bool,
        delay: ::std::time::Duration,
        limit: ::core::option::Option<u32>,
        peers: ::std::vec::Vec<Handle<Store>>,
    ) -> ::core::result::Result<Self, Text> {
        if !on || delay.is_zero() || limit.is_none() || peers.is_empty() {
            return ::core::result::Result::Err(::std::borrow::ToOwned::to_owned("refused"));
        }
        ::core::result::Result::Ok(Store {
            base,
            ratio,
            label,
            count: AtomicU64::new(0),
        })
    }

    /// A key of the crate's own `Vec`, counted.
    pub fn count(&self, key: Vec) -> u64 {
        self.count.fetch_add(key.0, Ordering::Relaxed) + key.0
    }

    /// The counts by label, a type imported by name.
    pub fn table(&self) -> BTreeMap<Text, u64> {
        let mut table = BTreeMap::new();
        table.insert(
            ::core::clone::Clone::clone(&self.label),
            self.count.load(Ordering::Relaxed),
        );
        table
    }

    /// Returns nothing.
    pub fn reset(&self) {
        self.count.store(0, Ordering::Relaxed);
    }

    /// Returns nothing, later.
    pub async fn flush(&self) {
        self.count.store(self.base, Ordering::Relaxed);
    }

    /// `n` scaled, or an error for zero.
    pub async fn scale(&self, n: u64) -> ::core::result::Result<f32, Text> {
        if n == 0 {
            return ::core::result::Result::Err(::std::borrow::ToOwned::to_owned("zero"));
        }
        ::core::result::Result::Ok(self.ratio * n as f32)
    }

    /// Doubles a batch.
    pub fn doubled(&self, xs: ::std::vec::Vec<u64>) -> ::std::vec::Vec<u64> {
        ::core::iter::Iterator::collect(::core::iter::Iterator::map(
            ::core::iter::IntoIterator::into_iter(xs),
            |x| 2 * x,
        ))
    }
}

impl Source for Store {
    fn value(&self) -> u64 {
        self.base
    }
}

/// A worker holding every kind of handle.
pub struct Driver {
    store: Handle<Store>,
    source: Handle<dyn Source>,
    stores: ::std::vec::Vec<Handle<Store>>,
}

impl Driver {
    /// A driver of `stores`, the first `store`, the last `source`; `extra` is left out.
    pub fn new(
        store: Handle<Store>,
        source: Handle<dyn Source>,
        stores: ::std::vec::Vec<Handle<Store>>,
        extra: ::core::option::Option<u64>,
    ) -> Self {
        ::core::assert!(extra.is_none());
        Driver {
            store,
            source,
            stores,
        }
    }
}

impl ::lp::Run for Driver {
    async fn run(&self, ctx: ::lp::Context) -> ::lp::Result<()> {
        for store in &self.stores {
            store.reset().await?;
        }
        let counted = self.store.count(Vec(2)).await?;
        self.store.flush().await?;
        let table = self.store.table().await?;
        let scaled = self.store.scale(counted).await?;
        let doubled = self.store.doubled(21).await?;
        let value = self.source.value().await?;
        ::lp::tracing::info!("{table:?} {scaled} {doubled} {value}");
        ctx.stop();
        ::core::result::Result::Ok(())
    }
}

/// A sync function returning nothing, taking `Copy` values, a `String` and the context.
pub fn hello(times: u32, delay: ::std::time::Duration, name: Text, ctx: ::lp::Context) {
    for _ in 0..times {
        ::lp::tracing::info!(
            "hello {name} after {delay:?}, stopping: {}",
            ctx.is_stopping()
        );
    }
}

/// An async function returning a `Result`, without the context.
pub async fn check(store: Handle<Store>, shaped: Handle<nodes::Shaped>) -> ::lp::Result<()> {
    store.reset().await?;
    shaped.get_a().await?;
    ::core::result::Result::Ok(())
}

/// A function returning a value the node drops.
pub fn answer(off: bool) -> u64 {
    if off {
        0
    } else {
        42
    }
}

/// A module named like its parent, as generated code mirrors it.
#[allow(clippy::module_inception)]
pub mod nodes {
    /// A courier whose methods have the names, parameters and types that lints watch for in
    /// generated code too: its client's methods are the same.
    pub struct Shaped;

    #[allow(
        clippy::should_implement_trait,
        clippy::wrong_self_convention,
        clippy::too_many_arguments,
        clippy::new_ret_no_self,
        clippy::len_without_is_empty,
        clippy::type_complexity,
        clippy::new_without_default
    )]
    impl Shaped {
        /// A shape.
        pub fn new() -> Self {
            Shaped
        }

        /// Not `Clone::clone`.
        pub fn clone(&self) -> u64 {
            1
        }

        /// Not `Ord::cmp`.
        pub fn cmp(&self, other: u64) -> u64 {
            other
        }

        /// A conversion by reference.
        pub fn into_total(&self) -> u64 {
            2
        }

        /// Not a constructor.
        pub fn from_parts(&self, a: u64) -> u64 {
            a
        }

        /// Not a constructor either.
        pub fn new_total(&self) -> u64 {
            3
        }

        /// A length without `is_empty`.
        pub fn len(&self) -> usize {
            4
        }

        /// Seven parameters.
        pub fn many(&self, a: u8, b: u8, c: u8, d: u8, e: u8, f: u8, g: u8) -> u64 {
            (a + b + c + d + e + f + g) as u64
        }

        /// A large argument.
        pub fn large(&self, block: [u64; 32]) -> u64 {
            block[0]
        }

        /// A complex type.
        pub fn complex(
            &self,
        ) -> ::std::vec::Vec<(
            u64,
            ::core::option::Option<::std::vec::Vec<(::std::string::String, u64)>>,
        )> {
            ::std::vec::Vec::new()
        }

        /// A batch of a complex type.
        pub fn pairs(
            &self,
            xs: ::std::vec::Vec<(
                u64,
                ::core::option::Option<::std::vec::Vec<(::std::string::String, u64)>>,
            )>,
        ) -> ::std::vec::Vec<(
            u64,
            ::core::option::Option<::std::vec::Vec<(::std::string::String, u64)>>,
        )> {
            xs
        }

        /// Three methods of one prefix.
        pub fn get_a(&self) -> u64 {
            5
        }

        /// Three methods of one prefix.
        pub fn get_b(&self) -> u64 {
            6
        }

        /// Three methods of one prefix.
        pub fn get_c(&self) -> u64 {
            7
        }
    }
}
