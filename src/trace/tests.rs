//! Tests of the trace reader, writer and checker.

use super::*;

fn read_all(text: &str, bits: u32) -> Result<Vec<Op>, TraceError> {
    TraceReader::new(text.as_bytes(), bits)
        .map(|r| r.map(|(_, op)| op))
        .collect()
}

#[test]
fn parses_numbers_strings_and_hex() {
    let t = "{\"op\":\"write\",\"addr\":17177772269,\"value\":\"17485029721327973432\"}\n\n\
             {\"op\":\"read\",\"addr\":\"0x3ffff0f2d\",\"value\":\"0\"}\n\
             {\"op\":\"read\",\"addr\":\"42\",\"value\":7}\n";
    let ops = read_all(t, 64).unwrap();
    assert_eq!(ops[0], Op::write(17177772269, 17485029721327973432u64));
    assert_eq!(ops[1], Op::read(0x3ffff0f2d, 0));
    assert_eq!(ops[2], Op::read(42, 7));
}

#[test]
fn round_trip() {
    let ops = vec![
        Op {
            kind: OpKind::Push,
            addr: 9,
            value: Word::from_u64(3),
        },
        Op {
            kind: OpKind::Pop,
            addr: 9,
            value: Word::from_u64(3),
        },
        Op::write(u64::MAX, u64::MAX),
        Op::read(0, 0),
        Op {
            kind: OpKind::Write,
            addr: 5,
            value: Word([1, 2, 3, 4]),
        },
    ];
    let mut buf = Vec::new();
    write_jsonl(&mut buf, &ops).unwrap();
    assert_eq!(
        read_all(std::str::from_utf8(&buf).unwrap(), 256).unwrap(),
        ops
    );
    // the 256-bit value is too wide for 64-bit words, on line 5
    let err = read_all(std::str::from_utf8(&buf).unwrap(), 64).unwrap_err();
    assert!(
        matches!(
            err,
            TraceError::ValueTooWide {
                line: 5,
                bits: 64,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn malformed_lines_are_numbered() {
    let ok = "{\"op\":\"write\",\"addr\":1,\"value\":1}\n";
    type Case<'a> = (&'a str, fn(&TraceError) -> bool);
    let cases: Vec<Case> = vec![
        ("{not json", |e| {
            matches!(e, TraceError::Json { line: 2, .. })
        }),
        ("[1,2]", |e| matches!(e, TraceError::Json { line: 2, .. })),
        (
            "{\"op\":\"jump\",\"addr\":1,\"value\":1}",
            |e| matches!(e, TraceError::UnknownOp { line: 2, op } if op == "jump"),
        ),
        ("{\"op\":3,\"addr\":1,\"value\":1}", |e| {
            matches!(e, TraceError::UnknownOp { line: 2, .. })
        }),
        ("{\"op\":\"read\",\"value\":1}", |e| {
            matches!(
                e,
                TraceError::MissingField {
                    line: 2,
                    field: "addr"
                }
            )
        }),
        ("{\"addr\":1,\"value\":1}", |e| {
            matches!(
                e,
                TraceError::MissingField {
                    line: 2,
                    field: "op"
                }
            )
        }),
        ("{\"op\":\"read\",\"addr\":1}", |e| {
            matches!(
                e,
                TraceError::MissingField {
                    line: 2,
                    field: "value"
                }
            )
        }),
        (
            "{\"op\":\"read\",\"addr\":\"18446744073709551616\",\"value\":0}",
            |e| matches!(e, TraceError::AddrOutOfRange { line: 2, .. }),
        ),
        (
            "{\"op\":\"read\",\"addr\":18446744073709551616,\"value\":0}",
            |e| matches!(e, TraceError::AddrOutOfRange { line: 2, .. }),
        ),
        ("{\"op\":\"read\",\"addr\":-1,\"value\":0}", |e| {
            matches!(
                e,
                TraceError::BadNumber {
                    line: 2,
                    field: "addr",
                    ..
                }
            )
        }),
        ("{\"op\":\"read\",\"addr\":1.5,\"value\":0}", |e| {
            matches!(
                e,
                TraceError::BadNumber {
                    line: 2,
                    field: "addr",
                    ..
                }
            )
        }),
        ("{\"op\":\"read\",\"addr\":\"0xzz\",\"value\":0}", |e| {
            matches!(
                e,
                TraceError::BadNumber {
                    line: 2,
                    field: "addr",
                    ..
                }
            )
        }),
        (
            "{\"op\":\"read\",\"addr\":1,\"value\":\"18446744073709551616\"}",
            |e| {
                matches!(
                    e,
                    TraceError::ValueTooWide {
                        line: 2,
                        bits: 64,
                        ..
                    }
                )
            },
        ),
        ("{\"op\":\"read\",\"addr\":1,\"value\":null}", |e| {
            matches!(
                e,
                TraceError::BadNumber {
                    line: 2,
                    field: "value",
                    ..
                }
            )
        }),
    ];
    for (bad, pred) in cases {
        let text = format!("{ok}{bad}\n{ok}");
        let err = read_all(&text, 64).unwrap_err();
        assert!(pred(&err), "{bad}: got {err}");
        assert_eq!(err.line(), Some(2));
        assert!(err.to_string().starts_with("line 2: "), "{err}");
    }
}

#[test]
fn checker_reports_first_bad_read() {
    let t = "{\"op\":\"write\",\"addr\":9,\"value\":4}\n{\"op\":\"read\",\"addr\":9,\"value\":4}\n\
             {\"op\":\"read\",\"addr\":8,\"value\":0}\n{\"op\":\"read\",\"addr\":9,\"value\":5}\n";
    let err = check_stream(TraceReader::new(t.as_bytes(), 64)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 4: read of 0x9 returned 5, last written 4"
    );
    let good = check_stream(TraceReader::new(
        t.lines().take(3).collect::<Vec<_>>().join("\n").as_bytes(),
        64,
    ))
    .unwrap();
    assert_eq!(
        good,
        TraceStats {
            ops: 3,
            reads: 2,
            writes: 1,
            distinct_addrs: 2
        }
    );
}

#[test]
fn unwritten_read_must_be_zero() {
    let mut c = Checker::new();
    assert!(matches!(
        c.apply(1, &Op::read(3, 1)),
        Err(TraceError::Inconsistent {
            line: 1,
            addr: 3,
            ..
        })
    ));
    assert!(c.apply(1, &Op::read(3, 0)).is_ok());
}

#[test]
fn io_error_names_path() {
    let err = TraceReader::open(Path::new("/nonexistent/t.jsonl"), 64)
        .err()
        .unwrap();
    assert!(
        err.to_string().starts_with("/nonexistent/t.jsonl: "),
        "{err}"
    );
}

mod proptests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The checker agrees with a HashMap model on random traces, including forged reads.
        #[test]
        fn checker_matches_model(ops in proptest::collection::vec((any::<bool>(), 0u64..8, 0u64..4, any::<bool>()), 0..64)) {
            let mut model: HashMap<u64, u64> = HashMap::new();
            let mut c = Checker::new();
            for (i, (is_write, addr, v, honest)) in ops.into_iter().enumerate() {
                let cur = *model.get(&addr).unwrap_or(&0);
                let op = if is_write { Op::write(addr, v) } else if honest { Op::read(addr, cur) } else { Op::read(addr, v) };
                let expect_ok = is_write || honest || v == cur;
                let r = c.apply(i + 1, &op);
                prop_assert_eq!(r.is_ok(), expect_ok);
                if !expect_ok {
                    prop_assert_eq!(r.unwrap_err(), TraceError::Inconsistent { line: i + 1, addr, got: Word::from_u64(v), expected: Word::from_u64(cur) });
                    break;
                }
                if is_write { model.insert(addr, v); }
            }
        }
    }
}
