//! The flags of `tandem exec`, and what its `--help` adds after them.

use std::path::PathBuf;

use clap::Args;

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// The task for the model. `-`, or nothing when stdin is not a terminal,
    /// reads it from stdin.
    #[arg(value_name = "PROMPT")]
    pub prompt: Option<String>,
    /// Print one JSON object per line on stdout, each with a "type" (listed below),
    /// instead of the answer as text.
    #[arg(long)]
    pub json: bool,
    /// Under suggest, write the patch of proposed edits to FILE (default: a new file
    /// under the state directory's exec/ folder).
    #[arg(long, value_name = "FILE")]
    pub patch_out: Option<PathBuf>,
    /// Work in the repository containing DIR (default: the current directory).
    #[arg(short = 'C', long = "cd", value_name = "DIR")]
    pub cd: Option<PathBuf>,
}

/// `tandem exec --help`: policies, events and exit codes.
pub(crate) const EXEC_HELP: &str = "\
Policies (--policy, or [tools] policy):
  suggest    edits are not applied: they go to one patch file (`git apply FILE`
             applies it) whose path is printed; commands run only when read-only
             or allowed by [tools] allow_commands
  auto-edit  edits are written and staged; commands as under suggest
  full-auto  edits are written and staged; every command runs

Output: the answer streams to stdout; tool calls, notes and a summary go to
stderr. With --json, stdout has one JSON object per line:
  turn_started    {}
  text            {text}: the next piece of the answer
  tool_call       {id, name, summary}
  tool_result     {id, ok, summary, elapsed_ms}
  proposal        {files: [{path, new_path, kind, hunks}], patch}: the edits of
                  one round; patch is the patch file under suggest, else null
  decision        {path, outcome, reason, hunks}: outcome is staged, applied
                  (written, not staged), refused or proposed (in the patch)
  permission_refused
                  {kind, title, detail, reason}: a tool asked for leave the
                  policy does not give; reason is what the model was told
  usage           {input_tokens, output_tokens, cache_read_tokens,
                   cache_write_tokens, cost_usd}: cost_usd is null when a price
                  is unknown
  turn_completed  {outcome, message}: completed, cancelled, failed, round_limit
                  or over_budget
  error           {message}

Exit status: 0 the task ran to its end; 1 it failed (the model's provider, the
tool-round limit, a budget, the patch file); 2 bad usage; 3 no model is
configured; 130 interrupted by Ctrl-C (143 by SIGTERM).";
