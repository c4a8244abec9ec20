pub mod methods;
pub mod types;

impl types::Store {
    pub fn open(capacity: usize) -> Self {
        types::Store { capacity }
    }
}
