//! Semantic tokens for a whole document: every word coloured by what the syntax tree says it
//! is (so `node:` as an argument is a parameter's name, not the keyword), keywords, literals,
//! operators and comments from the lexer, so editors without the TextMate or tree-sitter grammar
//! still colour `.lp` files.

use super::analysis::{names, Analysis};
use super::lookup::{self, Declaration};
use super::position::{LineIndex, LspPositions as _};
use lpc_build::syntax::ast::{self, Expr, ExprKind, Ident, NodeKind};
use lpc_build::syntax::lex::{self, Tok};
use lsp_types::{SemanticToken, SemanticTokenModifier, SemanticTokenType, SemanticTokensLegend};
use std::collections::HashMap;

/// The token types, in legend order.
const TYPES: [SemanticTokenType; 12] = [
    SemanticTokenType::KEYWORD,
    SemanticTokenType::NAMESPACE,
    SemanticTokenType::TYPE,
    SemanticTokenType::FUNCTION,
    SemanticTokenType::METHOD,
    SemanticTokenType::PARAMETER,
    SemanticTokenType::VARIABLE,
    SemanticTokenType::PROPERTY,
    SemanticTokenType::NUMBER,
    SemanticTokenType::STRING,
    SemanticTokenType::COMMENT,
    SemanticTokenType::OPERATOR,
];

/// A word's class: its index into [`TYPES`].
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Class {
    Keyword,
    Namespace,
    Type,
    Function,
    Method,
    Parameter,
    Variable,
    Property,
    Number,
    String,
    Comment,
    Operator,
}

/// Modifier bits, in legend order.
const DECLARATION: u32 = 1;
const READONLY: u32 = 2;

/// The legend the server announces.
pub fn legend() -> SemanticTokensLegend {
    SemanticTokensLegend {
        token_types: TYPES.to_vec(),
        token_modifiers: vec![
            SemanticTokenModifier::DECLARATION,
            SemanticTokenModifier::READONLY,
        ],
    }
}

/// The semantic tokens of the document, delta-encoded.
pub fn tokens(analysis: &Analysis) -> Vec<SemanticToken> {
    let text = analysis.text;
    let roles = Roles::of(analysis);
    let mut spans: Vec<(usize, usize, Class, u32)> = Vec::new();
    let mut covered = 0;
    for token in lex::lex(text).list {
        comments(text, covered, token.start, &mut spans);
        covered = token.end;
        let word = &text[token.start..token.end];
        let role = match token.kind {
            Tok::Ident => roles
                .0
                .get(&token.start)
                .copied()
                .or_else(|| is_keyword(word).then_some((Class::Keyword, 0))),
            Tok::Number => Some((Class::Number, 0)),
            Tok::Str | Tok::UnterminatedStr => Some((Class::String, 0)),
            Tok::Doc | Tok::UnterminatedComment => Some((Class::Comment, 0)),
            Tok::Punct if "=+-*/%".contains(word) => Some((Class::Operator, 0)),
            Tok::Punct | Tok::Unknown => None,
        };
        if let Some((kind, modifiers)) = role {
            spans.push((token.start, token.end, kind, modifiers));
        }
    }
    comments(text, covered, text.len(), &mut spans);
    encode(text, &spans)
}

/// The comments between two tokens (`text[from..to]` holds only whitespace and comments).
fn comments(text: &str, from: usize, to: usize, out: &mut Vec<(usize, usize, Class, u32)>) {
    let gap = text.get(from..to).unwrap_or("");
    let mut i = 0;
    while i < gap.len() {
        let rest = &gap[i..];
        let len = if rest.starts_with("//") {
            rest.find('\n').unwrap_or(rest.len())
        } else if rest.starts_with("/*") {
            block_comment_len(rest)
        } else {
            rest.chars().next().map_or(1, char::len_utf8)
        };
        if rest.starts_with("//") || rest.starts_with("/*") {
            out.push((from + i, from + i + len, Class::Comment, 0));
        }
        i += len.max(1);
    }
}

/// The length of the (nested) block comment at the start of `text`, or all of it.
fn block_comment_len(text: &str) -> usize {
    let bytes = text.as_bytes();
    let (mut depth, mut j) = (0usize, 0);
    while j < bytes.len() {
        if bytes[j..].starts_with(b"/*") {
            depth += 1;
            j += 2;
        } else if bytes[j..].starts_with(b"*/") {
            depth -= 1;
            j += 2;
            if depth == 0 {
                return j;
            }
        } else {
            j += 1;
        }
    }
    text.len()
}

/// Delta-encodes spans (sorted by start), split at line ends.
fn encode(text: &str, spans: &[(usize, usize, Class, u32)]) -> Vec<SemanticToken> {
    let index = LineIndex::new(text);
    let mut out = Vec::new();
    let (mut line, mut column) = (0, 0);
    for &(start, end, kind, modifiers) in spans {
        let mut from = start;
        while from < end {
            let line_end = text[from..end].find('\n').map_or(end, |i| from + i);
            let (a, b) = (index.position(from), index.position(line_end));
            if b.character > a.character {
                let delta_line = a.line.saturating_sub(line);
                let delta_start = if delta_line == 0 {
                    a.character.saturating_sub(column)
                } else {
                    a.character
                };
                out.push(SemanticToken {
                    delta_line,
                    delta_start,
                    length: b.character - a.character,
                    token_type: kind as u32,
                    token_modifiers_bitset: modifiers,
                });
                (line, column) = (a.line, a.character);
            }
            from = line_end + 1;
        }
    }
    out
}

/// What each word of the syntax tree is, by its start offset.
struct Roles(HashMap<usize, (Class, u32)>);

impl Roles {
    fn of(analysis: &Analysis) -> Roles {
        let mut roles = Roles(HashMap::new());
        for item in &analysis.file.items {
            match item {
                ast::Item::Use(u) => roles.use_item(analysis, u),
                ast::Item::Program(program) => roles.program(program),
            }
        }
        roles
    }

    fn set(&mut self, ident: &Ident, kind: Class, modifiers: u32) {
        self.0.insert(ident.span.range.start, (kind, modifiers));
    }

    fn use_item(&mut self, analysis: &Analysis, item: &ast::Use) {
        for import in &item.imports {
            let segments = &import.path.segments;
            let is_function = analysis.function_at(&names(segments)).is_some();
            let last = if is_function {
                Class::Function
            } else {
                Class::Type
            };
            for (i, segment) in segments.iter().enumerate() {
                let kind = if i + 1 == segments.len() {
                    last
                } else {
                    Class::Namespace
                };
                self.set(segment, kind, 0);
            }
            if let Some(alias) = &import.alias {
                self.set(alias, last, DECLARATION);
            }
        }
    }

    fn program(&mut self, program: &ast::Program) {
        self.set(&program.name, Class::Namespace, DECLARATION);
        for item in &program.items {
            match item {
                ast::ProgramItem::Param(p) => {
                    self.set(&p.name, Class::Variable, DECLARATION | READONLY);
                    self.set(&p.ty, Class::Type, 0);
                    if let Some(default) = &p.default {
                        self.expr(default, program);
                    }
                }
                ast::ProgramItem::Process(process) => {
                    self.set(&process.name, Class::Namespace, DECLARATION);
                }
                ast::ProgramItem::Node(_) => {}
            }
        }
        for node in lookup::nodes(program) {
            self.node(node, program);
        }
    }

    fn node(&mut self, node: &ast::NodeDecl, program: &ast::Program) {
        self.set(&node.name, Class::Variable, DECLARATION);
        let segments = &node.target.segments;
        for (i, segment) in segments.iter().enumerate() {
            let from_end = segments.len() - i;
            let kind = match (node.kind, from_end) {
                (_, 1) => Class::Function,
                (NodeKind::Courier | NodeKind::Worker, 2) => Class::Type,
                _ => Class::Namespace,
            };
            self.set(segment, kind, 0);
        }
        for arg in &node.args {
            self.set(&arg.name, Class::Parameter, 0);
        }
        for entry in node.block.iter().flat_map(|b| &b.entries) {
            let fields = match entry {
                ast::BlockEntry::Section(s) => {
                    self.set(&s.name, Class::Property, 0);
                    s.fields.as_slice()
                }
                ast::BlockEntry::Batch(b) => {
                    self.set(&b.method, Class::Method, 0);
                    b.fields.as_slice()
                }
                ast::BlockEntry::Setting(a) => std::slice::from_ref(a),
            };
            for field in fields {
                self.set(&field.name, Class::Property, 0);
            }
        }
        for expr in lookup::node_exprs(node) {
            self.expr(expr, program);
        }
    }

    fn expr(&mut self, expr: &Expr, program: &ast::Program) {
        match &expr.kind {
            ExprKind::Name(name) => self.name(name, program),
            ExprKind::Index { base, index } => {
                self.name(base, program);
                self.expr(index, program);
            }
            ExprKind::List(items) => items.iter().for_each(|e| self.expr(e, program)),
            ExprKind::Neg(inner) => self.expr(inner, program),
            ExprKind::Binary { lhs, rhs, .. } => {
                self.expr(lhs, program);
                self.expr(rhs, program);
            }
            ExprKind::Call { name, args } => {
                self.set(name, Class::Function, 0);
                for arg in args {
                    self.set(&arg.name, Class::Parameter, 0);
                    self.expr(&arg.value, program);
                }
            }
            _ => {}
        }
    }

    /// A name used in an expression: a param (read-only) or a node or group.
    fn name(&mut self, name: &Ident, program: &ast::Program) {
        let modifiers = match lookup::declaration(program, &name.name) {
            Some(Declaration::Param(_)) => READONLY,
            _ => 0,
        };
        self.set(name, Class::Variable, modifiers);
    }
}

/// Whether `word` is coloured as a keyword: the language's, and `batch` (a keyword in blocks).
fn is_keyword(word: &str) -> bool {
    word == "batch" || lpc_build::vocabulary::KEYWORDS.contains(&word)
}
