//! `foldmem setup`: generate (and cache) the keys of a shape and write the key file that pins
//! them for `verify --vk`.

use super::{kv, lines, word_bits, Common};
use clap::Args;
use foldmem::backend::FlagContext;
use foldmem::proof::KeyFile;
use foldmem::registry::ShapeArgs;
use foldmem::Error;
use std::path::PathBuf;

/// Generate (and cache) the keys of a shape and write a key file that pins them: give it to
/// `verify --vk` so it accepts proofs of this shape, word size and keys only.
#[derive(Args)]
pub struct SetupArgs {
    /// Output key file.
    #[arg(short, long)]
    output: PathBuf,
    #[command(flatten)]
    shape: ShapeArgs,
    /// Word size the pinned statement is about [default: 64].
    #[arg(long, value_parser = word_bits)]
    word_bits: Option<u32>,
    #[command(flatten)]
    common: Common,
}

/// Run `setup`.
pub fn run(a: SetupArgs) -> Result<(), Error> {
    let sel = a.shape.select(None, None, &FlagContext::default())?;
    a.shape.check_pinnable(&sel)?;
    let shape = sel.shape;
    let keys = a.common.keys(shape, None, sel.key)?;
    let file = KeyFile::new(shape, a.word_bits.unwrap_or(64), keys.digests());
    foldmem::files::write_atomically(&a.output, &[&file.to_bytes()])
        .map_err(|e| Error::io(&a.output, e))?;
    lines(shape.statement());
    kv("word_bits", file.word_bits);
    lines(keys.trust_lines());
    kv("setup_s", format!("{:.2}", keys.setup_s));
    kv("key_file", a.output.display());
    Ok(())
}
