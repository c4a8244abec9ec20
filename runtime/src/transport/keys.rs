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
//! carries its node's key (delegation by the holder) and the key's path in the launch's key
//! tree ([`key_tree`](super::key_tree)); the receiving process keeps the key when the path
//! proves it.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::{Arc, PoisonError, RwLock};

use super::frame::Secret;
use super::key_tree::{paths_from, siblings_of, Hash, KeyTree, Root, MAX_DEPTH};

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
    /// All of them: derived on demand from the launch secret; with the tree of the launch's
    /// keys when the number of nodes is known (not to a coordinator given the secret alone).
    All(Secret, Option<KeyTree>),
    /// These, by node id, each with its path in the tree of `root`; more arrive with handles,
    /// and are kept only when their path leads to `root`.
    Granted {
        root: Root,
        keys: RwLock<BTreeMap<usize, Held>>,
    },
}

/// A node's key and its path to the root of the launch's key tree (what proves it to a process
/// it is passed to).
#[derive(Clone)]
pub(crate) struct Held {
    pub(crate) key: Secret,
    pub(crate) path: Box<[Hash]>,
}

/// The first line of a keyring's text form.
const HEADER: &str = "lp keys v2";

/// Hex digits of a key or a hash.
const HEX: usize = 64;

impl Keyring {
    /// Every key of the launch of `nodes` nodes whose secret is `secret`: the launcher's, a
    /// test's.
    pub(crate) fn launch(secret: &Secret, nodes: usize) -> Self {
        let tree = KeyTree::new((0..nodes).map(|id| node_key(secret, id)));
        Self::all(secret, Some(tree))
    }

    /// Every key of the launch whose secret is `secret`, unproven (the number of its nodes
    /// unknown): a coordinator's, a test client's.
    pub(crate) fn secret(secret: &Secret) -> Self {
        Self::all(secret, None)
    }

    fn all(secret: &Secret, tree: Option<KeyTree>) -> Self {
        Keyring(Arc::new(Inner {
            member: Secret::from_bytes(secret.derive(b"member")),
            nodes: Nodes::All(secret.clone(), tree),
        }))
    }

    /// This keyring, able to prove its keys to other processes once it knows that the launch
    /// has `nodes` nodes: a process given the launch secret alone learns it from its program.
    pub(crate) fn of_nodes(self, nodes: usize) -> Self {
        match &self.0.nodes {
            Nodes::All(secret, None) => Self::launch(secret, nodes),
            _ => self,
        }
    }

    /// The key proving membership of the launch.
    pub(crate) fn member(&self) -> &Secret {
        &self.0.member
    }

    /// Node `id`'s key, when this process holds it.
    pub(crate) fn node(&self, id: usize) -> Option<Secret> {
        match &self.0.nodes {
            Nodes::All(secret, _) => Some(node_key(secret, id)),
            Nodes::Granted { keys, .. } => keys
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .get(&id)
                .map(|held| held.key.clone()),
        }
    }

    /// Node `id`'s key and its proof, to pass on with a handle: when this process holds it,
    /// and can prove it.
    pub(crate) fn proven(&self, id: usize) -> Option<Held> {
        match &self.0.nodes {
            Nodes::All(secret, tree) => Some(Held {
                key: node_key(secret, id),
                path: tree.as_ref()?.path(id)?,
            }),
            Nodes::Granted { keys, .. } => keys
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .get(&id)
                .cloned(),
        }
    }

    /// Keeps node `id`'s key, received with a handle to it, when its path proves it and no key
    /// is held for `id` already; whether it was proven (a peer cannot make this process hold a
    /// bogus key, nor replace a good one). A keyring of every key has nothing to keep, and
    /// takes any.
    pub(crate) fn grant(&self, id: usize, held: Held) -> bool {
        match &self.0.nodes {
            Nodes::All(..) => true,
            Nodes::Granted { root, keys } => {
                if !root.holds(id, &held.key, &held.path) {
                    return false;
                }
                keys.write()
                    .unwrap_or_else(PoisonError::into_inner)
                    .entry(id)
                    .or_insert(held);
                true
            }
        }
    }

    /// Makes this process hold `key` for node `id`, unproven and in place of any: what a hostile
    /// process can do to its own keyring, for tests of what its peers then refuse.
    pub(crate) fn forge(&self, id: usize, key: Secret) {
        if let Nodes::Granted { keys, .. } = &self.0.nodes {
            keys.write().unwrap_or_else(PoisonError::into_inner).insert(
                id,
                Held {
                    key,
                    path: Box::default(),
                },
            );
        }
    }

    /// The keyring of a process that runs or calls only the nodes `ids`: the member key and
    /// those nodes' keys (those this keyring holds and can prove).
    pub(crate) fn narrowed(&self, ids: impl IntoIterator<Item = usize>) -> Keyring {
        let keys = ids
            .into_iter()
            .filter_map(|id| Some((id, self.proven(id)?)))
            .collect();
        Keyring(Arc::new(Inner {
            member: self.0.member.clone(),
            nodes: Nodes::Granted {
                root: self.root(),
                keys: RwLock::new(keys),
            },
        }))
    }

    /// The root of the launch's key tree, as this keyring knows it (a zero root, which proves
    /// nothing, when it does not).
    fn root(&self) -> Root {
        match &self.0.nodes {
            Nodes::All(_, tree) => tree.as_ref().map_or(
                Root {
                    hash: [0; 32],
                    depth: 0,
                },
                KeyTree::root,
            ),
            Nodes::Granted { root, .. } => *root,
        }
    }

    /// The text form a launcher hands a process: a header, the member key, the key tree's root
    /// and depth, one line per node key (`node ID KEY`), then the hashes that prove the keys
    /// together (`hash LEVEL INDEX HASH`, at [`siblings_of`]'s positions: for neighbouring
    /// nodes far fewer than a path per key).
    pub(crate) fn to_text(&self) -> String {
        let root = self.root();
        let mut text = format!(
            "{HEADER}\nmember {}\nroot {} {}\n",
            self.0.member.to_hex(),
            hex(&root.hash),
            root.depth
        );
        let held: BTreeMap<usize, Held> = match &self.0.nodes {
            Nodes::All(..) => BTreeMap::new(),
            Nodes::Granted { keys, .. } => {
                keys.read().unwrap_or_else(PoisonError::into_inner).clone()
            }
        };
        // Every hash on the keys' paths, by position.
        let mut hashes = HashMap::new();
        for (&id, held) in &held {
            let _ = writeln!(text, "node {id} {}", held.key.to_hex());
            for (level, hash) in held.path.iter().enumerate() {
                hashes.insert((level, (id >> level) ^ 1), *hash);
            }
        }
        for (level, index) in siblings_of(held.keys().copied(), root.depth) {
            if let Some(hash) = hashes.get(&(level, index)) {
                let _ = writeln!(text, "hash {level} {index} {}", hex(hash));
            }
        }
        text
    }

    /// The length of [`to_text`](Self::to_text)'s output for a keyring of the nodes `ids`
    /// (distinct) of a launch of `nodes` nodes, known before any key is: what a launcher weighs
    /// against where the text goes.
    pub(crate) fn text_len(ids: &[usize], nodes: usize) -> usize {
        let depth = nodes.next_power_of_two().trailing_zeros() as usize;
        let digits = |n: usize| n.to_string().len();
        let header = HEADER.len() + 1 + "member ".len() + HEX + 1;
        let root = "root ".len() + HEX + 1 + digits(depth) + 1;
        let node_lines: usize = ids
            .iter()
            .map(|&id| "node ".len() + digits(id) + 1 + HEX + 1)
            .sum();
        let hash_lines: usize = siblings_of(ids.iter().copied(), depth)
            .into_iter()
            .map(|(level, index)| "hash ".len() + digits(level) + 1 + digits(index) + 1 + HEX + 1)
            .sum();
        header + root + node_lines + hash_lines
    }

    /// Parses [`to_text`](Self::to_text)'s output (the keys must prove themselves together),
    /// or a launch secret alone (hex: a process trusted with every key, as a coordinator is).
    pub(crate) fn parse(text: &str) -> Option<Keyring> {
        let text = text.trim();
        if let Some(secret) = Secret::from_hex(text) {
            return Some(Self::all(&secret, None));
        }
        let mut lines = text.lines();
        if lines.next()? != HEADER {
            return None;
        }
        let member = Secret::from_hex(lines.next()?.strip_prefix("member ")?)?;
        let (hash, depth) = lines.next()?.strip_prefix("root ")?.split_once(' ')?;
        let root = Root {
            hash: Secret::from_hex(hash)?.bytes(),
            depth: depth.parse().ok().filter(|&d| d <= MAX_DEPTH)?,
        };
        let mut keys = BTreeMap::new();
        let mut given = HashMap::new();
        for line in lines {
            let fields: Vec<&str> = line.split(' ').collect();
            match fields[..] {
                ["node", id, key] => {
                    keys.insert(id.parse().ok()?, Secret::from_hex(key)?);
                }
                ["hash", level, index, hash] => {
                    let position = (level.parse().ok()?, index.parse().ok()?);
                    given.insert(position, Secret::from_hex(hash)?.bytes());
                }
                _ => return None,
            }
        }
        let paths = paths_from(&root, &keys, &given)?;
        let keys = keys
            .into_iter()
            .zip(paths.into_values())
            .map(|((id, key), path)| (id, Held { key, path }))
            .collect();
        Some(Keyring(Arc::new(Inner {
            member,
            nodes: Nodes::Granted {
                root,
                keys: RwLock::new(keys),
            },
        })))
    }
}

/// `bytes` as lower-case hex.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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
        let all = Keyring::launch(&secret, 20);
        let some = Keyring::parse(&all.narrowed([3, 7]).to_text()).unwrap();
        assert_eq!(some.member(), all.member());
        assert_eq!(some.node(3), all.node(3));
        assert_eq!(some.node(7), all.node(7));
        assert_eq!(some.node(4), None);
        assert_ne!(all.node(3), all.node(7));
        assert_ne!(all.node(3).as_ref(), Some(all.member()));
        for (nodes, ids) in [
            (20, &[][..]),
            (20, &[3, 7]),
            (12346, &[0, 9, 10, 12345]),
            (1, &[0]),
        ] {
            let text = Keyring::launch(&secret, nodes)
                .narrowed(ids.iter().copied())
                .to_text();
            assert_eq!(Keyring::text_len(ids, nodes), text.len(), "{ids:?}");
            assert!(Keyring::parse(&text).is_some(), "{text}");
        }
        // Neighbouring nodes' keys prove themselves with a few hashes, not a path each: a
        // consumer holding 1,024 producers' handles takes 80 bytes a key.
        let producers: Vec<usize> = (0..1025).collect();
        assert!(Keyring::text_len(&producers, 1025) < 1025 * 80);
        // A secret alone is every key; it proves them once it knows how many nodes there are.
        let again = Keyring::parse(&secret.to_hex()).unwrap();
        assert_eq!(again.node(1000), all.node(1000));
        assert!(again.proven(3).is_none());
        let sized = again.of_nodes(20);
        assert_eq!(
            sized.proven(3).map(|h| h.path),
            all.proven(3).map(|h| h.path)
        );
        let text = all.narrowed([3]).to_text();
        // Node 3's sibling (node 2's leaf), then one hash per level above.
        let hash = text.lines().find(|l| l.starts_with("hash 0 ")).unwrap();
        assert!(hash.starts_with("hash 0 2 "), "{text}");
        assert_eq!(text.lines().filter(|l| l.starts_with("hash ")).count(), 5);
        for bad in [
            "".to_string(),
            "lp keys v2".into(),
            "lp keys v2\nmember zz".into(),
            "lp keys v2\nnode 1 00".into(),
            text.replace("root ", "root 0"),
            text.replace("node 3 ", "node 4 "),
            text.replace(hash, &format!("{hash} more")),
            text.replace(hash, ""),
            text.replace(" 5\n", " 99\n"),
        ] {
            assert!(Keyring::parse(&bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn a_granted_key_is_kept_when_it_proves_itself_and_never_replaces_one_held() {
        let all = Keyring::launch(&Secret::random().unwrap(), 6);
        let some = all.narrowed([1]);
        let bogus = Held {
            key: Secret::random().unwrap(),
            path: all.proven(2).unwrap().path,
        };
        assert!(!some.grant(2, bogus.clone()), "a bogus key is refused");
        assert_eq!(some.node(2), None);
        assert!(!some.grant(2, all.proven(3).unwrap()), "another node's key");
        assert!(some.grant(2, all.proven(2).unwrap()), "the real key, after");
        assert_eq!(some.node(2), all.node(2));
        assert!(!some.grant(1, bogus), "a held key stays");
        assert_eq!(some.node(1), all.node(1));
        // Another launch's key proves nothing here.
        let other = Keyring::launch(&Secret::random().unwrap(), 6);
        assert!(!some.grant(4, other.proven(4).unwrap()));
        // What a received key proves, it proves again when passed on.
        let third = all.narrowed([]);
        assert!(third.grant(2, some.proven(2).unwrap()));
        // The launcher's keyring holds every key already: what it receives changes nothing.
        assert!(all.grant(2, other.proven(2).unwrap()));
        assert_ne!(all.node(2), other.node(2));
    }
}
