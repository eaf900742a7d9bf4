//! Key names in config files (`"ControlLeft"`, `"KeyQ"`, `"F12"`) to Bevy key codes.

use bevy::input::keyboard::KeyCode;

pub fn parse_key(name: &str) -> Option<KeyCode> {
    use KeyCode::*;
    let letters = [KeyA, KeyB, KeyC, KeyD, KeyE, KeyF, KeyG, KeyH, KeyI, KeyJ, KeyK, KeyL, KeyM, KeyN, KeyO, KeyP, KeyQ, KeyR, KeyS, KeyT, KeyU, KeyV, KeyW, KeyX, KeyY, KeyZ];
    if let Some(c) = name.strip_prefix("Key") {
        let mut chars = c.chars();
        if let (Some(ch @ 'A'..='Z'), None) = (chars.next(), chars.next()) {
            return Some(letters[(ch as u8 - b'A') as usize]);
        }
    }
    let digits = [Digit0, Digit1, Digit2, Digit3, Digit4, Digit5, Digit6, Digit7, Digit8, Digit9];
    if let Some(d) = name.strip_prefix("Digit").and_then(|d| d.parse::<usize>().ok()) {
        return digits.get(d).copied();
    }
    let f = [F1, F2, F3, F4, F5, F6, F7, F8, F9, F10, F11, F12];
    if let Some(n) = name.strip_prefix('F').and_then(|n| n.parse::<usize>().ok()) {
        return n.checked_sub(1).and_then(|i| f.get(i)).copied();
    }
    Some(match name {
        "ControlLeft" => ControlLeft,
        "ControlRight" => ControlRight,
        "AltLeft" => AltLeft,
        "AltRight" => AltRight,
        "ShiftLeft" => ShiftLeft,
        "ShiftRight" => ShiftRight,
        "SuperLeft" => SuperLeft,
        "Escape" => Escape,
        "Space" => Space,
        "Enter" => Enter,
        "Tab" => Tab,
        "Backspace" => Backspace,
        "Delete" => Delete,
        "Home" => Home,
        "End" => End,
        _ => return None,
    })
}
