//! The text of a Rust file made searchable: comments and literals blanked
//! out, then the code cut into names, `::` and punctuation, each with its
//! line.

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Ident(String),
    /// `::`
    Sep,
    Punct(char),
}

pub fn tokens(code: &str) -> Vec<(Tok, usize)> {
    let chars: Vec<char> = code.chars().collect();
    let (mut out, mut i, mut line) = (Vec::new(), 0, 1);
    while let Some(&c) = chars.get(i) {
        let word = |i: usize| chars.get(i).is_some_and(|c| c.is_alphanumeric() || *c == '_');
        if c == '\n' {
            line += 1;
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while word(i + 1) {
                i += 1;
            }
            out.push((Tok::Ident(chars[start..=i].iter().collect()), line));
        } else if c.is_ascii_digit() {
            while word(i + 1) {
                i += 1;
            }
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            out.push((Tok::Sep, line));
            i += 1;
        } else if !c.is_whitespace() {
            out.push((Tok::Punct(c), line));
        }
        i += 1;
    }
    out
}

/// `src` with comments and the insides of string and character literals
/// blanked out, line breaks kept, so that only code is searched.
pub fn code_only(src: &str) -> String {
    let c: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let blank = |ch: char| if ch == '\n' { '\n' } else { ' ' };
    let word = |i: usize| i < c.len() && (c[i].is_alphanumeric() || c[i] == '_');
    let mut i = 0;
    while i < c.len() {
        let next = c.get(i + 1).copied();
        if c[i] == '/' && next == Some('/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
            continue;
        }
        if c[i] == '/' && next == Some('*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 1;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 1;
                } else {
                    out.push(blank(c[i]));
                }
                i += 1;
                if depth == 0 {
                    break;
                }
            }
            continue;
        }
        // Raw strings: r"…", r#"…"#, br"…".
        let raw_at = if c[i] == 'b' && next == Some('r') { i + 1 } else { i };
        if c[raw_at] == 'r' && (i == 0 || !word(i - 1)) {
            let hashes = c[raw_at + 1..].iter().take_while(|&&h| h == '#').count();
            if c.get(raw_at + 1 + hashes) == Some(&'"') {
                let close: Vec<char> = std::iter::once('"').chain(std::iter::repeat_n('#', hashes)).collect();
                let mut j = raw_at + 2 + hashes;
                while j < c.len() && !c[j..].starts_with(&close) {
                    out.push(blank(c[j]));
                    j += 1;
                }
                out.push_str("\"\"");
                i = j + close.len();
                continue;
            }
        }
        if c[i] == '"' {
            let mut j = i + 1;
            while j < c.len() && c[j] != '"' {
                if c[j] == '\\' {
                    out.push(' ');
                    j += 1;
                }
                if j < c.len() {
                    out.push(blank(c[j]));
                }
                j += 1;
            }
            out.push_str("\"\"");
            i = j + 1;
            continue;
        }
        // A character literal, not a lifetime: 'x', '\n', '\u{1b}'.
        if c[i] == '\'' {
            let end = if next == Some('\\') {
                c[i + 2..].iter().position(|&q| q == '\'').map(|p| i + 2 + p)
            } else {
                (c.get(i + 2) == Some(&'\'')).then_some(i + 2)
            };
            if let Some(end) = end {
                out.push_str("' '");
                i = end + 1;
                continue;
            }
        }
        out.push(c[i]);
        i += 1;
    }
    out
}
