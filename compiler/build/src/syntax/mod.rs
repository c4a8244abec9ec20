//! The front end: `.lp` text → [`ast::File`], every syntax error reported as a
//! [`Diagnostic`] with what was expected in words.
//!
//! The grammar is `grammar/lp.pest`. Parsing goes item by item — `use` and `program` heads at
//! the top level, `param`/`node`/`group`/`process` inside a program, `node`/`group` inside a
//! process — each a separate pest parse, so that an error in one item is reported and parsing
//! resumes at the next item (the `lex` module finds where that is, respecting brackets). Control
//! characters are reported first and then read as spaces (the `text` module). Pest types never
//! leave this module.

pub mod ast;
mod expected;
mod grammar;
pub mod lex;
mod lower;
#[cfg(test)]
mod tests;
mod text;
mod units;

use pest::error::{ErrorVariant, InputLocation};
use pest::iterators::Pair;
use pest::Parser as _;

use crate::diag::{Code, Diagnostic, Diagnostics, FileId, Span};
use expected::{Source, SyntaxError};
use grammar::{LpParser, Rule};
use lex::{Tok, Tokens};
use lower::Lower;

pub(crate) use text::not_utf8;

/// After this many syntax errors in one file, parsing stops.
const MAX_ERRORS: usize = 100;

/// Parses one `.lp` file. Syntax errors and invalid literals go to `diags`; the returned file
/// holds every item that parsed, including those after an error. Never panics.
pub fn parse(file: FileId, text: &str, diags: &mut Diagnostics) -> ast::File {
    let Some(text) = text::blank_controls(file, text, &mut |d| diags.push(d)) else {
        return ast::File::default();
    };
    let tokens = lex::lex(&text);
    let mut parser = Parser {
        src: Source {
            file,
            text: &text,
            tokens: &tokens,
        },
        diags,
        errors: 0,
        unmatched_closers: 0,
    };
    parser.file()
}

/// Where items are being parsed: which keywords start an item there.
#[derive(Copy, Clone, PartialEq, Eq)]
enum Level {
    Top,
    Program,
    Process,
}

impl Level {
    fn starts_item(self, word: &str) -> bool {
        match self {
            Level::Top => matches!(word, "use" | "program"),
            Level::Program | Level::Process => expected::is_item_keyword(word),
        }
    }
}

struct Parser<'a> {
    src: Source<'a>,
    diags: &'a mut Diagnostics,
    errors: usize,
    /// Bodies reported unclosed where an item interrupted them (`program` before the `}` of
    /// the previous program): as many stray `}` at the top level are theirs, misplaced, and
    /// already explained.
    unmatched_closers: usize,
}

impl<'a> Parser<'a> {
    fn tokens(&self) -> &'a Tokens {
        self.src.tokens
    }

    fn token_text(&self, i: usize) -> &'a str {
        let text: &'a str = self.src.text;
        self.tokens()
            .list
            .get(i)
            .and_then(|t| text.get(t.start..t.end))
            .unwrap_or("")
    }

    fn token_start(&self, i: usize) -> usize {
        self.tokens()
            .list
            .get(i)
            .map_or(self.src.text.len(), |t| t.start)
    }

    fn is_punct(&self, i: usize, punct: &str) -> bool {
        self.tokens()
            .list
            .get(i)
            .is_some_and(|t| t.kind == Tok::Punct)
            && self.token_text(i) == punct
    }

    /// The keyword of the item starting at token `i`, skipping its doc comments.
    fn item_keyword(&self, mut i: usize) -> &'a str {
        while self
            .tokens()
            .list
            .get(i)
            .is_some_and(|t| t.kind == Tok::Doc)
        {
            i += 1;
        }
        match self.tokens().list.get(i) {
            Some(t) if t.kind == Tok::Ident && !self.is_punct(i + 1, "::") => self.token_text(i),
            _ => "",
        }
    }

    fn stopped(&self) -> bool {
        self.errors >= MAX_ERRORS
    }

    fn report(&mut self, mut diagnostic: Diagnostic) {
        if self.stopped() {
            return;
        }
        self.errors += 1;
        if self.stopped() {
            diagnostic = diagnostic.note(format!("stopping after {MAX_ERRORS} syntax errors"));
        }
        self.diags.push(diagnostic);
    }

    /// Runs pest on `rule` from token `i`.
    fn run(&self, rule: Rule, i: usize) -> Result<(Pair<'a, Rule>, usize), SyntaxError> {
        let start = self.token_start(i);
        let text: &'a str = self.src.text;
        let input = text.get(start..).unwrap_or("");
        match LpParser::parse(rule, input) {
            Ok(mut pairs) => match pairs.next() {
                Some(pair) => Ok((pair, start)),
                None => Err(SyntaxError {
                    pos: start,
                    rules: vec![rule],
                    too_deep: false,
                }),
            },
            Err(error) => {
                let pos = match error.location {
                    InputLocation::Pos(p) => p,
                    InputLocation::Span((p, _)) => p,
                };
                let (rules, too_deep) = match error.variant {
                    ErrorVariant::ParsingError { positives, .. } => (positives, false),
                    ErrorVariant::CustomError { .. } => (Vec::new(), true),
                };
                Err(SyntaxError {
                    pos: start + pos,
                    rules,
                    too_deep,
                })
            }
        }
    }

    fn lower(&mut self, offset: usize) -> Lower<'_> {
        Lower {
            file: self.src.file,
            offset,
            tokens: self.src.tokens,
            diags: self.diags,
        }
    }

    fn syntax_error(&mut self, item: usize, error: &SyntaxError, extra: &[&'static str]) {
        let diagnostic = expected::syntax_error(&self.src, self.token_start(item), error, extra);
        self.report(diagnostic);
    }

    /// Token index just after byte offset `end`.
    fn after(&self, end: usize) -> usize {
        self.tokens().at(end)
    }

    /// After an error at `error_pos` in the item starting at token `item`: the token where the
    /// next item (or the end of the enclosing body) starts. Skips at least one token.
    fn sync(&self, level: Level, item: usize, error_pos: usize) -> usize {
        let list = &self.tokens().list;
        let mut open: Vec<&str> = Vec::new();
        let mut depth = 0usize;
        let mut i = item;
        while i < list.len() {
            let token = list[i];
            let past_error = i > item && token.start >= error_pos;
            let text = self.token_text(i);
            if past_error {
                // An item keyword followed by a name, or first on its line (`node group = …`
                // is a bad node name, not a group).
                let starts_item = token.kind == Tok::Doc
                    || (token.kind == Tok::Ident
                        && (level.starts_item(text) || matches!(text, "use" | "program"))
                        && (list.get(i + 1).is_some_and(|t| t.kind == Tok::Ident)
                            || self.src_starts_line(token.start)));
                if starts_item && depth == 0 {
                    return i;
                }
                // An item keyword first on its line and followed by a name starts an item even
                // inside unbalanced brackets.
                if starts_item
                    && token.kind == Tok::Ident
                    && self.src_starts_line(token.start)
                    && list.get(i + 1).is_some_and(|t| t.kind == Tok::Ident)
                {
                    return i;
                }
                // Past brackets opened in the item and left open: a `}` that closes none of
                // them ends the enclosing body (`new(` then `}`).
                if token.kind == Tok::Punct {
                    let closes_body = !open.contains(&"{");
                    match text {
                        ";" if depth == 0 => return i + 1,
                        "}" if level != Level::Top && closes_body => return i,
                        _ => {}
                    }
                }
            }
            if token.kind == Tok::Punct {
                lex::nest(&mut open, text);
                depth = open.len();
            }
            i += 1;
        }
        list.len()
    }

    /// The column (in bytes) of `pos` on its line.
    fn column(&self, pos: usize) -> usize {
        let before = self.src.text.get(..pos).unwrap_or("");
        before.len() - before.rfind('\n').map_or(0, |n| n + 1)
    }

    /// The indentation (in bytes) of the line holding `pos`.
    fn indentation(&self, pos: usize) -> usize {
        let before = self.src.text.get(..pos).unwrap_or("");
        let line = &before[before.rfind('\n').map_or(0, |n| n + 1)..];
        line.len() - line.trim_start().len()
    }

    fn src_starts_line(&self, pos: usize) -> bool {
        match self.tokens().prev_end(pos) {
            Some(end) => self
                .src
                .text
                .get(end..pos)
                .is_some_and(|gap| gap.contains('\n')),
            None => true,
        }
    }

    /// Reports nesting too deep in the item starting at token `item` (ending before token
    /// `end`), if it is.
    fn check_depth(&mut self, item: usize, end: usize) -> bool {
        if self.tokens().too_deep.is_empty() {
            return false;
        }
        match self
            .tokens()
            .too_deep_in(self.token_start(item), self.token_start(end))
        {
            Some(pos) => {
                let diagnostic = expected::too_deep(&self.src, pos);
                self.report(diagnostic);
                true
            }
            None => false,
        }
    }

    // ---- the item loops ----------------------------------------------------------------------

    fn file(&mut self) -> ast::File {
        let mut items = Vec::new();
        let mut i = 0;
        while i < self.tokens().list.len() && !self.stopped() {
            if !self.tokens().too_deep.is_empty() {
                let end = self.sync(Level::Top, i, 0);
                let checked_end = match self.item_keyword(i) {
                    "program" => self.head_end(i, end),
                    _ => end,
                };
                if self.check_depth(i, checked_end) {
                    i = end;
                    continue;
                }
            }
            match self.run(Rule::top_item, i) {
                Ok((pair, offset)) => {
                    let Some(inner) = pair.into_inner().next() else {
                        i = self.sync(Level::Top, i, 0);
                        continue;
                    };
                    let next = self.after(offset + inner.as_span().end());
                    if inner.as_rule() == Rule::use_item {
                        let item = self.lower(offset).use_item(inner);
                        items.push(ast::Item::Use(item));
                        i = next;
                    } else {
                        let start = self.lower(offset).item_start(&inner);
                        let (doc, name) = self.lower(offset).head(inner);
                        let (body, close, after) = self.body(Level::Program, next, &name);
                        let span = Span::new(self.src.file, start..close.max(start));
                        let mut broken_names = Vec::new();
                        let items_in_body = body
                            .into_iter()
                            .filter_map(|item| item.into_program(&mut broken_names))
                            .collect();
                        items.push(ast::Item::Program(ast::Program {
                            doc,
                            name,
                            items: items_in_body,
                            broken_names,
                            span,
                        }));
                        i = after;
                    }
                }
                Err(_) if self.unmatched_closers > 0 && self.is_punct(i, "}") => {
                    self.unmatched_closers -= 1;
                    i += 1;
                }
                Err(error) => {
                    self.syntax_error(i, &error, &[]);
                    i = self.recover_head(Level::Top, i, &error);
                }
            }
        }
        ast::File { items }
    }

    /// The token after the `{` of a head starting at token `i` (before `end`), or `end`.
    fn head_end(&self, i: usize, end: usize) -> usize {
        (i..end)
            .find(|&j| self.is_punct(j, "{"))
            .map_or(end, |j| j + 1)
    }

    /// After a failed item at token `item`: if it was a `program` or `process` head whose `{`
    /// is near, parses its body for the errors in it (the item itself is dropped); otherwise
    /// skips to the next item.
    fn recover_head(&mut self, level: Level, item: usize, error: &SyntaxError) -> usize {
        let keyword = self.item_keyword(item);
        let body_level = match keyword {
            "program" if level == Level::Top => Level::Program,
            "process" if level == Level::Program => Level::Process,
            _ => return self.sync(level, item, error.pos),
        };
        let list = &self.tokens().list;
        let mut j = self.tokens().at(error.pos);
        while j < list.len() {
            let text = self.token_text(j);
            if self.is_punct(j, "{") {
                let name = ast::Ident {
                    name: String::new(),
                    span: Span::new(self.src.file, list[j].start..list[j].start),
                };
                let (_, _, after) = self.body(body_level, j + 1, &name);
                return after;
            }
            let ends = matches!(text, ";" | "}" | "(" | "[" | "=")
                || (list[j].kind == Tok::Ident && expected::is_item_keyword(text));
            if ends {
                break;
            }
            j += 1;
        }
        self.sync(level, item, error.pos)
    }

    /// The items of a program or process body starting at token `i` (just after its `{`), up
    /// to its `}`. Returns the items, the end of the `}` (or of the last item when unclosed)
    /// and the token after the body.
    fn body(
        &mut self,
        level: Level,
        mut i: usize,
        owner: &ast::Ident,
    ) -> (Vec<BodyItem>, usize, usize) {
        let open = i.saturating_sub(1);
        let mut items = Vec::new();
        let mut last_end = self.tokens().prev_end(self.token_start(i)).unwrap_or(0);
        let rule = match level {
            Level::Process => Rule::process_item,
            _ => Rule::program_item,
        };
        while !self.stopped() {
            let Some(&token) = self.tokens().list.get(i) else {
                // An unterminated string or comment already explains the missing `}`.
                let unterminated = self.tokens().list.last().is_some_and(|t| {
                    matches!(t.kind, Tok::UnterminatedStr | Tok::UnterminatedComment)
                });
                if !unterminated {
                    self.unclosed(level, open, owner, None);
                }
                return (items, last_end, i);
            };
            if self.is_punct(i, "}") {
                return (items, token.end, i + 1);
            }
            let keyword = self.item_keyword(i);
            if matches!(keyword, "use" | "program") {
                self.unclosed(level, open, owner, Some(i));
                self.unmatched_closers += 1;
                return (items, last_end, i);
            }
            // A `param` or `process` no deeper than the `process` line belongs to the program:
            // the process is what was left open (its `}` then closes the program).
            if level == Level::Process
                && matches!(keyword, "param" | "process")
                && self.src_starts_line(token.start)
                && self.column(token.start) <= self.indentation(self.token_start(open))
            {
                self.unclosed(level, open, owner, Some(i));
                return (items, last_end, i);
            }
            let end = if self.tokens().too_deep.is_empty() {
                i
            } else {
                self.sync(level, i, 0)
            };
            if keyword == "process" && level == Level::Program {
                if self.check_depth(i, self.head_end(i, end)) {
                    i = end;
                    continue;
                }
                match self.run(Rule::process_head, i) {
                    Ok((head, offset)) => {
                        let start = self.lower(offset).item_start(&head);
                        let next = self.after(offset + head.as_span().end());
                        let (doc, name) = self.lower(offset).head(head);
                        let (nodes, close, after) = self.body(Level::Process, next, &name);
                        let span = Span::new(self.src.file, start..close.max(start));
                        let mut broken = Vec::new();
                        let process_nodes = nodes
                            .into_iter()
                            .filter_map(|node| node.into_node(&mut broken))
                            .collect();
                        items.extend(broken.into_iter().map(BodyItem::Broken));
                        items.push(BodyItem::Process(ast::Process {
                            doc,
                            name,
                            nodes: process_nodes,
                            span,
                        }));
                        last_end = close;
                        i = after;
                    }
                    Err(error) => {
                        self.syntax_error(i, &error, &["`}`"]);
                        i = self.recover_head(level, i, &error);
                    }
                }
                continue;
            }
            if self.check_depth(i, end) {
                i = end;
                continue;
            }
            match self.run(rule, i) {
                Ok((pair, offset)) => {
                    last_end = offset + pair.as_span().end();
                    let next = self.after(last_end);
                    let mut lower = self.lower(offset);
                    let item = match level {
                        Level::Process => lower.process_item(pair).map(BodyItem::Node),
                        _ => lower.program_item(pair).map(BodyItem::Program),
                    };
                    items.extend(item);
                    i = next;
                }
                Err(error) => {
                    self.syntax_error(i, &error, &["`}`"]);
                    items.extend(self.declared_name(i).map(BodyItem::Broken));
                    i = self.sync(level, i, error.pos);
                }
            }
        }
        (items, last_end, self.tokens().list.len())
    }

    /// The name a `param`/`node`/`group` item starting at token `i` declares, when the name is
    /// there even though the item failed to parse.
    fn declared_name(&self, mut i: usize) -> Option<ast::Ident> {
        let list = &self.tokens().list;
        while list.get(i).is_some_and(|t| t.kind == Tok::Doc) {
            i += 1;
        }
        if !matches!(self.token_text(i), "param" | "node" | "group") {
            return None;
        }
        let name = list.get(i + 1).filter(|t| t.kind == Tok::Ident)?;
        Some(ast::Ident {
            name: self.token_text(i + 1).to_string(),
            span: Span::new(self.src.file, name.start..name.end),
        })
    }

    /// Reports the `{` at token `open` as never closed: the file ends, or the item at token
    /// `next` belongs outside.
    fn unclosed(&mut self, level: Level, open: usize, owner: &ast::Ident, next: Option<usize>) {
        let what = match level {
            Level::Process => "process",
            _ => "program",
        };
        let open_start = self.token_start(open);
        let open_span = Span::new(self.src.file, open_start..open_start + 1);
        let message = if owner.name.is_empty() {
            format!("unclosed `{{` of this {what}")
        } else {
            format!("unclosed `{{` of {what} `{}`", owner.name)
        };
        let mut diagnostic =
            Diagnostic::new(Code::Syntax, message).primary(open_span, "this `{` is never closed");
        if let Some(next) = next {
            let token = self.tokens().list[next];
            diagnostic = diagnostic.secondary(
                Span::new(self.src.file, token.start..token.end),
                format!("expected `}}` before this `{}`", self.item_keyword(next)),
            );
        }
        diagnostic = diagnostic.help(format!("add `}}` at the end of the {what}"));
        self.report(diagnostic);
    }
}

/// An item of a program or process body, before it is sorted into its parent.
enum BodyItem {
    Program(ast::ProgramItem),
    Node(ast::NodeDecl),
    Process(ast::Process),
    /// The name of an item that failed to parse.
    Broken(ast::Ident),
}

impl BodyItem {
    /// The program item, or `None` after moving a broken item's name to `broken`.
    fn into_program(self, broken: &mut Vec<ast::Ident>) -> Option<ast::ProgramItem> {
        match self {
            BodyItem::Program(item) => Some(item),
            BodyItem::Process(process) => Some(ast::ProgramItem::Process(process)),
            BodyItem::Node(node) => Some(ast::ProgramItem::Node(node)),
            BodyItem::Broken(name) => {
                broken.push(name);
                None
            }
        }
    }

    /// The node, or `None` after moving a broken item's name to `broken`.
    fn into_node(self, broken: &mut Vec<ast::Ident>) -> Option<ast::NodeDecl> {
        match self {
            BodyItem::Node(node) => Some(node),
            BodyItem::Program(ast::ProgramItem::Node(node)) => Some(node),
            BodyItem::Broken(name) => {
                broken.push(name);
                None
            }
            _ => None,
        }
    }
}
