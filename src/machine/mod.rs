//! The memory machine a zkVM drives: word sizes, a layout of stack, register, read-only and
//! memory sections between guard buffers, byte-addressed (possibly unaligned) accesses, and the
//! word-level trace every access appends to.

mod layout;
pub mod programs;

pub use layout::{Layout, LayoutConfig, Section, SectionKind};

use crate::trace::{Op, OpKind};
use crate::word::Word;
use std::collections::HashMap;
use thiserror::Error;

/// Supported word sizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum WordSize {
    /// 32-bit words.
    W32,
    /// 64-bit words.
    W64,
    /// 256-bit words (two 128-bit limbs in the proof's leaf encoding).
    W256,
}

impl WordSize {
    /// Bits per word.
    pub const fn bits(self) -> u32 {
        match self {
            WordSize::W32 => 32,
            WordSize::W64 => 64,
            WordSize::W256 => 256,
        }
    }
    /// Bytes per word.
    pub const fn bytes(self) -> u64 {
        self.bits() as u64 / 8
    }
    /// Word size from a bit count (32, 64 or 256).
    pub fn from_bits(bits: u32) -> Option<Self> {
        match bits {
            32 => Some(WordSize::W32),
            64 => Some(WordSize::W64),
            256 => Some(WordSize::W256),
            _ => None,
        }
    }
}

/// A machine access that is not allowed.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum MachineError {
    /// The byte address falls outside every section (or into a guard buffer).
    #[error("access at byte address {0:#x} is outside every section")]
    OutOfBounds(u64),
    /// Write to a read-only section.
    #[error("write at byte address {addr:#x} to read-only section `{section}`")]
    ReadOnly {
        /// Section name.
        section: String,
        /// Byte address.
        addr: u64,
    },
    /// Push beyond the configured stack depth.
    #[error("stack overflow: depth {0} reached")]
    StackOverflow(u64),
    /// Pop from an empty stack.
    #[error("stack underflow: pop from an empty stack")]
    StackUnderflow,
    /// Register index out of range.
    #[error("register r{index} does not exist ({count} registers)")]
    BadRegister {
        /// Requested index.
        index: u64,
        /// Number of registers.
        count: u64,
    },
    /// Value wider than the word size.
    #[error("value {value} does not fit in a {bits}-bit word")]
    ValueTooWide {
        /// The value.
        value: Word,
        /// Word size in bits.
        bits: u32,
    },
    /// The layout does not fit in the address space or misses a section.
    #[error("invalid layout: {0}")]
    Layout(String),
}

/// One word-level access with its (strictly increasing, 1-based) time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    /// Time stamp.
    pub time: u64,
    /// The access.
    pub op: Op,
}

/// The memory machine.
#[derive(Clone, Debug)]
pub struct Machine {
    word: WordSize,
    layout: Layout,
    mem: HashMap<u64, Word>,
    sp: u64,
    time: u64,
    trace: Vec<Record>,
    drained: usize,
}

impl Machine {
    /// A machine with zeroed memory.
    pub fn new(word: WordSize, layout: Layout) -> Self {
        Machine {
            word,
            layout,
            mem: HashMap::new(),
            sp: 0,
            time: 0,
            trace: Vec::new(),
            drained: 0,
        }
    }

    /// Word size.
    pub fn word_size(&self) -> WordSize {
        self.word
    }

    /// Layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The full word-level trace so far.
    pub fn trace(&self) -> &[Record] {
        &self.trace
    }

    /// The records appended since the previous call (for streaming to a prover).
    pub fn drain_new(&mut self) -> Vec<Record> {
        let new = self.trace[self.drained..].to_vec();
        self.drained = self.trace.len();
        new
    }

    /// The trace as ops (time order).
    pub fn ops(&self) -> Vec<Op> {
        self.trace.iter().map(|r| r.op).collect()
    }

    /// Current stack depth.
    pub fn stack_depth(&self) -> u64 {
        self.sp
    }

    fn record(&mut self, op: Op) {
        self.time += 1;
        self.trace.push(Record {
            time: self.time,
            op,
        });
    }

    fn check_value(&self, v: Word) -> Result<(), MachineError> {
        if v.fits(self.word.bits()) {
            Ok(())
        } else {
            Err(MachineError::ValueTooWide {
                value: v,
                bits: self.word.bits(),
            })
        }
    }

    fn read_word(&mut self, waddr: u64) -> Word {
        let v = self.mem.get(&waddr).copied().unwrap_or(Word::ZERO);
        self.record(Op::read(waddr, v));
        v
    }

    fn write_word(&mut self, waddr: u64, v: Word) {
        self.mem.insert(waddr, v);
        self.record(Op::write(waddr, v));
    }

    /// Word addresses an access of one word at `byte_addr` touches (one if aligned, else two).
    fn span(&self, byte_addr: u64, write: bool) -> Result<(u64, u64, Option<u64>), MachineError> {
        let wb = self.word.bytes();
        let (w0, off) = (byte_addr / wb, byte_addr % wb);
        let words = if off == 0 {
            vec![w0]
        } else {
            vec![
                w0,
                w0.checked_add(1)
                    .ok_or(MachineError::OutOfBounds(byte_addr))?,
            ]
        };
        for &w in &words {
            let s = self
                .layout
                .section_of(w)
                .ok_or(MachineError::OutOfBounds(byte_addr))?;
            if write && !s.writable {
                return Err(MachineError::ReadOnly {
                    section: s.name.clone(),
                    addr: byte_addr,
                });
            }
        }
        Ok((off, w0, words.get(1).copied()))
    }

    /// Read the word at a byte address; an unaligned address reads the two words it straddles.
    pub fn read(&mut self, byte_addr: u64) -> Result<Word, MachineError> {
        let (off, w0, w1) = self.span(byte_addr, false)?;
        let v0 = self.read_word(w0);
        let Some(w1) = w1 else { return Ok(v0) };
        let v1 = self.read_word(w1);
        let (wb, o) = (self.word.bytes() as usize, off as usize);
        let (b0, b1) = (v0.to_le_bytes(), v1.to_le_bytes());
        let mut out = b0[o..wb].to_vec();
        out.extend_from_slice(&b1[..o]);
        Ok(Word::from_le_bytes(&out))
    }

    /// Write a word at a byte address; an unaligned write is a read-modify-write of both words.
    pub fn write(&mut self, byte_addr: u64, value: Word) -> Result<(), MachineError> {
        self.check_value(value)?;
        let (off, w0, w1) = self.span(byte_addr, true)?;
        let Some(w1) = w1 else {
            self.write_word(w0, value);
            return Ok(());
        };
        let (wb, o) = (self.word.bytes() as usize, off as usize);
        let (mut b0, mut b1) = (
            self.read_word(w0).to_le_bytes(),
            self.read_word(w1).to_le_bytes(),
        );
        let vb = value.to_le_bytes();
        b0[o..wb].copy_from_slice(&vb[..wb - o]);
        b1[..o].copy_from_slice(&vb[wb - o..wb]);
        self.write_word(w0, Word::from_le_bytes(&b0[..wb]));
        self.write_word(w1, Word::from_le_bytes(&b1[..wb]));
        Ok(())
    }

    /// Byte address of the first byte of section `kind` (e.g. for addressing memory).
    pub fn section_base(&self, kind: SectionKind) -> Result<u64, MachineError> {
        let s = self
            .layout
            .first(kind)
            .ok_or_else(|| MachineError::Layout(format!("no {kind:?} section")))?;
        Ok(s.base * self.word.bytes())
    }

    /// Push a word onto the stack.
    pub fn push(&mut self, value: Word) -> Result<(), MachineError> {
        self.check_value(value)?;
        let s = self
            .layout
            .first(SectionKind::Stack)
            .ok_or_else(|| MachineError::Layout("no stack section".into()))?;
        if self.sp >= s.words {
            return Err(MachineError::StackOverflow(s.words));
        }
        let a = s.base + self.sp;
        self.sp += 1;
        self.mem.insert(a, value);
        self.record(Op {
            kind: OpKind::Push,
            addr: a,
            value,
        });
        Ok(())
    }

    /// Pop the top word off the stack.
    pub fn pop(&mut self) -> Result<Word, MachineError> {
        let s = self
            .layout
            .first(SectionKind::Stack)
            .ok_or_else(|| MachineError::Layout("no stack section".into()))?;
        if self.sp == 0 {
            return Err(MachineError::StackUnderflow);
        }
        self.sp -= 1;
        let a = s.base + self.sp;
        let v = self.mem.get(&a).copied().unwrap_or(Word::ZERO);
        self.record(Op {
            kind: OpKind::Pop,
            addr: a,
            value: v,
        });
        Ok(v)
    }

    fn reg_addr(&self, index: u64) -> Result<u64, MachineError> {
        let s = self
            .layout
            .first(SectionKind::Registers)
            .ok_or_else(|| MachineError::Layout("no register section".into()))?;
        if index >= s.words {
            return Err(MachineError::BadRegister {
                index,
                count: s.words,
            });
        }
        Ok(s.base + index)
    }

    /// Set register `r`.
    pub fn set(&mut self, r: u64, value: Word) -> Result<(), MachineError> {
        self.check_value(value)?;
        let a = self.reg_addr(r)?;
        self.write_word(a, value);
        Ok(())
    }

    /// Read register `r`.
    pub fn get(&mut self, r: u64) -> Result<Word, MachineError> {
        let a = self.reg_addr(r)?;
        Ok(self.read_word(a))
    }

    /// Copy register `src` into `dst`.
    pub fn mov(&mut self, dst: u64, src: u64) -> Result<(), MachineError> {
        let (d, s) = (self.reg_addr(dst)?, self.reg_addr(src)?);
        let v = self.read_word(s);
        self.write_word(d, v);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
