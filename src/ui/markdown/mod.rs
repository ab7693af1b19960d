//! Markdown in assistant answers as styled display lines for the chat pane.
//!
//! Answers stream in token by token and are drawn again on every frame, so
//! rendering must cope with half-written markdown (an unclosed fence is a
//! code block so far) and be cheap: [`MarkdownCache`] skips unchanged text
//! and keeps highlighted code blocks, because syntect costs ~100 µs a line.

use std::borrow::Cow;

use pulldown_cmark::{Alignment, CodeBlockKind, Event, Options, Parser, Tag, TagEnd};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::highlight::{self, BlockCache, Highlighter, StyledLine};
use super::style::style;
use super::wrap::{simple, wrap_ranges};
use crate::config::theme::{ColorDepth, Theme};

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
pub struct MarkdownCache {
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
    pub fn new() -> MarkdownCache {
        MarkdownCache::default()
    }

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
    pub fn unchanged(&self) -> usize {
        self.unchanged
    }

    pub fn clear(&mut self) {
        *self = MarkdownCache::default();
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

struct Styles {
    body: Style,
    heading: Style,
    bold: Style,
    italic: Style,
    code: Style,
    block: Style,
    quote: Style,
    list: Style,
    link: Style,
    rule: Style,
    dim: Style,
}

impl Styles {
    fn new(theme: &Theme) -> Styles {
        Styles {
            body: style(theme, "chat.assistant"),
            heading: style(theme, "markup.heading"),
            bold: style(theme, "markup.bold"),
            italic: style(theme, "markup.italic"),
            code: style(theme, "markup.code"),
            block: style(theme, "markup.code.block"),
            quote: style(theme, "markup.quote"),
            list: style(theme, "markup.list"),
            link: style(theme, "markup.link"),
            rule: style(theme, "markup.rule"),
            dim: style(theme, "ui.text.dim"),
        }
    }
}

/// The text of a paragraph, heading or table cell before wrapping, with
/// the style of each byte range: runs start at their byte offset and last
/// until the next run.
#[derive(Default)]
struct Inline {
    text: String,
    runs: Vec<(usize, Style)>,
    /// Bytes dropped past [`MAX_TEXT_BYTES`].
    skipped: usize,
}

impl Inline {
    fn push(&mut self, s: &str, style: Style) {
        let room = MAX_TEXT_BYTES.saturating_sub(self.text.len());
        let s = if s.len() > room {
            let cut = s.floor_char_boundary(room);
            self.skipped += s.len() - cut;
            &s[..cut]
        } else {
            s
        };
        self.push_unbounded(s, style);
    }

    fn push_unbounded(&mut self, s: &str, style: Style) {
        if s.is_empty() {
            return;
        }
        if self.runs.last().map(|r| r.1) != Some(style) {
            self.runs.push((self.text.len(), style));
        }
        // The terminal would not show control characters anyway (ratatui
        // drops them); removing them here keeps widths honest.
        if s.contains(|c: char| c.is_control() && c != '\n') {
            let clean = s.chars().filter_map(|c| match c {
                '\t' => Some(' '),
                '\n' => Some('\n'),
                c if c.is_control() => None,
                c => Some(c),
            });
            self.text.extend(clean);
        } else {
            self.text.push_str(s);
        }
    }

    fn is_empty(&self) -> bool {
        self.text.is_empty() && self.skipped == 0
    }

    fn clear(&mut self) {
        self.text.clear();
        self.runs.clear();
        self.skipped = 0;
    }

    /// The styled pieces of `range`, which must be on char boundaries.
    fn pieces(&self, range: std::ops::Range<usize>) -> impl Iterator<Item = (&str, Style)> {
        let first = self.runs.partition_point(|r| r.0 <= range.start).saturating_sub(1);
        self.runs[first..].iter().enumerate().map_while(move |(i, &(start, style))| {
            let end = self.runs.get(first + i + 1).map_or(self.text.len(), |r| r.0).min(range.end);
            let start = start.max(range.start);
            (start < range.end).then(|| (&self.text[start..end.max(start)], style))
        })
    }
}

enum Container {
    Quote,
    Item { marker: String, width: usize, first_done: bool },
}

struct List {
    next: Option<u64>,
    items: usize,
    /// Loose lists (items separated by blank lines) keep a blank line
    /// between items; pulldown-cmark marks them by wrapping item text in
    /// paragraphs.
    loose: bool,
}

struct Table {
    aligns: Vec<Alignment>,
    rows: Vec<Vec<Inline>>,
    head_rows: usize,
}

struct Renderer {
    s: Styles,
    width: usize,
    out: Vec<Line<'static>>,
    /// A block ended; the next line out is preceded by a blank one. Done
    /// lazily so that nothing trails the last block.
    need_blank: bool,
    /// How many containers the blank line shares with the blocks on both
    /// sides of it, so that it has the bars of the quotes both are in.
    blank_depth: usize,
    containers: Vec<Container>,
    lists: Vec<List>,
    inline: Inline,
    /// The style of the text block being collected, if one is open.
    base: Option<Style>,
    spans: Vec<Style>,
    links: Vec<(String, usize)>,
    code: Option<(String, String)>,
    table: Option<Table>,
}

impl Renderer {
    fn new(theme: &Theme, width: usize) -> Renderer {
        Renderer {
            s: Styles::new(theme),
            width,
            out: Vec::new(),
            need_blank: false,
            blank_depth: 0,
            containers: Vec::new(),
            lists: Vec::new(),
            inline: Inline::default(),
            base: None,
            spans: Vec::new(),
            links: Vec::new(),
            code: None,
            table: None,
        }
    }

    fn text_base(&self) -> Style {
        let quoted = self.containers.iter().any(|c| matches!(c, Container::Quote));
        if quoted { self.s.body.patch(self.s.quote) } else { self.s.body }
    }

    fn current(&mut self) -> Style {
        if self.base.is_none() {
            self.base = Some(self.text_base());
        }
        self.spans.last().copied().or(self.base).unwrap_or(self.s.body)
    }

    fn push(&mut self, text: &str, style: Style) {
        self.current();
        self.inline.push(text, style);
    }

    fn open(&mut self, style: Style) {
        self.flush();
        self.base = Some(style);
    }

    fn event(&mut self, event: Event) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(t) => match &mut self.code {
                Some((_, code)) => code.push_str(&t),
                None => {
                    let style = self.current();
                    self.push(&t, style);
                }
            },
            Event::Code(t) | Event::InlineMath(t) | Event::DisplayMath(t) => {
                let style = self.current().patch(self.s.code);
                self.push(&t, style);
            }
            Event::Html(t) | Event::InlineHtml(t) => {
                let style = self.current();
                self.push(&t, style);
            }
            Event::FootnoteReference(t) => {
                let style = self.current();
                self.push(&format!("[^{t}]"), style);
            }
            Event::SoftBreak => {
                let style = self.current();
                self.push(" ", style);
            }
            Event::HardBreak => {
                let style = self.current();
                self.push("\n", style);
            }
            Event::Rule => {
                self.flush();
                let rule = "─".repeat(self.avail());
                self.emit(vec![Span::styled(rule, self.s.rule)]);
                self.end_block();
            }
            Event::TaskListMarker(done) => self.push(if done { "[x] " } else { "[ ] " }, self.s.list),
        }
    }

    fn start(&mut self, tag: Tag) {
        match tag {
            Tag::Paragraph => {
                if matches!(self.containers.last(), Some(Container::Item { .. }))
                    && let Some(list) = self.lists.last_mut()
                {
                    list.loose = true;
                }
                self.open(self.text_base());
            }
            Tag::Heading { .. } => self.open(self.text_base().patch(self.s.heading)),
            Tag::BlockQuote(_) => {
                self.flush();
                self.containers.push(Container::Quote);
            }
            Tag::CodeBlock(kind) => {
                self.flush();
                let lang = match kind {
                    CodeBlockKind::Fenced(info) => info.to_string(),
                    CodeBlockKind::Indented => String::new(),
                };
                self.code = Some((lang, String::new()));
            }
            Tag::HtmlBlock => self.open(self.text_base()),
            Tag::List(start) => {
                self.flush();
                self.lists.push(List { next: start, items: 0, loose: false });
            }
            Tag::Item => {
                self.flush();
                let depth = self.lists.len().saturating_sub(1);
                let Some(list) = self.lists.last_mut() else { return };
                if list.items > 0 && !list.loose {
                    self.need_blank = false;
                }
                list.items += 1;
                let marker = match &mut list.next {
                    Some(n) => {
                        *n = n.saturating_add(1);
                        format!("{}. ", *n - 1)
                    }
                    None => BULLETS[depth % BULLETS.len()].to_owned(),
                };
                let width = marker.width();
                self.containers.push(Container::Item { marker, width, first_done: false });
            }
            Tag::Table(aligns) => {
                self.flush();
                self.table = Some(Table { aligns, rows: Vec::new(), head_rows: 0 });
            }
            Tag::TableHead | Tag::TableRow => {
                if let Some(t) = &mut self.table {
                    t.rows.push(Vec::new());
                }
            }
            Tag::TableCell => {
                let head = self.table.as_ref().is_some_and(|t| t.head_rows == 0);
                let base = self.text_base();
                self.base = Some(if head { base.add_modifier(Modifier::BOLD) } else { base });
            }
            Tag::Emphasis => self.nest(self.s.italic),
            Tag::Strong => self.nest(self.s.bold),
            Tag::Strikethrough => self.nest(Style::new().add_modifier(Modifier::CROSSED_OUT)),
            Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. } => {
                self.nest(self.s.link);
                self.links.push((dest_url.to_string(), self.inline.text.len()));
            }
            _ => {}
        }
    }

    fn end_block(&mut self) {
        self.need_blank = true;
        self.blank_depth = self.containers.len();
    }

    fn pop_container(&mut self) {
        self.containers.pop();
        self.blank_depth = self.blank_depth.min(self.containers.len());
    }

    fn nest(&mut self, patch: Style) {
        let style = self.current().patch(patch);
        self.spans.push(style);
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::HtmlBlock => {
                while self.inline.text.ends_with('\n') {
                    self.inline.text.pop();
                }
                self.flush();
                self.end_block();
            }
            TagEnd::BlockQuote(_) => {
                self.flush();
                self.pop_container();
                self.end_block();
            }
            TagEnd::List(_) => {
                self.flush();
                self.lists.pop();
                self.end_block();
            }
            TagEnd::Item => {
                self.flush();
                if let Some(Container::Item { first_done: false, .. }) = self.containers.last() {
                    self.emit(Vec::new());
                }
                self.pop_container();
            }
            TagEnd::TableCell => {
                let cell = std::mem::take(&mut self.inline);
                if let Some(row) = self.table.as_mut().and_then(|t| t.rows.last_mut()) {
                    row.push(cell);
                }
                self.base = None;
                self.spans.clear();
            }
            TagEnd::TableHead => {
                if let Some(t) = &mut self.table {
                    t.head_rows = t.rows.len();
                }
            }
            TagEnd::Table => {
                if let Some(t) = self.table.take() {
                    self.table(&t);
                }
            }
            TagEnd::Emphasis | TagEnd::Strong | TagEnd::Strikethrough => {
                self.spans.pop();
            }
            TagEnd::Link | TagEnd::Image => {
                self.spans.pop();
                if let Some((url, start)) = self.links.pop() {
                    let shown = self.inline.text.get(start..).unwrap_or_default();
                    if !url.is_empty() && shown != url && Some(shown) != url.strip_prefix("mailto:") {
                        self.push(&format!(" ({url})"), self.s.dim);
                    }
                }
            }
            _ => {}
        }
    }

    fn prefix_width(&self) -> usize {
        let max = self.width.saturating_sub(1);
        let mut used = 0;
        for c in &self.containers {
            let w = match c {
                Container::Quote => 2,
                Container::Item { width, .. } => *width,
            };
            if used + w > max {
                break;
            }
            used += w;
        }
        used
    }

    /// Columns left for content after the container prefixes; those are cut
    /// first when nesting runs deeper than the pane is wide.
    fn avail(&self) -> usize {
        self.width - self.prefix_width()
    }

    /// The container prefixes of the next line: quote bars, and list
    /// markers on an item's first line or their width in spaces after it.
    fn prefix(&mut self, blank: bool) -> Vec<Span<'static>> {
        let budget = self.prefix_width();
        let mut spans = Vec::new();
        let mut used = 0;
        let depth = if blank { self.blank_depth } else { self.containers.len() };
        for c in &mut self.containers[..depth] {
            let span = match c {
                Container::Quote => Span::styled("│ ", self.s.quote),
                Container::Item { marker, first_done, .. } if !blank && !*first_done => {
                    *first_done = true;
                    Span::styled(marker.clone(), self.s.list)
                }
                Container::Item { width, .. } => Span::raw(spaces(*width)),
            };
            used += span.width();
            if used > budget {
                break;
            }
            spans.push(span);
        }
        if blank {
            // A blank line inside a quote keeps its bars, and nothing else.
            while spans.last().is_some_and(|s| s.content.trim().is_empty()) {
                spans.pop();
            }
            if let Some(last) = spans.last_mut() {
                last.content = last.content.trim_end().to_owned().into();
            }
        }
        spans
    }

    fn emit(&mut self, content: Vec<Span<'static>>) {
        if std::mem::take(&mut self.need_blank) && !self.out.is_empty() {
            let bars = self.prefix(true);
            self.out.push(Line::from(bars));
        }
        let mut spans = self.prefix(false);
        spans.extend(content);
        self.out.push(Line::from(spans));
    }

    /// Wrap and emit the collected text block, if any.
    fn flush(&mut self) {
        self.base = None;
        self.spans.clear();
        self.links.clear();
        if self.inline.is_empty() {
            self.inline.clear();
            return;
        }
        let mut inline = std::mem::take(&mut self.inline);
        if inline.skipped > 0 {
            inline.push_unbounded(&format!(" … ({} more bytes)", inline.skipped), self.s.dim);
        }
        let avail = self.avail();
        let mut offset = 0;
        for segment in inline.text.split('\n') {
            for r in wrap_ranges(segment, avail) {
                // A space at the edge hangs past it; dropping it keeps every
                // line within the width.
                let end = r.start + segment[r.clone()].trim_end_matches(' ').len();
                let pieces = inline.pieces(offset + r.start..offset + end);
                let mut spans = Vec::new();
                if avail < 2 {
                    // The one case where a row can be too wide: a
                    // double-width character alone on a one-column row.
                    fit(&pieces.collect::<Vec<_>>(), avail, self.s.dim, &mut spans);
                } else {
                    spans.extend(pieces.map(|(t, s)| Span::styled(t.to_owned(), s)));
                }
                self.emit(spans);
            }
            offset += segment.len() + 1;
        }
        inline.clear();
        self.inline = inline;
    }

    /// Code is not wrapped: long lines are cut, since wrapped code misleads
    /// about indentation.
    fn code_block(&mut self, code: &str, highlighted: Option<&[StyledLine]>) {
        let code = code.strip_suffix('\n').unwrap_or(code);
        if code.is_empty() {
            return;
        }
        let avail = self.avail();
        let indent = CODE_INDENT.min(avail - 1);
        let room = avail - indent;
        let block = self.s.block;
        let marker = block.patch(self.s.dim);
        let count = code.split('\n').count();
        let highlighted = highlighted.filter(|h| h.len() == count);
        let mut pieces = Vec::new();
        for (i, line) in code.split('\n').take(MAX_CODE_LINES).enumerate() {
            pieces.clear();
            match highlighted.and_then(|h| h.get(i)) {
                Some(styled) => pieces.extend(styled.iter().map(|(s, t)| (t.as_str(), block.patch(*s)))),
                None => pieces.push((line, block)),
            }
            let mut spans = vec![Span::raw(spaces(indent))];
            let used = fit(&pieces, room, marker, &mut spans);
            // A background colour for code reads as a block only if it
            // reaches the same edge on every line.
            if block.bg.is_some() && used < room {
                spans.push(Span::styled(spaces(room - used), block));
            }
            self.emit(spans);
        }
        if count > MAX_CODE_LINES {
            let more = format!("{}… ({} more lines)", " ".repeat(indent), count - MAX_CODE_LINES);
            self.emit(vec![Span::styled(more, self.s.dim)]);
        }
        self.end_block();
    }

    fn table(&mut self, t: &Table) {
        let cols = t.rows.iter().map(Vec::len).max().unwrap_or(0);
        let mut widths = vec![0; cols];
        for row in &t.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.text.width());
            }
        }
        let room = self.avail();
        let sep = (" │ ", self.s.rule);
        for (i, row) in t.rows.iter().enumerate() {
            let mut pads = Vec::new();
            for (c, &w) in widths.iter().enumerate() {
                let pad = w - row.get(c).map_or(0, |cell| cell.text.width());
                let (left, right) = match t.aligns.get(c) {
                    Some(Alignment::Right) => (pad, 0),
                    Some(Alignment::Center) => (pad / 2, pad - pad / 2),
                    _ if c + 1 == cols => (0, 0),
                    _ => (0, pad),
                };
                pads.push((spaces(left), spaces(right)));
            }
            let mut pieces = Vec::new();
            for (c, (left, right)) in pads.iter().enumerate() {
                if c > 0 {
                    pieces.push(sep);
                }
                pieces.push((left.as_ref(), Style::default()));
                if let Some(cell) = row.get(c) {
                    pieces.extend(cell.pieces(0..cell.text.len()));
                }
                pieces.push((right.as_ref(), Style::default()));
            }
            let mut spans = Vec::new();
            fit(&pieces, room, self.s.dim, &mut spans);
            self.emit(spans);
            if i + 1 == t.head_rows {
                let line: Vec<String> = widths.iter().map(|w| "─".repeat(*w)).collect();
                let mut spans = Vec::new();
                fit(&[(&line.join("─┼─"), self.s.rule)], room, self.s.rule, &mut spans);
                self.emit(spans);
            }
        }
        self.end_block();
    }
}

/// Spaces without an allocation for the usual widths.
fn spaces(n: usize) -> Cow<'static, str> {
    const SPACES: &str = "                                                                ";
    match SPACES.get(..n) {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(" ".repeat(n)),
    }
}

/// Append as much of `text` as fits before column `limit` to `spans`,
/// expanding tabs and dropping control characters; `col` is where it
/// starts and is moved past it. Returns whether all of it fitted. With no
/// `spans` it only measures.
fn put(text: &str, style: Style, col: &mut usize, limit: usize, spans: Option<&mut Vec<Span<'static>>>) -> bool {
    if simple(text) {
        let mut cut = text.len();
        for (i, c) in text.char_indices() {
            let w = c.width().unwrap_or(0);
            if *col + w > limit {
                cut = i;
                break;
            }
            *col += w;
        }
        if let Some(spans) = spans.filter(|_| cut > 0) {
            spans.push(Span::styled(text[..cut].to_owned(), style));
        }
        return cut == text.len();
    }
    let mut out = String::new();
    let mut complete = true;
    for g in text.graphemes(true) {
        let w = match g {
            "\t" => TAB - *col % TAB,
            g if g.contains(char::is_control) => continue,
            g => g.width(),
        };
        if *col + w > limit {
            complete = false;
            break;
        }
        *col += w;
        if spans.is_some() {
            match g {
                "\t" => out.push_str(&spaces(w)),
                g => out.push_str(g),
            }
        }
    }
    if let Some(spans) = spans.filter(|_| !out.is_empty()) {
        spans.push(Span::styled(out, style));
    }
    complete
}

/// Append `pieces` to `spans`, cut with "…" (in `marker`) if wider than
/// `room` columns. Returns the columns used.
fn fit(pieces: &[(&str, Style)], room: usize, marker: Style, spans: &mut Vec<Span<'static>>) -> usize {
    let mut col = 0;
    let fits = pieces.iter().all(|&(text, style)| put(text, style, &mut col, room, None));
    let limit = if fits { room } else { room.saturating_sub(1) };
    col = 0;
    for &(text, style) in pieces {
        if !put(text, style, &mut col, limit, Some(spans)) {
            break;
        }
    }
    if !fits && room > 0 {
        spans.push(Span::styled("…", marker));
        col += 1;
    }
    col
}

#[cfg(test)]
mod tests;
