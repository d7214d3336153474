//! Writing files so that a crash or a kill leaves either the old file or the new one, never a
//! truncated mix (proofs, key files, checkpoints, cached keys).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Write `parts` (concatenated) to `path` atomically: into a temporary file beside it, synced,
/// then renamed over `path`. On error the temporary file is removed and `path` is untouched.
pub fn write_atomically(path: &Path, parts: &[&[u8]]) -> std::io::Result<()> {
    write_atomically_with(path, |f| {
        for p in parts {
            f.write_all(p)?;
        }
        Ok(())
    })
}

/// [`write_atomically`] with the content written by `write` into the temporary file (which it
/// may seek in), so a large value can be encoded straight to disk without a copy in memory.
pub fn write_atomically_with(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> std::io::Result<()> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file name"))?;
    // a new file: never follows a link planted at the temporary's name; a name left by a
    // crashed process with the same id is skipped
    let (tmp, mut f) = {
        let mut tries = 0;
        loop {
            let mut tmp_name = name.to_os_string();
            tmp_name.push(format!(
                ".tmp{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
            let tmp: PathBuf = path.with_file_name(tmp_name);
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp)
            {
                Ok(f) => break (tmp, f),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && tries < 16 => tries += 1,
                Err(e) => return Err(e),
            }
        }
    };
    let written = (|| {
        write(&mut f)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// 64-bit FNV-1a: detects a torn or corrupted file. It is no defence against a forged one: a
/// framed file (a prover's checkpoint) only feeds its own prover, which checks what it reads.
fn fnv64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `payload` framed: `magic`, the payload's FNV-1a-64 (little-endian), the payload.
pub fn frame(magic: &[u8; 8], payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + payload.len());
    out.extend_from_slice(magic);
    out.extend_from_slice(&fnv64(payload).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// Why bytes are not [`frame`]d as expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unframed {
    /// Not framed with the expected magic: another kind of data, or another foldmem version.
    NoHeader,
    /// The checksum does not match: corrupted or truncated.
    Checksum,
}

impl Unframed {
    /// Why, naming what the bytes should have been (`"checkpoint"`, `"handoff"`).
    pub fn describe(self, what: &str) -> String {
        match self {
            Unframed::NoHeader => {
                format!("no {what} header (not a {what}, or one from another foldmem version)")
            }
            Unframed::Checksum => "checksum mismatch (the file is corrupted or truncated)".into(),
        }
    }
}

/// The payload of [`frame`]d bytes, or why they are not.
pub fn unframe<'a>(magic: &[u8; 8], bytes: &'a [u8]) -> Result<&'a [u8], Unframed> {
    if bytes.len() < 16 || bytes[..8] != magic[..] {
        return Err(Unframed::NoHeader);
    }
    let sum: [u8; 8] = bytes[8..16].try_into().expect("8 bytes");
    if sum != fnv64(&bytes[16..]).to_le_bytes() {
        return Err(Unframed::Checksum);
    }
    Ok(&bytes[16..])
}

/// Write `payload` to `path` atomically, [`frame`]d. [`read_framed`] reads it back.
pub fn write_framed(path: &Path, magic: &[u8; 8], payload: &[u8]) -> std::io::Result<()> {
    write_atomically(path, &[magic, &fnv64(payload).to_le_bytes(), payload])
}

/// Why a framed file could not be read back.
#[derive(Debug)]
pub enum FramedError {
    /// Reading failed.
    Io(std::io::Error),
    /// The file is not framed with the expected magic, or its checksum does not match.
    Bad(Unframed),
}

/// The payload of a file [`write_framed`] wrote with `magic`.
pub fn read_framed(path: &Path, magic: &[u8; 8]) -> Result<Vec<u8>, FramedError> {
    let mut bytes = std::fs::read(path).map_err(FramedError::Io)?;
    unframe(magic, &bytes).map_err(FramedError::Bad)?;
    bytes.drain(..16);
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temporary() {
        let dir = std::env::temp_dir().join(format!("foldmem-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("proof");
        write_atomically(&f, &[b"old"]).unwrap();
        write_atomically(&f, &[b"ne", b"w"]).unwrap();
        assert_eq!(std::fs::read(&f).unwrap(), b"new");
        // the rename fails (a directory stands at the target): the temporary is cleaned up
        let d = dir.join("taken");
        std::fs::create_dir_all(d.join("x")).unwrap();
        assert!(write_atomically(&d, &[b"data"]).is_err());
        let left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert!(left.iter().all(|n| !n.contains(".tmp")), "{left:?}");
        assert_eq!(std::fs::read(&f).unwrap(), b"new");
    }
}
