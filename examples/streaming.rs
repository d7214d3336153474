//! Prove while a program runs: the memory machine's new records are pushed to the Nova prover
//! after every instruction, so folding keeps pace with execution and memory stays bounded.

use foldmem::backends::merkle::MerkleShape;
use foldmem::backends::merkle::{self as nova, MerkleProver};
use foldmem::machine::{Layout, LayoutConfig, Machine, SectionKind, WordSize};
use foldmem::tree::TreeParams;
use foldmem::Word;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let step = MerkleShape {
        tree: TreeParams::new(32, 8)?,
        ops_per_step: 2,
    };
    let pp = nova::setup(step);
    let mut prover = MerkleProver::new(&pp, step, 64);
    let mut m = Machine::new(
        WordSize::W64,
        Layout::head(&LayoutConfig {
            anchor: 0x1000,
            ..LayoutConfig::default()
        })?,
    );
    let base = m.section_base(SectionKind::Memory)?;
    let mut index = 0;
    // a running sum over a small array, folding as the records appear
    for i in 0..6u64 {
        m.write(base + 8 * i, Word::from_u64(i * i))?;
        let acc = m.get(0)?;
        let x = m.read(base + 8 * i)?;
        m.set(
            0,
            Word::from_u64(acc.to_u64().unwrap_or(0) + x.to_u64().unwrap_or(0)),
        )?;
        for r in m.drain_new() {
            index += 1;
            prover.push(index, &r.op)?;
        }
        println!(
            "after instruction {i}: {} ops accepted, {} steps folded",
            prover.op_count(),
            prover.steps()
        );
    }
    let proof = prover.finish()?;
    nova::verify_folded(&pp, step, &proof.snark, &proof.outputs)?;
    println!(
        "verified {} ops in {} steps",
        proof.outputs.op_count, proof.num_steps
    );
    Ok(())
}
