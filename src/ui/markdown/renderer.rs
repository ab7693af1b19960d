//! Markdown events to display lines: blocks and their containers (quotes,
//! list items) with their prefixes, text wrapped to the width, code blocks
//! and tables laid out in columns.

use pulldown_cmark::{Alignment, CodeBlockKind, Event, Tag, TagEnd};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthStr;

use super::columns::{fit, spaces};
use super::inline::Inline;
use super::{BULLETS, CODE_INDENT, MAX_CODE_LINES};
use crate::config::theme::Theme;
use crate::ui::highlight::StyledLine;
use crate::ui::style::style;
use crate::ui::wrap::wrap_ranges;

pub(super) struct Styles {
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
    pub(super) dim: Style,
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

pub(super) struct Renderer {
    pub(super) s: Styles,
    width: usize,
    pub(super) out: Vec<Line<'static>>,
    /// A block ended; the next line out is preceded by a blank one. Done
    /// lazily so that nothing trails the last block.
    pub(super) need_blank: bool,
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
    pub(super) code: Option<(String, String)>,
    table: Option<Table>,
}

impl Renderer {
    pub(super) fn new(theme: &Theme, width: usize) -> Renderer {
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

    pub(super) fn event(&mut self, event: Event) {
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

    pub(super) fn emit(&mut self, content: Vec<Span<'static>>) {
        if std::mem::take(&mut self.need_blank) && !self.out.is_empty() {
            let bars = self.prefix(true);
            self.out.push(Line::from(bars));
        }
        let mut spans = self.prefix(false);
        spans.extend(content);
        self.out.push(Line::from(spans));
    }

    /// Wrap and emit the collected text block, if any.
    pub(super) fn flush(&mut self) {
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
    pub(super) fn code_block(&mut self, code: &str, highlighted: Option<&[StyledLine]>) {
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
