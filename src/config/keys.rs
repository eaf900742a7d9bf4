//! Key names as written in config files (`"ControlLeft"`, `"KeyQ"`, `"F12"`), parsed
//! without Bevy so the engine-only build can validate configs too.

/// A parsed key name; the app maps it to Bevy's `KeyCode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyName {
    Letter(char),
    Digit(u8),
    Function(u8),
    Named(&'static str),
}

const NAMED: &[&str] = &[
    "ControlLeft",
    "ControlRight",
    "AltLeft",
    "AltRight",
    "ShiftLeft",
    "ShiftRight",
    "SuperLeft",
    "Escape",
    "Space",
    "Enter",
    "Tab",
    "Backspace",
    "Delete",
    "Home",
    "End",
];

pub fn parse_key_name(name: &str) -> Option<KeyName> {
    if let Some(c) = name.strip_prefix("Key") {
        let mut chars = c.chars();
        if let (Some(ch @ 'A'..='Z'), None) = (chars.next(), chars.next()) {
            return Some(KeyName::Letter(ch));
        }
    }
    if let Some(d) = name.strip_prefix("Digit").and_then(|d| d.parse::<u8>().ok()).filter(|d| *d <= 9) {
        return Some(KeyName::Digit(d));
    }
    if let Some(n) = name.strip_prefix('F').and_then(|n| n.parse::<u8>().ok()).filter(|n| (1..=12).contains(n)) {
        return Some(KeyName::Function(n));
    }
    NAMED.iter().find(|n| **n == name).map(|n| KeyName::Named(n))
}
