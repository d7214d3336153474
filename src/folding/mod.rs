//! What the folding backends share: the SNARK types over the Pallas/Vesta cycle ([`crate::engine`]),
//! generic key sets for Nova ([`NovaKeySet`]: one step circuit) and SuperNova ([`SupernovaKeySet`]:
//! several, batched Spartan), loading them through the cache, compression, the prove and verify
//! errors, and constraint counts arecibo keeps private.

mod counts;
mod verifier;

pub use crate::error::VerifyError;
pub use counts::{r1cs_num_cons, supernova_secondary_constraints};
pub use verifier::verifier_params;

use crate::backend::{CacheEntry, KeyOptions, KeySource};
use crate::cache::cached;
use crate::codec::f_to_bytes;
use crate::digest::{key_digests, KeyDigests};
use crate::engine::{E1, E2, F, F2};
use crate::error::Error;
use crate::tree::memory::WitnessError;
use arecibo::errors::NovaError;
use arecibo::provider::ipa_pc;
use arecibo::supernova::NonUniformCircuit;
use arecibo::traits::circuit::{StepCircuit, TrivialCircuit};
use arecibo::traits::circuit_supernova::{
    StepCircuit as SupernovaCircuit, TrivialSecondaryCircuit,
};
use arecibo::traits::snark::{BatchedRelaxedR1CSSNARKTrait, RelaxedR1CSSNARKTrait};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Secondary (trivial) step circuit of Nova.
pub type C2 = TrivialCircuit<F2>;
/// Secondary (trivial) circuit of SuperNova.
pub type Sc2 = TrivialSecondaryCircuit<F2>;
/// Spartan over IPA, primary (chosen over `ppsnark`: see the README's performance notes).
pub type S1 = arecibo::spartan::snark::RelaxedR1CSSNARK<E1, ipa_pc::EvaluationEngine<E1>>;
/// Spartan over IPA, secondary.
pub type S2 = arecibo::spartan::snark::RelaxedR1CSSNARK<E2, ipa_pc::EvaluationEngine<E2>>;
/// Batched Spartan over IPA for SuperNova's primary circuits.
pub type Sb1 = arecibo::spartan::batched::BatchedRelaxedR1CSSNARK<E1, ipa_pc::EvaluationEngine<E1>>;

/// Nova public parameters for primary step circuit `C`.
pub type Params<C> = arecibo::PublicParams<E1, E2, C, C2>;
/// Folded Nova proof for step circuit `C`.
pub type Recursive<C> = arecibo::RecursiveSNARK<E1, E2, C, C2>;
/// Compressed Nova proof for step circuit `C`.
pub type Compressed<C> = arecibo::CompressedSNARK<E1, E2, C, C2, S1, S2>;
/// Nova compression prover key for step circuit `C`.
pub type Pk<C> = arecibo::ProverKey<E1, E2, C, C2, S1, S2>;
/// Nova compression verifier key for step circuit `C`.
pub type Vk<C> = arecibo::VerifierKey<E1, E2, C, C2, S1, S2>;

/// SuperNova public parameters for primary circuits `C`.
pub type SupernovaParams<C> = arecibo::supernova::PublicParams<E1, E2, C, Sc2>;
/// Folded SuperNova proof (of any circuits).
pub type SupernovaRecursive = arecibo::supernova::RecursiveSNARK<E1, E2>;
/// Compressed SuperNova proof for primary circuits `C`.
pub type SupernovaCompressed<C> =
    arecibo::supernova::snark::CompressedSNARK<E1, E2, C, Sc2, Sb1, S2>;
/// SuperNova compression prover key.
pub type SupernovaPk<C> = arecibo::supernova::snark::ProverKey<E1, E2, C, Sc2, Sb1, S2>;
/// SuperNova compression verifier key.
pub type SupernovaVk<C> = arecibo::supernova::snark::VerifierKey<E1, E2, C, Sc2, Sb1, S2>;

/// Proving failed.
#[derive(Debug, Error)]
pub enum ProveError {
    /// The op is inconsistent or out of range; nothing was folded for it.
    #[error(transparent)]
    Witness(#[from] WitnessError),
    /// arecibo failed.
    #[error("folding failed: {0}")]
    Nova(#[from] NovaError),
}

impl From<ProveError> for Error {
    fn from(e: ProveError) -> Self {
        match e {
            ProveError::Witness(w) => w.into(),
            ProveError::Nova(n) => Error::internal(n),
        }
    }
}

/// Nova public parameters for any primary step circuit, from a blank instance of it.
pub fn setup_circuit<C: StepCircuit<F>>(blank: &C) -> Params<C> {
    Params::<C>::setup(blank, &C2::default(), &*S1::ck_floor(), &*S2::ck_floor())
}

/// Fold step `c` of a SuperNova program into `snark`, starting it (arecibo's
/// `RecursiveSNARK::new` from `z0`, with `program` naming the first circuit) if there is none
/// yet. arecibo asserts on a folded proof's content (its program counter): a malformed proof
/// (a crafted checkpoint's) is an error, never a panic of the caller.
pub fn supernova_fold<C: SupernovaCircuit<F>, P: NonUniformCircuit<E1, E2, C, Sc2>>(
    pp: &SupernovaParams<C>,
    snark: &mut Option<SupernovaRecursive>,
    program: impl FnOnce() -> P,
    c: &C,
    z0: &[F],
) -> Result<(), Error> {
    let err = |e: arecibo::supernova::error::SuperNovaError| {
        Error::Internal(format!("folding failed: {e:?}"))
    };
    let c2 = Sc2::default();
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match snark {
        None => {
            let mut s =
                SupernovaRecursive::new(pp, &program(), c, &c2, z0, &[<F2 as ff::Field>::ZERO])
                    .map_err(err)?;
            s.prove_step(pp, c, &c2).map_err(err)?;
            *snark = Some(s);
            Ok(())
        }
        Some(s) => s.prove_step(pp, c, &c2).map_err(err),
    }))
    .map_err(|_| {
        Error::Internal(
            "folding failed: the folded proof so far is malformed (a corrupted checkpoint?)".into(),
        )
    })?
}

/// Nova parameters and compression keys of step circuit `C` (cached as one value).
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub struct NovaKeySet<C: StepCircuit<F>> {
    /// Public parameters.
    pub pp: Params<C>,
    /// Compression prover key.
    pub pk: Pk<C>,
    /// Compression verifier key.
    pub vk: Vk<C>,
}

impl<C: StepCircuit<F>> NovaKeySet<C> {
    /// Parameters and compression keys for the step circuit `blank` (slow: synthesizes it and
    /// the commitment keys).
    pub fn generate(blank: &C) -> Result<Self, NovaError> {
        let pp = setup_circuit(blank);
        let (pk, vk) = Compressed::<C>::setup(&pp)?;
        Ok(NovaKeySet { pp, pk, vk })
    }

    /// Digests of the parameters and of the verifier key.
    pub fn digests(&self) -> KeyDigests {
        key_digests(|| f_to_bytes(&self.pp.digest()), &self.vk)
    }

    /// Keys for the circuit `blank` makes, from the cache `entry` when they can be vouched for.
    pub fn load(
        entry: &CacheEntry,
        opts: &KeyOptions,
        blank: impl FnOnce() -> C,
    ) -> Result<(Self, KeySource, KeyDigests), Error> {
        cached(entry, opts, Self::digests, || {
            Self::generate(&blank()).map_err(Error::internal)
        })
    }

    /// Primary constraints per op (folding verifier included).
    pub fn constraints_per_op(&self, k: usize) -> f64 {
        self.pp.num_constraints().0 as f64 / k as f64
    }

    /// Primary plus secondary constraints per op: what a fold step commits to, per op.
    pub fn effective_constraints_per_op(&self, k: usize) -> f64 {
        let (p, s) = self.pp.num_constraints();
        (p + s) as f64 / k as f64
    }

    /// Compress a folded proof with Spartan.
    pub fn compress(&self, snark: &Recursive<C>) -> Result<Compressed<C>, Error> {
        Compressed::<C>::prove(&self.pp, &self.pk, snark).map_err(Error::internal)
    }
}

/// SuperNova parameters and batched compression keys of primary circuits `C` (cached as one
/// value).
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub struct SupernovaKeySet<C: SupernovaCircuit<F>> {
    /// Public parameters (for verifier-only keys, [`verifier_params`]: no circuits).
    pub pp: SupernovaParams<C>,
    /// Compression prover key (`None`: verifier-only keys, which cannot fold or compress).
    pub pk: Option<SupernovaPk<C>>,
    /// Compression verifier key; empty while parked on disk ([`SupernovaKeySet::park_vk`]).
    /// Encoded as the key itself, so the cache file's layout does not depend on it.
    #[serde(with = "held_vk")]
    vk: std::sync::OnceLock<SupernovaVk<C>>,
    /// Where the verifier key is parked, and its digest.
    #[serde(skip)]
    parked: Option<ParkedVk>,
}

/// A verifier key parked in the cache's verifier-key file: an open handle on it (a later
/// rename or removal of the path does not change what it reads) and the key's digest.
#[derive(Debug)]
struct ParkedVk {
    /// Locked while the key is read back: clones of a handle share its offset.
    file: std::sync::Mutex<std::fs::File>,
    path: std::path::PathBuf,
    entry: CacheEntry,
    digest: [u8; 32],
}

/// Serde for the verifier key slot: the key's own encoding (a parked key cannot be encoded).
mod held_vk {
    use super::{SupernovaCircuit, SupernovaVk, F};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::sync::OnceLock;

    pub fn serialize<S: Serializer, C: SupernovaCircuit<F>>(
        vk: &OnceLock<SupernovaVk<C>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match vk.get() {
            Some(vk) => vk.serialize(s),
            None => Err(serde::ser::Error::custom(
                "the verifier key is parked on disk and cannot be encoded",
            )),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>, C: SupernovaCircuit<F>>(
        d: D,
    ) -> Result<OnceLock<SupernovaVk<C>>, D::Error> {
        Ok(OnceLock::from(SupernovaVk::<C>::deserialize(d)?))
    }
}

impl<C: SupernovaCircuit<F>> SupernovaKeySet<C> {
    /// Parameters and compression keys for the circuits of `program` (slow).
    pub fn generate(program: &impl NonUniformCircuit<E1, E2, C, Sc2>) -> Result<Self, Error> {
        let pp = SupernovaParams::<C>::setup(program, &*Sb1::ck_floor(), &*S2::ck_floor());
        let (pk, vk) =
            SupernovaCompressed::<C>::setup(&pp).map_err(|e| Error::Internal(format!("{e:?}")))?;
        Ok(Self::from_parts(pp, Some(pk), vk))
    }

    /// Keys from their parts (the verifier key held in memory).
    pub fn from_parts(
        pp: SupernovaParams<C>,
        pk: Option<SupernovaPk<C>>,
        vk: SupernovaVk<C>,
    ) -> Self {
        SupernovaKeySet {
            pp,
            pk,
            vk: std::sync::OnceLock::from(vk),
            parked: None,
        }
    }

    /// The verifier key, if it is in memory (`None` while parked: [`Self::unpark_vk`] brings it
    /// back).
    pub fn vk(&self) -> Option<&SupernovaVk<C>> {
        self.vk.get()
    }

    /// Move the verifier key out of memory into the cache's verifier-key file (the file
    /// verifiers read), keeping only its digest (`digests.vk`, which the caller has checked). A
    /// prover needs the key only to check its proof before writing it ([`Self::unpark_vk`]),
    /// and the key holds a padded copy of every circuit, which otherwise sits beside the
    /// parameters' own copy and compression's working copy. The file is written only if it
    /// does not already hold this key. Without a cache directory, for an uncached entry, or if
    /// the file cannot be written, the key stays in memory; returns whether it was parked.
    pub fn park_vk(&mut self, opts: &KeyOptions, entry: &CacheEntry, digests: &KeyDigests) -> bool {
        let Some(dir) = opts.cache_dir.as_deref().filter(|_| !entry.tag.is_empty()) else {
            return false;
        };
        let Some(vk) = self.vk.get() else {
            return self.parked.is_some();
        };
        let open = || crate::cache::open_verifier_key(dir, entry);
        let file = match open() {
            Ok(Some((f, d))) if d == digests.vk => f,
            _ => {
                // absent, corrupt or another key: write this one, then hold the new file
                let written =
                    crate::cache::store_verifier_key(dir, entry, vk).and_then(|()| match open()? {
                        Some((f, d)) if d == digests.vk => Ok(f),
                        _ => Err("the written verifier key does not read back".into()),
                    });
                match written {
                    Ok(f) => f,
                    Err(e) => {
                        tracing::warn!("keeping the verifier key in memory: {e}");
                        return false;
                    }
                }
            }
        };
        self.parked = Some(ParkedVk {
            file: std::sync::Mutex::new(file),
            path: crate::cache::verifier_key_path(dir, entry),
            entry: entry.clone(),
            digest: digests.vk,
        });
        drop(self.vk.take());
        true
    }

    /// Read a parked verifier key back (a no-op when it is in memory): the file must decode
    /// and its encoding hash to the digest the key had when it was parked.
    pub fn unpark_vk(&self) -> Result<&SupernovaVk<C>, Error> {
        if let Some(vk) = self.vk.get() {
            return Ok(vk);
        }
        let p = self
            .parked
            .as_ref()
            .ok_or_else(|| Error::Internal("these keys have no verifier key".into()))?;
        // one reader at a time (the handle's offset is shared); a second caller finds the key
        // read back once it holds the lock
        let file = p
            .file
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(vk) = self.vk.get() {
            return Ok(vk);
        }
        let vk =
            crate::cache::verifier_key_from::<SupernovaVk<C>>(&file, &p.path, &p.entry, &p.digest)
                .map_err(|why| {
                    Error::Internal(format!(
                        "the verifier key parked while proving does not read back ({why})"
                    ))
                })?;
        Ok(self.vk.get_or_init(|| vk))
    }

    /// Whether these keys can prove (else they only verify).
    pub fn can_prove(&self) -> bool {
        self.pk.is_some()
    }

    /// Digests of the parameters and of the verifier key.
    pub fn digests(&self) -> KeyDigests {
        match (self.vk.get(), &self.parked) {
            (Some(vk), _) => key_digests(|| f_to_bytes(&self.pp.digest()), vk),
            (None, Some(p)) => KeyDigests {
                params: f_to_bytes(&self.pp.digest()),
                vk: p.digest,
            },
            (None, None) => unreachable!("the verifier key leaves memory only when parked"),
        }
    }

    /// Keys for the circuits of `program`, from the cache `entry` when they can be vouched for.
    pub fn load<P: NonUniformCircuit<E1, E2, C, Sc2>>(
        entry: &CacheEntry,
        opts: &KeyOptions,
        program: impl FnOnce() -> P,
    ) -> Result<(Self, KeySource, KeyDigests), Error> {
        cached(entry, opts, Self::digests, || Self::generate(&program()))
    }

    /// Keys that verify only, when the cache has this entry's verifier key and the verifier
    /// trusts digests for it (pinned in `opts`, else the built-in table): the key's bytes must
    /// hash to the trusted vk digest, and the parameters are [`verifier_params`] with the
    /// trusted params digest, so neither the circuits nor the commitment keys are loaded.
    /// Otherwise the full keys ([`SupernovaKeySet::load`]), whose verifier key is then written
    /// to the cache for the next verifier. `arities` are the primary circuits' arities.
    pub fn load_verifier<P: NonUniformCircuit<E1, E2, C, Sc2>>(
        entry: &CacheEntry,
        opts: &KeyOptions,
        arities: &[usize],
        program: impl FnOnce() -> P,
    ) -> Result<(Self, KeySource, KeyDigests), Error> {
        let (trusted, source) = match opts.pinned {
            Some(d) => (Some(d), KeySource::CachePinned),
            None => (
                crate::cache::known_digests(&entry.name),
                KeySource::CacheKnown,
            ),
        };
        let dir = opts.cache_dir.as_deref().filter(|_| !entry.tag.is_empty());
        let (Some(dir), Some(want)) = (dir, trusted) else {
            return Self::load(entry, opts, program);
        };
        // a key that matched but could not be used is not rewritten on every run
        let mut hash_matched = false;
        // with no key cached, straight to the full keys (no parameters built for nothing)
        if crate::cache::verifier_key_path(dir, entry).is_file() {
            // the key decoded as it is read (its SHA3 checked against the trusted digest) while the
            // parameters are built on a second thread
            let (vk, pp) = std::thread::scope(|s| {
                let pp = std::thread::Builder::new()
                    .spawn_scoped(s, || verifier_params::<C>(arities, want.params))
                    .ok();
                let vk =
                    crate::cache::load_verifier_key_checked::<SupernovaVk<C>>(dir, entry, &want.vk);
                let pp = match pp {
                    Some(p) => p.join().map_err(|_| ()),
                    // no second thread (a process limit): one after the other
                    None => Ok(verifier_params::<C>(arities, want.params)),
                };
                (vk, pp)
            });
            match (vk, pp) {
                (Ok(Some(vk)), Ok(Ok(pp))) => {
                    return Ok((Self::from_parts(pp, None, vk), source, want));
                }
                (Ok(Some(_)), Ok(Err(e))) => {
                    hash_matched = true;
                    tracing::warn!(
                        "{}: verifier-only parameters unavailable ({e}); loading the full keys",
                        entry.name
                    )
                }
                (Ok(Some(_)), Err(())) => {
                    hash_matched = true;
                    tracing::warn!(
                        "{}: verifier-only parameters unavailable; loading the full keys",
                        entry.name
                    )
                }
                (Ok(None), _) => {}
                (Err(e), _) => tracing::warn!(
                    "unusable verifier key in the cache ({e}); loading the full keys"
                ),
            }
        }
        let (keys, source, digests) = Self::load(entry, opts, program)?;
        // written when absent or not the trusted one (a key that matched but could not be used
        // is not rewritten on every run)
        if digests == want && !hash_matched {
            let stored = match keys.vk() {
                Some(vk) => crate::cache::store_verifier_key(dir, entry, vk),
                None => Ok(()),
            };
            if let Err(e) = stored {
                tracing::warn!("could not cache the verifier key: {e}");
            }
        }
        Ok((keys, source, digests))
    }

    /// Constraints of each primary circuit, folding verifier included.
    pub fn primary_constraints(&self) -> Vec<usize> {
        self.pp
            .primary_r1cs_shapes()
            .iter()
            .map(|s| r1cs_num_cons(s))
            .collect()
    }

    /// Constraints of the secondary circuit (SuperNova's verifier on the other curve).
    pub fn secondary_constraints(&self) -> usize {
        supernova_secondary_constraints(&self.pp)
    }

    /// Compress a folded proof with batched Spartan. arecibo indexes into the folded proof: a
    /// malformed one (a crafted checkpoint's) is an error, not a panic.
    pub fn compress(&self, folded: &SupernovaRecursive) -> Result<SupernovaCompressed<C>, Error> {
        let pk = self.pk.as_ref().ok_or_else(|| {
            Error::Usage("these keys were loaded to verify only: they cannot prove".into())
        })?;
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            SupernovaCompressed::<C>::prove(&self.pp, pk, folded)
        }))
        .map_err(|_| Error::Internal("compression failed: the folded proof is malformed".into()))?
        .map_err(|e| Error::Internal(format!("{e:?}")))
    }

    /// Verify a compressed proof from `z0`; the final state it reaches. arecibo's verifier
    /// indexes and asserts on proof content (the program counter) before its hash checks: a
    /// malformed proof is an invalid proof, never a panic of the caller.
    /// A parked verifier key is read back first; failing to is the key's fault, not the
    /// proof's ([`VerifyError::KeyUnavailable`], exit 70).
    pub fn verify(&self, snark: &SupernovaCompressed<C>, z0: &[F]) -> Result<Vec<F>, VerifyError> {
        let vk = self
            .unpark_vk()
            .map_err(|e| VerifyError::KeyUnavailable(e.to_string()))?;
        let (zn, _) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            snark.verify(&self.pp, vk, z0, &[<F2 as ff::Field>::ZERO])
        }))
        .map_err(|_| VerifyError::Snark("malformed SNARK".into()))?
        .map_err(|e| VerifyError::Snark(format!("{e:?}")))?;
        Ok(zn)
    }
}
