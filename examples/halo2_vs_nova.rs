//! The same trace proven the classic way (Halo2, sorted trace + permutation, KZG) and by folding
//! (Nova over the Merkle tree, and the offline backend), with times and proof sizes side by side.

use foldmem::backends::halo2::Halo2Params;
use foldmem::backends::merkle::MerkleShape;
use foldmem::pipeline;
use foldmem::registry::Shape;
use foldmem::trace::gen::synthetic_trace;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let ops = synthetic_trace(64, 32, 9);
    let stream = || foldmem::trace::numbered(&ops);
    let shapes = [
        Shape::new(foldmem::backends::halo2::Halo2Shape {
            k: foldmem::backends::halo2::domain_k(ops.len()),
        })
        .unwrap(),
        Shape::new(MerkleShape {
            tree: foldmem::tree::TreeParams::new(32, 8)?,
            ops_per_step: 8,
        })
        .unwrap(),
        Shape::new(foldmem::backends::offline::OfflineShape { ops_per_step: 32 }).unwrap(),
    ];
    println!(
        "{:<14} {:>9} {:>9} {:>9} {:>10}",
        "backend", "setup s", "prove s", "verify s", "proof B"
    );
    for shape in shapes {
        let t = Instant::now();
        // Halo2 on its deterministic dev parameters, chosen explicitly: anyone could forge these
        // proofs (a deployment passes a ceremony's parameters, `Halo2Params::read`)
        let opts = foldmem::backend::KeyOptions::none().with(Some(Halo2Params::InsecureDev));
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
