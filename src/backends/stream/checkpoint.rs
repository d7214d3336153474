//! Prover checkpoints: a stream prover's state after a complete segment, written atomically with
//! a checksum, and loaded back with the checks that need no trace.

use super::circuit::Step;
use super::native::Native;
use super::{StreamRecursive, StreamShape};
use crate::engine::F;
use crate::error::Error;
use serde::{Deserialize, Serialize};

/// Checkpoint file: this magic, the FNV-1a-64 of the payload (little-endian), the payload
/// (bincode). The magic changes with the payload's layout.
const CHECKPOINT_MAGIC: [u8; 8] = *b"FMSTRM03";

/// The checkpoint file of a run: `checkpoint.bin` for a whole trace, `checkpoint-range-I-of-R.bin`
/// for range `I` of `R`, so range provers sharing one directory never overwrite each other.
pub fn file_name(range: Option<(usize, usize)>) -> String {
    match range {
        None => "checkpoint.bin".into(),
        Some((i, r)) => format!("checkpoint-range-{i}-of-{r}.bin"),
    }
}

/// A prover's state after a complete segment: everything a resumed prover needs.
#[derive(Serialize, Deserialize)]
pub(super) struct Checkpoint {
    pub(super) shape: StreamShape,
    pub(super) params: [u8; 32],
    pub(super) native: Native,
    pub(super) start: (F, u64),
    pub(super) steps: usize,
    pub(super) segments: usize,
    pub(super) snark: Option<StreamRecursive>,
    pub(super) pending: Option<Step>,
    /// Ops per segment of the run: a resumed run must fold the same segments.
    pub(super) segment_ops: usize,
    /// `(index, count)` of the run's range (`None`: the whole trace).
    pub(super) range: Option<(usize, usize)>,
}

impl Checkpoint {
    pub(super) fn store(&self, dir: &std::path::Path) -> Result<(), Error> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let payload = bincode::serialize(self).map_err(Error::internal)?;
        let path = dir.join(file_name(self.range));
        crate::files::write_framed(&path, &CHECKPOINT_MAGIC, &payload)
            .map_err(|e| Error::io(&path, e))
    }

    /// The checkpoint of the run over `range` (`(index, count)`; `None`: the whole trace) in
    /// `dir`, with the checks that need neither keys nor the trace.
    pub(super) fn load(
        dir: &std::path::Path,
        range: Option<(usize, usize)>,
    ) -> Result<Self, Error> {
        let path = dir.join(file_name(range));
        let bad = |why: String| {
            Error::Usage(format!(
                "{}: not a usable checkpoint: {why}",
                path.display()
            ))
        };
        let payload = match crate::files::read_framed(&path, &CHECKPOINT_MAGIC) {
            Ok(p) => p,
            Err(crate::files::FramedError::Io(e)) => return Err(Error::io(&path, e)),
            Err(crate::files::FramedError::Bad(why)) => {
                return Err(bad(why.describe("checkpoint")))
            }
        };
        use bincode::Options;
        let codec = bincode::DefaultOptions::new()
            .with_fixint_encoding()
            .with_limit(8 << 30)
            .reject_trailing_bytes();
        let cp: Checkpoint = match crate::codec::deserialize_caught(codec, &payload) {
            Ok(c) => c,
            Err(Some(e)) => return Err(bad(e)),
            Err(None) => return Err(bad("undecodable content".into())),
        };
        if cp.range != range {
            let name = |r: Option<(usize, usize)>| match r {
                None => "the whole trace".to_string(),
                Some((i, n)) => format!("range {i}/{n}"),
            };
            return Err(bad(format!(
                "written by the run of {}, not of {}",
                name(cp.range),
                name(range)
            )));
        }
        cp.native.check_state().map_err(bad)?;
        if cp.segments as u64 > cp.native.time || cp.steps as u64 > 4 * cp.native.time + 4 {
            return Err(bad(format!(
                "{} steps and {} segments for {} ops",
                cp.steps, cp.segments, cp.native.time
            )));
        }
        if cp.start.1 >= cp.native.time || cp.snark.is_none() || cp.pending.is_none() {
            // a checkpoint is written after a folded segment: past its start, with a proof
            return Err(bad(format!(
                "no segment folded (the run starts at op {}, its position is op {})",
                cp.start.1, cp.native.time
            )));
        }
        Ok(cp)
    }
}

#[cfg(test)]
mod tests {
    //! A checkpoint that is corrupted, or that no honest run writes, is refused with its reason;
    //! a resumed run whose folded proof does not check writes no proof.
    use super::*;
    use crate::backends::stream::tests::{ops, shape};
    use crate::backends::stream::{StreamKeys, StreamOptions, StreamProver, StreamRun};
    use ff::Field;
    use std::sync::OnceLock;

    fn keys() -> &'static StreamKeys {
        static K: OnceLock<StreamKeys> = OnceLock::new();
        K.get_or_init(|| crate::backends::stream::tests::keys_for(shape()))
    }

    /// A checkpoint directory after the first of the test ops' segments (4 ops each).
    fn checkpointed(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("foldmem-ck-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let opts = StreamOptions {
            segment_ops: 4,
            checkpoint: Some(dir.clone()),
            range: None,
        };
        let mut p = StreamProver::new(keys(), 64, &opts).expect("prover");
        for (i, op) in ops()[..5].iter().enumerate() {
            p.push(i + 1, op).expect("push");
        }
        assert!(dir.join(file_name(None)).exists());
        dir
    }

    fn resume_err(dir: &std::path::Path) -> String {
        let opts = StreamOptions {
            segment_ops: 4,
            checkpoint: None,
            range: None,
        };
        match StreamProver::resume(keys(), dir, &opts) {
            Ok(_) => panic!("resumed from a bad checkpoint"),
            Err(e) => e.to_string(),
        }
    }

    /// Rewrite the checkpoint in `dir` after `edit` (with a valid checksum).
    fn rewrite(dir: &std::path::Path, edit: impl FnOnce(&mut Checkpoint)) {
        let mut cp = Checkpoint::load(dir, None).expect("load");
        edit(&mut cp);
        cp.store(dir).expect("store");
    }

    #[test]
    fn a_corrupted_or_truncated_checkpoint_fails_its_checksum() {
        let dir = checkpointed("corrupt");
        let file = dir.join(file_name(None));
        let good = std::fs::read(&file).unwrap();
        let mut flipped = good.clone();
        let mid = 16 + (good.len() - 16) / 2;
        flipped[mid] ^= 1;
        std::fs::write(&file, &flipped).unwrap();
        assert!(resume_err(&dir).contains("checksum mismatch"));
        std::fs::write(&file, &good[..good.len() - 1]).unwrap();
        assert!(resume_err(&dir).contains("checksum mismatch"));
        std::fs::write(&file, &good[..10]).unwrap();
        assert!(resume_err(&dir).contains("no checkpoint header"));
        std::fs::write(&file, &good).unwrap();
        let four = StreamOptions {
            segment_ops: 4,
            ..Default::default()
        };
        assert!(StreamProver::resume(keys(), &dir, &four).is_ok());
        // the same file under another segment length, or as a range's checkpoint: refused
        let other = match StreamProver::resume(keys(), &dir, &StreamOptions::default()) {
            Ok(_) => panic!("resumed with another segment length"),
            Err(e) => e.to_string(),
        };
        assert!(other.contains("resume with --segment-ops 4"), "{other}");
        std::fs::copy(&file, dir.join(file_name(Some((0, 2))))).unwrap();
        let ranged = StreamOptions {
            range: Some((0, 2)),
            ..four
        };
        let other = match StreamProver::resume(keys(), &dir, &ranged) {
            Ok(_) => panic!("resumed a range from a whole trace's checkpoint"),
            Err(e) => e.to_string(),
        };
        assert!(
            other.contains("written by the run of the whole trace, not of range 0/2"),
            "{other}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    type Edit = Box<dyn Fn(&mut Checkpoint)>;

    #[test]
    fn a_checkpoint_no_honest_run_writes_is_refused_with_its_reason() {
        let dir = checkpointed("state");
        let good = std::fs::read(dir.join(file_name(None))).unwrap();
        let cases: Vec<(&str, Edit)> = vec![
            (
                "G is not on the curve",
                Box::new(|c| c.native.g.y += F::ONE),
            ),
            (
                "time 65536 reaches 2^16",
                Box::new(|c| c.native.time = 1 << 16),
            ),
            ("word size 48 bits", Box::new(|c| c.native.word_bits = 48)),
            (
                "last access at time 9, not in 1..=4",
                Box::new(|c| {
                    c.native.mem.insert(3, (crate::word::Word::ZERO, 9));
                }),
            ),
            (
                "value wider than 32 bits",
                Box::new(|c| {
                    c.native.word_bits = 32;
                    c.native
                        .mem
                        .insert(3, (crate::word::Word::from_u64(1 << 40), 1));
                }),
            ),
            (
                "addresses touched in 4 ops",
                Box::new(|c| {
                    for a in 100..104 {
                        c.native.mem.insert(a, (crate::word::Word::ZERO, 1));
                    }
                }),
            ),
            (
                "no segment folded (the run starts at op 4, its position is op 4)",
                Box::new(|c| c.start.1 = 4),
            ),
            ("no segment folded", Box::new(|c| c.pending = None)),
            (
                "1 steps and 5 segments for 4 ops",
                Box::new(|c| {
                    c.steps = 1;
                    c.segments = 5
                }),
            ),
            (
                "time 5 is not a multiple of the 4 ops per step",
                Box::new(|c| c.native.time = 5),
            ),
            (
                "G is the identity",
                Box::new(|c| {
                    c.native.g = crate::backends::stream::curve::Affine {
                        x: F::ZERO,
                        y: F::ZERO,
                    }
                }),
            ),
        ];
        for (want, edit) in cases {
            std::fs::write(dir.join(file_name(None)), &good).unwrap();
            rewrite(&dir, edit);
            let e = resume_err(&dir);
            assert!(e.contains(want), "{want}: {e}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// `prove` of the test ops resumed from `dir` (segments of 4 ops): the written proof, or
    /// the error.
    fn prove_resumed(dir: &std::path::Path) -> Result<(), String> {
        use crate::backend::ProofSystem;
        let opts = StreamRun {
            segment_ops: Some(4),
            resume: Some(dir.to_path_buf()),
            ..Default::default()
        };
        let all = ops();
        let mut items = crate::trace::numbered(&all);
        keys()
            .prove(64, &mut items, &mut |_| {}, true, &opts)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn a_checkpoint_whose_memory_is_not_the_prefix_s_is_refused() {
        let dir = checkpointed("mem");
        prove_resumed(&dir).expect("the honest checkpoint resumes and proves");
        let good = std::fs::read(dir.join(file_name(None))).unwrap();
        let edits: Vec<Edit> = vec![
            // a value, a time, a missing and an extra address: each passes the load checks
            Box::new(|c| {
                c.native.mem.insert(3, (crate::word::Word::from_u64(8), 2));
            }),
            Box::new(|c| {
                c.native.mem.insert(3, (crate::word::Word::from_u64(7), 1));
            }),
            Box::new(|c| {
                c.native.mem.remove(&200);
            }),
            Box::new(|c| {
                c.native.mem.insert(5, (crate::word::Word::ZERO, 1));
            }),
        ];
        for edit in edits {
            std::fs::write(dir.join(file_name(None)), &good).unwrap();
            rewrite(&dir, edit);
            let e = prove_resumed(&dir).expect_err("an edited memory must be refused");
            assert!(
                e.contains("is not what the trace's first 4 ops leave"),
                "{e}"
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_checkpoint_whose_g_or_start_is_not_the_prefix_s_is_refused() {
        let dir = checkpointed("g");
        let good = std::fs::read(dir.join(file_name(None))).unwrap();
        // G moved to another point of the curve: passes every load check
        rewrite(&dir, |c| c.native.g = -c.native.g);
        let e = prove_resumed(&dir).expect_err("an edited G must be refused");
        assert!(
            e.contains("multiset hash point is not what the trace's ops 0..4 give"),
            "{e}"
        );
        std::fs::write(dir.join(file_name(None)), &good).unwrap();
        rewrite(&dir, |c| c.start.0 = F::ONE);
        let e = prove_resumed(&dir).expect_err("another start must be refused");
        assert!(e.contains("does not start at the trace's seed"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_resumed_run_whose_proof_does_not_verify_writes_no_proof() {
        let dir = checkpointed("fold");
        // the pending (closing boundary) step's outgoing value: passes the load and replay checks
        rewrite(&dir, |c| match &mut c.pending {
            Some(Step::Boundary { slots, .. }) => {
                let b = &mut slots[0];
                b.value_out += F::ONE;
                b.h_out = crate::backends::stream::curve::h2c(b.addr, b.value_out, b.time_out).0;
            }
            other => panic!("pending is {other:?}"),
        });
        let e = prove_resumed(&dir).expect_err("a forged checkpoint's proof must not be written");
        assert!(e.contains("the proof does not verify"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_range_of_a_trace_that_changed_since_it_was_counted_is_refused() {
        use crate::backend::ProofSystem;
        use crate::backends::stream::RangeSpec;
        let all = ops();
        let n = all.len() as u64;
        // counted before it grew by one op, and before it lost one
        for counted in [n - 1, n + 1] {
            let opts = StreamRun {
                segment_ops: Some(4),
                range: Some(RangeSpec {
                    index: 1,
                    count: 2,
                    total_ops: counted,
                }),
                ..Default::default()
            };
            let mut items = crate::trace::numbered(&all);
            let err = match keys().prove(64, &mut items, &mut |_| {}, true, &opts) {
                Ok(_) => panic!("proved a range of a trace counted at {counted} ops"),
                Err(e) => e.to_string(),
            };
            assert!(
                err.contains(&format!("has {n} ops now, not the {counted}")),
                "{err}"
            );
        }
    }
}
