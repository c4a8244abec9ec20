use super::types::Store;

impl Store {
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub async fn reserve(&self, n: usize) -> Result<usize, String> {
        if n > self.capacity {
            Err(format!("only {} left", self.capacity))
        } else {
            Ok(self.capacity - n)
        }
    }
}
