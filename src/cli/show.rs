//! `imggen show`: the resolved profile as TOML, each value annotated with where it came from.

use toml_edit::{Item, Table};

use crate::profile::Stack;
use crate::profile::layer::Layers;

pub fn annotated(stack: &Stack) -> String {
    let mut doc = toml_edit::ser::to_document(&stack.profile).expect("the profile is plain data");
    expand(doc.as_table_mut());
    annotate(doc.as_table_mut(), &mut Vec::new(), &stack.layers);
    format!(
        "# Resolved profile `{}` ({}); each value says where it was set.\n{doc}",
        stack.title(),
        stack.chain.join(" < ")
    )
}

/// Nested structs serialize as inline tables; show them as `[section]`s, as people write them.
fn expand(table: &mut Table) {
    let keys: Vec<String> = table.iter().map(|(k, _)| k.to_string()).collect();
    for key in keys {
        let Some(item) = table.get_mut(&key) else {
            continue;
        };
        let replacement = match item {
            Item::Value(toml_edit::Value::InlineTable(inline)) => {
                let mut inner = inline.clone().into_table();
                expand(&mut inner);
                Some(Item::Table(inner))
            }
            Item::Value(toml_edit::Value::Array(array))
                if !array.is_empty() && array.iter().all(|v| v.is_inline_table()) =>
            {
                let mut tables = toml_edit::ArrayOfTables::new();
                for value in array.iter() {
                    if let Some(inline) = value.as_inline_table() {
                        let mut inner = inline.clone().into_table();
                        expand(&mut inner);
                        tables.push(inner);
                    }
                }
                Some(Item::ArrayOfTables(tables))
            }
            _ => None,
        };
        if let Some(replacement) = replacement {
            *item = replacement;
        }
    }
}

fn label(layers: &Layers, path: &[String]) -> String {
    let keys: Vec<&str> = path.iter().map(String::as_str).collect();
    layers.origin(&keys).map_or_else(
        || "default".to_string(),
        crate::profile::layer::Origin::label,
    )
}

fn annotate(table: &mut Table, path: &mut Vec<String>, layers: &Layers) {
    let keys: Vec<String> = table.iter().map(|(k, _)| k.to_string()).collect();
    for key in keys {
        path.push(key.clone());
        let origin = label(layers, path);
        match table.get_mut(&key) {
            Some(Item::Value(value)) => {
                value.decor_mut().set_suffix(format!(" # {origin}"));
            }
            Some(Item::Table(inner)) => annotate(inner, path, layers),
            Some(Item::ArrayOfTables(array)) => {
                if let Some(first) = array.iter_mut().next() {
                    first.decor_mut().set_suffix(format!(" # {origin}"));
                }
            }
            _ => {}
        }
        path.pop();
    }
}

/// The resolved profile as JSON: its values, and for every value the file and line (or
/// `default`) it came from, by dotted key.
pub fn json(stack: &Stack) -> serde_json::Value {
    let values = serde_json::to_value(&stack.profile).expect("the profile is plain data");
    let mut origins = serde_json::Map::new();
    collect_origins(&values, &mut Vec::new(), &stack.layers, &mut origins);
    serde_json::json!({
        "profile": stack.title(),
        "chain": stack.chain,
        "values": values,
        "origins": origins,
    })
}

fn collect_origins(
    value: &serde_json::Value,
    path: &mut Vec<String>,
    layers: &Layers,
    out: &mut serde_json::Map<String, serde_json::Value>,
) {
    match value {
        serde_json::Value::Object(map) if !map.is_empty() => {
            for (key, inner) in map {
                path.push(key.clone());
                collect_origins(inner, path, layers, out);
                path.pop();
            }
        }
        _ => {
            out.insert(path.join("."), label(layers, path).into());
        }
    }
}
