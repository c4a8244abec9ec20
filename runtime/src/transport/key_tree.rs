//! A commitment to every node key of a launch: a Merkle tree over the keys, whose root every
//! process holds. A key received with a handle comes with its path to the root, so that the
//! receiver keeps it only when it is the node's real key: a hostile peer cannot make a process
//! hold a bogus key in place of the real one it receives later.
//!
//! The leaves are the keys' hashes in node order, padded with zeros to a power of two; a leaf
//! and an inner hash are told apart by their first byte (no leaf can pass for a subtree), and a
//! leaf's hash includes its node's id (no key can pass for another node's).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sha2::{Digest, Sha256};

use super::frame::Secret;

/// A hash of the tree.
pub(crate) type Hash = [u8; 32];

/// The most levels a tree has: 2^32 nodes, more than a launch may have.
pub(crate) const MAX_DEPTH: usize = 32;

/// Node `id`'s leaf, for `key`.
fn leaf(id: usize, key: &Secret) -> Hash {
    Sha256::new()
        .chain_update([0u8])
        .chain_update(b"lp node key v1")
        .chain_update((id as u64).to_le_bytes())
        .chain_update(key.bytes())
        .finalize()
        .into()
}

/// The hash above `left` and `right`.
fn parent(left: &Hash, right: &Hash) -> Hash {
    Sha256::new()
        .chain_update([1u8])
        .chain_update(left)
        .chain_update(right)
        .finalize()
        .into()
}

/// The root of the tree of a launch's keys, and its depth: what a process checks a received key
/// against.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Root {
    pub(crate) hash: Hash,
    /// Levels below the root: every path to it has this many hashes.
    pub(crate) depth: usize,
}

impl Root {
    /// Whether `key` is node `id`'s, by its `path` (the siblings from its leaf up).
    pub(crate) fn holds(&self, id: usize, key: &Secret, path: &[Hash]) -> bool {
        let beyond = (id as u64).checked_shr(self.depth as u32).unwrap_or(0);
        if path.len() != self.depth || self.depth > MAX_DEPTH || beyond != 0 {
            return false;
        }
        let mut hash = leaf(id, key);
        for (level, sibling) in path.iter().enumerate() {
            hash = if id >> level & 1 == 0 {
                parent(&hash, sibling)
            } else {
                parent(sibling, &hash)
            };
        }
        hash == self.hash
    }
}

/// The whole tree, as the launcher (who holds every key) builds it.
pub(crate) struct KeyTree {
    /// Level 0 is the leaves (padded to a power of two), the last the root alone.
    levels: Vec<Vec<Hash>>,
}

impl KeyTree {
    /// The tree of `keys`, node 0's first.
    pub(crate) fn new(keys: impl IntoIterator<Item = Secret>) -> Self {
        let mut leaves: Vec<Hash> = keys
            .into_iter()
            .enumerate()
            .map(|(id, key)| leaf(id, &key))
            .collect();
        leaves.resize(leaves.len().next_power_of_two(), [0; 32]);
        let mut levels = vec![leaves];
        while let Some(below) = levels.last().filter(|level| level.len() > 1) {
            let above = below
                .chunks_exact(2)
                .map(|pair| parent(&pair[0], &pair[1]))
                .collect();
            levels.push(above);
        }
        KeyTree { levels }
    }

    /// What a process checks received keys against.
    pub(crate) fn root(&self) -> Root {
        Root {
            hash: self.levels.last().map_or([0; 32], |top| top[0]),
            depth: self.levels.len() - 1,
        }
    }

    /// Node `id`'s path to the root; `None` past the last node's.
    pub(crate) fn path(&self, id: usize) -> Option<Box<[Hash]>> {
        (id < self.levels[0].len()).then(|| {
            self.levels[..self.levels.len() - 1]
                .iter()
                .enumerate()
                .map(|(level, hashes)| hashes[(id >> level) ^ 1])
                .collect()
        })
    }
}

/// Where, in a tree of `depth` levels, the hashes are that prove the leaves `ids` together:
/// the siblings of their paths that are on none of them (each once, none computable from the
/// others), as `(level, index)`, in order. For a block of neighbouring ids, a few hashes more
/// than its size's logarithm, where their paths would be each `depth` hashes.
pub(crate) fn siblings_of(
    ids: impl IntoIterator<Item = usize>,
    depth: usize,
) -> Vec<(usize, usize)> {
    let mut on_paths: BTreeSet<usize> = ids.into_iter().collect();
    let mut siblings = Vec::new();
    for level in 0..depth {
        siblings.extend(
            on_paths
                .iter()
                .map(|i| i ^ 1)
                .filter(|sibling| !on_paths.contains(sibling))
                .map(|sibling| (level, sibling)),
        );
        on_paths = on_paths.iter().map(|i| i >> 1).collect();
    }
    siblings
}

/// The path of each key of `keys` (by node id), rebuilt from the keys and the hashes `given` at
/// [`siblings_of`]'s positions, when together they lead to `root`; `None` when they do not (a
/// key, a hash or the root is not the launch's) or a hash is missing.
pub(crate) fn paths_from(
    root: &Root,
    keys: &BTreeMap<usize, Secret>,
    given: &HashMap<(usize, usize), Hash>,
) -> Option<BTreeMap<usize, Box<[Hash]>>> {
    if keys.is_empty() {
        return Some(BTreeMap::new());
    }
    if root.depth > MAX_DEPTH {
        return None;
    }
    let mut known = given.clone();
    for (&id, key) in keys {
        known.insert((0, id), leaf(id, key));
    }
    let mut on_paths: BTreeSet<usize> = keys.keys().copied().collect();
    for level in 0..root.depth {
        let mut above = BTreeSet::new();
        for &i in &on_paths {
            let left = known.get(&(level, i & !1))?;
            let right = known.get(&(level, i | 1))?;
            let hash = parent(left, right);
            known.insert((level + 1, i >> 1), hash);
            above.insert(i >> 1);
        }
        on_paths = above;
    }
    if on_paths.into_iter().ne([0]) || known.get(&(root.depth, 0)) != Some(&root.hash) {
        return None;
    }
    keys.keys()
        .map(|&id| {
            let path = (0..root.depth)
                .map(|level| known.get(&(level, (id >> level) ^ 1)).copied())
                .collect::<Option<Box<[Hash]>>>()?;
            Some((id, path))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn keys(n: usize) -> Vec<Secret> {
        (0..n).map(|i| Secret::from_bytes([i as u8; 32])).collect()
    }

    proptest! {
        /// Every node's key proves itself with its path, and nothing else does: not another
        /// node's key, not its key for another id, not a path cut short or made longer.
        #[test]
        fn a_path_proves_its_node_s_key_only(n in 1usize..70, pick in any::<prop::sample::Index>()) {
            let keys = keys(n);
            let tree = KeyTree::new(keys.iter().cloned());
            let root = tree.root();
            prop_assert_eq!(root.depth, n.next_power_of_two().trailing_zeros() as usize);
            let id = pick.index(n);
            let path = tree.path(id).unwrap();
            prop_assert!(root.holds(id, &keys[id], &path));
            let other = (id + 1) % n;
            if other != id {
                prop_assert!(!root.holds(id, &keys[other], &path));
                prop_assert!(!root.holds(other, &keys[id], &path));
            }
            prop_assert!(!root.holds(id, &Secret::from_bytes([0xee; 32]), &path));
            if let Some((_, shorter)) = path.split_last() {
                prop_assert!(!root.holds(id, &keys[id], shorter));
            }
            let mut longer = path.to_vec();
            longer.push([0; 32]);
            prop_assert!(!root.holds(id, &keys[id], &longer));
            // A padding leaf proves no key.
            let past = n.next_power_of_two();
            if past > n {
                let padded = tree.path(n).unwrap();
                prop_assert!(!root.holds(n, &Secret::from_bytes([0; 32]), &padded));
            }
            prop_assert!(tree.path(past).is_none());
        }
    }

    proptest! {
        /// The hashes at `siblings_of`'s positions, with the keys, give back every key's path;
        /// a wrong key, or a hash left out, gives none.
        #[test]
        fn a_set_of_keys_proves_itself_with_its_siblings_only(
            n in 1usize..70,
            picks in prop::collection::vec(any::<prop::sample::Index>(), 1..12),
        ) {
            let keys = keys(n);
            let tree = KeyTree::new(keys.iter().cloned());
            let root = tree.root();
            let held: BTreeMap<usize, Secret> =
                picks.iter().map(|p| p.index(n)).map(|id| (id, keys[id].clone())).collect();
            let positions = siblings_of(held.keys().copied(), root.depth);
            prop_assert!(positions.len() <= held.len() * root.depth);
            let given: HashMap<(usize, usize), Hash> = positions
                .iter()
                .map(|&(level, index)| ((level, index), tree.levels[level][index]))
                .collect();
            let paths = paths_from(&root, &held, &given).expect("proven");
            for (id, path) in &paths {
                prop_assert_eq!(Some(path.clone()), tree.path(*id));
            }
            let first = *held.keys().next().unwrap();
            let mut wrong = held.clone();
            wrong.insert(first, Secret::from_bytes([0xee; 32]));
            prop_assert!(paths_from(&root, &wrong, &given).is_none());
            if let Some(&missing) = positions.first() {
                let mut fewer = given.clone();
                fewer.remove(&missing);
                prop_assert!(paths_from(&root, &held, &fewer).is_none());
            }
        }
    }

    #[test]
    fn two_launches_trees_differ_and_one_key_is_its_own_root() {
        let one = KeyTree::new(keys(1));
        assert_eq!(one.root().depth, 0);
        assert!(one.root().holds(0, &keys(1)[0], &[]));
        assert_ne!(KeyTree::new(keys(3)).root(), KeyTree::new(keys(4)).root());
    }
}
