//! SuperNova per-opcode proving: a stack-and-memory program's trace folded with one circuit per
//! opcode, showing what each opcode costs and that a read pays for one Merkle path.

use foldmem::backends::supernova::{self, SupernovaProver, SupernovaShape};
use foldmem::machine::{Layout, LayoutConfig, Machine, SectionKind, WordSize};
use foldmem::tree::TreeParams;
use foldmem::Word;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cfg = LayoutConfig {
        anchor: 0x4000,
        stack_words: 16,
        ..LayoutConfig::default()
    };
    let mut m = Machine::new(WordSize::W64, Layout::head(&cfg)?);
    let stack = m
        .layout()
        .first(SectionKind::Stack)
        .expect("stack section")
        .base;
    let base = m.section_base(SectionKind::Memory)?;
    // evaluate (3 + 4) * 5 on the stack, store the result, read it back
    m.push(Word::from_u64(3))?;
    m.push(Word::from_u64(4))?;
    let (b, a) = (m.pop()?, m.pop()?);
    m.push(Word::from_u64(a.0[0] + b.0[0]))?;
    m.push(Word::from_u64(5))?;
    let (b, a) = (m.pop()?, m.pop()?);
    m.write(base, Word::from_u64(a.0[0] * b.0[0]))?;
    assert_eq!(m.read(base)?, Word::from_u64(35));

    let shape = SupernovaShape {
        tree: TreeParams::new(32, 8)?,
        stack_base: stack,
        stack_log_depth: 4,
    };
    let [r, w, pu, po] = supernova::opcode_constraints(shape);
    println!("constraints per opcode circuit: read {r}, write {w}, push {pu}, pop {po}");
    let pp = supernova::setup(shape);
    let mut prover = SupernovaProver::new(&pp, shape, 64);
    for (i, rec) in m.trace().iter().enumerate() {
        prover.push(i + 1, &rec.op)?;
    }
    let (snark, outputs) = prover.finish()?;
    supernova::verify_folded(&pp, &shape, &snark, &outputs)?;
    println!(
        "verified {} ops (final stack pointer {})",
        outputs.op_count, outputs.final_sp
    );
    Ok(())
}
