//! Syntax errors in words: what pest expected (grammar rules) → "`;` or `{`", what was found,
//! where to point, and a `help:` when the fix is obvious. All the wording of syntax errors lives
//! here.

use super::grammar::Rule;
use super::lex::{nest, Tok, Token, Tokens, MAX_DEPTH};
use crate::diag::{Code, Diagnostic, FileId, Span};

/// A failed pest parse, with the position made absolute.
#[derive(Debug)]
pub(crate) struct SyntaxError {
    /// Byte offset in the file where the parse could go no further.
    pub pos: usize,
    /// The rules pest tried there; empty when pest gave up for another reason.
    pub rules: Vec<Rule>,
    /// Pest stopped at its stack or call limit.
    pub too_deep: bool,
}

/// Words for what `rule` matches, and a rank so that lists come out in a stable, natural order.
fn words(rule: Rule) -> (u8, &'static [&'static str]) {
    use Rule::*;
    match rule {
        doc | keyword | file | EOI | WHITESPACE | COMMENT | block_comment | line_comment
        | ident_raw | primary | unit_word => (0, &[]),
        top_item => (1, &["`use`", "`program`"]),
        kw_use | use_item => (1, &["`use`"]),
        kw_program | program | program_head => (2, &["`program`"]),
        program_item => (3, &["`param`", "`node`", "`group`", "`process`"]),
        process_item => (4, &["`node`", "`group`", "a setting"]),
        process_setting => (4, &["a setting"]),
        kw_param | param => (3, &["`param`"]),
        kw_node | node => (4, &["`node`"]),
        kw_group | group => (5, &["`group`"]),
        kw_process | process | process_head => (6, &["`process`"]),
        program_name => (10, &["a program name"]),
        param_name => (10, &["a param name"]),
        node_name => (10, &["a node name"]),
        group_name => (10, &["a group name"]),
        process_name => (10, &["a process name"]),
        alias_name => (10, &["a name"]),
        path_seg | use_path | use_leaf => (11, &["a name"]),
        target => (11, &["a path such as `Producer::new`"]),
        param_type => (10, &["a type"]),
        type_part | type_gap => (0, &[]),
        arg_name | arg => (12, &["an argument name"]),
        field_name | entry_name | field | setting | section => (13, &["a setting name"]),
        batch | kw_batch => (14, &["`batch`"]),
        method_name => (10, &["a method name"]),
        node_kind => (10, &["`courier`", "`worker`", "`fn`"]),
        kw_courier => (10, &["`courier`"]),
        kw_worker => (10, &["`worker`"]),
        kw_fn => (10, &["`fn`"]),
        kw_as | use_alias => (30, &["`as`"]),
        expr | term | unary | neg | paren | list | number | spaced_unit | string | boolean
        | call | index | name | kw_true | kw_false | kw_replica | kw_replicas => {
            (15, &["an expression"])
        }
        add_op | mul_op => (40, &["an operator"]),
        path_sep => (20, &["`::`"]),
        eq => (21, &["`=`"]),
        colon | arg_colon | param_colon => (21, &["`:`"]),
        lbracket => (22, &["`[`"]),
        lparen | args => (23, &["`(`"]),
        comma => (24, &["`,`"]),
        semi => (25, &["`;`"]),
        lbrace | use_group | block => (26, &["`{`"]),
        rbracket => (27, &["`]`"]),
        rparen => (28, &["`)`"]),
        rbrace => (29, &["`}`"]),
    }
}

/// Joins words as prose: "a", "a or b", "a, b or c".
pub(crate) fn join_or(words: &[&str]) -> String {
    match words {
        [] => "something else".to_owned(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    }
}

/// The expected words for a set of rules, deduplicated and in a natural order. Continuations
/// (operators, `(`, `[`, `::`) are left out when a separator or closer was also possible: after
/// `x: 1` the user wants to hear about `,` and `)`, not that `+` would also do.
fn expected_words(rules: &[Rule], extra: &[&'static str]) -> Vec<&'static str> {
    let mut ranked: Vec<(u8, &'static str)> = rules
        .iter()
        .flat_map(|&r| {
            let (rank, ws) = words(r);
            ws.iter().map(move |w| (rank, *w))
        })
        .chain(extra.iter().map(|w| (29, *w)))
        .collect();
    let has_closer = ranked
        .iter()
        .any(|(_, w)| matches!(*w, "`,`" | "`;`" | "`)`" | "`]`" | "`}`"));
    if has_closer {
        ranked.retain(|(_, w)| !matches!(*w, "an operator" | "`(`" | "`[`" | "`::`"));
    }
    ranked.sort_by_key(|&(rank, _)| rank);
    let mut out: Vec<&'static str> = Vec::new();
    for (_, w) in ranked {
        if !out.contains(&w) {
            out.push(w);
        }
    }
    out
}

use crate::vocabulary::{ITEM_KEYWORDS, KEYWORDS};

/// Whether `word` is a keyword of `.lp`.
pub(crate) fn is_keyword(word: &str) -> bool {
    KEYWORDS.contains(&word)
}

/// Whether `word` starts an item.
pub(crate) fn is_item_keyword(word: &str) -> bool {
    ITEM_KEYWORDS.contains(&word)
}

/// `text` shortened for a message, with control characters escaped.
pub(crate) fn shorten(text: &str) -> String {
    const MAX: usize = 24;
    let mut out: String = text
        .chars()
        .take(MAX)
        .flat_map(char::escape_debug)
        .collect();
    if text.chars().nth(MAX).is_some() {
        out.push('…');
    }
    out
}

/// What the token at `pos` is, for "found …".
pub(crate) fn describe(text: &str, token: Option<Token>, pos: usize) -> String {
    let Some(token) = token else {
        return "end of file".to_owned();
    };
    let start = pos.clamp(token.start, token.end);
    let slice = text.get(start..token.end).unwrap_or("");
    match token.kind {
        Tok::Str => "a string".to_owned(),
        Tok::UnterminatedStr => "an unterminated string".to_owned(),
        Tok::UnterminatedComment => "an unterminated comment".to_owned(),
        Tok::Doc => "a doc comment".to_owned(),
        Tok::Unknown if slice == "`" => "a backtick".to_owned(),
        Tok::Ident | Tok::Number | Tok::Punct | Tok::Unknown => format!("`{}`", shorten(slice)),
    }
}

/// Everything [`syntax_error`] needs to know about the file.
pub(crate) struct Source<'a> {
    pub file: FileId,
    pub text: &'a str,
    pub tokens: &'a Tokens,
}

impl Source<'_> {
    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.file, start..end)
    }

    fn token_text(&self, token: &Token) -> &str {
        self.text.get(token.start..token.end).unwrap_or("")
    }

    /// Whether a line break separates `pos` from the token before it.
    fn starts_line(&self, pos: usize) -> bool {
        match self.tokens.prev_end(pos) {
            Some(end) => self
                .text
                .get(end..pos)
                .is_some_and(|gap| gap.contains('\n')),
            None => true,
        }
    }

    /// The innermost bracket opened in `from..to` and not closed by `to`.
    fn unclosed(&self, from: usize, to: usize) -> Option<Token> {
        let first = self.tokens.at(from);
        let last = self.tokens.at(to);
        let mut open: Vec<&str> = Vec::new();
        let mut stack: Vec<Token> = Vec::new();
        for token in self.tokens.list.get(first..last).unwrap_or(&[]) {
            if token.kind == Tok::Punct {
                let text = self.token_text(token);
                if matches!(text, "(" | "[" | "{") {
                    stack.push(*token);
                }
                nest(&mut open, text);
                stack.truncate(open.len());
            }
        }
        stack.pop()
    }
}

/// The diagnostic for a parse of the item starting at `item_start` that failed with `error`.
/// `extra` are words expected besides the rules pest reports (`}` ends a body, for instance).
pub(crate) fn syntax_error(
    src: &Source<'_>,
    item_start: usize,
    error: &SyntaxError,
    extra: &[&'static str],
) -> Diagnostic {
    let pos = error.pos.min(src.text.len());
    let index = src.tokens.at(pos);
    let token = src.tokens.list.get(index).copied();
    let found_span = match token {
        Some(t) => src.span(pos.max(t.start), t.end),
        None => src.span(src.text.len(), src.text.len()),
    };

    if error.too_deep {
        return too_deep(src, pos);
    }
    if let Some(diagnostic) = unterminated(src, token, pos) {
        return diagnostic;
    }

    if let Some(earlier) = closer_before_item(src, item_start, index) {
        return syntax_error(src, item_start, &earlier, extra);
    }

    let extra = if pos <= item_start { extra } else { &[] };
    let words = expected_words(&error.rules, extra);
    let expected = join_or(&words);
    let found = describe(src.text, token, pos);
    let found_text = token.map(|t| src.token_text(&t)).unwrap_or("");
    let mut diagnostic =
        Diagnostic::new(Code::Syntax, format!("expected {expected}, found {found}"));

    // Point just after the previous token when a terminator is missing at the end of a line.
    let terminator = words
        .iter()
        .any(|w| matches!(*w, "`;`" | "`,`" | "`)`" | "`]`" | "`}`"));
    let prev_end = src.tokens.prev_end(pos).filter(|&end| end > item_start);
    match prev_end {
        Some(end) if terminator && (token.is_none() || src.starts_line(pos)) => {
            diagnostic =
                diagnostic.primary(src.span(end, end), format!("expected {expected} here"));
        }
        _ if token.is_none() => {
            diagnostic = diagnostic.primary(found_span.clone(), "unexpected end of file");
        }
        _ => {
            let what = found
                .strip_prefix("a ")
                .or_else(|| found.strip_prefix("an "))
                .unwrap_or(&found);
            diagnostic = diagnostic.primary(found_span.clone(), format!("unexpected {what}"));
        }
    }

    // An unclosed bracket, when its closer is among what was expected.
    if let Some(open) = src.unclosed(item_start, pos) {
        if let Some(closer) = missing_closer(src, open, token, &words) {
            let open_text = src.token_text(&open).to_owned();
            return diagnostic
                .secondary(
                    src.span(open.start, open.end),
                    format!("this `{open_text}` is never closed"),
                )
                .help(format!("add {closer} to close it"));
        }
    }

    if let Some(help) = help(src, &error.rules, &words, token, found_text) {
        diagnostic = diagnostic.help(help);
    }
    diagnostic
}

/// The diagnostic for an error right at an unterminated string or block comment, which runs
/// to the end of the file.
fn unterminated(src: &Source<'_>, token: Option<Token>, pos: usize) -> Option<Diagnostic> {
    match token {
        Some(t) if t.kind == Tok::UnterminatedStr && t.start == pos => Some(
            Diagnostic::new(Code::Syntax, "unterminated string")
                .primary(
                    src.span(t.start, t.start + 1),
                    "this string is never closed",
                )
                .help("add a closing `\"`"),
        ),
        Some(t) if t.kind == Tok::UnterminatedComment && t.start == pos => Some(
            Diagnostic::new(Code::Syntax, "unterminated block comment")
                .primary(
                    src.span(t.start, t.start + 2),
                    "this comment is never closed",
                )
                .help("close it with `*/`"),
        ),
        _ => None,
    }
}

/// The closer (`` `)` ``, `` `]` `` or `` `}` ``) of the bracket `open`, when it is among the
/// expected `words` and `token` is where the bracket should have been closed: before the next
/// item, the `;` that ends this one, or the `}` that ends the body.
fn missing_closer(
    src: &Source<'_>,
    open: Token,
    token: Option<Token>,
    words: &[&str],
) -> Option<&'static str> {
    let closer = match src.token_text(&open) {
        "(" => "`)`",
        "[" => "`]`",
        _ => "`}`",
    };
    let at_item = token.is_none()
        || token.is_some_and(|t| match t.kind {
            Tok::Ident => is_item_keyword(src.token_text(&t)),
            Tok::Punct => matches!(src.token_text(&t), ";" | "}") && closer != "`}`",
            _ => false,
        });
    (words.contains(&closer) && at_item).then_some(closer)
}

/// `new(` then `node c = …` on the next line: pest read the item keyword as an argument name and
/// failed after it. When an item keyword first on its line is just before the token at `index`
/// and a bracket of the item is still open there, the error is the missing closer, before it.
fn closer_before_item(src: &Source<'_>, item_start: usize, index: usize) -> Option<SyntaxError> {
    let keyword = src.tokens.list.get(index.checked_sub(1)?).copied()?;
    let starts_item = keyword.kind == Tok::Ident
        && keyword.start > item_start
        && is_item_keyword(src.token_text(&keyword))
        && src.starts_line(keyword.start);
    if !starts_item {
        return None;
    }
    let closer = match src.token_text(&src.unclosed(item_start, keyword.start)?) {
        "(" => Rule::rparen,
        "[" => Rule::rbracket,
        _ => Rule::rbrace,
    };
    Some(SyntaxError {
        pos: keyword.start,
        rules: vec![closer],
        too_deep: false,
    })
}

/// A `help:` line, when the fix is obvious.
fn help(
    src: &Source<'_>,
    rules: &[Rule],
    words: &[&str],
    token: Option<Token>,
    found: &str,
) -> Option<String> {
    doc_comment_help(src, rules, token)
        .or_else(|| item_help(rules, words, token, found))
        .or_else(|| punctuation_help(src, rules, words, token, found))
}

/// Help for a doc comment where pest expected something else, or one with no item after it.
fn doc_comment_help(src: &Source<'_>, rules: &[Rule], token: Option<Token>) -> Option<String> {
    if token.map(|t| t.kind) == Some(Tok::Doc) {
        return Some(
            "a doc comment documents the item after it; use `//` for a plain comment".to_owned(),
        );
    }
    let after_doc = token
        .and_then(|t| {
            let i = src.tokens.at(t.start);
            i.checked_sub(1).and_then(|i| src.tokens.list.get(i))
        })
        .is_some_and(|prev| prev.kind == Tok::Doc);
    let has = |rule: Rule| rules.contains(&rule);
    if after_doc && (has(Rule::doc) || has(Rule::top_item)) {
        return Some(
            "a doc comment must be followed by the item it documents; use `//` for a plain comment"
                .to_owned(),
        );
    }
    None
}

/// Help for an item's words: a keyword as a name, an item where it cannot go, a node without
/// its kind.
fn item_help(rules: &[Rule], words: &[&str], token: Option<Token>, found: &str) -> Option<String> {
    let has = |rule: Rule| rules.contains(&rule);
    let kind = token.map(|t| t.kind);
    let name_rules = [
        Rule::program_name,
        Rule::param_name,
        Rule::node_name,
        Rule::group_name,
        Rule::process_name,
        Rule::alias_name,
    ];
    if kind == Some(Tok::Ident) && is_keyword(found) && rules.iter().any(|r| name_rules.contains(r))
    {
        return Some(format!("`{found}` is a keyword; choose another name"));
    }
    if has(Rule::top_item) && matches!(found, "param" | "node" | "group" | "process") {
        return Some(format!(
            "`{found}` items go inside a program: `program NAME {{ {found} … }}`"
        ));
    }
    if matches!(found, "param" | "process")
        && words.contains(&"`node`")
        && !words.contains(&"`param`")
    {
        return Some(format!(
            "a `process` holds only `node` and `group` items; declare `{found}` in the program"
        ));
    }
    if has(Rule::node_kind) {
        let example = match kind {
            Some(Tok::Ident) => format!("`courier {found}::…`"),
            _ => "`courier Producer::new()`".to_owned(),
        };
        return Some(format!(
            "say how the node runs before its type, e.g. {example}: `courier` serves methods, `worker` runs `run`, `fn` runs a function"
        ));
    }
    None
}

/// Help for punctuation: `=` where `:` goes, an argument without its name, a count or a
/// terminator missing.
fn punctuation_help(
    src: &Source<'_>,
    rules: &[Rule],
    words: &[&str],
    token: Option<Token>,
    found: &str,
) -> Option<String> {
    let has = |rule: Rule| rules.contains(&rule);
    let kind = token.map(|t| t.kind);
    if found == "=" && has(Rule::arg_colon) {
        return Some("arguments are written `name: value`".to_owned());
    }
    if found == "=" && has(Rule::colon) {
        return Some("settings are written `name: value`".to_owned());
    }
    if found == "=" && has(Rule::param_colon) {
        return Some("give the param a type: `param NAME: TYPE = DEFAULT;`".to_owned());
    }
    if has(Rule::arg_name) && matches!(kind, Some(Tok::Number | Tok::Str)) {
        return Some(format!(
            "arguments are named: write `name: {}`",
            shorten(found)
        ));
    }
    if found == "[" && has(Rule::eq) {
        return Some("a replicated node is a group: `group NAME[COUNT] = …`".to_owned());
    }
    if found == "=" && has(Rule::lbracket) {
        return Some("a group needs a replica count: `group NAME[COUNT] = …`".to_owned());
    }
    if words.contains(&"`;`") && token.is_none_or(|t| src.starts_line(t.start)) {
        return Some("end the item with `;`".to_owned());
    }
    if words.contains(&"`,`") && matches!(kind, Some(Tok::Ident | Tok::Number | Tok::Str)) {
        return Some("separate items of a list with `,`".to_owned());
    }
    None
}

/// The one diagnostic for input nested deeper than the parser allows.
pub(crate) fn too_deep(src: &Source<'_>, pos: usize) -> Diagnostic {
    let index = src.tokens.at(pos);
    let span = match src.tokens.list.get(index) {
        Some(t) => src.span(t.start, t.end),
        None => src.span(pos, pos),
    };
    Diagnostic::new(Code::Syntax, "nesting too deep")
        .primary(
            span,
            format!("more than {MAX_DEPTH} levels of brackets or comments here"),
        )
        .help("split this expression into simpler ones")
}
