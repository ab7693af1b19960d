//! Budgets from the configuration's `[budget]` table: what a session may
//! cost, how many turns it may take, and how often a tool may be called per
//! minute. The agent asks before each turn, request and tool call; each
//! answer is fine, a warning (once per budget, from 80%), or a refusal with
//! the reason in words the user and the model can act on.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use super::stats::Cost;
use crate::config::budget::DEFAULT_TOOL_KEY;
use crate::config::{BudgetConfig, ToolCallLimit};

/// The share of a budget at which the user is warned.
pub(crate) const WARN_AT: f64 = 0.8;

/// The window a per-minute limit counts calls in (sliding).
pub(crate) const WINDOW: Duration = Duration::from_secs(60);

/// The limits in force; `None` is no limit.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Limits {
    pub max_cost_usd: Option<f64>,
    pub max_turns: Option<u32>,
    /// Calls per minute of any tool not named in `per_tool`.
    pub tool_calls_per_minute: Option<u32>,
    /// Calls per minute of the named tools (0: no limit for that tool).
    pub per_tool: BTreeMap<String, u32>,
}

impl Limits {
    /// 0 in the configuration means no limit.
    pub fn from_config(c: &BudgetConfig) -> Self {
        let positive = |n: u32| (n > 0).then_some(n);
        let (tool_calls_per_minute, per_tool) = match &c.max_tool_calls_per_minute {
            ToolCallLimit::Every(n) => (positive(*n), BTreeMap::new()),
            ToolCallLimit::PerTool(map) => {
                let mut map = map.clone();
                let default = map.remove(DEFAULT_TOOL_KEY).and_then(positive);
                (default, map)
            }
        };
        Self {
            max_cost_usd: (c.max_cost_usd > 0.0).then_some(c.max_cost_usd),
            max_turns: positive(c.max_turns),
            tool_calls_per_minute,
            per_tool,
        }
    }

    pub(crate) fn any(&self) -> bool {
        self.max_cost_usd.is_some()
            || self.max_turns.is_some()
            || self.tool_calls_per_minute.is_some()
            || self.per_tool.values().any(|n| *n > 0)
    }

    /// The per-minute limit of `tool`, if it has one.
    pub(crate) fn per_minute(&self, tool: &str) -> Option<u32> {
        match self.per_tool.get(tool) {
            Some(0) => None,
            Some(n) => Some(*n),
            None => self.tool_calls_per_minute,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Level {
    Ok,
    /// At least [`WARN_AT`] of the limit is used.
    Warn,
    /// The limit is reached.
    Exceeded,
}

/// How much of `limit` is used when `used` is: under 80% fine, from 80% a
/// warning, from 100% used up.
pub(crate) fn level(used: f64, limit: f64) -> Level {
    if limit <= 0.0 {
        return Level::Ok;
    }
    let share = used / limit;
    if share >= 1.0 {
        Level::Exceeded
    } else if share >= WARN_AT {
        Level::Warn
    } else {
        Level::Ok
    }
}

/// The answer to "may this go ahead?".
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Check {
    Ok,
    /// Go ahead, and tell the user this (said once per budget).
    Warn(String),
    /// Do not go ahead; this is why, and how to allow more.
    Exceeded(String),
}

/// How to allow more of a budget: the user's configuration, as for every
/// other setting.
fn how_to_raise(key: &str) -> String {
    format!(
        "To allow more, raise `{key}` under [budget] in ~/.config/tandem/config.toml or .tandem/config.toml \
         and start tandem again (`tandem config show` shows where it is set now)."
    )
}

/// "once", "twice", "5 times".
fn times(n: u32) -> String {
    match n {
        1 => "once".into(),
        2 => "twice".into(),
        n => format!("{n} times"),
    }
}

fn dollars(c: f64) -> String {
    super::format_cost(Some(c))
}

/// What the session has used of its budgets.
#[derive(Debug, Clone, Default)]
pub(crate) struct Budget {
    limits: Limits,
    turns: u32,
    cost: Cost,
    /// When each tool was called within the last [`WINDOW`].
    calls: HashMap<String, VecDeque<Instant>>,
    /// Budgets whose warning was given.
    warned: HashSet<String>,
}

impl Budget {
    pub fn new(limits: Limits) -> Self {
        Self { limits, ..Self::default() }
    }

    #[cfg(test)]
    pub(crate) fn turns(&self) -> u32 {
        self.turns
    }

    #[cfg(test)]
    pub fn cost(&self) -> Cost {
        self.cost
    }

    fn warn_once(&mut self, key: &str, text: String) -> Check {
        if self.warned.insert(key.to_string()) { Check::Warn(text) } else { Check::Ok }
    }

    /// Before a turn: refused when the session's cost or turns are used up;
    /// otherwise the turn is counted.
    pub(crate) fn start_turn(&mut self) -> Check {
        if let Check::Exceeded(why) = self.check_cost() {
            return Check::Exceeded(why);
        }
        let Some(max) = self.limits.max_turns else {
            self.turns += 1;
            return Check::Ok;
        };
        if self.turns >= max {
            return Check::Exceeded(format!(
                "This session has used all {max} of its turns (budget.max_turns), so the message was not sent \
                 to the model. {}",
                how_to_raise("max_turns")
            ));
        }
        self.turns += 1;
        let turns = self.turns;
        match level(f64::from(turns), f64::from(max)) {
            Level::Ok => Check::Ok,
            Level::Warn => self.warn_once(
                "turns",
                format!("This is turn {turns} of the {max} the session's budget allows (budget.max_turns)."),
            ),
            Level::Exceeded => self.warn_once(
                "turns",
                format!("This is the last of the {max} turns the session's budget allows (budget.max_turns)."),
            ),
        }
    }

    /// Before a request to the model or a round of tool calls: refused once
    /// the priced cost reached the limit.
    pub(crate) fn check_cost(&self) -> Check {
        let Some(max) = self.limits.max_cost_usd else { return Check::Ok };
        if level(self.cost.known, max) == Level::Exceeded {
            return Check::Exceeded(format!(
                "This session has cost {}, reaching its budget of {} (budget.max_cost_usd), so tandem stopped \
                 before the next request to the model. {}",
                dollars(self.cost.known),
                dollars(max),
                how_to_raise("max_cost_usd")
            ));
        }
        Check::Ok
    }

    /// The cost of a request that ended (`None`: a price was unknown).
    pub(crate) fn add_cost(&mut self, cost: Option<f64>) -> Check {
        self.cost.add(cost);
        let Some(max) = self.limits.max_cost_usd else { return Check::Ok };
        if cost.is_none() {
            return self.warn_once(
                "cost-unknown",
                "The cost of a request is unknown: the model's profile has no price for some of its tokens, so \
                 budget.max_cost_usd counts only what is priced. Prices are set per profile (input_price, \
                 output_price, cache_read_price, cache_write_price)."
                    .into(),
            );
        }
        let (spent, limit) = (dollars(self.cost.known), dollars(max));
        match level(self.cost.known, max) {
            Level::Ok => Check::Ok,
            Level::Warn => {
                let pct = (self.cost.known / max * 100.0).floor();
                self.warn_once(
                    "cost",
                    format!("This session has cost {spent}, {pct}% of its budget of {limit} (budget.max_cost_usd)."),
                )
            }
            Level::Exceeded => self.warn_once(
                "cost",
                format!(
                    "This session has cost {spent}, reaching its budget of {limit} (budget.max_cost_usd): tandem \
                     sends the model no further requests."
                ),
            ),
        }
    }

    /// Before calling `tool` at `now`: refused when it was called its
    /// per-minute limit of times in the last minute; otherwise the call is
    /// counted. Refused calls are not counted.
    pub(crate) fn tool_call(&mut self, tool: &str, now: Instant) -> Check {
        let Some(max) = self.limits.per_minute(tool) else { return Check::Ok };
        let calls = self.calls.entry(tool.to_string()).or_default();
        while calls.front().is_some_and(|t| now.saturating_duration_since(*t) >= WINDOW) {
            calls.pop_front();
        }
        if calls.len() >= max as usize {
            let wait = calls.front().map_or(WINDOW, |t| WINDOW.saturating_sub(now.saturating_duration_since(*t)));
            return Check::Exceeded(format!(
                "`{tool}` was not run: it was called {} in the last minute, its limit \
                 (budget.max_tool_calls_per_minute). It can be called again in {} s. The user can raise the \
                 limit under [budget] in the configuration, e.g. `max_tool_calls_per_minute = {{ {tool} = {} }}`.",
                times(max),
                wait.as_secs().max(1),
                max * 2
            ));
        }
        calls.push_back(now);
        let n = calls.len() as u32;
        if level(f64::from(n), f64::from(max)) >= Level::Warn {
            return self.warn_once(
                &format!("tool:{tool}"),
                format!(
                    "`{tool}` has been called {} in the last minute; its limit is {max} a minute \
                     (budget.max_tool_calls_per_minute).",
                    times(n)
                ),
            );
        }
        Check::Ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits::default()
    }

    #[test]
    fn levels_at_79_80_and_100_percent() {
        assert_eq!(level(79.0, 100.0), Level::Ok);
        assert_eq!(level(80.0, 100.0), Level::Warn);
        assert_eq!(level(99.9, 100.0), Level::Warn);
        assert_eq!(level(100.0, 100.0), Level::Exceeded);
        assert_eq!(level(120.0, 100.0), Level::Exceeded);
        assert_eq!(level(3.95, 5.0), Level::Ok);
        assert_eq!(level(4.0, 5.0), Level::Warn);
        assert_eq!(level(8.0, 10.0), Level::Warn);
        assert_eq!(level(1.0, 0.0), Level::Ok, "no limit");
    }

    #[test]
    fn config_zero_means_no_limit() {
        let c = BudgetConfig { max_cost_usd: 0.0, max_turns: 0, max_tool_calls_per_minute: ToolCallLimit::Every(0) };
        let l = Limits::from_config(&c);
        assert!(!l.any());
        assert_eq!(l.per_minute("run_command"), None);
        let c = BudgetConfig {
            max_cost_usd: 2.5,
            max_turns: 3,
            max_tool_calls_per_minute: ToolCallLimit::PerTool(
                [("default".to_string(), 30), ("run_command".into(), 5), ("grep".into(), 0)].into(),
            ),
        };
        let l = Limits::from_config(&c);
        assert_eq!((l.max_cost_usd, l.max_turns), (Some(2.5), Some(3)));
        assert_eq!(l.per_minute("run_command"), Some(5));
        assert_eq!(l.per_minute("read_file"), Some(30));
        assert_eq!(l.per_minute("grep"), None);
    }

    #[test]
    fn turns_warn_at_80_percent_once_and_stop_at_the_limit() {
        let mut b = Budget::new(Limits { max_turns: Some(5), ..limits() });
        for _ in 0..3 {
            assert_eq!(b.start_turn(), Check::Ok);
        }
        // Turn 4 of 5 is 80%.
        let Check::Warn(text) = b.start_turn() else { panic!("a warning at 80%") };
        assert!(text.contains("turn 4 of the 5") && text.contains("budget.max_turns"), "{text}");
        // The fifth runs; its warning was given already.
        assert_eq!(b.start_turn(), Check::Ok);
        let Check::Exceeded(why) = b.start_turn() else { panic!("refused at the limit") };
        assert!(why.contains("all 5 of its turns") && why.contains("max_turns"), "{why}");
        assert_eq!(b.turns(), 5, "a refused turn is not counted");
    }

    #[test]
    fn cost_warns_from_80_percent_and_stops_at_the_limit() {
        let mut b = Budget::new(Limits { max_cost_usd: Some(1.0), ..limits() });
        assert_eq!(b.add_cost(Some(0.79)), Check::Ok);
        assert_eq!(b.check_cost(), Check::Ok);
        let Check::Warn(text) = b.add_cost(Some(0.01)) else { panic!("a warning at 80%") };
        assert!(text.contains("$0.80, 80% of its budget of $1.00"), "{text}");
        assert_eq!(b.add_cost(Some(0.1)), Check::Ok, "warned once");
        assert_eq!(b.check_cost(), Check::Ok);
        b.add_cost(Some(0.1));
        let Check::Exceeded(why) = b.check_cost() else { panic!("stopped at 100%") };
        assert!(why.contains("reaching its budget of $1.00 (budget.max_cost_usd)"), "{why}");
        assert!(why.contains("raise `max_cost_usd` under [budget]"), "{why}");
        let Check::Exceeded(_) = b.start_turn() else { panic!("no new turn over the cost budget") };
    }

    #[test]
    fn jumping_past_the_cost_limit_warns_and_then_stops() {
        let mut b = Budget::new(Limits { max_cost_usd: Some(1.0), ..limits() });
        let Check::Warn(text) = b.add_cost(Some(1.5)) else { panic!("told at once") };
        assert!(text.contains("no further requests"), "{text}");
        assert!(matches!(b.check_cost(), Check::Exceeded(_)));
    }

    #[test]
    fn unknown_cost_is_said_once_and_not_counted() {
        let mut b = Budget::new(Limits { max_cost_usd: Some(1.0), ..limits() });
        assert!(matches!(b.add_cost(None), Check::Warn(t) if t.contains("unknown")));
        assert_eq!(b.add_cost(None), Check::Ok);
        assert_eq!(b.check_cost(), Check::Ok);
        assert!(b.cost().unknown);
        // Without a cost budget nothing is said.
        let mut b = Budget::new(limits());
        assert_eq!(b.add_cost(None), Check::Ok);
    }

    #[test]
    fn per_tool_per_minute_window_slides() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut b = Budget::new(Limits { per_tool: [("run_command".to_string(), 5)].into(), ..limits() });
        for i in 0..3 {
            assert_eq!(b.tool_call("run_command", t0 + s(i)), Check::Ok, "call {i}");
        }
        // The fourth call of five is 80%.
        assert!(matches!(b.tool_call("run_command", t0 + s(3)), Check::Warn(t) if t.contains("limit is 5")));
        assert_eq!(b.tool_call("run_command", t0 + s(4)), Check::Ok);
        let Check::Exceeded(why) = b.tool_call("run_command", t0 + s(30)) else { panic!("over the limit") };
        assert!(why.contains("`run_command` was not run"), "{why}");
        assert!(why.contains("budget.max_tool_calls_per_minute"), "{why}");
        assert!(why.contains("again in 30 s"), "{why}");
        // Other tools have no limit.
        for _ in 0..100 {
            assert_eq!(b.tool_call("read_file", t0 + s(30)), Check::Ok);
        }
        // A minute after the first call, one slot is free again.
        assert_eq!(b.tool_call("run_command", t0 + s(60)), Check::Ok);
        assert!(matches!(b.tool_call("run_command", t0 + s(60)), Check::Exceeded(_)));
        // Refused calls were not counted: after the window, all five are free.
        for i in 0..5 {
            assert!(!matches!(b.tool_call("run_command", t0 + s(130 + i)), Check::Exceeded(_)), "call {i}");
        }
    }

    #[test]
    fn a_limit_for_every_tool_counts_each_tool_apart() {
        let t0 = Instant::now();
        let mut b = Budget::new(Limits { tool_calls_per_minute: Some(1), ..limits() });
        // One call of one is 100%: allowed, with the warning.
        assert!(matches!(b.tool_call("grep", t0), Check::Warn(_)));
        assert!(matches!(b.tool_call("read_file", t0), Check::Warn(_)));
        assert!(matches!(b.tool_call("grep", t0), Check::Exceeded(_)));
    }
}
