//! The Halo2 comparison path at the seam: its shape (the domain), its KZG parameters (always an
//! explicit choice, never a silent default), its keys and proofs.

use super::Halo2Error;
use super::{dev_params, domain_k, keys, params_digest, params_k, prove, read_params, verify, Kzg};
use crate::backend::{
    buffer_checked, collect_ops, flag, CacheEntry, Claim, FlagContext, Flags, KeyOptions,
    KeySource, Lines, Loaded, Progress, Proof, ProofSystem, ProveReport, ShapeError, ShapeSpec,
    TraceItem,
};
use crate::digest::{hex, KeyDigests};
use crate::engine::F;
use crate::error::Error;
use clap::Arg;
use halo2_axiom::poly::commitment::Params;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Shape of the Halo2 circuit: a domain of `2^k` rows (the parameters' size).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Halo2Shape {
    /// log2 of the domain size.
    pub k: u32,
}

/// Domain sizes the backend supports, as log2.
pub const DOMAIN_K: std::ops::RangeInclusive<u32> = 9..=21;

/// What a Halo2 proof claims besides the trace (its public input).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Halo2Outputs {
    /// Number of ops.
    pub op_count: u64,
    /// Word size in bits.
    pub word_bits: u32,
}

/// The KZG parameters the Halo2 backend runs with: always an explicit choice.
#[derive(Clone)]
pub enum Halo2Params {
    /// A ceremony's parameters read from `path`.
    File {
        /// Where they were read from (for display).
        path: String,
        /// The parameters.
        params: std::sync::Arc<Kzg>,
    },
    /// [`dev_params`]: deterministic, with a public trapdoor — anyone can forge.
    InsecureDev,
}

impl Halo2Params {
    /// Read ceremony parameters from a file.
    pub fn read(path: &std::path::Path) -> Result<Self, Error> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let params = read_params(&bytes)
            .map_err(|e| Error::Usage(format!("{}: not KZG parameters: {e}", path.display())))?;
        Ok(Halo2Params::File {
            path: path.display().to_string(),
            params: std::sync::Arc::new(params),
        })
    }
}

impl ShapeSpec for Halo2Shape {
    const BACKEND: &'static str = "halo2";
    type Keys = Halo2Keys;
    /// The KZG parameters (`None`: not chosen, which [`ShapeSpec::keys`] refuses).
    type KeyOpts = Option<Halo2Params>;
    type RunOpts = ();
    fn validate(&self) -> Result<(), ShapeError> {
        if DOMAIN_K.contains(&self.k) {
            Ok(())
        } else {
            Err(ShapeError::new(
                "rows_log2",
                format!(
                    "halo2 domain 2^{} out of range (2^{}..2^{})",
                    self.k,
                    DOMAIN_K.start(),
                    DOMAIN_K.end()
                ),
            ))
        }
    }
    fn ops_per_step(&self) -> usize {
        1
    }
    fn statement(&self) -> Lines {
        vec![("rows_log2", self.k.to_string())]
    }
    fn cache_name(&self) -> String {
        format!("halo2-k{}", self.k)
    }
    fn keys(
        &self,
        opts: &KeyOptions,
        own: &Option<Halo2Params>,
        _: &CacheEntry,
    ) -> Result<Loaded<Halo2Keys>, Error> {
        let (params, label) = match own {
            None => {
                return Err(Error::Usage(
                    "the halo2 backend needs KZG parameters: --params FILE (a ceremony's) or \
                     --insecure-dev-params (deterministic test parameters: anyone can forge)"
                        .into(),
                ))
            }
            Some(Halo2Params::InsecureDev) => (
                std::sync::Arc::new(dev_params(self.k)),
                "insecure-dev (anyone can forge)".to_string(),
            ),
            Some(Halo2Params::File { path, params }) => {
                if params.k() != self.k {
                    return Err(Error::Mismatch(format!(
                        "{path} holds parameters for 2^{} rows, the shape needs 2^{}",
                        params.k(),
                        self.k
                    )));
                }
                (params.clone(), path.clone())
            }
        };
        let digest = params_digest(&params);
        if let Some(pin) = opts.pinned {
            if pin.params != digest {
                return Err(Error::Mismatch(format!(
                    "the key file pins KZG parameters {}, {label} has {}",
                    hex(&pin.params),
                    hex(&digest)
                )));
            }
        }
        Ok(Loaded {
            keys: Halo2Keys {
                k: self.k,
                params,
                label,
            },
            source: KeySource::Generated,
            digests: KeyDigests {
                params: digest,
                vk: digest,
            },
        })
    }
}

/// The domain is the parameter file's, or (dev parameters) the smallest that holds the trace;
/// the backend proves the whole trace at once.
impl Flags for Halo2Shape {
    fn default_shape() -> Option<Self> {
        None
    }
    fn shape_flags() -> Vec<Arg> {
        vec![flag::ops_per_step()]
    }
    fn key_flags() -> Vec<Arg> {
        vec![
            Arg::new("params")
                .long("params")
                .value_name("FILE")
                .value_parser(clap::value_parser!(PathBuf))
                .conflicts_with("insecure_dev_params")
                .help("KZG parameters from a ceremony, in halo2's raw format (halo2 backend)"),
            Arg::new("insecure_dev_params")
                .long("insecure-dev-params")
                .action(clap::ArgAction::SetTrue)
                .help(
                    "Use deterministic test KZG parameters whose trapdoor is public (halo2 \
                     backend): anyone can forge such proofs. For tests and benchmarks only",
                ),
        ]
    }
    fn key_opts(m: &clap::ArgMatches) -> Result<Option<Halo2Params>, Error> {
        match flag::get::<PathBuf>(m, "params") {
            Some(p) => Halo2Params::read(&p).map(Some),
            None if flag::set(m, "insecure_dev_params") => Ok(Some(Halo2Params::InsecureDev)),
            None => Ok(None),
        }
    }
    fn shape_from(
        m: &clap::ArgMatches,
        own: &Option<Halo2Params>,
        ctx: &FlagContext<'_>,
    ) -> Result<Self, Error> {
        if flag::get::<usize>(m, "ops_per_step").is_some_and(|k| k != 1) {
            return Err(flag::usage(ShapeError::new(
                "ops_per_step",
                "the halo2 backend proves the whole trace at once",
            )));
        }
        Ok(Halo2Shape {
            k: match own {
                Some(Halo2Params::File { params, .. }) => params_k(params),
                _ => domain_k(ctx.op_count().unwrap_or(0) as usize),
            },
        })
    }
    fn check_pinnable(own: &Option<Halo2Params>) -> Result<(), Error> {
        match own {
            Some(Halo2Params::File { .. }) => Ok(()),
            _ => Err(Error::Usage(
                "a halo2 key file pins a ceremony's parameters: give --params FILE (insecure dev \
                 parameters have nothing worth pinning)"
                    .into(),
            )),
        }
    }
}

impl Claim for Halo2Outputs {
    fn op_count(&self) -> u64 {
        self.op_count
    }
    fn word_bits(&self) -> u32 {
        self.word_bits
    }
    fn trace_hash(&self) -> Option<F> {
        None
    }
    fn statement(&self) -> Lines {
        vec![
            ("initial_memory", "empty".into()),
            ("ops", self.op_count.to_string()),
        ]
    }
}

/// A Halo2 proof: the claimed op count and word size (the trace itself is the public input, so
/// verification needs it) and the KZG/SHPLONK transcript.
#[derive(Clone, Serialize, Deserialize)]
pub struct Halo2Proof {
    /// Claimed op count and word size.
    pub outputs: Halo2Outputs,
    /// KZG/SHPLONK proof transcript.
    pub proof: Vec<u8>,
}

impl Proof for Halo2Proof {
    fn claim(&self) -> &dyn Claim {
        &self.outputs
    }
}

/// Keys of the Halo2 backend: its KZG parameters (circuit keys depend on the trace length and
/// are derived per trace).
pub struct Halo2Keys {
    /// log2 of the domain.
    pub k: u32,
    /// KZG parameters.
    pub params: std::sync::Arc<Kzg>,
    label: String,
}

fn h2_err(e: Halo2Error) -> Error {
    match e {
        Halo2Error::Plonk(m) => Error::Internal(m),
        other => Error::Input(other.to_string()),
    }
}

impl ProofSystem for Halo2Keys {
    type Shape = Halo2Shape;
    type Proof = Halo2Proof;
    fn shape(&self) -> Halo2Shape {
        Halo2Shape { k: self.k }
    }
    fn constraints_per_op(&self) -> Option<f64> {
        None
    }
    fn circuit_lines(&self) -> Lines {
        vec![("rows", format!("2^{}", self.k))]
    }
    fn trust_lines(&self) -> Lines {
        vec![("params", self.label.clone())]
    }
    fn prove(
        &self,
        word_bits: u32,
        ops: &mut dyn Iterator<Item = TraceItem>,
        progress: &mut dyn FnMut(Progress),
        compress: bool,
        _: &(),
    ) -> Result<(Option<Halo2Proof>, ProveReport), Error> {
        let t = std::time::Instant::now();
        let all = buffer_checked(ops, word_bits, &mut |n| progress(Progress::ops(n)))?;
        if domain_k(all.len()) > self.k {
            return Err(Error::Input(format!(
                "{} ops do not fit the halo2 domain 2^{} (the domain is the --params file's, or \
                 with --insecure-dev-params the smallest that holds the trace file's ops: give a \
                 piped trace as a file)",
                all.len(),
                self.k
            )));
        }
        let pk = keys(&self.params, all.len()).map_err(h2_err)?;
        let proof = prove(&self.params, &pk, &all).map_err(h2_err)?;
        let n = all.len() as u64;
        let report = ProveReport {
            ops: n,
            steps: 1,
            fold_s: t.elapsed().as_secs_f64(),
            ..ProveReport::default()
        };
        let body = Halo2Proof {
            outputs: Halo2Outputs {
                op_count: n,
                word_bits,
            },
            proof,
        };
        Ok((compress.then_some(body), report))
    }
    fn verify(
        &self,
        proof: &Halo2Proof,
        trace: Option<&mut dyn Iterator<Item = TraceItem>>,
    ) -> Result<(), Error> {
        let trace = trace.ok_or_else(|| {
            Error::Invalid(
                "the halo2 backend's public input is the trace: verify with --trace".into(),
            )
        })?;
        let ops = collect_ops(trace)?;
        if ops.len() as u64 != proof.outputs.op_count {
            return Err(Error::Invalid(format!(
                "trace has {} ops, proof covers {}",
                ops.len(),
                proof.outputs.op_count
            )));
        }
        let pk = keys(&self.params, ops.len()).map_err(|e| Error::Internal(e.to_string()))?;
        verify(&self.params, pk.get_vk(), &ops, &proof.proof)
            .map_err(|e| Error::Invalid(e.to_string()))
    }
}
