//! Where a fold step's time goes. A `tracing` layer times the spans arecibo 0.1.1 opens inside
//! SuperNova's `prove_step` (`NIFS::prove` for the secondary then the primary instance, and every
//! multi-scalar multiplication) and splits each step into: folding the secondary instance,
//! generating the primary witness (synthesizing the step circuit and the folding verifier
//! circuit), committing to the primary witness and cross term (the primary fold), and the
//! secondary circuit. Steps are attributed to the kind named by the enclosing `fold` span the
//! provers open (`op`, `boundary`, `audit`, `fresh`, …); the first step, which arecibo's
//! `RecursiveSNARK::new` synthesizes without folding, is `first`.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tracing::span::{Attributes, Id};
use tracing::Subscriber;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

/// Time of one kind of step, summed over its steps.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct StepTimes {
    /// Steps of this kind.
    pub steps: usize,
    /// Whole `prove_step` calls.
    pub total: Duration,
    /// Folding the secondary instance into its running instance (`NIFS::prove`, secondary).
    pub secondary_fold: Duration,
    /// From the end of the secondary fold to the first primary commitment: synthesizing the
    /// primary step circuit and its folding verifier (the primary witness).
    pub witness: Duration,
    /// Committing to the primary witness and folding the primary instance (cross term and its
    /// commitment).
    pub primary_fold: Duration,
    /// The secondary circuit: its witness and commitment, after the primary fold.
    pub secondary_circuit: Duration,
}

impl StepTimes {
    /// Milliseconds per step of each part: `(total, secondary fold, witness, primary fold,
    /// secondary circuit)`.
    pub fn per_step_ms(&self) -> [f64; 5] {
        let n = self.steps.max(1) as f64;
        [
            self.total,
            self.secondary_fold,
            self.witness,
            self.primary_fold,
            self.secondary_circuit,
        ]
        .map(|d| d.as_secs_f64() * 1000.0 / n)
    }
}

#[derive(Default)]
struct Step {
    kind: &'static str,
    start: Option<Instant>,
    nifs: Vec<(Instant, Instant)>,
    msm: Vec<(Instant, Instant)>,
}

#[derive(Default)]
struct State {
    kind: Vec<&'static str>,
    step: Option<Step>,
    open: BTreeMap<u64, (&'static str, Instant)>,
    done: BTreeMap<&'static str, StepTimes>,
}

static STATE: Mutex<Option<State>> = Mutex::new(None);

/// The layer; install it with [`install`].
pub struct FoldProfile;

fn with_state<R>(f: impl FnOnce(&mut State) -> R) -> Option<R> {
    STATE.lock().ok().and_then(|mut s| s.as_mut().map(f))
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for FoldProfile {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, _ctx: Context<'_, S>) {
        let name = attrs.metadata().name();
        with_state(|s| {
            s.open.insert(id.into_u64(), (name, Instant::now()));
        });
    }

    fn on_enter(&self, id: &Id, _ctx: Context<'_, S>) {
        let now = Instant::now();
        with_state(|s| {
            let Some((name, _)) = s.open.get(&id.into_u64()).copied() else {
                return;
            };
            s.open.insert(id.into_u64(), (name, now));
            if let Some(kind) = name.strip_prefix("fold ") {
                // the provers' spans name the step kind
                s.kind.push(static_kind(kind));
            } else if name.ends_with("RecursiveSNARK::prove_step") {
                s.step = Some(Step {
                    kind: s.kind.last().copied().unwrap_or("step"),
                    start: Some(now),
                    ..Step::default()
                });
            }
        });
    }

    fn on_exit(&self, id: &Id, _ctx: Context<'_, S>) {
        let now = Instant::now();
        with_state(|s| {
            let Some((name, start)) = s.open.get(&id.into_u64()).copied() else {
                return;
            };
            if name.starts_with("fold ") {
                s.kind.pop();
            } else if name == "NIFS::prove" {
                if let Some(st) = s.step.as_mut() {
                    st.nifs.push((start, now));
                }
            } else if name.contains("vartime_multiscalar_mul") {
                if let Some(st) = s.step.as_mut() {
                    st.msm.push((start, now));
                }
            } else if name.ends_with("RecursiveSNARK::prove_step") {
                if let Some(st) = s.step.take() {
                    let t = s.done.entry(st.kind).or_default();
                    t.steps += 1;
                    let begin = st.start.unwrap_or(now);
                    t.total += now - begin;
                    // secondary fold, then primary witness, primary commitments + fold, secondary
                    if let [sec, prim, ..] = st.nifs[..] {
                        let first_commit = st
                            .msm
                            .iter()
                            .map(|(a, _)| *a)
                            .filter(|a| *a > sec.1)
                            .min()
                            .unwrap_or(prim.0);
                        t.secondary_fold += sec.1 - sec.0;
                        t.witness += first_commit.saturating_duration_since(sec.1);
                        t.primary_fold += prim.1.saturating_duration_since(first_commit);
                        t.secondary_circuit += now.saturating_duration_since(prim.1);
                    }
                }
            }
        });
    }

    fn on_close(&self, id: Id, _ctx: Context<'_, S>) {
        with_state(|s| {
            s.open.remove(&id.into_u64());
        });
    }
}

fn static_kind(k: &str) -> &'static str {
    match k {
        "op" => "op",
        "boundary" => "boundary",
        "audit" => "audit",
        "fresh" => "fresh",
        "first" => "first",
        _ => "step",
    }
}

/// Start collecting (idempotent); the layer must be part of the process's subscriber.
pub fn start() {
    if let Ok(mut s) = STATE.lock() {
        *s = Some(State::default());
    }
}

/// Take the times collected since [`start`], per step kind.
pub fn take() -> BTreeMap<&'static str, StepTimes> {
    STATE
        .lock()
        .ok()
        .and_then(|mut s| s.as_mut().map(|st| std::mem::take(&mut st.done)))
        .unwrap_or_default()
}

/// Install a subscriber with the profiling layer (and, with `log`, the `RUST_LOG` formatter) as
/// the process's global subscriber. Arecibo's spans are `trace`-level, so the layer sees them
/// whatever `RUST_LOG` says; the formatter only prints what `RUST_LOG` enables.
pub fn install(log: bool) {
    use tracing_subscriber::prelude::*;
    let fmt = log.then(|| {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_filter(tracing_subscriber::EnvFilter::from_default_env())
    });
    let _ = tracing_subscriber::registry()
        .with(FoldProfile)
        .with(fmt)
        .try_init();
    start();
}
