//! Where the cursor is, read from the tokens before it, so that half-typed text (which does not
//! parse) still tells completion and signature help what may come: an item keyword, a node
//! kind, a type, a constructor, an argument name, a value, a block entry. The tokens are
//! grouped by bracket: each open bracket is a frame with a role (a program's body, a
//! constructor's arguments, a block, a section…) and the tokens of the statement being written
//! in it.

use lpc_build::syntax::ast::NodeKind;
use lpc_build::syntax::lex::{self, Tok};
use std::ops::Range;

/// The cursor: the word being typed, and what may be written there.
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    /// The part of the word before the cursor (empty at a word's start).
    pub prefix: Range<usize>,
    pub place: Place,
}

/// What may be written at the cursor.
#[derive(Debug, Clone, PartialEq)]
pub enum Place {
    /// `use` or `program`.
    TopItem,
    /// `param`, `node`, `group` or `process`.
    ProgramItem,
    /// `node` or `group`, in a process.
    ProcessItem,
    /// A node kind, after `node NAME =`.
    Kind,
    /// A node's type, constructor or function: `written` are the segments before the cursor's
    /// (`["Producer"]` after `Producer::`).
    Target {
        kind: NodeKind,
        written: Vec<String>,
    },
    /// A segment of a `use` path, after `written`.
    UsePath { written: Vec<String> },
    /// A param's type, after `param NAME:`.
    ParamType,
    /// An argument's name in a constructor call.
    Argument(Call),
    /// A value.
    Value(Value),
    /// An entry of a node's block.
    BlockEntry(Decl),
    /// The method after `batch` in a node's block.
    BatchMethod(Decl),
    /// A field of a block section (`resources`), of `batch`, or of a setting's call
    /// (`on_failure`).
    Field { section: String },
}

/// The node or group being declared, as far as it is written.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Decl {
    pub is_group: bool,
    pub kind: Option<NodeKind>,
    /// Its target's segments (`["Producer", "new"]`).
    pub target: Vec<String>,
}

/// A constructor call being written.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub decl: Decl,
    /// The arguments given before the current one.
    pub given: Vec<String>,
    /// The current argument's name, once its `:` is written.
    pub current: Option<String>,
}

/// Where a value is written.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Value {
    /// The constructor call it is an argument of.
    pub call: Option<Call>,
    /// Whether `replica`/`replicas` may be used (a group's arguments).
    pub replica: bool,
    /// The block setting it is the value of (`restart`).
    pub setting: Option<String>,
}

/// A token of a statement, at its frame's level.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Item<'t> {
    Word(&'t str),
    Punct(&'t str),
    /// A closed bracket group, by its opener.
    Group(char),
    /// A literal or anything else.
    Lit,
}

/// What an open bracket holds.
#[derive(Debug, Clone, PartialEq)]
enum Role {
    Top,
    Program,
    Process,
    UseGroup(Vec<String>),
    Count,
    Args(Decl),
    Block(Decl),
    Section(String),
    /// A setting's call: `on_failure(`.
    Call(String),
    /// A list, index or parenthesis inside a value.
    Nested(Value),
    Other,
}

struct Frame<'t> {
    role: Role,
    opener: char,
    /// The statement being written at this level.
    items: Vec<Item<'t>>,
    /// In a constructor call: the names of the arguments before the current one.
    given: Vec<String>,
}

impl<'t> Frame<'t> {
    fn new(opener: char, role: Role) -> Self {
        Frame {
            role,
            opener,
            items: Vec::new(),
            given: Vec::new(),
        }
    }
}

/// The cursor at byte `offset` of `text`; `None` in a comment, a string or a number.
pub fn at(text: &str, offset: usize) -> Option<Cursor> {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let start = before
        .char_indices()
        .rev()
        .take_while(|&(_, c)| c == '_' || c.is_alphanumeric())
        .last()
        .map_or(offset, |(i, _)| i);
    if before[start..].starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let head = &text[..start];
    let tokens = lex::lex(head).list;
    if let Some(last) = tokens.last() {
        let gap = &head[last.end..];
        let on_its_line = !gap.contains('\n');
        let unfinished = matches!(last.kind, Tok::UnterminatedStr | Tok::UnterminatedComment);
        if unfinished || (last.kind == Tok::Doc && on_its_line) {
            return None;
        }
    }
    let last_line = &head[head.rfind('\n').map_or(0, |i| i + 1)..];
    if last_line.contains("//") && in_line_comment(last_line) {
        return None;
    }
    let stack = frames(head, &tokens);
    let frame = stack.last()?;
    let place = place(&frame.role, &frame.items, &frame.given)?;
    Some(Cursor {
        prefix: start..offset,
        place,
    })
}

/// Whether a line's end is inside a `//` comment (not one inside a string).
fn in_line_comment(line: &str) -> bool {
    let tokens = lex::lex(line).list;
    let covered = tokens.last().map_or(0, |t| t.end);
    line[covered..].contains("//")
}

/// The frames open at the end of `head`, outermost first.
fn frames<'t>(head: &'t str, tokens: &[lex::Token]) -> Vec<Frame<'t>> {
    let mut stack = vec![Frame::new('\0', Role::Top)];
    for token in tokens {
        let s = &head[token.start..token.end];
        let Some(top) = stack.last_mut() else { break };
        match (token.kind, s) {
            (Tok::Doc, _) => {}
            (Tok::Ident, _) => {
                let starts_item = matches!(top.role, Role::Program | Role::Process)
                    && matches!(s, "param" | "node" | "group" | "process");
                if starts_item {
                    top.items.clear();
                }
                top.items.push(Item::Word(s));
            }
            (Tok::Punct, "(" | "[" | "{") => {
                let opener = s.chars().next().unwrap_or('(');
                let role = role(opener, &top.role, &top.items);
                stack.push(Frame::new(opener, role));
            }
            (Tok::Punct, ")" | "]" | "}") => close(&mut stack, s),
            (Tok::Punct, ";") => top.items.clear(),
            (Tok::Punct, ",") => {
                if let [Item::Word(name), Item::Punct(":"), ..] = top.items[..] {
                    top.given.push(name.to_string());
                }
                top.items.clear();
            }
            (Tok::Punct, _) => top.items.push(Item::Punct(s)),
            _ => top.items.push(Item::Lit),
        }
    }
    stack
}

/// Closes the innermost frame opened by the closer's bracket (and those inside it); a stray
/// closer is ignored.
fn close(stack: &mut Vec<Frame>, closer: &str) {
    let opener = match closer {
        ")" => '(',
        "]" => '[',
        _ => '{',
    };
    let Some(at) = stack.iter().rposition(|f| f.opener == opener) else {
        return;
    };
    if at == 0 {
        return;
    }
    stack.truncate(at);
    if let Some(parent) = stack.last_mut() {
        if opener == '{' {
            // A block, section or body closed: the statement around it ended.
            parent.items.clear();
        } else {
            parent.items.push(Item::Group(opener));
        }
    }
}

/// The role of a bracket opened after `items` in a frame of role `parent`.
fn role(opener: char, parent: &Role, items: &[Item]) -> Role {
    if let Some(value) = value(parent, items) {
        return match (opener, items) {
            ('(', [.., Item::Punct(":"), Item::Word(name)]) => Role::Call(name.to_string()),
            ('(' | '[', _) => Role::Nested(value),
            _ => Role::Other,
        };
    }
    match (opener, parent, items) {
        ('{', Role::Top, [Item::Word("use"), ..]) => Role::UseGroup(use_path(&items[1..])),
        ('{', Role::Top, [Item::Word("program"), ..]) => Role::Program,
        ('{', Role::Program, [Item::Word("process"), ..]) => Role::Process,
        ('{', Role::Program | Role::Process, _) if items.contains(&Item::Group('(')) => {
            decl(items).map_or(Role::Other, Role::Block)
        }
        ('{', Role::Block(_), [Item::Word("batch"), ..]) => Role::Section("batch".into()),
        ('{', Role::Block(_), [Item::Word(name)]) => Role::Section(name.to_string()),
        ('(', Role::Program | Role::Process, _) => decl(items).map_or(Role::Other, Role::Args),
        ('[', Role::Program | Role::Process, [Item::Word("group"), Item::Word(_)]) => Role::Count,
        _ => Role::Other,
    }
}

/// The value being written after `items` in a frame of role `role`, if one is.
fn value(role: &Role, items: &[Item]) -> Option<Value> {
    let named = matches!(items, [Item::Word(_), Item::Punct(":"), ..]);
    match role {
        Role::Program if items.first() == Some(&Item::Word("param")) => {
            items.contains(&Item::Punct("=")).then(Value::default)
        }
        Role::Args(decl) if named => Some(Value {
            call: None,
            replica: decl.is_group,
            setting: None,
        }),
        Role::Count => Some(Value::default()),
        Role::Section(_) | Role::Call(_) if named => Some(Value::default()),
        Role::Block(_) if named => Some(Value {
            setting: match items.first() {
                Some(Item::Word(name)) => Some(name.to_string()),
                _ => None,
            },
            ..Value::default()
        }),
        Role::Nested(value) => Some(value.clone()),
        _ => None,
    }
}

/// What may be written after `items` in a frame of role `role`.
fn place(role: &Role, items: &[Item], given: &[String]) -> Option<Place> {
    if let Some(mut value) = value(role, items) {
        if let (Role::Args(decl), [Item::Word(name), ..]) = (role, items) {
            value.call = Some(Call {
                decl: decl.clone(),
                given: given.to_vec(),
                current: Some(name.to_string()),
            });
        }
        return Some(Place::Value(value));
    }
    match (role, items) {
        (Role::Top, []) => Some(Place::TopItem),
        (Role::Top, [Item::Word("use"), rest @ ..]) => {
            path_place(rest).map(|written| Place::UsePath { written })
        }
        (Role::UseGroup(path), _) => path_place(items).map(|more| Place::UsePath {
            written: path.iter().cloned().chain(more).collect(),
        }),
        (Role::Program, []) => Some(Place::ProgramItem),
        (Role::Process, []) => Some(Place::ProcessItem),
        (Role::Program, [Item::Word("param"), Item::Word(_), Item::Punct(":")]) => {
            Some(Place::ParamType)
        }
        (Role::Program | Role::Process, _) => decl_place(items),
        (Role::Args(decl), []) => Some(Place::Argument(Call {
            decl: decl.clone(),
            given: given.to_vec(),
            current: None,
        })),
        (Role::Block(decl), []) => Some(Place::BlockEntry(decl.clone())),
        (Role::Block(decl), [Item::Word("batch")]) => Some(Place::BatchMethod(decl.clone())),
        (Role::Section(section) | Role::Call(section), []) => Some(Place::Field {
            section: section.clone(),
        }),
        _ => None,
    }
}

/// After `node NAME =` or `group NAME[COUNT] =`: a kind, or a target's next segment.
fn decl_place(items: &[Item]) -> Option<Place> {
    if !matches!(items.first(), Some(Item::Word("node" | "group"))) {
        return None;
    }
    let eq = items.iter().position(|i| *i == Item::Punct("="))?;
    match &items[eq + 1..] {
        [] => Some(Place::Kind),
        [Item::Word(kind), rest @ ..] => Some(Place::Target {
            kind: node_kind(kind)?,
            written: path_place(rest)?,
        }),
        _ => None,
    }
}

/// The segments of a path written up to a `::` (or nothing): `a :: b ::` → `[a, b]`.
fn path_place(items: &[Item]) -> Option<Vec<String>> {
    let mut written = Vec::new();
    for pair in items.chunks(2) {
        match pair {
            [Item::Word(segment), Item::Punct("::")] => written.push(segment.to_string()),
            _ => return None,
        }
    }
    Some(written)
}

/// The segments of a `use` path before its `{`: `crate :: nodes ::` → `[crate, nodes]`.
fn use_path(items: &[Item]) -> Vec<String> {
    items
        .iter()
        .filter_map(|i| match i {
            Item::Word(w) => Some(w.to_string()),
            _ => None,
        })
        .collect()
}

/// The node or group that `items` (`node NAME = KIND PATH`) declare.
fn decl(items: &[Item]) -> Option<Decl> {
    let is_group = match items.first()? {
        Item::Word("node") => false,
        Item::Word("group") => true,
        _ => return None,
    };
    let eq = items.iter().position(|i| *i == Item::Punct("="))?;
    let (kind, rest) = match items.get(eq + 1..)? {
        [Item::Word(kind), rest @ ..] => (node_kind(kind), rest),
        _ => (None, &[][..]),
    };
    let target = rest
        .iter()
        .map_while(|i| match i {
            Item::Word(w) => Some(Some(w.to_string())),
            Item::Punct("::") => Some(None),
            _ => None,
        })
        .flatten()
        .collect();
    Some(Decl {
        is_group,
        kind,
        target,
    })
}

fn node_kind(word: &str) -> Option<NodeKind> {
    match word {
        "courier" => Some(NodeKind::Courier),
        "worker" => Some(NodeKind::Worker),
        "fn" => Some(NodeKind::Fn),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The place at the `|` of `marked`.
    fn place_at(marked: &str) -> Option<Place> {
        let offset = marked.find('|').expect("a cursor");
        let text = marked.replacen('|', "", 1);
        at(&text, offset).map(|c| c.place)
    }

    fn decl(is_group: bool, kind: NodeKind, target: &[&str]) -> Decl {
        Decl {
            is_group,
            kind: Some(kind),
            target: target.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn reads_places_in_half_typed_text() {
        let p = "program p {\n    ";
        assert_eq!(place_at("|"), Some(Place::TopItem));
        assert_eq!(place_at(&format!("{p}no|")), Some(Place::ProgramItem));
        assert_eq!(place_at(&format!("{p}node a = |")), Some(Place::Kind));
        assert_eq!(place_at(&format!("{p}group g[2] = co|")), Some(Place::Kind));
        assert_eq!(
            place_at(&format!("{p}node a = courier Pro|")),
            Some(Place::Target {
                kind: NodeKind::Courier,
                written: vec![]
            })
        );
        assert_eq!(
            place_at(&format!("{p}node a = worker crate::nodes::|")),
            Some(Place::Target {
                kind: NodeKind::Worker,
                written: vec!["crate".into(), "nodes".into()]
            })
        );
        let call = |given: &[&str], current: Option<&str>| Call {
            decl: decl(true, NodeKind::Courier, &["C", "new"]),
            given: given.iter().map(|s| s.to_string()).collect(),
            current: current.map(String::from),
        };
        assert_eq!(
            place_at(&format!("{p}group g[2] = courier C::new(a: 1, |")),
            Some(Place::Argument(call(&["a"], None)))
        );
        assert_eq!(
            place_at(&format!("{p}group g[2] = courier C::new(a: [x, |")),
            Some(Place::Value(Value {
                call: None,
                replica: true,
                setting: None
            }))
        );
        assert_eq!(
            place_at(&format!("{p}group g[2] = courier C::new(a: 1, b: r|")),
            Some(Place::Value(Value {
                call: Some(call(&["a"], Some("b"))),
                replica: true,
                setting: None
            }))
        );
        let block = format!("{p}node n = courier C::new() {{ ");
        let d = decl(false, NodeKind::Courier, &["C", "new"]);
        assert_eq!(
            place_at(&format!("{block}|")),
            Some(Place::BlockEntry(d.clone()))
        );
        assert_eq!(
            place_at(&format!("{block}env {{ A: \"x\" }} batch |")),
            Some(Place::BatchMethod(d))
        );
        assert_eq!(
            place_at(&format!("{block}resources {{ cpus: 1, |")),
            Some(Place::Field {
                section: "resources".into()
            })
        );
        assert_eq!(
            place_at(&format!("{block}restart: on_failure(|")),
            Some(Place::Field {
                section: "on_failure".into()
            })
        );
        assert_eq!(place_at(&format!("{p}param n: |")), Some(Place::ParamType));
        assert_eq!(
            place_at("use crate::{nodes::|"),
            Some(Place::UsePath {
                written: vec!["crate".into(), "nodes".into()]
            })
        );
        assert_eq!(place_at(&format!("{p}// node a = |")), None);
        assert_eq!(
            place_at(&format!("{p}node a = courier C::new(s: \"|")),
            None
        );
        assert_eq!(place_at(&format!("{p}group g[1|")), None);
    }
}
