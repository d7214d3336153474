//! Criterion benchmarks: native Merkle update, folds per backend (one stream segment), compression,
//! verify.

use criterion::{criterion_group, criterion_main, Criterion};
use ff::Field;
use foldmem::backends::merkle::MerkleShape;
use foldmem::backends::merkle::{self as nova, MerkleProver};
use foldmem::trace::gen::synthetic_trace;
use foldmem::tree::{SparseMerkleTree, TreeParams};
use foldmem::F;
use std::time::Duration;

fn merkle_update(c: &mut Criterion) {
    for arity in [2, 4, 8] {
        let p = TreeParams::new(64, arity).unwrap();
        let mut t = SparseMerkleTree::new(p);
        let mut a = 1u64;
        c.bench_function(&format!("merkle update depth64 arity{arity}"), |b| {
            b.iter(|| {
                a = a.wrapping_mul(6364136223846793005).wrapping_add(1);
                t.update(a, F::ONE).unwrap()
            })
        });
    }
}

fn fold_merkle(c: &mut Criterion) {
    let mut g = c.benchmark_group("fold merkle");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    for (bits, k) in [16u32, 32, 64]
        .into_iter()
        .flat_map(|b| [1usize, 4, 16].map(|k| (b, k)))
    {
        let step = MerkleShape {
            tree: TreeParams::new(bits, 8).unwrap(),
            ops_per_step: k,
        };
        let pp = nova::setup(step);
        let ops = synthetic_trace(4 * k, bits, 1);
        g.bench_function(format!("addr{bits} k{k} (4 steps)"), |b| {
            b.iter(|| {
                let mut p = MerkleProver::new(&pp, step, 64);
                for (i, op) in ops.iter().enumerate() {
                    p.push(i + 1, op).unwrap();
                }
                p.finish().unwrap()
            })
        });
    }
    g.finish();
}

fn fold_offline(c: &mut Criterion) {
    let mut g = c.benchmark_group("fold offline");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    for k in [32, 128] {
        let pp = foldmem::backends::offline::setup(k);
        let ops = synthetic_trace(4 * k, 64, 1);
        g.bench_function(format!("k{k} ({} ops)", ops.len()), |b| {
            b.iter(|| {
                let w = foldmem::backends::offline::witness(&ops, 64, k).unwrap();
                foldmem::backends::offline::fold(&pp, &w).unwrap()
            })
        });
    }
    g.finish();
}

fn fold_stream(c: &mut Criterion) {
    use foldmem::backend::KeyOptions;
    use foldmem::backends::stream::{self, StreamKeys, StreamOptions, StreamProver};
    use foldmem::pipeline;
    use foldmem::registry::Shape;
    let mut g = c.benchmark_group("fold stream");
    g.sample_size(10).measurement_time(Duration::from_secs(60));
    let shape = stream::StreamShape::default();
    let keys = pipeline::keys(Shape::new(shape).unwrap(), &KeyOptions::none()).unwrap();
    let st = keys.downcast::<StreamKeys>().unwrap();
    let k = shape.ops_per_step;
    // one segment of two op steps of a real-program-shaped trace: op, boundary and audit steps
    let ops = foldmem::trace::gen::program_trace(2 * k, 11);
    let opts = StreamOptions {
        segment_ops: 2 * k,
        ..StreamOptions::default()
    };
    g.bench_function(format!("k{k} one segment ({} ops)", ops.len()), |b| {
        b.iter(|| {
            let mut p = StreamProver::new(st, 64, &opts).unwrap();
            for (i, op) in ops.iter().enumerate() {
                p.push(i + 1, op).unwrap();
            }
            p.finish(true).unwrap()
        })
    });
    g.finish();
}

fn compress_verify(c: &mut Criterion) {
    let mut g = c.benchmark_group("compression");
    g.sample_size(10).measurement_time(Duration::from_secs(60));
    let step = MerkleShape {
        tree: TreeParams::new(32, 8).unwrap(),
        ops_per_step: 2,
    };
    let pp = nova::setup(step);
    let (pk, vk) = nova::compression_keys(&pp).unwrap();
    let mut p = MerkleProver::new(&pp, step, 64);
    for (i, op) in synthetic_trace(4, 32, 2).iter().enumerate() {
        p.push(i + 1, op).unwrap();
    }
    let folded = p.finish().unwrap();
    g.bench_function("merkle addr32 k2 prove", |b| {
        b.iter(|| nova::compress(&pp, &pk, &folded.snark).unwrap())
    });
    let snark = nova::compress(&pp, &pk, &folded.snark).unwrap();
    g.bench_function("merkle addr32 k2 verify", |b| {
        b.iter(|| nova::verify_compressed(&vk, step, &snark, &folded.outputs).unwrap())
    });
    g.finish();
}

criterion_group!(
    benches,
    merkle_update,
    fold_merkle,
    fold_offline,
    fold_stream,
    compress_verify
);
criterion_main!(benches);
