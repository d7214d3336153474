//! The same trace proven the classic way (Halo2, sorted trace + permutation, KZG) and by folding
//! (Nova over the Merkle tree, and the offline backend), with times and proof sizes side by side.

use foldmem::bench::synthetic_trace;
use foldmem::halo2_compat::Halo2Params;
use foldmem::pipeline;
use foldmem::proof::Shape;
use foldmem::step::StepParams;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let ops = synthetic_trace(64, 32, 9);
    let stream = || foldmem::trace::numbered(&ops);
    let shapes = [
        Shape::Halo2(foldmem::halo2_compat::Halo2Shape {
            k: foldmem::halo2_compat::domain_k(ops.len()),
        }),
        Shape::Merkle(StepParams {
            tree: foldmem::merkle::TreeParams::new(32, 8)?,
            ops_per_step: 8,
        }),
        Shape::Offline(foldmem::offline::OfflineShape { ops_per_step: 32 }),
    ];
    println!(
        "{:<14} {:>9} {:>9} {:>9} {:>10}",
        "backend", "setup s", "prove s", "verify s", "proof B"
    );
    for shape in shapes {
        let t = Instant::now();
        // Halo2 on its deterministic dev parameters, chosen explicitly: anyone could forge these
        // proofs (a deployment passes a ceremony's parameters, `Halo2Params::read`)
        let opts = pipeline::KeyOptions::none().with_halo2(Halo2Params::InsecureDev);
        let keys = pipeline::keys(shape, &opts)?;
        let setup = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let (file, _) = pipeline::prove_stream(&keys, 64, stream(), |_| {})?;
        let prove = t.elapsed().as_secs_f64();
        let t = Instant::now();
        pipeline::verify_proof(&keys, &file, Some(stream()))?;
        let verify = t.elapsed().as_secs_f64();
        println!(
            "{:<14} {:>9.2} {:>9.2} {:>9.3} {:>10}",
            file.header.backend.to_string(),
            setup,
            prove,
            verify,
            file.to_bytes().len()
        );
    }
    Ok(())
}
