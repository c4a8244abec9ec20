trait Hidden {
    fn value(&self) -> u32;
}

pub struct Holder {
    inner: lp::Handle<dyn Hidden>,
}

impl Holder {
    pub fn new(inner: lp::Handle<dyn Hidden>) -> Self {
        Holder { inner }
    }
    pub fn label(&self) -> String {
        lp::Handle::label(&self.inner).to_string()
    }
}

pub struct Value;
impl Value {
    pub fn new() -> Self {
        Value
    }
}
impl Hidden for Value {
    fn value(&self) -> u32 {
        1
    }
}
