//! `lpc top [DIR|URL]`: a live terminal view of a running launch, read from its dashboard's API
//! (see docs/dashboard.md): the program's state, and per node its kind, pid, state, restarts,
//! CPU, memory and calls. `q` (or Ctrl-C) quits.

mod fetch;
mod render;

pub use fetch::{Dashboard, FetchError};

use std::io::{IsTerminal, Read, Write};
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

/// How often the view refreshes.
const REFRESH: Duration = Duration::from_secs(1);

/// Runs the view of the launch `target` names until `q`, or prints one frame with `once`.
pub fn run(target: Option<&str>, once: bool) -> Result<(), FetchError> {
    let dashboard = Dashboard::find(target)?;
    if once {
        println!("{}", current(&dashboard, usize::MAX)?);
        return Ok(());
    }
    let _raw = Keys::raw();
    let keys = keystrokes();
    loop {
        let frame = current(&dashboard, width())?;
        let mut out = std::io::stdout().lock();
        // Home, clear, the frame; lines end in \r\n (the terminal does not add \r now).
        let _ = write!(out, "\x1b[H\x1b[2J{}\r\n", frame.replace('\n', "\r\n"));
        let _ = out.flush();
        match keys.recv_timeout(REFRESH) {
            Ok(b'q') | Ok(3) | Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(()),
            _ => {}
        }
    }
}

/// The current frame.
fn current(dashboard: &Dashboard, width: usize) -> Result<String, FetchError> {
    let program: render::Program = dashboard.get("/api/program")?;
    let nodes: Vec<render::Node> = dashboard.get("/api/nodes")?;
    Ok(render::frame(&program, &nodes, width))
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

/// Each key pressed, as it is pressed.
fn keystrokes() -> mpsc::Receiver<u8> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut byte = [0u8; 1];
        let mut stdin = std::io::stdin();
        while let Ok(1) = stdin.read(&mut byte) {
            if tx.send(byte[0]).is_err() {
                return;
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
