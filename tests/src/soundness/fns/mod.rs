//! Two `fn` nodes whose paths once mangled to one name (`a::b__c` and `a__b::c`).

pub mod a;
#[allow(non_snake_case)]
pub mod a__b;
