//! Pest pairs → AST. The grammar guarantees the shape of what it accepted, so lowering cannot
//! fail; it only checks literals (numbers, durations, escapes) and reports the invalid ones.

use std::time::Duration;

use pest::iterators::Pair;

use super::ast::*;
use super::expected::shorten;
use super::grammar::Rule;
use super::lex::{numeric_len, Tokens};
use super::units;
use crate::diag::{Code, Diagnostic, Diagnostics, FileId, Span};

/// How deep an expression tree may be (operators, negations, lists, calls, indexing).
pub(crate) const MAX_EXPR_DEPTH: usize = 256;

/// An item of a `process` block.
pub(crate) enum ProcessItem {
    Node(NodeDecl),
    /// `return_on_first_completed: true;`
    Setting(Arg),
}

/// Lowering state for one pest parse: where its input starts in the file.
pub(crate) struct Lower<'a> {
    pub file: FileId,
    /// Byte offset of the parsed slice in the file.
    pub offset: usize,
    pub tokens: &'a Tokens,
    pub diags: &'a mut Diagnostics,
}

impl Lower<'_> {
    /// The span of `pair` in the file, without the trailing whitespace or comments pest may
    /// include in a rule that ends with a repetition.
    pub fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        let start = self.offset + s.start();
        let end = self.offset + s.end();
        let end = self.tokens.prev_end(end).unwrap_or(end).clamp(start, end);
        Span::new(self.file, start..end)
    }

    fn join(&self, a: &Span, b: &Span) -> Span {
        Span::new(self.file, a.range.start..b.range.end.max(a.range.start))
    }

    fn ident(&self, pair: &Pair<'_, Rule>) -> Ident {
        Ident {
            name: pair.as_str().to_owned(),
            span: self.span(pair),
        }
    }

    /// A placeholder ident at the start of `pair`, for shapes the grammar rules out.
    fn missing(&self, pair: &Pair<'_, Rule>) -> Ident {
        let start = self.offset + pair.as_span().start();
        Ident {
            name: String::new(),
            span: Span::new(self.file, start..start),
        }
    }

    /// Where the item `pair` starts, after its doc comments.
    pub fn item_start(&self, pair: &Pair<'_, Rule>) -> usize {
        pair.clone()
            .into_inner()
            .find(|p| p.as_rule() != Rule::doc)
            .map_or(self.offset + pair.as_span().start(), |p| {
                self.offset + p.as_span().start()
            })
    }

    /// The span of `pair` without its leading doc comments.
    fn item_span(&self, pair: &Pair<'_, Rule>) -> Span {
        let whole = self.span(pair);
        let start = self.item_start(pair);
        Span::new(self.file, start..whole.range.end.max(start))
    }

    fn error(&mut self, span: Span, message: impl Into<String>, label: &str, help: Option<&str>) {
        let mut diagnostic = Diagnostic::new(Code::InvalidLiteral, message).primary(span, label);
        if let Some(help) = help {
            diagnostic = diagnostic.help(help);
        }
        self.diags.push(diagnostic);
    }

    // ---- items -------------------------------------------------------------------------------

    /// `use_item` → [`Use`].
    pub fn use_item(&mut self, pair: Pair<'_, Rule>) -> Use {
        let span = self.item_span(&pair);
        let doc = doc(&pair);
        let mut prefix: Vec<Ident> = Vec::new();
        let mut imports = Vec::new();
        let mut alias = None;
        let mut prefix_span = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::use_path => {
                    prefix_span = Some(self.span(&p));
                    prefix = self.segments(p);
                }
                Rule::use_alias => alias = self.alias(p),
                Rule::use_group => {
                    for leaf in p.into_inner().filter(|l| l.as_rule() == Rule::use_leaf) {
                        imports.push(self.use_leaf(&prefix, prefix_span.as_ref(), leaf));
                    }
                }
                _ => {}
            }
        }
        if imports.is_empty() && !prefix.is_empty() {
            if let Some(path_span) = prefix_span {
                imports.push(self.import(prefix, path_span, alias));
            }
        }
        Use { doc, imports, span }
    }

    fn use_leaf(
        &mut self,
        prefix: &[Ident],
        prefix_span: Option<&Span>,
        leaf: Pair<'_, Rule>,
    ) -> Import {
        let mut segments = prefix.to_vec();
        let mut end_span = self.span(&leaf);
        let mut alias = None;
        for p in leaf.into_inner() {
            match p.as_rule() {
                Rule::use_path => {
                    end_span = self.span(&p);
                    segments.extend(self.segments(p));
                }
                Rule::use_alias => alias = self.alias(p),
                _ => {}
            }
        }
        let path_span = match prefix_span {
            Some(start) => self.join(start, &end_span),
            None => end_span,
        };
        self.import(segments, path_span, alias)
    }

    fn import(&self, segments: Vec<Ident>, span: Span, alias: Option<Ident>) -> Import {
        let name = match (&alias, segments.last()) {
            (Some(alias), _) => alias.clone(),
            (None, Some(last)) => last.clone(),
            (None, None) => Ident {
                name: String::new(),
                span: span.clone(),
            },
        };
        Import {
            path: Path { segments, span },
            name,
            alias,
        }
    }

    fn alias(&self, pair: Pair<'_, Rule>) -> Option<Ident> {
        pair.into_inner()
            .find(|p| p.as_rule() == Rule::alias_name)
            .map(|p| self.ident(&p))
    }

    fn segments(&self, pair: Pair<'_, Rule>) -> Vec<Ident> {
        pair.into_inner()
            .filter(|p| p.as_rule() == Rule::path_seg)
            .map(|p| self.ident(&p))
            .collect()
    }

    fn path(&self, pair: Pair<'_, Rule>) -> Path {
        let span = self.span(&pair);
        Path {
            segments: self.segments(pair),
            span,
        }
    }

    /// `program_head` or `process_head` → doc and name.
    pub fn head(&mut self, pair: Pair<'_, Rule>) -> (Option<String>, Ident) {
        let doc = doc(&pair);
        let name = pair
            .clone()
            .into_inner()
            .find(|p| matches!(p.as_rule(), Rule::program_name | Rule::process_name))
            .map_or_else(|| self.missing(&pair), |p| self.ident(&p));
        (doc, name)
    }

    /// `program_item` → [`ProgramItem`].
    pub fn program_item(&mut self, pair: Pair<'_, Rule>) -> Option<ProgramItem> {
        let inner = pair.into_inner().next()?;
        Some(match inner.as_rule() {
            Rule::param => ProgramItem::Param(self.param(inner)),
            Rule::process => ProgramItem::Process(self.process(inner)),
            _ => ProgramItem::Node(self.node(inner)),
        })
    }

    /// `process_item` → a [`NodeDecl`] or a setting.
    pub fn process_item(&mut self, pair: Pair<'_, Rule>) -> Option<ProcessItem> {
        let inner = pair.into_inner().next()?;
        Some(match inner.as_rule() {
            Rule::process_setting => ProcessItem::Setting(self.arg(inner)),
            _ => ProcessItem::Node(self.node(inner)),
        })
    }

    fn param(&mut self, pair: Pair<'_, Rule>) -> Param {
        let span = self.item_span(&pair);
        let doc = doc(&pair);
        let mut name = self.missing(&pair);
        let mut ty = self.missing(&pair);
        let mut default = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::param_name => name = self.ident(&p),
                Rule::param_type => ty = self.ident(&p),
                Rule::expr => default = Some(self.expr(p)),
                _ => {}
            }
        }
        Param {
            doc,
            name,
            ty,
            default,
            span,
        }
    }

    fn process(&mut self, pair: Pair<'_, Rule>) -> Process {
        let span = self.item_span(&pair);
        let mut doc = None;
        let mut name = self.missing(&pair);
        let (mut nodes, mut settings) = (Vec::new(), Vec::new());
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::process_head => (doc, name) = self.head(p),
                Rule::process_item => match self.process_item(p) {
                    Some(ProcessItem::Node(node)) => nodes.push(node),
                    Some(ProcessItem::Setting(setting)) => settings.push(setting),
                    None => {}
                },
                _ => {}
            }
        }
        Process {
            doc,
            name,
            nodes,
            settings,
            span,
        }
    }

    /// `node` or `group` → [`NodeDecl`].
    fn node(&mut self, pair: Pair<'_, Rule>) -> NodeDecl {
        let span = self.item_span(&pair);
        let doc = doc(&pair);
        let start = span.clone();
        let mut decl = NodeDecl {
            doc,
            name: self.missing(&pair),
            count: None,
            kind: NodeKind::Courier,
            kind_span: start.clone(),
            target: Path {
                segments: Vec::new(),
                span: start.clone(),
            },
            args: Vec::new(),
            args_span: start,
            block: None,
            span,
        };
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::node_name | Rule::group_name => decl.name = self.ident(&p),
                Rule::expr => decl.count = Some(self.expr(p)),
                Rule::node_kind => {
                    decl.kind_span = self.span(&p);
                    decl.kind = match p.into_inner().next().map(|k| k.as_rule()) {
                        Some(Rule::kw_worker) => NodeKind::Worker,
                        Some(Rule::kw_fn) => NodeKind::Fn,
                        _ => NodeKind::Courier,
                    };
                }
                Rule::target => decl.target = self.path(p),
                Rule::args => {
                    decl.args_span = self.span(&p);
                    decl.args = self.args(p);
                }
                Rule::block => decl.block = Some(self.block(p)),
                _ => {}
            }
        }
        decl
    }

    /// Every `arg` (or `field`) directly inside `pair`.
    fn args(&mut self, pair: Pair<'_, Rule>) -> Vec<Arg> {
        pair.into_inner()
            .filter(|p| matches!(p.as_rule(), Rule::arg | Rule::field))
            .map(|p| self.arg(p))
            .collect()
    }

    /// `arg`, `field` or `setting` → [`Arg`].
    fn arg(&mut self, pair: Pair<'_, Rule>) -> Arg {
        self.arg_depth(pair).0
    }

    /// An [`Arg`] and the depth of its value.
    fn arg_depth(&mut self, pair: Pair<'_, Rule>) -> (Arg, usize) {
        let mut name = self.missing(&pair);
        let mut value = None;
        for p in pair.clone().into_inner() {
            match p.as_rule() {
                Rule::arg_name | Rule::field_name | Rule::entry_name => name = self.ident(&p),
                Rule::expr => value = Some(self.expr_depth(p)),
                _ => {}
            }
        }
        let (value, depth) = value.unwrap_or_else(|| {
            let span = self.span(&pair);
            (
                Expr {
                    kind: ExprKind::Error,
                    span,
                },
                1,
            )
        });
        let arg = Arg {
            span: self.join(&name.span, &value.span),
            name,
            value,
        };
        (arg, depth)
    }

    fn block(&mut self, pair: Pair<'_, Rule>) -> Block {
        let span = self.span(&pair);
        let mut entries = Vec::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::setting => entries.push(BlockEntry::Setting(self.arg(p))),
                Rule::section => {
                    let span = self.span(&p);
                    let name = p
                        .clone()
                        .into_inner()
                        .find(|n| n.as_rule() == Rule::entry_name)
                        .map_or_else(|| self.missing(&p), |n| self.ident(&n));
                    let fields = self.args(p);
                    entries.push(BlockEntry::Section(Section { name, fields, span }));
                }
                Rule::batch => {
                    let span = self.span(&p);
                    let mut keyword = span.clone();
                    let mut method = self.missing(&p);
                    for q in p.clone().into_inner() {
                        match q.as_rule() {
                            Rule::kw_batch => keyword = self.span(&q),
                            Rule::method_name => method = self.ident(&q),
                            _ => {}
                        }
                    }
                    let fields = self.args(p);
                    entries.push(BlockEntry::Batch(Batch {
                        keyword,
                        method,
                        fields,
                        span,
                    }));
                }
                _ => {}
            }
        }
        Block { entries, span }
    }

    // ---- expressions -------------------------------------------------------------------------

    /// `expr` or `term`: a left-associative chain of operators.
    fn expr(&mut self, pair: Pair<'_, Rule>) -> Expr {
        self.expr_depth(pair).0
    }

    /// Reports an expression nested deeper than [`MAX_EXPR_DEPTH`], so that nothing after the
    /// parser (including dropping the tree) recurses without bound.
    fn too_deep(&mut self, span: Span) -> (Expr, usize) {
        self.diags.push(
            Diagnostic::new(Code::Syntax, "expression too deep")
                .primary(
                    span.clone(),
                    format!("more than {MAX_EXPR_DEPTH} operators deep"),
                )
                .help("split it into simpler expressions"),
        );
        (
            Expr {
                kind: ExprKind::Error,
                span,
            },
            1,
        )
    }

    /// An expression and its depth.
    fn expr_depth(&mut self, pair: Pair<'_, Rule>) -> (Expr, usize) {
        let whole = self.span(&pair);
        let mut acc: Option<(Expr, usize)> = None;
        let mut op = BinOp::Add;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::add_op | Rule::mul_op => {
                    op = match p.as_str() {
                        "+" => BinOp::Add,
                        "-" => BinOp::Sub,
                        "*" => BinOp::Mul,
                        "/" => BinOp::Div,
                        _ => BinOp::Rem,
                    };
                }
                _ => {
                    let (rhs, rhs_depth) = match p.as_rule() {
                        Rule::term => self.expr_depth(p),
                        _ => self.unary(p),
                    };
                    acc = Some(match acc {
                        None => (rhs, rhs_depth),
                        Some((lhs, lhs_depth)) => {
                            let depth = lhs_depth.max(rhs_depth) + 1;
                            if depth > MAX_EXPR_DEPTH {
                                return self.too_deep(whole);
                            }
                            let expr = Expr {
                                span: self.join(&lhs.span, &rhs.span),
                                kind: ExprKind::Binary {
                                    op,
                                    lhs: Box::new(lhs),
                                    rhs: Box::new(rhs),
                                },
                            };
                            (expr, depth)
                        }
                    });
                }
            }
        }
        acc.unwrap_or((
            Expr {
                kind: ExprKind::Error,
                span: whole,
            },
            1,
        ))
    }

    /// `unary`: `-`* then a primary.
    fn unary(&mut self, pair: Pair<'_, Rule>) -> (Expr, usize) {
        let whole = self.span(&pair);
        let mut negs = Vec::new();
        let mut value = None;
        for p in pair.into_inner() {
            if p.as_rule() == Rule::neg {
                negs.push(self.span(&p));
            } else {
                value = Some(self.primary(p));
            }
        }
        let (mut value, depth) = value.unwrap_or((
            Expr {
                kind: ExprKind::Error,
                span: whole.clone(),
            },
            1,
        ));
        if depth + negs.len() > MAX_EXPR_DEPTH {
            return self.too_deep(whole);
        }
        let depth = depth + negs.len();
        for neg in negs.into_iter().rev() {
            value = Expr {
                span: self.join(&neg, &value.span),
                kind: ExprKind::Neg(Box::new(value)),
            };
        }
        (value, depth)
    }

    fn primary(&mut self, pair: Pair<'_, Rule>) -> (Expr, usize) {
        let span = self.span(&pair);
        let mut depth = 1;
        let kind = match pair.as_rule() {
            Rule::paren => {
                let inner = pair.into_inner().find(|p| p.as_rule() == Rule::expr);
                return match inner {
                    Some(inner) => {
                        let (expr, depth) = self.expr_depth(inner);
                        (Expr { span, ..expr }, depth)
                    }
                    None => (
                        Expr {
                            kind: ExprKind::Error,
                            span,
                        },
                        1,
                    ),
                };
            }
            Rule::list => {
                let mut items = Vec::new();
                for p in pair.into_inner().filter(|p| p.as_rule() == Rule::expr) {
                    let (item, item_depth) = self.expr_depth(p);
                    depth = depth.max(item_depth + 1);
                    items.push(item);
                }
                ExprKind::List(items)
            }
            Rule::number => self.number(pair.as_str(), &span),
            Rule::spaced_unit => self.spaced_unit(pair, &span),
            Rule::string => self.string(pair.as_str(), &span),
            Rule::boolean => ExprKind::Bool(pair.as_str() == "true"),
            Rule::kw_replica => ExprKind::Replica,
            Rule::kw_replicas => ExprKind::Replicas,
            Rule::call => self.call(pair, &mut depth),
            Rule::index => self.index(pair, &span, &mut depth),
            Rule::name => ExprKind::Name(self.ident(&pair)),
            _ => ExprKind::Error,
        };
        if depth > MAX_EXPR_DEPTH {
            return self.too_deep(span);
        }
        (Expr { kind, span }, depth)
    }

    /// `name(args)`; raises `depth` to one more than its deepest argument's.
    fn call(&mut self, pair: Pair<'_, Rule>, depth: &mut usize) -> ExprKind {
        let name = pair
            .clone()
            .into_inner()
            .find(|p| p.as_rule() == Rule::name)
            .map_or_else(|| self.missing(&pair), |p| self.ident(&p));
        let mut args = Vec::new();
        for p in pair.into_inner().filter(|p| p.as_rule() == Rule::arg) {
            let (arg, arg_depth) = self.arg_depth(p);
            *depth = (*depth).max(arg_depth + 1);
            args.push(arg);
        }
        ExprKind::Call { name, args }
    }

    /// `base[index]` at `span`; sets `depth` to one more than the index's.
    fn index(&mut self, pair: Pair<'_, Rule>, span: &Span, depth: &mut usize) -> ExprKind {
        let mut base = self.missing(&pair);
        let mut index = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::name => base = self.ident(&p),
                Rule::expr => {
                    let (expr, index_depth) = self.expr_depth(p);
                    *depth = index_depth + 1;
                    index = Some(expr);
                }
                _ => {}
            }
        }
        let index = index.unwrap_or(Expr {
            kind: ExprKind::Error,
            span: span.clone(),
        });
        ExprKind::Index {
            base,
            index: Box::new(index),
        }
    }

    // ---- literals ----------------------------------------------------------------------------

    /// An integer, float or duration; reports what is invalid.
    fn number(&mut self, text: &str, span: &Span) -> ExprKind {
        if let Some(kind) = self.prefixed_int(text, span) {
            return kind;
        }
        let (number, suffix) = text.split_at(numeric_len(text));
        let is_float = number.contains(['.', 'e', 'E']);
        match suffix {
            "" if is_float => self.float(number, span),
            "" => self.int(number, 10, span),
            "ms" | "s" | "m" | "h" => self.duration(number, suffix, is_float, span),
            "u8" | "u16" | "u32" | "u64" | "u128" | "usize" | "i8" | "i16" | "i32" | "i64"
            | "i128" | "isize" | "f32" | "f64" => {
                self.error(
                    span.clone(),
                    format!("literal suffix `{suffix}` is not allowed"),
                    "suffix not allowed",
                    Some(&format!(
                        "write `{number}`: the type comes from the Rust parameter"
                    )),
                );
                ExprKind::Error
            }
            _ => self.unknown_unit(number, suffix, span),
        }
    }

    /// A `0x`, `0o` or `0b` integer; `None` when `text` has none of these prefixes.
    fn prefixed_int(&mut self, text: &str, span: &Span) -> Option<ExprKind> {
        let (radix, what) = match text.get(..2) {
            Some("0x") => (16, "hexadecimal"),
            Some("0o") => (8, "octal"),
            Some("0b") => (2, "binary"),
            _ => return None,
        };
        let digits = &text[2..];
        if let Some(bad) = digits.chars().find(|&c| c != '_' && !c.is_digit(radix)) {
            self.error(
                span.clone(),
                format!("invalid digit `{}` in {what} literal", bad.escape_debug()),
                "invalid literal",
                None,
            );
            return Some(ExprKind::Error);
        }
        if !digits.chars().any(|c| c.is_digit(radix)) {
            self.error(
                span.clone(),
                format!("{what} literal has no digits"),
                "invalid literal",
                None,
            );
            return Some(ExprKind::Error);
        }
        Some(self.int(digits, radix, span))
    }

    /// Digits in `radix` as an integer, or an error when they do not fit in 128 bits.
    fn int(&mut self, digits: &str, radix: u32, span: &Span) -> ExprKind {
        match parse_int(digits, radix) {
            Some(v) => ExprKind::Int(v),
            None => {
                self.too_large(span);
                ExprKind::Error
            }
        }
    }

    /// A float without a suffix, or an error when it is not a finite `f64`.
    fn float(&mut self, number: &str, span: &Span) -> ExprKind {
        match number.replace('_', "").parse::<f64>() {
            Ok(v) if v.is_finite() => ExprKind::Float(v),
            _ => {
                self.error(
                    span.clone(),
                    "float literal is out of range",
                    "does not fit in an `f64`",
                    None,
                );
                ExprKind::Error
            }
        }
    }

    /// `number` followed by the duration unit `unit`: whole, and small enough for a `Duration`.
    fn duration(&mut self, number: &str, unit: &str, is_float: bool, span: &Span) -> ExprKind {
        if is_float {
            let help = match units::literal(number, unit) {
                Some(literal) => format!("write `{literal}`"),
                None => units::HOW.to_owned(),
            };
            self.error(
                span.clone(),
                "a duration must be a whole number",
                "fractional duration",
                Some(&help),
            );
            return ExprKind::Error;
        }
        let millis = parse_int(number, 10)
            .and_then(|v| u64::try_from(v).ok())
            .zip(units::millis(unit))
            .and_then(|(v, unit)| v.checked_mul(unit));
        match millis {
            Some(ms) => ExprKind::Duration(Duration::from_millis(ms)),
            None => {
                self.error(
                    span.clone(),
                    "duration is too large",
                    "does not fit in a `Duration`",
                    None,
                );
                ExprKind::Error
            }
        }
    }

    /// `number` followed by `suffix`, which is neither a duration unit nor a type.
    fn unknown_unit(&mut self, number: &str, suffix: &str, span: &Span) -> ExprKind {
        let help = match units::unit_named(suffix).and_then(|u| units::literal(number, u)) {
            Some(literal) => format!("write `{literal}`"),
            None => units::HOW.to_owned(),
        };
        self.error(
            span.clone(),
            format!("unknown duration unit `{}`", shorten(suffix)),
            "unknown unit",
            Some(&help),
        );
        ExprKind::Error
    }

    /// `10 ms`: a number, spaces, then a word where the expression should end. Always a syntax
    /// error: a duration is written without a space, and a word cannot follow a number.
    fn spaced_unit(&mut self, pair: Pair<'_, Rule>, span: &Span) -> ExprKind {
        let mut inner = pair.into_inner();
        let (Some(number), Some(word)) = (inner.next(), inner.next()) else {
            return ExprKind::Error;
        };
        let word_span = self.span(&word);
        let (number, word) = (number.as_str(), word.as_str());
        let bare = numeric_len(number) == number.len();
        let diagnostic = match units::unit_named(word).filter(|_| bare) {
            Some(unit) => {
                let help = match units::literal(number, unit) {
                    Some(literal) => format!("write `{literal}` (no space)"),
                    None => units::HOW.to_owned(),
                };
                Diagnostic::new(Code::Syntax, "space inside a duration")
                    .primary(span.clone(), format!("a space before the unit `{word}`"))
                    .help(help)
            }
            None => Diagnostic::new(
                Code::Syntax,
                format!("unexpected `{}` after a number", shorten(word)),
            )
            .primary(word_span, "not a duration unit")
            .help(units::HOW),
        };
        self.diags.push(diagnostic);
        ExprKind::Error
    }

    fn too_large(&mut self, span: &Span) {
        self.error(
            span.clone(),
            "integer literal is too large",
            "does not fit in 128 bits",
            None,
        );
    }

    /// A string literal, quotes included → its value, with Rust escapes resolved.
    fn string(&mut self, text: &str, span: &Span) -> ExprKind {
        let body = text
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .unwrap_or("");
        let mut out = String::with_capacity(body.len());
        let mut ok = true;
        let mut chars = body.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            let Some((_, e)) = chars.next() else { break };
            match self.escape(e, i, &mut chars, span) {
                Escape::Char(c) => out.push(c),
                Escape::Nothing => {}
                Escape::Invalid => ok = false,
            }
        }
        if ok {
            ExprKind::Str(out)
        } else {
            ExprKind::Error
        }
    }

    /// The escape `\e` at byte `i` of the body of the string literal at `span`, the rest of
    /// the body in `chars`; an invalid one is reported.
    fn escape(&mut self, e: char, i: usize, chars: &mut BodyChars<'_>, span: &Span) -> Escape {
        let simple = match e {
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            '\\' => Some('\\'),
            '0' => Some('\0'),
            '\'' => Some('\''),
            '"' => Some('"'),
            _ => None,
        };
        if let Some(s) = simple {
            return Escape::Char(s);
        }
        let base = span.range.start + 1;
        match e {
            '\n' | '\r' => {
                // Line continuation: skip the newline and leading whitespace.
                while chars.next_if(|&(_, c)| c.is_whitespace()).is_some() {}
                Escape::Nothing
            }
            'x' => self.hex_escape(i, chars, span),
            'u' => self.unicode_escape(i, chars, span),
            other => {
                self.error(
                    Span::new(span.file, base + i..base + i + 1 + other.len_utf8()),
                    format!("unknown escape `\\{}`", other.escape_debug()),
                    "unknown escape",
                    Some("escapes are `\\n`, `\\r`, `\\t`, `\\\\`, `\\0`, `\\'`, `\\\"`, `\\x7f` and `\\u{…}`; write `\\\\` for a backslash"),
                );
                Escape::Invalid
            }
        }
    }

    /// `\x7f` at byte `i` of the string's body: two hex digits, at most `7f`.
    fn hex_escape(&mut self, i: usize, chars: &mut BodyChars<'_>, span: &Span) -> Escape {
        let base = span.range.start + 1;
        let hex: String = (0..2)
            .filter_map(|_| chars.next_if(|&(_, c)| c.is_ascii_hexdigit()))
            .map(|(_, c)| c)
            .collect();
        match u8::from_str_radix(&hex, 16) {
            Ok(v) if hex.len() == 2 && v <= 0x7f => Escape::Char(char::from(v)),
            _ => {
                let end = base + i + 2 + hex.len();
                self.error(
                    Span::new(span.file, base + i..end),
                    "invalid `\\x` escape",
                    "invalid escape",
                    Some(
                        "`\\x` takes two hex digits up to `7f`; use `\\u{…}` for other characters",
                    ),
                );
                Escape::Invalid
            }
        }
    }

    /// `\u{1F600}` at byte `i` of the string's body: one to six hex digits naming a scalar
    /// value.
    fn unicode_escape(&mut self, i: usize, chars: &mut BodyChars<'_>, span: &Span) -> Escape {
        let base = span.range.start + 1;
        let mut end = i + 2;
        let mut value = None;
        if chars.next_if(|&(_, c)| c == '{').is_some() {
            let mut hex = String::new();
            while let Some((_, c)) = chars.next_if(|&(_, c)| c.is_ascii_hexdigit() || c == '_') {
                hex.push(c);
            }
            end = i + 3 + hex.len();
            if chars.next_if(|&(_, c)| c == '}').is_some() {
                end += 1;
                let digits = hex.replace('_', "");
                if (1..=6).contains(&digits.len()) {
                    value = u32::from_str_radix(&digits, 16)
                        .ok()
                        .and_then(char::from_u32);
                }
            }
        }
        match value {
            Some(c) => Escape::Char(c),
            None => {
                self.error(
                    Span::new(span.file, base + i..base + end),
                    "invalid unicode escape",
                    "invalid escape",
                    Some("write a unicode scalar value as `\\u{1F600}`"),
                );
                Escape::Invalid
            }
        }
    }
}

/// The characters of a string literal's body still to read, with their byte offsets.
type BodyChars<'a> = std::iter::Peekable<std::str::CharIndices<'a>>;

/// What an escape in a string literal stands for.
enum Escape {
    /// One character.
    Char(char),
    /// Nothing: a line continuation.
    Nothing,
    /// An invalid escape, reported.
    Invalid,
}

/// The doc comment of an item: its `///` lines without the marker and one leading space.
fn doc(pair: &Pair<'_, Rule>) -> Option<String> {
    let lines: Vec<&str> = pair
        .clone()
        .into_inner()
        .filter(|p| p.as_rule() == Rule::doc)
        .map(|p| {
            let line = p.as_str().strip_prefix("///").unwrap_or("");
            let line = line.strip_prefix(' ').unwrap_or(line);
            line.strip_suffix('\r').unwrap_or(line)
        })
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// Digits (with `_` separators) in `radix` → value, `None` on overflow.
fn parse_int(digits: &str, radix: u32) -> Option<u128> {
    digits
        .chars()
        .filter(|&c| c != '_')
        .try_fold(0u128, |acc, c| {
            acc.checked_mul(u128::from(radix))?
                .checked_add(u128::from(c.to_digit(radix)?))
        })
}
