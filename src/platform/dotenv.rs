//! `.env` files as `docker compose` reads them: where each assignment is, what value it gives a
//! key, and setting one key in place. Bytes, not text: a `.env` holds its owner's secrets in
//! whatever encoding they chose, and every byte imggen does not set stays as it was.
//!
//! Compose v2's grammar, as its reader behaves (checked against it by a differential test,
//! `scripts/validate/dotenv_differential.py`, and by `scripts/validate.sh`):
//! - A statement starts after any white space (every Unicode space, line endings included); a
//!   `#` there comments out the rest of the line. A UTF-8 byte order mark at the start is skipped.
//! - `export` followed by a space, tab, form feed or line ending is dropped, with the blanks after
//!   it. Blanks here are the narrow set: space, tab, vertical tab, form feed, carriage return,
//!   NEL and no-break space. (`export` then a vertical tab is a key of its own.)
//! - The key runs to `=`, `:` or the line's end, skipping blanks; any character other than a
//!   letter, digit, `_.-[]` or blank makes Compose refuse the whole file, and so does a space
//!   left inside the key once trailing white space is trimmed. A key that ends at the line's end
//!   assigns nothing here (Compose takes it from its own environment).
//! - Blanks after the `=` are skipped. A value in `'…'` or `"…"` may span lines; a backslash
//!   there takes the next byte with it (so `\"` does not close it); a quote that never closes
//!   makes Compose refuse the file; after the closing quote the next statement starts at once.
//! - An unquoted value runs to the line feed, ends before a ` #`, and loses its trailing white
//!   space (any Unicode space, a carriage return included).
//! - The last assignment of a key wins.

use std::borrow::Cow;
use std::ops::Range;

/// A `.env` Compose refuses to read, and the line where it stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unreadable {
    pub line: usize,
    pub why: Why,
}

/// Why Compose refuses a `.env`: defined with its wording in [`crate::error`].
pub use crate::error::Why;

/// One `KEY=value` statement: byte ranges into the text.
struct Assignment {
    key: Range<usize>,
    /// The value as written, quotes included: what [`set`] replaces.
    value: Range<usize>,
    quote: Option<u8>,
}

/// The character that starts at `at`, and its length in bytes; U+FFFD for a byte that does not
/// start valid UTF-8 (as Go's reader decodes it), `None` at the end.
fn char_at(text: &[u8], at: usize) -> Option<(char, usize)> {
    let &first = text.get(at)?;
    let len = match first {
        0x00..=0x7f => return Some((char::from(first), 1)),
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => return Some((char::REPLACEMENT_CHARACTER, 1)),
    };
    text.get(at..at + len)
        .and_then(|bytes| std::str::from_utf8(bytes).ok())
        .and_then(|s| s.chars().next())
        .map_or(Some((char::REPLACEMENT_CHARACTER, 1)), |c| Some((c, len)))
}

/// The narrow blanks Compose skips inside a statement (never a line feed).
fn is_blank(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t' | '\u{b}' | '\u{c}' | '\r' | '\u{85}' | '\u{a0}'
    )
}

/// Past every character from `at` on that `skip` accepts.
fn skip_while(text: &[u8], mut at: usize, skip: impl Fn(char) -> bool) -> usize {
    while let Some((c, len)) = char_at(text, at) {
        if !skip(c) {
            break;
        }
        at += len;
    }
    at
}

/// `end` moved back over the white space (any Unicode space) that ends `text[start..end]`.
fn trim_end(text: &[u8], start: usize, mut end: usize) -> usize {
    'trim: while end > start {
        for len in 1..=3.min(end - start) {
            if let Some((c, n)) = char_at(text, end - len)
                && n == len
                && c.is_whitespace()
            {
                end -= len;
                continue 'trim;
            }
        }
        break;
    }
    end
}

/// Every assignment in `text`, in order.
fn assignments(text: &[u8]) -> Result<Vec<Assignment>, Unreadable> {
    let line_of = |at: usize| 1 + memchr::memchr_iter(b'\n', &text[..at.min(text.len())]).count();
    let refuse = |at: usize, why: Why| Unreadable {
        line: line_of(at),
        why,
    };
    let mut found = Vec::new();
    let mut at = if text.starts_with(b"\xef\xbb\xbf") {
        3
    } else {
        0
    };
    loop {
        at = skip_while(text, at, char::is_whitespace);
        let Some(&first) = text.get(at) else { break };
        if first == b'#' {
            at = memchr::memchr(b'\n', &text[at..]).map_or(text.len(), |n| at + n);
            continue;
        }
        if text[at..].starts_with(b"export")
            && matches!(
                text.get(at + 6),
                Some(b' ' | b'\t' | b'\n' | b'\x0c' | b'\r')
            )
        {
            at = skip_while(text, at + 6, is_blank);
        }
        let key_start = at;
        let mut terminator = None;
        while let Some((c, len)) = char_at(text, at) {
            if matches!(c, '=' | ':' | '\n') {
                terminator = Some(c);
                break;
            }
            if !(is_blank(c) || c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | '[' | ']')) {
                return Err(refuse(at, Why::KeyCharacter(c)));
            }
            at += len;
        }
        let key = key_start..trim_end(text, key_start, at);
        if text[key.clone()].contains(&b' ') {
            return Err(refuse(key_start, Why::KeySpace));
        }
        match terminator {
            // The rest of the file, with no `=`: nothing imggen reads or writes.
            None => break,
            // A bare key: Compose takes it from its own environment.
            Some('\n') => {
                at += 1;
                continue;
            }
            Some(_) => at += 1,
        }
        at = skip_while(text, at, is_blank);
        match text.get(at) {
            Some(&quote @ (b'"' | b'\'')) => {
                let mut close = at + 1;
                loop {
                    match text.get(close) {
                        None => return Err(refuse(at, Why::UnclosedQuote)),
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
                // The next statement starts right after the closing quote.
                at = close + 1;
            }
            _ => {
                let end = memchr::memchr(b'\n', &text[at..]).map_or(text.len(), |n| at + n);
                let cut = memchr::memmem::find(&text[at..end], b" #").map_or(end, |n| at + n);
                found.push(Assignment {
                    key,
                    value: at..trim_end(text, at, cut),
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
pub fn value<'a>(text: &'a [u8], key: &str) -> Result<Option<Cow<'a, [u8]>>, Unreadable> {
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

/// What [`set`] does with a value it replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Earlier {
    /// Gone (`apply` drops imggen's own value, an empty one, and a default the platform's
    /// `.env.example` still holds).
    Dropped,
    /// Kept as a comment (`# before imggen apply, KEY was value`) on the line above the
    /// assignment, or at the end of the file when that line starts inside another statement:
    /// a value someone else wrote is never lost. The comment holds no `KEY=`, so the
    /// platform's scripts that grep or sed for one (some unanchored) never take it for the key.
    Commented,
}

/// What a comment that keeps an earlier value starts with.
pub const EARLIER: &str = "# before imggen apply, ";

/// `text` with `key` set to `value`, a plain value (letters, digits, `_@%+=:,./-`, as imggen's
/// `.env` filter allows) that reads the same bare or in either quote. Every assignment of the
/// key gets the new value in its own quoting, so its `export`, spacing and comment stay; with
/// none, `KEY=value` is appended in the file's line ending (CRLF when the file uses it). Each
/// value replaced goes as `earlier` says. Every other byte stays.
pub fn set(text: &[u8], key: &str, value: &str, earlier: Earlier) -> Result<Vec<u8>, Unreadable> {
    debug_assert!(
        value.chars().all(crate::pipeline::filters::is_plain),
        "only plain values are set: {value:?}"
    );
    let ending: &[u8] = if memchr::memmem::find(text, b"\r\n").is_some() {
        b"\r\n"
    } else {
        b"\n"
    };
    let mut out = Vec::with_capacity(text.len() + key.len() + value.len() + 2);
    let mut at_end = Vec::new();
    let mut copied = 0;
    let mut found = false;
    for a in assignments(text)? {
        if &text[a.key.clone()] != key.as_bytes() {
            continue;
        }
        found = true;
        let written = &text[a.value.clone()];
        let quote = a.quote.as_slice();
        let replacement = [quote, value.as_bytes(), quote].concat();
        if earlier == Earlier::Commented && written != replacement.as_slice() {
            let comment = comment(key, written, ending);
            match own_line(text, a.key.start) {
                Some(line) if line >= copied => {
                    out.extend_from_slice(&text[copied..line]);
                    out.extend_from_slice(&comment);
                    copied = line;
                }
                _ => at_end.extend_from_slice(&comment),
            }
        }
        out.extend_from_slice(&text[copied..a.value.start]);
        out.extend_from_slice(&replacement);
        copied = a.value.end;
    }
    out.extend_from_slice(&text[copied..]);
    let mut append = |line: &[u8]| {
        if !out.is_empty() && !out.ends_with(b"\n") {
            out.extend_from_slice(ending);
        }
        out.extend_from_slice(line);
    };
    if !at_end.is_empty() {
        append(&at_end);
    }
    if !found {
        append(&[key.as_bytes(), b"=", value.as_bytes(), ending].concat());
    }
    Ok(out)
}

/// `# before imggen apply, KEY was value`, the value as written (quotes and all), each line of
/// a value that spans lines commented too.
fn comment(key: &str, written: &[u8], ending: &[u8]) -> Vec<u8> {
    let mut line = format!("{EARLIER}{key} was ").into_bytes();
    for &byte in written {
        line.push(byte);
        if byte == b'\n' {
            line.extend_from_slice(b"# ");
        }
    }
    line.extend_from_slice(ending);
    line
}

/// Where the line of the assignment whose key starts at `key` begins, when nothing but white
/// space and `export` stands before the key there (so a comment line put in front of it
/// comments nothing else out, and starts inside no quoted value); `None` otherwise.
fn own_line(text: &[u8], key: usize) -> Option<usize> {
    let mut line = memchr::memrchr(b'\n', &text[..key]).map_or(0, |n| n + 1);
    if line == 0 && text.starts_with(b"\xef\xbb\xbf") {
        line = 3;
    }
    let mut at = skip_while(text, line, char::is_whitespace);
    if text.get(at..key)?.starts_with(b"export") {
        at = skip_while(text, at + 6, is_blank);
    }
    (at == key).then_some(line)
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
        String::from_utf8(set(text.as_bytes(), key, value, Earlier::Dropped).expect("closed"))
            .expect("utf-8")
    }

    fn keeping(text: &str, key: &str, value: &str) -> String {
        String::from_utf8(set(text.as_bytes(), key, value, Earlier::Commented).expect("closed"))
            .expect("utf-8")
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
    fn blanks_are_composes_own_and_a_line_inside_a_quote_stays_inside() {
        // A vertical tab before a quote: Compose skips it, so the value is quoted and spans
        // lines; the line inside it that looks like an assignment is the secret's, not a key.
        let text = "S=\u{b}\"line1\nIMAGE_X=inside\n\"\nT=\u{a0}'x y'\u{3000}\n";
        assert_eq!(read(text, "IMAGE_X"), None);
        assert_eq!(read(text, "T").as_deref(), Some("x y"));
        assert!(write(text, "IMAGE_X", "new").ends_with("IMAGE_X=new\n"));
        // Wide white space is not skipped after `=`: it starts an unquoted value.
        assert_eq!(read("A=\u{3000}'x'\n", "A").as_deref(), Some("\u{3000}'x'"));
        // `export` then a vertical tab is not the `export` prefix: the key is `export\vA`.
        assert_eq!(read("export\u{b}A=1\n", "A"), None);
        assert_eq!(read("export\u{c}A=1\n", "A").as_deref(), Some("1"));
        // A lone carriage return at the end is trailing white space.
        assert_eq!(read("A=1\r", "A").as_deref(), Some("1"));
    }

    #[test]
    fn a_key_compose_refuses_makes_the_file_unreadable() {
        for (text, line, why) in [
            ("A=1\nIMAGE_X\u{3000}=2\n", 2, Why::KeyCharacter('\u{3000}')),
            ("A@B=1\n", 1, Why::KeyCharacter('@')),
            ("A=1\n\njust some words\n", 3, Why::KeySpace),
            ("A B=1\n", 1, Why::KeySpace),
        ] {
            assert_eq!(
                value(text.as_bytes(), "A").err(),
                Some(Unreadable { line, why }),
                "{text:?}"
            );
        }
        // A tab inside a key is not a space: Compose takes `A\tB` as the key.
        assert_eq!(read("A\tB=1\n", "A"), None);
    }

    #[test]
    fn a_quote_that_never_closes_is_refused_where_it_opens() {
        for (text, line) in [
            ("A=1\nB=\"open\n", 2),
            ("A=1\n\nB='open\\'\n", 3),
            ("B=\"x\\\"", 1),
        ] {
            let unclosed = Some(Unreadable {
                line,
                why: Why::UnclosedQuote,
            });
            assert_eq!(value(text.as_bytes(), "A").err(), unclosed);
            assert_eq!(
                set(text.as_bytes(), "A", "2", Earlier::Dropped).err(),
                unclosed
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
    fn a_value_kept_as_a_comment_stands_above_its_line_as_written() {
        for (before, after) in [
            (
                "S=x\nIMAGE_X=mine:1 # note\n",
                "S=x\n# before imggen apply, IMAGE_X was mine:1\nIMAGE_X=new # note\n",
            ),
            (
                "  export IMAGE_X='mine'\r\n",
                "# before imggen apply, IMAGE_X was 'mine'\r\n  export IMAGE_X='new'\r\n",
            ),
            // Each assignment Compose would read; an equal one is not commented.
            (
                "IMAGE_X=a\nIMAGE_X=new\nIMAGE_X=b\n",
                "# before imggen apply, IMAGE_X was a\nIMAGE_X=new\nIMAGE_X=new\n\
                 # before imggen apply, IMAGE_X was b\nIMAGE_X=new\n",
            ),
            // A value over several lines: each of its lines commented.
            (
                "IMAGE_X=\"a\nb\"\n",
                "# before imggen apply, IMAGE_X was \"a\n# b\"\nIMAGE_X=\"new\"\n",
            ),
            (
                "\u{feff}IMAGE_X=a\n",
                "\u{feff}# before imggen apply, IMAGE_X was a\nIMAGE_X=new\n",
            ),
            // Where the line starts inside another statement: at the end of the file.
            (
                "S='s\nt' IMAGE_X=a\nB=1",
                "S='s\nt' IMAGE_X=new\nB=1\n# before imggen apply, IMAGE_X was a\n",
            ),
            // Nothing to keep: appended as without.
            ("B=1\n", "B=1\nIMAGE_X=new\n"),
        ] {
            let written = keeping(before, "IMAGE_X", "new");
            assert_eq!(written, after, "{before:?}");
            assert_eq!(read(&written, "IMAGE_X").as_deref(), Some("new"));
            for other in ["S", "B"] {
                assert_eq!(read(&written, other), read(before, other), "{before:?}");
            }
        }
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
            set(text, "A", "2", Earlier::Dropped).expect("closed"),
            b"SECRET=caf\xe9\nA=2\n"
        );
        assert_eq!(
            value(text, "SECRET").expect("closed").as_deref(),
            Some(&b"caf\xe9"[..])
        );
    }
}
