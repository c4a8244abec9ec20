//! The canonical layout, construct by construct, following `grammar/lp.pest`. Each function
//! writes one construct starting at the printer's next token; the separator before it is set by
//! the caller.

use super::printer::{Blank, Printer, Res, Sep, Stop, INDENT};
use lpc_build::syntax::lex::Tok;

/// Writes one element of a bracketed list.
type Element<'a> = fn(&mut Printer<'a>) -> Res;

/// How a bracketed list looks on one line.
#[derive(Copy, Clone, PartialEq, Eq)]
enum Style {
    /// `(a, b)`, `[a, b]`, `{A, B}`.
    Tight,
    /// `{ a: 1, b: 2 }`.
    Spaced,
}

/// A bracketed, comma-separated list: token indices.
struct List {
    close: usize,
    /// Each element's first token and the comma after it, if any.
    elements: Vec<(usize, Option<usize>)>,
    /// The order to write elements in (indices into `elements`), when sorted.
    sorted: Option<Vec<usize>>,
}

impl<'a> Printer<'a> {
    /// Writes the whole file.
    pub fn file(&mut self) -> Res {
        let mut prev = "";
        while self.pos < self.eof() {
            let keyword = self.item_keyword();
            let blank = match (prev, keyword) {
                ("", _) | ("use", "use") => Blank::Keep,
                _ => Blank::Force,
            };
            self.sep(Sep::Line(blank));
            match keyword {
                "use" => self.use_run()?,
                "program" => self.program()?,
                _ => return Err(Stop::Bug("an item")),
            }
            prev = keyword;
        }
        self.end()
    }

    /// `use` items, one per line, sorted while consecutive: no blank line, comment or doc comment
    /// between them (comments inside an item move with it).
    fn use_run(&mut self) -> Res {
        self.lead()?;
        let mut items = Vec::new();
        loop {
            let start = self.mark();
            self.use_item()?;
            items.push(start..self.mark());
            let blank = self.token(self.pos).is_some_and(|t| t.blank_before);
            if blank || self.peek(0) != "use" || self.has_comments(self.pos) {
                if self.has_trailing_comment(self.pos) {
                    // The comment trails the last item: that one stays where it is.
                    items.pop();
                }
                break;
            }
            self.sep(Sep::Line(Blank::Never));
            self.lead()?;
        }
        self.sort_lines(&items, |line| sort_key(line.trim_start_matches("use ")));
        Ok(())
    }

    /// The keyword of the item at the next token, after its doc comments.
    fn item_keyword(&self) -> &'a str {
        let mut ahead = 0;
        while self.peek_kind(ahead) == Some(Tok::Doc) {
            ahead += 1;
        }
        self.peek(ahead)
    }

    /// `/// …` lines, each on its own line.
    fn docs(&mut self) -> Res {
        while self.peek_kind(0) == Some(Tok::Doc) {
            self.tok()?;
            self.sep(Sep::Line(Blank::Never));
        }
        Ok(())
    }

    /// An identifier.
    fn name(&mut self) -> Res {
        if self.peek_kind(0) != Some(Tok::Ident) {
            return Err(Stop::Bug("a name"));
        }
        self.tok()
    }

    /// `a::b::C`, stopping before `::{`.
    fn path(&mut self) -> Res {
        self.name()?;
        while self.peek(0) == "::" && self.peek_kind(1) == Some(Tok::Ident) {
            self.sep(Sep::None);
            self.tok()?;
            self.sep(Sep::None);
            self.tok()?;
        }
        Ok(())
    }

    /// `use a::b::C;`, `use a::b::{C, D as E};`, `use a::b::C as E;`
    fn use_item(&mut self) -> Res {
        self.docs()?;
        self.expect("use")?;
        self.sep(Sep::Space);
        self.use_leaf()?;
        if self.peek(0) == "::" && self.peek(1) == "{" {
            self.sep(Sep::None);
            self.tok()?;
            self.sep(Sep::None);
            let list = self.list(true)?;
            self.delimited(list, Style::Tight, 1, Self::use_leaf)?;
        }
        self.sep(Sep::None);
        self.expect(";")
    }

    /// `a::b::C` or `a::b::C as E`.
    fn use_leaf(&mut self) -> Res {
        self.path()?;
        if self.peek(0) == "as" {
            self.sep(Sep::Space);
            self.tok()?;
            self.sep(Sep::Space);
            self.name()?;
        }
        Ok(())
    }

    /// `program NAME { … }`
    fn program(&mut self) -> Res {
        self.docs()?;
        self.expect("program")?;
        self.sep(Sep::Space);
        self.name()?;
        self.sep(Sep::Space);
        self.body(Self::program_item)
    }

    /// `{`, items one per line, `}`; `{}` when empty.
    fn body(&mut self, item: Element<'a>) -> Res {
        self.expect("{")?;
        if self.peek(0) == "}" && !self.has_comments(self.pos) {
            self.sep(Sep::None);
            return self.tok();
        }
        self.indent += INDENT;
        self.block_start = true;
        let mut blank = Blank::Never;
        while self.peek(0) != "}" {
            if self.pos >= self.eof() {
                return Err(Stop::Bug("`}`"));
            }
            self.sep(Sep::Line(blank));
            item(self)?;
            blank = Blank::Keep;
        }
        self.close()
    }

    /// `param`, `node`, `group` or `process`.
    fn program_item(&mut self) -> Res {
        match self.item_keyword() {
            "param" => self.param(),
            "node" | "group" => self.node(),
            "process" => self.process(),
            _ => Err(Stop::Bug("a program item")),
        }
    }

    /// `param NAME: TYPE = DEFAULT;`
    fn param(&mut self) -> Res {
        self.docs()?;
        self.expect("param")?;
        self.sep(Sep::Space);
        self.name()?;
        self.sep(Sep::None);
        self.expect(":")?;
        self.sep(Sep::Space);
        self.param_type()?;
        if self.peek(0) == "=" {
            self.sep(Sep::Space);
            self.tok()?;
            self.sep(Sep::Space);
            self.expr(1)?;
        }
        self.sep(Sep::None);
        self.expect(";")
    }

    /// A param's type: a name, or a Rust type that `lpc check` rejects (`Vec<u8>`, `[u8; 4]`),
    /// written token by token with a space where the source had one.
    fn param_type(&mut self) -> Res {
        let start = self.pos;
        let mut depth = 0usize;
        loop {
            let next = self.peek(0);
            let ends = depth == 0 && matches!(next, "=" | ";");
            if (ends && self.pos > start) || self.pos >= self.eof() {
                return Ok(());
            }
            match next {
                "(" | "[" => depth += 1,
                ")" | "]" => depth = depth.saturating_sub(1),
                _ => {}
            }
            if self.pos > start {
                let spaced = self.token(self.pos).is_some_and(|t| t.spaced);
                self.sep(if spaced { Sep::Space } else { Sep::None });
            }
            self.tok()?;
        }
    }

    /// `process NAME { SETTING: VALUE; node …; group …; }`
    fn process(&mut self) -> Res {
        self.docs()?;
        self.expect("process")?;
        self.sep(Sep::Space);
        self.name()?;
        self.sep(Sep::Space);
        self.body(Self::process_item)
    }

    /// A `node`, `group` or setting (`return_on_first_completed: true;`) of a `process` block.
    fn process_item(&mut self) -> Res {
        if self.peek(1) != ":" {
            return self.node();
        }
        self.arg()?;
        self.sep(Sep::None);
        self.expect(";")
    }

    /// `node NAME = KIND PATH(ARGS);` or `group NAME[COUNT] = …`, ending in `;` or a block.
    fn node(&mut self) -> Res {
        self.docs()?;
        let group = self.peek(0) == "group";
        self.name()?;
        self.sep(Sep::Space);
        self.name()?;
        if group {
            self.sep(Sep::None);
            self.expect("[")?;
            self.sep(Sep::None);
            self.expr(0)?;
            self.sep(Sep::None);
            self.expect("]")?;
        }
        self.sep(Sep::Space);
        self.expect("=")?;
        self.sep(Sep::Space);
        self.name()?;
        self.sep(Sep::Space);
        self.path()?;
        self.sep(Sep::None);
        let list = self.list(false)?;
        let block = self.token(list.close + 1).is_some_and(|t| t.text == "{");
        self.delimited(list, Style::Tight, if block { 2 } else { 1 }, Self::arg)?;
        if block {
            self.sep(Sep::Space);
            self.body(Self::entry)
        } else {
            self.sep(Sep::None);
            self.expect(";")
        }
    }

    /// A block entry: `batch METHOD { … }`, `NAME { … }` or `NAME: VALUE`.
    fn entry(&mut self) -> Res {
        let batch = self.peek(0) == "batch" && self.peek_kind(1) == Some(Tok::Ident);
        if batch && self.peek(2) == "{" {
            self.tok()?;
            self.sep(Sep::Space);
        }
        if self.peek(1) == "{" {
            self.name()?;
            self.sep(Sep::Space);
            let list = self.list(false)?;
            return self.delimited(list, Style::Spaced, 0, Self::arg);
        }
        self.name()?;
        self.sep(Sep::None);
        self.expect(":")?;
        self.sep(Sep::Space);
        self.expr(1)?;
        if self.peek(0) == "," {
            self.sep(Sep::None);
            self.tok()?;
        }
        Ok(())
    }

    /// `name: value`.
    fn arg(&mut self) -> Res {
        self.name()?;
        self.sep(Sep::None);
        self.expect(":")?;
        self.sep(Sep::Space);
        self.expr(1)
    }

    /// An expression, followed by `suffix` characters on its line.
    fn expr(&mut self, suffix: usize) -> Res {
        self.unary(suffix)?;
        while self.peek_kind(0) == Some(Tok::Punct)
            && matches!(self.peek(0), "+" | "-" | "*" | "/" | "%")
        {
            self.sep(Sep::Space);
            self.tok()?;
            self.sep(Sep::Space);
            self.unary(suffix)?;
        }
        Ok(())
    }

    /// `-x`, `x`.
    fn unary(&mut self, suffix: usize) -> Res {
        while self.peek(0) == "-" {
            self.tok()?;
            self.sep(Sep::None);
        }
        self.primary(suffix)
    }

    /// A literal, name, `(expr)`, `[list]`, `call(args)` or `group[index]`.
    fn primary(&mut self, suffix: usize) -> Res {
        match (self.peek(0), self.peek_kind(0), self.peek(1)) {
            ("(", _, _) => {
                self.tok()?;
                self.sep(Sep::None);
                self.expr(0)?;
                self.sep(Sep::None);
                self.expect(")")
            }
            ("[", _, _) => {
                let list = self.list(false)?;
                self.delimited(list, Style::Tight, suffix, Self::element)
            }
            (_, Some(Tok::Ident), "(") => {
                self.tok()?;
                self.sep(Sep::None);
                let list = self.list(false)?;
                self.delimited(list, Style::Tight, suffix, Self::arg)
            }
            (_, Some(Tok::Ident), "[") => {
                self.tok()?;
                self.sep(Sep::None);
                self.expect("[")?;
                self.sep(Sep::None);
                self.expr(0)?;
                self.sep(Sep::None);
                self.expect("]")
            }
            (_, Some(Tok::Ident | Tok::Number | Tok::Str), _) => self.tok(),
            _ => Err(Stop::Bug("an expression")),
        }
    }

    /// An element of a `[list]`.
    fn element(&mut self) -> Res {
        self.expr(1)
    }

    /// The list whose opening bracket is the next token. With `sort`, its elements are sorted
    /// by their text when no comment is inside.
    fn list(&self, sort: bool) -> Result<List, Stop> {
        let open = self.pos;
        let close = self.closer(open).ok_or(Stop::Bug("a closing bracket"))?;
        let mut elements = Vec::new();
        let mut i = open + 1;
        while i < close {
            let start = i;
            while i < close && self.token(i).is_some_and(|t| t.text != ",") {
                i = self.closer(i).map_or(i, |c| c) + 1;
            }
            let comma = (i < close).then_some(i);
            elements.push((start, comma));
            i += 1;
        }
        let quiet = (open + 1..=close).all(|i| !self.has_comments(i));
        let sorted = (sort && quiet).then(|| {
            let mut order: Vec<usize> = (0..elements.len()).collect();
            let key = |&k: &usize| {
                let (start, comma) = elements[k];
                self.key(start, comma.unwrap_or(close))
            };
            order.sort_by_cached_key(key);
            order
        });
        Ok(List {
            close,
            elements,
            sorted,
        })
    }

    /// The sort key of tokens `start..end`.
    fn key(&self, start: usize, end: usize) -> Vec<(u8, String)> {
        let texts: Vec<&str> = (start..end)
            .filter_map(|i| self.token(i).map(|t| t.text))
            .collect();
        sort_key(&texts.join(" ").replace(" :: ", "::"))
    }

    /// Writes `list` on one line if it fits with `suffix` more characters, else one element per
    /// line with a trailing comma.
    fn delimited(&mut self, list: List, style: Style, suffix: usize, element: Element<'a>) -> Res {
        if !self.flat(suffix, |p| p.list_flat(&list, style, element))? {
            self.list_broken(&list, element)?;
        }
        Ok(())
    }

    /// `(a, b)` or `{ a, b }`: the trailing comma dropped.
    fn list_flat(&mut self, list: &List, style: Style, element: Element<'a>) -> Res {
        self.tok()?;
        let inner = if style == Style::Spaced && !list.elements.is_empty() {
            Sep::Space
        } else {
            Sep::None
        };
        self.sep(inner);
        let count = list.elements.len();
        for (n, k) in order(list).into_iter().enumerate() {
            let (start, comma) = list.elements.get(k).copied().ok_or(Stop::Bug("element"))?;
            let last = n + 1 == count;
            if list.sorted.is_some() {
                self.jump(start);
            }
            element(self)?;
            match (list.sorted.is_some(), comma, last) {
                (true, _, false) => self.synth(",")?,
                (false, Some(_), false) => {
                    self.sep(Sep::None);
                    self.tok()?;
                }
                (false, Some(_), true) => self.skip()?,
                (_, None, false) => return Err(Stop::Bug("`,`")),
                (_, _, true) => {}
            }
            self.sep(if last { inner } else { Sep::Space });
        }
        if list.sorted.is_some() {
            self.jump(list.close);
        }
        self.tok()
    }

    /// The opening bracket, each element on its own line followed by a comma, the closing bracket
    /// on its own line.
    fn list_broken(&mut self, list: &List, element: Element<'a>) -> Res {
        self.tok()?;
        self.indent += INDENT;
        for k in order(list) {
            let (start, comma) = list.elements.get(k).copied().ok_or(Stop::Bug("element"))?;
            self.sep(Sep::Line(Blank::Never));
            if list.sorted.is_some() {
                self.jump(start);
            }
            element(self)?;
            if comma.is_some() && list.sorted.is_none() {
                self.sep(Sep::None);
                self.tok()?;
            } else {
                self.synth(",")?;
            }
        }
        if list.sorted.is_some() {
            self.jump(list.close);
        }
        self.close()
    }
}

/// The order to write the elements of `list` in.
fn order(list: &List) -> Vec<usize> {
    list.sorted
        .clone()
        .unwrap_or_else(|| (0..list.elements.len()).collect())
}

/// The sort key of an import, as rustfmt (style edition 2021) orders them: segment by segment,
/// `self`, `super` and `crate` first, then lowercase names, then capitalised ones.
fn sort_key(import: &str) -> Vec<(u8, String)> {
    import
        .split("::")
        .map(|segment| {
            let class = match segment {
                "self" | "super" | "crate" => 0,
                _ if segment.starts_with(|c: char| c.is_uppercase()) => 2,
                _ => 1,
            };
            (class, segment.to_owned())
        })
        .collect()
}
