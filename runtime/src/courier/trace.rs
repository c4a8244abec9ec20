//! Cross-node tracing: a call carries a [`Trace`] — its trace's id, its own span id, its
//! caller's, and the nodes the trace went through — when calls are traced in this process (the
//! dashboard is on, or `lp::call` debug spans are wanted). A call made while a node serves
//! another continues that one's trace; any other call starts a trace of its own.
//!
//! The serving side runs each traced call in a `call` span inside its node's span (fields
//! `method`, `trace_id`, `span_id`, `parent_id`), when `lp::call` debug spans are on: across
//! processes, a call's spans name the span of the call that led to it.

use std::cell::Cell;
use std::hash::{BuildHasher, Hasher};

use crate::transport::frame::{Chain, Trace};

thread_local! {
    /// The traced call this thread serves right now, and the node serving it.
    static SERVING: Cell<Option<(Trace, usize)>> = const { Cell::new(None) };
    /// Whether `lp::call` debug spans are wanted.
    static SPANS: Cell<bool> = Cell::new(tracing::enabled!(target: "lp::call", tracing::Level::DEBUG));
    /// The state of this thread's id generator (xorshift64*), seeded at random.
    static STATE: Cell<u64> = Cell::new(std::collections::hash_map::RandomState::new().build_hasher().finish() | 1);
}

/// Whether calls are traced in this process: counted, or `lp::call` debug spans wanted (asked
/// once per thread, on its first call: logging is set up by then).
pub(crate) fn wanted() -> bool {
    crate::metrics::enabled() || SPANS.get()
}

/// The trace of a call that node `caller` (`None`: the launcher, a test) makes now: the next
/// step of the call this thread serves, or the first of a new trace.
pub(crate) fn next(caller: Option<usize>) -> Trace {
    let span = id();
    match SERVING.get() {
        Some((parent, node)) => Trace {
            trace: parent.trace,
            span,
            parent: parent.span,
            chain: parent.chain.then(node),
        },
        None => Trace {
            trace: id(),
            span,
            parent: 0,
            chain: caller.map_or_else(Chain::default, |caller| Chain::default().then(caller)),
        },
    }
}

/// Runs `work` as node `node` serving the call `trace`: the calls it makes continue its trace.
pub(crate) fn serving<T>(trace: Option<&Trace>, node: usize, work: impl FnOnce() -> T) -> T {
    /// Puts back what was served before, however `work` ends.
    struct Restore(Option<(Trace, usize)>);
    impl Drop for Restore {
        fn drop(&mut self) {
            SERVING.set(self.0);
        }
    }
    let Some(trace) = trace else {
        return work();
    };
    let _restore = Restore(SERVING.replace(Some((*trace, node))));
    work()
}

/// The span a traced call runs in, inside its node's `span`, when `lp::call` debug spans are
/// on.
pub(crate) fn span(
    node: &tracing::Span,
    method: &str,
    trace: Option<&Trace>,
) -> Option<tracing::Span> {
    let trace = trace?;
    let span = tracing::debug_span!(
        target: "lp::call",
        parent: node,
        "call",
        method,
        trace_id = %format_args!("{:016x}", trace.trace),
        span_id = %format_args!("{:016x}", trace.span),
        parent_id = %format_args!("{:016x}", trace.parent),
    );
    (!span.is_disabled()).then_some(span)
}

/// A random id, never 0.
fn id() -> u64 {
    STATE.with(|state| {
        let mut x = state.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        state.set(x);
        x.wrapping_mul(0x2545_f491_4f6c_dd1d).max(1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_made_while_serving_continues_its_trace() {
        let first = next(Some(3));
        assert_eq!((first.parent, first.chain.ids()), (0, &[3][..]));
        let second = serving(Some(&first), 5, || next(Some(5)));
        assert_eq!(second.trace, first.trace);
        assert_eq!(second.parent, first.span);
        assert_ne!(second.span, first.span);
        assert_eq!(second.chain.ids(), [3, 5]);
        let third = serving(Some(&second), 7, || next(None));
        assert_eq!(third.chain.ids(), [3, 5, 7]);
        let after = next(None);
        assert_ne!(after.trace, first.trace, "served no more: a new trace");
        assert!(after.chain.ids().is_empty());
    }

    /// The fields of every span made, as `name field=value …`.
    #[derive(Clone, Default)]
    struct Spans(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Spans {
        fn on_new_span(
            &self,
            attrs: &tracing::span::Attributes<'_>,
            _: &tracing::span::Id,
            _: tracing_subscriber::layer::Context<'_, S>,
        ) {
            /// Writes each field as ` name=value`.
            struct Fields(String);
            impl tracing::field::Visit for Fields {
                fn record_debug(
                    &mut self,
                    field: &tracing::field::Field,
                    value: &dyn std::fmt::Debug,
                ) {
                    self.0 += &format!(" {}={value:?}", field.name());
                }
            }
            let mut fields = Fields(attrs.metadata().name().to_string());
            attrs.record(&mut fields);
            self.0.lock().unwrap().push(fields.0);
        }
    }

    #[test]
    fn a_call_span_names_its_trace_and_its_parent_when_wanted() {
        use tracing_subscriber::layer::SubscriberExt;
        let trace = Trace {
            trace: 0xabc,
            span: 2,
            parent: 1,
            chain: Chain::default(),
        };
        assert!(
            span(&tracing::Span::none(), "work", Some(&trace)).is_none(),
            "not wanted"
        );
        let spans = Spans::default();
        let subscriber = tracing_subscriber::registry()
            .with(spans.clone())
            .with(tracing_subscriber::filter::LevelFilter::DEBUG);
        tracing::subscriber::with_default(subscriber, || {
            assert!(wanted());
            assert!(
                span(&tracing::Span::none(), "work", None).is_none(),
                "untraced"
            );
            assert!(span(&tracing::Span::none(), "work", Some(&trace)).is_some());
        });
        let made = spans.0.lock().unwrap().clone();
        assert_eq!(
            made,
            ["call method=\"work\" trace_id=0000000000000abc span_id=0000000000000002 parent_id=0000000000000001"]
        );
    }
}
