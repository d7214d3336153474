//! Tests of the memory machine: every op and error path.

use super::*;
use crate::trace::{check_stream, OpKind};

fn small(word: WordSize) -> Machine {
    let c = LayoutConfig {
        anchor: 0x100,
        stack_words: 4,
        registers: 4,
        readonly_words: 2,
        memory_words: 16,
        guard_words: 2,
    };
    Machine::new(word, Layout::head(&c).unwrap())
}

fn consistent(m: &Machine) {
    let ops = m.ops();
    check_stream(crate::trace::numbered(&ops)).expect("machine trace is consistent");
    assert!(
        m.trace().windows(2).all(|w| w[0].time < w[1].time),
        "times strictly increase"
    );
}

#[test]
fn read_write_each_word_size() {
    for ws in [WordSize::W32, WordSize::W64, WordSize::W256] {
        let mut m = small(ws);
        let base = m.section_base(SectionKind::Memory).unwrap();
        let wb = ws.bytes();
        assert_eq!(m.read(base + wb).unwrap(), Word::ZERO, "unwritten reads 0");
        let max = Word::from_u128(u128::MAX).truncate(ws.bits());
        let max = if ws == WordSize::W256 {
            Word([u64::MAX; 4])
        } else {
            max
        };
        m.write(base + wb, max).unwrap();
        assert_eq!(m.read(base + wb).unwrap(), max);
        assert_eq!(m.trace().len(), 3);
        assert_eq!(m.trace()[1].op, Op::write(base / wb + 1, max));
        consistent(&m);
    }
}

#[test]
fn value_too_wide_is_rejected() {
    let mut m = small(WordSize::W32);
    let base = m.section_base(SectionKind::Memory).unwrap();
    assert_eq!(
        m.write(base, Word::from_u64(1 << 32)),
        Err(MachineError::ValueTooWide {
            value: Word::from_u64(1 << 32),
            bits: 32
        })
    );
    assert!(matches!(
        m.push(Word::from_u64(1 << 40)),
        Err(MachineError::ValueTooWide { .. })
    ));
    assert!(matches!(
        m.set(0, Word::from_u64(1 << 40)),
        Err(MachineError::ValueTooWide { .. })
    ));
    assert!(m.trace().is_empty(), "rejected accesses leave no record");
}

#[test]
fn unaligned_access_splits_into_two_words() {
    let mut m = small(WordSize::W64);
    let base = m.section_base(SectionKind::Memory).unwrap();
    m.write(base, Word::from_u64(0x1111_1111_1111_1111))
        .unwrap();
    m.write(base + 8, Word::from_u64(0x2222_2222_2222_2222))
        .unwrap();
    m.write(base + 3, Word::from_u64(0xaabb_ccdd_eeff_0011))
        .unwrap();
    // read-modify-write of both words: 2 reads + 2 writes
    let kinds: Vec<OpKind> = m.trace()[2..].iter().map(|r| r.op.kind).collect();
    assert_eq!(
        kinds,
        vec![OpKind::Read, OpKind::Read, OpKind::Write, OpKind::Write]
    );
    assert_eq!(m.read(base).unwrap(), Word::from_u64(0xddee_ff00_1111_1111));
    assert_eq!(
        m.read(base + 8).unwrap(),
        Word::from_u64(0x2222_2222_22aa_bbcc)
    );
    assert_eq!(
        m.read(base + 3).unwrap(),
        Word::from_u64(0xaabb_ccdd_eeff_0011)
    );
    let n = m.trace().len();
    assert_eq!(
        m.trace()[n - 2].op.addr + 1,
        m.trace()[n - 1].op.addr,
        "unaligned read touches two consecutive words"
    );
    consistent(&m);
}

#[test]
fn unaligned_256_bit() {
    let mut m = small(WordSize::W256);
    let base = m.section_base(SectionKind::Memory).unwrap();
    let v = Word([1, 2, 3, 4]);
    m.write(base + 17, v).unwrap();
    assert_eq!(m.read(base + 17).unwrap(), v);
    consistent(&m);
}

#[test]
fn out_of_bounds_guard_and_readonly() {
    let mut m = small(WordSize::W64);
    let mem = m.layout().first(SectionKind::Memory).unwrap().clone();
    let end = (mem.base + mem.words) * 8;
    assert_eq!(
        m.read(end),
        Err(MachineError::OutOfBounds(end)),
        "guard after memory"
    );
    assert_eq!(
        m.read(end - 4),
        Err(MachineError::OutOfBounds(end - 4)),
        "unaligned straddling into the guard"
    );
    assert_eq!(m.read(0), Err(MachineError::OutOfBounds(0)));
    assert_eq!(m.read(u64::MAX), Err(MachineError::OutOfBounds(u64::MAX)));
    let ro = m.section_base(SectionKind::ReadOnly).unwrap();
    assert_eq!(m.read(ro).unwrap(), Word::ZERO);
    assert_eq!(
        m.write(ro, Word::from_u64(1)),
        Err(MachineError::ReadOnly {
            section: "readonly".into(),
            addr: ro
        })
    );
}

#[test]
fn stack_bounds() {
    let mut m = small(WordSize::W64);
    assert_eq!(m.pop(), Err(MachineError::StackUnderflow));
    for i in 0..4 {
        m.push(Word::from_u64(i + 10)).unwrap();
    }
    assert_eq!(
        m.push(Word::from_u64(99)),
        Err(MachineError::StackOverflow(4))
    );
    assert_eq!(m.stack_depth(), 4);
    for i in (0..4).rev() {
        assert_eq!(m.pop().unwrap(), Word::from_u64(i + 10));
    }
    assert_eq!(m.pop(), Err(MachineError::StackUnderflow));
    let stack = m.layout().first(SectionKind::Stack).unwrap().base;
    assert_eq!(
        m.trace()[0].op,
        Op {
            kind: OpKind::Push,
            addr: stack,
            value: Word::from_u64(10)
        }
    );
    assert_eq!(
        m.trace().last().unwrap().op,
        Op {
            kind: OpKind::Pop,
            addr: stack,
            value: Word::from_u64(10)
        }
    );
    consistent(&m);
}

#[test]
fn registers() {
    let mut m = small(WordSize::W64);
    m.set(1, Word::from_u64(7)).unwrap();
    m.mov(3, 1).unwrap();
    assert_eq!(m.get(3).unwrap(), Word::from_u64(7));
    assert_eq!(m.get(0).unwrap(), Word::ZERO);
    assert_eq!(
        m.get(4),
        Err(MachineError::BadRegister { index: 4, count: 4 })
    );
    assert_eq!(
        m.mov(9, 1),
        Err(MachineError::BadRegister { index: 9, count: 4 })
    );
    assert_eq!(
        m.set(5, Word::ZERO),
        Err(MachineError::BadRegister { index: 5, count: 4 })
    );
    assert_eq!(m.trace().len(), 5);
    consistent(&m);
}

#[test]
fn head_and_tail_layouts() {
    let c = LayoutConfig {
        anchor: 1 << 40,
        stack_words: 8,
        registers: 4,
        readonly_words: 0,
        memory_words: 100,
        guard_words: 16,
    };
    let h = Layout::head(&c).unwrap();
    let t = Layout::tail(&c).unwrap();
    assert_eq!(h.sections()[0].kind, SectionKind::Stack);
    assert_eq!(h.sections()[0].base, (1 << 40) + 16);
    assert_eq!(h.sections().len(), 3, "empty sections are skipped");
    assert_eq!(t.sections()[0].kind, SectionKind::Memory);
    let last = t.sections().last().unwrap();
    assert_eq!(last.kind, SectionKind::Stack);
    assert_eq!(
        last.base + last.words + 16,
        1 << 40,
        "tail ends (with its guard) at the anchor"
    );
    for l in [&h, &t] {
        for w in l.sections().windows(2) {
            assert_eq!(
                w[0].base + w[0].words + 16,
                w[1].base,
                "guard between sections"
            );
        }
    }
    let too_big = LayoutConfig {
        anchor: u64::MAX - 10,
        ..c
    };
    assert!(matches!(
        Layout::head(&too_big),
        Err(MachineError::Layout(_))
    ));
    let too_low = LayoutConfig { anchor: 10, ..c };
    assert!(matches!(
        Layout::tail(&too_low),
        Err(MachineError::Layout(_))
    ));
    let mut m = Machine::new(WordSize::W64, t);
    m.push(Word::from_u64(1)).unwrap();
    m.drain_new();
    m.set(0, Word::from_u64(2)).unwrap();
    assert_eq!(m.drain_new().len(), 1, "drain returns only new records");
}
