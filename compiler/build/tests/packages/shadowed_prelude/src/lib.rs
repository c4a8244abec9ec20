//! A package without the prelude: `#![no_implicit_prelude]` takes the standard prelude and the
//! extern prelude from every module of the crate, the generated ones included, and the crate
//! root (where the generated code is included) defines its own items named like the prelude's.
//! The generated code compiles here only if every name it uses is an absolute path, and it is
//! clippy-clean only if it is so on its own (`tests/tests/shadowed_prelude.rs` builds the
//! package; `compiler/build/tests/generated.rs` checks the generated code's paths).

#![no_implicit_prelude]

pub mod nodes;

/// Items named like the prelude's, at the crate root: a courier method takes a `Vec` (this
/// one, not `std`'s).
#[derive(
    ::core::fmt::Debug, ::lp::codegen::serde::Serialize, ::lp::codegen::serde::Deserialize,
)]
#[serde(crate = "::lp::codegen::serde")]
pub struct Vec(pub u64);

/// Not `std`'s `String`.
pub struct String;
/// Not `std`'s `Box`.
pub struct Box;
/// Not `std`'s `Arc`.
pub struct Arc;
/// Not `std`'s `Duration`.
pub struct Duration;
/// Not `core`'s `Option`.
pub struct Option;
/// Not `core`'s `Result`.
pub struct Result;
/// Not `Option::Some`.
pub struct Some;
/// Not `Option::None`.
pub struct None;
/// Not `Result::Ok`.
pub struct Ok;
/// Not `Result::Err`.
pub struct Err;
/// Not `core`'s `Default`.
pub trait Default {}
/// Not `core`'s `Clone`.
pub trait Clone {}

// `lp::include_generated!()` names `include!`, `concat!` and `env!` through the prelude.
::std::include!(::std::concat!(::std::env!("OUT_DIR"), "/lp_generated.rs"));
