//! Markdown in assistant answers as styled display lines for the chat pane.
//!
//! Answers stream in token by token and are drawn again on every frame, so
//! rendering must cope with half-written markdown (an unclosed fence is a
//! code block so far) and be cheap: [`MarkdownCache`] skips unchanged text
//! and keeps highlighted code blocks, because syntect costs ~100 µs a line.

mod columns;
mod inline;
mod renderer;

use pulldown_cmark::{Event, Options, Parser, TagEnd};
use ratatui::text::{Line, Span};

use super::highlight::{self, BlockCache, Highlighter};
use crate::config::theme::{ColorDepth, Theme};
use renderer::Renderer;

/// Bounds that keep one absurd answer (a megabyte on one line, a million
/// lines of output) from stalling the UI; what is past them is cut with a
/// marker instead.
const MAX_TEXT_BYTES: usize = 64 * 1024;
const MAX_CODE_LINES: usize = 10_000;
const MAX_OUTPUT_LINES: usize = 50_000;
const CODE_INDENT: usize = 2;
const TAB: usize = 4;
const BULLETS: [&str; 3] = ["• ", "◦ ", "▪ "];

/// Markdown `text` as display lines at most `width` columns wide. Code is
/// highlighted if [`highlight::warm_up`] has finished and the terminal
/// shows 24-bit colour. Streaming callers should use [`MarkdownCache`].
pub fn render(text: &str, width: u16, theme: &Theme) -> Vec<Line<'static>> {
    render_into(text, 0, Vec::new(), &mut Vec::new(), width, theme, &mut BlockCache::default())
}

/// The rendered lines of one message. Unchanged text costs nothing; text
/// that only grew (a streaming answer) re-renders only its last top-level
/// block, and code blocks keep their highlighting, so a token costs about
/// the same at the end of a long answer as at its start.
///
/// Call [`MarkdownCache::clear`] after reloading a theme in place (same
/// name); anything else that changes the result is noticed.
#[derive(Default)]
pub(crate) struct MarkdownCache {
    text: String,
    key: Option<Key>,
    lines: Vec<Line<'static>>,
    /// How many leading lines the last render left as they were.
    unchanged: usize,
    blocks: Vec<Block>,
    code: BlockCache,
}

#[derive(PartialEq)]
struct Key {
    width: u16,
    theme: String,
    depth: ColorDepth,
    /// The highlighter loads in the background; once it has, lines drawn
    /// without it are stale.
    highlighted: bool,
}

/// Where a top-level block starts, in the text and in the lines.
struct Block {
    /// The byte offset of the line it starts on.
    start: usize,
    /// Whether that line was complete. Text appended to a partial line can
    /// change what the line is (`#` becomes `#x`, no longer a heading), and
    /// with it where the block before ends.
    settled: bool,
    /// The index of its first line, or of the blank line before it.
    line: usize,
}

impl MarkdownCache {
    /// The lines of the last `render`.
    pub fn lines(&self) -> &[Line<'static>] {
        &self.lines
    }

    pub fn render(&mut self, text: &str, width: u16, theme: &Theme) -> &[Line<'static>] {
        let highlighted = highlighter(theme).is_some();
        let same = self.key.as_ref().is_some_and(|k| {
            k.width == width && k.theme == theme.name() && k.depth == theme.depth() && k.highlighted == highlighted
        });
        if same && self.text == text {
            self.unchanged = self.lines.len();
            return &self.lines;
        }
        // Blocks before the last are final once more text is appended: a
        // block closes for good when the next one starts. Only a link
        // reference definition reaches back, so any `]:` means starting
        // over.
        let keep = if same && text.starts_with(self.text.as_str()) && !text.contains("]:") {
            match self.blocks.last() {
                Some(last) if last.settled => self.blocks.len() - 1,
                _ => self.blocks.len().saturating_sub(2),
            }
        } else {
            0
        };
        let (start, line) = self.blocks.get(keep).filter(|_| keep > 0).map_or((0, 0), |b| (b.start, b.line));
        self.blocks.truncate(keep);
        let mut lines = std::mem::take(&mut self.lines);
        lines.truncate(line);
        self.unchanged = line;
        let rest = text.get(start..).unwrap_or_default();
        self.lines = render_into(rest, start, lines, &mut self.blocks, width, theme, &mut self.code);
        self.text.clear();
        self.text.push_str(text);
        self.key = Some(Key { width, theme: theme.name().to_owned(), depth: theme.depth(), highlighted });
        &self.lines
    }

    /// How many leading lines the last [`MarkdownCache::render`] left as
    /// they were: a caller that copies the lines (cloning a `Line` allocates
    /// every span) need only copy the ones after these.
    pub(crate) fn unchanged(&self) -> usize {
        self.unchanged
    }
}

fn highlighter(theme: &Theme) -> Option<&'static Highlighter> {
    if theme.depth() == ColorDepth::TrueColor { highlight::global() } else { None }
}

/// Render `text`, which starts at byte `offset` of the message and at a
/// top-level block, after the lines `out` already has; notes in `blocks`
/// where each top-level block starts.
fn render_into(
    text: &str,
    offset: usize,
    out: Vec<Line<'static>>,
    blocks: &mut Vec<Block>,
    width: u16,
    theme: &Theme,
    cache: &mut BlockCache,
) -> Vec<Line<'static>> {
    if width == 0 {
        return Vec::new();
    }
    let hl = highlighter(theme);
    let mut r = Renderer::new(theme, width as usize);
    r.need_blank = !out.is_empty();
    r.out = out;
    let mut depth = 0usize;
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    for (event, range) in Parser::new_ext(text, options).into_offset_iter() {
        if r.out.len() >= MAX_OUTPUT_LINES {
            r.flush();
            r.need_blank = false;
            r.emit(vec![Span::styled("… (the rest is too long to show)", r.s.dim)]);
            break;
        }
        match event {
            Event::Start(_) | Event::Rule if depth == 0 => {
                let line_start = text.get(..range.start).and_then(|t| t.rfind('\n')).map_or(0, |i| i + 1);
                let settled = text.get(range.start..).is_some_and(|t| t.contains('\n'));
                blocks.push(Block { start: offset + line_start, settled, line: r.out.len() });
            }
            _ => {}
        }
        match event {
            Event::Start(_) => depth += 1,
            Event::End(_) => depth = depth.saturating_sub(1),
            _ => {}
        }
        if let Event::End(TagEnd::CodeBlock) = event {
            let (lang, code) = r.code.take().unwrap_or_default();
            let lines = hl.and_then(|h| cache.lines(h, &code, &lang, theme.syntax_theme()));
            r.code_block(&code, lines);
        } else {
            r.event(event);
        }
    }
    r.flush();
    r.out
}

#[cfg(test)]
mod tests;
