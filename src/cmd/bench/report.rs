//! The bench's output: the side-by-side table as markdown, the streaming rows, and the SVG plot
//! of per-op time against memory size.

use super::rows::Row;
use super::Report;

/// Markdown of the streaming rows of a report.
pub fn stream_markdown(r: &Report) -> String {
    let mut s = String::from(
        "
### Streaming op step: where a fold step's time goes

",
    );
    s.push_str(&super::stream::breakdown_markdown(&r.breakdown));
    s.push_str(
        "
### Real-program-shaped trace (each row in its own process)

| backend | ops | fold ops/s | steps | boundary slots/op | peak RSS MiB |
|---|---|---|---|---|---|
",
    );
    for c in &r.real {
        s.push_str(&format!(
            "| {} | {} | {:.1} | {} | {:.3} | {:.0} |
",
            c.backend, c.ops, c.ops_per_s, c.steps, c.boundary_slots_per_op, c.peak_rss_mib
        ));
    }
    if let Some(h) = r.halo2_real_ops_per_s {
        s.push_str(&format!(
            "| halo2 (not folding) | {} | {h:.1} | 1 | – | – |
",
            r.real.first().map(|c| c.ops).unwrap_or(0)
        ));
        for c in r
            .real
            .iter()
            .filter(|c| Some(c.ops) == r.real.first().map(|f| f.ops))
        {
            s.push_str(&format!(
                "
{}: {:.3}× Halo2's ops/s",
                c.backend,
                c.ops_per_s / h.max(1e-9)
            ));
        }
        s.push('\n');
    }
    let pair = |b: &str, n: usize| r.real.iter().find(|c| c.backend == b && c.ops == n);
    if let (Some(a), Some(o)) = (
        pair("stream", r.real.first().map(|c| c.ops).unwrap_or(0)),
        pair("nova-offline", r.real.first().map(|c| c.ops).unwrap_or(0)),
    ) {
        s.push_str(&format!(
            "stream / nova-offline fold ops/s: {:.2}\n",
            a.ops_per_s / o.ops_per_s.max(1e-9)
        ));
    }
    s
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_else(|| "–".into())
}

/// The table as markdown.
pub fn markdown(rows: &[Row]) -> String {
    let mut s = String::from("| backend | memory | k | constraints/op | effective/op | fold ops/s | ms/op | compress s | proof B | verify s | peak RSS MiB |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
    for r in rows {
        let mem = if r.mem_log2 == 0 {
            "–".to_string()
        } else {
            format!("2^{}", r.mem_log2)
        };
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.0} |\n",
            r.name,
            mem,
            r.ops_per_step,
            opt(r
                .constraints_per_op
                .is_finite()
                .then(|| format!("{:.0}", r.constraints_per_op))),
            opt(r.effective_constraints_per_op.map(|x| format!("{x:.0}"))),
            opt(r
                .fold_ops_per_s
                .is_finite()
                .then(|| format!("{:.2}", r.fold_ops_per_s))),
            opt(r
                .ms_per_op
                .is_finite()
                .then(|| format!("{:.1}", r.ms_per_op))),
            opt(r.compress_s.map(|x| format!("{x:.2}"))),
            opt(r.proof_bytes),
            opt(r.verify_s.map(|x| format!("{x:.3}"))),
            r.peak_rss_mib
        ));
    }
    s
}

/// SVG plot of ms/op against memory size (log2) for each row family.
pub fn svg(rows: &[Row]) -> String {
    let series: Vec<(&str, &str)> = vec![
        ("whole memory in state", "#d62728"),
        ("nova merkle k=4", "#1f77b4"),
        ("nova-offline k=128", "#2ca02c"),
    ];
    let (w, h, pad) = (640.0, 400.0, 50.0);
    let max_ms = rows
        .iter()
        .filter(|r| r.mem_log2 > 0)
        .map(|r| r.ms_per_op)
        .fold(1.0f64, f64::max);
    let (lo, hi) = (0.0f64, (max_ms * 1.5).log10().ceil());
    let x = |b: u32| pad + (b as f64 / 64.0) * (w - 2.0 * pad);
    let y = |ms: f64| {
        h - pad - ((ms.max(0.01).log10() - lo.min(-2.0)) / (hi - lo.min(-2.0))) * (h - 2.0 * pad)
    };
    let mut s = format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
    s.push_str(&format!(
        "<text x=\"{}\" y=\"20\">ms per op vs memory size (log scale)</text>\n",
        pad
    ));
    s.push_str(&format!(
        "<line x1=\"{pad}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>\n",
        h - pad,
        w - pad,
        h - pad
    ));
    s.push_str(&format!(
        "<line x1=\"{pad}\" y1=\"{pad}\" x2=\"{pad}\" y2=\"{}\" stroke=\"black\"/>\n",
        h - pad
    ));
    for b in [4u32, 8, 16, 32, 64] {
        s.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">2^{b}</text>\n",
            x(b),
            h - pad + 18.0
        ));
    }
    let mut e = lo.min(-2.0) as i32;
    while e as f64 <= hi {
        s.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n",
            pad - 4.0,
            y(10f64.powi(e)) + 4.0,
            10f64.powi(e)
        ));
        e += 1;
    }
    for (i, (name, color)) in series.iter().enumerate() {
        let pts: Vec<String> = rows
            .iter()
            .filter(|r| r.name == *name && r.mem_log2 > 0)
            .map(|r| format!("{:.1},{:.1}", x(r.mem_log2), y(r.ms_per_op)))
            .collect();
        s.push_str(&format!(
            "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{}\"/>\n",
            pts.join(" ")
        ));
        for p in &pts {
            let (px, py) = p.split_once(',').unwrap();
            s.push_str(&format!(
                "<circle cx=\"{px}\" cy=\"{py}\" r=\"3\" fill=\"{color}\"/>\n"
            ));
        }
        s.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" fill=\"{color}\">{name}</text>\n",
            w - pad - 160.0,
            pad + 16.0 * i as f64
        ));
    }
    s.push_str("</svg>\n");
    s
}
