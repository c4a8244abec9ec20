//! Logging: every line a node logs through `lp::tracing` is prefixed with `[label] ` when nodes
//! share a process (`local_mt`); a child process of `local_mp` prints plain lines and its
//! launcher adds the prefix.
//!
//! The runtime's own messages (a launch's progress, a node's failure, a stop) are `tracing`
//! events with the target [`TARGET`], printed `lp: …` (`lp: warning: …` for warnings): a
//! program can filter them (`RUST_LOG=lp=warn`) or, with a subscriber of its own, redirect
//! them. Only a process's last word, the `error: …` it exits with, is written directly.

use std::fmt;
use std::io::Write;
use std::sync::{Mutex, PoisonError};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::writer::MakeWriterExt;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

/// The target of the runtime's own events.
pub(crate) const TARGET: &str = "lp";

/// The name of the span each node's work runs in.
pub(crate) const NODE_SPAN: &str = "lp_node";

/// Installs the subscriber, unless the program already installed one. `prefix`: whether lines
/// get the node label (false in child processes, whose launcher prefixes).
pub(crate) fn init(prefix: bool) {
    if tracing::dispatcher::has_been_set() {
        return;
    }
    // The runtime's own messages on stderr (as they always were), the nodes' logs on stdout;
    // each event written whole.
    let writer = (|| WholeLine::new(Stream::Stderr))
        .with_filter(|meta: &Metadata<'_>| meta.target() == TARGET)
        .or_else(|| WholeLine::new(Stream::Stdout));
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .with_ansi(false)
        .event_format(LabelFormat { prefix });
    let _ = tracing_subscriber::registry()
        .with(filter())
        .with(LabelLayer)
        .with(fmt)
        .try_init();
}

/// Held while a line is written to stdout or stderr: two streams merged into one pipe (`2>&1`)
/// never get one line spliced into another, however slowly the pipe is read.
static OUTPUT: Mutex<()> = Mutex::new(());

/// One of this process's output streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stream {
    Stdout,
    Stderr,
}

/// Writes `line` (its newline included) to `stream` whole: no other line of this process's
/// lp output (the launcher's messages, the nodes' forwarded lines and logs) lands inside it.
pub(crate) fn write_whole(stream: Stream, line: &[u8]) {
    let _whole = OUTPUT.lock().unwrap_or_else(PoisonError::into_inner);
    let _ = match stream {
        Stream::Stdout => {
            let mut out = std::io::stdout().lock();
            out.write_all(line).and_then(|()| out.flush())
        }
        Stream::Stderr => std::io::stderr().lock().write_all(line),
    };
}

/// The writer of one tracing event: gathers its text, and writes it whole when dropped.
struct WholeLine {
    stream: Stream,
    text: Vec<u8>,
}

impl WholeLine {
    fn new(stream: Stream) -> Self {
        WholeLine {
            stream,
            text: Vec::new(),
        }
    }
}

impl Write for WholeLine {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.text.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for WholeLine {
    fn drop(&mut self) {
        if !self.text.is_empty() {
            write_whole(self.stream, &self.text);
        }
    }
}

/// What `RUST_LOG` lets through: any directives (the `env-filter` feature); by default INFO,
/// and only warnings of the simulator `sim` runs on (`RUST_LOG=info,turmoil=trace` shows its
/// every packet).
#[cfg(feature = "env-filter")]
fn filter() -> tracing_subscriber::EnvFilter {
    tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,turmoil=warn"))
}

/// What `RUST_LOG` lets through: a level (without the `env-filter` feature), INFO by default;
/// the simulator `sim` runs on says no more than warnings.
#[cfg(not(feature = "env-filter"))]
fn filter() -> tracing_subscriber::filter::Targets {
    use tracing_subscriber::filter::LevelFilter;
    let level = std::env::var("RUST_LOG")
        .ok()
        .and_then(|level| level.trim().parse().ok())
        .unwrap_or(LevelFilter::INFO);
    tracing_subscriber::filter::Targets::new()
        .with_default(level)
        .with_target("turmoil", level.min(LevelFilter::WARN))
}

/// The label of a node span, stored in the span's extensions.
struct NodeLabel(String);

/// Remembers the label of each node span.
struct LabelLayer;

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for LabelLayer {
    /// Keeps the event as its node's latest line, for the dashboard (when one is on).
    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if !crate::dashboard::logs::keeping() {
            return;
        }
        let Some(scope) = ctx.event_scope(event) else {
            return;
        };
        let Some(label) = scope
            .into_iter()
            .find_map(|span| span.extensions().get::<NodeLabel>().map(|l| l.0.clone()))
        else {
            return;
        };
        let mut line = LineVisitor(String::new());
        event.record(&mut line);
        let level = *event.metadata().level();
        let text = match level {
            Level::INFO => line.0,
            level => format!("{level} {}", line.0),
        };
        crate::dashboard::logs::push(&label, &text);
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if attrs.metadata().name() != NODE_SPAN {
            return;
        }
        let mut visitor = LabelVisitor(None);
        attrs.record(&mut visitor);
        if let (Some(label), Some(span)) = (visitor.0, ctx.span(id)) {
            span.extensions_mut().insert(NodeLabel(label));
        }
    }
}

struct LabelVisitor(Option<String>);

impl Visit for LabelVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "label" {
            self.0 = Some(value.to_string());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "label" {
            self.0 = Some(format!("{value:?}"));
        }
    }
}

/// An event's message, then its other fields as `name=value`.
struct LineVisitor(String);

impl Visit for LineVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        use std::fmt::Write as _;
        if !self.0.is_empty() {
            self.0.push(' ');
        }
        let _ = match field.name() {
            "message" => write!(self.0, "{value:?}"),
            name => write!(self.0, "{name}={value:?}"),
        };
    }
}

/// `[label] LEVEL message fields`, with the level omitted for INFO and no timestamp; the
/// runtime's events are `lp: message` (`lp: warning: message`).
struct LabelFormat {
    /// Whether to print the `[label] ` prefix.
    prefix: bool,
}

impl<S, N> FormatEvent<S, N> for LabelFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        if self.prefix {
            if let Some(scope) = ctx.event_scope() {
                for span in scope {
                    if let Some(label) = span.extensions().get::<NodeLabel>() {
                        write!(writer, "[{}] ", label.0)?;
                        break;
                    }
                }
            }
        }
        let level = *event.metadata().level();
        if event.metadata().target() == TARGET {
            // Failures say so in words ("node `x` failed: …"); warnings get the word.
            write!(writer, "lp: ")?;
            if level == Level::WARN {
                write!(writer, "warning: ")?;
            }
        } else if level != Level::INFO {
            write!(writer, "{level} ")?;
        }
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}
