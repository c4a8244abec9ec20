//! The names a program declares: params, nodes and groups.

use super::model::{Count, ParamType};
use crate::diag::Span;
use std::collections::HashMap;

/// What a name in a program stands for.
#[derive(Debug)]
pub(super) enum Entity {
    Param {
        ty: ParamType,
        /// Its index among the program's params.
        index: usize,
        span: Span,
    },
    Node {
        /// The node type as written (`Producer`, `crate::nodes::Producer`), for messages.
        written: String,
        /// What serves behind its handle, if anything.
        target: NodeTarget,
        is_group: bool,
        /// A group's replica count, once checked.
        count: Option<GroupCount>,
        /// Its index among the program's nodes and groups.
        index: usize,
        span: Span,
    },
}

/// What a node is, as far as handles to it are concerned.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum NodeTarget {
    /// A `courier` of the type at this path: it serves calls.
    Courier(Vec<String>),
    /// A `worker` of the type at this path: it serves nothing.
    Worker(Vec<String>),
    /// A `fn` node running the function at this path: it serves nothing.
    Function(String),
    /// Its type or function was not found (reported already).
    Unresolved,
}

/// A group's replica count, with the params it depends on.
#[derive(Debug, Clone)]
pub(super) struct GroupCount {
    pub count: Count,
    /// Indices of the params the count is computed from.
    pub flags: Vec<usize>,
}

impl Entity {
    /// Where the name is declared.
    pub fn span(&self) -> &Span {
        match self {
            Entity::Param { span, .. } | Entity::Node { span, .. } => span,
        }
    }
}

/// The names of one program, in declaration order.
#[derive(Debug, Default)]
pub(super) struct ProgramScope {
    entries: Vec<(String, Entity)>,
    /// Index into `entries` by name, so lookups stay constant-time in large programs.
    index: HashMap<String, usize>,
    /// Names of items that failed to parse: uses of them are not reported again.
    broken: Vec<String>,
}

impl ProgramScope {
    /// What `name` stands for.
    pub fn get(&self, name: &str) -> Option<&Entity> {
        self.index.get(name).map(|&i| &self.entries[i].1)
    }

    /// Declares `name`; the previous declaration is returned when the name is taken.
    pub fn declare(&mut self, name: &str, entity: Entity) -> Result<(), &Entity> {
        if let Some(&index) = self.index.get(name) {
            return Err(&self.entries[index].1);
        }
        self.index.insert(name.to_string(), self.entries.len());
        self.entries.push((name.to_string(), entity));
        Ok(())
    }

    /// Records a group's checked count.
    pub fn set_count(&mut self, name: &str, checked: GroupCount) {
        if let Some(&i) = self.index.get(name) {
            if let Entity::Node { count, .. } = &mut self.entries[i].1 {
                *count = Some(checked);
            }
        }
    }

    /// Records the name of an item that failed to parse.
    pub fn declare_broken(&mut self, name: &str) {
        self.broken.push(name.to_string());
    }

    /// Whether the name belongs to an item that failed to parse.
    pub fn is_broken(&self, name: &str) -> bool {
        self.broken.iter().any(|b| b == name)
    }

    /// Every declared name, including those of items that failed to parse.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries
            .iter()
            .map(|(n, _)| n.as_str())
            .chain(self.broken.iter().map(String::as_str))
    }

    /// Names of the nodes and groups that serve calls as `target` wants (its type, or a type
    /// implementing its trait, per `serves`).
    pub fn nodes_serving(&self, serves: impl Fn(&[String]) -> bool) -> Vec<&str> {
        self.entries
            .iter()
            .filter(|(_, e)| {
                matches!(e, Entity::Node { target: NodeTarget::Courier(path), .. } if serves(path))
            })
            .map(|(n, _)| n.as_str())
            .collect()
    }
}
