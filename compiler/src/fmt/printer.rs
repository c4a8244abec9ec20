//! The output side of the formatter: writes tokens with the separators the layout asks for,
//! places comments, and tries layouts flat (on one line) before breaking them.

use super::trivia::Token;
use lpc_build::syntax::lex::Tok;

/// The maximum line width a flat layout may reach.
pub(super) const WIDTH: usize = 100;
/// One level of indentation.
pub(super) const INDENT: usize = 4;

/// What goes between the previous token and the next one.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum Sep {
    /// Nothing: `a::b`, `f(x)`.
    None,
    /// One space: `a = b`.
    Space,
    /// A line break, with a blank line as [`Blank`] says.
    Line(Blank),
}

/// When a line break becomes a blank line.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum Blank {
    /// Never.
    Never,
    /// Before a comment that had one; never before the token.
    Comments,
    /// Where the source had one.
    Keep,
    /// Always once (before the first comment or the token), then where the source had one.
    Force,
}

/// Why a layout stopped.
#[derive(Debug)]
pub(super) enum Stop {
    /// A flat layout needs a line break or gets too wide: try the broken one.
    Break,
    /// The tokens are not what the grammar allows: a formatter bug, or a file that does not parse.
    Bug(&'static str),
}

/// The result of laying out part of the file.
pub(super) type Res = Result<(), Stop>;

/// Tokens in, formatted text out.
pub(super) struct Printer<'a> {
    toks: Vec<Token<'a>>,
    /// For each opening bracket, the index of its closing one.
    closers: Vec<Option<usize>>,
    /// The next token to write.
    pub pos: usize,
    out: String,
    /// Characters on the current line.
    col: usize,
    /// The indentation of blocks being written.
    pub indent: usize,
    /// The indentation of the current line, written with its first text.
    line_indent: usize,
    line_start: bool,
    /// A `//` comment ended the line: the next text goes on a new line.
    need_nl: bool,
    /// Right after an opening brace: no blank line.
    pub block_start: bool,
    /// Whether the comments before `pos` are already written.
    commented: bool,
    /// Whether the comments and separator before `pos` are already written.
    ready: bool,
    sep: Sep,
    flat: bool,
}

/// Everything [`Printer::flat`] restores when a flat layout fails.
#[derive(Clone)]
struct Snapshot {
    pos: usize,
    len: usize,
    col: usize,
    indent: usize,
    line_indent: usize,
    line_start: bool,
    need_nl: bool,
    block_start: bool,
    commented: bool,
    ready: bool,
    sep: Sep,
}

impl<'a> Printer<'a> {
    /// A printer over `toks`, the last of which is the empty end-of-file token.
    pub fn new(toks: Vec<Token<'a>>) -> Self {
        Printer {
            closers: closers(&toks),
            toks,
            pos: 0,
            out: String::new(),
            col: 0,
            indent: 0,
            line_indent: 0,
            line_start: true,
            need_nl: false,
            block_start: true,
            commented: false,
            ready: false,
            sep: Sep::None,
            flat: false,
        }
    }

    /// The formatted text: no trailing whitespace, one final newline unless empty.
    pub fn finish(mut self) -> String {
        let len = self.out.trim_end().len();
        self.out.truncate(len);
        if !self.out.is_empty() {
            self.out.push('\n');
        }
        self.out
    }

    /// The closing bracket of the opening bracket at token `open`.
    pub fn closer(&self, open: usize) -> Option<usize> {
        self.closers.get(open).copied().flatten()
    }

    /// Index of the end-of-file token.
    pub fn eof(&self) -> usize {
        self.toks.len().saturating_sub(1)
    }

    /// Token `i`, if there is one.
    pub fn token(&self, i: usize) -> Option<&Token<'a>> {
        self.toks.get(i)
    }

    /// The text of token `pos + ahead`, or `""` past the end.
    pub fn peek(&self, ahead: usize) -> &'a str {
        self.toks.get(self.pos + ahead).map_or("", |t| t.text)
    }

    /// The kind of token `pos + ahead`.
    pub fn peek_kind(&self, ahead: usize) -> Option<Tok> {
        self.toks.get(self.pos + ahead).map(|t| t.kind)
    }

    /// Whether token `i` has comments before it.
    pub fn has_comments(&self, i: usize) -> bool {
        self.toks.get(i).is_some_and(|t| !t.comments.is_empty())
    }

    /// Whether token `i` has a comment on the line of the token before it.
    pub fn has_trailing_comment(&self, i: usize) -> bool {
        self.toks
            .get(i)
            .and_then(|t| t.comments.first())
            .is_some_and(|c| !c.own_line)
    }

    /// Sets the separator before the next token.
    pub fn sep(&mut self, sep: Sep) {
        if !self.ready {
            self.sep = sep;
        }
    }

    /// Writes the next token, which must be `expected`.
    pub fn expect(&mut self, expected: &'static str) -> Res {
        if self.peek(0) != expected {
            return Err(Stop::Bug(expected));
        }
        self.tok()
    }

    /// Writes the next token with its comments and separator.
    pub fn tok(&mut self) -> Res {
        if self.pos >= self.eof() {
            return Err(Stop::Bug("a token"));
        }
        self.lead()?;
        let text = self.peek(0);
        self.write(text)?;
        self.advance();
        Ok(())
    }

    /// Writes the comments before the next token but not the token (a trailing comma that the
    /// layout drops). The separator carries over to the token after it.
    pub fn skip(&mut self) -> Res {
        self.comments()?;
        self.advance();
        Ok(())
    }

    /// Writes the next token, a closing bracket of a broken list: its comments at the list's
    /// indentation, the bracket on its own line at the indentation outside.
    pub fn close(&mut self) -> Res {
        self.sep(Sep::Line(Blank::Comments));
        self.comments()?;
        self.indent = self.indent.saturating_sub(INDENT);
        self.tok()
    }

    /// Continues at token `pos`, skipping or revisiting tokens that have no comments (sorting).
    pub fn jump(&mut self, pos: usize) {
        self.pos = pos;
        self.commented = false;
        self.ready = false;
    }

    /// Writes the comments at the end of the file.
    pub fn end(&mut self) -> Res {
        self.sep(Sep::Line(Blank::Keep));
        self.comments()
    }

    /// The length of the output so far.
    pub fn mark(&self) -> usize {
        self.out.len()
    }

    /// Sorts the output `ranges` (consecutive, one line break apart) by `key`.
    pub fn sort_lines<K: Ord>(
        &mut self,
        ranges: &[std::ops::Range<usize>],
        key: impl Fn(&str) -> K,
    ) {
        let (Some(first), Some(last)) = (ranges.first(), ranges.last()) else {
            return;
        };
        if ranges.len() < 2 || last.end > self.out.len() {
            return;
        }
        let mut lines: Vec<String> = ranges
            .iter()
            .filter_map(|r| self.out.get(r.clone()).map(str::to_owned))
            .collect();
        lines.sort_by_cached_key(|line| key(line));
        let rest = self.out.split_off(last.end);
        self.out.truncate(first.start);
        self.out.push_str(&lines.join("\n"));
        self.out.push_str(&rest);
    }

    /// Writes `text`, which is not a token of the source (a trailing comma).
    pub fn synth(&mut self, text: &str) -> Res {
        self.write(text)
    }

    /// Writes the comments and the separator before the next token, once.
    pub fn lead(&mut self) -> Res {
        if !self.ready {
            self.comments()?;
            self.flush()?;
            self.ready = true;
        }
        Ok(())
    }

    /// Runs `layout` on one line. Returns whether it fit in [`WIDTH`] with `suffix` more
    /// characters after it; if not, nothing was written. Inside another flat layout, a failure
    /// fails that one.
    pub fn flat(
        &mut self,
        suffix: usize,
        layout: impl FnOnce(&mut Self) -> Res,
    ) -> Result<bool, Stop> {
        if self.flat {
            layout(self)?;
            return Ok(true);
        }
        self.lead()?;
        let snapshot = self.snapshot();
        self.flat = true;
        let result = layout(self);
        self.flat = false;
        match result {
            Ok(()) if self.col + suffix <= WIDTH => Ok(true),
            Ok(()) | Err(Stop::Break) => {
                self.restore(snapshot);
                Ok(false)
            }
            Err(bug) => Err(bug),
        }
    }

    /// Moves on to the next token.
    fn advance(&mut self) {
        self.pos += 1;
        self.commented = false;
        self.ready = false;
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot {
            pos: self.pos,
            len: self.out.len(),
            col: self.col,
            indent: self.indent,
            line_indent: self.line_indent,
            line_start: self.line_start,
            need_nl: self.need_nl,
            block_start: self.block_start,
            commented: self.commented,
            ready: self.ready,
            sep: self.sep,
        }
    }

    fn restore(&mut self, s: Snapshot) {
        self.pos = s.pos;
        self.out.truncate(s.len);
        self.col = s.col;
        self.indent = s.indent;
        self.line_indent = s.line_indent;
        self.line_start = s.line_start;
        self.need_nl = s.need_nl;
        self.block_start = s.block_start;
        self.commented = s.commented;
        self.ready = s.ready;
        self.sep = s.sep;
    }

    /// Writes the comments before the next token.
    fn comments(&mut self) -> Res {
        if self.commented {
            return Ok(());
        }
        self.commented = true;
        let Some(token) = self.toks.get(self.pos) else {
            return Ok(());
        };
        let comments = token.comments.clone();
        let next_text = token.text;
        for comment in comments {
            if comment.own_line {
                self.own_line_comment(comment.text, comment.blank_before)?;
            } else {
                if self.flat && (comment.is_line || comment.text.contains('\n')) {
                    return Err(Stop::Break);
                }
                if !self.line_start && !self.out.ends_with(['(', '[']) {
                    self.write(" ")?;
                }
                self.write(comment.text)?;
                if comment.is_line {
                    self.need_nl = true;
                } else if self.sep == Sep::None
                    && !matches!(next_text, "," | ";" | ")" | "]" | "}" | ":" | "::")
                {
                    self.sep = Sep::Space;
                }
            }
        }
        Ok(())
    }

    /// Writes a comment that starts its own line.
    fn own_line_comment(&mut self, text: &str, blank_before: bool) -> Res {
        let (blank, indent) = match self.sep {
            Sep::Line(rule) => {
                let blank = match rule {
                    Blank::Never => false,
                    Blank::Force => true,
                    Blank::Comments | Blank::Keep => blank_before,
                };
                if rule == Blank::Force {
                    self.sep = Sep::Line(Blank::Keep);
                }
                (blank, self.indent)
            }
            Sep::None | Sep::Space => (false, self.indent + INDENT),
        };
        self.newline(blank, indent)?;
        self.write(text)?;
        self.need_nl = true;
        Ok(())
    }

    /// Writes the separator before the next token.
    fn flush(&mut self) -> Res {
        let sep = std::mem::replace(&mut self.sep, Sep::None);
        let blank_before = self.toks.get(self.pos).is_some_and(|t| t.blank_before);
        match sep {
            Sep::Line(rule) => {
                let blank = match rule {
                    Blank::Never | Blank::Comments => false,
                    Blank::Keep => blank_before,
                    Blank::Force => true,
                };
                self.newline(blank, self.indent)
            }
            _ if self.need_nl => self.newline(false, self.indent + INDENT),
            Sep::Space if !self.line_start => self.write(" "),
            Sep::Space | Sep::None => Ok(()),
        }
    }

    /// Ends the line (with a blank line after it if `blank`); the next line is indented by
    /// `indent`.
    fn newline(&mut self, blank: bool, indent: usize) -> Res {
        if self.flat {
            return Err(Stop::Break);
        }
        let len = self.out.trim_end_matches(' ').len();
        self.out.truncate(len);
        if !self.out.is_empty() {
            self.out.push('\n');
            if blank && !self.block_start {
                self.out.push('\n');
            }
        }
        self.line_start = true;
        self.line_indent = indent;
        self.col = 0;
        self.need_nl = false;
        Ok(())
    }

    /// Writes text on the current line, indenting it first if the line is empty.
    fn write(&mut self, text: &str) -> Res {
        if self.line_start {
            self.out.extend(std::iter::repeat_n(' ', self.line_indent));
            self.col = self.line_indent;
            self.line_start = false;
        }
        self.out.push_str(text);
        self.col += text.chars().count();
        self.block_start = false;
        if self.flat && self.col > WIDTH {
            return Err(Stop::Break);
        }
        Ok(())
    }
}

/// For each opening bracket in `toks`, the index of its closing bracket.
fn closers(toks: &[Token<'_>]) -> Vec<Option<usize>> {
    let mut closers = vec![None; toks.len()];
    let mut open = Vec::new();
    for (i, token) in toks.iter().enumerate() {
        if token.kind != Tok::Punct {
            continue;
        }
        match token.text {
            "(" | "[" | "{" => open.push(i),
            ")" | "]" | "}" => {
                if let Some(o) = open.pop() {
                    closers[o] = Some(i);
                }
            }
            _ => {}
        }
    }
    closers
}
