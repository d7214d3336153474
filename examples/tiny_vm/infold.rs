//! Route (a): the CPU and its memory in one folded proof, through `foldmem::gadget`.
//!
//! The program has two user circuits beside foldmem's library circuits: the **loader**
//! ([`LOAD`], [`LOAD_SLOTS`] writes a step) and the **CPU** ([`CPU`], the same
//! [`crate::instruction`] logic as route (b), its two accesses per instruction made through the
//! gadget on the instruction's own address and value variables). The user state is the CPU's
//! seven elements, then `loaded` (0 while loading) and the loader hash.
//!
//! **Statement.** The verifier knows the program and the input words. It builds its own keys
//! from the circuits, starts the run at the loader with the user state all zero, and accepts
//! when the proof verifies (every read returned the last value written, 0 if never), the CPU
//! halted, and the final loader hash is the chain over its own loader writes. Loader steps run
//! only while `loaded = 0` and CPU steps only once it is 1, so every loader write precedes every
//! instruction: the CPU ran the program on that data.

use crate::{
    execute, instruction, loader, sort_input, sort_program, to_u64, Executed, CPU_ARITY, CPU_COUNT,
    CPU_HALTED, INSTRUCTIONS_PER_STEP,
};
use bellpepper_core::boolean::Boolean;
use bellpepper_core::num::{AllocatedNum, Num};
use bellpepper_core::{ConstraintSystem, SynthesisError};
use ff::Field;
use foldmem::gadget::{
    self, GadgetError, GadgetKeys, GadgetOptions, GadgetShape, MemoryCircuit, MemoryProver,
    MemoryVar,
};
use foldmem::gadgets::{alloc, alloc_num, as_num, bit, enforce_eq, enforce_zero, one};
use foldmem::hash::{chain32_absorb, chain32_absorb_circuit};
use foldmem::{Op, F};
use std::time::Instant;

/// User circuit index of the loader.
pub const LOAD: usize = 0;
/// User circuit index of the CPU.
pub const CPU: usize = 1;
/// Memory slots of both circuits: 64 loader writes, or two accesses for each of the 32
/// instructions of a CPU step.
pub const LOAD_SLOTS: usize = 2 * INSTRUCTIONS_PER_STEP;
/// Index of `loaded` in the user state.
const LOADED: usize = CPU_ARITY;
/// Index of the loader hash in the user state.
const LOAD_HASH: usize = CPU_ARITY + 1;
/// Width of the user state.
const USER_ARITY: usize = CPU_ARITY + 2;
/// Library shape: `stream`'s demo shape (8 boundary slots, 32-bit times).
pub const SHAPE: GadgetShape = GadgetShape {
    boundary_slots: 8,
    time_bits: 32,
};

/// One user step.
#[derive(Clone, Debug)]
pub enum VmStep {
    /// Up to [`LOAD_SLOTS`] loader writes `(addr, value)`; `done` on the last loader step.
    Load {
        /// The writes.
        words: Vec<(u64, u64)>,
        /// The CPU runs next.
        done: bool,
    },
    /// [`INSTRUCTIONS_PER_STEP`] instructions (halted ones make disabled calls).
    Cpu {
        /// Each instruction's fetched word and data value.
        instructions: Vec<Executed>,
    },
}

impl MemoryCircuit for VmStep {
    fn circuits() -> usize {
        2
    }
    fn arity() -> usize {
        USER_ARITY
    }
    fn memory_slots(_: usize) -> usize {
        LOAD_SLOTS
    }
    fn blank(index: usize) -> Self {
        if index == LOAD {
            VmStep::Load {
                words: Vec::new(),
                done: false,
            }
        } else {
            VmStep::Cpu {
                instructions: vec![Executed::default(); INSTRUCTIONS_PER_STEP],
            }
        }
    }
    fn circuit_index(&self) -> usize {
        match self {
            VmStep::Load { .. } => LOAD,
            VmStep::Cpu { .. } => CPU,
        }
    }
    fn synthesize<CS: ConstraintSystem<F>>(
        &self,
        cs: &mut CS,
        mem: &mut MemoryVar,
        z: &[AllocatedNum<F>],
    ) -> Result<(Num<F>, Vec<AllocatedNum<F>>), SynthesisError> {
        let mut st: Vec<Num<F>> = z.iter().map(|a| Num::from(a.clone())).collect();
        let next = match self {
            VmStep::Load { words, done } => {
                if words.len() > LOAD_SLOTS {
                    return Err(SynthesisError::Unsatisfiable);
                }
                enforce_zero(cs, "loader runs before the CPU", &st[LOADED]);
                let write = Boolean::constant(true);
                let mut absorbed = Vec::with_capacity(3 * LOAD_SLOTS);
                for j in 0..LOAD_SLOTS {
                    let mut cs = cs.namespace(|| format!("word {j}"));
                    let (en, a, v) = words.get(j).map_or((false, 0, 0), |&(a, v)| (true, a, v));
                    let en = bit(cs.namespace(|| "en"), en)?;
                    let a = alloc(cs.namespace(|| "addr"), F::from(a))?;
                    let v = alloc(cs.namespace(|| "value"), F::from(v))?;
                    // the write and the loader hash take the same variables
                    mem.access(cs.namespace(|| "write"), &en, &write, &a, &v)?;
                    absorbed.extend([a, v, as_num::<CS>(&en)]);
                }
                st[LOAD_HASH] = chain32_absorb_circuit(
                    &mut cs.namespace(|| "loader hash"),
                    st[LOAD_HASH].clone(),
                    absorbed,
                )?;
                let done = as_num::<CS>(&bit(cs.namespace(|| "done"), *done)?);
                st[LOADED] = done.clone();
                // 0: another loader step, 1: the CPU
                done
            }
            VmStep::Cpu { instructions } => {
                if instructions.len() != INSTRUCTIONS_PER_STEP {
                    return Err(SynthesisError::Unsatisfiable);
                }
                enforce_eq(
                    cs.namespace(|| "CPU runs after the loader"),
                    &st[LOADED],
                    &one::<CS>(),
                );
                for (i, w) in instructions.iter().enumerate() {
                    let mut cs = cs.namespace(|| format!("ins {i}"));
                    let accesses = instruction(&mut cs, &mut st[..CPU_ARITY], w)?;
                    for (k, m) in accesses.iter().enumerate() {
                        mem.access(
                            cs.namespace(|| format!("access {k}")),
                            &m.enabled,
                            &m.is_write,
                            &m.addr,
                            &m.value,
                        )?;
                    }
                }
                one::<CS>().scale(F::from(CPU as u64))
            }
        };
        let mut out = Vec::with_capacity(USER_ARITY);
        for (i, n) in st.iter().enumerate() {
            out.push(alloc_num(cs.namespace(|| format!("out {i}")), n)?);
        }
        Ok((next, out))
    }
}

/// The loader hash the verifier expects: per loader step of [`LOAD_SLOTS`] slots, the chain over
/// each slot's `(addr, value, enabled)`.
fn loader_hash(writes: &[Op]) -> F {
    let mut h = F::ZERO;
    for chunk in writes.chunks(LOAD_SLOTS) {
        let mut e = Vec::with_capacity(3 * LOAD_SLOTS);
        for j in 0..LOAD_SLOTS {
            match chunk.get(j) {
                Some(op) => e.extend([
                    F::from(op.addr),
                    F::from(op.value.to_u64().unwrap_or(0)),
                    F::ONE,
                ]),
                None => e.extend([F::ZERO; 3]),
            }
        }
        h = chain32_absorb(h, &e);
    }
    h
}

/// The program's keys, generated once per process from the circuits alone (never from a run).
fn keys() -> Result<&'static GadgetKeys<VmStep>, String> {
    static KEYS: std::sync::OnceLock<GadgetKeys<VmStep>> = std::sync::OnceLock::new();
    if let Some(k) = KEYS.get() {
        return Ok(k);
    }
    let k = GadgetKeys::<VmStep>::generate(SHAPE).map_err(|e| e.to_string())?;
    Ok(KEYS.get_or_init(|| k))
}

/// The user's start state: all zero (pc 0, registers 0, not halted, nothing loaded).
fn z0_user() -> Vec<F> {
    vec![F::ZERO; USER_ARITY]
}

/// Run the sort of `words` words and prove it in one fold (loader, CPU and memory); verify it
/// as the verifier would; the `key: value` lines to print.
pub fn prove_sort(
    words: u64,
    forge: Option<usize>,
    segment_ops: usize,
) -> Result<Vec<(&'static str, String)>, String> {
    let mut out = Vec::new();
    let mut kv = |k: &'static str, v: &dyn std::fmt::Display| out.push((k, v.to_string()));
    let program = sort_program(words);
    let data = sort_input(words);
    let run = execute(&program, &data, forge)?;

    let t = Instant::now();
    let keys = keys()?;
    let setup = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let opts = GadgetOptions { segment_ops };
    let mut prover = MemoryProver::new(keys, LOAD, &z0_user(), opts).map_err(|e| e.to_string())?;
    let chunks: Vec<&[Op]> = run.loader.chunks(LOAD_SLOTS).collect();
    for (i, chunk) in chunks.iter().enumerate() {
        let mut mem = prover.memory();
        let words: Vec<(u64, u64)> = chunk
            .iter()
            .map(|op| (op.addr, op.value.to_u64().unwrap_or(0)))
            .collect();
        for &(a, v) in &words {
            mem.write(a, v);
        }
        let calls = mem.finish();
        let done = i + 1 == chunks.len();
        prover
            .push(VmStep::Load { words, done }, calls)
            .map_err(|e| e.to_string())?;
    }
    // the CPU: the native run's accesses, two per instruction, each read checked against the
    // memory (a forged read is refused here, named, before anything of its segment is folded)
    let mut k = 0;
    let explain = |e: GadgetError, k: usize| match e {
        GadgetError::Inconsistent {
            read,
            step,
            addr,
            claimed,
            held,
        } => format!(
            "read {read} of the run ({}) was refused by the memory prover, no proof made: it \
             claims {claimed} at address {addr:#x}, which holds {held} (user step {step})",
            run.labels[k]
        ),
        e => e.to_string(),
    };
    for chunk in run.executed.chunks(INSTRUCTIONS_PER_STEP) {
        let mut mem = prover.memory();
        for _ in 0..chunk.len() {
            for _ in 0..2 {
                let op = run.ops[k];
                let v = op.value.to_u64().unwrap_or(0);
                if op.kind.is_write() {
                    mem.write(op.addr, v);
                } else {
                    mem.read_checked(op.addr, v).map_err(|e| explain(e, k))?;
                }
                k += 1;
            }
        }
        // the halted instructions padding the last step make disabled calls
        for _ in chunk.len()..INSTRUCTIONS_PER_STEP {
            mem.skip();
            mem.skip();
        }
        let calls = mem.finish();
        let mut instructions = chunk.to_vec();
        instructions.resize(INSTRUCTIONS_PER_STEP, Executed::default());
        prover
            .push(VmStep::Cpu { instructions }, calls)
            .map_err(|e| e.to_string())?;
    }
    let proof = prover.finish().map_err(|e| e.to_string())?;
    let fold = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let snark = keys.compress(&proof).map_err(|e| e.to_string())?;
    let compress = t.elapsed().as_secs_f64();

    // the verifier: its keys, the start it knows, its own loader hash
    let t = Instant::now();
    let o = gadget::verify_compressed(keys, &snark, LOAD, &z0_user())
        .map_err(|e| format!("proof: {e}"))?;
    let want_loader = loader_hash(&loader(&program, &data, LOAD_SLOTS)?);
    let accepted = o.z_user[CPU_HALTED] == F::ONE
        && o.z_user[LOADED] == F::ONE
        && o.z_user[LOAD_HASH] == want_loader;
    let verify = t.elapsed().as_secs_f64();
    if !accepted {
        return Err("the proof is not of this program on this input, halted".into());
    }
    let constraints = keys.primary_constraints();
    let cpu_circuit =
        foldmem::gadgets::count_constraints(gadget::MEMORY_ARITY + USER_ARITY, |cs, z| {
            use arecibo::traits::circuit_supernova::StepCircuit;
            let c = gadget::ProgramCircuit::<VmStep>::blank(SHAPE.stream(), CPU);
            c.synthesize(cs, None, z).expect("the CPU step synthesizes");
        });
    kv("valid", &true);
    kv("route", &"gadget (CPU and memory in one fold)");
    kv("program", &format!("insertion sort of {words} words"));
    let mut sorted = data.clone();
    sorted.sort_unstable();
    kv("sorted_native", &(run.memory_words == sorted));
    kv("instructions", &to_u64(Some(o.z_user[CPU_COUNT])));
    kv("memory_ops", &o.op_count);
    kv("loader_ops", &run.loader.len());
    kv("fold_steps", &proof.fold_steps);
    kv("segments", &proof.segments);
    kv(
        "constraints_per_instruction",
        &format!("{:.0}", cpu_circuit as f64 / INSTRUCTIONS_PER_STEP as f64),
    );
    kv(
        "constraints_per_instruction_with_recursion",
        &format!(
            "{:.0}",
            (constraints[CPU] + keys.keys.secondary_constraints()) as f64
                / INSTRUCTIONS_PER_STEP as f64
        ),
    );
    kv("setup_s", &format!("{setup:.2}"));
    kv("fold_s", &format!("{fold:.2}"));
    kv("compress_s", &format!("{compress:.2}"));
    kv("verify_s", &format!("{verify:.2}"));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bellpepper_core::test_cs::TestConstraintSystem;

    #[test]
    fn a_forged_read_is_refused_naming_it_and_no_proof_is_made() {
        let e = prove_sort(4, Some(3), 0).unwrap_err();
        assert!(
            e.starts_with("read 3 of the run (the fetch of instruction 1 at pc 1) was refused"),
            "{e}"
        );
    }

    #[test]
    fn the_sort_proves_in_one_fold_across_segments() {
        let out = prove_sort(4, None, 64).unwrap();
        let get = |k: &str| out.iter().find(|(n, _)| *n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("valid"), Some("true"));
        assert_eq!(get("sorted_native"), Some("true"));
        let run = execute(&sort_program(4), &sort_input(4), None).unwrap();
        assert_eq!(
            get("instructions"),
            Some(run.executed.len().to_string().as_str())
        );
        assert_eq!(
            get("memory_ops"),
            Some((run.loader.len() + run.ops.len()).to_string().as_str())
        );
        assert!(get("segments").unwrap().parse::<usize>().unwrap() > 1);
    }

    #[test]
    fn the_loader_hash_binds_the_loader_writes() {
        let w = loader(&sort_program(4), &[3, 1, 2, 0], LOAD_SLOTS).unwrap();
        let mut other = w.clone();
        other[3] = Op::write(other[3].addr, 1u64 << 20);
        assert_ne!(loader_hash(&w), loader_hash(&other));
    }

    fn synthesized(step: &VmStep, z_user: &[F]) -> TestConstraintSystem<F> {
        let mut cs = TestConstraintSystem::<F>::new();
        let mut z = gadget::statement_z0::<VmStep>(step.circuit_index(), z_user);
        z.truncate(gadget::MEMORY_ARITY);
        z.extend_from_slice(z_user);
        let zs = foldmem::gadgets::alloc_state(&mut cs, &z).unwrap();
        let c = gadget::ProgramCircuit {
            shape: SHAPE.stream(),
            kind: gadget::StepKind::User {
                circuit: step.clone(),
                open: Default::default(),
                slots: vec![Default::default(); LOAD_SLOTS],
            },
            next: step.circuit_index(),
        };
        use arecibo::traits::circuit_supernova::StepCircuit;
        c.synthesize(&mut cs, None, &zs).unwrap();
        cs
    }

    #[test]
    fn the_cpu_runs_only_after_the_loader_and_the_loader_only_before() {
        let cpu = VmStep::blank(CPU);
        let cs = synthesized(&cpu, &z0_user());
        assert_eq!(
            cs.which_is_unsatisfied(),
            Some("user/CPU runs after the loader/a=b")
        );
        let mut loaded = z0_user();
        loaded[LOADED] = F::ONE;
        let cs = synthesized(&VmStep::blank(LOAD), &loaded);
        assert_eq!(
            cs.which_is_unsatisfied(),
            Some("user/loader runs before the CPU")
        );
    }
}
