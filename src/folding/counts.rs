//! Constraint counts arecibo keeps private, read from the serde encoding of its types.

use super::Sc2;
use crate::engine::{E1, E2, F};
use arecibo::traits::Engine;
use serde::Deserialize;

/// Constraint count of an arecibo R1CS shape. arecibo keeps the field crate-private, but it is
/// the first field of the shape's serde encoding (a fixed-width `u64` in bincode).
pub fn r1cs_num_cons<E: Engine>(shape: &arecibo::r1cs::R1CSShape<E>) -> usize {
    let mut head = Vec::with_capacity(8);
    let _ = bincode::serialize_into(LimitedWriter(&mut head), shape);
    head.get(..8)
        .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")) as usize)
        .unwrap_or(0)
}

/// A writer that keeps the first 8 bytes and then stops the encoder.
struct LimitedWriter<'a>(&'a mut Vec<u8>);

impl std::io::Write for LimitedWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len() >= 8 {
            return Err(std::io::Error::other("enough"));
        }
        let n = buf.len().min(8 - self.0.len());
        self.0.extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Constraints of a SuperNova parameter set's secondary circuit (arecibo keeps its shape private:
/// it is read from the parameters' serde encoding, whose field order arecibo 0.1.1 fixes).
pub fn supernova_secondary_constraints<C1>(
    pp: &arecibo::supernova::PublicParams<E1, E2, C1, Sc2>,
) -> usize
where
    C1: arecibo::traits::circuit_supernova::StepCircuit<F>,
{
    type Ck<E> =
        <<E as Engine>::CE as arecibo::traits::commitment::CommitmentEngineTrait<E>>::CommitmentKey;
    #[derive(Deserialize)]
    struct AugParams {
        _limb_width: usize,
        _n_limbs: usize,
        _is_primary: bool,
    }
    #[derive(Deserialize)]
    #[serde(bound = "")]
    struct Shape<E: Engine> {
        _arity: usize,
        r1cs: arecibo::r1cs::R1CSShape<E>,
    }
    // everything before the secondary shape is decoded and dropped at once
    type Prefix = (
        Vec<Skip<Shape<E1>>>,
        Skip<arecibo::traits::ROConstants<E1>>,
        Skip<arecibo::traits::ROConstantsCircuit<E2>>,
        Skip<Ck<E1>>,
        Skip<AugParams>,
        Skip<arecibo::traits::ROConstants<E2>>,
        Skip<arecibo::traits::ROConstantsCircuit<E1>>,
        Skip<Ck<E2>>,
        Shape<E2>,
    );
    // the encoding streams from a second thread through a bounded channel: neither the whole
    // encoding (180 MB at the default stream shape) nor a decoded copy of every circuit is held
    // (together they made this count the prover's peak memory)
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(4);
    let decoded = std::thread::scope(|s| {
        let writer = std::thread::Builder::new().spawn_scoped(s, move || {
            let mut w = std::io::BufWriter::with_capacity(1 << 16, ChannelWriter(tx));
            // stops with an error once the reader has what it needs and hangs up
            let _ = bincode::serialize_into(&mut w, pp);
            let _ = std::io::Write::flush(&mut w);
        });
        if writer.is_err() {
            return None; // no second thread: no count
        }
        let mut r = ChannelReader {
            rx,
            buf: Vec::new(),
            pos: 0,
        };
        let p = bincode::deserialize_from::<_, Prefix>(&mut r).ok();
        drop(r);
        p
    });
    decoded.map(|p| r1cs_num_cons(&p.8.r1cs)).unwrap_or(0)
}

/// A value decoded and dropped at once (to skip over it in an encoding).
struct Skip<T>(std::marker::PhantomData<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Skip<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(d).map(|_| Skip(std::marker::PhantomData))
    }
}

/// The sending end of a byte pipe between two threads.
struct ChannelWriter(std::sync::mpsc::SyncSender<Vec<u8>>);

impl std::io::Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .send(buf.to_vec())
            .map_err(|_| std::io::Error::other("reader gone"))?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The receiving end of a byte pipe between two threads.
struct ChannelReader {
    rx: std::sync::mpsc::Receiver<Vec<u8>>,
    buf: Vec<u8>,
    pos: usize,
}

impl std::io::Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.pos == self.buf.len() {
            match self.rx.recv() {
                Ok(b) => (self.buf, self.pos) = (b, 0),
                Err(_) => return Ok(0), // the writer is done
            }
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The streamed count equals the count read from the whole encoding decoded at once (the
    /// former way).
    #[test]
    fn the_streamed_secondary_count_matches_the_whole_encoding() {
        type Ck<E> =
            <<E as Engine>::CE as arecibo::traits::commitment::CommitmentEngineTrait<E>>::CommitmentKey;
        #[derive(Deserialize)]
        struct AugParams {
            _limb_width: usize,
            _n_limbs: usize,
            _is_primary: bool,
        }
        #[derive(Deserialize)]
        #[serde(bound = "")]
        struct Shape<E: Engine> {
            _arity: usize,
            r1cs: arecibo::r1cs::R1CSShape<E>,
        }
        type Whole = (
            Vec<Shape<E1>>,
            arecibo::traits::ROConstants<E1>,
            arecibo::traits::ROConstantsCircuit<E2>,
            Ck<E1>,
            AugParams,
            arecibo::traits::ROConstants<E2>,
            arecibo::traits::ROConstantsCircuit<E1>,
            Ck<E2>,
            Shape<E2>,
        );
        let pp = crate::backends::stream::setup(crate::backends::stream::StreamShape {
            ops_per_step: 2,
            boundary_slots: 1,
            time_bits: 16,
        });
        let whole: Whole = bincode::deserialize(&bincode::serialize(&pp).unwrap()).unwrap();
        let want = r1cs_num_cons(&whole.8.r1cs);
        assert!(want > 1000, "{want}");
        assert_eq!(supernova_secondary_constraints(&pp), want);
    }
}
