//! A generator of random programs and the node types they use, for the property "`lpc check`
//! accepts ⇒ the package builds ⇒ the program launches and every node gets what the `.lp`
//! says" (`tests/tests/generated_programs.rs`).
//!
//! Each program draws its names from pools that include the generated code's own identifiers
//! and Rust keywords; its node types live in modules (some named by keywords) where several share
//! a name, imported under aliases or written with full paths; constructors take every kind of
//! value `.lp` can give (integers of every width from literals, params and arithmetic over
//! `replica`, floats, strings with escapes, durations, options given and left out, lists,
//! handles to nodes, groups, replicas and courier traits), may return `Result`, and have
//! parameters named by keywords; courier methods have pattern parameters, keyword names, names
//! that once mangled alike, and handles as arguments and results. Every courier node reports
//! what its constructor received, which the generator computed beforehand.

use std::fmt::Write as _;
use std::time::Duration;

/// A small deterministic random source (SplitMix64).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Names that are the generated code's own, Rust keywords, and ordinary ones.
const NAMES: &[&str] = &[
    "ids",
    "params",
    "env",
    "nodes",
    "layout",
    "x",
    "x_ref",
    "__r_x",
    "value",
    "values",
    "index",
    "launch_type",
    "type",
    "match",
    "async",
    "await",
    "dyn",
    "loop",
    "move",
    "ref",
    "static",
    "union",
    "impl",
    "Program",
    "Nodes",
    "Params",
    "SITES",
    "main",
    "make_program",
    "erased",
    "core",
    "std",
    "lp",
    "alloc",
    "serde",
    "request",
    "response",
    "a0",
    "arg0",
    "learner",
    "actor",
    "replay",
    "Store",
];

/// Names of node types: several alike in one program, some the generated code's own.
const TYPE_NAMES: &[&str] = &[
    "Store", "Node", "Request", "Response", "Program", "Params", "Nodes", "Handle", "Env",
    "Layout", "Client", "Server", "Site", "Value", "Learner",
];

/// Names of the modules the node types live in.
const MODULE_NAMES: &[&str] = &["a", "b", "type", "match", "nodes", "lp", "core", "inner"];

/// String param defaults: quotes, escapes, non-ASCII.
const PARAM_STRINGS: [&str; 4] = ["plain", "with \"quotes\"", "tab\tand\\slash", "ünï 😀"];

/// What a generated package holds.
pub struct Package {
    /// `(path relative to the package, text)` of every file but `Cargo.toml` and `build.rs`.
    pub files: Vec<(String, String)>,
    pub programs: Vec<Program>,
}

/// One generated program.
pub struct Program {
    /// The program's name (its module at the crate root).
    pub name: String,
    /// Its `.lp` file, relative to the package.
    pub lp_file: String,
    /// The `.lp` text.
    pub lp: String,
    /// The Rust module of its node types (`src/<module>.rs`).
    pub module: String,
    /// The harness function that launches it and reports (a Rust item of `src/main.rs`).
    pub harness: String,
    /// The arm of the harness's `match` on `LP_PROGRAM` that runs it as a `test_mp` child.
    pub child: String,
    /// The lines the harness prints when every node got what the `.lp` says.
    pub expected: Vec<String>,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Int {
    U8,
    U16,
    U32,
    U64,
    Usize,
    I8,
    I16,
    I32,
    I64,
}

impl Int {
    const ALL: [Int; 9] = [
        Int::U8,
        Int::U16,
        Int::U32,
        Int::U64,
        Int::Usize,
        Int::I8,
        Int::I16,
        Int::I32,
        Int::I64,
    ];

    fn name(self) -> &'static str {
        match self {
            Int::U8 => "u8",
            Int::U16 => "u16",
            Int::U32 => "u32",
            Int::U64 => "u64",
            Int::Usize => "usize",
            Int::I8 => "i8",
            Int::I16 => "i16",
            Int::I32 => "i32",
            Int::I64 => "i64",
        }
    }

    fn range(self) -> (i128, i128) {
        match self {
            Int::U8 => (0, u8::MAX.into()),
            Int::U16 => (0, u16::MAX.into()),
            Int::U32 => (0, u32::MAX.into()),
            Int::U64 | Int::Usize => (0, u64::MAX.into()),
            Int::I8 => (i8::MIN.into(), i8::MAX.into()),
            Int::I16 => (i16::MIN.into(), i16::MAX.into()),
            Int::I32 => (i32::MIN.into(), i32::MAX.into()),
            Int::I64 => (i64::MIN.into(), i64::MAX.into()),
        }
    }
}

/// The type of a constructor parameter.
#[derive(Clone, PartialEq, Debug)]
enum Ty {
    Int(Int),
    F32,
    F64,
    Bool,
    Str,
    Duration,
    Option(Box<Ty>),
    Vec(Box<Ty>),
    /// A handle to the node type with this index in the program.
    Handle(usize),
    /// Handles to the node type with this index.
    Handles(usize),
    /// A handle to any courier implementing the program's courier trait.
    Dyn,
}

impl Ty {
    fn rust(&self, types: &[NodeType], program_module: &str) -> String {
        match self {
            Ty::Int(i) => i.name().into(),
            Ty::F32 => "f32".into(),
            Ty::F64 => "f64".into(),
            Ty::Bool => "bool".into(),
            Ty::Str => "String".into(),
            Ty::Duration => "std::time::Duration".into(),
            Ty::Option(t) => format!("::core::option::Option<{}>", t.rust(types, program_module)),
            Ty::Vec(t) => format!("Vec<{}>", t.rust(types, program_module)),
            Ty::Handle(i) => format!("lp::Handle<{}>", types[*i].path(program_module)),
            Ty::Handles(i) => format!("Vec<lp::Handle<{}>>", types[*i].path(program_module)),
            Ty::Dyn => format!("lp::Handle<dyn crate::{program_module}::Source>"),
        }
    }

    /// How a node reports a value of this type, as Rust code over `self.FIELD` (in an async
    /// method): a handle by its label, once a call through it answered — the node's process
    /// holds the key of every node its arguments name.
    fn report(&self, field: &str) -> String {
        let reach = ".expect(\"a call through a handle it holds\")";
        match self {
            Ty::Handle(_) => format!(
                "{{ self.{field}.ping().await{reach}; lp::Handle::label(&self.{field}).to_string() }}"
            ),
            Ty::Dyn => format!(
                "{{ self.{field}.source_name().await{reach}; lp::Handle::label(&self.{field}).to_string() }}"
            ),
            Ty::Handles(_) => format!(
                "{{ for h in &self.{field} {{ h.ping().await{reach}; }} format!(\"{{:?}}\", self.{field}.iter().map(|h| lp::Handle::label(h).to_string()).collect::<Vec<_>>()) }}"
            ),
            _ => format!("format!(\"{{:?}}\", self.{field})"),
        }
    }
}

/// A param of a program.
struct Param {
    name: String,
    ty: ParamTy,
}

#[derive(Clone, Copy, PartialEq)]
enum ParamTy {
    Int(Int, i128),
    F64(f64),
    Bool(bool),
    Str(&'static str),
    Duration(u64),
}

/// A node type of a program.
struct NodeType {
    /// Module path inside the program's module.
    module: String,
    name: String,
    courier: bool,
    /// Whether it implements the program's courier trait `Source`.
    source: bool,
    fallible: bool,
    /// Constructor parameters: (Rust name, type).
    params: Vec<(String, Ty)>,
}

impl NodeType {
    fn path(&self, program_module: &str) -> String {
        format!(
            "crate::{program_module}::{}::{}",
            raw(&self.module),
            raw(&self.name)
        )
    }
}

/// A name as a Rust identifier: raw when it is a keyword.
fn raw(name: &str) -> String {
    const KEYWORDS: &[&str] = &[
        "as", "async", "await", "break", "const", "continue", "dyn", "else", "enum", "extern",
        "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
        "pub", "ref", "return", "static", "struct", "trait", "true", "type", "unsafe", "use",
        "where", "while", "abstract", "become", "box", "do", "final", "macro", "override", "priv",
        "typeof", "unsized", "virtual", "yield", "try", "gen",
    ];
    if KEYWORDS.contains(&name) {
        format!("r#{name}")
    } else {
        name.to_string()
    }
}

/// Names of one program's namespace (params, nodes, groups), distinct.
struct Namer {
    taken: Vec<String>,
}

impl Namer {
    fn fresh(&mut self, rng: &mut Rng, prefix: &str) -> String {
        for _ in 0..4 {
            let name = rng.pick(NAMES).to_string();
            if !self.taken.contains(&name) {
                self.taken.push(name.clone());
                return name;
            }
        }
        let name = format!("{prefix}{}", self.taken.len());
        self.taken.push(name.clone());
        name
    }
}

/// A node or group of a program, as declared.
struct Decl {
    name: String,
    ty: usize,
    /// `Some(count)` for a group.
    count: Option<usize>,
    /// How the count is written: a literal, or arithmetic over a param.
    count_text: String,
    /// The `process` block it is in, if any.
    process: Option<usize>,
    /// Its block of launcher settings, if any.
    block: Option<String>,
}

impl Decl {
    fn labels(&self) -> Vec<String> {
        match self.count {
            None => vec![self.name.clone()],
            Some(n) => (0..n).map(|i| format!("{}/{i}", self.name)).collect(),
        }
    }
}

/// A value given to one parameter: its `.lp` text, and what each replica receives.
struct Given {
    /// `None`: left out (an `Option` parameter).
    text: Option<String>,
    /// Per replica (one entry for a single node), as the node reports it.
    received: Vec<String>,
}

/// Generates `count` programs from `seed`.
pub fn package(seed: u64, count: usize) -> Package {
    let mut rng = Rng::new(seed);
    let mut files = Vec::new();
    let mut programs = Vec::new();
    let mut program_names: Vec<String> = Vec::new();
    for index in 0..count {
        let program = program(&mut rng, index, &mut program_names);
        files.push((format!("src/{}.rs", program.0), program.1));
        programs.push(program.2);
    }
    Package { files, programs }
}

/// One program: its module name, its Rust module's text, and the program.
fn program(rng: &mut Rng, index: usize, taken: &mut Vec<String>) -> (String, String, Program) {
    let module = format!("gen{index}");
    let name = loop {
        let candidate = if rng.chance(40) {
            rng.pick(&[
                "type", "match", "Program", "Nodes", "Params", "layout", "values", "r",
            ])
            .to_string()
        } else {
            format!("p{index}")
        };
        let candidate = if taken.contains(&candidate) {
            format!("p{index}")
        } else {
            candidate
        };
        if !taken.contains(&candidate) {
            taken.push(candidate.clone());
            break candidate;
        }
    };
    let mut namer = Namer { taken: Vec::new() };

    // Params, all with defaults (the harness builds `Params::default()`).
    let mut params = Vec::new();
    for _ in 0..rng.below(4) {
        let ty = match rng.below(5) {
            0 => {
                let int = *rng.pick(&Int::ALL);
                let (lo, hi) = int.range();
                ParamTy::Int(
                    int,
                    (rng.below(50) as i128 + 1).clamp(lo.max(1), hi.min(50)),
                )
            }
            1 => ParamTy::F64(*rng.pick(&[0.5, 1.25, 3.0, 0.1])),
            2 => ParamTy::Bool(rng.chance(50)),
            3 => ParamTy::Str(PARAM_STRINGS[rng.below(PARAM_STRINGS.len())]),
            _ => ParamTy::Duration(*rng.pick(&[250, 2000, 60_000])),
        };
        params.push(Param {
            name: namer.fresh(rng, "q"),
            ty,
        });
    }

    // Node types, in modules, several with one name.
    let mut types: Vec<NodeType> = Vec::new();
    let type_count = 2 + rng.below(4);
    for t in 0..type_count {
        let module = rng.pick(MODULE_NAMES).to_string();
        let mut name = rng.pick(TYPE_NAMES).to_string();
        if types.iter().any(|o| o.module == module && o.name == name) {
            name = format!("{name}{t}");
        }
        types.push(NodeType {
            module,
            name,
            courier: t == 0 || rng.chance(75),
            source: false,
            fallible: rng.chance(30),
            params: Vec::new(),
        });
    }
    let couriers: Vec<usize> = (0..types.len()).filter(|&i| types[i].courier).collect();
    for &i in &couriers {
        types[i].source = rng.chance(50);
    }
    let has_source = types.iter().any(|t| t.source);

    // Declarations: each type used once or twice; groups sized by a literal or by a param
    // (then checked when the program is built); some colocated, some with a block.
    let int_params: Vec<(String, i128)> = params
        .iter()
        .filter_map(|p| match p.ty {
            ParamTy::Int(_, v) => Some((p.name.clone(), v)),
            _ => None,
        })
        .collect();
    let mut decls: Vec<Decl> = Vec::new();
    for (i, _) in types.iter().enumerate() {
        for _ in 0..1 + rng.below(2) {
            let (count, count_text) = if !rng.chance(40) {
                (None, String::new())
            } else if !int_params.is_empty() && rng.chance(40) {
                let (p, v) = rng.pick(&int_params);
                (Some((v % 3 + 1) as usize), format!("{p} % 3 + 1"))
            } else {
                let n = rng.below(4);
                (Some(n), n.to_string())
            };
            // A courier's call deadline: long, so that no report times out.
            let deadline = match types[i].courier && rng.chance(50) {
                true => "\n        deadline: 30s",
                false => "",
            };
            let block = rng.chance(20).then(|| match int_params.first() {
                Some((p, _)) => format!(
                    " {{\n        restart: on_failure(max: {p} + 1, backoff: 10ms)\n        resources {{ cpus: 0.5 * 2, memory: \"1Gi\", gpus: {p} % 2 }}{deadline}\n    }}"
                ),
                None => format!(" {{\n        resources {{ cpus: 1, memory: \"512Mi\" }}{deadline}\n    }}"),
            });
            decls.push(Decl {
                name: namer.fresh(rng, "n"),
                ty: i,
                count,
                count_text,
                process: rng.chance(20).then(|| rng.below(2)),
                block,
            });
        }
    }

    // Constructor parameters, now that every type is declared (handles need a target).
    for t in 0..types.len() {
        let mut param_names: Vec<String> = Vec::new();
        for _ in 0..rng.below(6) {
            let ty = random_ty(rng, &types, &decls, has_source);
            let mut pname = rng.pick(NAMES).to_string();
            if param_names.contains(&pname) || pname.starts_with("__") {
                pname = format!("v{}", param_names.len());
            }
            param_names.push(pname.clone());
            types[t].params.push((pname, ty));
        }
    }

    // The `.lp` file.
    let mut lp = String::new();
    let mut imports: Vec<(usize, String)> = Vec::new();
    for (i, ty) in types.iter().enumerate() {
        // Some types are imported (under an alias when the name is taken), some written with
        // their full path at the node.
        if rng.chance(60) {
            let alias = if imports.iter().any(|(j, _)| types[*j].name == ty.name) || rng.chance(20)
            {
                format!("T{i}")
            } else {
                ty.name.clone()
            };
            let path = format!("crate::{module}::{}::{}", ty.module, ty.name);
            if alias == ty.name {
                let _ = writeln!(lp, "use {path};");
            } else {
                let _ = writeln!(lp, "use {path} as {alias};");
            }
            imports.push((i, alias));
        }
    }
    let _ = writeln!(lp, "\n/// Generated program {index}.\nprogram {name} {{");
    for p in &params {
        let (ty, default) = match p.ty {
            ParamTy::Int(int, v) => (int.name().to_string(), v.to_string()),
            ParamTy::F64(f) => ("f64".into(), format!("{f:?}")),
            ParamTy::Bool(b) => ("bool".into(), b.to_string()),
            ParamTy::Str(s) => ("String".into(), lp_string(s)),
            ParamTy::Duration(ms) => ("Duration".into(), format!("{ms}ms")),
        };
        let _ = writeln!(lp, "    param {}: {ty} = {default};", p.name);
    }
    let mut expected = Vec::new();
    let mut ids = String::new();
    let mut reports = String::new();
    let mut processes: [Vec<String>; 2] = [Vec::new(), Vec::new()];
    for decl in &decls {
        let ty = &types[decl.ty];
        let written = match imports.iter().find(|(i, _)| *i == decl.ty) {
            Some((_, alias)) => alias.clone(),
            None => format!("crate::{module}::{}::{}", ty.module, ty.name),
        };
        let kind = if ty.courier { "courier" } else { "worker" };
        let replicas = decl.count.unwrap_or(1);
        let mut args = Vec::new();
        let mut received: Vec<Vec<String>> = vec![Vec::new(); replicas];
        for (pname, pty) in &ty.params {
            let given = give(rng, pty, decl, &decls, &types, &params);
            if let Some(text) = given.text {
                args.push(format!("{pname}: {text}"));
            }
            for (r, value) in given.received.into_iter().enumerate() {
                received[r].push(value);
            }
        }
        let head = match decl.count {
            Some(_) => format!("group {}[{}]", decl.name, decl.count_text),
            None => format!("node {}", decl.name),
        };
        let end = decl.block.clone().unwrap_or_else(|| ";".to_string());
        let line = format!("{head} = {kind} {written}::new({}){end}", args.join(", "));
        match decl.process {
            Some(p) => processes[p].push(line),
            None => {
                let _ = writeln!(lp, "    {line}");
            }
        }
        if ty.courier {
            for (label, got) in decl.labels().iter().zip(&received) {
                expected.push(format!("{label}={got:?}"));
            }
            let field = raw(&decl.name);
            let id = format!("r{}", ids.len());
            if decl.count.is_some() {
                let _ = writeln!(ids, "    let {id} = program.{field}.refs();");
                let _ = writeln!(
                    reports,
                    "    for h in running.handles(&{id}) {{ report!(out, h); }}"
                );
            } else {
                let _ = writeln!(ids, "    let {id} = program.{field}.id();");
                let _ = writeln!(reports, "    report!(out, running.handle({id}));");
            }
        }
    }
    for (p, lines) in processes.iter().enumerate() {
        if lines.is_empty() {
            continue;
        }
        let name = namer.fresh(rng, "proc");
        let _ = writeln!(lp, "    process {name}_{p} {{");
        // A setting that keeps every node up (the program's couriers report at the end).
        if rng.chance(50) {
            let _ = writeln!(lp, "        return_on_first_completed: false;");
        }
        for line in lines {
            let _ = writeln!(lp, "        {}", line.replace("\n    ", "\n        "));
        }
        let _ = writeln!(lp, "    }}");
    }
    // A `fn` node, its function named by a keyword sometimes.
    let function = rng
        .chance(50)
        .then(|| *rng.pick(&["tick", "match", "r", "main"]));
    if let Some(f) = function {
        let node = namer.fresh(rng, "f");
        let _ = writeln!(
            lp,
            "    node {node} = fn crate::{module}::fns::{f}(times: 3);"
        );
    }
    let _ = writeln!(lp, "}}");

    let mut rust = rust_module(&types, &module, has_source, rng);
    if let Some(f) = function {
        let _ = writeln!(
            rust,
            "pub mod fns {{\n    pub fn {}(times: u32, ctx: lp::Context) -> ::core::result::Result<(), String> {{\n        let _ = (times, ctx);\n        ::core::result::Result::Ok(())\n    }}\n}}",
            raw(f)
        );
    }
    let prog = raw(&name);
    let harness = format!(
        "/// Launches `{name}` and reports what each courier received.\nasync fn run_{module}(launch_type: lp::LaunchType) -> Vec<String> {{\n    let program = gen_pkg::{prog}::make_program(gen_pkg::{prog}::Params::default());\n{ids}    let running = lp::launch(program, launch_type).await.expect(\"launch {name}\");\n    let mut out = Vec::new();\n{reports}    running.stop().await.expect(\"stop {name}\");\n    out\n}}\n"
    );
    let child = format!("        \"{name}\" => gen_pkg::{prog}::main(),\n");
    let lp_file = format!("{module}.lp");
    (
        module.clone(),
        rust,
        Program {
            name,
            lp_file,
            lp,
            module,
            harness,
            child,
            expected,
        },
    )
}

/// A random constructor parameter type.
fn random_ty(rng: &mut Rng, types: &[NodeType], decls: &[Decl], has_source: bool) -> Ty {
    let courier_types: Vec<usize> = (0..types.len()).filter(|&i| types[i].courier).collect();
    let declared_single = |t: usize| decls.iter().any(|d| d.ty == t && d.count.is_none());
    let declared_group = |t: usize| {
        decls
            .iter()
            .any(|d| d.ty == t && d.count.is_some_and(|n| n > 0))
    };
    let dyn_ok = has_source
        && decls
            .iter()
            .any(|d| types[d.ty].source && d.count != Some(0));
    loop {
        let ty = match rng.below(13) {
            0 | 1 => Ty::Int(*rng.pick(&Int::ALL)),
            2 => Ty::F32,
            3 => Ty::F64,
            4 => Ty::Bool,
            5 => Ty::Str,
            6 => Ty::Duration,
            7 => Ty::Option(Box::new(Ty::Int(*rng.pick(&Int::ALL)))),
            8 => Ty::Option(Box::new(Ty::Str)),
            9 => Ty::Vec(Box::new(Ty::Int(Int::U16))),
            10 => match courier_types.get(rng.below(courier_types.len().max(1))) {
                Some(&t) if declared_single(t) || declared_group(t) => Ty::Handle(t),
                _ => continue,
            },
            11 => match courier_types.get(rng.below(courier_types.len().max(1))) {
                Some(&t) if declared_group(t) || declared_single(t) => Ty::Handles(t),
                _ => continue,
            },
            _ if dyn_ok => Ty::Dyn,
            _ => continue,
        };
        return ty;
    }
}

/// A `.lp` string literal for `s`.
fn lp_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            c if !c.is_ascii() && c as u32 > 0xffff => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A value for a parameter of type `ty` of `decl`, and what each replica receives.
fn give(
    rng: &mut Rng,
    ty: &Ty,
    decl: &Decl,
    decls: &[Decl],
    types: &[NodeType],
    params: &[Param],
) -> Given {
    let replicas = decl.count.unwrap_or(1);
    let in_group = decl.count.is_some();
    let same = |text: String, value: String| Given {
        text: Some(text),
        received: vec![value; replicas],
    };
    match ty {
        Ty::Int(int) => {
            let (lo, hi) = int.range();
            let exact: Vec<&Param> = params
                .iter()
                .filter(|p| matches!(p.ty, ParamTy::Int(i, _) if i == *int))
                .collect();
            let small: Vec<(&Param, i128)> = params
                .iter()
                .filter_map(|p| match p.ty {
                    ParamTy::Int(_, v) => Some((p, v)),
                    _ => None,
                })
                .collect();
            match rng.below(5) {
                0 if !exact.is_empty() => {
                    let p = rng.pick(&exact);
                    let ParamTy::Int(_, v) = p.ty else {
                        unreachable!()
                    };
                    same(p.name.clone(), v.to_string())
                }
                1 if !small.is_empty() => {
                    // param * k + c, within range
                    let (p, v) = *rng.pick(&small);
                    let k = rng.below(3) as i128 + 1;
                    let c = rng.below(10) as i128;
                    let value = v * k + c;
                    if (lo..=hi).contains(&value) {
                        same(format!("{} * {k} + {c}", p.name), value.to_string())
                    } else {
                        same(lo.max(0).to_string(), lo.max(0).to_string())
                    }
                }
                2 if in_group => {
                    // replica arithmetic, the same for every replica count: (replica + c) % m
                    let c = rng.below(7) as i128;
                    let m = rng.below(5) as i128 + 2;
                    let received = (0..replicas as i128)
                        .map(|r| ((r + c) % m).to_string())
                        .collect();
                    Given {
                        text: Some(format!("(replica + {c}) % {m}")),
                        received,
                    }
                }
                3 => {
                    // constant arithmetic folded by the checker
                    let a = rng.below(100) as i128;
                    let b = rng.below(20) as i128 + 1;
                    let value = if lo < 0 { a - b * 3 } else { a + b * 3 };
                    let text = if lo < 0 {
                        format!("{a} - {b} * 3")
                    } else {
                        format!("{a} + {b} * 3")
                    };
                    same(text, value.to_string())
                }
                _ => {
                    let value = if rng.chance(30) { hi } else { lo.max(-5) };
                    same(
                        if value < 0 {
                            format!("-{}", -value)
                        } else {
                            value.to_string()
                        },
                        value.to_string(),
                    )
                }
            }
        }
        Ty::F32 | Ty::F64 => {
            let f32_target = *ty == Ty::F32;
            let show = |v: f64| {
                if f32_target {
                    format!("{:?}", v as f32)
                } else {
                    format!("{v:?}")
                }
            };
            let floats: Vec<(&Param, f64)> = params
                .iter()
                .filter_map(|p| match p.ty {
                    ParamTy::F64(f) => Some((p, f)),
                    _ => None,
                })
                .collect();
            match rng.below(4) {
                0 if in_group => {
                    let received = (0..replicas)
                        .map(|r| show(1.0 / (r as f64 + 1.0)))
                        .collect();
                    Given {
                        text: Some("1 / (replica + 1)".into()),
                        received,
                    }
                }
                1 if !floats.is_empty() => {
                    let (p, f) = *rng.pick(&floats);
                    same(format!("{} * 2", p.name), show(f * 2.0))
                }
                2 => same("0.4 * 3".into(), show(0.4 * 3.0)),
                _ => same("2.5".into(), show(2.5)),
            }
        }
        Ty::Bool => {
            let bools: Vec<&Param> = params
                .iter()
                .filter(|p| matches!(p.ty, ParamTy::Bool(_)))
                .collect();
            if !bools.is_empty() && rng.chance(50) {
                let p = rng.pick(&bools);
                let ParamTy::Bool(b) = p.ty else {
                    unreachable!()
                };
                same(p.name.clone(), b.to_string())
            } else {
                let b = rng.chance(50);
                same(b.to_string(), b.to_string())
            }
        }
        Ty::Str => {
            let strings: Vec<&Param> = params
                .iter()
                .filter(|p| matches!(p.ty, ParamTy::Str(_)))
                .collect();
            if !strings.is_empty() && rng.chance(50) {
                let p = rng.pick(&strings);
                let ParamTy::Str(s) = p.ty else {
                    unreachable!()
                };
                same(p.name.clone(), format!("{s:?}"))
            } else {
                let s = *rng.pick(&["", "x", "line\\nbreak", "emoji 😀", "quote\""]);
                let value = s.replace("\\n", "\n");
                same(lp_string(&value).replace("\n", "\\n"), format!("{value:?}"))
            }
        }
        Ty::Duration => {
            let durations: Vec<&Param> = params
                .iter()
                .filter(|p| matches!(p.ty, ParamTy::Duration(_)))
                .collect();
            if !durations.is_empty() && rng.chance(50) {
                let p = rng.pick(&durations);
                let ParamTy::Duration(ms) = p.ty else {
                    unreachable!()
                };
                same(p.name.clone(), format!("{:?}", Duration::from_millis(ms)))
            } else {
                let (text, d) = *rng.pick(&[
                    ("250ms", Duration::from_millis(250)),
                    ("2s", Duration::from_secs(2)),
                    ("5m", Duration::from_secs(300)),
                    ("1h", Duration::from_secs(3600)),
                ]);
                same(text.into(), format!("{d:?}"))
            }
        }
        Ty::Option(inner) => {
            if rng.chance(40) {
                let none: Option<u8> = None;
                Given {
                    text: None,
                    received: vec![format!("{none:?}"); replicas],
                }
            } else {
                let given = give(rng, inner, decl, decls, types, params);
                Given {
                    text: given.text,
                    received: given
                        .received
                        .into_iter()
                        .map(|v| format!("Some({v})"))
                        .collect(),
                }
            }
        }
        Ty::Vec(_) => {
            let items: Vec<u16> = (0..rng.below(4)).map(|i| i as u16 * 7).collect();
            let text = format!(
                "[{}]",
                items
                    .iter()
                    .map(|i| i.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            same(text, format!("{items:?}"))
        }
        Ty::Handle(t) => {
            let singles: Vec<&Decl> = decls
                .iter()
                .filter(|d| d.ty == *t && d.count.is_none())
                .collect();
            let groups: Vec<&Decl> = decls
                .iter()
                .filter(|d| d.ty == *t && d.count.is_some_and(|n| n > 0))
                .collect();
            if !groups.is_empty() && (singles.is_empty() || rng.chance(50)) {
                let g = rng.pick(&groups);
                let n = g.count.unwrap_or(1);
                if in_group && rng.chance(50) {
                    // an index computed from the replica, checked for every replica
                    let received = (0..replicas)
                        .map(|r| format!("{}/{}", g.name, r % n))
                        .collect();
                    Given {
                        text: Some(format!("{}[replica % {n}]", g.name)),
                        received,
                    }
                } else {
                    let i = rng.below(n);
                    same(format!("{}[{i}]", g.name), format!("{}/{i}", g.name))
                }
            } else {
                let d = rng.pick(&singles);
                same(d.name.clone(), d.name.clone())
            }
        }
        Ty::Handles(t) => {
            let targets: Vec<&Decl> = decls.iter().filter(|d| d.ty == *t).collect();
            let d = rng.pick(&targets);
            match d.count {
                Some(_) if rng.chance(70) => same(d.name.clone(), format!("{:?}", d.labels())),
                Some(n) if n > 0 => {
                    let label = format!("{}/0", d.name);
                    same(format!("[{}[0]]", d.name), format!("{:?}", vec![label]))
                }
                Some(_) => same(d.name.clone(), format!("{:?}", d.labels())),
                None => same(
                    format!("[{}]", d.name),
                    format!("{:?}", vec![d.name.clone()]),
                ),
            }
        }
        Ty::Dyn => {
            let sources: Vec<&Decl> = decls
                .iter()
                .filter(|d| types[d.ty].source && d.count.is_none_or(|n| n > 0))
                .collect();
            let d = rng.pick(&sources);
            match d.count {
                None => same(d.name.clone(), d.name.clone()),
                Some(_) => same(format!("{}[0]", d.name), format!("{}/0", d.name)),
            }
        }
    }
}

/// The Rust module of a program's node types.
fn rust_module(types: &[NodeType], module: &str, has_source: bool, rng: &mut Rng) -> String {
    let mut out =
        String::from("#![allow(clippy::all, non_snake_case, non_camel_case_types, unused)]\n");
    if has_source {
        // Its method runs where its call is served when the declaration says so (`::lp`: a
        // module of this file may be named `lp`).
        let mark = *rng.pick(&["", "#[::lp::nonblocking] "]);
        let _ = write!(
            out,
            "/// A courier trait of this program.\npub trait Source {{\n    {mark}fn source_name(&self) -> String;\n}}\n\n",
        );
    }
    let mut modules: Vec<&str> = types.iter().map(|t| t.module.as_str()).collect();
    modules.sort();
    modules.dedup();
    for m in modules {
        let _ = writeln!(out, "pub mod {} {{", raw(m));
        for ty in types.iter().filter(|t| t.module == m) {
            out.push_str(&rust_type(ty, types, module, rng));
        }
        out.push_str("}\n");
    }
    out
}

fn rust_type(ty: &NodeType, types: &[NodeType], module: &str, rng: &mut Rng) -> String {
    let name = raw(&ty.name);
    let fields: Vec<String> = ty
        .params
        .iter()
        .map(|(p, t)| format!("    pub {}: {},", raw(p), t.rust(types, module)))
        .collect();
    let params: Vec<String> = ty
        .params
        .iter()
        .map(|(p, t)| format!("{}: {}", raw(p), t.rust(types, module)))
        .collect();
    let names: Vec<String> = ty.params.iter().map(|(p, _)| raw(p)).collect();
    let value = format!("{name} {{ {} }}", names.join(", "));
    let (ret, body) = if ty.fallible {
        (
            "::core::result::Result<Self, String>".to_string(),
            format!("::core::result::Result::Ok({value})"),
        )
    } else {
        ("Self".to_string(), value)
    };
    let mut out = format!(
        "    pub struct {name} {{\n{}\n    }}\n    impl {name} {{\n        pub fn new({}) -> {ret} {{\n            {body}\n        }}\n",
        fields.join("\n"),
        params.join(", ")
    );
    if ty.courier {
        let reports: Vec<String> = ty.params.iter().map(|(p, t)| t.report(&raw(p))).collect();
        // `ping`, which other nodes call, runs on a blocking thread or (marked, in either
        // spelling) where its call is served.
        let mark = *rng.pick(&["", "#[lp::nonblocking] ", "#[::lp::nonblocking] "]);
        let _ = write!(
            out,
            "        pub async fn received(&self) -> Vec<String> {{\n            vec![{}]\n        }}\n        {mark}pub fn ping(&self) -> u8 {{ 1 }}\n",
            reports.join(", ")
        );
        // Methods that once broke generated code: keyword names, names that mangled alike,
        // pattern parameters, handles as arguments and results.
        if rng.chance(50) {
            out.push_str("        pub fn get_x(&self) -> u32 { 1 }\n        pub fn getX(&self) -> u32 { 2 }\n");
        }
        if rng.chance(50) {
            out.push_str("        pub fn r#type(&self, _: u64, (a, b): (u8, u8), mut c: u64) -> u64 { c += u64::from(a) + u64::from(b); c }\n");
        }
        if rng.chance(50) {
            let _ = writeln!(
                out,
                "        pub async fn echo(&self, peer: lp::Handle<{}>) -> ::core::option::Option<lp::Handle<{}>> {{ Some(peer) }}",
                ty.path(module),
                ty.path(module)
            );
        }
        if rng.chance(30) {
            out.push_str("        pub fn sleep(&self, r#ref: ::core::option::Option<u8>) -> ::core::result::Result<u8, String> { r#ref.ok_or_else(|| \"none\".to_string()) }\n");
        }
    }
    out.push_str("    }\n");
    if !ty.courier {
        let _ = writeln!(
            out,
            "    impl lp::Run for {name} {{\n        async fn run(&self, _ctx: lp::Context) -> lp::Result<()> {{ Ok(()) }}\n    }}"
        );
    }
    if ty.source {
        let _ = writeln!(
            out,
            "    impl crate::{module}::Source for {name} {{\n        fn source_name(&self) -> String {{ \"{}\".into() }}\n    }}",
            ty.name
        );
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_same_seed_gives_the_same_package() {
        let a = super::package(7, 5);
        let b = super::package(7, 5);
        assert_eq!(a.files, b.files);
        let lp = |p: &super::Package| p.programs.iter().map(|p| p.lp.clone()).collect::<Vec<_>>();
        assert_eq!(lp(&a), lp(&b));
        assert_ne!(lp(&a), lp(&super::package(8, 5)));
    }

    /// The package CI builds (its fixed seed) marks some courier's `ping` `#[lp::nonblocking]`,
    /// in each spelling, and some courier trait's method, and leaves others unmarked.
    #[test]
    fn the_default_package_explores_the_nonblocking_mark() {
        let package = super::package(1, 16);
        let text: String = package
            .files
            .iter()
            .map(|(_, text)| text.as_str())
            .collect();
        for ping in [
            "        pub fn ping(",
            "#[lp::nonblocking] pub fn ping(",
            "#[::lp::nonblocking] pub fn ping(",
            "    fn source_name(",
            "#[::lp::nonblocking] fn source_name(",
        ] {
            assert!(text.contains(ping), "no `{ping}` in the package");
        }
    }
}
