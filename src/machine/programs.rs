//! Programs for the memory machine: the built-in demo, insertion sort using memory, registers
//! and the stack, so its trace exercises every kind of access.

use crate::machine::{Layout, LayoutConfig, Machine, MachineError, SectionKind, WordSize};
use crate::word::Word;

/// First word address of the demo machine's layout (34-bit addresses, like a real heap).
pub const ANCHOR: u64 = 0x3_ffff_0000;
/// Word address of the demo machine's stack (after one guard buffer of the default layout).
pub const STACK_BASE: u64 = ANCHOR + 64;

/// Registers used by the program.
const R_I: u64 = 0;
const R_J: u64 = 1;
const R_KEY: u64 = 2;
const R_TMP: u64 = 3;

/// Run insertion sort over `n` pseudo-random 64-bit words (seeded) and return the machine with
/// its trace. The sorted array is checked before returning.
pub fn insertion_sort(n: usize, seed: u64) -> Result<Machine, MachineError> {
    // 34-bit word addresses, like a real program's heap
    let cfg = LayoutConfig {
        anchor: ANCHOR,
        ..LayoutConfig::default()
    };
    let mut m = Machine::new(WordSize::W64, Layout::head(&cfg)?);
    let base = m.section_base(SectionKind::Memory)?;
    let at = |i: u64| base + 8 * i;
    let mut x = seed | 1;
    for i in 0..n as u64 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        m.write(at(i), Word::from_u64(x % 1000))?;
    }
    for i in 1..n as u64 {
        m.set(R_I, Word::from_u64(i))?;
        m.push(Word::from_u64(i))?; // save the loop counter across the inner loop
        let key = m.read(at(i))?;
        m.set(R_KEY, key)?;
        let mut j = i;
        while j > 0 {
            m.set(R_J, Word::from_u64(j - 1))?;
            let prev = m.read(at(j - 1))?;
            if prev <= m.get(R_KEY)? {
                break;
            }
            m.set(R_TMP, prev)?;
            m.write(at(j), prev)?;
            j -= 1;
        }
        m.mov(R_TMP, R_KEY)?;
        m.write(at(j), key)?;
        let saved = m.pop()?;
        debug_assert_eq!(saved, Word::from_u64(i));
    }
    let mut last = Word::ZERO;
    for i in 0..n as u64 {
        let v = m.read(at(i))?;
        assert!(v >= last, "insertion sort produced an unsorted array");
        last = v;
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::check_stream;

    #[test]
    fn demo_trace_is_consistent_and_uses_every_section() {
        let m = insertion_sort(16, 7).unwrap();
        let ops = m.ops();
        let stats = check_stream(crate::trace::numbered(&ops)).unwrap();
        assert!(stats.reads > 0 && stats.writes > 0);
        for kind in [
            SectionKind::Memory,
            SectionKind::Registers,
            SectionKind::Stack,
        ] {
            let s = m.layout().first(kind).unwrap();
            assert!(ops.iter().any(|o| s.contains(o.addr)), "{kind:?} is used");
        }
        assert!(ops.iter().all(|o| o.addr < 1 << 34), "34-bit addresses");
        assert_eq!(
            m.layout().first(SectionKind::Stack).unwrap().base,
            STACK_BASE
        );
        assert_eq!(
            m.layout().first(SectionKind::Stack).unwrap().words,
            1 << 8,
            "stack depth 2^8"
        );
        assert!(ops.iter().any(|o| o.kind.is_write() && o.addr >= 1 << 33));
    }
}
