use std::rc::Rc;

/// Not `Serialize`.
pub struct Plain {
    pub x: u32,
}

pub trait Source {
    async fn fetch(&self) -> u32;
}

pub struct Server;
impl Server {
    pub fn new() -> Self {
        Server
    }
    pub fn take(&self, plain: Plain) -> u32 {
        plain.x
    }
    pub fn shared(&self) -> Rc<u8> {
        Rc::new(1)
    }
    pub fn with_context(&self, ctx: lp::Context) -> u32 {
        let _ = ctx;
        1
    }
    pub fn boxed(&self, f: Box<dyn Fn() + Send>) -> u32 {
        f();
        1
    }
}

impl Source for Server {
    async fn fetch(&self) -> u32 {
        1
    }
}

pub struct Client {
    source: lp::Handle<dyn Source>,
}
impl Client {
    pub fn new(source: lp::Handle<dyn Source>) -> Self {
        Client { source }
    }
    pub fn ping(&self) -> String {
        lp::Handle::label(&self.source).to_string()
    }
}
