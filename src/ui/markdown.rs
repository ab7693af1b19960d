//! Markdown in assistant answers as styled display lines for the chat pane.
//!
//! Answers stream in token by token and are drawn again on every frame, so
//! rendering must cope with half-written markdown (an unclosed fence is a
//! code block so far) and be cheap: [`MarkdownCache`] skips unchanged text
//! and keeps highlighted code blocks, because syntect costs ~100 µs a line.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use pulldown_cmark::{Alignment, CodeBlockKind, Event, Options, Parser, Tag, TagEnd};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

use super::highlight::{self, Highlighter, Resume, StyledLine};
use super::style::style;
use super::wrap::wrap_ranges;
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
    render_with(text, width, theme, &mut CodeCache::default())
}

/// Rendered lines of one message, kept while its text, the width and the
/// theme stay the same, plus the highlighted code blocks of the previous
/// render, so that appending a token re-highlights at most the line it
/// lands in. After reloading a theme in place (same name), call
/// [`MarkdownCache::clear`].
#[derive(Default)]
pub struct MarkdownCache {
    text: String,
    key: Option<Key>,
    lines: Vec<Line<'static>>,
    code: CodeCache,
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

impl MarkdownCache {
    pub fn new() -> MarkdownCache {
        MarkdownCache::default()
    }

    pub fn render(&mut self, text: &str, width: u16, theme: &Theme) -> &[Line<'static>] {
        let key = Key {
            width,
            theme: theme.name().to_owned(),
            depth: theme.depth(),
            highlighted: highlighter(theme).is_some(),
        };
        if self.key.as_ref() != Some(&key) || self.text != text {
            self.lines = render_with(text, width, theme, &mut self.code);
            self.text.clear();
            self.text.push_str(text);
            self.key = Some(key);
        }
        &self.lines
    }

    pub fn clear(&mut self) {
        *self = MarkdownCache::default();
    }
}

fn highlighter(theme: &Theme) -> Option<&'static Highlighter> {
    if theme.depth() == ColorDepth::TrueColor { highlight::global() } else { None }
}

/// Highlighted code blocks by (hash of code, info string). Entries not used
/// by a render are dropped after it, so the versions of a block that grew
/// while streaming do not pile up.
#[derive(Default)]
struct CodeCache {
    syntax_theme: String,
    used: HashMap<(u64, String), Vec<StyledLine>>,
    previous: HashMap<(u64, String), Vec<StyledLine>>,
    /// The block highlighted last, to continue when its next version only
    /// adds to it.
    resume: Option<(String, Resume)>,
}

impl CodeCache {
    fn lines(&mut self, h: &Highlighter, code: &str, lang: &str, syntax_theme: &str) -> Option<&[StyledLine]> {
        if self.syntax_theme != syntax_theme {
            *self = CodeCache { syntax_theme: syntax_theme.to_owned(), ..CodeCache::default() };
        }
        let mut hasher = DefaultHasher::new();
        code.hash(&mut hasher);
        let key = (hasher.finish(), lang.to_owned());
        if !self.used.contains_key(&key) {
            let lines = match self.previous.remove(&key) {
                Some(lines) => lines,
                None => self.highlight(h, code, lang)?,
            };
            self.used.insert(key.clone(), lines);
        }
        self.used.get(&key).map(Vec::as_slice)
    }

    fn highlight(&mut self, h: &Highlighter, code: &str, lang: &str) -> Option<Vec<StyledLine>> {
        let theme = self.syntax_theme.as_str();
        let fits = matches!(&self.resume, Some((l, r)) if l == lang && r.fits(code, theme));
        if !fits {
            self.resume = Some((lang.to_owned(), h.start(lang, theme)?));
        }
        let (_, resume) = self.resume.as_mut()?;
        if !h.advance(resume, code) {
            self.resume = None;
            return None;
        }
        h.finish(resume, code)
    }

    fn end_render(&mut self) {
        std::mem::swap(&mut self.previous, &mut self.used);
        self.used.clear();
    }
}

fn render_with(text: &str, width: u16, theme: &Theme, cache: &mut CodeCache) -> Vec<Line<'static>> {
    if width == 0 {
        return Vec::new();
    }
    let hl = highlighter(theme);
    let mut r = Renderer::new(theme, width as usize);
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    for event in Parser::new_ext(text, options) {
        if r.out.len() >= MAX_OUTPUT_LINES {
            r.flush();
            r.need_blank = false;
            r.emit(vec![Span::styled("… (the rest is too long to show)", r.s.dim)]);
            break;
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
    cache.end_render();
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
                Container::Item { width, .. } => Span::raw(" ".repeat(*width)),
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
                let spans = inline.pieces(offset + r.start..offset + end);
                let spans = spans.map(|(t, s)| Span::styled(t.to_owned(), s)).collect();
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
            let mut spans = vec![Span::raw(" ".repeat(indent))];
            let used = fit(&pieces, room, marker, &mut spans);
            // A background colour for code reads as a block only if it
            // reaches the same edge on every line.
            if block.bg.is_some() && used < room {
                spans.push(Span::styled(" ".repeat(room - used), block));
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
                pads.push((" ".repeat(left), " ".repeat(right)));
            }
            let mut pieces = Vec::new();
            for (c, (left, right)) in pads.iter().enumerate() {
                if c > 0 {
                    pieces.push(sep);
                }
                pieces.push((left.as_str(), Style::default()));
                if let Some(cell) = row.get(c) {
                    pieces.extend(cell.pieces(0..cell.text.len()));
                }
                pieces.push((right.as_str(), Style::default()));
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

/// Calls `f` with each display cell of `pieces` (a grapheme and its width;
/// tabs expanded, control characters dropped) until it returns false.
fn cells<'p>(pieces: &[(&'p str, Style)], mut f: impl FnMut(&'p str, usize, Style) -> bool) {
    const SPACES: &str = "    ";
    let mut col = 0;
    for &(text, style) in pieces {
        // Most code is printable ASCII: one column a byte, no graphemes to find.
        if text.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            for i in 0..text.len() {
                col += 1;
                if !f(&text[i..=i], 1, style) {
                    return;
                }
            }
            continue;
        }
        for g in text.graphemes(true) {
            let (g, w) = match g {
                "\t" => {
                    let n = TAB - col % TAB;
                    (&SPACES[..n], n)
                }
                g if g.contains(char::is_control) => continue,
                g => (g, g.width()),
            };
            col += w;
            if !f(g, w, style) {
                return;
            }
        }
    }
}

/// Append `pieces` to `spans`, cut with "…" (in `marker`) if wider than
/// `room` columns. Returns the columns used.
fn fit(pieces: &[(&str, Style)], room: usize, marker: Style, spans: &mut Vec<Span<'static>>) -> usize {
    let mut total = 0;
    cells(pieces, |_, w, _| {
        total += w;
        total <= room
    });
    let cut = total > room;
    let limit = if cut { room.saturating_sub(1) } else { room };
    let mut col = 0;
    let mut run: Option<(String, Style)> = None;
    cells(pieces, |g, w, style| {
        if col + w > limit {
            return false;
        }
        col += w;
        match &mut run {
            Some((text, s)) if *s == style => text.push_str(g),
            _ => {
                if let Some((text, s)) = run.replace((g.to_owned(), style)) {
                    spans.push(Span::styled(text, s));
                }
            }
        }
        true
    });
    if let Some((text, s)) = run {
        spans.push(Span::styled(text, s));
    }
    if cut && room > 0 {
        spans.push(Span::styled("…", marker));
        col += 1;
    }
    col
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    fn theme(depth: ColorDepth) -> Theme {
        Theme::load("default", &[], depth).0
    }

    fn plain(lines: &[Line]) -> Vec<String> {
        lines
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect::<String>().trim_end().to_owned())
            .collect()
    }

    fn md(text: &str, width: u16) -> Vec<String> {
        plain(&render(text, width, &theme(ColorDepth::TrueColor)))
    }

    /// The span whose text is exactly `text`.
    fn span<'a>(lines: &'a [Line<'static>], text: &str) -> &'a Span<'static> {
        let found = lines.iter().flat_map(|l| &l.spans).find(|s| s.content == text);
        found.unwrap_or_else(|| panic!("no span {text:?} in {lines:?}"))
    }

    fn assert_fits(lines: &[Line], width: u16) {
        for l in lines {
            assert!(l.width() <= width as usize, "wider than {width}: {l:?}");
        }
    }

    pub const ANSWER_PUB: &str = ANSWER;
    const ANSWER: &str = "# Fixing the parser\n\nThe `parse` function fails on **empty input** because it calls \
`unwrap()` on the first token; see [the nom docs](https://docs.rs/nom) for the error type.\n\n\
- Check the input first:\n  - return `Ok(None)` when it is empty\n  - otherwise parse as before\n\
- Add a test for the *empty* case\n\n> Note: the old behaviour was never documented, so nobody relies on it.\n\n\
```rust\nfn parse(input: &str) -> Result<Option<Ast>, Error> {\n    if input.trim().is_empty() {\n        \
return Ok(None);\n    }\n    let tokens = lex(input)?; // the lexer already reports positions\n    \
Ok(Some(build(&tokens)?))\n}\n```\n\n| Input | Before | After |\n|---|---|---|\n| `\"\"` | panic | `Ok(None)` |\n\
| `\"1+2\"` | `Ok(Some(..))` | unchanged |\n";

    #[test]
    fn headings_drop_markers_and_are_styled() {
        let t = theme(ColorDepth::TrueColor);
        let lines = render("## Plan *now*\nThen this.", 40, &t);
        assert_eq!(plain(&lines), ["Plan now", "", "Then this."]);
        let heading = style(&t, "chat.assistant").patch(style(&t, "markup.heading"));
        assert_eq!(span(&lines, "Plan ").style, heading);
        assert!(heading.add_modifier.contains(Modifier::BOLD));
        assert!(span(&lines, "now").style.add_modifier.contains(Modifier::ITALIC));
    }

    #[test]
    fn emphasis_code_and_strikethrough_have_their_styles() {
        let t = theme(ColorDepth::TrueColor);
        let lines = render("a **bold** b *it* c `code` d ~~gone~~", 80, &t);
        assert_eq!(plain(&lines), ["a bold b it c code d gone"]);
        assert!(span(&lines, "bold").style.add_modifier.contains(Modifier::BOLD));
        assert!(!span(&lines, "a ").style.add_modifier.contains(Modifier::BOLD));
        assert!(span(&lines, "it").style.add_modifier.contains(Modifier::ITALIC));
        assert!(span(&lines, "gone").style.add_modifier.contains(Modifier::CROSSED_OUT));
        let code = style(&t, "markup.code");
        assert_eq!((span(&lines, "code").style.fg, span(&lines, "code").style.bg), (code.fg, code.bg));
    }

    #[test]
    fn links_show_their_url_when_it_differs() {
        let t = theme(ColorDepth::TrueColor);
        let lines = render("[docs](https://d.rs) and <https://x.org> and <me@x.org>", 80, &t);
        assert_eq!(plain(&lines), ["docs (https://d.rs) and https://x.org and me@x.org"]);
        assert_eq!(span(&lines, "docs").style, style(&t, "chat.assistant").patch(style(&t, "markup.link")));
        assert_eq!(span(&lines, " (https://d.rs)").style, style(&t, "ui.text.dim"));
    }

    #[test]
    fn paragraphs_wrap_with_their_styles_and_breaks() {
        let t = theme(ColorDepth::TrueColor);
        let lines = render("one two **three four** five\nsix seven  \neight", 12, &t);
        assert_eq!(plain(&lines), ["one two", "three four", "five six", "seven", "eight"]);
        assert!(span(&lines, "three four").style.add_modifier.contains(Modifier::BOLD));
        assert_fits(&lines, 12);
        assert_eq!(md("abcdefghij", 4), ["abcd", "efgh", "ij"]);
    }

    #[test]
    fn blank_lines_separate_blocks_only() {
        assert_eq!(md("\n\n# A\n\n\n\ntext\n\n---\n\n", 5), ["A", "", "text", "", "─────"]);
        assert_eq!(md("", 10), Vec::<String>::new());
        assert!(render("anything", 0, &theme(ColorDepth::TrueColor)).is_empty());
    }

    #[test]
    fn lists_nest_and_align_continuation_lines() {
        let text =
            "- alpha beta gamma\n  - one two three\n    1. x\n    2. y\n- [x] done\n- [ ] todo\n\n3. three\n4. four";
        assert_eq!(
            md(text, 14),
            [
                "• alpha beta",
                "  gamma",
                "  ◦ one two",
                "    three",
                "    1. x",
                "    2. y",
                "• [x] done",
                "• [ ] todo",
                "",
                "3. three",
                "4. four",
            ]
        );
        assert_eq!(md("- a\n\n- b\n", 10), ["• a", "", "• b"]);
        assert_eq!(md("Intro:\n- a\n\nAfter.", 10), ["Intro:", "", "• a", "", "After."]);
    }

    #[test]
    fn quotes_nest_and_keep_their_bars_when_wrapped() {
        let text = "> quoted words here\n>\n> > inner\n>\n> back\n\nout";
        assert_eq!(md(text, 12), ["│ quoted", "│ words here", "│", "│ │ inner", "│", "│ back", "", "out"]);
        assert_eq!(md("- item\n  > said\n  > more", 20), ["• item", "  │ said more"]);
    }

    #[test]
    fn code_blocks_are_indented_cut_and_not_wrapped() {
        let text = "```\nshort\n\tlong line that does not fit\n```\n\n    indented code";
        assert_eq!(md(text, 16), ["  short", "      long line…", "", "  indented code"]);
        let lines = render(text, 16, &theme(ColorDepth::TrueColor));
        assert_fits(&lines, 16);
        // Padded to the edge, so that the block's background is a rectangle.
        assert_eq!(lines[0].width(), 16);
    }

    #[test]
    fn an_unclosed_fence_shows_the_code_so_far() {
        assert_eq!(md("Intro\n\n```rust\nfn main() {\n    let x", 30), ["Intro", "", "  fn main() {", "      let x"]);
        assert_eq!(md("Intro\n\n```rust", 30), ["Intro"]);
        assert_eq!(md("Intro\n\n``", 30), ["Intro", "", "``"]);
    }

    #[test]
    fn tables_align_cells_and_are_cut_to_the_width() {
        let text = "| a | long head | n |\n|---|:---:|--:|\n| xy | `c` | 10 |\n| z | | 7 |";
        assert_eq!(
            md(text, 40),
            ["a  │ long head │  n", "───┼───────────┼───", "xy │     c     │ 10", "z  │           │  7"]
        );
        assert_eq!(md(text, 10), ["a  │ long…", "───┼─────…", "xy │     …", "z  │     …"]);
    }

    #[test]
    fn code_is_highlighted_only_on_true_colour_terminals() {
        highlight::warm_up();
        let text = "```rust\nfn main() { let s = \"x\"; }\n```";
        let true_colour = render(text, 40, &theme(ColorDepth::TrueColor));
        let fgs: std::collections::HashSet<_> = true_colour[0].spans.iter().map(|s| s.style.fg).collect();
        assert!(fgs.len() > 2, "{true_colour:?}");
        let t = theme(ColorDepth::Ansi256);
        let lines = render(text, 40, &t);
        let block = style(&t, "markup.code.block");
        assert!(lines[0].spans[1..].iter().all(|s| s.style == block), "{lines:?}");
    }

    #[test]
    fn every_line_fits_at_every_width() {
        let t = theme(ColorDepth::TrueColor);
        let deep = "> - > 1. - deeply nested text that wraps\n>   > ```\n>   > code\n";
        for width in 1..=80 {
            assert_fits(&render(ANSWER, width, &t), width);
            assert_fits(&render(deep, width, &t), width);
        }
    }

    #[test]
    fn huge_input_is_cut_quickly() {
        let t = theme(ColorDepth::TrueColor);
        let inputs = [
            "word ".repeat(200_000),
            "x".repeat(1 << 20),
            format!("```rust\n{}\n```", "a".repeat(1 << 20)),
            "line\n".repeat(200_000).replace("line\n", "```\nline\n").replacen("```\n", "", 1),
        ];
        for input in &inputs {
            let start = Instant::now();
            let lines = render(input, 80, &t);
            assert!(start.elapsed() < Duration::from_secs(5), "took {:?}", start.elapsed());
            assert!(plain(&lines).iter().any(|l| l.contains('…')), "no cut marker");
            assert_fits(&lines, 80);
        }
    }

    #[test]
    fn no_prefix_of_a_tricky_document_panics() {
        let t = theme(ColorDepth::TrueColor);
        let tricky = format!(
            "{ANSWER}\n> 1. *a **b `c` d** e*\n>    ```py\n>    x\t= '日本語テキスト'\n\n- [ ] <b>html</b>\n\n\
             <div>\nblock\n</div>\n\n[ref]: https://r \"t\"\n\n![img](u.png) \u{1b}[31mred\r\n| a |\n|---|\n| é́ |"
        );
        let mut cache = MarkdownCache::new();
        for (end, _) in tricky.char_indices() {
            for width in [1, 7, 33] {
                let lines = render(&tricky[..end], width, &t);
                assert_fits(&lines, width);
                if width == 33 {
                    assert_eq!(cache.render(&tricky[..end], width, &t), lines.as_slice());
                }
            }
        }
    }

    #[test]
    fn the_cache_matches_a_fresh_render_while_streaming() {
        highlight::warm_up();
        let t = theme(ColorDepth::TrueColor);
        let mut cache = MarkdownCache::new();
        for end in (0..=ANSWER.len()).filter(|&e| ANSWER.is_char_boundary(e)) {
            assert_eq!(cache.render(&ANSWER[..end], 50, &t), render(&ANSWER[..end], 50, &t).as_slice());
        }
        // The finished code block is kept; a shorter text renders afresh.
        assert_eq!(cache.code.previous.len(), 1);
        assert_eq!(cache.render("# x", 50, &t), render("# x", 50, &t).as_slice());
        assert_eq!(cache.render(ANSWER, 30, &t), render(ANSWER, 30, &t).as_slice());
    }

    #[test]
    fn snapshots_of_a_representative_answer() {
        highlight::warm_up();
        let t = theme(ColorDepth::TrueColor);
        for width in [58, 76] {
            let text = plain(&render(ANSWER, width, &t)).join("\n");
            insta::assert_snapshot!(format!("answer_{width}"), text);
        }
    }

    /// `cargo test --release -- --ignored --nocapture`: the cost of
    /// re-rendering a streaming 9 KB answer after each token.
    #[test]
    #[ignore]
    fn streaming_render_cost() {
        highlight::warm_up();
        let t = theme(ColorDepth::TrueColor);
        let mut text = String::new();
        while text.len() < 9 * 1024 {
            text.push_str(ANSWER.split_once("\n\n").map_or("", |p| p.1));
            text.push_str("\n\n");
        }
        let ends: Vec<usize> = (0..text.len()).filter(|&e| text.is_char_boundary(e)).step_by(4).collect();
        let mut cache = MarkdownCache::new();
        let _ = cache.render(&text[..text.len() / 2], 76, &t);
        let start = Instant::now();
        for &end in &ends {
            std::hint::black_box(cache.render(&text[..end], 76, &t));
        }
        let per_call = start.elapsed() / ends.len() as u32;
        let full = Instant::now();
        for _ in 0..50 {
            std::hint::black_box(cache.render(&text, 76, &t));
            std::hint::black_box(cache.render(&text[..text.len() - 1], 76, &t));
        }
        let last = full.elapsed() / 100;
        println!(
            "{} bytes, {} calls: {per_call:?} per call on average, {last:?} at full length",
            text.len(),
            ends.len()
        );
    }
}
#[test]
fn tmp_dump() {
    std::fs::write("/tmp/answer.md", tests_answer()).unwrap();
}
#[cfg(test)]
fn tests_answer() -> &'static str {
    tests::ANSWER_PUB
}
