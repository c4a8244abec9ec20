//! `a::b__c`.

#[allow(non_snake_case)]
pub fn b__c(x: u32) {
    lp::tracing::info!("a::b__c ran with {x}");
}
