//! Encodings the file formats share: decoding untrusted bincode without letting a dependency's
//! panic escape, and field elements as bytes and hex.

use crate::engine::F;
use bincode::Options;
use ff::PrimeField;

/// Deserialize untrusted `bytes` with `codec`. The serde impls of arecibo and neptune types may
/// assert on malformed input, so a panic is caught here: `Err(None)`; a decoding error is
/// `Err(Some(message))`. Shared by the proof-file, params-cache and checkpoint decoders.
pub fn deserialize_caught<T: serde::de::DeserializeOwned>(
    codec: impl Options + std::panic::UnwindSafe,
    bytes: &[u8],
) -> Result<T, Option<String>> {
    match std::panic::catch_unwind(|| codec.deserialize::<T>(bytes)) {
        Ok(Ok(t)) => Ok(t),
        Ok(Err(e)) => Err(Some(e.to_string())),
        Err(_) => Err(None),
    }
}

/// Bytes of a field element (canonical little-endian).
pub fn f_to_bytes(f: &F) -> [u8; 32] {
    f.to_repr()
}

/// `0x`-prefixed big-endian hex of a field element, for display.
pub fn f_hex(f: &F) -> String {
    let mut b = f.to_repr();
    b.reverse();
    format!(
        "0x{}",
        b.iter().map(|x| format!("{x:02x}")).collect::<String>()
    )
}
