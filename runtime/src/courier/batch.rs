//! Batched handlers (Launchpad's `batched_handler`): calls of a method declared with
//! `batch METHOD { size, timeout, max_parallelism }` are queued per node, grouped into one call
//! of the method with a `Vec` of requests, and answered from the `Vec` it returns.
//!
//! A batch runs when `size` requests are queued, or `timeout` after its first request arrived
//! (a partial batch). At most `max_parallelism` batches of a method run at once; requests that
//! arrive meanwhile queue up (bounded, so callers wait rather than memory growing) and form the
//! next batches, so any number of waiting callers drains without deadlock.

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, Semaphore};

use super::{execute, Host, Reply};
use crate::error::CallError;

/// Requests a method's queue holds before callers wait.
const QUEUE: usize = 4096;

/// How one batched method of a node groups its calls (from the node's block in `.lp`).
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// The method's name.
    pub method: String,
    /// The most requests in one batch.
    pub size: usize,
    /// How long the first request of a batch waits for the batch to fill.
    pub timeout: Duration,
    /// How many batches of this method may run at once.
    pub max_parallelism: usize,
}

impl Batch {
    /// What a method without a declared batch gets (generated code always declares one).
    fn fallback(method: &str) -> Self {
        Batch {
            method: method.to_string(),
            size: 8,
            timeout: Duration::from_millis(100),
            max_parallelism: 1,
        }
    }
}

/// One request waiting in a queue, with where its answer goes.
type Waiting<I, O> = (I, oneshot::Sender<Result<O, CallError>>);

/// A node's batched methods: their settings and, once called, their queues.
#[derive(Default)]
pub(crate) struct Batches {
    /// The settings of every batched method of the node.
    settings: Vec<Batch>,
    /// The queue of each method called so far (an `mpsc::Sender<Waiting<I, O>>` as `Any`).
    queues: Mutex<BTreeMap<&'static str, Arc<dyn Any + Send + Sync>>>,
}

impl Batches {
    pub(crate) fn new(settings: Vec<Batch>) -> Self {
        Batches {
            settings,
            queues: Mutex::new(BTreeMap::new()),
        }
    }

    /// The queue of `method`, started on first use: a task that forms batches and runs them.
    fn queue<C: Send + Sync + 'static, I: Send + 'static, O: Send + 'static>(
        &self,
        object: &Arc<C>,
        method: &'static str,
        run: fn(Arc<C>, Vec<I>) -> Reply<Vec<O>>,
        host: &Host,
    ) -> Option<mpsc::Sender<Waiting<I, O>>> {
        let mut queues = self.queues.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(queue) = queues.get(method) {
            return queue.downcast_ref::<mpsc::Sender<Waiting<I, O>>>().cloned();
        }
        let settings = self
            .settings
            .iter()
            .find(|b| b.method == method)
            .cloned()
            .unwrap_or_else(|| Batch::fallback(method));
        let (tx, rx) = mpsc::channel(QUEUE);
        let host = Host::new(host.id, host.node.clone(), host.span.clone(), Vec::new());
        tokio::spawn(collect(rx, object.clone(), method, run, settings, host));
        queues.insert(method, Arc::new(tx.clone()));
        Some(tx)
    }
}

/// Forms batches from the queue until every sender is gone (the node is gone).
async fn collect<C: Send + Sync + 'static, I: Send + 'static, O: Send + 'static>(
    mut queue: mpsc::Receiver<Waiting<I, O>>,
    object: Arc<C>,
    method: &'static str,
    run: fn(Arc<C>, Vec<I>) -> Reply<Vec<O>>,
    settings: Batch,
    host: Host,
) {
    let size = settings.size.max(1);
    let parallel = Arc::new(Semaphore::new(settings.max_parallelism.max(1)));
    let host = Arc::new(host);
    while let Some(first) = queue.recv().await {
        let mut batch = Vec::with_capacity(size);
        batch.push(first);
        let deadline = tokio::time::Instant::now() + settings.timeout;
        while batch.len() < size {
            match tokio::time::timeout_at(deadline, queue.recv()).await {
                Ok(Some(waiting)) => batch.push(waiting),
                Ok(None) | Err(_) => break,
            }
        }
        let Ok(permit) = parallel.clone().acquire_owned().await else {
            return;
        };
        let (object, host) = (object.clone(), host.clone());
        tokio::spawn(async move {
            let (requests, answers): (Vec<I>, Vec<_>) = batch.into_iter().unzip();
            let asked = requests.len();
            let result = execute(run(object, requests), &host, method, None).await;
            drop(permit);
            answer(answers, result, asked, &host, method);
        });
    }
}

/// Sends each caller its own response, or the batch's error.
fn answer<O>(
    answers: Vec<oneshot::Sender<Result<O, CallError>>>,
    result: Result<Vec<O>, CallError>,
    asked: usize,
    host: &Host,
    method: &str,
) {
    match result {
        Ok(responses) if responses.len() == asked => {
            for (answer, response) in answers.into_iter().zip(responses) {
                let _ = answer.send(Ok(response));
            }
        }
        Ok(responses) => {
            let error = CallError::Remote {
                node: host.node.to_string(),
                method: method.to_string(),
                message: format!(
                    "the batched method returned {} responses for {asked} requests",
                    responses.len()
                ),
                value: None,
            };
            for answer in answers {
                let _ = answer.send(Err(error.clone()));
            }
        }
        Err(error) => {
            for answer in answers {
                let _ = answer.send(Err(error.clone()));
            }
        }
    }
}

impl<R: Send + 'static> Reply<R> {
    /// A call of a batched method: `item` joins the node's queue for `method`; `run` calls the
    /// method with a whole batch; `wrap` turns this caller's response into the response enum.
    pub fn batch<C: Send + Sync + 'static, I: Send + 'static, O: Send + 'static>(
        object: Arc<C>,
        method: &'static str,
        item: I,
        run: fn(Arc<C>, Vec<I>) -> Reply<Vec<O>>,
        wrap: fn(O) -> R,
    ) -> Self {
        Reply(super::ReplyKind::Batch(Box::new(move |host: &Host| {
            let queue = host.batches.queue(&object, method, run, host);
            let node = host.node.clone();
            Box::pin(async move {
                let gone = || CallError::Unavailable {
                    node: node.to_string(),
                    reason: format!("the batch queue of `{method}` is gone"),
                };
                let queue = queue.ok_or_else(|| {
                    CallError::Protocol(format!("`{method}` is batched with two request types"))
                })?;
                let (tx, rx) = oneshot::channel();
                queue.send((item, tx)).await.map_err(|_| gone())?;
                rx.await.map_err(|_| gone())?.map(wrap)
            })
        })))
    }
}
