//! Backoff and the driver that turns "connect, then decode SSE events" into
//! one `EventStream`, retrying failed attempts before the answer starts.

use std::collections::VecDeque;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::stream;
use futures::{FutureExt, StreamExt};
use tokio_util::sync::CancellationToken;

use super::http::{Failure, SseStream};
use super::sse::SseEvent;
use super::{EventStream, HttpConfig, LlmError, LlmEvent};

/// How long to wait before retry number `attempt` (1-based). A server's
/// Retry-After wins, capped at `max`; otherwise `base * 2^(attempt-1)`,
/// capped at `max`, with equal jitter: at least half of that, so the wait
/// shown to the user is never a meaningless "0 s", and clients that failed
/// together do not retry together.
pub(crate) fn backoff_delay(attempt: u32, base: Duration, max: Duration, retry_after: Option<Duration>) -> Duration {
    if let Some(server) = retry_after {
        return server.min(max);
    }
    let ceiling = base.saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1))).min(max);
    let half = ceiling / 2;
    let span = u64::try_from((ceiling - half).as_nanos()).unwrap_or(u64::MAX);
    half + Duration::from_nanos(fastrand::u64(0..=span))
}

/// Turns the SSE events of one wire format into `LlmEvent`s. One decoder
/// serves one attempt.
pub trait StreamDecoder: Send + 'static {
    /// One event of the body. An error ends the stream (and may be retried
    /// if nothing of the answer was yielded yet).
    fn on_event(&mut self, event: SseEvent) -> Result<Vec<LlmEvent>, LlmError>;

    /// The answer is complete; nothing more needs to be read.
    fn is_finished(&self) -> bool;

    /// The body ended, cleanly or not, before `is_finished`. Returns the
    /// closing events if what arrived is a complete answer (a server that
    /// closes after its finish reason without the final marker), `None` if
    /// the answer was cut short.
    fn on_end(&mut self) -> Option<Vec<LlmEvent>>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    pub base: Duration,
    pub max: Duration,
}

impl RetryPolicy {
    pub fn from_config(config: &HttpConfig) -> Self {
        Self { max_retries: config.max_retries, base: config.backoff_base, max: config.backoff_max }
    }
}

/// One attempt: send the request and return its body as SSE events.
pub(crate) type Attempt = BoxFuture<'static, Result<SseStream, Failure>>;

enum Phase<D> {
    Connect,
    Wait(Duration),
    Read(SseStream, D),
    /// Dropping the body here is what closes the connection.
    Over,
}

struct Driver<C, N, D> {
    policy: RetryPolicy,
    cancel: CancellationToken,
    connect: C,
    new_decoder: N,
    phase: Phase<D>,
    queue: VecDeque<LlmEvent>,
    retries: u32,
    answer_started: bool,
    ended: bool,
}

/// Drives attempts until an answer completes, an error is final, or the
/// token is cancelled. `connect` is called once per attempt.
pub(crate) fn drive<C, N, D>(policy: RetryPolicy, cancel: CancellationToken, connect: C, new_decoder: N) -> EventStream
where
    C: FnMut() -> Attempt + Send + 'static,
    N: FnMut() -> D + Send + 'static,
    D: StreamDecoder,
{
    let driver = Driver {
        policy,
        cancel,
        connect,
        new_decoder,
        phase: Phase::Connect,
        queue: VecDeque::new(),
        retries: 0,
        answer_started: false,
        ended: false,
    };
    Box::pin(stream::unfold(driver, |mut d| async move { d.next().await.map(|item| (item, d)) }))
}

enum ReadOutcome {
    Events(Vec<LlmEvent>, bool),
    End(Vec<LlmEvent>),
    Fail(Failure),
    Cancelled,
}

impl<C, N, D> Driver<C, N, D>
where
    C: FnMut() -> Attempt + Send + 'static,
    N: FnMut() -> D + Send + 'static,
    D: StreamDecoder,
{
    async fn next(&mut self) -> Option<Result<LlmEvent, LlmError>> {
        loop {
            if self.ended {
                return None;
            }
            if self.cancel.is_cancelled() {
                return Some(Err(self.finish(LlmError::Cancelled)));
            }
            if let Some(event) = self.queue.pop_front() {
                if !matches!(event, LlmEvent::Started | LlmEvent::Retrying { .. }) {
                    self.answer_started = true;
                }
                return Some(Ok(event));
            }
            match &mut self.phase {
                Phase::Over => {
                    self.ended = true;
                    return None;
                }
                Phase::Connect => {
                    let attempt = (self.connect)();
                    let result = tokio::select! {
                        biased;
                        () = self.cancel.cancelled() => return Some(Err(self.finish(LlmError::Cancelled))),
                        result = attempt => result,
                    };
                    match result {
                        Ok(body) => {
                            self.phase = Phase::Read(body, (self.new_decoder)());
                            self.queue.push_back(LlmEvent::Started);
                        }
                        Err(failure) => {
                            if let Some(err) = self.fail(failure) {
                                return Some(Err(err));
                            }
                        }
                    }
                }
                Phase::Wait(delay) => {
                    let delay = *delay;
                    tokio::select! {
                        biased;
                        () = self.cancel.cancelled() => return Some(Err(self.finish(LlmError::Cancelled))),
                        () = tokio::time::sleep(delay) => self.phase = Phase::Connect,
                    }
                }
                Phase::Read(body, decoder) => {
                    let outcome = match body.next().await {
                        Some(Ok(event)) => match decoder.on_event(event) {
                            Ok(events) => ReadOutcome::Events(events, decoder.is_finished()),
                            Err(e) => ReadOutcome::Fail(e.into()),
                        },
                        Some(Err(LlmError::Cancelled)) => ReadOutcome::Cancelled,
                        Some(Err(e)) => match decoder.on_end() {
                            Some(events) => {
                                tracing::debug!(error = %e, "body failed after the answer was complete");
                                ReadOutcome::End(events)
                            }
                            None => ReadOutcome::Fail(e.into()),
                        },
                        None => match decoder.on_end() {
                            Some(events) => ReadOutcome::End(events),
                            None => ReadOutcome::Fail(
                                LlmError::Broken("the connection closed before the answer was complete".into()).into(),
                            ),
                        },
                    };
                    match outcome {
                        ReadOutcome::Events(events, finished) => {
                            self.queue.extend(events);
                            if finished {
                                self.phase = Phase::Over;
                            }
                        }
                        ReadOutcome::End(events) => {
                            self.queue.extend(events);
                            self.phase = Phase::Over;
                        }
                        ReadOutcome::Fail(failure) => {
                            if let Some(err) = self.fail(failure) {
                                return Some(Err(err));
                            }
                        }
                        ReadOutcome::Cancelled => return Some(Err(self.finish(LlmError::Cancelled))),
                    }
                }
            }
        }
    }

    /// Schedules a retry, or returns the error that ends the stream.
    fn fail(&mut self, failure: Failure) -> Option<LlmError> {
        let Failure { error, retry_after } = failure;
        if !error.is_retryable() || self.answer_started || self.retries >= self.policy.max_retries {
            if self.answer_started && error.is_retryable() {
                tracing::warn!(%error, "the answer broke after it started; not retrying");
            }
            return Some(self.finish(error));
        }
        self.retries += 1;
        let delay = backoff_delay(self.retries, self.policy.base, self.policy.max, retry_after);
        tracing::warn!(%error, attempt = self.retries, max = self.policy.max_retries, ?delay, "retrying");
        self.queue.push_back(LlmEvent::Retrying {
            attempt: self.retries,
            max: self.policy.max_retries,
            delay,
            reason: error.to_string(),
        });
        self.phase = Phase::Wait(delay);
        None
    }

    fn finish(&mut self, error: LlmError) -> LlmError {
        self.phase = Phase::Over;
        self.queue.clear();
        self.ended = true;
        error
    }
}

/// POST `body` as JSON to `url` and stream the SSE answer through a fresh
/// decoder per attempt: retries and backoff as `config` says, the idle
/// timeout, cancellation, and the API key redacted from everything that
/// comes out. What every wire format's provider does once its request is
/// built.
pub(crate) fn post_sse<D: StreamDecoder>(
    client: &reqwest::Client,
    config: &HttpConfig,
    url: String,
    headers: Result<reqwest::header::HeaderMap, LlmError>,
    body: &serde_json::Value,
    new_decoder: fn() -> D,
    cancel: CancellationToken,
) -> EventStream {
    let body = match serde_json::to_vec(body) {
        Ok(body) => body,
        Err(e) => return super::http::error_stream(LlmError::Protocol(format!("cannot encode the request: {e}"))),
    };
    let headers = match headers {
        Ok(headers) => headers,
        Err(e) => return super::http::error_stream(e),
    };
    let (client, cfg, token) = (client.clone(), config.clone(), cancel.clone());
    let connect = move || -> Attempt {
        let (client, url, headers, body, config, token) =
            (client.clone(), url.clone(), headers.clone(), body.clone(), cfg.clone(), token.clone());
        async move {
            let response = super::http::post(&client, &url, headers, body, &config).await?;
            Ok(super::http::sse_stream(response, config.idle_timeout, token))
        }
        .boxed()
    };
    let events = drive(RetryPolicy::from_config(config), cancel, connect, new_decoder);
    super::http::redact_stream(events, config.api_key.clone())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::Instant;

    use futures::FutureExt;

    use super::*;
    use crate::llm::StopReason;

    #[test]
    fn backoff_grows_with_equal_jitter_and_caps() {
        let base = Duration::from_millis(100);
        let max = Duration::from_secs(1);
        for _ in 0..200 {
            let d1 = backoff_delay(1, base, max, None);
            assert!(d1 >= Duration::from_millis(50) && d1 <= base, "{d1:?}");
            let d3 = backoff_delay(3, base, max, None);
            assert!(d3 >= Duration::from_millis(200) && d3 <= Duration::from_millis(400), "{d3:?}");
            let d40 = backoff_delay(40, base, max, None);
            assert!(d40 >= max / 2 && d40 <= max, "{d40:?}");
        }
        assert_eq!(backoff_delay(0, Duration::ZERO, max, None), Duration::ZERO);
        assert_eq!(backoff_delay(2, base, max, Some(Duration::from_millis(300))), Duration::from_millis(300));
        assert_eq!(backoff_delay(2, base, max, Some(Duration::from_secs(30))), max);
        assert!(backoff_delay(u32::MAX, Duration::MAX, Duration::MAX, None) >= Duration::MAX / 2);
    }

    /// "x" → text, "end" → done.
    struct Toy(bool);

    impl StreamDecoder for Toy {
        fn on_event(&mut self, event: SseEvent) -> Result<Vec<LlmEvent>, LlmError> {
            if event.data == "end" {
                self.0 = true;
                return Ok(vec![LlmEvent::Done(StopReason::EndTurn)]);
            }
            Ok(vec![LlmEvent::TextDelta(event.data)])
        }
        fn is_finished(&self) -> bool {
            self.0
        }
        fn on_end(&mut self) -> Option<Vec<LlmEvent>> {
            None
        }
    }

    fn body(items: Vec<Result<&'static str, LlmError>>) -> SseStream {
        let items: Vec<_> =
            items.into_iter().map(|r| r.map(|d| SseEvent { data: d.into(), ..SseEvent::default() })).collect();
        Box::pin(stream::iter(items))
    }

    fn policy(max_retries: u32) -> RetryPolicy {
        RetryPolicy { max_retries, base: Duration::from_millis(5), max: Duration::from_millis(20) }
    }

    type Script = Vec<Result<Vec<Result<&'static str, LlmError>>, LlmError>>;

    async fn run(policy: RetryPolicy, cancel: CancellationToken, script: Script) -> (Vec<String>, u32) {
        let calls = Arc::new(AtomicU32::new(0));
        let counter = calls.clone();
        let connect = move || -> Attempt {
            let n = counter.fetch_add(1, Ordering::SeqCst) as usize;
            let step = script.get(n).cloned().unwrap_or(Err(LlmError::Protocol("script ran out".into())));
            async move { step.map(body).map_err(Failure::from) }.boxed()
        };
        let events: Vec<_> = drive(policy, cancel, connect, || Toy(false)).collect().await;
        let names = events
            .iter()
            .map(|e| match e {
                Ok(LlmEvent::Retrying { attempt, max, .. }) => format!("retry {attempt}/{max}"),
                Ok(LlmEvent::TextDelta(t)) => t.clone(),
                Ok(other) => format!("{other:?}"),
                Err(e) => format!("err {e:?}"),
            })
            .collect();
        (names, calls.load(Ordering::SeqCst))
    }

    fn http(status: u16) -> LlmError {
        LlmError::Http { status, message: "m".into() }
    }

    #[tokio::test]
    async fn retries_before_the_answer_only() {
        let (ev, calls) =
            run(policy(3), CancellationToken::new(), vec![Err(http(503)), Ok(vec![Ok("a"), Ok("end")])]).await;
        assert_eq!(ev, ["retry 1/3", "Started", "a", "Done(EndTurn)"]);
        assert_eq!(calls, 2);

        // A break before any content is retried; after content it is final.
        let script =
            vec![Ok(vec![Err(LlmError::Broken("x".into()))]), Ok(vec![Ok("a"), Err(LlmError::Broken("y".into()))])];
        let (ev, calls) = run(policy(3), CancellationToken::new(), script).await;
        assert_eq!(ev, ["Started", "retry 1/3", "Started", "a", "err Broken(\"y\")"]);
        assert_eq!(calls, 2);
    }

    #[tokio::test]
    async fn gives_up_after_max_retries_and_on_fatal_errors() {
        let (ev, calls) =
            run(policy(2), CancellationToken::new(), vec![Err(http(500)), Err(http(500)), Err(http(502))]).await;
        assert_eq!(ev[..2], ["retry 1/2", "retry 2/2"]);
        assert!(ev[2].contains("502"), "{ev:?}");
        assert_eq!(calls, 3);
        let (ev, calls) = run(policy(2), CancellationToken::new(), vec![Err(http(400))]).await;
        assert_eq!(ev.len(), 1);
        assert_eq!(calls, 1);
        // A clean close without a complete answer is Broken.
        let (ev, _) = run(policy(0), CancellationToken::new(), vec![Ok(vec![Ok("a")])]).await;
        assert!(ev[2].starts_with("err Broken"), "{ev:?}");
    }

    #[tokio::test]
    async fn cancel_interrupts_the_wait() {
        let cancel = CancellationToken::new();
        let slow = RetryPolicy { max_retries: 3, base: Duration::from_secs(30), max: Duration::from_secs(30) };
        let trigger = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            trigger.cancel();
        });
        let start = Instant::now();
        let (ev, _) = run(slow, cancel, vec![Err(http(503))]).await;
        assert_eq!(ev, ["retry 1/3", "err Cancelled"]);
        assert!(start.elapsed() < Duration::from_secs(2));
    }
}
