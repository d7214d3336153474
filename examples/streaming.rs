//! Prove while a program runs: the memory machine's new records are pushed to the `stream`
//! prover after every instruction; each segment is folded as soon as it is complete, so folding
//! keeps pace with execution and memory stays bounded. Then compress and verify.

use foldmem::backend::KeyOptions;
use foldmem::backends::stream::{self, StreamKeys, StreamOptions, StreamProver, StreamShape};
use foldmem::machine::{Layout, LayoutConfig, Machine, SectionKind, WordSize};
use foldmem::pipeline;
use foldmem::registry::Shape;
use foldmem::Word;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // a small shape for a quick run: 8 op slots per step, segments of 16 ops
    let shape = StreamShape {
        ops_per_step: 8,
        boundary_slots: 4,
        time_bits: 16,
    };
    let keys = pipeline::keys(Shape::new(shape)?, &KeyOptions::none())?;
    let st = keys.downcast::<StreamKeys>().ok_or("stream keys")?;
    let opts = StreamOptions {
        segment_ops: 16,
        ..Default::default()
    };
    let mut prover = StreamProver::new(st, 64, &opts)?;
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
            "after instruction {i}: {} ops accepted, {} segments folded",
            prover.op_count(),
            prover.segments()
        );
    }
    let proof = prover.finish(true)?; // the last segment, with the audit of every address
    let snark = st.keys.compress(&proof.snark)?;
    stream::verify_compressed(st, &snark, &proof.outputs)?;
    println!(
        "verified {} ops in {} segments ({} folding steps)",
        proof.outputs.op_count, proof.segments, proof.steps
    );
    Ok(())
}
