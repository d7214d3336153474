//! Sparse Poseidon Merkle tree over word addresses (up to 2^64 leaves, arity 2/4/8/16): default
//! subtrees per level make the empty tree O(depth); memory is O(touched leaves · depth). The
//! layer under the `nova` (Merkle) and `supernova` backends: the native tree, its paths in
//! circuit ([`circuit`]) and the memory an honest prover keeps over it ([`memory`]).

pub mod circuit;
pub mod memory;

use crate::engine::F;
use crate::error::ShapeError;
use crate::hash::{hash_node, ARITIES};
use ff::Field;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use thiserror::Error;

/// Shape of a memory tree: address width and node arity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TreeParams {
    /// Number of address bits (1..=64); the tree holds 2^addr_bits words.
    pub addr_bits: u32,
    /// Children per node: 2, 4, 8 or 16.
    pub arity: usize,
}

/// Invalid tree parameters or address.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum MerkleError {
    /// Unsupported arity.
    #[error("unsupported Merkle arity {0} (expected one of 2, 4, 8, 16)")]
    Arity(usize),
    /// Address width outside 1..=64.
    #[error("addr_bits must be in 1..=64, got {0}")]
    AddrBits(u32),
    /// Address does not fit the tree.
    #[error("address {addr:#x} does not fit in {bits} address bits")]
    AddrOutOfRange {
        /// The address.
        addr: u64,
        /// The tree's address width.
        bits: u32,
    },
}

impl TreeParams {
    /// Validated parameters.
    pub fn new(addr_bits: u32, arity: usize) -> Result<Self, MerkleError> {
        if !ARITIES.contains(&arity) {
            return Err(MerkleError::Arity(arity));
        }
        if !(1..=64).contains(&addr_bits) {
            return Err(MerkleError::AddrBits(addr_bits));
        }
        Ok(TreeParams { addr_bits, arity })
    }

    /// Address bits consumed per level (log2 of the arity).
    pub fn bits_per_level(&self) -> u32 {
        self.arity.trailing_zeros()
    }

    /// Number of hashing levels between leaves and root.
    pub fn levels(&self) -> usize {
        self.addr_bits.div_ceil(self.bits_per_level()) as usize
    }

    /// Fails if `addr` has bits at or above `addr_bits`.
    pub fn check_addr(&self, addr: u64) -> Result<(), MerkleError> {
        if self.addr_bits < 64 && addr >> self.addr_bits != 0 {
            return Err(MerkleError::AddrOutOfRange {
                addr,
                bits: self.addr_bits,
            });
        }
        Ok(())
    }

    /// Fails, naming the field, unless [`TreeParams::new`] accepts these parameters.
    pub fn validate(&self) -> Result<(), ShapeError> {
        match TreeParams::new(self.addr_bits, self.arity) {
            Ok(_) => Ok(()),
            Err(MerkleError::Arity(a)) => Err(ShapeError::new(
                "arity",
                format!("must be one of 2, 4, 8, 16, got {a}"),
            )),
            Err(_) => Err(ShapeError::new(
                "addr_bits",
                format!("must be in 1..=64, got {}", self.addr_bits),
            )),
        }
    }

    /// Position of `addr`'s ancestor at `level` among its siblings (0..arity).
    pub fn position(&self, addr: u64, level: usize) -> usize {
        (shr(addr, level as u32 * self.bits_per_level()) as usize) & (self.arity - 1)
    }
}

fn shr(x: u64, s: u32) -> u64 {
    if s >= 64 {
        0
    } else {
        x >> s
    }
}

/// A leaf with the siblings of every node on its path (leaf level first, `arity - 1` per level).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Opening {
    /// Leaf value.
    pub leaf: F,
    /// `siblings[level]` are the other children of the path node's parent, in order.
    pub siblings: Vec<Vec<F>>,
}

impl Opening {
    /// Root obtained by hashing `leaf` up along `addr`'s path with these siblings.
    pub fn root_with(&self, params: &TreeParams, addr: u64, leaf: F) -> F {
        let mut cur = leaf;
        for (level, sib) in self.siblings.iter().enumerate() {
            let pos = params.position(addr, level);
            let mut children = sib.clone();
            children.insert(pos, cur);
            cur = hash_node(&children);
        }
        cur
    }

    /// True if this opening proves `leaf` at `addr` under `root`.
    pub fn verify(&self, params: &TreeParams, addr: u64, root: F) -> bool {
        self.siblings.len() == params.levels()
            && self.siblings.iter().all(|s| s.len() == params.arity - 1)
            && params.check_addr(addr).is_ok()
            && self.root_with(params, addr, self.leaf) == root
    }
}

/// Roots of empty subtrees: `defaults[l]` is the root of an all-zero subtree of height `l`.
pub fn default_hashes(params: &TreeParams) -> Vec<F> {
    let mut d = vec![F::ZERO];
    for l in 0..params.levels() {
        d.push(hash_node(&vec![d[l]; params.arity]));
    }
    d
}

/// Root of the all-zero memory.
pub fn empty_root(params: &TreeParams) -> F {
    *default_hashes(params).last().unwrap()
}

/// Sparse Merkle tree of field-element leaves.
#[derive(Clone, Debug)]
pub struct SparseMerkleTree {
    params: TreeParams,
    defaults: Vec<F>,
    /// `nodes[l]` maps index-at-level-`l` to the node hash (level 0 = leaves).
    nodes: Vec<HashMap<u64, F>>,
}

impl SparseMerkleTree {
    /// The empty (all-zero) tree.
    pub fn new(params: TreeParams) -> Self {
        let defaults = default_hashes(&params);
        SparseMerkleTree {
            params,
            nodes: vec![HashMap::new(); params.levels() + 1],
            defaults,
        }
    }

    /// Tree parameters.
    pub fn params(&self) -> &TreeParams {
        &self.params
    }

    /// Current root.
    pub fn root(&self) -> F {
        self.node(self.params.levels(), 0)
    }

    fn node(&self, level: usize, idx: u64) -> F {
        self.nodes[level]
            .get(&idx)
            .copied()
            .unwrap_or(self.defaults[level])
    }

    /// Leaf at `addr` (0 if never set).
    pub fn get(&self, addr: u64) -> F {
        self.node(0, addr)
    }

    /// Leaf and siblings at `addr`.
    pub fn open(&self, addr: u64) -> Result<Opening, MerkleError> {
        self.params.check_addr(addr)?;
        let m = self.params.bits_per_level();
        let a = self.params.arity as u64;
        let siblings = (0..self.params.levels())
            .map(|l| {
                let idx = shr(addr, l as u32 * m);
                let base = idx & !(a - 1);
                (base..=base + (a - 1))
                    .filter(|&j| j != idx)
                    .map(|j| self.node(l, j))
                    .collect()
            })
            .collect();
        Ok(Opening {
            leaf: self.get(addr),
            siblings,
        })
    }

    /// Set the leaf at `addr`, returning the opening from before the update.
    pub fn update(&mut self, addr: u64, leaf: F) -> Result<Opening, MerkleError> {
        let opening = self.open(addr)?;
        let m = self.params.bits_per_level();
        let mut cur = leaf;
        self.nodes[0].insert(addr, leaf);
        for (l, sib) in opening.siblings.iter().enumerate() {
            let mut children = sib.clone();
            children.insert(self.params.position(addr, l), cur);
            cur = hash_node(&children);
            self.nodes[l + 1].insert(shr(addr, (l as u32 + 1) * m), cur);
        }
        Ok(opening)
    }

    /// Number of stored (non-default) nodes, for memory accounting.
    pub fn stored_nodes(&self) -> usize {
        self.nodes.iter().map(HashMap::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// Root of a dense tree over `leaves` (length 2^addr_bits), computed from scratch.
    fn dense_root(params: &TreeParams, leaves: &[F]) -> F {
        let mut layer = leaves.to_vec();
        let total = params.arity.pow(params.levels() as u32);
        layer.resize(total, F::ZERO);
        while layer.len() > 1 {
            layer = layer.chunks(params.arity).map(hash_node).collect();
        }
        layer[0]
    }

    #[test]
    fn random_updates_match_dense_recomputation() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        for (bits, arity) in [(6, 2), (6, 4), (7, 8), (5, 16), (1, 2)] {
            let p = TreeParams::new(bits, arity).unwrap();
            let mut t = SparseMerkleTree::new(p);
            let mut dense = vec![F::ZERO; 1 << bits];
            assert_eq!(t.root(), dense_root(&p, &dense));
            for _ in 0..40 {
                let addr = rng.gen_range(0..(1u64 << bits));
                let v = F::from(rng.gen::<u64>());
                let before = t.update(addr, v).unwrap();
                assert!(before.verify(&p, addr, dense_root(&p, &dense)));
                assert_eq!(before.leaf, dense[addr as usize]);
                dense[addr as usize] = v;
                assert_eq!(
                    t.root(),
                    dense_root(&p, &dense),
                    "bits {bits} arity {arity}"
                );
            }
            for addr in 0..(1u64 << bits) {
                let o = t.open(addr).unwrap();
                assert_eq!(o.leaf, dense[addr as usize]);
                assert!(o.verify(&p, addr, t.root()));
            }
        }
    }

    #[test]
    fn wrong_sibling_or_leaf_fails() {
        let p = TreeParams::new(64, 4).unwrap();
        let mut t = SparseMerkleTree::new(p);
        t.update(0x3ffff0f2d, F::from(5)).unwrap();
        t.update(0x3ffff0f2e, F::from(6)).unwrap();
        let o = t.open(0x3ffff0f2d).unwrap();
        assert!(o.verify(&p, 0x3ffff0f2d, t.root()));
        let mut bad = o.clone();
        bad.siblings[0][0] += F::ONE;
        assert!(!bad.verify(&p, 0x3ffff0f2d, t.root()));
        let mut bad = o.clone();
        bad.siblings[31][2] += F::ONE;
        assert!(!bad.verify(&p, 0x3ffff0f2d, t.root()));
        let mut bad = o.clone();
        bad.leaf = F::from(6);
        assert!(!bad.verify(&p, 0x3ffff0f2d, t.root()));
        assert!(
            !o.verify(&p, 0x3ffff0f2e, t.root()),
            "opening is bound to its address"
        );
    }

    #[test]
    fn depth_64_is_sparse_and_bounds_checked() {
        let p = TreeParams::new(64, 2).unwrap();
        let mut t = SparseMerkleTree::new(p);
        assert_eq!(t.root(), empty_root(&p));
        t.update(u64::MAX, F::from(1)).unwrap();
        assert_eq!(t.stored_nodes(), 65);
        let p16 = TreeParams::new(16, 8).unwrap();
        assert_eq!(p16.levels(), 6);
        let t16 = SparseMerkleTree::new(p16);
        assert_eq!(
            t16.open(1 << 16).unwrap_err(),
            MerkleError::AddrOutOfRange {
                addr: 1 << 16,
                bits: 16
            }
        );
        assert_eq!(TreeParams::new(64, 3).unwrap_err(), MerkleError::Arity(3));
        assert_eq!(TreeParams::new(0, 2).unwrap_err(), MerkleError::AddrBits(0));
        assert_eq!(TreeParams::new(64, 8).unwrap().levels(), 22);
    }
}
