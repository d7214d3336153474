//! Digests that name a set of keys: the public parameters' digest and the SHA3-256 of the
//! verifier key's encoding, with the buffered hashing that makes the second affordable.

use sha3::{Digest, Sha3_256};

/// Digests that identify a set of keys: the public parameters (arecibo's digest, which covers
/// the circuits and commitment keys) and the SNARK verifier key (SHA3-256 of its encoding).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KeyDigests {
    /// Digest of the public parameters (the one written into proof headers).
    pub params: [u8; 32],
    /// SHA3-256 of the verifier key's canonical encoding.
    pub vk: [u8; 32],
}

/// SHA3-256 of a value's canonical bincode encoding. The encoding goes through a buffer: field
/// elements encode a byte at a time, and hashing each byte on its own made this about three
/// times slower (2.6 s for a 180 MB verifier key).
pub fn sha3_of<T: serde::Serialize>(value: &T) -> [u8; 32] {
    struct Sink(Sha3_256);
    impl std::io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.update(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut buffered = std::io::BufWriter::with_capacity(1 << 16, Sink(Sha3_256::new()));
    bincode::serialize_into(&mut buffered, value).expect("keys encode");
    match buffered.into_inner() {
        Ok(sink) => sink.0.finalize().into(),
        Err(_) => unreachable!("the sink never fails"),
    }
}

/// [`KeyDigests`] from the parameters' digest (`params`, arecibo's, which hashes them a byte at a
/// time) and the SHA3-256 of the verifier key's encoding, computed on two threads: each hashes
/// about as many bytes as the other (both hold the circuits' matrices).
pub fn key_digests<V: serde::Serialize + Sync>(
    params: impl FnOnce() -> [u8; 32] + Send,
    vk: &V,
) -> KeyDigests {
    std::thread::scope(|s| {
        // no second thread (e.g. a process limit): hash one after the other
        let Ok(vk_hash) = std::thread::Builder::new().spawn_scoped(s, || sha3_of(vk)) else {
            return KeyDigests {
                params: params(),
                vk: sha3_of(vk),
            };
        };
        let params = params();
        KeyDigests {
            params,
            vk: vk_hash.join().expect("hashing does not panic"),
        }
    })
}

/// SHA3-256 of bytes.
pub fn sha3_bytes(bytes: &[u8]) -> [u8; 32] {
    Sha3_256::digest(bytes).into()
}

/// `0x`-prefixed lowercase hex of a byte string.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(2 + 2 * bytes.len());
    s.push_str("0x");
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Parse `0x` + 64 hex digits.
pub fn parse_hex32(s: &str) -> Option<[u8; 32]> {
    let h = s.strip_prefix("0x")?;
    if h.len() != 64 || !h.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&h[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::F;

    #[test]
    fn buffered_sha3_of_hashes_the_plain_encoding() {
        // longer than the buffer, with field elements (which encode a byte at a time)
        let v: (Vec<u8>, Vec<F>) = (
            (0..200_000u32).map(|i| i as u8).collect(),
            (0..5_000u64).map(F::from).collect(),
        );
        let plain = bincode::serialize(&v).unwrap();
        assert!(plain.len() > 1 << 16);
        assert_eq!(sha3_of(&v), sha3_bytes(&plain));
        let d = key_digests(|| [7; 32], &v);
        assert_eq!(
            d,
            KeyDigests {
                params: [7; 32],
                vk: sha3_bytes(&plain)
            }
        );
    }
}
