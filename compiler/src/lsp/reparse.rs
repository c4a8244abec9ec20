//! A new version of a document parsed from the last parse: only the items of the one program
//! body an edit touched are parsed again, and the items after them move. An edit inside one
//! item of a 10,000-node program parses that item and the next, not 10,000 — also when the
//! edit makes a syntax error, the common case while typing.
//!
//! The edit is what lies between the texts' common prefix and common suffix. It is parsed
//! again from the end of the last item before it (or the program's `{`) to the end of the item
//! after the one it ends in (or the program's `}`): a run of whole items, which the parser
//! parses as it would in the whole text, since an item starts after a `;`, `{` or `}` and
//! ends with a `;` or `}` (`lpc_build::syntax::parse_program_items` refuses a run that does
//! not). A syntax error in the run is recovered from as in the whole text as long as its
//! recovery stops inside the run: the run's last item, which the edit did not touch, must come
//! out as it was but for a doc comment the recovery skipped (or the run must end at the
//! program's `}`), and brackets the run leaves open must not make the rest of the text nest
//! too deep. The run's diagnostics are then the whole text's. An edit that leaves a string or
//! block comment open to the end of the text is parsed from the end of the last item before
//! it to the end of the text, where the program and the file then end. Otherwise (a stray
//! `}`, say), when the old parse has any diagnostic, or when the edit is not inside one
//! program's braces, the caller parses the whole text instead. The parse made from is the last
//! one without diagnostics: the version after a syntax error is parsed from the version before
//! it, made back with an [`Undo`].

use super::documents::{Parsed, DOCUMENT};
use lpc_build::syntax::{self, ast, lex, ProgramItems};

/// The parse of `new_text`, made from `old`, the parse of `old_text`, and how to make `old`
/// back from it (`None` when the texts are the same); `old` back, untouched, when only a full
/// parse can say.
pub fn reparse(
    old_text: &str,
    mut old: Parsed,
    new_text: &str,
) -> Result<(Parsed, Option<Undo>), Parsed> {
    if old_text == new_text {
        return Ok((old, None));
    }
    let Some(plan) = plan(old_text, &old, new_text) else {
        return Err(old);
    };
    let Splice {
        program,
        items,
        run,
        delta,
        end,
        truncates,
    } = plan;
    let parsed = items.start..items.start + run.items.len();
    let file = &mut old.file;
    let (removed, old_end) = splice(file, program, items, run.items, delta, end);
    let after = match truncates {
        true => Some(file.items.split_off(program + 1)),
        false => {
            shift_after(file, program, delta);
            None
        }
    };
    if let ast::Item::Program(p) = &mut file.items[program] {
        // The old parse had no diagnostics, so no broken item either.
        p.broken_names = run.broken_names;
    }
    old.diagnostics = run.diagnostics;
    let undo = Undo {
        program,
        items: parsed,
        removed,
        delta,
        end: old_end,
        after,
    };
    Ok((old, Some(undo)))
}

/// How to make the parse a reparse was made from out of the parse it made. A document keeps
/// it with a parse that has diagnostics: the next version is parsed from the last clean one.
#[derive(Debug)]
pub struct Undo {
    /// The index of the program among the file's items.
    program: usize,
    /// The indices of the program's items parsed again.
    items: std::ops::Range<usize>,
    /// The items they replaced.
    removed: Vec<ast::ProgramItem>,
    /// How many bytes the text after them moved.
    delta: isize,
    /// The program's old end.
    end: usize,
    /// The file's items after the program, when the reparse dropped them.
    after: Option<Vec<ast::Item>>,
}

impl Undo {
    /// The parse the reparse was made from, out of `parsed`, the one it made.
    pub fn apply(self, mut parsed: Parsed) -> Parsed {
        let file = &mut parsed.file;
        splice(
            file,
            self.program,
            self.items,
            self.removed,
            -self.delta,
            self.end,
        );
        match self.after {
            Some(after) => file.items.extend(after),
            None => shift_after(file, self.program, -self.delta),
        }
        if let ast::Item::Program(p) = &mut file.items[self.program] {
            p.broken_names.clear();
        }
        parsed.diagnostics.clear();
        parsed
    }
}

/// Replaces the items `items` of the program at `program` in `file` by `new`, moves the items
/// after them by `delta` bytes and ends the program at `end`; returns the items replaced and
/// the program's end before.
fn splice(
    file: &mut ast::File,
    program: usize,
    items: std::ops::Range<usize>,
    new: Vec<ast::ProgramItem>,
    delta: isize,
    end: usize,
) -> (Vec<ast::ProgramItem>, usize) {
    let ast::Item::Program(p) = &mut file.items[program] else {
        return (Vec::new(), end);
    };
    let moved = items.start + new.len();
    let removed = p.items.splice(items, new).collect();
    for item in &mut p.items[moved..] {
        item.shift(delta);
    }
    (removed, std::mem::replace(&mut p.span.range.end, end))
}

/// Moves the file's items after the program at `program` by `delta` bytes.
fn shift_after(file: &mut ast::File, program: usize, delta: isize) {
    for item in &mut file.items[program + 1..] {
        item.shift(delta);
    }
}

/// What a new version changes in a parse: the items of one program replaced by those parsed
/// again, and how far everything after them moves.
struct Splice {
    /// The index of the program among the file's items.
    program: usize,
    /// The indices of the program's items replaced.
    items: std::ops::Range<usize>,
    /// What replaces them, with the run's broken items and diagnostics.
    run: ProgramItems,
    /// How many bytes the text after them moved.
    delta: isize,
    /// The program's new end.
    end: usize,
    /// Whether the program and the file end with the run (a string or comment left open in it
    /// runs to the end of the text): the file's items after the program are dropped.
    truncates: bool,
}

/// How to make the parse of `new_text` from `old`, the parse of `old_text`, if it can be made.
fn plan(old_text: &str, old: &Parsed, new_text: &str) -> Option<Splice> {
    if !old.diagnostics.is_empty() {
        return None;
    }
    let (start, old_end) = edited(old_text, new_text);
    let delta = isize::try_from(new_text.len()).ok()? - isize::try_from(old_text.len()).ok()?;
    let index = old.file.items.iter().position(|item| match item {
        ast::Item::Program(p) => p.span.range.start < start && old_end < p.span.range.end,
        ast::Item::Use(_) => false,
    })?;
    let ast::Item::Program(program) = &old.file.items[index] else {
        return None;
    };
    let (open, close) = braces(old_text, program)?;
    let ends = program.items.iter().map(|item| item.span().range.end);
    let from = ends.clone().filter(|&e| e <= start).max().unwrap_or(open);
    // The item the edit ends in (or before), and the one after it, which the edit leaves alone.
    let mut after = ends.chain([close]).filter(|&e| e >= old_end);
    let touched = after.next()?;
    let to = after.next().unwrap_or(touched);
    if start < open || to < from {
        return None;
    }
    let new_to = to.checked_add_signed(delta)?;
    let first = program
        .items
        .iter()
        .position(|item| item.span().range.start >= from)
        .unwrap_or(program.items.len());
    let last = program
        .items
        .iter()
        .position(|item| item.span().range.end > to)
        .unwrap_or(program.items.len());
    let closed = syntax::parse_program_items(DOCUMENT, new_text, from..new_to).filter(|run| {
        let ends_as_before = match (program.items[first..last].last(), run.items.last()) {
            (Some(old), Some(new)) if to != close => as_before(old, new, delta),
            (Some(_), None) if to != close => false,
            _ => true,
        };
        let rest = new_text.get(new_to..).unwrap_or_default();
        ends_as_before && !(run.depth > 1 && nests_too_deep(rest, run.depth))
    });
    let (run, last, end, truncates) = match closed {
        Some(run) => (
            run,
            last,
            program.span.range.end.checked_add_signed(delta)?,
            false,
        ),
        None => {
            let run = syntax::parse_program_tail(DOCUMENT, new_text, from)?;
            let end = run.items.last().map_or(from, |item| item.span().range.end);
            (run, program.items.len(), end, true)
        }
    };
    Some(Splice {
        program: index,
        items: first..last,
        run,
        delta,
        end,
        truncates,
    })
}

/// Whether `new` is `old` moved by `delta` bytes, but for a doc comment: a syntax error's
/// recovery before the item may skip its doc (and then skips it in the whole text too).
fn as_before(old: &ast::ProgramItem, new: &ast::ProgramItem, delta: isize) -> bool {
    let mut moved = old.clone();
    moved.shift(delta);
    *doc(&mut moved) = doc(&mut new.clone()).take();
    moved == *new
}

/// A program item's doc comment.
fn doc(item: &mut ast::ProgramItem) -> &mut Option<String> {
    match item {
        ast::ProgramItem::Param(param) => &mut param.doc,
        ast::ProgramItem::Node(node) => &mut node.doc,
        ast::ProgramItem::Process(process) => &mut process.doc,
    }
}

/// Whether `rest` nests brackets deeper than the lexer allows when `depth` are already open.
fn nests_too_deep(rest: &str, depth: usize) -> bool {
    let opened = "(".repeat(depth) + rest;
    !lex::lex(&opened).too_deep.is_empty()
}

/// Where two texts differ: the end of their common prefix, and where their common suffix
/// starts in `old`, both on character boundaries.
fn edited(old: &str, new: &str) -> (usize, usize) {
    let (a, b) = (old.as_bytes(), new.as_bytes());
    let mut start = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    while !old.is_char_boundary(start) {
        start -= 1;
    }
    let room = a.len().min(b.len()) - start;
    let mut suffix = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take(room)
        .take_while(|(x, y)| x == y)
        .count();
    while !old.is_char_boundary(a.len() - suffix) {
        suffix -= 1;
    }
    (start, a.len() - suffix)
}

/// The end of a program's `{` and the start of its `}` in `text`.
fn braces(text: &str, program: &ast::Program) -> Option<(usize, usize)> {
    let after_name = program.name.span.range.end;
    let close = program.span.range.end.checked_sub(1)?;
    let first_item = program
        .items
        .first()
        .map_or(close, |i| i.span().range.start);
    let head = text.get(after_name..first_item)?;
    let open = lex::lex(head).list.first().copied()?;
    let opens = head.get(open.start..open.end) == Some("{");
    let closes = text.get(close..=close) == Some("}");
    (opens && closes).then_some((after_name + open.end, close))
}

#[cfg(test)]
mod tests {
    use super::super::documents::Documents;
    use super::*;
    use lpc_build::diag::Diagnostics;

    /// Two programs with every kind of item, docs, comments, blocks and a process.
    const TEXT: &str = "use crate::nodes::{Consumer, Producer as P};\n\
        /// doc\nprogram p {\n    param n: u32 = 2;\n    // a comment\n    \
        /// a group\n    group g[n * 2] = courier P::new() { env { A: \"x\" } batch work { size: 2 } }\n    \
        process q { node c = courier Consumer::new(producers: g, x: g[0], y: [n]); }\n    \
        node f = fn crate::nodes::setup(r: -n) { restart: on_failure(max: 3) }\n    \
        node h = courier P::new(); /* after */ node i = courier P::new();\n}\n\
        program r { node only = courier P::new(); }\n";

    /// What may be typed: whole items, pieces of them, brackets, comments, strings.
    const TYPED: [&str; 16] = [
        "x",
        "1",
        ";",
        ",",
        "}",
        "{",
        ")",
        "[",
        "node ",
        "\"",
        "/*",
        "// c\n",
        "/// d\n",
        "(",
        "\n    node z = courier P::new();",
        "process w { ",
    ];

    fn full(text: &str) -> Parsed {
        let mut diagnostics = Diagnostics::default();
        let file = syntax::parse(DOCUMENT, text, &mut diagnostics);
        Parsed {
            file,
            diagnostics: diagnostics.iter().cloned().collect(),
        }
    }

    /// Every insertion of each typed piece and every deletion of 1 or 6 bytes, at every
    /// offset: whenever the edit is parsed from the earlier parse, the tree and the diagnostics
    /// are the ones a full parse makes, syntax errors included, and undoing the reparse gives
    /// the earlier parse back.
    #[test]
    fn a_reparse_is_the_full_parse() {
        let mut edits = Vec::new();
        for at in (0..=TEXT.len()).filter(|&i| TEXT.is_char_boundary(i)) {
            for typed in TYPED {
                edits.push(format!("{}{typed}{}", &TEXT[..at], &TEXT[at..]));
            }
            for n in [1, 6] {
                if let Some(rest) = TEXT.get(at + n..) {
                    edits.push(format!("{}{rest}", &TEXT[..at]));
                }
            }
        }
        let (mut clean, mut broken) = ([0, 0], [0, 0]);
        let original = full(TEXT).file;
        for edited in &edits {
            let expected = full(edited);
            let counts = match expected.diagnostics.is_empty() {
                true => &mut clean,
                false => &mut broken,
            };
            counts[0] += 1;
            if let Ok((parsed, undo)) = reparse(TEXT, full(TEXT), edited) {
                assert_eq!(parsed.file, expected.file, "{edited}");
                assert_eq!(parsed.diagnostics, expected.diagnostics, "{edited}");
                let undone = undo.expect("an undo").apply(parsed);
                assert!(undone.file == original && undone.diagnostics.is_empty());
                counts[1] += 1;
            }
        }
        // Most edits that leave the text clean are inside a program's braces, and so are most
        // of those that break it (the others add a stray `}` or `{`, or break a `use` or a
        // program's head).
        let [clean, clean_reparsed] = clean;
        let [broken, broken_reparsed] = broken;
        assert!(
            clean_reparsed * 4 > clean * 3,
            "{clean_reparsed} of {clean} clean edits"
        );
        assert!(
            broken_reparsed * 3 > broken * 2,
            "{broken_reparsed} of {broken} broken edits"
        );
    }

    /// Edits inside an item, between items, and at the ends of a body are parsed from the
    /// earlier parse, syntax errors and all; an edit outside any program's braces, one that
    /// opens a string or comment running past the next items, or one from a broken parse is not.
    #[test]
    fn what_is_parsed_again() {
        let cases = [
            ("param n: u32 = 2;", "param n: u32 = 345;", true),
            (
                "node h = courier P::new();",
                "node h = courier P::new();\n    node k = courier P::new();",
                true,
            ),
            ("    node h = courier P::new();", "", true),
            ("program r { node only", "program r {  node only", true),
            (
                "P::new(); }\n",
                "P::new(); node z = courier P::new(); }\n",
                true,
            ),
            ("program p {", "program pp {", false),
            ("Producer as P", "Producer as Q", false),
            ("size: 2", "size: 2,,", true),
            ("courier P::new(); }", "courier P::new(; }", true),
            ("node h = courier", "node h = courrier", true),
            ("program r { node only", "program r { node only node", true),
            ("\"x\"", "\"x", true),
            ("// a comment", "/* a comment", true),
            ("node h = courier", "node h = courier }", false),
        ];
        for (from, to, expected) in cases {
            let edited = TEXT.replacen(from, to, 1);
            let parsed = reparse(TEXT, full(TEXT), &edited);
            assert_eq!(parsed.is_ok(), expected, "{from} → {to}");
            if let Ok((parsed, _)) = parsed {
                let expected = full(&edited);
                assert_eq!(parsed.file, expected.file, "{from} → {to}");
                assert_eq!(parsed.diagnostics, expected.diagnostics, "{from} → {to}");
            }
        }
        let broken = TEXT.replacen("size: 2", "size: 2,,", 1);
        let fixed = TEXT.replacen("size: 2", "size: 3", 1);
        let refused = reparse(&broken, full(&broken), &fixed).map(|_| ());
        assert_eq!(refused.unwrap_err().file, full(&broken).file);
        // The same text is the same parse, diagnostics and all.
        let same = reparse(&broken, full(&broken), &broken).map_err(|_| ());
        assert_eq!(same.map(|(p, _)| p.diagnostics.len()), Ok(1));
    }

    /// A `process` left open ends at a `param` no deeper than the line of its `{`: when that
    /// line is where the run parsed again starts, its indentation still counts.
    #[test]
    fn a_process_left_open_on_the_runs_first_line() {
        let text = "use crate::nodes::P;\nprogram p {\n    \
            node a = courier P::new(); process w { node b = courier P::new(); }\n  \
            param m: u32 = 1;\n    node c = courier P::new();\n    node d = courier P::new();\n}\n";
        let unclosed = text.replacen("P::new(); }", "P::new();", 1);
        let moved = text.replacen(
            "P::new(); }\n  param m: u32 = 1;",
            "P::new();\n  param m: u32 = 1; }",
            1,
        );
        for (edited, reparsed) in [(unclosed, true), (moved, false)] {
            let expected = full(&edited);
            assert!(!expected.diagnostics.is_empty(), "{edited}");
            match reparse(text, full(text), &edited) {
                Ok((parsed, _)) => {
                    assert!(reparsed, "{edited}");
                    assert_eq!(parsed.file, expected.file, "{edited}");
                    assert_eq!(parsed.diagnostics, expected.diagnostics, "{edited}");
                }
                Err(_) => assert!(!reparsed, "{edited}"),
            }
        }
    }

    /// Versions through syntax errors are what full parses make, and each is parsed from the
    /// last clean one: only the first is parsed whole.
    #[test]
    fn versions_through_a_syntax_error() {
        use super::super::documents::WHOLE_PARSES;
        let uri: lsp_types::Uri = "file:///p.lp".parse().expect("a URI");
        let mut documents = Documents::default();
        let broken = TEXT.replacen("size: 2", "size: 2,,", 1);
        let more = TEXT.replacen("size: 2", "size: 2,,3 x", 1);
        let fixed = TEXT.replacen("size: 2", "size: 3", 1);
        let edited = fixed.replacen("u32 = 2", "u32 = 5", 1);
        let unseen = fixed.replacen("P::new()", "P::new(", 1);
        let open = TEXT.replacen("\"x\"", "\"x", 1);
        let versions = [
            TEXT, &broken, &more, &fixed, &open, &broken, &unseen, &broken, &open, &edited,
        ];
        let before = WHOLE_PARSES.get();
        for (version, text) in versions.into_iter().enumerate() {
            documents.set(uri.clone(), text.to_string(), version as i32);
            if text == unseen {
                // Never parsed, as when a newer version comes before it is checked.
                continue;
            }
            let expected = full(text);
            let parsed = documents.get(&uri).expect("the document").parsed();
            assert_eq!(parsed.file, expected.file, "{text}");
            assert_eq!(parsed.diagnostics, expected.diagnostics, "{text}");
        }
        assert_eq!(WHOLE_PARSES.get() - before, 1);
    }
}
