pub mod hot {
    pub struct Store;
    impl Store {
        pub fn new() -> Self {
            Store
        }
        pub fn heat(&self) -> u32 {
            90
        }
    }
}

pub mod cold {
    use lp::Handle;

    pub struct Store;
    impl Store {
        pub fn new() -> Self {
            Store
        }
        pub fn chill(&self) -> u32 {
            4
        }
    }

    pub struct Fridge {
        store: Handle<Store>,
    }
    impl Fridge {
        pub fn new(store: Handle<Store>) -> Self {
            Fridge { store }
        }
        pub fn label(&self) -> String {
            Handle::label(&self.store).to_string()
        }
    }
}
