//! `a__b::c`.

pub fn c(x: u32) -> Result<(), String> {
    lp::tracing::info!("a__b::c ran with {x}");
    Ok(())
}
