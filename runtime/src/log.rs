//! Logging: every line a node logs through `lp::tracing` is prefixed with `[label] ` when nodes
//! share a process (`local_mt`); a child process of `local_mp` prints plain lines and its
//! launcher adds the prefix.

use std::fmt;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// The name of the span each node's work runs in.
pub(crate) const NODE_SPAN: &str = "lp_node";

/// Installs the subscriber, unless the program already installed one. `prefix`: whether lines
/// get the node label (false in child processes, whose launcher prefixes).
pub(crate) fn init(prefix: bool) {
    if tracing::dispatcher::has_been_set() {
        return;
    }
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let fmt = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .event_format(LabelFormat { prefix });
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(LabelLayer)
        .with(fmt)
        .try_init();
}

/// The label of a node span, stored in the span's extensions.
struct NodeLabel(String);

/// Remembers the label of each node span.
struct LabelLayer;

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for LabelLayer {
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

/// `[label] LEVEL message fields`, with the level omitted for INFO and no timestamp.
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
        if level != Level::INFO {
            write!(writer, "{level} ")?;
        }
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}
