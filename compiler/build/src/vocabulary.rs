//! The words of the `.lp` language, one list each: what the parser and checker accept, and what
//! tools (the language server's completion, rename and colouring) offer and recognise.

/// The keywords: no name a `.lp` file declares may be one.
pub const KEYWORDS: [&str; 14] = [
    "use", "program", "param", "node", "group", "process", "courier", "worker", "fn", "as", "true",
    "false", "replica", "replicas",
];

/// The keywords that start an item.
pub const ITEM_KEYWORDS: [&str; 6] = ["use", "program", "param", "node", "group", "process"];

/// Every type a param may have, in the order messages list them.
pub const PARAM_TYPES: [&str; 14] = [
    "bool", "u8", "u16", "u32", "u64", "usize", "i8", "i16", "i32", "i64", "f32", "f64", "String",
    "Duration",
];

/// The entries of a node's block.
pub const BLOCK_ENTRIES: [&str; 5] = ["resources", "env", "restart", "deadline", "batch"];

/// The fields of a block's `resources`.
pub const RESOURCES: [&str; 3] = ["cpus", "memory", "gpus"];

/// The fields of `restart: on_failure(…)`.
pub const RESTART_FIELDS: [&str; 2] = ["max", "backoff"];

/// The fields of a `batch METHOD { … }` entry.
pub const BATCH_FIELDS: [&str; 3] = ["size", "timeout", "max_parallelism"];

/// The settings of a `process` block.
pub const PROCESS_SETTINGS: [&str; 1] = ["return_on_first_completed"];
