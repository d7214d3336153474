//! The `foldmem` commands, one file each, and what they share: where keys come from, reading
//! traces, proofs and key files, and printing `key: value` lines.

pub mod bench;
pub mod check;
pub mod demo;
pub mod plan;
pub mod prove;
pub mod setup;
pub mod verify;

use clap::Args;
use foldmem::backend::{KeyOptions, Lines, Own, TraceItem};
use foldmem::digest::KeyDigests;
use foldmem::pipeline::{self, Keys};
use foldmem::proof::{KeyFile, Pin, ProofFile};
use foldmem::registry::Shape;
use foldmem::trace::{self, TraceReader};
use foldmem::Error;
use indicatif::ProgressBar;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// Options every key-using command takes: the parameter cache and progress display.
#[derive(Args, Clone)]
pub struct Common {
    /// Parameter cache directory (default: $FOLDMEM_CACHE or the platform cache dir).
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Do not read or write the parameter cache.
    #[arg(long)]
    pub no_cache: bool,
    /// No progress display.
    #[arg(long, short)]
    pub quiet: bool,
}

impl Common {
    fn cache(&self) -> Option<PathBuf> {
        if self.no_cache {
            None
        } else {
            self.cache_dir
                .clone()
                .or_else(foldmem::cache::default_cache_dir)
        }
    }

    /// Whether to draw progress on standard error.
    pub fn show_progress(&self) -> bool {
        !self.quiet && std::io::stderr().is_terminal()
    }

    /// Keys for `shape` with the cache, the pinned digests and the backend's key options.
    pub fn keys(&self, shape: Shape, pinned: Option<KeyDigests>, own: Own) -> Result<Keys, Error> {
        self.load(shape, pinned, own, false)
    }

    /// [`Common::keys`] to verify only (stream then loads its verifier key alone when the
    /// cache has it and its digest is trusted).
    pub fn verifier_keys(
        &self,
        shape: Shape,
        pinned: Option<KeyDigests>,
        own: Own,
    ) -> Result<Keys, Error> {
        self.load(shape, pinned, own, true)
    }

    fn load(
        &self,
        shape: Shape,
        pinned: Option<KeyDigests>,
        own: Own,
        verifier_only: bool,
    ) -> Result<Keys, Error> {
        let pb = if self.show_progress() {
            let pb = ProgressBar::new_spinner().with_message("setting up parameters");
            pb.enable_steady_tick(std::time::Duration::from_millis(120));
            pb
        } else {
            ProgressBar::hidden()
        };
        let opts = KeyOptions {
            cache_dir: self.cache(),
            pinned,
            backend: own,
            verifier_only,
        };
        let k = pipeline::keys(shape, &opts);
        pb.finish_and_clear();
        k
    }
}

/// `--word-bits`: 32, 64 or 256.
pub fn word_bits(s: &str) -> Result<u32, String> {
    match s.parse::<u32>() {
        Ok(b) if trace::WORD_BITS.contains(&b) => Ok(b),
        _ => Err(format!("word size must be 32, 64 or 256, got {s}")),
    }
}

/// Print one `key: value` line.
pub fn kv(key: &str, value: impl std::fmt::Display) {
    println!("{key}: {value}");
}

/// This process's peak resident memory so far, MiB (0 where `/proc` does not say).
pub fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// Print `key: value` lines.
pub fn lines(ls: Lines) {
    for (k, v) in ls {
        kv(k, v);
    }
}

/// A trace file.
pub fn trace_reader(
    path: &Path,
    word_bits: u32,
) -> Result<TraceReader<std::io::BufReader<std::fs::File>>, Error> {
    TraceReader::open(path, word_bits).map_err(Error::from)
}

/// Whether `path` names standard input (`-`).
pub fn is_stdin(path: &Path) -> bool {
    path == Path::new("-")
}

/// A trace file, or standard input for `-`.
pub fn open_trace(
    path: &Path,
    word_bits: u32,
) -> Result<Box<dyn Iterator<Item = TraceItem>>, Error> {
    if is_stdin(path) {
        Ok(Box::new(TraceReader::new(
            std::io::stdin().lock(),
            word_bits,
        )))
    } else {
        Ok(Box::new(trace_reader(path, word_bits)?))
    }
}

/// A proof file.
pub fn read_proof(path: &Path) -> Result<ProofFile, Error> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    ProofFile::from_bytes(&bytes).map_err(|e| Error::In {
        path: path.to_path_buf(),
        source: Box::new(e.into()),
    })
}

/// A key file and what it pins.
pub fn read_key_file(path: &Path) -> Result<(KeyFile, Pin), Error> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let usage = |e: foldmem::proof::KeyFileError| Error::Usage(format!("{}: {e}", path.display()));
    let f = KeyFile::from_bytes(&bytes).map_err(usage)?;
    let pin = f.pin().map_err(usage)?;
    Ok((f, pin))
}
