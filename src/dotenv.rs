//! `.env` files as `docker compose` reads them: where each assignment is, what value it gives a
//! key, and setting one key in place. Bytes, not text: a `.env` holds its owner's secrets in
//! whatever encoding they chose, and every byte imggen does not set stays as it was.
//!
//! What Compose v2 accepts, checked with it (`scripts/validate.sh`): `KEY=value`, `KEY = value`,
//! `KEY: value`, an `export ` before the key, indentation; a comment line starts with `#`; an
//! unquoted value runs to the end of its line, ends before a ` #`, and loses its trailing
//! blanks; a value in `'…'` or `"…"` may span lines, and a backslash there takes the next byte
//! with it (so `\"` does not close it); after a closing quote the line goes on with the next
//! statement; the last assignment of a key wins. A line that assigns nothing is skipped, and
//! so is a UTF-8 byte order mark at the start.

use std::borrow::Cow;
use std::ops::Range;

/// A quoted value that never closes: Compose refuses the file too. `line` is where it opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unclosed {
    pub line: usize,
}

/// One `KEY=value` statement: byte ranges into the text.
struct Assignment {
    key: Range<usize>,
    /// The value as written, quotes included: what [`set`] replaces.
    value: Range<usize>,
    quote: Option<u8>,
}

fn is_blank(byte: u8) -> bool {
    byte == b' ' || byte == b'\t'
}

/// Every assignment in `text`, in order.
fn assignments(text: &[u8]) -> Result<Vec<Assignment>, Unclosed> {
    let skip_blanks = |mut at: usize| {
        while at < text.len() && is_blank(text[at]) {
            at += 1;
        }
        at
    };
    // The end of the line `at` is on, before its line ending.
    let line_end = |at: usize| {
        let end = memchr::memchr(b'\n', &text[at..]).map_or(text.len(), |n| at + n);
        if end > at && text[end - 1] == b'\r' {
            end - 1
        } else {
            end
        }
    };
    let line_of = |at: usize| 1 + memchr::memchr_iter(b'\n', &text[..at]).count();
    let mut found = Vec::new();
    // A UTF-8 byte order mark before the first key is not part of it (Compose skips it too).
    let mut at = if text.starts_with(b"\xef\xbb\xbf") {
        3
    } else {
        0
    };
    while at < text.len() {
        at = skip_blanks(at);
        let Some(&first) = text.get(at) else { break };
        if first == b'\n' || first == b'\r' || first == b'#' {
            // A line ending, or a comment: the next statement starts on the next line.
            at = memchr::memchr(b'\n', &text[at..]).map_or(text.len(), |n| at + n + 1);
            continue;
        }
        if text[at..].starts_with(b"export") && text.get(at + 6).is_some_and(|&b| is_blank(b)) {
            at = skip_blanks(at + 6);
        }
        let key_start = at;
        while at < text.len() && !matches!(text[at], b'=' | b':' | b' ' | b'\t' | b'\r' | b'\n') {
            at += 1;
        }
        let key = key_start..at;
        at = skip_blanks(at);
        if key.is_empty() || !matches!(text.get(at), Some(b'=' | b':')) {
            // Assigns nothing: Compose skips the line.
            at = line_end(at);
            continue;
        }
        at = skip_blanks(at + 1);
        match text.get(at) {
            Some(&quote @ (b'"' | b'\'')) => {
                let mut close = at + 1;
                loop {
                    match text.get(close) {
                        None => {
                            return Err(Unclosed { line: line_of(at) });
                        }
                        Some(b'\\') => close += 2,
                        Some(&b) if b == quote => break,
                        Some(_) => close += 1,
                    }
                }
                found.push(Assignment {
                    key,
                    value: at..close + 1,
                    quote: Some(quote),
                });
                // The line goes on with the next statement (a comment, or another assignment).
                at = close + 1;
            }
            _ => {
                let end = line_end(at);
                let line = &text[at..end];
                let cut = memchr::memmem::find(line, b" #").map_or(end, |n| at + n);
                let mut value_end = cut;
                while value_end > at && is_blank(text[value_end - 1]) {
                    value_end -= 1;
                }
                found.push(Assignment {
                    key,
                    value: at..value_end,
                    quote: None,
                });
                at = end;
            }
        }
    }
    Ok(found)
}

/// The value Compose gives `key` in `text` (its last assignment), or `None` when nothing
/// assigns it. A quoted value comes without its quotes when it has no backslash; one with a
/// backslash comes as written (quotes and all), which no value imggen writes equals. `$` is
/// left as written: imggen's values never hold one.
pub fn value<'a>(text: &'a [u8], key: &str) -> Result<Option<Cow<'a, [u8]>>, Unclosed> {
    Ok(assignments(text)?
        .into_iter()
        .rev()
        .find(|a| &text[a.key.clone()] == key.as_bytes())
        .map(|a| {
            let written = &text[a.value.clone()];
            match a.quote {
                Some(_) if !written[1..written.len() - 1].contains(&b'\\') => {
                    Cow::Borrowed(&written[1..written.len() - 1])
                }
                _ => Cow::Borrowed(written),
            }
        }))
}

/// `text` with `key` set to `value`, a plain value (letters, digits, `_@%+=:,./-`, as imggen's
/// `.env` filter allows) that reads the same bare or in either quote. Every assignment of the
/// key gets the new value in its own quoting, so its `export`, spacing and comment stay; with
/// none, `KEY=value` is appended in the file's line ending (CRLF when the file uses it). Every
/// other byte stays.
pub fn set(text: &[u8], key: &str, value: &str) -> Result<Vec<u8>, Unclosed> {
    debug_assert!(
        value.chars().all(crate::filters::is_plain),
        "only plain values are set: {value:?}"
    );
    let mut out = Vec::with_capacity(text.len() + key.len() + value.len() + 2);
    let mut copied = 0;
    let mut found = false;
    for a in assignments(text)? {
        if &text[a.key.clone()] != key.as_bytes() {
            continue;
        }
        found = true;
        out.extend_from_slice(&text[copied..a.value.start]);
        out.extend(a.quote);
        out.extend_from_slice(value.as_bytes());
        out.extend(a.quote);
        copied = a.value.end;
    }
    out.extend_from_slice(&text[copied..]);
    if !found {
        let ending: &[u8] = if memchr::memmem::find(text, b"\r\n").is_some() {
            b"\r\n"
        } else {
            b"\n"
        };
        if !out.is_empty() && !out.ends_with(b"\n") {
            out.extend_from_slice(ending);
        }
        out.extend_from_slice(key.as_bytes());
        out.push(b'=');
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(ending);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str, key: &str) -> Option<String> {
        value(text.as_bytes(), key)
            .expect("closed")
            .map(|v| String::from_utf8(v.into_owned()).expect("utf-8"))
    }

    fn write(text: &str, key: &str, value: &str) -> String {
        String::from_utf8(set(text.as_bytes(), key, value).expect("closed")).expect("utf-8")
    }

    #[test]
    fn every_form_compose_reads_is_an_assignment() {
        let text = "A = spaced\nexport B=exported\n  C=indented\nD: colon\nexport\tE=tab\n\
                    F=unquoted # a comment\nG=\"double\" # c\nH='single'\nI=a#b\nJ=a\t# b\n\
                    K=1\nK=2\nL=\nM=x\r\nexportN=x\n";
        for (key, expected) in [
            ("A", "spaced"),
            ("B", "exported"),
            ("C", "indented"),
            ("D", "colon"),
            ("E", "tab"),
            ("F", "unquoted"),
            ("G", "double"),
            ("H", "single"),
            ("I", "a#b"),
            ("J", "a\t# b"),
            ("K", "2"),
            ("L", ""),
            ("M", "x"),
            ("exportN", "x"),
        ] {
            assert_eq!(read(text, key).as_deref(), Some(expected), "{key}");
        }
        for absent in ["export", "N", "#", "x", "a"] {
            assert_eq!(read(text, absent), None, "{absent}");
        }
    }

    #[test]
    fn a_line_inside_a_quoted_value_is_not_an_assignment() {
        let text = "S=\"multi\nIMAGE_X=inside\nend\"\nT='one\nIMAGE_X=two\\'\nthree'\nU=\"a\\\"\nIMAGE_X=three\"\n";
        assert_eq!(read(text, "IMAGE_X"), None);
        assert_eq!(
            read(text, "S").as_deref(),
            Some("multi\nIMAGE_X=inside\nend")
        );
        // With a backslash the value is as written, quotes and all.
        assert_eq!(read(text, "U").as_deref(), Some("\"a\\\"\nIMAGE_X=three\""));
        assert_eq!(
            write(text, "IMAGE_X", "new"),
            format!("{text}IMAGE_X=new\n"),
            "appended after the value; the secret's lines stay"
        );
    }

    #[test]
    fn after_a_closing_quote_the_line_goes_on() {
        assert_eq!(read("V=\"a\" W=1\n", "W").as_deref(), Some("1"));
        assert_eq!(read("V=\"a\"x\nW=1\n", "W").as_deref(), Some("1"));
        assert_eq!(read("V='a' # W=1\n", "W"), None);
    }

    #[test]
    fn a_quote_that_never_closes_is_refused_where_it_opens() {
        for (text, line) in [
            ("A=1\nB=\"open\n", 2),
            ("A=1\n\nB='open\\'\n", 3),
            ("B=\"x\\\"", 1),
        ] {
            assert_eq!(value(text.as_bytes(), "A").err(), Some(Unclosed { line }));
            assert_eq!(
                set(text.as_bytes(), "A", "2").err(),
                Some(Unclosed { line })
            );
        }
    }

    #[test]
    fn set_replaces_the_value_in_its_own_quoting_and_keeps_every_other_byte() {
        for (before, after) in [
            ("# c\nA=1\nSECRET=x y\nB=2", "# c\nA=9\nSECRET=x y\nB=2"),
            ("export A = 1 # pinned\n", "export A = 9 # pinned\n"),
            ("A: \"1\" # c\n", "A: \"9\" # c\n"),
            ("A='multi\nline'\nB=2\n", "A='9'\nB=2\n"),
            ("A=1\r\nB=2\r\n", "A=9\r\nB=2\r\n"),
            ("A=1\nA=2\n", "A=9\nA=9\n"),
            ("A=\n", "A=9\n"),
        ] {
            assert_eq!(write(before, "A", "9"), after, "{before:?}");
            assert_eq!(read(&write(before, "A", "9"), "A").as_deref(), Some("9"));
        }
    }

    #[test]
    fn set_appends_in_the_files_line_ending() {
        assert_eq!(write("B=1\n", "A", "9"), "B=1\nA=9\n");
        assert_eq!(write("B=1", "A", "9"), "B=1\nA=9\n");
        assert_eq!(write("B=1\r\n", "A", "9"), "B=1\r\nA=9\r\n");
        assert_eq!(write("", "A", "9"), "A=9\n");
        // A key that only starts like another is a different key.
        assert_eq!(write("AB=1\n", "A", "9"), "AB=1\nA=9\n");
    }

    #[test]
    fn a_byte_order_mark_is_not_part_of_the_first_key() {
        assert_eq!(read("\u{feff}A=1\n", "A").as_deref(), Some("1"));
        assert_eq!(write("\u{feff}A=1\n", "A", "2"), "\u{feff}A=2\n");
    }

    #[test]
    fn bytes_that_are_not_utf8_stay() {
        let text = b"SECRET=caf\xe9\nA=1\n";
        assert_eq!(
            set(text, "A", "2").expect("closed"),
            b"SECRET=caf\xe9\nA=2\n"
        );
        assert_eq!(
            value(text, "SECRET").expect("closed").as_deref(),
            Some(&b"caf\xe9"[..])
        );
    }
}
