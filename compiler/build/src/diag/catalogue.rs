//! The catalogue of diagnostic codes: one stable code per kind of problem.
//! Codes are never reused; a retired code stays reserved.

use super::Severity;

macro_rules! codes {
    ($($variant:ident = $code:literal, $severity:ident, $title:literal;)*) => {
        /// A stable diagnostic code (`E0001`, `W0001`, …).
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $(#[doc = $title] $variant,)*
        }

        impl Code {
            /// Every code, in catalogue order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The code as printed: `E0001`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code,)* }
            }

            /// Whether the code is an error or a warning.
            pub fn severity(self) -> Severity {
                match self { $(Code::$variant => Severity::$severity,)* }
            }

            /// Whether the code says the user's crate could not be read (so checking against it
            /// would only report cascades).
            pub fn is_rust_loading(self) -> bool {
                matches!(self, Code::RustSyntax | Code::MissingModule)
            }

            /// Whether the code says the text is not in the grammar at all (a syntax error, a
            /// control character, bytes that are not UTF-8): such a file cannot be laid out or
            /// highlighted until it is fixed.
            pub fn is_syntax(self) -> bool {
                matches!(self, Code::Syntax | Code::ControlCharacter | Code::NotUtf8)
            }

            /// One line saying what the code is about.
            pub fn title(self) -> &'static str {
                match self { $(Code::$variant => $title,)* }
            }
        }
    };
}

codes! {
    Syntax = "E0001", Error, "syntax error";
    InvalidLiteral = "E0002", Error, "invalid literal";
    ControlCharacter = "E0003", Error, "control character in the source";
    NotUtf8 = "E0004", Error, "file is not UTF-8";
    UnknownName = "E0100", Error, "unknown name";
    DuplicateName = "E0101", Error, "name defined twice";
    UnknownType = "E0102", Error, "type not found";
    DuplicateProgram = "E0103", Error, "program defined twice";
    ShadowedName = "E0104", Error, "name shadows another";
    UnresolvedImport = "E0105", Error, "unresolved `use`";
    NoProgram = "E0106", Error, "file has no program";
    UnknownFunction = "E0107", Error, "function not found";
    ReservedName = "E0108", Error, "name reserved by Rust, the generated code or the launcher";
    NotPublic = "E0200", Error, "type or item is not `pub`";
    MissingConstructor = "E0201", Error, "constructor not found";
    MissingArgument = "E0202", Error, "argument missing";
    UnknownArgument = "E0203", Error, "unknown argument";
    DuplicateArgument = "E0204", Error, "argument given twice";
    ArgumentType = "E0205", Error, "argument of the wrong type";
    OutOfRange = "E0206", Error, "value out of range";
    HandleType = "E0207", Error, "handle to the wrong node type";
    HandleShape = "E0208", Error, "group given where one handle is expected, or the reverse";
    ConstantArithmetic = "E0209", Error, "arithmetic that cannot be computed";
    MutCourierMethod = "E0300", Error, "courier method takes `&mut self`";
    UnsendableParameter = "E0301", Error, "courier method parameter cannot cross the wire";
    WorkerWithoutRun = "E0302", Error, "worker type does not implement the run trait";
    ReplicaOutsideGroup = "E0303", Error, "`replica` used outside a group";
    BadCount = "E0304", Error, "replica count is not a non-negative integer";
    ParamDefaultType = "E0305", Error, "param default of the wrong type";
    UnsupportedParamType = "E0306", Error, "unsupported param type";
    GenericNodeType = "E0307", Error, "generic node type";
    RustSyntax = "E0308", Error, "Rust file does not parse";
    MissingModule = "E0309", Error, "module file not found";
    // E0310 (restart policies and batching "not supported yet") is retired: both are supported.
    BadIndex = "E0311", Error, "bad group index";
    DuplicateMethod = "E0312", Error, "courier method defined twice";
    UnknownSetting = "E0313", Error, "unknown block entry or field";
    BadBatch = "E0314", Error, "method cannot be batched";
    BatchMismatch = "E0315", Error, "nodes of one courier type batch different methods";
    GeneratedNameClash = "E0316", Error, "courier method clashes with a generated method";
    DeadlineOnWorker = "E0317", Error, "call deadline on a node that is not called";
    BadNonblocking = "E0318", Error, "`#[lp::nonblocking]` where it cannot apply";
    UnusedParam = "W0001", Warning, "unused param";
    IdleNode = "W0002", Warning, "node does nothing";
    IdleNonblocking = "W0003", Warning, "`#[lp::nonblocking]` that changes nothing";
}
