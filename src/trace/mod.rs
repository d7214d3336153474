//! Memory-operation records, the JSON Lines trace format (streaming reader and writer) and the
//! native consistency checker.

use crate::word::Word;
use serde_json::value::RawValue;
use serde_json::Value as Json;
use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use thiserror::Error;

/// Kind of a memory operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum OpKind {
    /// Returns the last value written to the address (0 if never written).
    Read,
    /// Stores a value at the address.
    Write,
    /// Stack push: a write at the stack pointer's address (the stack discipline is enforced by
    /// the SuperNova backend; the other backends prove it as a write).
    Push,
    /// Stack pop: a read at the address below the stack pointer.
    Pop,
}

impl OpKind {
    /// Name used in the trace format.
    pub fn as_str(&self) -> &'static str {
        match self {
            OpKind::Read => "read",
            OpKind::Write => "write",
            OpKind::Push => "push",
            OpKind::Pop => "pop",
        }
    }

    /// True for kinds that store a value (write, push).
    pub fn is_write(&self) -> bool {
        matches!(self, OpKind::Write | OpKind::Push)
    }

    /// True for the stack kinds (push, pop).
    pub fn is_stack(&self) -> bool {
        matches!(self, OpKind::Push | OpKind::Pop)
    }

    /// Opcode bound into trace hashes: read 0, write 1, push 2, pop 3 — i.e.
    /// `is_write + 3·is_stack − 2·is_write·is_stack`.
    pub fn opcode(&self) -> u64 {
        match self {
            OpKind::Read => 0,
            OpKind::Write => 1,
            OpKind::Push => 2,
            OpKind::Pop => 3,
        }
    }
}

impl fmt::Display for OpKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One word-level memory operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Op {
    /// Read or write.
    pub kind: OpKind,
    /// Word address.
    pub addr: u64,
    /// Value read or written.
    pub value: Word,
}

impl Op {
    /// A read of `value` at `addr`.
    pub fn read(addr: u64, value: impl Into<Word>) -> Self {
        Op {
            kind: OpKind::Read,
            addr,
            value: value.into(),
        }
    }
    /// A write of `value` at `addr`.
    pub fn write(addr: u64, value: impl Into<Word>) -> Self {
        Op {
            kind: OpKind::Write,
            addr,
            value: value.into(),
        }
    }
}

impl From<u64> for Word {
    fn from(v: u64) -> Self {
        Word::from_u64(v)
    }
}

/// Allowed word sizes of a trace, in bits.
pub const WORD_BITS: [u32; 3] = [32, 64, 256];

/// A malformed or inconsistent trace, with the 1-based line it was found on.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum TraceError {
    /// The line is not a JSON object.
    #[error("line {line}: invalid JSON: {msg}")]
    Json {
        /// Line number.
        line: usize,
        /// Parser message.
        msg: String,
    },
    /// A key appears twice in one line.
    #[error("line {line}: duplicate key `{key}`")]
    DuplicateKey {
        /// Line number.
        line: usize,
        /// The key.
        key: String,
    },
    /// A key other than `op`, `addr`, `value`.
    #[error("line {line}: unknown key `{key}` (a trace line has exactly op, addr and value)")]
    UnknownKey {
        /// Line number.
        line: usize,
        /// The key.
        key: String,
    },
    /// The line is not UTF-8, or starts with a byte-order mark.
    #[error("line {line}: {msg}")]
    Encoding {
        /// Line number.
        line: usize,
        /// What is wrong.
        msg: String,
    },
    /// A required field is absent.
    #[error("line {line}: missing field `{field}`")]
    MissingField {
        /// Line number.
        line: usize,
        /// Field name.
        field: &'static str,
    },
    /// `op` is not a known operation.
    #[error("line {line}: unknown op {op:?} (expected \"read\", \"write\", \"push\" or \"pop\")")]
    UnknownOp {
        /// Line number.
        line: usize,
        /// What was found.
        op: String,
    },
    /// A number could not be parsed.
    #[error("line {line}: bad {field}: {msg}")]
    BadNumber {
        /// Line number.
        line: usize,
        /// Field name.
        field: &'static str,
        /// What is wrong.
        msg: String,
    },
    /// The address is not below 2^64 (or the configured address width).
    #[error("line {line}: address {addr} out of range (must be < 2^{bits})")]
    AddrOutOfRange {
        /// Line number.
        line: usize,
        /// The address as written.
        addr: String,
        /// Address width in bits.
        bits: u32,
    },
    /// The value does not fit the word size.
    #[error("line {line}: value {value} does not fit in a {bits}-bit word")]
    ValueTooWide {
        /// Line number.
        line: usize,
        /// The value.
        value: String,
        /// Word size in bits.
        bits: u32,
    },
    /// A read that does not return the last value written.
    #[error("line {line}: read of {addr:#x} returned {got}, last written {expected}")]
    Inconsistent {
        /// Line number.
        line: usize,
        /// Word address.
        addr: u64,
        /// Value the trace claims.
        got: Word,
        /// Value memory holds.
        expected: Word,
    },
    /// The file could not be read.
    #[error("{path}: {msg}")]
    Io {
        /// File path.
        path: String,
        /// OS message.
        msg: String,
    },
}

impl TraceError {
    /// The 1-based line number the error refers to, if any.
    pub fn line(&self) -> Option<usize> {
        match self {
            TraceError::Json { line, .. }
            | TraceError::DuplicateKey { line, .. }
            | TraceError::UnknownKey { line, .. }
            | TraceError::Encoding { line, .. }
            | TraceError::MissingField { line, .. }
            | TraceError::UnknownOp { line, .. }
            | TraceError::BadNumber { line, .. }
            | TraceError::AddrOutOfRange { line, .. }
            | TraceError::ValueTooWide { line, .. }
            | TraceError::Inconsistent { line, .. } => Some(*line),
            TraceError::Io { .. } => None,
        }
    }
}

/// A trace line's top-level fields, in order, with their raw JSON text: read once, so a
/// duplicate key is an error instead of whichever copy a map keeps.
struct Fields<'a>(Vec<(String, &'a RawValue)>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for Fields<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for V<'a> {
            type Value = Fields<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut m: M,
            ) -> Result<Fields<'a>, M::Error> {
                let mut fields: Vec<(String, &'a RawValue)> = Vec::new();
                while let Some(key) = m.next_key::<String>()? {
                    if fields.iter().any(|(k, _)| *k == key) {
                        return Err(serde::de::Error::custom(format!("{DUPLICATE}`{key}`")));
                    }
                    let value = m.next_value()?;
                    fields.push((key, value));
                }
                Ok(Fields(fields))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// Marker of the duplicate-key message (the JSON parser wraps custom errors with a position).
const DUPLICATE: &str = "duplicate key ";

/// Parse a number field from its raw JSON text: an integer literal (at most `u64`), or a string
/// in decimal or `0x` hex.
fn parse_num(raw: &RawValue, line: usize, field: &'static str) -> Result<Word, TraceError> {
    let bad = |msg: String| TraceError::BadNumber { line, field, msg };
    let text = raw.get();
    match text.as_bytes().first() {
        Some(b'"') => {
            let s: String = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
            Word::parse(&s).map_err(bad)
        }
        Some(b'-') if !text.contains(['.', 'e', 'E']) => {
            Err(bad(format!("negative number {text}")))
        }
        Some(b'-' | b'0'..=b'9') if text.contains(['.', 'e', 'E']) => {
            Err(bad(format!("{text} is not an integer")))
        }
        Some(b'0'..=b'9') => match text.parse::<u64>() {
            Ok(x) => Ok(Word::from_u64(x)),
            Err(_) => Err(bad(format!(
                "{text} is too large for a JSON number; write it as a string"
            ))),
        },
        _ => Err(bad(format!("expected a number or string, found {text}"))),
    }
}

/// Parse one trace line (already known to be non-blank) into an [`Op`]. A line reads one way
/// only: a duplicate key, a non-integer number or a byte-order mark is malformed.
pub fn parse_line(text: &str, line: usize, word_bits: u32) -> Result<Op, TraceError> {
    if text.starts_with('\u{feff}') {
        return Err(TraceError::Encoding {
            line,
            msg: "byte-order mark (write the trace as UTF-8 without a BOM)".into(),
        });
    }
    let fields: Fields = serde_json::from_str(text).map_err(|e| {
        let msg = e.to_string();
        match msg.find(DUPLICATE) {
            Some(i) => TraceError::DuplicateKey {
                line,
                key: msg[i + DUPLICATE.len()..]
                    .split('`')
                    .nth(1)
                    .unwrap_or_default()
                    .to_string(),
            },
            None => TraceError::Json { line, msg },
        }
    })?;
    let get = |field: &'static str| {
        fields
            .0
            .iter()
            .find(|(k, _)| k == field)
            .map(|(_, v)| *v)
            .ok_or(TraceError::MissingField { line, field })
    };
    if let Some((k, _)) = fields
        .0
        .iter()
        .find(|(k, _)| !["op", "addr", "value"].contains(&k.as_str()))
    {
        return Err(TraceError::UnknownKey {
            line,
            key: k.clone(),
        });
    }
    let op_raw = get("op")?;
    let kind = match serde_json::from_str::<Json>(op_raw.get()) {
        Ok(Json::String(s)) => match s.as_str() {
            "read" => OpKind::Read,
            "write" => OpKind::Write,
            "push" => OpKind::Push,
            "pop" => OpKind::Pop,
            _ => return Err(TraceError::UnknownOp { line, op: s }),
        },
        _ => {
            return Err(TraceError::UnknownOp {
                line,
                op: op_raw.get().to_string(),
            })
        }
    };
    let addr_raw = get("addr")?;
    let addr = match parse_num(addr_raw, line, "addr") {
        Ok(a) => a,
        Err(TraceError::BadNumber { msg, .. })
            if msg.contains("too large") || msg.contains("256 bits") =>
        {
            return Err(TraceError::AddrOutOfRange {
                line,
                addr: addr_raw.get().to_string(),
                bits: 64,
            })
        }
        Err(e) => return Err(e),
    };
    let addr = addr.to_u64().ok_or_else(|| TraceError::AddrOutOfRange {
        line,
        addr: addr.to_string(),
        bits: 64,
    })?;
    let value = parse_num(get("value")?, line, "value")?;
    if !value.fits(word_bits) {
        return Err(TraceError::ValueTooWide {
            line,
            value: value.to_string(),
            bits: word_bits,
        });
    }
    Ok(Op { kind, addr, value })
}

/// Streaming reader of a JSON Lines trace: yields `(line_number, op)` one line at a time.
pub struct TraceReader<R: BufRead> {
    reader: R,
    line: usize,
    word_bits: u32,
    buf: Vec<u8>,
    path: String,
    failed: bool,
}

impl TraceReader<BufReader<File>> {
    /// Open a trace file.
    pub fn open(path: &Path, word_bits: u32) -> Result<Self, TraceError> {
        let f = File::open(path).map_err(|e| TraceError::Io {
            path: path.display().to_string(),
            msg: e.to_string(),
        })?;
        let mut r = TraceReader::new(BufReader::new(f), word_bits);
        r.path = path.display().to_string();
        Ok(r)
    }
}

impl<R: BufRead> TraceReader<R> {
    /// Read a trace from any buffered reader.
    pub fn new(reader: R, word_bits: u32) -> Self {
        TraceReader {
            reader,
            line: 0,
            word_bits,
            buf: Vec::new(),
            path: "<input>".into(),
            failed: false,
        }
    }
}

impl<R: BufRead> Iterator for TraceReader<R> {
    type Item = Result<(usize, Op), TraceError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        loop {
            self.buf.clear();
            self.line += 1;
            match self.reader.read_until(b'\n', &mut self.buf) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => {
                    self.failed = true;
                    return Some(Err(TraceError::Io {
                        path: self.path.clone(),
                        msg: format!("line {}: {e}", self.line),
                    }));
                }
            }
            let text = match std::str::from_utf8(&self.buf) {
                Ok(t) => t,
                Err(e) => {
                    self.failed = true;
                    return Some(Err(TraceError::Encoding {
                        line: self.line,
                        msg: format!("not valid UTF-8 (byte {})", e.valid_up_to() + 1),
                    }));
                }
            };
            if text.trim().is_empty() {
                continue;
            }
            let r = parse_line(text, self.line, self.word_bits).map(|op| (self.line, op));
            self.failed = r.is_err();
            return Some(r);
        }
    }
}

/// Render one op as a trace line (without the newline).
pub fn format_line(op: &Op) -> String {
    format!(
        "{{\"op\":\"{}\",\"addr\":{},\"value\":\"{}\"}}",
        op.kind, op.addr, op.value
    )
}

/// Write ops as JSON Lines.
pub fn write_jsonl<'a, W: Write>(
    mut w: W,
    ops: impl IntoIterator<Item = &'a Op>,
) -> std::io::Result<()> {
    for op in ops {
        writeln!(w, "{}", format_line(op))?;
    }
    w.flush()
}

/// Statistics gathered by the [`Checker`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TraceStats {
    /// Total operations.
    pub ops: u64,
    /// Reads.
    pub reads: u64,
    /// Writes.
    pub writes: u64,
    /// Distinct addresses touched.
    pub distinct_addrs: u64,
}

/// Native memory-consistency checker: feed ops in order, it rejects the first read that does
/// not return the last value written (or 0).
#[derive(Clone, Debug, Default)]
pub struct Checker {
    mem: HashMap<u64, Word>,
    stats: TraceStats,
}

impl Checker {
    /// An empty memory.
    pub fn new() -> Self {
        Self::default()
    }

    /// Current value at `addr` (0 if never written).
    pub fn get(&self, addr: u64) -> Word {
        self.mem.get(&addr).copied().unwrap_or(Word::ZERO)
    }

    /// Set a cell before any op (an initial memory image).
    pub fn preload(&mut self, addr: u64, value: Word) {
        self.mem.insert(addr, value);
    }

    /// Check and apply one op found on `line`.
    pub fn apply(&mut self, line: usize, op: &Op) -> Result<(), TraceError> {
        let cell = self.mem.entry(op.addr).or_insert(Word::ZERO);
        match op.kind {
            OpKind::Read | OpKind::Pop => {
                if *cell != op.value {
                    return Err(TraceError::Inconsistent {
                        line,
                        addr: op.addr,
                        got: op.value,
                        expected: *cell,
                    });
                }
                self.stats.reads += 1;
            }
            OpKind::Write | OpKind::Push => {
                *cell = op.value;
                self.stats.writes += 1;
            }
        }
        self.stats.ops += 1;
        Ok(())
    }

    /// Statistics so far.
    pub fn stats(&self) -> TraceStats {
        TraceStats {
            distinct_addrs: self.mem.len() as u64,
            ..self.stats.clone()
        }
    }
}

/// In-memory ops as a trace stream: `(line, op)` pairs numbered from 1, like a [`TraceReader`]
/// over their JSONL rendering.
pub fn numbered(ops: &[Op]) -> impl Iterator<Item = Result<(usize, Op), TraceError>> + Clone + '_ {
    ops.iter().enumerate().map(|(i, op)| Ok((i + 1, *op)))
}

/// Check a whole trace stream, returning its statistics or the first error.
pub fn check_stream<I: Iterator<Item = Result<(usize, Op), TraceError>>>(
    ops: I,
) -> Result<TraceStats, TraceError> {
    let mut c = Checker::new();
    for item in ops {
        let (line, op) = item?;
        c.apply(line, &op)?;
    }
    Ok(c.stats())
}

/// Number of ops (non-empty lines) in a regular trace file, for progress, the Halo2 domain and
/// `--range`, read a line at a time. `None` for a pipe, a device or `/dev/fd/N` (reading it here
/// would drain what the prover or verifier reads next, which would then see no ops) and for an
/// unreadable or non-UTF-8 file. The file offset is restored: where opening `/dev/stdin` of a
/// redirected file duplicates the descriptor (macOS, BSD), the offset is shared with the reader
/// that comes next.
pub fn count_ops(path: &Path) -> Option<u64> {
    use std::io::{Seek, SeekFrom};
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return None;
    }
    let f = File::open(path).ok()?;
    let at = (&f).stream_position().ok()?;
    let n = BufReader::new(&f).lines().try_fold(0u64, |n, l| {
        l.ok().map(|l| n + u64::from(!l.trim().is_empty()))
    });
    (&f).seek(SeekFrom::Start(at)).ok()?;
    n
}

pub mod gen;
#[cfg(test)]
mod tests;
