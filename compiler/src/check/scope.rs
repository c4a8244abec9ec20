//! The names a program declares: params, nodes and groups.

use super::model::ParamType;
use crate::diag::Span;
use std::collections::HashMap;

/// What a name in a program stands for.
#[derive(Debug)]
pub(super) enum Entity {
    Param {
        ty: ParamType,
        span: Span,
    },
    Node {
        /// The node type's name as written (`Producer`).
        type_name: String,
        is_group: bool,
        /// A group's replica count when it is a literal.
        count: Option<i128>,
        span: Span,
    },
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

    /// Names of the nodes and groups of a type.
    pub fn nodes_of_type(&self, type_name: &str) -> Vec<&str> {
        self.entries
            .iter()
            .filter(|(_, e)| matches!(e, Entity::Node { type_name: t, .. } if t == type_name))
            .map(|(n, _)| n.as_str())
            .collect()
    }
}
