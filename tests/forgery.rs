//! The forgery matrix: every attack row runs against every backend (nova, nova-offline,
//! supernova, halo2, stream) and each cell asserts the rejection *and its reason* — the named
//! constraint a forged witness breaks, or the exit class and message of the verifier.
//!
//! Witness rows are a forging prover: it bypasses the native checker, builds the step circuits
//! (or Halo2 rows) with the tampered value and synthesizes them. Proof rows take a real
//! compressed proof file of the honest trace and tamper with it, or verify it against the
//! wrong parameters or trace. Each backend's part is one [`Forger`]; the rows that need no
//! backend-specific code run the same for all. A cell that does not apply to a backend says
//! why, and the set of such cells is itself asserted, so nothing is skipped silently.

mod common;

use bellpepper_core::test_cs::TestConstraintSystem;
use common::{items, ops, reason, rejected, WORD_BITS};
use ff::{Field, PrimeField};
use foldmem::backend::{CacheEntry, KeyOptions, KeySource};
use foldmem::backends::halo2::{self, Halo2Shape, MemCircuit};
use foldmem::backends::merkle::{MerkleShape, MerkleStep};
use foldmem::backends::offline::{self, OfflineShape, OfflineStep};
use foldmem::backends::stream::{self as st, Step, StreamCircuit, StreamShape};
use foldmem::backends::supernova::{OpCircuit, Opcode, SupernovaShape, SupernovaWitness};
use foldmem::gadgets::alloc_state;
use foldmem::hash::{trace_hash_seed, trace_hash_step_op};
use foldmem::pipeline::{self, Keys};
use foldmem::proof::{Pin, ProofFile};
use foldmem::registry::{AnyShape, Body, Shape};
use foldmem::trace::{Op, TraceReader};
use foldmem::tree::memory::{MemoryState, OpWitness};
use foldmem::tree::TreeParams;
use foldmem::{Word, F};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Backend {
    Nova,
    Offline,
    SuperNova,
    Halo2,
    Stream,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Row {
    WrongRead,
    UnwrittenRead,
    WrongSiblingOrPrevTuple,
    AddrOutOfRange,
    TamperedInitialState,
    TamperedFinalRoot,
    TamperedOpCount,
    TamperedTraceHash,
    DroppedStep,
    ReplayedStep,
    OtherParams,
    FlippedHeaderByte,
    FlippedOutputsByte,
    FlippedSnarkByte,
    Truncated,
    OtherTrace,
    ShapeOutOfRange,
    PinnedOtherKeys,
    SubstitutedCache,
    Halo2DevParamsWithoutFlag,
    LibraryInitialRoot,
    StackDepth64,
}

/// What an attack ended with: one reason per attempt, or why the row does not apply.
enum Cell {
    Rejected(Vec<String>),
    NotApplicable(&'static str),
}

/// Expected outcome of a cell: every attempt's reason contains one of these fragments
/// (`N/A` marks a cell that must report not-applicable).
type Expect = &'static [&'static str];
const NA: Expect = &["N/A"];

/// The matrix: row → expected reasons for [nova, nova-offline, supernova, halo2].
const MATRIX: &[(Row, [Expect; 4])] = &[
    (
        Row::WrongRead,
        [
            &["unsatisfied: step 0: op 1/read value = old leaf"],
            &["unsatisfied: step 0: slot 1/read value = prev value"],
            &["unsatisfied: op 1: read value = old leaf/a=b"],
            &["halo2: Constraint 3 ('read returns last value') in gate 2 ('sorted order')"],
        ],
    ),
    (
        Row::UnwrittenRead,
        [
            &["unsatisfied: step 1: op 0/read value = old leaf"],
            &["unsatisfied: step 1: slot 0/read value = prev value"],
            &["unsatisfied: op 2: read value = old leaf/a=b"],
            &["halo2: Constraint 3 ('read returns last value') in gate 2 ('sorted order')"],
        ],
    ),
    (
        Row::WrongSiblingOrPrevTuple,
        [
            &["unsatisfied: step 0: op 0/old path reaches root/a=b"],
            &["unbalanced: read set != write set"],
            &["unsatisfied: op 0: old path reaches root/a=b"],
            &["halo2: Constraint 0 in gate 4 ('product ends at 1')"],
        ],
    ),
    (
        Row::AddrOutOfRange,
        [
            &[
                "exit 3: op 2: address 0x12c does not fit in 8 address bits",
                "forged witness proves address 0x2c: exit 1: invalid proof: trace hash",
                "exit 3: line 1: address",
            ],
            &[
                "unsatisfied: step 5: slot 0/gap in range",
                "exit 3: line 1: address",
            ],
            &[
                "exit 3: op 2: address 0x12c does not fit in 8 address bits",
                "forged witness proves address 0x2c: exit 1: invalid proof: trace hash",
                "exit 3: line 1: address",
            ],
            &["exit 3: line 1: address"],
        ],
    ),
    (
        Row::TamperedInitialState,
        [
            &["exit 1: invalid proof: initial root is not the empty memory's root"],
            &["unsatisfied: step 4: slot 0/audit value = 0"],
            &["exit 1: invalid proof: initial root is not the empty memory's root"],
            NA,
        ],
    ),
    (
        Row::TamperedFinalRoot,
        [
            &["exit 1: invalid proof: proof verifies but its final state differs from the claimed final root"],
            &["exit 1: invalid proof: proof verifies but its final state differs from the claimed final state"],
            &["exit 1: invalid proof: proof verifies but its final state differs from the claimed final root"],
            NA,
        ],
    ),
    (
        Row::TamperedOpCount,
        [
            &["exit 1: invalid proof: proof verifies but its final state differs from the claimed op count"],
            &["exit 1: invalid proof: proof verifies but its final state differs from the claimed final state"],
            &["exit 1: invalid proof: proof verifies but its final state differs from the claimed op count"],
            &["exit 1: invalid proof: trace has 8 ops, proof covers 9"],
        ],
    ),
    (
        Row::TamperedTraceHash,
        [
            &["exit 1: invalid proof: proof verifies but its final state differs from the claimed trace hash"],
            &["exit 1: invalid proof: proof does not verify against the claimed public outputs"],
            &["exit 1: invalid proof: proof verifies but its final state differs from the claimed trace hash"],
            NA,
        ],
    ),
    (
        Row::DroppedStep,
        [
            &["exit 1: invalid proof: proof does not verify against the claimed public outputs"],
            &["exit 1: invalid proof: proof does not verify against the claimed public outputs"],
            &["exit 1: invalid proof: proof verifies but its final state differs from the claimed op count"],
            &["exit 1: invalid proof: halo2: ConstraintSystemFailure"],
        ],
    ),
    (
        Row::ReplayedStep,
        [
            &["unsatisfied: step 2: op 0/old path reaches root/a=b"],
            &["replayed: trace chain differs, read set != write set"],
            &["unsatisfied: op 4: old path reaches root/a=b"],
            &["halo2: Constraint 2 ('difference in range') in gate 2 ('sorted order'); Constraint 0 in gate 4 ('product ends at 1')"],
        ],
    ),
    (
        Row::OtherParams,
        [
            &[
                "exit 7: parameter mismatch: proof is for",
                "exit 1: invalid proof: proof does not verify against the claimed public outputs",
            ],
            &[
                "exit 7: parameter mismatch: proof is for",
                "exit 1: invalid proof: proof does not verify against the claimed public outputs",
            ],
            &[
                "exit 7: parameter mismatch: proof is for",
                "exit 1: invalid proof: proof does not verify against the claimed public outputs",
            ],
            &[
                "exit 7: parameter mismatch: proof is for",
                "exit 1: invalid proof: halo2: ConstraintSystemFailure",
            ],
        ],
    ),
    (
        Row::FlippedHeaderByte,
        [HEADER, HEADER, HEADER, HEADER],
    ),
    (Row::FlippedOutputsByte, [OUTPUTS, OUTPUTS, OUTPUTS, OUTPUTS]),
    (Row::FlippedSnarkByte, [BODY, BODY, BODY, BODY]),
    (Row::Truncated, [TRUNC, TRUNC, TRUNC, TRUNC]),
    (
        Row::OtherTrace,
        [
            &["exit 1: invalid proof: trace hash of the given trace differs from the proof's"],
            &["exit 1: invalid proof: trace hash of the given trace differs from the proof's"],
            &["exit 1: invalid proof: trace hash of the given trace differs from the proof's"],
            &["exit 1: invalid proof: halo2: ConstraintSystemFailure"],
        ],
    ),
    (
        Row::ShapeOutOfRange,
        [
            &[
                "exit 5: proof header names an unsupported shape: addr_bits: must be in 1..=64, got 65",
                "exit 5: proof header names an unsupported shape: arity: must be one of 2, 4, 8, 16, got 3",
                "exit 5: proof header names an unsupported shape: ops_per_step: must be in 1..=16, got 4097",
                "synthesis refused: Unsatisfiable",
            ],
            &[
                "exit 5: proof header names an unsupported shape: ops_per_step: must be in 1..=2048, got 0",
                "exit 5: proof header names an unsupported shape: ops_per_step: must be in 1..=2048, got 4097",
                "synthesis refused: Unsatisfiable",
            ],
            &[
                "exit 5: proof header names an unsupported shape: addr_bits: must be in 1..=64, got 65",
                "exit 5: proof header names an unsupported shape: stack_base: the stack",
                "synthesis refused: Unsatisfiable",
            ],
            &["exit 5: proof header names an unsupported shape: rows_log2: halo2 domain 2^30 out of range"],
        ],
    ),
    (Row::PinnedOtherKeys, [PINNED, PINNED, PINNED, PINNED]),
    (
        Row::SubstitutedCache,
        [SUBSTITUTED, SUBSTITUTED, SUBSTITUTED, NA],
    ),
    (
        Row::Halo2DevParamsWithoutFlag,
        [
            NA,
            NA,
            NA,
            &[
                "exit 2: the halo2 backend needs KZG parameters: --params FILE (a ceremony's) or --insecure-dev-params",
                "explicit dev parameters are stated: params: insecure-dev (anyone can forge)",
            ],
        ],
    ),
    (
        Row::LibraryInitialRoot,
        [
            &["library verifier: initial root is not the empty memory's root"],
            NA,
            &["library verifier: initial root is not the empty memory's root"],
            NA,
        ],
    ),
    (
        Row::StackDepth64,
        [
            NA,
            NA,
            &[
                "exit 5: proof header names an unsupported shape: stack_log_depth: must be at most 63, got 64",
                "synthesis refused: Unsatisfiable",
                "prover refuses: line 1: invalid stack shape",
            ],
            NA,
        ],
    ),
];

/// The `stream` column of the matrix: row → expected reasons.
const STREAM: &[(Row, Expect)] = &[
    (Row::WrongRead, &["unsatisfied: step 0: slot 1/read value = prev value"]),
    (Row::UnwrittenRead, &["unsatisfied: step 1: slot 0/read value = prev value"]),
    (Row::WrongSiblingOrPrevTuple, &["unsatisfied: step 2: RS = WS"]),
    (
        Row::AddrOutOfRange,
        &["exit 3: line 1: address", "/address order"],
    ),
    (
        Row::TamperedInitialState,
        &["exit 1: invalid proof: the claim is not an accepted statement: start state"],
    ),
    (
        Row::TamperedFinalRoot,
        &["exit 1: invalid proof: the claim is not an accepted statement: multiset hash (G is not back at S)"],
    ),
    (
        Row::TamperedOpCount,
        &["exit 1: invalid proof: proof verifies but its final state differs from the claimed final state"],
    ),
    (
        Row::TamperedTraceHash,
        &["exit 1: invalid proof: proof verifies but its final state differs from the claimed final state"],
    ),
    (
        Row::DroppedStep,
        &["exit 1: invalid proof: proof verifies but its final state differs from the claimed final state"],
    ),
    (
        Row::ReplayedStep,
        &["replayed: trace chain differs", ": RS = WS", "/gap in range"],
    ),
    (
        Row::OtherParams,
        &[
            "exit 7: parameter mismatch: proof is for",
            "exit 1: invalid proof: proof does not verify against the claimed public outputs",
        ],
    ),
    (Row::FlippedHeaderByte, HEADER),
    (Row::FlippedOutputsByte, OUTPUTS),
    (Row::FlippedSnarkByte, BODY),
    (Row::Truncated, TRUNC),
    (
        Row::OtherTrace,
        &["exit 1: invalid proof: trace hash of the given trace differs from the proof's"],
    ),
    (
        Row::ShapeOutOfRange,
        &[
            "exit 5: proof header names an unsupported shape: ops_per_step: must be in 1..=2048, got 0",
            "exit 5: proof header names an unsupported shape: boundary_slots: must be in 1..=512, got 0",
            "exit 5: proof header names an unsupported shape: time_bits: must be in 16..=40, got 64",
            "synthesis refused: Unsatisfiable",
        ],
    ),
    (Row::PinnedOtherKeys, PINNED),
    (Row::SubstitutedCache, SUBSTITUTED),
    (Row::Halo2DevParamsWithoutFlag, NA),
    (
        Row::LibraryInitialRoot,
        &["library verifier: the claim is not an accepted statement: start state"],
    ),
    (Row::StackDepth64, NA),
];

/// What a cell of the matrix expects.
fn expected(row: Row, b: Backend) -> Expect {
    match b {
        Backend::Stream => {
            STREAM
                .iter()
                .find(|(r, _)| *r == row)
                .expect("every row has a stream cell")
                .1
        }
        _ => {
            MATRIX
                .iter()
                .find(|(r, _)| *r == row)
                .expect("row in the matrix")
                .1[b as usize]
        }
    }
}

const HEADER: Expect = &[
    "exit 5: not a foldmem proof file (bad magic)",
    "exit 5: proof header names an unsupported shape",
    "exit 5: unsupported proof format version",
    "exit 5: corrupt proof file",
    "exit 7: parameter mismatch",
];
const OUTPUTS: Expect = &["exit 1: invalid proof", "exit 5: corrupt proof file"];
const PINNED: Expect = &[
    "exit 7: parameter mismatch: proof is for",
    "exit 1: invalid proof: proof does not verify against the claimed public outputs",
    "exit 1: invalid proof: halo2: ConstraintSystemFailure",
];
const SUBSTITUTED: Expect = &[
    "substituted cache not used: pinned keys regenerated",
    "substituted cache not read: nothing vouches for it",
];
const BODY: Expect = &["exit 1: invalid proof", "exit 5: corrupt proof file"];
const TRUNC: Expect = &[
    "exit 5: corrupt proof file",
    "exit 5: not a foldmem proof file",
];

/// Cells that do not apply, with the reason each gives (asserted, so none is skipped silently).
const NOT_APPLICABLE: &[(Row, Backend, &str)] = &[
    (
        Row::SubstitutedCache,
        Backend::Halo2,
        "no parameter cache: the KZG parameters come from --params or the explicit dev flag",
    ),
    (
        Row::Halo2DevParamsWithoutFlag,
        Backend::Nova,
        "no KZG parameters (transparent IPA commitments)",
    ),
    (
        Row::Halo2DevParamsWithoutFlag,
        Backend::Offline,
        "no KZG parameters (transparent IPA commitments)",
    ),
    (
        Row::Halo2DevParamsWithoutFlag,
        Backend::SuperNova,
        "no KZG parameters (transparent IPA commitments)",
    ),
    (
        Row::LibraryInitialRoot,
        Backend::Offline,
        "no initial root: the initial memory is the audit's in-circuit (a, 0, 0) tuples (TamperedInitialState row)",
    ),
    (
        Row::LibraryInitialRoot,
        Backend::Halo2,
        "no initial commitment: the all-zero memory is the first-access rule",
    ),
    (
        Row::Halo2DevParamsWithoutFlag,
        Backend::Stream,
        "no KZG parameters (transparent IPA commitments)",
    ),
    (Row::StackDepth64, Backend::Stream, "no stack in the shape"),
    (Row::StackDepth64, Backend::Nova, "no stack in the shape"),
    (Row::StackDepth64, Backend::Offline, "no stack in the shape"),
    (Row::StackDepth64, Backend::Halo2, "no stack in the shape"),
    (
        Row::TamperedInitialState,
        Backend::Halo2,
        "no initial commitment: the all-zero initial memory is the first-access rule (WrongRead/UnwrittenRead rows)",
    ),
    (
        Row::TamperedFinalRoot,
        Backend::Halo2,
        "no final commitment: the whole trace is the public input (OtherTrace row)",
    ),
    (
        Row::TamperedTraceHash,
        Backend::Halo2,
        "no trace hash: the whole trace is the public input (OtherTrace row)",
    ),
];

// ---- the fixture every cell starts from ----

/// Keys, the honest proof of [`ops`] and its bytes, for one backend.
struct Fixture {
    b: Backend,
    keys: &'static Keys,
    honest: ProofFile,
    bytes: Vec<u8>,
}

fn prove(keys: &Keys, ops: &[Op]) -> ProofFile {
    pipeline::prove_stream(keys, WORD_BITS, items(ops), |_| {})
        .unwrap()
        .0
}

fn verify(fx: &Fixture, file: &ProofFile, trace: &[Op]) -> Result<(), String> {
    pipeline::verify_proof(fx.keys, file, Some(items(trace))).map_err(reason)
}

fn verify_bytes(fx: &Fixture, bytes: &[u8]) -> Result<(), String> {
    let f = ProofFile::from_bytes(bytes).map_err(|e| reason(e.into()))?;
    verify(fx, &f, &ops())
}

/// The honest proof's bytes with its header naming `shape` (any shape, as an attacker's own
/// encoder would write it).
fn with_header_shape(fx: &Fixture, shape: AnyShape) -> Vec<u8> {
    use bincode::Options;
    let h = &fx.honest.header;
    bincode::DefaultOptions::new()
        .with_fixint_encoding()
        .serialize(&(
            h.magic,
            h.version,
            h.backend,
            shape,
            h.params_digest,
            &fx.honest.body,
        ))
        .unwrap()
}

/// A header naming `shape` must be refused before anything is set up for it.
fn header_refused(fx: &Fixture, shape: AnyShape) -> String {
    rejected(
        verify_bytes(fx, &with_header_shape(fx, shape)),
        "out-of-range header",
    )
}

/// A circuit over an input state of width `arity` must refuse to synthesize.
fn synth_refused(
    arity: usize,
    synth: impl FnOnce(
        &mut TestConstraintSystem<F>,
        &[bellpepper_core::num::AllocatedNum<F>],
    ) -> Result<(), bellpepper_core::SynthesisError>,
) -> String {
    let mut cs = TestConstraintSystem::<F>::new();
    let z = alloc_state(&mut cs, &vec![F::ZERO; arity]).unwrap();
    match synth(&mut cs, &z) {
        Ok(()) => "synthesized an unsupported shape".into(),
        Err(e) => format!("synthesis refused: {e:?}"),
    }
}

fn tree(addr_bits: u32) -> TreeParams {
    TreeParams::new(addr_bits, 4).unwrap()
}

/// Witness edit: op `i` claims its value + 1.
fn forged_value(i: usize) -> impl FnMut(usize, &mut OpWitness) {
    move |j, w| {
        if j == i {
            w.value += F::ONE;
        }
    }
}

/// Which part of a claim an attack edits.
#[derive(Clone, Copy)]
enum Part {
    /// The final memory (root, balanced fingerprint, multiset-hash point).
    Final,
    /// The op count.
    OpCount,
    /// The trace hash.
    TraceHash,
}

/// One backend's side of the matrix: its shapes, a forging prover that builds its circuits
/// from honest witnesses with one tampered value, and where its claim keeps each part of the
/// statement. Methods of rows a backend does not take are never called (`NOT_APPLICABLE`).
trait Forger {
    /// The backend.
    const B: Backend;
    /// The matrix's shape, or (`other`) a second one for the parameter rows.
    fn shape(other: bool) -> AnyShape;
    /// Op `i` of [`ops`] (a read) claims its value + 1.
    fn forged_read(i: usize) -> Result<(), String>;
    /// A Merkle sibling, or a previous tuple and its value changed together.
    fn wrong_sibling_or_prev_tuple() -> Result<(), String>;
    /// Beyond the unparsable 2^64 trace line: an address outside the backend's range.
    fn addr_out_of_range(fx: &Fixture) -> Vec<String>;
    /// Another initial memory than the verifier's.
    fn tampered_initial_state(fx: &Fixture) -> Result<(), String>;
    /// Edit `part` of the claim in `body`.
    fn tamper(body: &mut Body, part: Part);
    /// The SNARK of `from` under the claim of `into`.
    fn swap_snark(into: &mut Body, from: Body);
    /// One step (op, for one-op steps) folded a second time right after itself.
    fn replayed_step() -> Result<(), String>;
    /// Headers (and a circuit) with shapes outside the supported range.
    fn shape_out_of_range(fx: &Fixture) -> Vec<String>;
    /// A claim moved onto `other` keys: what makes it meet their SNARK.
    fn retarget(body: &mut Body, other: &Shape) {
        let _ = (body, other);
    }
    /// The `other` shape's genuine keys, encoded as the cache file of `entry`.
    fn cache_file(entry: &CacheEntry, other: &Keys) -> Vec<u8>;
    /// The library verifier (not the pipeline) given a claim with another initial memory.
    fn library_initial_root(fx: &Fixture) -> Result<(), String>;
    /// A stack of 2^64 words.
    fn stack_depth_64(fx: &Fixture) -> Vec<String> {
        let _ = fx;
        unreachable!("not applicable")
    }
}

// ---- Merkle (nova) ----

struct MerkleForger;

fn merkle_shape() -> MerkleShape {
    MerkleShape {
        tree: tree(8),
        ops_per_step: 2,
    }
}

/// Merkle steps of `ops` (k = 2) with the state before each step; `tamper` edits op `i`'s witness.
fn nova_steps(
    ops: &[Op],
    mut tamper: impl FnMut(usize, &mut OpWitness),
) -> Vec<(MerkleStep, [F; 3])> {
    let p = merkle_shape();
    let mut st = MemoryState::new(p.tree, WORD_BITS);
    ops.chunks(p.ops_per_step)
        .enumerate()
        .map(|(s, chunk)| {
            let z = st.z();
            let mut ws: Vec<OpWitness> = chunk
                .iter()
                .enumerate()
                .map(|(j, op)| {
                    let i = s * p.ops_per_step + j;
                    let mut w = st.apply(i + 1, op).unwrap();
                    tamper(i, &mut w);
                    w
                })
                .collect();
            while ws.len() < p.ops_per_step {
                ws.push(st.padding());
            }
            (MerkleStep { params: p, ops: ws }, z)
        })
        .collect()
}

/// First unsatisfied constraint over a sequence of Merkle steps, each from its own input state.
fn merkle_cell(steps: Vec<(MerkleStep, [F; 3])>) -> Result<(), String> {
    use arecibo::traits::circuit::StepCircuit;
    for (i, (c, z)) in steps.into_iter().enumerate() {
        let mut cs = TestConstraintSystem::<F>::new();
        let zs = alloc_state(&mut cs, &z).unwrap();
        c.synthesize(&mut cs, &zs).unwrap();
        if let Some(name) = cs.which_is_unsatisfied() {
            return Err(format!("unsatisfied: step {i}: {name}"));
        }
    }
    Ok(())
}

fn wrong_sibling(i: usize, w: &mut OpWitness) {
    if i == 0 {
        w.before.siblings[0][1] += F::ONE;
    }
}

/// The honest prover refuses an address outside the 2^8 tree, and a forging prover can only
/// feed 8 address bits to the circuit, so its proof is of address 300 mod 256, which the trace
/// with 300 rejects (both tree backends).
fn tree_addr_out_of_range(fx: &Fixture) -> Vec<String> {
    let mut o = ops();
    o[1] = Op::read(300, 0u64);
    let mut forged = ops();
    forged[1] = Op::read(300 - 256, 0u64);
    let f = prove(fx.keys, &forged);
    vec![
        rejected(
            pipeline::prove_stream(fx.keys, WORD_BITS, items(&o), |_| {})
                .map(|_| ())
                .map_err(reason),
            "address 300",
        ),
        format!(
            "forged witness proves address 0x2c: {}",
            rejected(verify(fx, &f, &o), "address 300 mod 256")
        ),
    ]
}

/// A tree shape's root of the empty memory, as a claim moved onto it must start from.
fn empty_root_of(shape: &Shape) -> Option<F> {
    match shape.get() {
        AnyShape::Merkle(p) => Some(MemoryState::new(p.tree, WORD_BITS).z()[0]),
        AnyShape::Supernova(p) => Some(MemoryState::new(p.tree, WORD_BITS).z()[0]),
        _ => None,
    }
}

impl Forger for MerkleForger {
    const B: Backend = Backend::Nova;
    fn shape(other: bool) -> AnyShape {
        MerkleShape {
            tree: tree(if other { 10 } else { 8 }),
            ops_per_step: 2,
        }
        .into()
    }
    fn forged_read(i: usize) -> Result<(), String> {
        merkle_cell(nova_steps(&ops(), forged_value(i)))
    }
    fn wrong_sibling_or_prev_tuple() -> Result<(), String> {
        merkle_cell(nova_steps(&ops(), wrong_sibling))
    }
    fn addr_out_of_range(fx: &Fixture) -> Vec<String> {
        tree_addr_out_of_range(fx)
    }
    fn tampered_initial_state(fx: &Fixture) -> Result<(), String> {
        let mut f = fx.honest.clone();
        let Body::Merkle(p) = &mut f.body else {
            unreachable!()
        };
        p.outputs.initial_root += F::ONE;
        verify(fx, &f, &ops())
    }
    fn tamper(body: &mut Body, part: Part) {
        let Body::Merkle(p) = body else {
            unreachable!()
        };
        match part {
            Part::Final => p.outputs.final_root += F::ONE,
            Part::OpCount => p.outputs.op_count -= 1,
            Part::TraceHash => p.outputs.trace_hash += F::ONE,
        }
    }
    fn swap_snark(into: &mut Body, from: Body) {
        let (Body::Merkle(a), Body::Merkle(b)) = (into, from) else {
            unreachable!()
        };
        a.snark = b.snark;
    }
    fn replayed_step() -> Result<(), String> {
        let mut steps = nova_steps(&ops(), |_, _| {});
        let (replay, _) = steps[1].clone();
        let z_after = steps[2].1;
        steps.insert(2, (replay, z_after));
        merkle_cell(steps)
    }
    fn shape_out_of_range(fx: &Fixture) -> Vec<String> {
        // the forging prover's proof from before the fix (it verified then)
        let fixture = include_bytes!("fixtures/forged-addr-bits-65.proof");
        let mut reasons = vec![rejected(
            ProofFile::from_bytes(fixture)
                .map(|_| ())
                .map_err(|e| reason(e.into())),
            "fixture",
        )];
        for (addr_bits, arity, k) in [(65, 4, 2), (8, 3, 2), (8, 4, 4097)] {
            let bad = MerkleShape {
                tree: TreeParams { addr_bits, arity },
                ops_per_step: k,
            };
            reasons.push(header_refused(fx, bad.into()));
        }
        let bad = MerkleShape {
            tree: TreeParams {
                addr_bits: 65,
                arity: 4,
            },
            ops_per_step: 2,
        };
        reasons.push(synth_refused(3, |cs, z| {
            arecibo::traits::circuit::StepCircuit::synthesize(&MerkleStep::blank(bad), cs, z)
                .map(|_| ())
        }));
        reasons
    }
    fn retarget(body: &mut Body, other: &Shape) {
        if let (Body::Merkle(p), Some(root)) = (body, empty_root_of(other)) {
            p.outputs.initial_root = root;
        }
    }
    fn cache_file(entry: &CacheEntry, other: &Keys) -> Vec<u8> {
        let k = other
            .downcast::<foldmem::backends::merkle::MerkleKeys>()
            .unwrap();
        foldmem::cache::encode(entry, &k.keys).unwrap()
    }
    fn library_initial_root(fx: &Fixture) -> Result<(), String> {
        let mut f = fx.honest.clone();
        let Body::Merkle(p) = &mut f.body else {
            unreachable!()
        };
        p.outputs.initial_root += F::ONE;
        let k = fx
            .keys
            .downcast::<foldmem::backends::merkle::MerkleKeys>()
            .unwrap();
        foldmem::backends::merkle::verify_compressed(&k.keys.vk, k.step, &p.snark, &p.outputs)
            .map_err(|e| format!("library verifier: {e}"))
    }
}

// ---- offline (nova-offline) ----

struct OfflineForger;

/// Offline steps and the state chain they run through, from the honest witness of `ops`.
fn offline_steps(ops: &[Op]) -> (Vec<OfflineStep>, Vec<F>) {
    let w = offline::witness(ops, WORD_BITS, 2).unwrap();
    (w.steps, w.outputs.z0())
}

/// Synthesize offline steps in sequence (outputs feed the next step); first unsatisfied
/// constraint, or the final state.
fn offline_run(steps: &[OfflineStep], z0: Vec<F>) -> Result<Vec<F>, String> {
    let mut z = z0;
    for (i, s) in steps.iter().enumerate() {
        let mut cs = TestConstraintSystem::<F>::new();
        let zs = alloc_state(&mut cs, &z).unwrap();
        let out = arecibo::traits::circuit::StepCircuit::synthesize(s, &mut cs, &zs).unwrap();
        if let Some(name) = cs.which_is_unsatisfied() {
            return Err(format!("unsatisfied: step {i}: {name}"));
        }
        z = out.iter().map(|o| o.get_value().unwrap()).collect();
    }
    Ok(z)
}

/// The offline verdict on forged steps: a named constraint, or unbalanced fingerprints.
fn offline_cell(steps: &[OfflineStep], z0: Vec<F>) -> Result<(), String> {
    let zn = offline_run(steps, z0)?;
    if zn[offline::z::RS] != zn[offline::z::WS] {
        return Err("unbalanced: read set != write set".into());
    }
    Ok(())
}

impl Forger for OfflineForger {
    const B: Backend = Backend::Offline;
    fn shape(other: bool) -> AnyShape {
        OfflineShape {
            ops_per_step: if other { 1 } else { 2 },
        }
        .into()
    }
    fn forged_read(i: usize) -> Result<(), String> {
        let (mut s, z0) = offline_steps(&ops());
        s[i / 2].slots[i % 2].value += F::ONE; // k = 2 slots per step
        offline_cell(&s, z0)
    }
    /// Op 1's previous value and value both forged: the read check holds, but its read tuple
    /// matches no write.
    fn wrong_sibling_or_prev_tuple() -> Result<(), String> {
        let (mut s, z0) = offline_steps(&ops());
        s[0].slots[1].value += F::ONE;
        s[0].slots[1].prev_value += F::ONE;
        offline_cell(&s, z0)
    }
    /// A forged op address ≥ 2^64 needs a matching audit address, whose gap from the previous
    /// audited address is range-checked to 64 bits.
    fn addr_out_of_range(_: &Fixture) -> Vec<String> {
        let (mut s, z0) = offline_steps(&ops());
        let big = F::from_u128(1u128 << 64) + F::from(200);
        for sl in s.iter_mut().flat_map(|s| s.slots.iter_mut()) {
            if sl.addr == F::from(200) {
                sl.addr = big;
            }
        }
        vec![rejected(offline_cell(&s, z0), "address 2^64 + 200")]
    }
    /// The initial memory is the audit's initial tuples `(a, 0, 0)`: claim a cell held 1.
    fn tampered_initial_state(_: &Fixture) -> Result<(), String> {
        let (mut s, z0) = offline_steps(&ops());
        let audit = s.iter().position(|s| s.audit).unwrap();
        s[audit].slots[0].value = F::ONE;
        offline_cell(&s, z0)
    }
    fn tamper(body: &mut Body, part: Part) {
        let Body::Offline(p) = body else {
            unreachable!()
        };
        match part {
            // the final memory claim is the balanced fingerprint
            Part::Final => p.outputs.fingerprint += F::ONE,
            Part::OpCount => p.outputs.op_count -= 1,
            Part::TraceHash => p.outputs.trace_hash += F::ONE,
        }
    }
    fn swap_snark(into: &mut Body, from: Body) {
        let (Body::Offline(a), Body::Offline(b)) = (into, from) else {
            unreachable!()
        };
        a.snark = b.snark;
    }
    /// Op steps are all satisfiable from any time, so the replay shows in the trace chain: a
    /// proof of it is a proof of another trace.
    fn replayed_step() -> Result<(), String> {
        let (mut s, z0) = offline_steps(&ops());
        let honest = offline_run(&s, z0.clone()).unwrap();
        let replay = s[1].clone();
        s.insert(2, replay);
        // a careful forger: every later op is 2 time units later, so are its gaps
        for st in s[2..].iter_mut().filter(|st| !st.audit) {
            for sl in st.slots.iter_mut().filter(|sl| sl.enabled) {
                sl.gap += 2;
            }
        }
        offline_run(&s, z0).and_then(|zn| {
            let mut why = Vec::new();
            if zn[offline::z::TRACE] != honest[offline::z::TRACE] {
                why.push("replayed: trace chain differs");
            }
            if zn[offline::z::RS] != zn[offline::z::WS] {
                why.push("read set != write set");
            }
            if why.is_empty() {
                Ok(())
            } else {
                Err(why.join(", "))
            }
        })
    }
    fn shape_out_of_range(fx: &Fixture) -> Vec<String> {
        let mut reasons: Vec<String> = [0, 4097]
            .into_iter()
            .map(|k| header_refused(fx, OfflineShape { ops_per_step: k }.into()))
            .collect();
        reasons.push(synth_refused(offline::z::ARITY, |cs, z| {
            arecibo::traits::circuit::StepCircuit::synthesize(&OfflineStep::blank(0), cs, z)
                .map(|_| ())
        }));
        reasons
    }
    fn cache_file(entry: &CacheEntry, other: &Keys) -> Vec<u8> {
        let k = other
            .downcast::<foldmem::backends::offline::OfflineKeys>()
            .unwrap();
        foldmem::cache::encode(entry, &k.keys).unwrap()
    }
    fn library_initial_root(_: &Fixture) -> Result<(), String> {
        unreachable!("not applicable")
    }
}

// ---- SuperNova ----

struct SupernovaForger;

fn sn_shape(addr_bits: u32) -> SupernovaShape {
    SupernovaShape {
        tree: tree(addr_bits),
        stack_base: 0xf0,
        stack_log_depth: 2,
    }
}

/// SuperNova op circuits of `ops` with the state before each; `tamper` edits op `i`'s witness.
fn sn_circuits(
    ops: &[Op],
    mut tamper: impl FnMut(usize, &mut OpWitness),
) -> Vec<(OpCircuit, Vec<F>)> {
    let s = sn_shape(8);
    let mut st = MemoryState::new(s.tree, WORD_BITS);
    let mut h = trace_hash_seed(WORD_BITS);
    let mut out: Vec<(OpCircuit, Vec<F>)> = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        let z = st.z();
        let z = vec![z[0], z[1], h, F::ZERO];
        let mut w = st.apply(i + 1, op).unwrap();
        h = trace_hash_step_op(h, op.kind.opcode(), op.addr, w.value);
        tamper(i, &mut w);
        let opcode = Opcode::of(op.kind);
        if let Some(last) = out.last_mut() {
            last.0.w.next_pc = opcode as u64;
        }
        let w = SupernovaWitness {
            op: w,
            sp: 0,
            next_pc: 0,
        };
        out.push((
            OpCircuit {
                shape: s,
                opcode,
                w,
            },
            z,
        ));
    }
    out
}

fn sn_cell(circuits: &[(OpCircuit, Vec<F>)]) -> Result<(), String> {
    use arecibo::traits::circuit_supernova::StepCircuit;
    for (i, (c, z)) in circuits.iter().enumerate() {
        let mut cs = TestConstraintSystem::<F>::new();
        let zs = alloc_state(&mut cs, z).unwrap();
        c.synthesize(&mut cs, None, &zs).unwrap();
        if let Some(name) = cs.which_is_unsatisfied() {
            return Err(format!("unsatisfied: op {i}: {name}"));
        }
    }
    Ok(())
}

impl Forger for SupernovaForger {
    const B: Backend = Backend::SuperNova;
    fn shape(other: bool) -> AnyShape {
        sn_shape(if other { 10 } else { 8 }).into()
    }
    fn forged_read(i: usize) -> Result<(), String> {
        sn_cell(&sn_circuits(&ops(), forged_value(i)))
    }
    fn wrong_sibling_or_prev_tuple() -> Result<(), String> {
        sn_cell(&sn_circuits(&ops(), wrong_sibling))
    }
    fn addr_out_of_range(fx: &Fixture) -> Vec<String> {
        tree_addr_out_of_range(fx)
    }
    fn tampered_initial_state(fx: &Fixture) -> Result<(), String> {
        let mut f = fx.honest.clone();
        let Body::Supernova(p) = &mut f.body else {
            unreachable!()
        };
        p.outputs.initial_root += F::ONE;
        verify(fx, &f, &ops())
    }
    fn tamper(body: &mut Body, part: Part) {
        let Body::Supernova(p) = body else {
            unreachable!()
        };
        match part {
            Part::Final => p.outputs.final_root += F::ONE,
            Part::OpCount => p.outputs.op_count -= 1,
            Part::TraceHash => p.outputs.trace_hash += F::ONE,
        }
    }
    fn swap_snark(into: &mut Body, from: Body) {
        let (Body::Supernova(a), Body::Supernova(b)) = (into, from) else {
            unreachable!()
        };
        a.snark = b.snark;
    }
    /// Op 3 writes 200; replayed, its old opening no longer matches the root.
    fn replayed_step() -> Result<(), String> {
        let mut c = sn_circuits(&ops(), |_, _| {});
        let replay = c[3].0.clone();
        let z_after = c[4].1.clone();
        c.insert(4, (replay, z_after));
        sn_cell(&c)
    }
    fn shape_out_of_range(fx: &Fixture) -> Vec<String> {
        let mut deep = sn_shape(8);
        deep.tree.addr_bits = 65;
        let mut past = sn_shape(8);
        past.stack_base = 255; // 255 + 2^2 > 2^8
        let mut bad = sn_shape(8);
        bad.tree.addr_bits = 65;
        vec![
            header_refused(fx, deep.into()),
            header_refused(fx, past.into()),
            synth_refused(4, |cs, z| {
                use arecibo::traits::circuit_supernova::StepCircuit;
                OpCircuit::blank(bad, Opcode::Read)
                    .synthesize(cs, None, z)
                    .map(|_| ())
            }),
        ]
    }
    fn retarget(body: &mut Body, other: &Shape) {
        if let (Body::Supernova(p), Some(root)) = (body, empty_root_of(other)) {
            p.outputs.initial_root = root;
        }
    }
    fn cache_file(entry: &CacheEntry, other: &Keys) -> Vec<u8> {
        let k = other
            .downcast::<foldmem::backends::supernova::SupernovaKeys>()
            .unwrap();
        foldmem::cache::encode(entry, &k.keys).unwrap()
    }
    fn library_initial_root(fx: &Fixture) -> Result<(), String> {
        let mut f = fx.honest.clone();
        let Body::Supernova(p) = &mut f.body else {
            unreachable!()
        };
        p.outputs.initial_root += F::ONE;
        let k = fx
            .keys
            .downcast::<foldmem::backends::supernova::SupernovaKeys>()
            .unwrap();
        foldmem::backends::supernova::verify_compressed(&k.keys, &k.shape, &p.snark, &p.outputs)
            .map_err(|e| format!("library verifier: {e}"))
    }
    fn stack_depth_64(fx: &Fixture) -> Vec<String> {
        let mut bad = sn_shape(8);
        bad.stack_log_depth = 64;
        let header = header_refused(fx, bad.into());
        let synth = synth_refused(4, |cs, z| {
            use arecibo::traits::circuit_supernova::StepCircuit;
            OpCircuit::blank(bad, Opcode::Push)
                .synthesize(cs, None, z)
                .map(|_| ())
        });
        let k = fx
            .keys
            .downcast::<foldmem::backends::supernova::SupernovaKeys>()
            .unwrap();
        let mut p = foldmem::backends::supernova::SupernovaProver::new(&k.keys.pp, bad, WORD_BITS);
        let prover = p
            .push(
                1,
                &Op {
                    kind: foldmem::OpKind::Push,
                    addr: 0xf0,
                    value: Word::from_u64(1),
                },
            )
            .map_err(|e| format!("prover refuses: {e}"));
        vec![header, synth, rejected(prover.map(|_| ()), "depth 64 push")]
    }
}

// ---- Halo2 ----

struct Halo2Forger;

fn halo2_cell(c: &MemCircuit) -> Result<(), String> {
    let k = halo2::domain_k(c.orig.len());
    let prover = halo2_axiom::dev::MockProver::run(k, c, c.instances()).expect("synthesis");
    prover.verify().map_err(|failures| {
        // "Constraint i ('name') in gate j ('name')" of each failure, without cells and rows
        let names: Vec<String> = failures
            .iter()
            .map(|f| {
                let text = f.to_string();
                let first = text.lines().next().unwrap_or_default();
                first
                    .split(" is not satisfied")
                    .next()
                    .unwrap_or(first)
                    .to_string()
            })
            .collect();
        format!("halo2: {}", names.join("; "))
    })
}

fn honest_halo2() -> MemCircuit {
    MemCircuit::new(halo2::rows(&ops()).unwrap())
}

impl Forger for Halo2Forger {
    const B: Backend = Backend::Halo2;
    fn shape(other: bool) -> AnyShape {
        Halo2Shape {
            k: if other { 10 } else { 9 },
        }
        .into()
    }
    fn forged_read(i: usize) -> Result<(), String> {
        let mut o = ops();
        o[i].value = Word::from_u64(o[i].value.to_u64().unwrap() + 1);
        halo2_cell(&MemCircuit::new(halo2::rows(&o).unwrap()))
    }
    /// A sorted tuple changed consistently.
    fn wrong_sibling_or_prev_tuple() -> Result<(), String> {
        let mut c = honest_halo2();
        for r in c.sorted.iter_mut().filter(|r| r.a == 200 && r.t >= 4) {
            r.v += halo2_axiom::halo2curves::bn256::Fr::ONE;
        }
        halo2_cell(&c)
    }
    fn addr_out_of_range(_: &Fixture) -> Vec<String> {
        Vec::new()
    }
    fn tampered_initial_state(_: &Fixture) -> Result<(), String> {
        unreachable!("not applicable")
    }
    fn tamper(body: &mut Body, part: Part) {
        let Body::Halo2(p) = body else { unreachable!() };
        match part {
            // the op count must equal the trace's
            Part::OpCount => p.outputs.op_count += 1,
            Part::Final | Part::TraceHash => unreachable!("not applicable"),
        }
    }
    fn swap_snark(into: &mut Body, from: Body) {
        let (Body::Halo2(a), Body::Halo2(b)) = (into, from) else {
            unreachable!()
        };
        a.proof = b.proof;
    }
    /// A sorted row replayed in place of another.
    fn replayed_step() -> Result<(), String> {
        let mut c = honest_halo2();
        c.sorted[1] = c.sorted[0];
        halo2_cell(&c)
    }
    fn shape_out_of_range(fx: &Fixture) -> Vec<String> {
        vec![header_refused(fx, Halo2Shape { k: 30 }.into())]
    }
    fn cache_file(_: &CacheEntry, _: &Keys) -> Vec<u8> {
        unreachable!("not applicable")
    }
    fn library_initial_root(_: &Fixture) -> Result<(), String> {
        unreachable!("not applicable")
    }
}

// ---- stream ----

struct StreamForger;

fn stream_shape(k: usize) -> StreamShape {
    StreamShape {
        ops_per_step: k,
        boundary_slots: 2,
        time_bits: 16,
    }
}

/// The stream backend's forging prover: honest witnesses of [`ops`] in segments of 4 ops,
/// `edit(segment, steps)` applied, challenges and `G` re-derived from the edits; the last
/// segment's final (audit and fresh) steps edited by `audit_edit`.
fn stream_steps(
    ops: &[Op],
    mut edit: impl FnMut(usize, &mut Vec<Step>),
    audit_edit: impl FnOnce(&mut Vec<Step>),
) -> Vec<Step> {
    let mut n = st::Native::new(stream_shape(2), WORD_BITS);
    let numbered: Vec<(usize, Op)> = items(ops).into_iter().map(|r| r.unwrap()).collect();
    let mut all = Vec::new();
    let chunks: Vec<_> = numbered.chunks(4).collect();
    let mut audit_edit = Some(audit_edit);
    for (j, seg) in chunks.iter().enumerate() {
        if j + 1 < chunks.len() {
            all.extend(n.segment_forged(seg, |s| edit(j, s)));
        } else {
            all.extend(n.last_segment_forged(seg, |s| {
                edit(j, s);
                let at = s.iter().position(Step::is_final).unwrap_or(s.len());
                let mut fin = s.split_off(at);
                if let Some(f) = audit_edit.take() {
                    f(&mut fin);
                }
                s.extend(fin);
            }));
        }
    }
    all
}

/// Synthesize stream steps in sequence from the canonical start: the first unsatisfied
/// constraint, or the final state.
fn stream_run(steps: &[Step]) -> Result<Vec<F>, String> {
    use arecibo::traits::circuit_supernova::StepCircuit;
    let mut z = st::canonical(trace_hash_seed(WORD_BITS), 0);
    for (i, s) in steps.iter().enumerate() {
        let c = StreamCircuit {
            shape: stream_shape(2),
            step: s.clone(),
            next: steps.get(i + 1).map(|n| n.index()).unwrap_or(2),
        };
        let mut cs = TestConstraintSystem::<F>::new();
        let zs = alloc_state(&mut cs, &z).unwrap();
        let (_, out) = c
            .synthesize(&mut cs, None, &zs)
            .map_err(|e| format!("step {i}: synthesis refused: {e:?}"))?;
        if let Some(name) = cs.which_is_unsatisfied() {
            return Err(format!("unsatisfied: step {i}: {name}"));
        }
        z = out.iter().map(|o| o.get_value().unwrap()).collect();
    }
    Ok(z)
}

/// The stream verdict on forged steps: a named constraint, or the final checks.
fn stream_cell(steps: &[Step]) -> Result<(), String> {
    use st::circuit::z;
    let zn = stream_run(steps)?;
    let s = st::base_point();
    if zn[z::OPEN] != F::ZERO {
        return Err("segment left open".into());
    }
    if (zn[z::GX], zn[z::GY]) != (s.x, s.y) {
        return Err("G is not back at S".into());
    }
    Ok(())
}

fn stream_slot(steps: &mut [Step], step: usize, slot: usize) -> &mut st::OpSlot {
    match &mut steps[step] {
        Step::Op { slots, .. } => &mut slots[slot],
        _ => panic!("not an op step"),
    }
}

/// Address 200 as `big` in its op slots and boundary slots.
fn stream_readdress(steps: &mut [Step], big: F) {
    for step in steps.iter_mut() {
        match step {
            Step::Op { slots, .. } => {
                for o in slots.iter_mut().filter(|o| o.addr == F::from(200)) {
                    o.addr = big;
                }
            }
            Step::Boundary { slots, .. } => {
                for b in slots.iter_mut().filter(|b| b.addr == F::from(200)) {
                    *b = st::boundary_slot(big, (b.value_in, b.time_in), (b.value_out, b.time_out));
                }
            }
            Step::Audit { .. } | Step::Fresh { .. } => {}
        }
    }
}

/// Address 200 as `big` in its audit and fresh slots (hashed points re-derived).
fn stream_reaudit(steps: &mut [Step], big: F) {
    for step in steps.iter_mut() {
        match step {
            Step::Audit { slots, .. } => {
                for sl in slots.iter_mut().filter(|sl| sl.addr == F::from(200)) {
                    sl.addr = big;
                    sl.h_init = st::curve::h2c(big, F::ZERO, F::ZERO).0;
                    sl.h_final = st::curve::h2c(big, sl.value, sl.time).0;
                }
            }
            Step::Fresh { slots, .. } => {
                for sl in slots.iter_mut().filter(|sl| sl.addr == F::from(200)) {
                    sl.addr = big;
                }
            }
            _ => {}
        }
    }
}

impl Forger for StreamForger {
    const B: Backend = Backend::Stream;
    fn shape(other: bool) -> AnyShape {
        stream_shape(if other { 1 } else { 2 }).into()
    }
    /// k = 2 slots per step, 4 ops per segment: op i is in step i / 2 of its segment's run.
    fn forged_read(i: usize) -> Result<(), String> {
        stream_cell(&stream_steps(
            &ops(),
            |j, s| {
                if j == i / 4 {
                    stream_slot(s, (i % 4) / 2, i % 2).value += F::ONE;
                }
            },
            |_| {},
        ))
    }
    fn wrong_sibling_or_prev_tuple() -> Result<(), String> {
        stream_cell(&stream_steps(
            &ops(),
            |j, s| {
                if j == 0 {
                    let o = stream_slot(s, 0, 1);
                    o.value += F::ONE;
                    o.prev_value += F::ONE;
                }
            },
            |_| {},
        ))
    }
    /// Address 200 forged as 2^64 + 200 in its ops, boundary slots and audit: the audit's
    /// address order is range-checked to 64 bits.
    fn addr_out_of_range(_: &Fixture) -> Vec<String> {
        let big = F::from_u128(1u128 << 64) + F::from(200);
        let steps = stream_steps(
            &ops(),
            |_, s| stream_readdress(s, big),
            |a| stream_reaudit(a, big),
        );
        vec![rejected(stream_cell(&steps), "address 2^64 + 200")]
    }
    /// A prover-chosen start state: the claim names another start than the seed at 0.
    fn tampered_initial_state(fx: &Fixture) -> Result<(), String> {
        let mut f = fx.honest.clone();
        let Body::Stream(p) = &mut f.body else {
            unreachable!()
        };
        p.outputs.start_time = 1;
        verify(fx, &f, &ops())
    }
    fn tamper(body: &mut Body, part: Part) {
        let Body::Stream(p) = body else {
            unreachable!()
        };
        match part {
            // the final memory claim is the multiset-hash point back at S
            Part::Final => p.outputs.g = -p.outputs.g,
            Part::OpCount => p.outputs.op_count -= 1,
            Part::TraceHash => p.outputs.trace_hash += F::ONE,
        }
    }
    fn swap_snark(into: &mut Body, from: Body) {
        let (Body::Stream(a), Body::Stream(b)) = (into, from) else {
            unreachable!()
        };
        a.snark = b.snark;
    }
    /// Op step 1 of segment 0 folded a second time right after itself.
    fn replayed_step() -> Result<(), String> {
        let replayed = stream_steps(
            &ops(),
            |j, s| {
                if j == 0 {
                    let again = s[1].clone();
                    s.insert(2, again);
                }
            },
            |_| {},
        );
        stream_cell(&replayed).and_then(|_| Err("replayed: trace chain differs".to_string()))
    }
    fn shape_out_of_range(fx: &Fixture) -> Vec<String> {
        let mut reasons: Vec<String> = [(0, 2, 16), (2, 0, 16), (2, 2, 64)]
            .into_iter()
            .map(|(k, m, t)| {
                let bad = StreamShape {
                    ops_per_step: k,
                    boundary_slots: m,
                    time_bits: t,
                };
                header_refused(fx, bad.into())
            })
            .collect();
        reasons.push(synth_refused(st::circuit::z::ARITY, |cs, z| {
            use arecibo::traits::circuit_supernova::StepCircuit;
            StreamCircuit::blank(
                StreamShape {
                    ops_per_step: 0,
                    ..stream_shape(2)
                },
                0,
            )
            .synthesize(cs, None, z)
            .map(|_| ())
        }));
        reasons
    }
    fn cache_file(entry: &CacheEntry, other: &Keys) -> Vec<u8> {
        let k = other.downcast::<st::StreamKeys>().unwrap();
        foldmem::cache::encode(entry, &k.keys).unwrap()
    }
    /// The stream backend's initial memory is fixed by the verifier's start state.
    fn library_initial_root(fx: &Fixture) -> Result<(), String> {
        let mut f = fx.honest.clone();
        let Body::Stream(p) = &mut f.body else {
            unreachable!()
        };
        p.outputs.start_time = 1;
        let k = fx.keys.downcast::<st::StreamKeys>().unwrap();
        st::verify_compressed(k, &p.snark, &p.outputs).map_err(|e| format!("library verifier: {e}"))
    }
}

// ---- the attacks ----

fn attack<Fg: Forger>(fx: &Fixture, row: Row) -> Cell {
    let b = Fg::B;
    if let Some((_, _, why)) = NOT_APPLICABLE
        .iter()
        .find(|(r, bb, _)| *r == row && *bb == b)
    {
        return Cell::NotApplicable(why);
    }
    let one = |r: Result<(), String>| Cell::Rejected(vec![rejected(r, &format!("{row:?}"))]);
    // the honest proof with one part of its claim edited, verified with or without the trace
    let tampered = |part: Part, trace: Option<Vec<Op>>| {
        let mut f = fx.honest.clone();
        Fg::tamper(&mut f.body, part);
        pipeline::verify_proof(fx.keys, &f, trace.map(|t| items(&t))).map_err(reason)
    };
    match row {
        // op 1 reads 3 (written 7) and claims 8
        Row::WrongRead => one(Fg::forged_read(1)),
        // op 2 reads 200, never written, and claims 1
        Row::UnwrittenRead => one(Fg::forged_read(2)),
        Row::WrongSiblingOrPrevTuple => one(Fg::wrong_sibling_or_prev_tuple()),
        Row::AddrOutOfRange => {
            // every backend: a trace line with an address of 2^64 does not parse
            let line = "{\"op\":\"write\",\"addr\":\"0x10000000000000000\",\"value\":1}\n";
            let parsed = TraceReader::new(line.as_bytes(), WORD_BITS)
                .next()
                .unwrap()
                .map(|_| ())
                .map_err(|e| reason(e.into()));
            let mut reasons = vec![rejected(parsed, "address 2^64")];
            reasons.extend(Fg::addr_out_of_range(fx));
            Cell::Rejected(reasons)
        }
        Row::TamperedInitialState => one(Fg::tampered_initial_state(fx)),
        Row::TamperedFinalRoot => one(tampered(Part::Final, Some(ops()))),
        // same number of folding steps where the backend has steps: 8 → 9 would add one for
        // k = 2, so claim 7 there and 9 for halo2 (whose count must equal the trace's); without
        // the trace where it is not the public input, so the claim meets the SNARK
        Row::TamperedOpCount => one(tampered(Part::OpCount, (b == Backend::Halo2).then(ops))),
        Row::TamperedTraceHash => one(tampered(Part::TraceHash, None)),
        // the SNARK of the trace without its last op(s), under the full trace's claim
        Row::DroppedStep => one({
            let all = ops();
            let partial = prove(fx.keys, &all[..all.len() - 2]);
            let mut f = fx.honest.clone();
            Fg::swap_snark(&mut f.body, partial.body);
            verify(fx, &f, &all)
        }),
        Row::ReplayedStep => one(Fg::replayed_step()),
        Row::OtherParams => {
            let other = other_keys::<Fg>();
            let direct = pipeline::verify_proof(other, &fx.honest, Some(items(&ops())));
            // the header rewritten to name the other parameters, with their digest, and the
            // claim moved onto them
            let mut f = fx.honest.clone();
            f.header.shape = other.shape();
            f.header.params_digest = other.digest();
            Fg::retarget(&mut f.body, &other.shape());
            let rewritten = pipeline::verify_proof(other, &f, Some(items(&ops())));
            Cell::Rejected(vec![
                rejected(direct.map_err(reason), "other params"),
                rejected(rewritten.map_err(reason), "rewritten header"),
            ])
        }
        Row::FlippedHeaderByte => flips(fx, 0..header_len(fx), 1),
        Row::FlippedOutputsByte => {
            let h = header_len(fx);
            flips(fx, h..h + 4 + outputs_len(fx), 3)
        }
        Row::FlippedSnarkByte => {
            let start = header_len(fx) + 4 + outputs_len(fx);
            flips(fx, start..fx.bytes.len(), (fx.bytes.len() - start) / 7)
        }
        Row::Truncated => {
            let n = fx.bytes.len();
            let cuts = [4, 9, header_len(fx), header_len(fx) + 6, n / 2, n - 1];
            Cell::Rejected(
                cuts.iter()
                    .map(|&c| rejected(verify_bytes(fx, &fx.bytes[..c]), "truncated"))
                    .collect(),
            )
        }
        Row::ShapeOutOfRange => Cell::Rejected(Fg::shape_out_of_range(fx)),
        Row::PinnedOtherKeys => {
            // a deployment pins the other shape's key file; the honest proof names this shape
            let other = other_keys::<Fg>();
            let pin = foldmem::proof::KeyFile::new(other.shape(), WORD_BITS, other.digests())
                .pin()
                .unwrap();
            let direct = pipeline::check_pin(&fx.honest, &pin).map_err(reason);
            // a pinned word size the proof does not have
            let mut words = Pin {
                shape: fx.keys.shape(),
                word_bits: Some(32),
                digests: Some(fx.keys.digests()),
            };
            let wrong_words = pipeline::check_pin(&fx.honest, &words).map_err(reason);
            words.word_bits = Some(WORD_BITS);
            assert!(pipeline::check_pin(&fx.honest, &words).is_ok());
            // the header rewritten to the pinned shape and digest: the SNARK does not verify
            let mut f = fx.honest.clone();
            f.header.shape = other.shape();
            f.header.params_digest = other.digest();
            Fg::retarget(&mut f.body, &other.shape());
            let rewritten = pipeline::check_pin(&f, &pin)
                .and_then(|_| pipeline::verify_proof(other, &f, Some(items(&ops()))))
                .map_err(reason);
            Cell::Rejected(vec![
                rejected(direct, "pinned other keys"),
                rejected(wrong_words, "pinned word size"),
                rejected(rewritten, "header rewritten to the pin"),
            ])
        }
        Row::SubstitutedCache => {
            // the other shape's genuine keys, framed as this shape's cache file
            let dir = common::tmp(&format!("forgery-cache-{b:?}"));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            let shape = fx.keys.shape();
            let entry = shape.cache_entry();
            let bytes = Fg::cache_file(&entry, other_keys::<Fg>());
            std::fs::write(foldmem::cache::path(&dir, &entry), bytes).unwrap();
            let pinned = KeyOptions {
                pinned: Some(fx.keys.digests()),
                ..KeyOptions::cached(&dir)
            };
            let k = pipeline::keys(shape, &pinned).unwrap();
            let mut reasons = Vec::new();
            if k.source == KeySource::Generated && k.digests() == fx.keys.digests() {
                reasons.push("substituted cache not used: pinned keys regenerated".to_string());
            }
            let k = pipeline::keys(shape, &KeyOptions::cached(&dir)).unwrap();
            if k.source == KeySource::Generated && k.digests() == fx.keys.digests() {
                reasons.push("substituted cache not read: nothing vouches for it".to_string());
            }
            let _ = std::fs::remove_dir_all(&dir);
            assert_eq!(reasons.len(), 2, "a substituted cache file was used");
            Cell::Rejected(reasons)
        }
        Row::Halo2DevParamsWithoutFlag => {
            let none = pipeline::keys(fx.keys.shape(), &KeyOptions::none())
                .map(|_| ())
                .map_err(reason);
            let lines = fx.keys.trust_lines();
            let stated = lines
                .iter()
                .find(|(k, _)| *k == "params")
                .map(|(k, v)| format!("explicit dev parameters are stated: {k}: {v}"))
                .unwrap();
            Cell::Rejected(vec![rejected(none, "halo2 without params"), stated])
        }
        Row::LibraryInitialRoot => one(Fg::library_initial_root(fx)),
        Row::StackDepth64 => Cell::Rejected(Fg::stack_depth_64(fx)),
        // the same length, one write and its read changed
        Row::OtherTrace => {
            let mut o = ops();
            o[5] = Op::write(9, 6u64);
            o[7] = Op::read(9, 6u64);
            // the same memory semantics, another op kind: a read of 9 as a pop, a write as a
            // push (the opcode is in every backend's trace binding)
            let mut kinds = ops();
            kinds[7].kind = foldmem::OpKind::Pop;
            kinds[5].kind = foldmem::OpKind::Push;
            Cell::Rejected(vec![
                rejected(verify(fx, &fx.honest, &o), "other trace"),
                rejected(verify(fx, &fx.honest, &kinds), "other op kinds"),
            ])
        }
    }
}

fn header_len(fx: &Fixture) -> usize {
    bincode::serialized_size(&fx.honest.header).unwrap() as usize
}

/// Length of the claimed outputs (after the body's 4-byte variant tag).
fn outputs_len(fx: &Fixture) -> usize {
    (match &fx.honest.body {
        Body::Merkle(p) => bincode::serialized_size(&p.outputs),
        Body::Offline(p) => bincode::serialized_size(&p.outputs),
        Body::Supernova(p) => bincode::serialized_size(&p.outputs),
        Body::Stream(p) => bincode::serialized_size(&p.outputs),
        Body::Halo2(p) => bincode::serialized_size(&p.outputs),
    })
    .unwrap() as usize
}

/// Flip bit 0 of every `step`-th byte in `range`; every flip must be rejected.
fn flips(fx: &Fixture, range: std::ops::Range<usize>, step: usize) -> Cell {
    Cell::Rejected(
        range
            .step_by(step.max(1))
            .map(|pos| {
                let mut b = fx.bytes.clone();
                b[pos] ^= 1;
                rejected(verify_bytes(fx, &b), &format!("flip at {pos}"))
            })
            .collect(),
    )
}

fn other_keys<Fg: Forger>() -> &'static Keys {
    common::keys(Fg::shape(true))
}

/// Run every row against one backend and check each cell against the matrix.
fn run_matrix<Fg: Forger>() {
    let b = Fg::B;
    let keys = common::keys(Fg::shape(false));
    let honest = prove(keys, &ops());
    let bytes = honest.to_bytes();
    let fx = Fixture {
        b,
        keys,
        honest,
        bytes,
    };
    verify(&fx, &fx.honest, &ops()).expect("the honest proof verifies");
    assert_eq!(
        fx.keys.shape().backend().to_string(),
        match fx.b {
            Backend::Nova => "nova",
            Backend::Offline => "nova-offline",
            Backend::SuperNova => "supernova",
            Backend::Halo2 => "halo2",
            Backend::Stream => "stream",
        }
    );
    let mut failures = Vec::new();
    let mut not_applicable = Vec::new();
    for (row, _) in MATRIX {
        let expect = expected(*row, b);
        match attack::<Fg>(&fx, *row) {
            Cell::NotApplicable(why) => {
                assert_eq!(
                    expect, NA,
                    "{row:?}/{b:?} is N/A ({why}) but the matrix expects {expect:?}"
                );
                not_applicable.push(*row);
            }
            Cell::Rejected(reasons) => {
                assert!(!reasons.is_empty());
                for r in reasons {
                    if !expect.iter().any(|e| r.contains(e)) {
                        failures.push(format!("{row:?}/{b:?}: {r:?} matches none of {expect:?}"));
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "wrong reasons:\n{}",
        failures.join("\n")
    );
    let mut expected_na: Vec<String> = NOT_APPLICABLE
        .iter()
        .filter(|(_, bb, _)| *bb == b)
        .map(|(r, _, _)| format!("{r:?}"))
        .collect();
    let mut not_applicable: Vec<String> = not_applicable.iter().map(|r| format!("{r:?}")).collect();
    expected_na.sort();
    not_applicable.sort();
    assert_eq!(not_applicable, expected_na);
}

#[test]
fn matrix_covers_every_row_once() {
    let rows: Vec<Row> = MATRIX.iter().map(|(r, _)| *r).collect();
    for (i, r) in rows.iter().enumerate() {
        assert!(!rows[i + 1..].contains(r), "{r:?} twice");
    }
    assert_eq!(rows.len(), 22);
}

#[test]
fn forgeries_against_nova() {
    run_matrix::<MerkleForger>();
}

#[test]
fn forgeries_against_nova_offline() {
    run_matrix::<OfflineForger>();
}

#[test]
fn forgeries_against_supernova() {
    run_matrix::<SupernovaForger>();
}

#[test]
fn forgeries_against_halo2() {
    run_matrix::<Halo2Forger>();
}

#[test]
fn forgeries_against_stream() {
    run_matrix::<StreamForger>();
}
