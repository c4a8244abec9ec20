//! `lpc top [DIR|URL]`: a live terminal view of a running launch, read from its dashboard's API
//! (see docs/dashboard.md): the program's state, per node its kind, pid, state, restarts, CPU,
//! memory and calls, and the slowest recent calls of the selected node (up/down or j/k select
//! one). `q` (or Ctrl-C) quits.

mod fetch;
mod render;

pub use fetch::{Dashboard, FetchError};

use std::io::{IsTerminal, Read, Write};
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

/// How often the view refreshes.
const REFRESH: Duration = Duration::from_secs(1);

/// Runs the view of the launch `target` names until `q`, or prints one frame with `once`;
/// node `node` (a label) selected first, else the first node.
pub fn run(target: Option<&str>, once: bool, node: Option<&str>) -> Result<(), FetchError> {
    let dashboard = Dashboard::find(target)?;
    let (program, nodes) = current(&dashboard)?;
    let selected = match node {
        None => 0,
        Some(label) => nodes
            .iter()
            .position(|n| n.label == label)
            .ok_or_else(|| FetchError::NoNode(label.to_string()))?,
    };
    let mut screen = render::Screen {
        width: usize::MAX,
        selected,
        highlight: false,
    };
    if once {
        println!("{}", render::frame(&program, &nodes, screen));
        return Ok(());
    }
    let _raw = Keys::raw();
    let keys = keystrokes();
    screen.highlight = true;
    loop {
        let (program, nodes) = current(&dashboard)?;
        screen.width = width();
        screen.selected = screen.selected.min(nodes.len().saturating_sub(1));
        let frame = render::frame(&program, &nodes, screen);
        let mut out = std::io::stdout().lock();
        // Home, clear, the frame; lines end in \r\n (the terminal does not add \r now).
        let _ = write!(out, "\x1b[H\x1b[2J{}\r\n", frame.replace('\n', "\r\n"));
        let _ = out.flush();
        match keys.recv_timeout(REFRESH) {
            Ok(Key::Quit) | Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(()),
            Ok(Key::Up) => screen.selected = screen.selected.saturating_sub(1),
            Ok(Key::Down) => screen.selected += 1,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
    }
}

/// The program and its nodes now.
fn current(dashboard: &Dashboard) -> Result<(render::Program, Vec<render::Node>), FetchError> {
    Ok((dashboard.get("/api/program")?, dashboard.get("/api/nodes")?))
}

/// The terminal's width (`COLUMNS`, else `stty size`, else 120).
fn width() -> usize {
    let from_env = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok());
    from_env
        .or_else(|| {
            let out = Command::new("stty")
                .arg("size")
                .stdin(std::process::Stdio::inherit())
                .output()
                .ok()?;
            let text = String::from_utf8_lossy(&out.stdout).to_string();
            text.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(120)
}

/// What a key pressed asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    /// `q` or Ctrl-C.
    Quit,
    /// The up arrow, or `k`: select the node above.
    Up,
    /// The down arrow, or `j`: select the node below.
    Down,
}

/// The keys `lpc top` acts on among the bytes of one read of the terminal: an arrow comes
/// whole, as `ESC [ A` (or `ESC O A` when the terminal is in application cursor mode).
fn keys_in(bytes: &[u8]) -> Vec<Key> {
    let mut keys = Vec::new();
    let mut rest = bytes;
    while let Some((&first, tail)) = rest.split_first() {
        rest = tail;
        let key = match first {
            b'q' | 3 => Some(Key::Quit),
            b'k' => Some(Key::Up),
            b'j' => Some(Key::Down),
            0x1b => match rest {
                [b'[' | b'O', arrow, tail @ ..] => {
                    rest = tail;
                    match arrow {
                        b'A' => Some(Key::Up),
                        b'B' => Some(Key::Down),
                        _ => None,
                    }
                }
                _ => None,
            },
            _ => None,
        };
        keys.extend(key);
    }
    keys
}

/// Each key pressed that `lpc top` acts on, as it is pressed.
fn keystrokes() -> mpsc::Receiver<Key> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut bytes = [0u8; 64];
        let mut stdin = std::io::stdin();
        while let Ok(read @ 1..) = stdin.read(&mut bytes) {
            for key in keys_in(&bytes[..read]) {
                if tx.send(key).is_err() {
                    return;
                }
            }
        }
    });
    rx
}

/// The terminal in raw mode (keys arrive unbuffered and unechoed) while it lives; restored
/// when dropped. Nothing happens when stdin is not a terminal.
struct Keys {
    saved: Option<String>,
}

impl Keys {
    fn raw() -> Keys {
        if !std::io::stdin().is_terminal() {
            return Keys { saved: None };
        }
        let saved = stty(&["-g"]).map(|s| s.trim().to_string());
        let _ = stty(&["-icanon", "-echo", "min", "1"]);
        print!("\x1b[?25l");
        Keys { saved }
    }
}

impl Drop for Keys {
    fn drop(&mut self) {
        if let Some(saved) = &self.saved {
            let _ = stty(&[saved.as_str()]);
            print!("\x1b[?25h\r\n");
            let _ = std::io::stdout().flush();
        }
    }
}

/// Runs `stty ARGS` on this terminal; its output.
fn stty(args: &[&str]) -> Option<String> {
    let out = Command::new("stty")
        .args(args)
        .stdin(std::process::Stdio::inherit())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::{keys_in, Key};

    #[test]
    fn keys_as_terminals_send_them() {
        assert_eq!(
            keys_in(b"\x1b[B\x1bOBj\x1b[A\x1bOAkx\x1b[Cq\x03"),
            [
                Key::Down,
                Key::Down,
                Key::Down,
                Key::Up,
                Key::Up,
                Key::Up,
                Key::Quit,
                Key::Quit
            ]
        );
        assert_eq!(keys_in(b"\x1b"), []);
    }
}
