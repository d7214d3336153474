//! Seeded trace generators for tests and benchmarks: consistent traces with realistic sparse
//! addresses, so nothing needs a trace file on disk.

use super::Op;
use std::collections::HashMap;

/// A consistent trace of `n` ops over `addr_bits`-bit word addresses (seeded): a hot working set
/// plus sparse cold addresses, about one write in three.
pub fn synthetic_trace(n: usize, addr_bits: u32, seed: u64) -> Vec<Op> {
    synthetic_trace_with(n, addr_bits, seed, 3)
}

/// Like [`synthetic_trace`] with about one write in `write_one_in` ops.
pub fn synthetic_trace_with(n: usize, addr_bits: u32, seed: u64, write_one_in: u64) -> Vec<Op> {
    let mask = if addr_bits >= 64 {
        u64::MAX
    } else {
        (1u64 << addr_bits) - 1
    };
    let mut x = seed | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let hot: Vec<u64> = (0..32).map(|_| next() & mask).collect();
    let mut mem: HashMap<u64, u64> = HashMap::new();
    (0..n)
        .map(|_| {
            let r = next();
            let addr = if r % 4 == 0 {
                next() & mask
            } else {
                hot[(r >> 8) as usize % hot.len()]
            };
            if (r >> 20) % write_one_in == 0 {
                let v = next();
                mem.insert(addr, v);
                Op::write(addr, v)
            } else {
                Op::read(addr, *mem.get(&addr).unwrap_or(&0))
            }
        })
        .collect()
}

/// A real-program-shaped trace (calibrated against valgrind lackey traces of `gzip`): about 45%
/// writes, sparse 64-bit addresses in a few regions (stack, heap, globals), and a working set
/// that drifts, so about 15% of the ops of a 16,384-op window touch distinct addresses. Seeded and
/// consistent.
pub fn program_trace(n: usize, seed: u64) -> Vec<Op> {
    ProgramTrace::new(seed).take(n).collect()
}

/// [`program_trace`] as an endless iterator (a running program's trace, op by op: memory is the
/// program's own memory, not the trace).
pub struct ProgramTrace {
    x: u64,
    tops: [u64; 3],
    pool: Vec<u64>,
    mem: HashMap<u64, u64>,
}

/// Region bases: high 64-bit addresses, far apart (stack, heap, globals).
const BASES: [u64; 3] = [
    0x7ffd_3c00_0000_0000,
    0x0000_5555_5555_0000,
    0x0000_7f3a_1000_0000,
];

impl ProgramTrace {
    /// A trace seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        ProgramTrace {
            x: seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1,
            tops: [0; 3],
            pool: Vec::new(),
            mem: HashMap::new(),
        }
    }

    fn next_u64(&mut self) -> u64 {
        self.x ^= self.x << 13;
        self.x ^= self.x >> 7;
        self.x ^= self.x << 17;
        self.x
    }
}

impl Iterator for ProgramTrace {
    type Item = Op;

    fn next(&mut self) -> Option<Op> {
        let r = self.next_u64();
        let addr = if self.pool.is_empty() || r % 1000 < 70 {
            // a new word: the next one of a region (allocation, stack growth)
            let region = (r >> 12) as usize % 3;
            self.tops[region] += 1 + (r >> 20) % 3;
            let a = BASES[region] + self.tops[region];
            self.pool.push(a);
            a
        } else {
            // reuse: mostly recent words (locality), sometimes older ones
            let span = self
                .pool
                .len()
                .min(if (r >> 16) % 8 == 0 { 4096 } else { 512 });
            self.pool[self.pool.len() - 1 - ((r >> 24) as usize % span)]
        };
        Some(if (r >> 40) % 100 < 45 {
            let v = self.next_u64();
            self.mem.insert(addr, v);
            Op::write(addr, v)
        } else {
            Op::read(addr, *self.mem.get(&addr).unwrap_or(&0))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::Checker;

    #[test]
    fn program_trace_has_the_real_shape() {
        let ops = program_trace(65536, 1);
        crate::trace::check_stream(crate::trace::numbered(&ops)).unwrap();
        let writes = ops.iter().filter(|o| o.kind.is_write()).count() as f64 / ops.len() as f64;
        assert!((0.40..0.50).contains(&writes), "writes {writes}");
        let ratios: Vec<f64> = ops
            .chunks(16384)
            .map(|seg| {
                let d = seg
                    .iter()
                    .map(|o| o.addr)
                    .collect::<std::collections::HashSet<_>>();
                d.len() as f64 / seg.len() as f64
            })
            .collect();
        let mean = ratios.iter().sum::<f64>() / ratios.len() as f64;
        assert!(
            (0.10..0.20).contains(&mean) && ratios.iter().all(|r| (0.05..0.25).contains(r)),
            "distinct per segment {ratios:?}"
        );
        assert!(ops.iter().any(|o| o.addr >> 60 != 0), "64-bit addresses");
    }

    #[test]
    fn synthetic_trace_is_consistent_and_in_range() {
        for bits in [8, 16, 64] {
            let ops = synthetic_trace(500, bits, 3);
            let mut c = Checker::new();
            for (i, op) in ops.iter().enumerate() {
                c.apply(i + 1, op).unwrap();
                assert!(bits == 64 || op.addr < 1 << bits);
            }
            assert!(c.stats().writes > 100 && c.stats().reads > 100);
        }
    }
}
