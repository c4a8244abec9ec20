pub struct Store {
    pub(crate) capacity: usize,
}
