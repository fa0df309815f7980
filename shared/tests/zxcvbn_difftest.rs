//! The vendored zxcvbn (`vendor/zxcvbn`, its regular expressions replaced by
//! hand-written matchers to keep `regex`/`fancy-regex` out of the wasm
//! module) against upstream zxcvbn 3.1.1, on every password below:
//!
//! 1. each hand-written matcher against the very expression it replaces
//!    (`regex` / `fancy-regex`, as upstream calls them), on every substring
//!    start of the password: the same matches, captures and positions;
//! 2. the whole estimate against upstream: the same guesses, score and
//!    feedback, and a match sequence with the same spans and guesses.
//!    Feedback and pattern may differ only where upstream itself is not
//!    deterministic: when two matches over the same span take the same
//!    guesses, which one wins depends on `HashMap` iteration order (random
//!    per process, in upstream as here). Such ties are counted, not failed.
//!
//! The passwords: every entry of zxcvbn's own `passwords` list (30,000),
//! names and words in forms the replaced matchers look at (repeats, dates
//! with and without separators, recent years), and hand-picked edge cases
//! (newlines, non-ASCII digits and whitespace, more than 100 characters).

use fancy_regex::Regex as Fancy;
use regex::Regex;
use std::sync::OnceLock;
use zxcvbn::matching::repeat::{self, Unit};

/// One estimate: what must agree exactly, what may differ on a tie, and
/// the spans and guesses of its match sequence.
struct Estimate {
    exact: String,
    feedback: String,
    spans: Vec<(usize, usize, Option<u64>)>,
}

fn upstream(password: &str, inputs: &[&str]) -> Estimate {
    let e = zxcvbn_upstream::zxcvbn(password, inputs);
    Estimate {
        exact: format!(
            "{} {:?} {}",
            e.guesses(),
            e.guesses_log10(),
            u8::from(e.score())
        ),
        feedback: format!("{:?}", e.feedback()),
        spans: e.sequence().iter().map(|m| (m.i, m.j, m.guesses)).collect(),
    }
}

fn vendored(password: &str, inputs: &[&str]) -> Estimate {
    let e = zxcvbn::zxcvbn(password, inputs);
    Estimate {
        exact: format!(
            "{} {:?} {}",
            e.guesses(),
            e.guesses_log10(),
            u8::from(e.score())
        ),
        feedback: format!("{:?}", e.feedback()),
        spans: e.sequence().iter().map(|m| (m.i, m.j, m.guesses)).collect(),
    }
}

/// The expressions upstream compiles, compiled once.
struct Expressions {
    greedy: Fancy,
    lazy: Fancy,
    lazy_anchored: Fancy,
    recent_year: Regex,
    no_separator: Regex,
    with_separator: Regex,
}

fn expressions() -> &'static Expressions {
    static E: OnceLock<Expressions> = OnceLock::new();
    E.get_or_init(|| Expressions {
        greedy: Fancy::new(r"(.+)\1+").unwrap(),
        lazy: Fancy::new(r"(.+?)\1+").unwrap(),
        lazy_anchored: Fancy::new(r"^(.+?)\1+$").unwrap(),
        recent_year: Regex::new(r"19[0-9]{2}|20[0-9]{2}").unwrap(),
        no_separator: Regex::new(r"^[0-9]{4,8}$").unwrap(),
        with_separator: Regex::new(
            r"^([0-9]{1,4})([\s/\\_.-])([0-9]{1,2})([\s/\\_.-])([0-9]{1,4})$",
        )
        .unwrap(),
    })
}

fn chars_in(s: &str) -> usize {
    s.chars().count()
}

/// Part 1: each hand-written matcher against its expression, on the inputs
/// zxcvbn gives it (the first 100 characters; every suffix for the repeat
/// search; every window of up to 10 characters for the date checks).
fn check_matchers(password: &str) {
    let e = expressions();
    let chars: Vec<char> = password.chars().take(100).collect();
    let password: String = chars.iter().collect();
    for start in 0..chars.len() {
        let token: String = chars[start..].iter().collect();
        let tc = &chars[start..];
        for (re, unit) in [(&e.greedy, Unit::Longest), (&e.lazy, Unit::Shortest)] {
            let expected = re.captures(&token).unwrap().map(|c| {
                let (m, g) = (c.get(0).unwrap(), c.get(1).unwrap());
                (
                    chars_in(&token[..m.start()]),
                    chars_in(&token[..m.end()]),
                    chars_in(g.as_str()),
                )
            });
            let got = repeat::find(tc, unit).map(|r| (r.start, r.end, r.unit));
            assert_eq!(got, expected, "repeat search in {token:?}");
        }
        if let Some(c) = e.greedy.captures(&token).unwrap() {
            let whole = c.get(0).unwrap().as_str();
            let unit = e.lazy_anchored.captures(whole).unwrap().unwrap();
            let whole_chars: Vec<char> = whole.chars().collect();
            assert_eq!(
                repeat::period(&whole_chars),
                chars_in(unit.get(1).unwrap().as_str()),
                "period of {whole:?}"
            );
        }
    }
    let years: Vec<_> = e
        .recent_year
        .find_iter(&password)
        .map(|m| m.range())
        .collect();
    assert_eq!(
        repeat::recent_years(&password),
        years,
        "years in {password:?}"
    );
    for i in 0..chars.len() {
        for j in i + 1..=chars.len().min(i + 10) {
            let t: String = chars[i..j].iter().collect();
            assert_eq!(
                repeat::is_date_without_separator(&t),
                e.no_separator.is_match(&t),
                "{t:?}"
            );
            let expected = e
                .with_separator
                .captures(&t)
                .map(|c| [1, 2, 3, 4, 5].map(|k| c.get(k).unwrap().as_str()));
            assert_eq!(repeat::date_with_separators(&t), expected, "{t:?}");
        }
    }
}

/// A list of the vendored crate (`vendor/zxcvbn/data/<name>.txt`, the text of
/// what it embeds compressed: "a,b,…").
fn list(name: &str) -> Vec<String> {
    let text = match name {
        "PASSWORDS" => include_str!("../../vendor/zxcvbn/data/passwords.txt"),
        "FEMALE_NAMES" => include_str!("../../vendor/zxcvbn/data/female_names.txt"),
        "ENGLISH_WIKI" => include_str!("../../vendor/zxcvbn/data/english_wiki.txt"),
        _ => panic!("no list {name}"),
    };
    text.trim_end_matches('\n')
        .split(',')
        .map(str::to_owned)
        .collect()
}

fn corpus() -> Vec<String> {
    let mut out = list("PASSWORDS");
    let names = list("FEMALE_NAMES");
    let words = list("ENGLISH_WIKI");
    let seps = [
        "", " ", "-", "/", "\\", "_", ".", "\u{3000}", "\t", "\n", ",", "+",
    ];
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
        out.push(format!(
            "{}{}",
            word.repeat(2 + n % 3),
            &name[..name.len().min(3)]
        ));
        out.push(format!("{name}{sep}{name}{sep}{word}"));
        out.push(format!("{d}{m}{y}{d}{m}{y}"));
        out.push(format!(
            "{}{}",
            "ab".repeat(1 + n % 5),
            "aab".repeat(1 + n % 4)
        ));
    }
    for case in [
        "aabaab",
        "aaaaa",
        "aabaabaabaab",
        "abab\nabab",
        "a\na\na\n",
        "\n\n\n\n",
        "ab\nab\n",
        "1922",
        "2017",
        "19192020",
        "191",
        "1919x2020",
        "x2o19",
        "١٩٩٠",
        "1 1 91",
        "1\u{a0}1\u{a0}91",
        "1\u{2003}12\u{2003}1991",
        "11/11/1991",
        "1991.11.11",
        "01-01-91",
        "1-1-1",
        "12345678",
        "123456789",
        "1/1/91/1",
        "999/99/9999",
        "🙂🙂🙂",
        "ééé",
        "éaéaéa",
        "Tr0ub4dour&3",
        "correcthorsebatterystaple",
        "zxcvbnm,./",
        "qwertyqwerty",
        "1q2w3e4r1q2w3e4r",
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
    let mut ties = 0;
    for (n, p) in passwords.iter().enumerate() {
        check_matchers(p);
        let with = if n % 10 == 0 { &inputs[..] } else { &[][..] };
        let (ours, theirs) = (vendored(p, with), upstream(p, with));
        assert_eq!(ours.exact, theirs.exact, "password {p:?}");
        assert_eq!(ours.spans, theirs.spans, "password {p:?}");
        if ours.feedback != theirs.feedback {
            ties += 1;
        }
    }
    eprintln!(
        "{} passwords: the same guesses, score and match spans; feedback the same \
         except {ties} tie(s) upstream breaks by HashMap order",
        passwords.len()
    );
    // Ties are rare; many would mean a real difference hiding behind them.
    assert!(ties * 100 < passwords.len(), "{ties} feedback differences");
}
