//! 256-bit little-endian machine words, their parsing and their field encoding.

use crate::engine::F;
use ff::{Field, PrimeField};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A machine word of up to 256 bits, stored as four little-endian 64-bit limbs.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Word(pub [u64; 4]);

impl Word {
    /// The all-zero word (the value of never-written memory).
    pub const ZERO: Word = Word([0; 4]);

    /// A word holding a 64-bit value.
    pub const fn from_u64(v: u64) -> Self {
        Word([v, 0, 0, 0])
    }

    /// A word holding a 128-bit value.
    pub const fn from_u128(v: u128) -> Self {
        Word([v as u64, (v >> 64) as u64, 0, 0])
    }

    /// Low 128 bits.
    pub const fn lo(&self) -> u128 {
        self.0[0] as u128 | ((self.0[1] as u128) << 64)
    }

    /// High 128 bits.
    pub const fn hi(&self) -> u128 {
        self.0[2] as u128 | ((self.0[3] as u128) << 64)
    }

    /// Number of significant bits (0 for zero).
    pub fn bit_len(&self) -> u32 {
        for i in (0..4).rev() {
            if self.0[i] != 0 {
                return 64 * i as u32 + 64 - self.0[i].leading_zeros();
            }
        }
        0
    }

    /// True if the value fits in `bits` bits.
    pub fn fits(&self, bits: u32) -> bool {
        self.bit_len() <= bits
    }

    /// The value as a `u64`, if it fits.
    pub fn to_u64(&self) -> Option<u64> {
        self.fits(64).then_some(self.0[0])
    }

    /// Little-endian bytes (32).
    pub fn to_le_bytes(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (i, l) in self.0.iter().enumerate() {
            out[8 * i..8 * i + 8].copy_from_slice(&l.to_le_bytes());
        }
        out
    }

    /// From little-endian bytes (at most 32; missing bytes are zero).
    pub fn from_le_bytes(bytes: &[u8]) -> Self {
        let mut buf = [0u8; 32];
        buf[..bytes.len()].copy_from_slice(bytes);
        let mut w = [0u64; 4];
        for (i, l) in w.iter_mut().enumerate() {
            *l = u64::from_le_bytes(buf[8 * i..8 * i + 8].try_into().unwrap());
        }
        Word(w)
    }

    /// Keep only the low `bits` bits.
    pub fn truncate(&self, bits: u32) -> Self {
        let mut w = self.0;
        for (i, l) in w.iter_mut().enumerate() {
            let lo = 64 * i as u32;
            if bits <= lo {
                *l = 0;
            } else if bits < lo + 64 {
                *l &= (1u64 << (bits - lo)) - 1;
            }
        }
        Word(w)
    }

    /// Parse a decimal or `0x`-prefixed hexadecimal string of at most 256 bits.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (digits, radix) = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
            Some(h) => (h, 16u64),
            None => (s, 10u64),
        };
        if digits.is_empty() {
            return Err("empty number".into());
        }
        let mut acc = [0u64; 4];
        for c in digits.chars() {
            let d = c
                .to_digit(radix as u32)
                .ok_or_else(|| format!("invalid digit {c:?} in {s:?}"))? as u64;
            let mut carry = d as u128;
            for limb in acc.iter_mut() {
                let t = (*limb as u128) * radix as u128 + carry;
                *limb = t as u64;
                carry = t >> 64;
            }
            if carry != 0 {
                return Err(format!("{s:?} exceeds 256 bits"));
            }
        }
        Ok(Word(acc))
    }

    /// The field element a memory leaf holds for this word: the value itself for words of at most
    /// 128 bits, `Poseidon(lo, hi)` (a distinct domain) for wider words — except that the zero
    /// word is always 0, the leaf of never-written memory (finding a nonzero word that hashes to
    /// 0 is a Poseidon preimage).
    pub fn to_field(&self, word_bits: u32) -> F {
        if word_bits <= 128 {
            F::from_u128(self.lo())
        } else if *self == Word::ZERO {
            F::ZERO
        } else {
            crate::hash::hash_wide_word(self.lo(), self.hi())
        }
    }
}

impl fmt::Display for Word {
    /// Decimal rendering.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0[1] == 0 && self.0[2] == 0 && self.0[3] == 0 {
            return write!(f, "{}", self.0[0]);
        }
        // repeated division by 10^19
        let mut limbs = self.0;
        let mut parts = Vec::new();
        const BASE: u64 = 10_000_000_000_000_000_000;
        while limbs.iter().any(|&l| l != 0) {
            let mut rem: u128 = 0;
            for l in limbs.iter_mut().rev() {
                let cur = (rem << 64) | *l as u128;
                *l = (cur / BASE as u128) as u64;
                rem = cur % BASE as u128;
            }
            parts.push(rem as u64);
        }
        let mut s = format!("{}", parts.pop().unwrap());
        while let Some(p) = parts.pop() {
            s.push_str(&format!("{p:019}"));
        }
        f.write_str(&s)
    }
}

impl fmt::Debug for Word {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Word({self})")
    }
}

impl fmt::LowerHex for Word {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut started = false;
        let mut s = String::new();
        for l in self.0.iter().rev() {
            if started {
                s.push_str(&format!("{l:016x}"));
            } else if *l != 0 {
                s.push_str(&format!("{l:x}"));
                started = true;
            }
        }
        if !started {
            s.push('0');
        }
        if f.alternate() {
            f.write_str("0x")?;
        }
        f.write_str(&s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display_round_trip() {
        for s in [
            "0",
            "1",
            "18446744073709551615",
            "18446744073709551616",
            "115792089237316195423570985008687907853269984665640564039457584007913129639935",
        ] {
            assert_eq!(Word::parse(s).unwrap().to_string(), s);
        }
        assert_eq!(Word::parse("0xff").unwrap(), Word::from_u64(255));
        assert_eq!(
            format!("{:#x}", Word::from_u128(1u128 << 64)),
            "0x10000000000000000"
        );
        assert!(Word::parse("0x1").is_ok());
        assert!(Word::parse(&format!("0x1{}", "0".repeat(64)))
            .unwrap_err()
            .contains("256 bits"));
        assert!(Word::parse("12a").unwrap_err().contains("invalid digit"));
        assert!(Word::parse("").is_err());
    }

    #[test]
    fn bit_len_truncate_bytes() {
        assert_eq!(Word::from_u64(0).bit_len(), 0);
        assert_eq!(Word::from_u64(1 << 40).bit_len(), 41);
        assert_eq!(Word::from_u128(1 << 100).bit_len(), 101);
        assert!(Word::from_u64(u32::MAX as u64).fits(32));
        assert!(!Word::from_u64(1 << 32).fits(32));
        assert_eq!(
            Word::from_u64(0x1_2345_6789).truncate(32),
            Word::from_u64(0x2345_6789)
        );
        let w = Word([1, 2, 3, 4]);
        assert_eq!(Word::from_le_bytes(&w.to_le_bytes()), w);
        assert_eq!(w.truncate(130), Word([1, 2, 3 & 3, 0]));
    }
}
