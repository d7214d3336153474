//! The built-in key digest table (`cache::KNOWN_KEYS`) lists what this build generates for every
//! default shape, so the verifier can trust the parameter cache for those shapes without a key
//! file. A circuit change makes this test fail and print the lines to paste into the table.

use foldmem::backend::KeyOptions;
use foldmem::digest::hex;
use foldmem::pipeline;
use foldmem::registry::Shape;

/// The shapes `prove` uses when no shape flag is given, one per cached backend, and the demo's
/// stream shape.
fn default_shapes() -> Vec<Shape> {
    let mut v = foldmem::registry::default_shapes();
    v.push(Shape::new(foldmem::backends::stream::StreamShape::DEMO).unwrap());
    v
}

#[test]
fn known_key_digests_match_what_this_build_generates() {
    let mut lines = Vec::new();
    let mut stale = Vec::new();
    for shape in default_shapes() {
        let keys = pipeline::keys(shape, &KeyOptions::none()).unwrap_or_else(|e| {
            // a stale entry makes generation itself fail: report what was generated instead
            panic!("{}: {e}", shape.cache_name())
        });
        let d = keys.digests();
        let line = format!(
            "    (\n        \"{}\",\n        \"{}\",\n        \"{}\",\n    ),",
            shape.cache_name(),
            hex(&d.params),
            hex(&d.vk)
        );
        if foldmem::cache::known_digests(&shape.cache_name()) != Some(d) {
            stale.push(shape.cache_name());
        }
        lines.push(line);
    }
    assert!(
        stale.is_empty(),
        "stale or missing in cache::KNOWN_KEYS: {stale:?}; the table should read:\n{}",
        lines.join("\n")
    );
    assert_eq!(foldmem::cache::KNOWN_KEYS.len(), default_shapes().len());
}
