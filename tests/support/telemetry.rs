//! What the observability tests read: a recording `metrics` recorder of our own (installed once per
//! test binary) and a `tracing` layer that keeps every closed span and every event
//! with its fields (installed by [`crate::guard::install`]).

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use metrics::{
    Counter, Gauge, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder, SharedString, Unit,
};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// A closed span: its name, its fields (including those recorded later) and the name of
/// its parent.
#[derive(Clone, Debug)]
pub struct SpanRecord {
    pub name: String,
    pub fields: HashMap<String, String>,
    pub parent: Option<String>,
}

/// An event: its fields (the message under `message`) and the names of the spans it
/// happened in, outermost first.
#[derive(Clone, Debug)]
pub struct EventRecord {
    pub fields: HashMap<String, String>,
    pub level: tracing::Level,
    pub scope: Vec<String>,
}

static SPANS: Mutex<Vec<SpanRecord>> = Mutex::new(Vec::new());
static EVENTS: Mutex<Vec<EventRecord>> = Mutex::new(Vec::new());

/// Every span closed so far in this process.
pub fn spans() -> Vec<SpanRecord> {
    SPANS.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Every event so far in this process.
pub fn events() -> Vec<EventRecord> {
    EVENTS.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// The tracing layer that fills [`spans`] and [`events`].
pub struct Capture;

#[derive(Default)]
struct Fields(HashMap<String, String>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(
            field.name().to_owned(),
            format!("{value:?}").trim_matches('"').to_owned(),
        );
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl<S> tracing_subscriber::Layer<S> for Capture
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(fields);
        }
    }
    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id)
            && let Some(fields) = span.extensions_mut().get_mut::<Fields>()
        {
            values.record(fields);
        }
    }
    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let scope = ctx
            .event_scope(event)
            .map(|s| s.from_root().map(|s| s.name().to_owned()).collect())
            .unwrap_or_default();
        EVENTS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(EventRecord {
                fields: fields.0,
                level: *event.metadata().level(),
                scope,
            });
    }
    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let fields = span
            .extensions_mut()
            .remove::<Fields>()
            .map(|f| f.0)
            .unwrap_or_default();
        SPANS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(SpanRecord {
                name: span.name().to_owned(),
                fields,
                parent: span.parent().map(|p| p.name().to_owned()),
            });
    }
}

/// A recorder that keeps every counter, gauge and histogram in memory, keyed by
/// `name{label=value,...}` (labels sorted).
#[derive(Default)]
struct Recording {
    counters: Mutex<HashMap<String, Arc<AtomicU64>>>,
    gauges: Mutex<HashMap<String, Arc<AtomicU64>>>,
    histograms: Mutex<HashMap<String, Arc<Samples>>>,
}

#[derive(Default)]
struct Samples(Mutex<Vec<f64>>);

impl HistogramFn for Samples {
    fn record(&self, value: f64) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(value);
    }
}

fn slot<T: Default>(map: &Mutex<HashMap<String, Arc<T>>>, key: &Key) -> Arc<T> {
    Arc::clone(
        map.lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(render(key))
            .or_default(),
    )
}

impl Recorder for Recording {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        Counter::from_arc(slot(&self.counters, key))
    }
    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::from_arc(slot(&self.gauges, key))
    }
    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::from_arc(slot(&self.histograms, key))
    }
}

/// The process-wide recording recorder (installed on first use).
fn recording() -> &'static Recording {
    static RECORDING: OnceLock<&'static Recording> = OnceLock::new();
    RECORDING.get_or_init(|| {
        let recording: &'static Recording = Box::leak(Box::default());
        metrics::set_global_recorder(recording)
            .expect("no other metrics recorder in this test binary");
        recording
    })
}

/// Installs the recorder; call before the code under test runs.
pub fn install_recorder() {
    let _ = recording();
}

/// The metrics as they are now: counter totals and gauge values by
/// `name{label=value,...}`, and histograms as their number of samples.
pub fn metrics() -> HashMap<String, f64> {
    let r = recording();
    let mut out = HashMap::new();
    for (k, v) in r.counters.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        out.insert(k.clone(), v.load(Ordering::SeqCst) as f64);
    }
    for (k, v) in r.gauges.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        out.insert(k.clone(), f64::from_bits(v.load(Ordering::SeqCst)));
    }
    for (k, v) in r
        .histograms
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
    {
        out.insert(
            k.clone(),
            v.0.lock().unwrap_or_else(|e| e.into_inner()).len() as f64,
        );
    }
    out
}

fn render(key: &Key) -> String {
    let mut labels: Vec<String> = key
        .labels()
        .map(|l| format!("{}={}", l.key(), l.value()))
        .collect();
    labels.sort();
    if labels.is_empty() {
        key.name().to_owned()
    } else {
        format!("{}{{{}}}", key.name(), labels.join(","))
    }
}
