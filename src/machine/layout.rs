//! Section layouts of the memory machine (head and tail placement with guard buffers).

use super::MachineError;

/// What a section is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum SectionKind {
    /// The stack (`push`/`pop`).
    Stack,
    /// Registers (`set`/`get`/`mov`).
    Registers,
    /// Read-only data.
    ReadOnly,
    /// General read/write memory.
    Memory,
}

/// A contiguous range of word addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    /// Name for error messages.
    pub name: String,
    /// Purpose.
    pub kind: SectionKind,
    /// First word address.
    pub base: u64,
    /// Length in words.
    pub words: u64,
    /// Whether writes are allowed.
    pub writable: bool,
}

impl Section {
    /// True if word address `w` lies in this section.
    pub fn contains(&self, w: u64) -> bool {
        w >= self.base && w - self.base < self.words
    }
}

/// Sizes of the standard sections, in words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LayoutConfig {
    /// First word address of the layout (head) or one past its last (tail).
    pub anchor: u64,
    /// Stack depth.
    pub stack_words: u64,
    /// Number of registers.
    pub registers: u64,
    /// Read-only data words (0 for none).
    pub readonly_words: u64,
    /// General memory words.
    pub memory_words: u64,
    /// Guard buffer between (and around) sections.
    pub guard_words: u64,
}

impl Default for LayoutConfig {
    fn default() -> Self {
        LayoutConfig {
            anchor: 0x1000,
            stack_words: 256,
            registers: 16,
            readonly_words: 64,
            memory_words: 1 << 20,
            guard_words: 64,
        }
    }
}

/// Placed sections (sorted by base address).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    sections: Vec<Section>,
}

impl Layout {
    fn place(specs: Vec<(SectionKind, u64)>, start: u64, guard: u64) -> Result<Self, MachineError> {
        let overflow = || MachineError::Layout("sections overflow the 64-bit address space".into());
        let mut at = start.checked_add(guard).ok_or_else(overflow)?;
        let mut sections = Vec::new();
        for (kind, words) in specs {
            if words == 0 {
                continue;
            }
            let name = format!("{kind:?}").to_lowercase();
            sections.push(Section {
                name,
                kind,
                base: at,
                words,
                writable: kind != SectionKind::ReadOnly,
            });
            at = at
                .checked_add(words)
                .and_then(|a| a.checked_add(guard))
                .ok_or_else(overflow)?;
        }
        Ok(Layout { sections })
    }

    fn specs(c: &LayoutConfig) -> Vec<(SectionKind, u64)> {
        vec![
            (SectionKind::Stack, c.stack_words),
            (SectionKind::Registers, c.registers),
            (SectionKind::ReadOnly, c.readonly_words),
            (SectionKind::Memory, c.memory_words),
        ]
    }

    fn total(c: &LayoutConfig) -> Option<u64> {
        Self::specs(c)
            .iter()
            .filter(|s| s.1 > 0)
            .try_fold(c.guard_words, |acc, s| {
                acc.checked_add(s.1)?.checked_add(c.guard_words)
            })
    }

    /// Head layout: stack, registers, read-only data, memory, upward from `anchor`.
    pub fn head(c: &LayoutConfig) -> Result<Self, MachineError> {
        Self::total(c)
            .and_then(|t| c.anchor.checked_add(t))
            .ok_or_else(|| {
                MachineError::Layout("sections overflow the 64-bit address space".into())
            })?;
        Self::place(Self::specs(c), c.anchor, c.guard_words)
    }

    /// Tail layout: memory, read-only data, registers, stack, ending just below `anchor`.
    pub fn tail(c: &LayoutConfig) -> Result<Self, MachineError> {
        let total = Self::total(c).ok_or_else(|| {
            MachineError::Layout("sections overflow the 64-bit address space".into())
        })?;
        let start = c.anchor.checked_sub(total).ok_or_else(|| {
            MachineError::Layout(format!(
                "tail layout of {total} words does not fit below {:#x}",
                c.anchor
            ))
        })?;
        let mut specs = Self::specs(c);
        specs.reverse();
        Self::place(specs, start, c.guard_words)
    }

    /// All sections, by base address.
    pub fn sections(&self) -> &[Section] {
        &self.sections
    }

    /// The section holding word address `w`, if any.
    pub fn section_of(&self, w: u64) -> Option<&Section> {
        self.sections.iter().find(|s| s.contains(w))
    }

    /// The first section of a kind.
    pub fn first(&self, kind: SectionKind) -> Option<&Section> {
        self.sections.iter().find(|s| s.kind == kind)
    }
}
