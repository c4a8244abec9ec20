//! The pest parser generated from `grammar/lp.pest`. Its types never leave `syntax/`.

/// The `.lp` parser; [`Rule`] has one variant per named rule of the grammar.
#[derive(pest_derive::Parser)]
#[grammar = "../../grammar/lp.pest"]
pub(crate) struct LpParser;
