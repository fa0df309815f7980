//! The repeat matcher's searches, written by hand instead of with
//! `fancy-regex` (agentgate: keeps the regex engines out of the wasm module).
//! Each function returns exactly what upstream's backtracking regex returns;
//! `shared/tests/zxcvbn_difftest.rs` checks that against upstream zxcvbn.
//!
//! `.` in those expressions matches any character except `\n`, so a repeated
//! unit never contains a newline.

/// Which unit length `(.+)` / `(.+?)` settles on at a start position.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// `(.+)\1+`: the longest unit that is repeated at least once.
    Longest,
    /// `(.+?)\1+`: the shortest unit that is repeated at least once.
    Shortest,
}

/// A match of `(.+)\1+` or `(.+?)\1+`, in characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Repeat {
    /// Where the match starts.
    pub start: usize,
    /// Where it ends (exclusive): `start + unit * count`.
    pub end: usize,
    /// The length of the captured unit.
    pub unit: usize,
}

impl Repeat {
    /// The match's length in characters.
    pub fn char_len(&self) -> usize {
        self.end - self.start
    }
}

/// The leftmost match in `chars`, as the regex engine finds it: the first
/// start with any repeated unit; there the longest or shortest unit; then as
/// many further copies of it as follow (`\1+` is greedy).
pub fn find(chars: &[char], unit: Unit) -> Option<Repeat> {
    for start in 0..chars.len() {
        // `.` stops at a newline.
        let max_unit = chars[start..]
            .iter()
            .position(|c| *c == '\n')
            .unwrap_or(chars.len() - start);
        let repeated = |len: &usize| repeats_at(chars, start, *len);
        let found = match unit {
            Unit::Longest => (1..=max_unit).rev().find(repeated),
            Unit::Shortest => (1..=max_unit).find(repeated),
        };
        if let Some(len) = found {
            let mut end = start + 2 * len;
            while repeats_at(chars, end - len, len) {
                end += len;
            }
            return Some(Repeat {
                start,
                end,
                unit: len,
            });
        }
    }
    None
}

/// Whether `chars[at..at + len]` is followed directly by a copy of itself.
fn repeats_at(chars: &[char], at: usize, len: usize) -> bool {
    at + 2 * len <= chars.len() && chars[at..at + len] == chars[at + len..at + 2 * len]
}

/// `^(.+?)\1+$` on a whole repeat: the shortest unit that, repeated at least
/// twice, is exactly `chars`.
pub fn period(chars: &[char]) -> usize {
    (1..=chars.len() / 2)
        .find(|len| chars.len() % len == 0 && chars.chunks(*len).all(|c| c == &chars[..*len]))
        .unwrap_or(chars.len())
}

/// `19[0-9]{2}|20[0-9]{2}` over `password`, leftmost-first and without
/// overlaps: the byte ranges of the matches.
pub fn recent_years(password: &str) -> Vec<std::ops::Range<usize>> {
    let bytes = password.as_bytes();
    let mut found = Vec::new();
    let mut at = 0;
    while at + 4 <= bytes.len() {
        let w = &bytes[at..at + 4];
        if (w.starts_with(b"19") || w.starts_with(b"20")) && w[2..].iter().all(u8::is_ascii_digit) {
            found.push(at..at + 4);
            at += 4;
        } else {
            at += 1;
        }
    }
    found
}

/// `^[0-9]{4,8}$`.
pub fn is_date_without_separator(token: &str) -> bool {
    (4..=8).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_digit())
}

/// `^([0-9]{1,4})([\s/\\_.-])([0-9]{1,2})([\s/\\_.-])([0-9]{1,4})$`: the
/// five groups, or `None`. (`\s` is Unicode whitespace, as `char::is_whitespace`.)
pub fn date_with_separators(token: &str) -> Option<[&str; 5]> {
    fn digits(s: &str, at: usize, max: usize) -> Option<usize> {
        let n = s[at..].bytes().take_while(u8::is_ascii_digit).count();
        (1..=max).contains(&n).then_some(at + n)
    }
    fn separator(s: &str, at: usize) -> Option<usize> {
        let c = s[at..].chars().next()?;
        (c.is_whitespace() || "/\\_.-".contains(c)).then_some(at + c.len_utf8())
    }
    let a = digits(token, 0, 4)?;
    let b = separator(token, a)?;
    let c = digits(token, b, 2)?;
    let d = separator(token, c)?;
    let e = digits(token, d, 4)?;
    (e == token.len()).then(|| {
        [
            &token[..a],
            &token[a..b],
            &token[b..c],
            &token[c..d],
            &token[d..e],
        ]
    })
}
