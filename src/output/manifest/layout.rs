//! The manifest read back the fast way: a strict reader for exactly the layout
//! [`Manifest::to_text`] writes, which `check --all` and `render --all` read once per folder.
//!
//! It answers `None` for anything it is not sure of (another string form, a comment after a
//! value, a repeated key, CRLF endings, an unknown key, a missing table…), and the caller then
//! reads the file with the TOML parser, which gives the same value or the error message. So
//! it never has to say what is wrong, only to agree with the parser when it says `Some`; the
//! property tests in this module hold it to that.

use super::Manifest;

/// The manifest in `text`, when `text` is in the layout imggen writes; `None` otherwise.
pub fn read(text: &str) -> Option<Manifest> {
    let mut manifest = Manifest::default();
    let mut seen = Seen::default();
    let mut table: Option<Table> = None;
    let mut lines = text.split('\n');
    while let Some(line) = lines.next() {
        let line = line.trim_start_matches([' ', '\t']);
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            if comment.chars().any(forbidden) {
                return None;
            }
            continue;
        }
        if let Some(header) = line.strip_prefix('[') {
            let name = header.strip_suffix(']')?;
            let next = Table::named(name)?;
            if !seen.table(next) {
                return None;
            }
            table = Some(next);
            continue;
        }
        let mut cursor = Cursor::new(line);
        let key = cursor.key()?;
        cursor.spaces();
        cursor.expect('=')?;
        cursor.spaces();
        match table {
            Some(table) => {
                let value = cursor.string()?;
                cursor.end()?;
                let map = match table {
                    Table::Packs => &mut manifest.packs,
                    Table::Files => &mut manifest.files,
                    Table::Replacing => &mut manifest.replacing,
                };
                if map.insert(key, value).is_some() {
                    return None;
                }
            }
            None => {
                if !seen.key(&key) {
                    return None;
                }
                match key.as_str() {
                    "profile" => {
                        manifest.profile = cursor.string()?;
                        cursor.end()?;
                    }
                    "incomplete" => {
                        manifest.incomplete = cursor.boolean()?;
                        cursor.end()?;
                    }
                    "profiles" | "sets" | "chain" => {
                        let list = array(cursor.rest(), &mut lines)?;
                        match key.as_str() {
                            "profiles" => manifest.profiles = list,
                            "sets" => manifest.sets = list,
                            _ => manifest.chain = list,
                        }
                    }
                    _ => return None,
                }
            }
        }
    }
    // What the TOML parser would refuse as a missing field.
    let complete = seen.keys.contains(&"profile")
        && seen.keys.contains(&"chain")
        && seen.tables.contains(&Table::Packs)
        && seen.tables.contains(&Table::Files);
    complete.then_some(manifest)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Table {
    Packs,
    Files,
    Replacing,
}

impl Table {
    fn named(name: &str) -> Option<Self> {
        match name {
            "packs" => Some(Self::Packs),
            "files" => Some(Self::Files),
            "replacing" => Some(Self::Replacing),
            _ => None,
        }
    }
}

/// The top-level keys and tables read so far: each may appear once.
#[derive(Default)]
struct Seen {
    keys: Vec<&'static str>,
    tables: Vec<Table>,
}

impl Seen {
    fn key(&mut self, key: &str) -> bool {
        let Some(known) = ["profile", "profiles", "sets", "chain", "incomplete"]
            .into_iter()
            .find(|k| *k == key)
        else {
            return false;
        };
        if self.keys.contains(&known) {
            return false;
        }
        self.keys.push(known);
        true
    }

    fn table(&mut self, table: Table) -> bool {
        if self.tables.contains(&table) {
            return false;
        }
        self.tables.push(table);
        true
    }
}

/// A character TOML allows in neither a comment nor a single-line string.
fn forbidden(c: char) -> bool {
    (c.is_ascii_control() && c != '\t') || c == '\u{7f}'
}

/// An array of strings from `first` (the rest of the line after `=`) and, when it continues,
/// the lines after it: one string per element, commas between, an optional trailing comma.
fn array<'a>(first: &'a str, lines: &mut impl Iterator<Item = &'a str>) -> Option<Vec<String>> {
    let mut cursor = Cursor::new(first);
    cursor.expect('[')?;
    let mut items = Vec::new();
    loop {
        cursor.spaces();
        while cursor.at_end() {
            // Only a line break between elements: the next line goes on.
            cursor = Cursor::new(lines.next()?);
            cursor.spaces();
        }
        if cursor.eat(']') {
            cursor.end()?;
            return Some(items);
        }
        items.push(cursor.string()?);
        cursor.spaces();
        while cursor.at_end() {
            cursor = Cursor::new(lines.next()?);
            cursor.spaces();
        }
        if !cursor.eat(',') {
            cursor.expect(']')?;
            cursor.end()?;
            return Some(items);
        }
    }
}

/// A position in one line.
struct Cursor<'a> {
    rest: &'a str,
}

impl<'a> Cursor<'a> {
    fn new(line: &'a str) -> Self {
        Self { rest: line }
    }

    fn rest(&self) -> &'a str {
        self.rest
    }

    fn at_end(&self) -> bool {
        self.rest.is_empty()
    }

    fn spaces(&mut self) {
        self.rest = self.rest.trim_start_matches([' ', '\t']);
    }

    fn eat(&mut self, c: char) -> bool {
        match self.rest.strip_prefix(c) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    fn expect(&mut self, c: char) -> Option<()> {
        self.eat(c).then_some(())
    }

    /// Nothing but spaces to the end of the line.
    fn end(&mut self) -> Option<()> {
        self.spaces();
        self.at_end().then_some(())
    }

    fn boolean(&mut self) -> Option<bool> {
        for (word, value) in [("true", true), ("false", false)] {
            if let Some(rest) = self.rest.strip_prefix(word) {
                self.rest = rest;
                return Some(value);
            }
        }
        None
    }

    /// A bare key, or a quoted one.
    fn key(&mut self) -> Option<String> {
        let bare = self
            .rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(self.rest.len());
        if bare > 0 {
            let (key, rest) = self.rest.split_at(bare);
            self.rest = rest;
            return Some(key.to_string());
        }
        self.string()
    }

    /// A single-line basic string (`"…"`, TOML 1.0 escapes only) or literal string (`'…'`).
    fn string(&mut self) -> Option<String> {
        if let Some(body) = self.rest.strip_prefix('\'') {
            if body.starts_with("''") {
                return None;
            }
            let end = body.find('\'')?;
            let value = &body[..end];
            if value.chars().any(forbidden) {
                return None;
            }
            self.rest = &body[end + 1..];
            return Some(value.to_string());
        }
        let body = self.rest.strip_prefix('"')?;
        if body.starts_with("\"\"") {
            return None;
        }
        let mut value = String::new();
        let mut rest = body;
        loop {
            // A run of plain characters is copied at once (hashes and paths are nothing else).
            // Bytes, not chars: every byte that ends a run is ASCII, never inside a character.
            let run = rest
                .bytes()
                .position(|b| b == b'"' || b == b'\\' || forbidden(char::from(b)))
                .unwrap_or(rest.len());
            value.push_str(&rest[..run]);
            rest = &rest[run..];
            let mut chars = rest.chars();
            match chars.next()? {
                '"' => {
                    self.rest = chars.as_str();
                    return Some(value);
                }
                '\\' => {
                    let escape = chars.next()?;
                    let simple = match escape {
                        'b' => Some('\u{8}'),
                        't' => Some('\t'),
                        'n' => Some('\n'),
                        'f' => Some('\u{c}'),
                        'r' => Some('\r'),
                        '"' => Some('"'),
                        '\\' => Some('\\'),
                        _ => None,
                    };
                    let decoded = match (simple, escape) {
                        (Some(c), _) => c,
                        (None, 'u') => hex_char(&mut chars, 4)?,
                        (None, 'U') => hex_char(&mut chars, 8)?,
                        _ => return None,
                    };
                    value.push(decoded);
                    rest = chars.as_str();
                }
                _ => return None,
            }
        }
    }
}

/// The character of the next `digits` hex digits (a Unicode scalar value, or `None`).
fn hex_char(chars: &mut std::str::Chars<'_>, digits: usize) -> Option<char> {
    let mut code = 0u32;
    for _ in 0..digits {
        let digit = chars.next()?;
        code = code * 16 + digit.to_digit(16)?;
    }
    char::from_u32(code)
}

/// The body of `manifest` as the TOML writer lays it out (`toml_edit`'s pretty form), written
/// directly, or `None` when a string holds a character that could make that writer pick
/// another form (quotes, backslashes, controls, non-ASCII...): the caller then uses the
/// writer. The property test below holds it to the writer, byte for byte, so an existing
/// folder's manifest stays current.
pub fn write(manifest: &Manifest) -> Option<String> {
    let mut out = String::with_capacity(256 + 96 * manifest.files.len());
    value_line(&mut out, "profile", &manifest.profile)?;
    for (key, list, always) in [
        ("profiles", &manifest.profiles, false),
        ("sets", &manifest.sets, false),
        ("chain", &manifest.chain, true),
    ] {
        if list.is_empty() && !always {
            continue;
        }
        out.push_str(key);
        out.push_str(" = [");
        match list.as_slice() {
            [] => {}
            [one] => quoted(&mut out, one)?,
            many => {
                for item in many {
                    out.push_str("\n    ");
                    quoted(&mut out, item)?;
                    out.push(',');
                }
                out.push('\n');
            }
        }
        out.push_str("]\n");
    }
    if manifest.incomplete {
        out.push_str("incomplete = true\n");
    }
    for (name, table, always) in [
        ("packs", &manifest.packs, true),
        ("files", &manifest.files, true),
        ("replacing", &manifest.replacing, false),
    ] {
        if table.is_empty() && !always {
            continue;
        }
        out.push_str("\n[");
        out.push_str(name);
        out.push_str("]\n");
        for (key, value) in table {
            value_line(&mut out, key, value)?;
        }
    }
    Some(out)
}

/// `key = "value"`, the key bare when it can be.
fn value_line(out: &mut String, key: &str, value: &str) -> Option<()> {
    let bare = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if bare {
        out.push_str(key);
    } else {
        quoted(out, key)?;
    }
    out.push_str(" = ");
    quoted(out, value)?;
    out.push('\n');
    Some(())
}

/// `"text"`, when every character of `text` is written as itself in any string form.
fn quoted(out: &mut String, text: &str) -> Option<()> {
    let plain = text
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"./_-:@+=,".contains(&b));
    if !plain {
        return None;
    }
    out.push('"');
    out.push_str(text);
    out.push('"');
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    /// What the TOML parser reads from `text` (the slow path), if anything.
    fn parsed(text: &str) -> Option<Manifest> {
        toml_edit::de::from_str(text).ok()
    }

    fn manifest_of(
        profile: String,
        lists: [Vec<String>; 3],
        maps: [BTreeMap<String, String>; 3],
        incomplete: bool,
    ) -> Manifest {
        let [profiles, sets, chain] = lists;
        let [packs, files, replacing] = maps;
        Manifest {
            profile,
            profiles,
            sets,
            chain,
            packs,
            files,
            incomplete,
            replacing,
        }
    }

    fn text() -> impl Strategy<Value = String> {
        // Mostly plain names; sometimes quotes, backslashes, controls, non-ASCII and the
        // characters that make a TOML writer pick another string form.
        prop_oneof![
            3 => "[a-z0-9./_-]{0,12}",
            1 => any::<String>(),
            1 => proptest::collection::vec(
                prop_oneof![Just('"'), Just('\''), Just('\\'), Just('\n'), Just('\t'),
                            Just('\u{1}'), Just('\u{7f}'), Just('é'), Just('#'), Just(' ')],
                0..6,
            ).prop_map(|cs| cs.into_iter().collect()),
        ]
    }

    /// A manifest of strings from `text`: every shape of list and table, empty ones included.
    fn manifest_from(text: BoxedStrategy<String>) -> impl Strategy<Value = Manifest> {
        let list = || proptest::collection::vec(text.clone(), 0..4);
        let map = || proptest::collection::btree_map(text.clone(), text.clone(), 0..4);
        (
            text.clone(),
            [list(), list(), list()],
            [map(), map(), map()],
            any::<bool>(),
        )
            .prop_map(|(p, l, m, i)| manifest_of(p, l, m, i))
    }

    fn manifest() -> impl Strategy<Value = Manifest> {
        manifest_from(text().boxed())
    }

    /// A manifest of the characters the direct writer writes itself, so that the comparison
    /// below is made on every case.
    fn plain_manifest() -> impl Strategy<Value = Manifest> {
        manifest_from("[a-zA-Z0-9./_:@+=,-]{0,10}".boxed())
    }

    proptest! {
        /// On names, paths and hashes, the direct writer writes what the TOML writer does,
        /// byte for byte.
        #[test]
        fn writes_plain_manifests_as_the_toml_writer_does(m in plain_manifest()) {
            let toml = toml_edit::ser::to_string_pretty(&m).expect("plain data");
            prop_assert_eq!(write(&m), Some(toml));
        }

        /// The direct writer writes what the TOML writer does, byte for byte, or leaves it to
        /// it; and it writes names and hashes as imggen makes them.
        #[test]
        fn writes_what_the_toml_writer_does(m in manifest()) {
            let toml = toml_edit::ser::to_string_pretty(&m).expect("plain data");
            let direct = write(&m);
            if let Some(direct) = &direct {
                prop_assert_eq!(direct, &toml);
            }
            let plain = |s: &String| s.chars().all(|c| c.is_ascii_alphanumeric() || "./_-".contains(c));
            let strings = [&m.profile].into_iter()
                .chain(m.profiles.iter().chain(&m.sets).chain(&m.chain))
                .chain([&m.packs, &m.files, &m.replacing].into_iter().flat_map(|t| t.iter().flat_map(|(k, v)| [k, v])));
            if strings.clone().all(plain) {
                prop_assert!(direct.is_some(), "{}", toml);
            }
        }

        /// Whatever imggen writes, the fast reader reads back as written, or leaves it to the
        /// TOML parser.
        #[test]
        fn reads_back_what_imggen_writes(m in manifest()) {
            let text = m.to_text();
            let fast = read(&text);
            if let Some(fast) = &fast {
                prop_assert_eq!(fast, &m);
            }
            prop_assert_eq!(parsed(&text), Some(m.clone()));
            // Names and hashes as imggen writes them are never left to the slow path.
            let plain = |s: &String| s.chars().all(|c| c.is_ascii_alphanumeric() || "./_-".contains(c));
            let strings = [&m.profile].into_iter()
                .chain(m.profiles.iter().chain(&m.sets).chain(&m.chain))
                .chain([&m.packs, &m.files, &m.replacing].into_iter().flat_map(|t| t.iter().flat_map(|(k, v)| [k, v])));
            if strings.clone().all(plain) {
                prop_assert!(fast.is_some(), "{}", text);
            }
        }

        /// On any edit of a written manifest, the fast reader says what the TOML parser
        /// reads, or nothing.
        #[test]
        fn never_disagrees_with_the_toml_parser(
            m in manifest(),
            at in any::<prop::sample::Index>(),
            cut in 0usize..4,
            insert in prop_oneof![Just(String::new()), text(), "[\\[\\]=,\"' \t\r\n#a-z]{1,3}"],
        ) {
            let text = m.to_text();
            let mut start = at.index(text.len() + 1);
            while !text.is_char_boundary(start) {
                start -= 1;
            }
            let mut end = (start + cut).min(text.len());
            while !text.is_char_boundary(end) {
                end += 1;
            }
            let edited = format!("{}{}{}", &text[..start], insert, &text[end..]);
            if let Some(fast) = read(&edited) {
                prop_assert_eq!(Some(fast), parsed(&edited), "{:?}", edited);
            }
        }
    }

    #[test]
    fn reads_a_rendered_manifest() {
        let text = "# Written by imggen\n\
                    profile = \"corporate-hardened\"\n\
                    profiles = [\"corporate-hardened\"]\n\
                    sets = ['python.tag=a\"b']\n\
                    chain = [\n    \"alpine-layered\",\n    \"corporate-hardened\",\n]\n\n\
                    [packs]\nalpine = \"1.0.0\"\n\n\
                    [files]\n\".env\" = \"sha256:00\"\n\"a/b\\u00e9\" = \"sha256:01\"\n";
        let fast = read(text).expect("the fast reader reads imggen's layout");
        assert_eq!(Some(fast.clone()), parsed(text));
        assert_eq!(fast.sets, ["python.tag=a\"b"]);
        assert_eq!(fast.files.keys().last().map(String::as_str), Some("a/bé"));
        // Every TOML 1.0 escape, as another writer (or a hand) might spell them.
        let escapes = "profile = \"\\b\\t\\n\\f\\r\\\"\\\\\\u00e9\\U0001F600\"\n\
                       chain = []\n[packs]\n[files]\n";
        let fast = read(escapes).expect("escapes are read");
        assert_eq!(fast.profile, "\u{8}\t\n\u{c}\r\"\\é😀");
        assert_eq!(Some(fast), parsed(escapes));
    }

    /// Every one-character deletion from a rendered manifest: the fast reader agrees with the
    /// TOML parser each time it answers, and it does answer for some (a shorter hash) and not
    /// for others (a broken quote).
    #[test]
    fn agrees_on_every_deletion_of_one_character() {
        let text = "# Written by imggen\n\
                    profile = \"p\"\nchain = [\n    \"a\",\n    \"p\",\n]\n\n\
                    [packs]\nalpine = \"1.0.0\"\n\n[files]\n\".env\" = \"sha256:0a\"\n";
        let (mut answered, mut left) = (0, 0);
        for (at, c) in text.char_indices() {
            let edited = format!("{}{}", &text[..at], &text[at + c.len_utf8()..]);
            match read(&edited) {
                Some(fast) => {
                    assert_eq!(Some(fast), parsed(&edited), "{edited:?}");
                    answered += 1;
                }
                None => left += 1,
            }
        }
        assert!(
            answered > 20 && left > 20,
            "answered {answered}, left {left}"
        );
    }

    #[test]
    fn leaves_everything_else_to_the_toml_parser() {
        let base = "profile = \"p\"\nchain = []\n[packs]\n[files]\n";
        assert!(read(base).is_some());
        for other in [
            "profile = \"p\"\nchain = []\n[packs]\n", // no [files]
            "profile = \"p\"\nprofile = \"q\"\nchain = []\n[packs]\n[files]\n", // twice
            "profile = \"p\" # note\nchain = []\n[packs]\n[files]\n", // a comment after it
            "profile = \"p\"\r\nchain = []\r\n[packs]\r\n[files]\r\n", // CRLF
            "profile = \"\"\"p\"\"\"\nchain = []\n[packs]\n[files]\n", // multi-line string
            "profile = \"p\"\nchain = []\nextra = 1\n[packs]\n[files]\n", // unknown key
            "profile = \"p\"\nchain = []\n[packs]\n[files]\n[packs]\n", // a table twice
            "profile = \"p\\e\"\nchain = []\n[packs]\n[files]\n", // not a TOML 1.0 escape
            "profile = \"p\"\nchain = []\n[packs]\na.b = \"1\"\n[files]\n", // a dotted key
            "profile = \"p\"\nchain = []\n[packs]\n[files]\na = \"1\"\n\"a\" = \"2\"\n", // a path twice
        ] {
            assert_eq!(read(other), None, "{other:?}");
        }
    }
}
