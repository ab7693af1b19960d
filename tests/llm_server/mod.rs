//! A scripted loopback HTTP/1.1 server for the provider tests, on raw
//! `TcpListener` so that the byte boundaries the client sees, stalls and
//! dropped connections are under the test's control.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use tandem::llm::retry::StreamDecoder;
use tandem::llm::sse::SseParser;
use tandem::llm::{EventStream, HttpConfig, LlmError, LlmEvent, Secret};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream};

pub const KEY: &str = "sk-test-SECRET123";

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// Names lowercased.
    pub headers: Vec<(String, String)>,
    /// `Null` when the body is empty or not JSON.
    pub body: serde_json::Value,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone)]
pub enum Step {
    /// Written with its own `write_all` + `flush`, then a short pause so the
    /// client sees a separate read.
    Bytes(Vec<u8>),
    Sleep(Duration),
    /// Close the connection here, mid-body.
    Drop,
}

#[derive(Debug, Clone)]
pub struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    steps: Vec<Step>,
    chunked: bool,
    gap: Duration,
}

impl Reply {
    /// A 200 event stream, delimited by the connection closing.
    pub fn sse<B: Into<Vec<u8>>>(chunks: impl IntoIterator<Item = B>) -> Self {
        Self {
            status: 200,
            headers: vec![("Content-Type".into(), "text/event-stream".into())],
            steps: chunks.into_iter().map(|c| Step::Bytes(c.into())).collect(),
            chunked: false,
            gap: Duration::from_millis(2),
        }
    }

    /// A complete body with Content-Length.
    pub fn body(status: u16, content_type: &str, body: &str) -> Self {
        Self {
            status,
            headers: vec![
                ("Content-Type".into(), content_type.into()),
                ("Content-Length".into(), body.len().to_string()),
            ],
            steps: vec![Step::Bytes(body.as_bytes().to_vec())],
            chunked: false,
            gap: Duration::ZERO,
        }
    }

    pub fn json(status: u16, body: &str) -> Self {
        Self::body(status, "application/json", body)
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// `Transfer-Encoding: chunked`, as real APIs stream.
    pub fn chunked(mut self) -> Self {
        self.chunked = true;
        self
    }

    pub fn gap(mut self, gap: Duration) -> Self {
        self.gap = gap;
        self
    }

    pub fn then(mut self, step: Step) -> Self {
        self.steps.push(step);
        self
    }
}

#[derive(Default)]
struct Log {
    requests: Vec<Recorded>,
    /// When a client closed its connection before the reply was complete.
    client_closed: Vec<Instant>,
}

pub struct Server {
    addr: SocketAddr,
    log: Arc<Mutex<Log>>,
}

impl Server {
    /// Serves `replies` in order, one per connection; later connections get
    /// a 599 that no test expects.
    pub async fn start(replies: Vec<Reply>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let log = Arc::new(Mutex::new(Log::default()));
        let replies = Arc::new(Mutex::new(VecDeque::from(replies)));
        let task_log = log.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let reply = replies.lock().unwrap().pop_front().unwrap_or_else(|| Reply::json(599, "{}"));
                tokio::spawn(serve(socket, reply, task_log.clone()));
            }
        });
        Server { addr, log }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.log.lock().unwrap().requests.clone()
    }

    pub fn client_closed(&self) -> Vec<Instant> {
        self.log.lock().unwrap().client_closed.clone()
    }
}

async fn serve(socket: TcpStream, reply: Reply, log: Arc<Mutex<Log>>) {
    let (mut rd, mut wr) = socket.into_split();
    let Some(request) = read_request(&mut rd).await else { return };
    log.lock().unwrap().requests.push(request);
    let watch_close = async {
        let mut buf = [0u8; 256];
        while let Ok(n) = rd.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
    };
    let closed_early = tokio::select! {
        () = watch_close => true,
        result = write_reply(&mut wr, &reply) => result.is_err(),
    };
    if closed_early {
        log.lock().unwrap().client_closed.push(Instant::now());
    }
}

async fn read_request(rd: &mut (impl AsyncReadExt + Unpin)) -> Option<Recorded> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = rd.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_owned();
    let path = first.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize =
        headers.iter().find(|(n, _)| n == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let n = rd.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    let body = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    Some(Recorded { method, path, headers, body })
}

async fn write_reply(wr: &mut OwnedWriteHalf, reply: &Reply) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {} Scripted\r\n", reply.status);
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("Connection: close\r\n");
    if reply.chunked {
        head.push_str("Transfer-Encoding: chunked\r\n");
    }
    head.push_str("\r\n");
    wr.write_all(head.as_bytes()).await?;
    wr.flush().await?;
    for step in &reply.steps {
        match step {
            Step::Bytes(bytes) if bytes.is_empty() => {}
            Step::Bytes(bytes) => {
                if reply.chunked {
                    let mut framed = format!("{:x}\r\n", bytes.len()).into_bytes();
                    framed.extend_from_slice(bytes);
                    framed.extend_from_slice(b"\r\n");
                    wr.write_all(&framed).await?;
                } else {
                    wr.write_all(bytes).await?;
                }
                wr.flush().await?;
                tokio::time::sleep(reply.gap).await;
            }
            Step::Sleep(d) => tokio::time::sleep(*d).await,
            Step::Drop => return Ok(()),
        }
    }
    if reply.chunked {
        wr.write_all(b"0\r\n\r\n").await?;
    }
    wr.flush().await?;
    wr.shutdown().await
}

/// Short timeouts and backoff so fault tests take milliseconds.
pub fn config(base_url: String, key: Option<&str>, env: &str) -> HttpConfig {
    HttpConfig {
        base_url,
        api_key: key.map(Secret::new),
        api_key_env: Some(env.to_owned()),
        connect_timeout: Duration::from_secs(2),
        idle_timeout: Duration::from_secs(5),
        max_retries: 3,
        backoff_base: Duration::from_millis(10),
        backoff_max: Duration::from_secs(2),
    }
}

/// The events of a successful response: `Started`, then `events`.
pub fn with_started(events: Vec<Result<LlmEvent, LlmError>>) -> Vec<Result<LlmEvent, LlmError>> {
    std::iter::once(Ok(LlmEvent::Started)).chain(events).collect()
}

pub async fn collect(stream: EventStream) -> Vec<Result<LlmEvent, LlmError>> {
    stream.collect().await
}

/// What the driver would make of a body arriving in these pieces, without
/// HTTP: fast enough to try every split point.
pub fn decode<D: StreamDecoder>(mut decoder: D, chunks: &[&[u8]]) -> Vec<Result<LlmEvent, LlmError>> {
    let mut parser = SseParser::new();
    let mut out = Vec::new();
    let mut sse = Vec::new();
    for chunk in chunks {
        sse.extend(parser.push(chunk).unwrap());
    }
    sse.extend(parser.finish().unwrap());
    for event in sse {
        match decoder.on_event(event) {
            Ok(events) => out.extend(events.into_iter().map(Ok)),
            Err(e) => {
                out.push(Err(e));
                return out;
            }
        }
        if decoder.is_finished() {
            return out;
        }
    }
    match decoder.on_end() {
        Some(events) => out.extend(events.into_iter().map(Ok)),
        None => out.push(Err(LlmError::Broken("closed early".into()))),
    }
    out
}

/// The text of all `TextDelta`s.
pub fn text(events: &[Result<LlmEvent, LlmError>]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            Ok(LlmEvent::TextDelta(t)) => Some(t.as_str()),
            _ => None,
        })
        .collect()
}

/// Asserts the key appears in no error or event, in Display or Debug form.
pub fn assert_no_key(events: &[Result<LlmEvent, LlmError>]) {
    for e in events {
        let shown = match e {
            Ok(ev) => format!("{ev:?}"),
            Err(err) => format!("{err} {err:?}"),
        };
        assert!(!shown.contains(KEY), "key leaked: {shown}");
    }
}

/// Splits a body into pieces at the given byte offsets.
pub fn split_at<'a>(body: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    for &cut in cuts {
        out.push(&body[start..cut]);
        start = cut;
    }
    out.push(&body[start..]);
    out
}
