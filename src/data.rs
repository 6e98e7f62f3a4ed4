//! Plain TOML data: what a pack's `[vars]` and a `postgresql.conf` setting hold, read by the
//! kind of value the parser reports.

use std::collections::BTreeMap;

use serde::Deserialize;

/// Plain TOML data, as a pack's `[vars]` holds it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum Data {
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
    List(Vec<Data>),
    Table(BTreeMap<String, Data>),
}

/// Read by the kind the parser reports, in one pass (serde's `untagged` buffers every value
/// and tries each variant in turn: 300 K instructions of one render's 8.2 M went to it).
impl<'de> Deserialize<'de> for Data {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(DataVisitor)
    }
}

struct DataVisitor;

impl<'de> serde::de::Visitor<'de> for DataVisitor {
    type Value = Data;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a boolean, number, string, array or table")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Data, E> {
        Ok(Data::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Data, E> {
        Ok(Data::Int(v))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Data, E> {
        i64::try_from(v).map(Data::Int).map_err(|_| {
            E::custom(format_args!(
                "integer {v} is too large (TOML integers are at most {})",
                i64::MAX
            ))
        })
    }

    fn visit_f64<E>(self, v: f64) -> Result<Data, E> {
        Ok(Data::Float(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Data, E> {
        Ok(Data::Text(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Data, E> {
        Ok(Data::Text(v))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Data, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Data::List(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Data, A::Error> {
        let mut table = BTreeMap::new();
        while let Some((key, value)) = map.next_entry::<String, Data>()? {
            table.insert(key, value);
        }
        Ok(Data::Table(table))
    }
}

impl Data {
    /// What kind of value this is, in a TOML author's words.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Bool(_) => "a boolean",
            Self::Int(_) | Self::Float(_) => "a number",
            Self::Text(_) => "a string",
            Self::List(_) => "an array",
            Self::Table(_) => "a table",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vars_keep_each_kind_of_value() {
        let text = "b = true\ni = -3\nf = 0.5\ns = \"x\"\nl = [1, \"a\"]\n[t]\nk = [{ z = 2 }]\n";
        let vars: BTreeMap<String, Data> = toml::from_str(text).expect("valid");
        let table = |pairs: Vec<(&str, Data)>| {
            Data::Table(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
        };
        let expected = [
            ("b", Data::Bool(true)),
            ("f", Data::Float(0.5)),
            ("i", Data::Int(-3)),
            ("l", Data::List(vec![Data::Int(1), Data::Text("a".into())])),
            ("s", Data::Text("x".into())),
            (
                "t",
                table(vec![(
                    "k",
                    Data::List(vec![table(vec![("z", Data::Int(2))])]),
                )]),
            ),
        ];
        let expected: BTreeMap<String, Data> = expected
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        assert_eq!(vars, expected);
    }

    #[test]
    fn a_var_past_the_largest_toml_integer_is_refused_by_value() {
        let error = toml::from_str::<BTreeMap<String, Data>>("w = 9223372036854775808\n")
            .expect_err("too large");
        assert!(
            error
                .message()
                .contains("integer 9223372036854775808 is too large"),
            "{}",
            error.message()
        );
    }
}
