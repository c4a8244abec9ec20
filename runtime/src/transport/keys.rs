//! What a process holds of its launch's keys: per-edge credentials.
//!
//! Every key derives from the launch secret ([`Secret::derive`]), which only the launcher (or a
//! cluster's coordinator) and the test harness hold:
//!
//! - the *member* key: proves that a process belongs to the launch on its link to the launcher
//!   or coordinator, and keys the encryption of TCP ([`noise`](super::noise));
//! - one key per node: a node's server accepts only connections proving *its* key.
//!
//! A node process gets the member key, its own nodes' keys, and the keys of the nodes they hold
//! handles to (the arguments of their `.lp` declarations). It can call nothing else: a
//! connection to another node is refused before anything runs. A handle passed in a call
//! carries its node's key (delegation by the holder), and the receiving process keeps it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, PoisonError, RwLock};

use super::frame::Secret;

/// The keys of one launch that a process holds. Cheap to clone: clones share what they hold
/// (a key received with a handle is every clone's).
#[derive(Clone)]
pub(crate) struct Keyring(Arc<Inner>);

struct Inner {
    /// Proves membership of the launch (control links, TCP encryption).
    member: Secret,
    /// The nodes' keys this process holds.
    nodes: Nodes,
}

enum Nodes {
    /// All of them: derived on demand from the launch secret.
    All(Secret),
    /// These, by node id; more arrive with handles.
    Granted(RwLock<BTreeMap<usize, Secret>>),
}

/// The first line of a keyring's text form.
const HEADER: &str = "lp keys v1";

impl Keyring {
    /// Every key of the launch whose secret is `secret`: the launcher's, the coordinator's, a
    /// test's.
    pub(crate) fn launch(secret: &Secret) -> Self {
        Keyring(Arc::new(Inner {
            member: Secret::from_bytes(secret.derive(b"member")),
            nodes: Nodes::All(secret.clone()),
        }))
    }

    /// The key proving membership of the launch.
    pub(crate) fn member(&self) -> &Secret {
        &self.0.member
    }

    /// Node `id`'s key, when this process holds it.
    pub(crate) fn node(&self, id: usize) -> Option<Secret> {
        match &self.0.nodes {
            Nodes::All(secret) => Some(node_key(secret, id)),
            Nodes::Granted(keys) => keys
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .get(&id)
                .cloned(),
        }
    }

    /// Keeps node `id`'s key, received with a handle to it, unless one is held already (a peer
    /// cannot replace a good key with a bad one).
    pub(crate) fn grant(&self, id: usize, key: Secret) {
        if let Nodes::Granted(keys) = &self.0.nodes {
            keys.write()
                .unwrap_or_else(PoisonError::into_inner)
                .entry(id)
                .or_insert(key);
        }
    }

    /// The keyring of a process that runs or calls only the nodes `ids`: the member key and
    /// those nodes' keys (those this keyring holds).
    pub(crate) fn narrowed(&self, ids: impl IntoIterator<Item = usize>) -> Keyring {
        let keys = ids
            .into_iter()
            .filter_map(|id| Some((id, self.node(id)?)))
            .collect();
        Keyring(Arc::new(Inner {
            member: self.0.member.clone(),
            nodes: Nodes::Granted(RwLock::new(keys)),
        }))
    }

    /// The text form a launcher hands a process: a header, the member key, then one line per
    /// node key (`node ID HEX`).
    pub(crate) fn to_text(&self) -> String {
        let mut text = format!("{HEADER}\nmember {}\n", self.0.member.to_hex());
        let nodes: Vec<(usize, Secret)> = match &self.0.nodes {
            Nodes::All(_) => Vec::new(),
            Nodes::Granted(keys) => keys
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .iter()
                .map(|(&id, key)| (id, key.clone()))
                .collect(),
        };
        for (id, key) in nodes {
            let _ = writeln!(text, "node {id} {}", key.to_hex());
        }
        text
    }

    /// The length of [`to_text`](Self::to_text)'s output for a keyring of the nodes `ids`
    /// (distinct), known before any key is: what a launcher weighs against where the text goes.
    pub(crate) fn text_len(ids: &[usize]) -> usize {
        const HEX: usize = 64;
        let node_lines: usize = ids
            .iter()
            .map(|id| "node ".len() + id.to_string().len() + 1 + HEX + 1)
            .sum();
        HEADER.len() + 1 + "member ".len() + HEX + 1 + node_lines
    }

    /// Parses [`to_text`](Self::to_text)'s output, or a launch secret alone (hex: a process
    /// trusted with every key, as Slurm's tasks are).
    pub(crate) fn parse(text: &str) -> Option<Keyring> {
        let text = text.trim();
        if let Some(secret) = Secret::from_hex(text) {
            return Some(Keyring::launch(&secret));
        }
        let mut lines = text.lines();
        if lines.next()? != HEADER {
            return None;
        }
        let member = Secret::from_hex(lines.next()?.strip_prefix("member ")?)?;
        let mut keys = BTreeMap::new();
        for line in lines {
            let (id, hex) = line.strip_prefix("node ")?.split_once(' ')?;
            keys.insert(id.parse().ok()?, Secret::from_hex(hex)?);
        }
        Some(Keyring(Arc::new(Inner {
            member,
            nodes: Nodes::Granted(RwLock::new(keys)),
        })))
    }
}

/// Node `id`'s key in the launch of `secret`.
fn node_key(secret: &Secret, id: usize) -> Secret {
    Secret::from_bytes(secret.derive(format!("node {id}").as_bytes()))
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keyring(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_narrowed_keyring_holds_only_its_nodes_keys_and_round_trips() {
        let secret = Secret::random().unwrap();
        let all = Keyring::launch(&secret);
        let some = Keyring::parse(&all.narrowed([3, 7]).to_text()).unwrap();
        assert_eq!(some.member(), all.member());
        assert_eq!(some.node(3), all.node(3));
        assert_eq!(some.node(7), all.node(7));
        assert_eq!(some.node(4), None);
        assert_ne!(all.node(3), all.node(7));
        assert_ne!(all.node(3).as_ref(), Some(all.member()));
        for ids in [&[][..], &[3, 7], &[0, 9, 10, 12345]] {
            let text = all.narrowed(ids.iter().copied()).to_text();
            assert_eq!(Keyring::text_len(ids), text.len(), "{ids:?}");
        }
        // A secret alone is every key.
        let again = Keyring::parse(&secret.to_hex()).unwrap();
        assert_eq!(again.node(1000), all.node(1000));
        for bad in [
            "",
            "lp keys v1",
            "lp keys v1\nmember zz",
            "lp keys v1\nnode 1 00",
        ] {
            assert!(Keyring::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn a_granted_key_never_replaces_one_held() {
        let all = Keyring::launch(&Secret::random().unwrap());
        let some = all.narrowed([1]);
        let bogus = Secret::random().unwrap();
        some.grant(1, bogus.clone());
        some.grant(2, bogus.clone());
        assert_eq!(some.node(1), all.node(1));
        assert_eq!(some.node(2), Some(bogus));
        // The launcher's keyring holds every key already.
        all.grant(2, Secret::random().unwrap());
        assert_ne!(all.node(2), some.node(2));
    }
}
