//! A worked tiny zkVM on foldmem: a register machine whose memory accesses (instruction fetch
//! included) are proven two ways.
//! - **Route (a), `--route gadget` (the default):** CPU and memory in one folded SuperNova
//!   proof. The CPU step circuit makes each access through `foldmem::gadget` on its own address
//!   and value variables; a loader circuit writes the program and input first ([`infold`]).
//! - **Route (b), `--route bind`:** a Nova CPU proof whose circuit computes the `stream` trace
//!   hash of its accesses with `foldmem::zkvm`, bound to a separate `stream` memory proof.
//!
//! ```text
//! cargo run --release --example tiny_vm                    # insertion sort of 12 words, route (a)
//! cargo run --release --example tiny_vm -- --words 40      # a larger run
//! cargo run --release --example tiny_vm -- --route both    # (a) and (b) side by side
//! cargo run --release --example tiny_vm -- --forge-read 3  # refused, naming read 3
//! ```
//!
//! **Machine.** Four 32-bit registers (see **Range**) and a program counter in the CPU state; program and data in
//! foldmem memory (program at address 0, data at [`DATA`]). Eight instructions, one 41-bit word
//! each (`op | rd<<3 | rs<<5 | rt<<7 | imm<<9`): `halt`, `li rd imm`, `add rd rs rt`,
//! `sub rd rs rt` (both mod 2^32), `load rd [rs+imm]`, `store rt [rs+imm]`, `blt rs rt imm`
//! (jump if `rs < rt`), `jmp imm`. Every executed instruction makes exactly two memory accesses:
//! the fetch (a read at `pc`) and a data access (the load or store, else a read of the scratch
//! word [`SCRATCH`]), so a fold step of [`INSTRUCTIONS_PER_STEP`] instructions is exactly one
//! hash step of the `stream` demo shape (`k = 64`).
//!
//! **Statement of route (b).** The verifier knows the program and the input words. It builds the loader's
//! writes (program, data, padding to a whole hash step) and their trace hash itself, starts the
//! CPU proof from that hash and `pc = 0`, and accepts when the CPU proof ends halted and its
//! `(trace hash, count)` equals the `stream` proof's `(trace_hash, op_count)`, the `stream` proof
//! verifying as a whole audited trace. So the CPU ran the program on that data, and every value
//! it read (instructions and data) was the last one written there.
//!
//! **Range.** Register values are below 2^32 by constraints of the CPU circuit alone: `li`
//! immediates are 32 bits by decoding, and `add`/`sub` results and loaded values are
//! range-checked to 32 bits (a program that loads a wider word, such as one of its own 41-bit
//! instruction words, has no proof; the native run refuses it too). So written values are below
//! 2^32 and addresses (`rs + imm`, `pc`) below 2^33, as the gadget requires. The ALU carry of
//! `add`, `sub` and `blt` is unique because the result is range-checked to 32 bits and
//! `rs ± rt` does not wrap the field; the register range makes the honest witness exist.
//! The loader refuses input words of 2^32 or more.

use bellpepper_core::boolean::{AllocatedBit, Boolean};
use bellpepper_core::num::{AllocatedNum, Num};
use bellpepper_core::{ConstraintSystem, SynthesisError};
use ff::{Field, PrimeField};
use foldmem::backend::KeyOptions;
use foldmem::backends::stream::TraceHasher;
use foldmem::backends::stream::{self, StreamKeys, StreamOptions, StreamProver, StreamShape};
use foldmem::folding::{Compressed, NovaKeySet, Recursive, C2};
use foldmem::gadgets::{
    alloc_bits, alloc_num, as_num, bits_to_num, enforce_eq, enforce_product_zero, mul, one, select,
    sub,
};
use foldmem::registry::Shape;
use foldmem::zkvm::{MemOpVar, TraceHashVar, TRACE_HASH_ARITY};
use foldmem::{pipeline, Op, F};
use std::time::Instant;

mod infold;

/// Instructions per fold step: two accesses each, one `stream` demo-shape hash step (64 slots).
const INSTRUCTIONS_PER_STEP: usize = 32;
/// Address of the first data word.
const DATA: u64 = 256;
/// The scratch word non-memory instructions read (the loader's padding writes 0 there; its value
/// is never used, whatever a program stores there).
const SCRATCH: u64 = 1 << 20;
/// Word size of the memory.
const WORD_BITS: u32 = 64;
/// CPU state: trace hash (3), pc, r0..r3, halted, instructions executed.
const ARITY: usize = TRACE_HASH_ARITY + CPU_ARITY;
const HALTED: usize = TRACE_HASH_ARITY + CPU_HALTED;
const COUNT: usize = TRACE_HASH_ARITY + CPU_COUNT;
/// The CPU's own state, the same in both routes: pc, r0..r3, halted, instructions executed.
const CPU_ARITY: usize = 7;
const CPU_PC: usize = 0;
const CPU_REGS: usize = 1;
const CPU_HALTED: usize = 5;
const CPU_COUNT: usize = 6;
/// Instruction word layout.
const OP_BITS: usize = 3;
const INSTR_BITS: u32 = 41;

/// An instruction.
#[derive(Clone, Copy, Debug)]
enum Ins {
    Halt,
    Li(u64, u64),
    Add(u64, u64, u64),
    Sub(u64, u64, u64),
    Load(u64, u64, u64),
    Store(u64, u64, u64),
    Blt(u64, u64, u64),
    Jmp(u64),
}

impl Ins {
    /// `op | rd<<3 | rs<<5 | rt<<7 | imm<<9`.
    fn encode(self) -> u64 {
        let (op, rd, rs, rt, imm) = match self {
            Ins::Halt => (0, 0, 0, 0, 0),
            Ins::Li(rd, imm) => (1, rd, 0, 0, imm),
            Ins::Add(rd, rs, rt) => (2, rd, rs, rt, 0),
            Ins::Sub(rd, rs, rt) => (3, rd, rs, rt, 0),
            Ins::Load(rd, rs, imm) => (4, rd, rs, 0, imm),
            Ins::Store(rt, rs, imm) => (5, 0, rs, rt, imm),
            Ins::Blt(rs, rt, imm) => (6, 0, rs, rt, imm),
            Ins::Jmp(imm) => (7, 0, 0, 0, imm),
        };
        assert!(
            rd < 4 && rs < 4 && rt < 4 && imm < 1 << 32,
            "bad instruction {self:?}"
        );
        op | rd << 3 | rs << 5 | rt << 7 | imm << 9
    }
}

/// Insertion sort of `n` words at [`DATA`]: r0 = i, r1 = j + 1, r2 = key, r3 = scratch.
fn sort_program(n: u64) -> Vec<u64> {
    use Ins::*;
    [
        Li(0, 1),             // 0: i = 1
        Li(3, n),             // 1: outer loop
        Blt(0, 3, 4),         // 2: if i < n goto 4
        Halt,                 // 3
        Load(2, 0, DATA),     // 4: key = a[i]
        Li(1, 0),             // 5
        Add(1, 1, 0),         // 6: j1 = i
        Li(3, 0),             // 7: inner loop
        Blt(3, 1, 10),        // 8: if 0 < j1 goto 10
        Jmp(17),              // 9: else insert
        Load(3, 1, DATA - 1), // 10: r3 = a[j1 - 1]
        Blt(2, 3, 13),        // 11: if key < r3 goto 13
        Jmp(17),              // 12: else insert
        Store(3, 1, DATA),    // 13: a[j1] = r3
        Li(3, 1),             // 14
        Sub(1, 1, 3),         // 15: j1 -= 1
        Jmp(7),               // 16
        Store(2, 1, DATA),    // 17: insert: a[j1] = key
        Li(3, 1),             // 18
        Add(0, 0, 3),         // 19: i += 1
        Jmp(1),               // 20
    ]
    .map(Ins::encode)
    .to_vec()
}

/// One executed instruction's witness: the fetched word and the data access's value.
#[derive(Clone, Copy, Debug, Default)]
struct Executed {
    instr: u64,
    data: u64,
}

/// A native run: the loader's writes, then two accesses per instruction.
#[derive(Debug)]
struct Run {
    loader: Vec<Op>,
    ops: Vec<Op>,
    /// What each of `ops` is, for messages.
    labels: Vec<String>,
    executed: Vec<Executed>,
    memory_words: Vec<u64>,
}

/// The verifier's loader: program and data writes, padded with writes of 0 to [`SCRATCH`] to a
/// whole hash step.
fn loader(program: &[u64], data: &[u64], k: usize) -> Result<Vec<Op>, String> {
    if let Some(w) = data.iter().find(|&&w| w >> 32 != 0) {
        return Err(format!("input word {w} is not a 32-bit word"));
    }
    let mut ops: Vec<Op> = program
        .iter()
        .enumerate()
        .map(|(a, &w)| Op::write(a as u64, w))
        .chain(
            data.iter()
                .enumerate()
                .map(|(i, &w)| Op::write(DATA + i as u64, w)),
        )
        .collect();
    while ops.len() % k != 0 {
        ops.push(Op::write(SCRATCH, 0u64));
    }
    Ok(ops)
}

/// Run the machine natively. `forge_read`: the N-th read (1-based, fetches included) returns
/// its value plus one.
fn execute(program: &[u64], data: &[u64], forge_read: Option<usize>) -> Result<Run, String> {
    let loader = loader(program, data, 2 * INSTRUCTIONS_PER_STEP)?;
    let mut mem = std::collections::HashMap::new();
    for op in &loader {
        mem.insert(op.addr, op.value.to_u64().unwrap_or(0));
    }
    let (mut pc, mut regs, mut reads) = (0u64, [0u64; 4], 0usize);
    let (mut ops, mut executed, mut labels) = (Vec::new(), Vec::new(), Vec::new());
    let mut read = |mem: &std::collections::HashMap<u64, u64>, addr: u64, ops: &mut Vec<Op>| {
        reads += 1;
        let mut v = mem.get(&addr).copied().unwrap_or(0);
        if forge_read == Some(reads) {
            v += 1;
        }
        ops.push(Op::read(addr, v));
        v
    };
    loop {
        if executed.len() > 10_000_000 {
            return Err("the program ran for more than 10^7 instructions".into());
        }
        let n = executed.len();
        let instr = read(&mem, pc, &mut ops);
        labels.push(format!("the fetch of instruction {n} at pc {pc}"));
        let f = |lo: u32, n: u32| (instr >> lo) & ((1 << n) - 1);
        let (op, rd, rs, rt, imm) = (f(0, 3), f(3, 2), f(5, 2), f(7, 2), f(9, 32));
        let (a, b) = (regs[rs as usize], regs[rt as usize]);
        let mask = (1u64 << 32) - 1;
        let mut next = pc + 1;
        let data = match op {
            4 => {
                let v = read(&mem, a + imm, &mut ops);
                labels.push(format!("the load of instruction {n}"));
                if v >> 32 != 0 {
                    return Err(format!("instruction {n} loads {v}, not a 32-bit word"));
                }
                regs[rd as usize] = v;
                v
            }
            5 => {
                mem.insert(a + imm, b);
                ops.push(Op::write(a + imm, b));
                labels.push(format!("the store of instruction {n}"));
                b
            }
            _ => {
                labels.push(format!("the scratch read of instruction {n}"));
                read(&mem, SCRATCH, &mut ops)
            }
        };
        match op {
            0 => next = pc,
            1 => regs[rd as usize] = imm,
            2 => regs[rd as usize] = (a + b) & mask,
            3 => regs[rd as usize] = a.wrapping_sub(b) & mask,
            6 if a < b => next = imm,
            7 => next = imm,
            _ => {}
        }
        executed.push(Executed { instr, data });
        if op == 0 {
            break;
        }
        pc = next;
    }
    let memory_words = (0..data.len() as u64)
        .map(|i| mem.get(&(DATA + i)).copied().unwrap_or(0))
        .collect();
    Ok(Run {
        loader,
        ops,
        labels,
        executed,
        memory_words,
    })
}

/// One fold step: [`INSTRUCTIONS_PER_STEP`] instructions (halted ones make no access).
#[derive(Clone, Debug)]
struct CpuStep {
    instructions: Vec<Executed>,
}

fn to_u64(x: Option<F>) -> u64 {
    x.map_or(0, |x| {
        u64::from_le_bytes(x.to_repr().as_ref()[..8].try_into().expect("8 bytes"))
    })
}

/// Allocate `v` as a boolean (one booleanity constraint).
fn bit<CS: ConstraintSystem<F>>(mut cs: CS, v: bool) -> Result<Boolean, SynthesisError> {
    Ok(Boolean::from(AllocatedBit::alloc(
        cs.namespace(|| "bit"),
        Some(v),
    )?))
}

/// `regs[2·hi + lo]` (three constraints).
fn mux4<CS: ConstraintSystem<F>>(
    mut cs: CS,
    regs: &[Num<F>],
    lo: &Boolean,
    hi: &Boolean,
) -> Result<Num<F>, SynthesisError> {
    let m0 = select(cs.namespace(|| "m0"), lo, &regs[1], &regs[0])?;
    let m1 = select(cs.namespace(|| "m1"), lo, &regs[3], &regs[2])?;
    select(cs.namespace(|| "m"), hi, &m1, &m0)
}

/// One instruction: reads and rewrites the CPU state `st` (the [`CPU_ARITY`] elements), returns
/// its two memory accesses.
fn instruction<CS: ConstraintSystem<F>>(
    cs: &mut CS,
    st: &mut [Num<F>],
    w: &Executed,
) -> Result<[MemOpVar; 2], SynthesisError> {
    let one = one::<CS>();
    // halted is a bit (a state element the circuit only ever sets from a selector)
    let halted = bit(
        cs.namespace(|| "halted"),
        to_u64(st[CPU_HALTED].get_value()) == 1,
    )?;
    enforce_eq(
        cs.namespace(|| "halted = state"),
        &as_num::<CS>(&halted),
        &st[CPU_HALTED],
    );
    let en = halted.not();
    // fetch and decode: the instruction word as 41 range-checked bits
    let bits = alloc_bits(cs.namespace(|| "instr"), w.instr, INSTR_BITS)?;
    let instr = bits_to_num::<CS>(&bits);
    let imm = bits_to_num::<CS>(&bits[9..]);
    let (b0, b1, b2) = (&bits[0], &bits[1], &bits[2]);
    let mut pairs = Vec::with_capacity(4);
    for (i, (x, y)) in [
        (b0.not(), b1.not()),
        (b0.clone(), b1.not()),
        (b0.not(), b1.clone()),
        (b0.clone(), b1.clone()),
    ]
    .iter()
    .enumerate()
    {
        pairs.push(Boolean::and(cs.namespace(|| format!("pair {i}")), x, y)?);
    }
    let mut sel = Vec::with_capacity(1 << OP_BITS);
    for (i, z) in [b2.not(), b2.clone()].iter().enumerate() {
        for (j, p) in pairs.iter().enumerate() {
            sel.push(Boolean::and(
                cs.namespace(|| format!("op {}", j + 4 * i)),
                p,
                z,
            )?);
        }
    }
    let s = |i: usize| as_num::<CS>(&sel[i]);
    let (is_halt, is_li, is_add, is_sub, is_load, is_store, is_blt, is_jmp) =
        (s(0), s(1), s(2), s(3), s(4), s(5), s(6), s(7));
    let regs: Vec<Num<F>> = st[CPU_REGS..CPU_REGS + 4].to_vec();
    let rs = mux4(cs.namespace(|| "rs"), &regs, &bits[5], &bits[6])?;
    let rt = mux4(cs.namespace(|| "rt"), &regs, &bits[7], &bits[8])?;
    // ALU: alu = rs + sgn·(rt − carry·2^32), a 32-bit number (add: sgn 1, else −1)
    let (a, b) = (to_u64(rs.get_value()), to_u64(rt.get_value()));
    let add = sel[2].get_value() == Some(true);
    let (res, carry) = if add {
        ((a + b) & 0xffff_ffff, (a + b) >> 32 == 1)
    } else {
        (a.wrapping_sub(b) & 0xffff_ffff, a < b)
    };
    let carry = bit(cs.namespace(|| "carry"), carry)?;
    let two32 = F::from(1u64 << 32);
    let sgn = is_add
        .clone()
        .scale(F::from(2))
        .add(&one.clone().scale(-F::ONE));
    let t = mul(
        cs.namespace(|| "sgn"),
        &sgn,
        &sub(&rt, &as_num::<CS>(&carry).scale(two32)),
    )?;
    let alu_bits = alloc_bits(cs.namespace(|| "alu"), res, 32)?;
    let alu = bits_to_num::<CS>(&alu_bits);
    enforce_eq(
        cs.namespace(|| "alu = rs + sgn·rt"),
        &rs.clone().add(&t),
        &alu,
    );
    // the data access: load/store at rs + imm, else a read of the scratch word
    let is_mem = is_load.clone().add(&is_store);
    let ea = mul(cs.namespace(|| "ea"), &is_mem, &rs.clone().add(&imm))?;
    let en_n = as_num::<CS>(&en);
    let data_addr = ea.add(&sub(&en_n, &is_mem).scale(F::from(SCRATCH)));
    let data = foldmem::gadgets::alloc(cs.namespace(|| "data"), F::from(w.data))?;
    // a loaded value is a 32-bit word (the bits are free when the instruction is not a load)
    let loaded = alloc_bits(cs.namespace(|| "loaded"), w.data & 0xffff_ffff, 32)?;
    enforce_product_zero(
        cs,
        "load is 32-bit",
        &is_load,
        &sub(&data, &bits_to_num::<CS>(&loaded)),
    );
    enforce_product_zero(cs, "store writes rt", &is_store, &sub(&data, &rt));
    let fetch_addr = mul(cs.namespace(|| "fetch addr"), &en_n, &st[CPU_PC])?;
    // result and register write
    let r_li = mul(cs.namespace(|| "li"), &is_li, &imm)?;
    let r_alu = mul(
        cs.namespace(|| "alu res"),
        &is_add.clone().add(&is_sub),
        &alu,
    )?;
    let r_ld = mul(cs.namespace(|| "load res"), &is_load, &data)?;
    let result = r_li.add(&r_alu).add(&r_ld);
    let writes = is_li.add(&is_add).add(&is_sub).add(&is_load);
    let (d0, d1) = (&bits[3], &bits[4]);
    let rd = [
        Boolean::and(cs.namespace(|| "rd0"), &d0.not(), &d1.not())?,
        Boolean::and(cs.namespace(|| "rd1"), d0, &d1.not())?,
        Boolean::and(cs.namespace(|| "rd2"), &d0.not(), d1)?,
        Boolean::and(cs.namespace(|| "rd3"), d0, d1)?,
    ];
    for (j, d) in rd.iter().enumerate() {
        let wj = mul(cs.namespace(|| format!("w{j}")), &writes, &as_num::<CS>(d))?;
        let delta = mul(
            cs.namespace(|| format!("r{j}")),
            &wj,
            &sub(&result, &regs[j]),
        )?;
        st[CPU_REGS + j] = regs[j].clone().add(&delta);
    }
    // pc: +1, a taken branch or jump to imm, halt stays
    let taken = mul(cs.namespace(|| "taken"), &is_blt, &as_num::<CS>(&carry))?;
    let jump = is_jmp.add(&taken);
    let pc = st[CPU_PC].clone();
    let to = mul(cs.namespace(|| "jump"), &jump, &sub(&sub(&imm, &pc), &one))?;
    st[CPU_PC] = pc.add(&sub(&one, &is_halt)).add(&to);
    st[CPU_HALTED] = is_halt;
    st[CPU_COUNT] = st[CPU_COUNT].clone().add(&en_n);
    let fetch = MemOpVar {
        enabled: en.clone(),
        is_write: Boolean::constant(false),
        is_stack: Boolean::constant(false),
        addr: fetch_addr,
        value: instr,
    };
    let access = MemOpVar {
        enabled: en,
        is_write: sel[5].clone(),
        is_stack: Boolean::constant(false),
        addr: data_addr,
        value: data,
    };
    Ok([fetch, access])
}

impl arecibo::traits::circuit::StepCircuit<F> for CpuStep {
    fn arity(&self) -> usize {
        ARITY
    }

    fn synthesize<CS: ConstraintSystem<F>>(
        &self,
        cs: &mut CS,
        z: &[AllocatedNum<F>],
    ) -> Result<Vec<AllocatedNum<F>>, SynthesisError> {
        if z.len() != ARITY || self.instructions.len() != INSTRUCTIONS_PER_STEP {
            return Err(SynthesisError::Unsatisfiable);
        }
        let mut st: Vec<Num<F>> = z.iter().map(|a| Num::from(a.clone())).collect();
        let mut slots = Vec::with_capacity(2 * INSTRUCTIONS_PER_STEP);
        for (i, w) in self.instructions.iter().enumerate() {
            slots.extend(instruction(
                &mut cs.namespace(|| format!("ins {i}")),
                &mut st[TRACE_HASH_ARITY..],
                w,
            )?);
        }
        let th = TraceHashVar::from_z(&z[..TRACE_HASH_ARITY])?
            .absorb_step(&mut cs.namespace(|| "memory"), &slots)?;
        let mut out = th.to_z();
        for (i, n) in st[TRACE_HASH_ARITY..].iter().enumerate() {
            out.push(alloc_num(cs.namespace(|| format!("out {i}")), n)?);
        }
        Ok(out)
    }
}

/// The sort's input: `words` pseudo-random words below 1000.
fn sort_input(words: u64) -> Vec<u64> {
    let mut x = 0x5eedu64;
    (0..words)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % 1000
        })
        .collect()
}

/// The CPU's start state: the loader's trace-hash state (built from the program and input),
/// `pc = 0`, registers 0, not halted, no instruction executed.
fn start_state(program: &[u64], data: &[u64]) -> Result<Vec<F>, String> {
    let mut native = TraceHasher::new(2 * INSTRUCTIONS_PER_STEP, WORD_BITS);
    for op in &loader(program, data, 2 * INSTRUCTIONS_PER_STEP)? {
        native.push(op);
    }
    let mut z0 = TraceHashVar::resume_values(&native)
        .ok_or("the loader ends at a hash-step boundary")?
        .to_vec();
    z0.resize(ARITY, F::ZERO);
    Ok(z0)
}

impl CpuStep {
    /// A step of the circuit's shape with no witness in particular (for key generation).
    fn blank() -> Self {
        CpuStep {
            instructions: vec![Executed::default(); INSTRUCTIONS_PER_STEP],
        }
    }
}

fn steps_of(run: &Run) -> Vec<CpuStep> {
    run.executed
        .chunks(INSTRUCTIONS_PER_STEP)
        .map(|c| {
            let mut instructions = c.to_vec();
            instructions.resize(INSTRUCTIONS_PER_STEP, Executed::default());
            CpuStep { instructions }
        })
        .collect()
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mut words, mut forge) = (12u64, None);
    let (mut route, mut segment_ops) = ("gadget".to_string(), 0usize);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut num = |name: &str| -> Result<u64, String> {
            it.next()
                .and_then(|v| v.parse().ok())
                .ok_or(format!("{name} takes a number"))
        };
        match a.as_str() {
            "--words" => words = num("--words")?,
            "--forge-read" => forge = Some(num("--forge-read")? as usize),
            "--segment-ops" => segment_ops = num("--segment-ops")? as usize,
            "--route" => {
                route = it
                    .next()
                    .filter(|r| ["gadget", "bind", "both"].contains(&r.as_str()))
                    .ok_or("--route takes gadget, bind or both")?
                    .clone()
            }
            _ => {
                return Err(format!(
                    "unknown argument {a} (try --words N, --forge-read N, --route gadget|bind|both, --segment-ops N)"
                ))
            }
        }
    }
    if !(2..=10_000).contains(&words) {
        return Err("--words takes 2..=10000".into());
    }
    if forge == Some(0) {
        return Err("--forge-read counts reads from 1".into());
    }
    if route != "bind" {
        for (k, v) in infold::prove_sort(words, forge, segment_ops)? {
            println!("{k}: {v}");
        }
    }
    if route == "both" {
        println!();
    }
    if route != "gadget" {
        for (k, v) in prove_sort(words, forge)? {
            println!("{k}: {v}");
        }
    }
    Ok(())
}

/// Run the sort of `words` words, prove CPU and memory, verify both and the binding; the
/// `key: value` lines to print.
fn prove_sort(words: u64, forge: Option<usize>) -> Result<Vec<(&'static str, String)>, String> {
    let mut out = Vec::new();
    let mut kv = |k: &'static str, v: &dyn std::fmt::Display| out.push((k, v.to_string()));
    // the program and its input: the verifier knows both
    let program = sort_program(words);
    let data = sort_input(words);
    let run = execute(&program, &data, forge)?;
    let shape = StreamShape::DEMO;
    let k = shape.ops_per_step;
    assert_eq!(k, 2 * INSTRUCTIONS_PER_STEP);

    // the memory proof: foldmem's stream prover refuses an inconsistent read before folding
    let t = Instant::now();
    let opts = foldmem::cache::default_cache_dir()
        .map(|d| KeyOptions::cached(&d))
        .unwrap_or_default();
    let keys = pipeline::keys(Shape::new(shape).map_err(|e| e.to_string())?, &opts)
        .map_err(|e| e.to_string())?;
    let st: &StreamKeys = keys.downcast().ok_or("stream keys")?;
    let setup_memory = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut prover =
        StreamProver::new(st, WORD_BITS, &StreamOptions::default()).map_err(|e| e.to_string())?;
    // an inconsistent read is named by its number among the run's reads and what it was
    let explain = |e: foldmem::Error| -> String {
        use foldmem::trace::TraceError;
        let foldmem::Error::Trace(TraceError::Inconsistent { line, .. }) = &e else {
            return e.to_string();
        };
        let i = line.saturating_sub(run.loader.len() + 1);
        let reads = run.ops[..=i.min(run.ops.len() - 1)]
            .iter()
            .filter(|o| !o.kind.is_write())
            .count();
        format!(
            "read {reads} of the run ({}) was refused by the memory prover, no proof made: {e}",
            run.labels.get(i).map_or("a loader op", String::as_str)
        )
    };
    for (i, op) in run.loader.iter().chain(&run.ops).enumerate() {
        prover.push(i + 1, op).map_err(explain)?;
    }
    let memory = prover.finish(true).map_err(explain)?;
    let fold_memory = t.elapsed().as_secs_f64();

    // the CPU proof
    let steps = steps_of(&run);
    let t = Instant::now();
    // keys from the circuit's shape alone (a blank step), never from the run
    let cpu_keys = NovaKeySet::generate(&CpuStep::blank()).map_err(|e| e.to_string())?;
    let setup_cpu = t.elapsed().as_secs_f64();
    let z0 = start_state(&program, &data)?;
    let t = Instant::now();
    let zero = [<foldmem::engine::F2 as Field>::ZERO];
    let mut cpu = Recursive::new(&cpu_keys.pp, &steps[0], &C2::default(), &z0, &zero)
        .map_err(|e| e.to_string())?;
    for s in &steps {
        cpu.prove_step(&cpu_keys.pp, s, &C2::default())
            .map_err(|e| e.to_string())?;
    }
    let fold_cpu = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let cpu_c = cpu_keys.compress(&cpu).map_err(|e| e.to_string())?;
    let memory_c = st.keys.compress(&memory.snark).map_err(|e| e.to_string())?;
    let compress = t.elapsed().as_secs_f64();

    // the verifier: its own loader hash and z0 (from the program and input it knows), both
    // proofs, and the binding
    let t = Instant::now();
    let z0 = start_state(&program, &data)?;
    let (zn, _) = Compressed::<CpuStep>::verify(&cpu_c, &cpu_keys.vk, steps.len(), &z0, &zero)
        .map_err(|e| format!("CPU proof: {e:?}"))?;
    stream::verify_compressed(st, &memory_c, &memory.outputs)
        .map_err(|e| format!("memory proof: {e}"))?;
    let bound = memory.outputs.word_bits == WORD_BITS
        && zn[0] == memory.outputs.trace_hash
        && zn[1] == F::from(memory.outputs.op_count)
        && zn[HALTED] == F::ONE;
    let verify = t.elapsed().as_secs_f64();
    if !bound {
        return Err("the CPU's accesses are not the proven memory trace".into());
    }
    let (primary, secondary) = cpu_keys.pp.num_constraints();
    let step_circuit = foldmem::gadgets::count_constraints(ARITY, |cs, z| {
        use arecibo::traits::circuit::StepCircuit;
        // the same step synthesized while folding above
        steps[0].synthesize(cs, z).expect("the step synthesizes");
    });
    kv("valid", &true);
    kv(
        "route",
        &"bind (a Nova CPU proof bound to a stream memory proof)",
    );
    kv("program", &format!("insertion sort of {words} words"));
    let mut sorted = data.clone();
    sorted.sort_unstable();
    // the final memory is not part of the statement: the native run's, for the reader
    kv("sorted_native", &(run.memory_words == sorted));
    // from the proof: the CPU's instruction counter
    kv("instructions", &to_u64(Some(zn[COUNT])));
    kv("memory_ops", &(run.loader.len() + run.ops.len()));
    kv("loader_ops", &run.loader.len());
    kv("fold_steps", &steps.len());
    kv(
        "constraints_per_instruction",
        &format!("{:.0}", step_circuit as f64 / INSTRUCTIONS_PER_STEP as f64),
    );
    kv(
        "constraints_per_instruction_with_recursion",
        &format!(
            "{:.0}",
            (primary + secondary) as f64 / INSTRUCTIONS_PER_STEP as f64
        ),
    );
    kv("setup_s", &format!("{:.2}", setup_memory + setup_cpu));
    kv("fold_s", &format!("{:.2}", fold_cpu + fold_memory));
    kv("fold_cpu_s", &format!("{fold_cpu:.2}"));
    kv("fold_memory_s", &format!("{fold_memory:.2}"));
    kv("compress_s", &format!("{compress:.2}"));
    kv("verify_s", &format!("{verify:.2}"));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bellpepper_core::test_cs::TestConstraintSystem;

    fn first_step(words: u64) -> (CpuStep, Vec<F>) {
        let program = sort_program(words);
        let data = &[3, 1, 2, 0][..words as usize];
        let run = execute(&program, data, None).unwrap();
        (
            steps_of(&run).remove(0),
            start_state(&program, data).unwrap(),
        )
    }

    fn synthesized(step: &CpuStep, z0: &[F]) -> TestConstraintSystem<F> {
        use arecibo::traits::circuit::StepCircuit;
        let mut cs = TestConstraintSystem::new();
        let z = foldmem::gadgets::alloc_state(&mut cs, z0).unwrap();
        step.synthesize(&mut cs, &z).unwrap();
        cs
    }

    #[test]
    fn the_native_sort_sorts() {
        let data = [9, 3, 7, 1, 1, 0, 12];
        let run = execute(&sort_program(7), &data, None).unwrap();
        assert_eq!(run.memory_words, vec![0, 1, 1, 3, 7, 9, 12]);
        assert_eq!(run.ops.len(), 2 * run.executed.len());
    }

    #[test]
    fn wide_words_are_refused_by_the_loader_and_the_load_check() {
        assert!(execute(&sort_program(2), &[1, 1 << 32], None)
            .unwrap_err()
            .contains("not a 32-bit word"));
        // a program that loads its own 41-bit instruction word 0
        let p = [Ins::Load(0, 0, 1), Ins::Jmp(1 << 31), Ins::Halt].map(Ins::encode);
        let e = execute(&p, &[], None).unwrap_err();
        assert!(
            e.contains("loads") && e.contains("not a 32-bit word"),
            "{e}"
        );
        // and in circuit: a load whose value has a bit above 32
        let (step, z0) = first_step(4);
        let load = (0..INSTRUCTIONS_PER_STEP)
            .find(|&i| step.instructions[i].instr & 7 == 4)
            .expect("the first step loads");
        let mut cs = synthesized(&step, &z0);
        let v = cs.get(&format!("ins {load}/data/v/num"));
        cs.set(&format!("ins {load}/data/v/num"), v + F::from(1u64 << 32));
        assert_eq!(
            cs.which_is_unsatisfied(),
            Some(format!("ins {load}/load is 32-bit").as_str())
        );
    }

    #[test]
    fn a_step_of_another_length_is_refused() {
        use arecibo::traits::circuit::StepCircuit;
        let mut cs = TestConstraintSystem::<F>::new();
        let z = foldmem::gadgets::alloc_state(&mut cs, &[F::ZERO; ARITY]).unwrap();
        let short = CpuStep {
            instructions: vec![Executed::default(); 3],
        };
        assert!(short.synthesize(&mut cs, &z).is_err());
    }

    #[test]
    fn an_honest_step_satisfies_the_cpu_circuit() {
        let (step, z0) = first_step(4);
        let cs = synthesized(&step, &z0);
        assert_eq!(cs.which_is_unsatisfied(), None);
    }

    #[test]
    fn a_wrong_alu_result_register_write_or_store_breaks_its_constraint() {
        let (step, z0) = first_step(4);
        // instruction 0 is `li r0 1`: its ALU (unused) computes r0 − r0 = 0; a result of 1
        let mut cs = synthesized(&step, &z0);
        cs.set("ins 0/alu/bit 0/boolean", F::ONE);
        assert_eq!(
            cs.which_is_unsatisfied(),
            Some("ins 0/alu = rs + sgn·rt/a=b")
        );
        // its register write
        let mut cs = synthesized(&step, &z0);
        cs.set("ins 0/r0/prod/num", F::from(5));
        assert_eq!(cs.which_is_unsatisfied(), Some("ins 0/r0/a*b=prod"));
        // a store must write rt: instruction 13 of the first step stores
        let (step, z0) = first_step(4);
        let store = (0..INSTRUCTIONS_PER_STEP)
            .find(|&i| step.instructions[i].instr & 7 == 5)
            .expect("the first step stores");
        let mut cs = synthesized(&step, &z0);
        cs.set(&format!("ins {store}/data/v/num"), F::from(999));
        assert_eq!(
            cs.which_is_unsatisfied(),
            Some(format!("ins {store}/store writes rt").as_str())
        );
    }

    #[test]
    fn a_forged_read_is_refused_naming_it_and_no_proof_is_made() {
        let e = prove_sort(4, Some(3)).unwrap_err();
        assert!(
            e.starts_with("read 3 of the run (the fetch of instruction 1 at pc 1) was refused"),
            "{e}"
        );
    }

    #[test]
    fn the_sort_proves_verifies_and_binds() {
        let out = prove_sort(4, None).unwrap();
        let get = |k: &str| out.iter().find(|(n, _)| *n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("valid"), Some("true"));
        assert_eq!(get("sorted_native"), Some("true"));
        // the proof's instruction counter is the native run's
        let data = sort_input(4);
        let run = execute(&sort_program(4), &data, None).unwrap();
        assert_eq!(
            get("instructions"),
            Some(run.executed.len().to_string().as_str())
        );
    }
}
