//! HTTP plumbing shared by the wire formats: the client, one POST, the
//! mapping of failed responses to `LlmError`, and the body as a stream of
//! SSE events with idle timeout and cancellation.

use std::collections::VecDeque;
use std::error::Error as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::StreamExt;
use futures::stream::{self, BoxStream};
use reqwest::header::{CONTENT_TYPE, HeaderMap};
use reqwest::{Client, Response};
use tokio_util::sync::CancellationToken;

use super::sse::{SseEvent, SseParser};
use super::{EventStream, HttpConfig, LlmError, LlmEvent, Secret};

/// Server messages are for a status line, not for dumping a whole HTML
/// error page.
const MAX_MESSAGE_CHARS: usize = 300;
/// Error bodies are read only this far.
const MAX_ERROR_BODY: usize = 64 * 1024;

pub(crate) type SseStream = BoxStream<'static, Result<SseEvent, LlmError>>;

/// A failed attempt, with what the server said about when to try again.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub error: LlmError,
    pub retry_after: Option<Duration>,
}

impl From<LlmError> for Failure {
    fn from(error: LlmError) -> Self {
        Self { error, retry_after: None }
    }
}

/// No overall request timeout: an answer may stream for minutes. Silence is
/// bounded per chunk by `sse_stream` instead.
pub(crate) fn build_client(config: &HttpConfig) -> Result<Client, LlmError> {
    Client::builder().connect_timeout(config.connect_timeout).tcp_nodelay(true).build().map_err(|e| LlmError::Connect {
        url: config.base_url.clone(),
        reason: redact(&error_chain(&e), config.api_key.as_ref()),
    })
}

/// Joins a base URL and a path without doubling or dropping the slash.
pub(crate) fn join_url(base: &str, path: &str) -> String {
    format!("{}/{}", base.trim_end_matches('/'), path.trim_start_matches('/'))
}

/// `host[:port]` of a URL, for describing a provider.
pub(crate) fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split(['/', '?', '#']).next().unwrap_or(rest)
}

/// `0.2f32` as the JSON number `0.2`, not `0.20000000298023224`.
pub(crate) fn f32_to_json(value: f32) -> f64 {
    value.to_string().parse().unwrap_or(f64::from(value))
}

/// Sends one POST and returns the response only if it is a 2xx event
/// stream; everything else becomes a `Failure`.
pub(crate) async fn post(
    client: &Client,
    url: &str,
    headers: HeaderMap,
    body: Vec<u8>,
    config: &HttpConfig,
) -> Result<Response, Failure> {
    let request = client.post(url).headers(headers).header(CONTENT_TYPE, "application/json").body(body);
    let response = send(request, url, config).await?;
    check_response(response, config).await
}

/// Sends one GET and returns the 2xx response; for short JSON requests.
pub async fn get(client: &Client, url: &str, headers: HeaderMap, config: &HttpConfig) -> Result<Response, Failure> {
    let response = send(client.get(url).headers(headers), url, config).await?;
    if response.status().is_success() {
        return Ok(response);
    }
    check_response(response, config).await
}

fn send_error(url: &str, e: &reqwest::Error, config: &HttpConfig) -> Failure {
    let reason = if e.is_timeout() {
        format!(
            "no connection within {:?}; check that the server is running and that the profile's base_url is right",
            config.connect_timeout
        )
    } else {
        redact(&error_chain(e), config.api_key.as_ref())
    };
    LlmError::Connect { url: url.to_owned(), reason }.into()
}

/// Sends `request` and waits for the response's headers no longer than
/// the idle timeout (the connection itself has the connect timeout within
/// that): a server that accepts the connection and says nothing is as
/// silent as a stalled stream, and would otherwise be waited for forever.
async fn send(request: reqwest::RequestBuilder, url: &str, config: &HttpConfig) -> Result<Response, Failure> {
    match tokio::time::timeout(config.idle_timeout, request.send()).await {
        Ok(Ok(response)) => Ok(response),
        Ok(Err(e)) => Err(send_error(url, &e, config)),
        Err(_elapsed) => Err(LlmError::Connect {
            url: url.to_owned(),
            reason: format!(
                "no response within {:?}; check that the profile's base_url points at the model's API, or \
                 raise [model] idle_timeout_secs if the server is this slow to start answering",
                config.idle_timeout
            ),
        }
        .into()),
    }
}

async fn check_response(response: Response, config: &HttpConfig) -> Result<Response, Failure> {
    let status = response.status().as_u16();
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("application/json"));
    if response.status().is_success() && !is_json {
        return Ok(response);
    }
    let retry_after = retry_after(response.headers(), SystemTime::now());
    let body = read_error_body(response, config).await;
    if (200..300).contains(&status) {
        // A server that ignored `stream: true`, or a proxy reporting an
        // error with 200: an SSE parser would see no events at all.
        let body = redact(&body, config.api_key.as_ref());
        let detail = error_message(&body).unwrap_or_else(|| truncate(&body));
        return Err(LlmError::Protocol(format!("expected an event stream, got JSON: {detail}")).into());
    }
    Err(Failure { error: classify_status(status, &body, config), retry_after })
}

/// The body of a failed response, read for no longer than the idle timeout
/// in all (a server may trickle it forever) and no further than
/// [`MAX_ERROR_BODY`]; what was cut off may have been the end of a secret,
/// so a tail that begins one is redacted too.
async fn read_error_body(mut response: Response, config: &HttpConfig) -> String {
    let mut body = Vec::new();
    let deadline = tokio::time::Instant::now() + config.idle_timeout;
    let mut complete = false;
    while body.len() < MAX_ERROR_BODY {
        match tokio::time::timeout_at(deadline, response.chunk()).await {
            Ok(Ok(Some(chunk))) => body.extend_from_slice(&chunk),
            Ok(Ok(None)) => {
                complete = true;
                break;
            }
            _ => break,
        }
    }
    let text = String::from_utf8_lossy(&body);
    if complete {
        text.into_owned()
    } else {
        let mut out = crate::secrets::redactor().redact_cut(&text);
        if let Some(key) = config.api_key.as_ref().map(Secret::expose).filter(|k| !k.is_empty()) {
            out = crate::secrets::Redactor::new([key]).redact_cut(&out);
        }
        out
    }
}

/// Maps a non-2xx status and its body to the error the user sees. The
/// body is redacted before anything is taken from it or cut, so a secret
/// that straddles a cut cannot show in part.
pub fn classify_status(status: u16, body: &str, config: &HttpConfig) -> LlmError {
    let key = config.api_key.as_ref();
    let body = redact(body, key);
    let body = body.as_str();
    let detail = error_message(body);
    if status == 401 || status == 403 {
        let env = config.api_key_env.as_deref().unwrap_or("the api_key_env of this provider profile");
        let mut message = if key.is_some() {
            format!("the server refused the API key ({status}): check {env}")
        } else {
            format!("the server requires an API key ({status}) and none is set: set {env}")
        };
        // A 401 body only repeats "invalid key", sometimes with part of the
        // key in it; a 403 body says which permission is missing.
        if status == 403
            && let Some(detail) = detail
        {
            message.push_str(&format!(" ({detail})"));
        }
        return LlmError::Auth { status, message };
    }
    let message = detail.unwrap_or_else(|| {
        let raw = truncate(body.trim());
        if raw.is_empty() { reason_phrase(status).to_owned() } else { raw }
    });
    LlmError::Http { status, message }
}

fn reason_phrase(status: u16) -> &'static str {
    reqwest::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("no reason given")
}

/// The human-readable message of a JSON error body, in the shapes servers
/// use: `{"error":{"message":..}}` (OpenAI, Anthropic), `{"error":".."}`
/// (Ollama), `{"message":..}` (vLLM), `{"detail":..}` (FastAPI servers).
pub(crate) fn error_message(body: &str) -> Option<String> {
    let json: serde_json::Value = serde_json::from_str(body.trim()).ok()?;
    let error = json.get("error");
    let message = error
        .and_then(|e| e.get("message"))
        .or_else(|| error.filter(|e| e.is_string()))
        .or_else(|| json.get("message"))
        .or_else(|| json.get("detail"))?;
    let text = match message {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    Some(truncate(text.trim()))
}

/// Shortens to `MAX_MESSAGE_CHARS` characters, on a character boundary.
pub(crate) fn truncate(text: &str) -> String {
    match text.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

/// Defence in depth: servers and libraries should never echo the key, but
/// nothing derived from their text may carry it, or any other secret
/// tandem knows, to the screen or a log.
pub(crate) fn redact(text: &str, key: Option<&Secret>) -> String {
    let text = crate::secrets::redact(text);
    match key.map(Secret::expose) {
        // A configured key too short to be among the secrets is still the
        // key (a one-letter placeholder for a local server is not).
        Some(k) if k.len() >= 4 => text.replace(k, crate::secrets::MARKER),
        _ => text,
    }
}

/// `redact` applied to every text an error carries.
pub(crate) fn redact_error(error: LlmError, key: Option<&Secret>) -> LlmError {
    let r = |s: String| redact(&s, key);
    match error {
        LlmError::Connect { url, reason } => LlmError::Connect { url: r(url), reason: r(reason) },
        LlmError::Auth { status, message } => LlmError::Auth { status, message: r(message) },
        LlmError::Http { status, message } => LlmError::Http { status, message: r(message) },
        LlmError::Broken(s) => LlmError::Broken(r(s)),
        LlmError::Protocol(s) => LlmError::Protocol(r(s)),
        other @ (LlmError::IdleTimeout(_) | LlmError::Cancelled) => other,
    }
}

/// The last line of defence for a provider's stream: errors and retry
/// reasons come from servers and libraries, so none may show the key.
pub(crate) fn redact_stream(events: EventStream, key: Option<Secret>) -> EventStream {
    Box::pin(events.map(move |item| match item {
        Ok(LlmEvent::Retrying { attempt, max, delay, reason }) => {
            Ok(LlmEvent::Retrying { attempt, max, delay, reason: redact(&reason, key.as_ref()) })
        }
        Ok(event) => Ok(event),
        Err(e) => Err(redact_error(e, key.as_ref())),
    }))
}

/// A stream that fails at once, for requests that cannot even be built.
pub(crate) fn error_stream(error: LlmError) -> EventStream {
    Box::pin(stream::once(async move { Err(error) }))
}

/// reqwest's own message is generic ("error sending request for url
/// (...)"); the cause ("connection refused", "dns error") is further down
/// the chain, and the URL is already in `LlmError::Connect`.
fn error_chain(e: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        // hyper-util's wrapper ("client error (Connect)") says nothing new.
        if !text.starts_with("client error (") && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    if parts.is_empty() { e.to_string() } else { parts.join(": ") }
}

/// When the server asked us to come back. OpenAI's `retry-after-ms` is
/// preferred for its precision.
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let ms = headers.get("retry-after-ms").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<f64>().ok());
    if let Some(ms) = ms.filter(|ms| ms.is_finite() && *ms >= 0.0) {
        return Some(Duration::from_secs_f64((ms / 1000.0).min(1e9)));
    }
    parse_retry_after(headers.get("retry-after")?.to_str().ok()?, now)
}

/// `Retry-After` is either delay-seconds or an HTTP-date (IMF-fixdate).
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    // Non-standard but seen in the wild: fractional seconds.
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(1e9)));
    }
    let at = parse_http_date(value)?;
    let now = now.duration_since(UNIX_EPOCH).ok()?.as_secs();
    Some(Duration::from_secs(at.saturating_sub(now)))
}

/// Seconds since the epoch of `Sun, 06 Nov 1994 08:49:37 GMT`.
fn parse_http_date(value: &str) -> Option<u64> {
    let mut parts = value.split_whitespace();
    let _weekday = parts.next()?;
    let day: u64 = parts.next()?.parse().ok()?;
    let month = match parts.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: i64 = parts.next()?.parse().ok()?;
    let mut hms = parts.next()?.split(':').map(|p| p.parse::<u64>().ok());
    let (h, m, s) = (hms.next()??, hms.next()??, hms.next()??);
    if parts.next()? != "GMT"
        || !(1..=31).contains(&day)
        || h > 23
        || m > 59
        || s > 60
        || !(1970..=9999).contains(&year)
    {
        return None;
    }
    let days = u64::try_from(days_from_civil(year, month, day as i64)).ok()?;
    Some(days * 86_400 + h * 3600 + m * 60 + s)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

struct BodyState {
    /// Dropped on cancel, error or end, which closes the connection.
    response: Option<Response>,
    parser: SseParser,
    queue: VecDeque<SseEvent>,
    idle: Duration,
    cancel: CancellationToken,
    /// An error was yielded; the stream is over.
    over: bool,
}

/// The response body as SSE events. Each read must bring bytes within
/// `idle`, else `IdleTimeout`; a cancelled token ends the stream with
/// `Cancelled` at once. The stream ends after the first error.
pub(crate) fn sse_stream(response: Response, idle: Duration, cancel: CancellationToken) -> SseStream {
    let state = BodyState {
        response: Some(response),
        parser: SseParser::new(),
        queue: Default::default(),
        idle,
        cancel,
        over: false,
    };
    Box::pin(stream::unfold(state, |mut st| async move {
        if st.over {
            return None;
        }
        let item = next_event(&mut st).await?;
        if item.is_err() {
            st.response = None;
            st.over = true;
        }
        Some((item, st))
    }))
}

async fn next_event(st: &mut BodyState) -> Option<Result<SseEvent, LlmError>> {
    loop {
        if st.cancel.is_cancelled() {
            return Some(Err(LlmError::Cancelled));
        }
        if let Some(event) = st.queue.pop_front() {
            return Some(Ok(event));
        }
        let response = st.response.as_mut()?;
        let read = tokio::select! {
            biased;
            () = st.cancel.cancelled() => return Some(Err(LlmError::Cancelled)),
            read = tokio::time::timeout(st.idle, response.chunk()) => read,
        };
        let parsed = match read {
            Err(_elapsed) => Err(LlmError::IdleTimeout(st.idle)),
            Ok(Err(e)) => Err(LlmError::Broken(error_chain(&e))),
            Ok(Ok(Some(chunk))) => st.parser.push(&chunk).map_err(LlmError::from),
            Ok(Ok(None)) => {
                st.response = None;
                st.parser.finish().map(|last| last.into_iter().collect()).map_err(LlmError::from)
            }
        };
        match parsed {
            Ok(events) => st.queue.extend(events),
            Err(e) => return Some(Err(e)),
        }
    }
}

impl From<super::sse::SseError> for LlmError {
    fn from(e: super::sse::SseError) -> Self {
        LlmError::Protocol(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(key: Option<&str>, env: Option<&str>) -> HttpConfig {
        HttpConfig { api_key: key.map(Secret::new), api_key_env: env.map(str::to_owned), ..HttpConfig::default() }
    }

    #[test]
    fn auth_messages_name_the_variable_never_the_key() {
        let c = config(Some("sk-SECRET"), Some("OPENAI_API_KEY"));
        let e = classify_status(401, r#"{"error":{"message":"bad key sk-SECRET"}}"#, &c);
        assert_eq!(
            e,
            LlmError::Auth {
                status: 401,
                message: "the server refused the API key (401): check OPENAI_API_KEY".into()
            }
        );
        let e = classify_status(403, r#"{"error":{"message":"no access for sk-SECRET"}}"#, &c);
        let text = format!("{e} {e:?}");
        assert!(text.contains("OPENAI_API_KEY") && text.contains("no access for [REDACTED]"), "{text}");
        assert!(!text.contains("sk-SECRET"));
        let e = classify_status(401, "", &config(None, None));
        assert!(e.to_string().contains("none is set: set the api_key_env of this provider profile"), "{e}");
    }

    #[test]
    fn the_key_is_redacted_before_the_message_is_cut() {
        let key = "sk-SECRET-0123456789";
        let c = config(Some(key), Some("OPENAI_API_KEY"));
        for start in 270..=MAX_MESSAGE_CHARS {
            let body = format!("{}{key} more", "x".repeat(start));
            let json = serde_json::json!({ "error": { "message": body } }).to_string();
            for (status, body) in [(500, &body), (400, &json), (403, &json)] {
                let text = classify_status(status, body, &c).to_string();
                assert!(!text.contains("sk-SECRET"), "{start}: {text}");
                assert!(!text.contains(&key[..8]), "{start}: {text}");
            }
        }
    }

    #[test]
    fn error_bodies_in_server_dialects() {
        let c = config(None, None);
        let http = |status, message: &str| LlmError::Http { status, message: message.into() };
        assert_eq!(classify_status(400, r#"{"error":{"message":"bad model"}}"#, &c), http(400, "bad model"));
        assert_eq!(classify_status(404, r#"{"error":"model 'x' not found"}"#, &c), http(404, "model 'x' not found"));
        assert_eq!(classify_status(400, r#"{"object":"error","message":"too long"}"#, &c), http(400, "too long"));
        assert_eq!(classify_status(422, r#"{"detail":"nope"}"#, &c), http(422, "nope"));
        assert_eq!(classify_status(502, "", &c), http(502, "Bad Gateway"));
        let long = "x".repeat(1000);
        let LlmError::Http { message, .. } = classify_status(500, &long, &c) else { panic!() };
        assert_eq!(message.chars().count(), MAX_MESSAGE_CHARS + 1);
        assert!(classify_status(429, "", &c).is_retryable());
        assert!(classify_status(503, "", &c).is_retryable());
        assert!(!classify_status(400, "", &c).is_retryable());
    }

    #[test]
    fn retry_after_forms() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 1.5 ", now), Some(Duration::from_millis(1500)));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now), Some(Duration::from_secs(10)));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT", UNIX_EPOCH), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
        assert_eq!(parse_retry_after("Sun, 32 Nov 1994 08:49:47 GMT", now), None);
        let mut h = HeaderMap::new();
        h.insert("retry-after", "3".parse().unwrap());
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(3)));
        h.insert("retry-after-ms", "250".parse().unwrap());
        assert_eq!(retry_after(&h, now), Some(Duration::from_millis(250)));
    }

    #[test]
    fn days_from_civil_matches_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(2024, 2, 29), 19_782);
    }

    #[test]
    fn urls_join_cleanly() {
        assert_eq!(join_url("http://h/v1/", "/chat/completions"), "http://h/v1/chat/completions");
        assert_eq!(join_url("http://h/v1", "models"), "http://h/v1/models");
    }
}
