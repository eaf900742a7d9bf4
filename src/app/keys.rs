//! Config key names to Bevy key codes.

use bevy::input::keyboard::KeyCode;

use crate::config::keys::{KeyName, parse_key_name};

pub fn parse_key(name: &str) -> Option<KeyCode> {
    use KeyCode::*;
    Some(match parse_key_name(name)? {
        KeyName::Letter(c) => {
            const LETTERS: [KeyCode; 26] = [
                KeyA, KeyB, KeyC, KeyD, KeyE, KeyF, KeyG, KeyH, KeyI, KeyJ, KeyK, KeyL, KeyM, KeyN, KeyO, KeyP, KeyQ,
                KeyR, KeyS, KeyT, KeyU, KeyV, KeyW, KeyX, KeyY, KeyZ,
            ];
            LETTERS[(c as u8 - b'A') as usize]
        }
        KeyName::Digit(d) => {
            [Digit0, Digit1, Digit2, Digit3, Digit4, Digit5, Digit6, Digit7, Digit8, Digit9][d as usize]
        }
        KeyName::Function(n) => [F1, F2, F3, F4, F5, F6, F7, F8, F9, F10, F11, F12][n as usize - 1],
        KeyName::Named(n) => match n {
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
            _ => End,
        },
    })
}
