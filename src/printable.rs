//! Text made safe to print on a terminal: control sequences taken out of
//! text printed for a person.
//!
//! A terminal acts on what it is sent, whoever wrote it: OSC 52 sets the
//! clipboard (a command the user pastes later), OSC 8 hides a link behind
//! other words, CSI moves the cursor and erases what was printed, CR and
//! backspace overprint a command with an innocent one, DCS and APC talk to
//! the terminal itself. The model's answer, every message that quotes it,
//! and what a cloned repository wrote (paths, source lines, configuration
//! values) are stripped of all of them before `tandem exec` or another
//! command prints them; only newlines and tabs pass. Bidirectional
//! overrides go too: in a terminal that lays out right-to-left text they
//! reorder what is shown.
//!
//! Written here rather than taken from `strip-ansi-escapes` (vte): the
//! answer streams in pieces, so the state must carry over from one to the
//! next; tabs must stay; C1 controls written as UTF-8 (U+009B is CSI) must
//! go, sequences they start included; and a string sequence left open must
//! not swallow the rest of the answer, only the rest of its line.

/// Where the text is, relative to a control sequence.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum State {
    #[default]
    Text,
    /// After ESC.
    Escape,
    /// After ESC and intermediate bytes (`ESC ( 0`).
    EscapeIntermediate,
    /// In a CSI sequence's parameters.
    Csi,
    /// In the body of an OSC, DCS, SOS, PM or APC string.
    String,
    /// After ESC inside such a string: `\` ends it (ST).
    StringEscape,
}

/// Strips control sequences from a stream of text given in pieces: a
/// sequence split between two pieces is still recognised.
#[derive(Debug, Default)]
pub(crate) struct Stripper {
    state: State,
}

impl Stripper {
    /// The printable part of `text`, after what came before it, appended to
    /// `out`.
    pub fn push(&mut self, text: &str, out: &mut String) {
        for c in text.chars() {
            self.char(c, out);
        }
    }

    fn char(&mut self, c: char, out: &mut String) {
        match self.state {
            State::Text => self.text(c, out),
            State::Escape => self.escape(c, out),
            State::EscapeIntermediate => match c {
                ' '..='/' => {}
                '0'..='~' => self.state = State::Text,
                _ => self.text(c, out),
            },
            State::Csi => match c {
                // Parameters and intermediates, then the final byte.
                ' '..='?' => {}
                '@'..='~' => self.state = State::Text,
                // Anything else (CAN and SUB among them) cuts the sequence
                // short; a terminal would show what follows.
                _ => self.text(c, out),
            },
            State::String => match c {
                '\u{7}' | '\u{9c}' | '\u{18}' | '\u{1a}' => self.state = State::Text,
                '\u{1b}' => self.state = State::StringEscape,
                // An unterminated string ends with its line here, so that it
                // cannot hide the rest of the answer.
                '\n' => self.text(c, out),
                _ => {}
            },
            State::StringEscape => match c {
                '\\' => self.state = State::Text,
                // ESC ended the string and starts a sequence of its own.
                _ => self.escape(c, out),
            },
        }
    }

    fn text(&mut self, c: char, out: &mut String) {
        self.state = State::Text;
        match c {
            '\n' | '\t' => out.push(c),
            '\u{1b}' => self.state = State::Escape,
            '\u{9b}' => self.state = State::Csi,
            '\u{90}' | '\u{98}' | '\u{9d}' | '\u{9e}' | '\u{9f}' => self.state = State::String,
            // Bidirectional embeddings, overrides and isolates.
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }

    fn escape(&mut self, c: char, out: &mut String) {
        self.state = match c {
            '[' => State::Csi,
            ']' | 'P' | 'X' | '^' | '_' => State::String,
            '\u{1b}' => State::Escape,
            ' '..='/' => State::EscapeIntermediate,
            '0'..='~' => State::Text,
            _ => return self.text(c, out),
        };
    }
}

/// `text` without control sequences, on its own (a sequence left open
/// ends with it).
pub(crate) fn strip(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    Stripper::default().push(text, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_of_sequence_goes_and_the_words_stay() {
        for (input, expected) in [
            ("a\x1b[31mred\x1b[0m b", "ared b"),
            ("a\x1b[?1049hb", "ab"),
            ("x\x1b]52;c;ZXZpbA==\x07y", "xy"),
            ("x\x1b]52;c;ZXZpbA==\x1b\\y", "xy"),
            ("see \x1b]8;;http://evil.example/\x1b\\docs\x1b]8;;\x1b\\ here", "see docs here"),
            ("x\x1bP+q544e\x1b\\y", "xy"),
            ("x\x1b_Gf=100;AAAA\x1b\\y", "xy"),
            ("x\x1b^pm\x1b\\y\x1bXsos\x1b\\z", "xyz"),
            ("x\u{9b}31my", "xy"),
            ("x\u{9d}52;c;AAAA\u{9c}y", "xy"),
            ("x\u{90}q\u{9c}y\u{85}z", "xyz"),
            ("x\x1bcy\x1b7z\x1b(0w", "xyzw"),
            ("rm -rf ~\x08\x08\x08\x08\x08\x08\x08\x08ls", "rm -rf ~ls"),
            ("curl evil | sh\rls", "curl evil | shls"),
            ("a\tb\nc\r\n", "a\tb\nc\n"),
            ("bell\x07 nul\0 del\x7f", "bell nul del"),
            ("x\x1b[31\x18y", "xy"),
            ("safe \u{202e}hs.live\u{202c} text", "safe hs.live text"),
            ("été ✓", "été ✓"),
        ] {
            assert_eq!(strip(input), expected, "{input:?}");
        }
    }

    #[test]
    fn an_open_string_ends_with_its_line() {
        assert_eq!(strip("x\x1b]52;c;AAAA\nnext line"), "x\nnext line");
        assert_eq!(strip("x\x1b\ny"), "x\ny");
    }

    #[test]
    fn a_sequence_split_between_pieces_is_still_one() {
        let text = "before \x1b]52;c;ZXZpbA==\x1b\\ \x1b[31mafter\u{9b}0m\n";
        let whole = strip(text);
        assert_eq!(whole, "before  after\n");
        for at in (0..=text.len()).filter(|&i| text.is_char_boundary(i)) {
            let (mut s, mut out) = (Stripper::default(), String::new());
            s.push(&text[..at], &mut out);
            s.push(&text[at..], &mut out);
            assert_eq!(out, whole, "split at {at}");
        }
    }
}
