pub struct Greeter;

impl Greeter {
    pub fn new() -> Self {
        Greeter
    }

    pub fn greet(&self, name: &str) -> String {
        format!("hello {name}")
    }

    pub fn show<T: std::fmt::Debug>(&self, value: T) -> String {
        format!("{value:?}")
    }
}
