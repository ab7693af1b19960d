//! "hung servers": a model server that accepts the connection and then
//! stalls, at every point before and after the response headers, must end
//! the request with an error that says what to do, however long the user
//! waits otherwise. Real loopback listeners; a watchdog far above the
//! configured limits only tells a hang from an answer.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use futures::StreamExt;
use tandem::llm::{HttpConfig, LlmError, Provider, Request, Secret};
use tokio_util::sync::CancellationToken;

use super::run::{Exec, HANG};
use super::{Case, case, run_cases};
use crate::harness::Family;

/// What the listener does with each connection.
#[derive(Clone, Copy)]
enum Stall {
    /// Accept and never read or write.
    Deaf,
    /// Read the request, never answer.
    Silent,
    /// Write these bytes after reading the request, then nothing.
    After(&'static [u8]),
    /// After the request, a 500 whose body comes one byte at a time, each
    /// well within the idle timeout, forever.
    Trickle,
}

const STALLS: &[(&str, Stall)] = &[
    ("accepts and never reads", Stall::Deaf),
    ("reads the request and never answers", Stall::Silent),
    ("sends the status line only", Stall::After(b"HTTP/1.1 200 OK\r\n")),
    ("sends half the headers", Stall::After(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n")),
    ("sends the headers, then nothing", Stall::After(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n")),
    (
        "sends one event, then nothing",
        Stall::After(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\ndata: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n",
        ),
    ),
    (
        "sends an error's headers and half its body",
        Stall::After(b"HTTP/1.1 500 Oops\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\npartial"),
    ),
    ("trickles an error body forever", Stall::Trickle),
];

pub fn family() -> Family {
    let mut f = Family::new("hung servers");
    let mut cases: Vec<Case> = Vec::new();
    for (what, stall) in STALLS {
        for kind in ["openai", "anthropic"] {
            cases.push(case(format!("a {kind} server that {what}"), move || provider_gives_up(kind, *stall)));
        }
    }
    cases.push(case("tandem exec against a server that never answers", exec_gives_up));
    run_cases(&mut f, cases);
    f
}

/// A listener on a thread of its own treating every connection as `stall`
/// says.
fn listen(stall: Stall) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            std::thread::spawn(move || serve(stream, stall));
        }
    });
    url
}

fn serve(mut stream: TcpStream, stall: Stall) {
    let _ = stream.set_read_timeout(Some(HANG));
    if !matches!(stall, Stall::Deaf) {
        let mut buf = [0u8; 65536];
        let mut seen = Vec::new();
        while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buf) {
                Ok(n) if n > 0 => seen.extend_from_slice(&buf[..n]),
                _ => return,
            }
        }
    }
    match stall {
        Stall::After(bytes) => {
            let _ = stream.write_all(bytes);
            let _ = stream.flush();
        }
        Stall::Trickle => {
            let _ = stream.write_all(b"HTTP/1.1 500 Oops\r\nContent-Type: text/plain\r\n\r\n");
            let started = std::time::Instant::now();
            while started.elapsed() < HANG && stream.write_all(b"x").is_ok() {
                std::thread::sleep(Duration::from_millis(50));
            }
            return;
        }
        Stall::Deaf | Stall::Silent => {}
    }
    // Hold the connection open until the client gives up.
    let mut buf = [0u8; 1024];
    while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
}

fn config(url: String) -> HttpConfig {
    HttpConfig {
        base_url: url,
        api_key: Some(Secret::new("sk-test-hung-0000000000")),
        api_key_env: Some("TEST_KEY".into()),
        connect_timeout: Duration::from_millis(300),
        idle_timeout: Duration::from_millis(300),
        max_retries: 0,
        backoff_base: Duration::from_millis(10),
        backoff_max: Duration::from_millis(10),
    }
}

fn request() -> Request {
    Request {
        model: "m".into(),
        system: "s".into(),
        messages: vec![tandem::llm::ChatMessage::User { text: "hi".into() }],
        tools: Vec::new(),
        max_tokens: 10,
        temperature: None,
    }
}

/// The provider's stream must end with an error that names the setting to
/// raise.
fn provider_gives_up(kind: &str, stall: Stall) -> Result<(), String> {
    let url = listen(stall);
    let cfg = config(if kind == "openai" { format!("{url}/v1") } else { url });
    let provider: Box<dyn Provider> = match kind {
        "openai" => Box::new(tandem::llm::openai::OpenAi::new(cfg).map_err(|e| e.to_string())?),
        _ => Box::new(tandem::llm::anthropic::Anthropic::new(cfg).map_err(|e| e.to_string())?),
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    let events = rt.block_on(async {
        let stream = provider.stream(request(), CancellationToken::new());
        tokio::time::timeout(HANG, stream.collect::<Vec<_>>()).await
    });
    let Ok(events) = events else {
        return Err("the request hung".into());
    };
    let error: Option<&LlmError> = events.iter().find_map(|e| e.as_ref().err());
    let Some(error) = error else {
        return Err(format!("no error: {events:?}"));
    };
    let text = error.to_string();
    // A server that stalls before it says anything, or mid-answer, is
    // waited for as long as the idle timeout allows: the error says so. One
    // that reported an error has said what went wrong.
    let reported = matches!(error, LlmError::Http { .. });
    if !reported && !text.contains("idle_timeout_secs") {
        return Err(format!("the error does not say what to do: {text}"));
    }
    Ok(())
}

fn exec_gives_up() -> Result<(), String> {
    let mut exec = Exec::new(&[]);
    let url = listen(Stall::Silent);
    exec.env("OPENAI_BASE_URL", &format!("{url}/v1")).env("TANDEM_MODEL_IDLE_TIMEOUT_SECS", "1");
    let ran = exec.run(&["hello"]);
    if ran.hung {
        return Err("tandem exec hung".into());
    }
    if ran.code != Some(1) || !ran.stderr.contains("idle_timeout_secs") {
        return Err(format!("status {:?}; stderr: {}", ran.code, ran.stderr));
    }
    Ok(())
}
