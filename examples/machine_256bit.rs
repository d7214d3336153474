//! U256 words end to end: a 256-bit machine's trace (leaves are `Poseidon(lo, hi)`) proven
//! with both folding backends and checked against its trace.

use foldmem::backends::merkle::MerkleShape;
use foldmem::machine::{Layout, LayoutConfig, Machine, SectionKind, WordSize};
use foldmem::pipeline;
use foldmem::registry::Shape;
use foldmem::tree::TreeParams;
use foldmem::Word;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut m = Machine::new(WordSize::W256, Layout::head(&LayoutConfig::default())?);
    let base = m.section_base(SectionKind::Memory)?;
    let big = Word([u64::MAX, 1, 2, 3]);
    m.write(base, big)?;
    m.write(base + 40, Word([7, 0, 0, 1 << 63]))?; // unaligned: two word accesses each
    let top = m.read(base)?;
    m.push(top)?;
    assert_eq!(m.pop()?, big);
    let ops = m.ops();
    println!("{} word accesses", ops.len());
    let stream = || foldmem::trace::numbered(&ops);
    for shape in [
        Shape::new(MerkleShape {
            tree: TreeParams::new(24, 8)?,
            ops_per_step: 4,
        })
        .unwrap(),
        Shape::new(foldmem::backends::offline::OfflineShape { ops_per_step: 16 }).unwrap(),
    ] {
        let keys = pipeline::keys(shape, &foldmem::backend::KeyOptions::none())?;
        let (file, report) = pipeline::prove_stream(&keys, 256, stream(), |_| {})?;
        pipeline::verify_proof(&keys, &file, Some(stream()))?;
        println!(
            "{}: {} ops, {} bytes, verified",
            file.header.backend, report.ops, report.proof_bytes
        );
    }
    Ok(())
}
