//! The vendored zxcvbn (`vendor/zxcvbn`, its regular expressions replaced by
//! hand-written matchers to keep `regex`/`fancy-regex` out of the wasm
//! module) against upstream zxcvbn 3.1.1: the same guesses, score, feedback
//! and match sequence for every password here, or the test names the first
//! that differs.
//!
//! The passwords: every entry of zxcvbn's own `passwords` list (30,000),
//! names and words in forms the replaced matchers look at (repeats, dates
//! with and without separators, recent years), and hand-picked edge cases
//! (newlines, non-ASCII digits and whitespace, more than 100 characters).

use std::fmt::Debug;

fn upstream(password: &str, inputs: &[&str]) -> String {
    let e = zxcvbn_upstream::zxcvbn(password, inputs);
    describe(
        e.guesses(),
        e.guesses_log10(),
        u8::from(e.score()),
        e.feedback(),
        e.sequence(),
    )
}

fn vendored(password: &str, inputs: &[&str]) -> String {
    let e = zxcvbn::zxcvbn(password, inputs);
    describe(
        e.guesses(),
        e.guesses_log10(),
        u8::from(e.score()),
        e.feedback(),
        e.sequence(),
    )
}

/// Everything but the timing, in one comparable string (the two crates'
/// types are distinct but their `Debug` output is not).
fn describe(guesses: u64, log10: f64, score: u8, feedback: Option<impl Debug>, seq: impl Debug) -> String {
    format!("{guesses} {log10:?} {score} {feedback:?} {seq:?}")
}

/// A list from the vendored source (`const NAME: &str = "a,b,…";`).
fn list(name: &str) -> Vec<String> {
    let src = include_str!("../../vendor/zxcvbn/src/frequency_lists.rs");
    let start = src
        .find(&format!("const {name}: &str = \""))
        .expect("list present")
        + name.len()
        + 15;
    let end = start + src[start..].find('"').expect("list closed");
    src[start..end].split(',').map(str::to_owned).collect()
}

fn corpus() -> Vec<String> {
    let mut out = list("PASSWORDS");
    let names = list("FEMALE_NAMES");
    let words = list("ENGLISH_WIKI");
    let seps = ["", " ", "-", "/", "\\", "_", ".", "\u{3000}", "\t", "\n", ",", "+"];
    for (n, name) in names.iter().take(600).enumerate() {
        let word = &words[n * 7 % words.len()];
        let sep = seps[n % seps.len()];
        let (d, m, y) = (1 + n % 31, 1 + n % 12, 1890 + n % 150);
        out.push(format!("{name}{y}"));
        out.push(format!("{y}{name}{}", y % 100));
        out.push(format!("{name}{d}{sep}{m}{sep}{y}"));
        out.push(format!("{d:02}{sep}{m:02}{sep}{:02}{word}", y % 100));
        out.push(format!("{y}{sep}{m}{sep}{d}"));
        out.push(format!("{word}{}", name.repeat(1 + n % 4)));
        out.push(format!("{}{}", word.repeat(2 + n % 3), &name[..name.len().min(3)]));
        out.push(format!("{name}{sep}{name}{sep}{word}"));
        out.push(format!("{d}{m}{y}{d}{m}{y}"));
        out.push(format!("{}{}", "ab".repeat(1 + n % 5), "aab".repeat(1 + n % 4)));
    }
    for case in [
        "aabaab", "aaaaa", "aabaabaabaab", "abab\nabab", "a\na\na\n", "\n\n\n\n", "ab\nab\n",
        "1922", "2017", "19192020", "191", "1919x2020", "x2o19", "١٩٩٠", "1 1 91", "1\u{a0}1\u{a0}91",
        "1\u{2003}12\u{2003}1991", "11/11/1991", "1991.11.11", "01-01-91", "1-1-1", "12345678",
        "123456789", "1/1/91/1", "999/99/9999", "🙂🙂🙂", "ééé", "éaéaéa", "Tr0ub4dour&3",
        "correcthorsebatterystaple", "zxcvbnm,./", "qwertyqwerty", "1q2w3e4r1q2w3e4r",
    ] {
        out.push(case.to_owned());
    }
    out.push("abc".repeat(40));
    out.push(format!("{}x{}", "a".repeat(99), "b".repeat(10)));
    out.push("12/12/1999 ".repeat(12));
    out
}

#[test]
fn vendored_zxcvbn_agrees_with_upstream() {
    let inputs = ["alice@example.com", "alice", "example"];
    let passwords = corpus();
    assert!(passwords.len() > 36_000, "{}", passwords.len());
    for (n, p) in passwords.iter().enumerate() {
        let with = if n % 10 == 0 { &inputs[..] } else { &[][..] };
        assert_eq!(vendored(p, with), upstream(p, with), "password {p:?}");
    }
    eprintln!("{} passwords agree", passwords.len());
}
