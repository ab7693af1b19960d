#!/usr/bin/env python3
"""Aider's repo map on the commits chosen by examples/map_quality (the baseline).

usage: aider_map.py GITDIR TANDEM.jsonl [--budgets 1024,4096] [--out AIDER.jsonl]

For each line of TANDEM.jsonl (written by `map_quality --out`): checks out the
parent tree into a temporary directory, builds Aider's map the way Aider's coder
does for a chat holding the focus file and a user message equal to the commit
subject, and counts how many of the other changed files the map lists.

How Aider is driven (aider-chat's own code, imported from the venv):
- `aider.repomap.RepoMap(map_tokens, root, main_model, io, max_context_window=128000)`,
  then `get_repo_map(chat_files={focus}, other_files=every other tracked file, ...)`,
  with the coder's two fallbacks when that returns nothing (coders/base_coder.py).
  Other files are all files git tracks in the parent, as Aider passes them, so
  README/Cargo.toml ("important files") and non-Rust files compete for the budget.
- Mentions come from the coder's own methods, called on a stand-in object:
  `get_file_mentions`, `get_ident_mentions`, `get_ident_filename_matches`.
- Token counting: Aider counts with litellm's tokenizer for the model (cl100k_base
  for gpt-4o, offline from litellm's bundled files). The stand-in model here counts
  with tiktoken's o200k_base instead, the encoding tandem's budget uses, so both
  maps are held to the same budget. The o200k file is read from litellm's bundled
  tiktoken cache (no network). Aider accepts a map up to 15% over its budget; that
  tolerance is Aider's and is kept.
- The tags cache is an in-memory dict (no `.aider.tags.cache` on disk).

A file counts as listed when a map line, minus one trailing ':', is its path:
"path:" heads a block of definitions, a bare "path" line is a file Aider lists
without definitions. Both count; `hits_defs` counts only the former.
"""
import argparse, json, os, subprocess, sys, tempfile, time

os.environ.setdefault("TQDM_DISABLE", "1")  # Aider's "Scanning repo" progress bar

import importlib.util

# tiktoken reads o200k_base from litellm's bundled copy instead of downloading it.
_litellm = importlib.util.find_spec("litellm")
if _litellm and _litellm.submodule_search_locations:
    os.environ.setdefault(
        "TIKTOKEN_CACHE_DIR",
        os.path.join(_litellm.submodule_search_locations[0], "litellm_core_utils", "tokenizers"),
    )

import tiktoken  # noqa: E402
from aider.coders.base_coder import Coder  # noqa: E402
from aider.io import InputOutput  # noqa: E402
from aider.repomap import RepoMap  # noqa: E402

CONTEXT_WINDOW = 128000  # gpt-4o's; only matters in the no-chat-files fallback


class O200k:
    """The part of aider.models.Model that RepoMap uses."""

    def __init__(self):
        self.enc = tiktoken.get_encoding("o200k_base")

    def token_count(self, text):
        if not isinstance(text, str):
            text = json.dumps(text)
        return len(self.enc.encode(text, disallowed_special=()))


class QuietIO(InputOutput):
    def __init__(self):
        super().__init__(pretty=False, yes=True, fancy_input=False)

    def tool_output(self, *a, **k):
        pass

    def tool_warning(self, *a, **k):
        pass

    def tool_error(self, *a, **k):
        pass


class MemoryCacheRepoMap(RepoMap):
    def load_tags_cache(self):
        self.TAGS_CACHE = dict()


class CoderStandIn:
    """Just enough of a Coder for its mention-finding methods."""

    def __init__(self, root, rel_files, focus):
        self.root = root
        self.rel_files = sorted(set(rel_files))
        self.abs_fnames = {os.path.join(root, focus)}
        self.abs_read_only_fnames = []

    def get_rel_fname(self, fname):
        return os.path.relpath(fname, self.root)

    def get_all_relative_files(self):
        return self.rel_files

    def get_inchat_relative_files(self):
        return sorted(self.get_rel_fname(f) for f in self.abs_fnames)

    def get_addable_relative_files(self):
        return set(self.rel_files) - set(self.get_inchat_relative_files())


def git(gitdir, *args, env=None):
    return subprocess.run(
        ["git", "--git-dir", gitdir, *args], check=True, capture_output=True, env=env
    ).stdout


def checkout(gitdir, rev, root):
    """Writes the tree of `rev` into `root`; returns the tracked paths."""
    env = dict(os.environ, GIT_INDEX_FILE=os.path.join(root, ".bench-index"))
    git(gitdir, "--work-tree", root, "read-tree", rev, env=env)
    git(gitdir, "--work-tree", root, "checkout-index", "-a", "-f", env=env)
    os.remove(env["GIT_INDEX_FILE"])
    out = git(gitdir, "ls-tree", "-r", "-z", "--name-only", rev)
    return [p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p]


def aider_map(rm, root, tracked, focus, subject, tokens):
    """Aider's map; `rm` is one RepoMap per checkout, so tags are parsed once for all budgets."""
    rm.max_map_tokens = tokens
    coder = CoderStandIn(root, tracked, focus)
    text = subject + "\n"  # Coder.get_cur_message_text
    mentioned_fnames = Coder.get_file_mentions(coder, text)
    mentioned_idents = Coder.get_ident_mentions(coder, text)
    mentioned_fnames.update(Coder.get_ident_filename_matches(coder, mentioned_idents))
    all_abs = {os.path.join(root, f) for f in tracked}
    chat = set(coder.abs_fnames)
    out = rm.get_repo_map(chat, all_abs - chat, mentioned_fnames, mentioned_idents)
    if not out:
        out = rm.get_repo_map(set(), all_abs, mentioned_fnames, mentioned_idents)
    if not out:
        out = rm.get_repo_map(set(), all_abs)
    return out or ""


def listed_files(text, tracked):
    """Paths the map lists: (with definitions, bare)."""
    tracked = set(tracked)
    with_defs, bare = [], []
    for line in text.splitlines():
        if line.endswith(":") and line[:-1] in tracked:
            with_defs.append(line[:-1])
        elif line in tracked:
            bare.append(line)
    return with_defs, bare


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("gitdir")
    ap.add_argument("cases", help="JSONL written by map_quality --out")
    ap.add_argument("--budgets", help="comma-separated; default: those in the JSONL")
    ap.add_argument("--out", help="per-commit JSONL")
    ap.add_argument("--dump-maps", help="directory to write each map's text to")
    args = ap.parse_args()

    cases = [json.loads(line) for line in open(args.cases) if line.strip()]
    if args.budgets:
        budgets = [int(b) for b in args.budgets.split(",")]
    else:
        budgets = [b["tokens"] for b in cases[0]["budgets"]] if cases else []
    model, io = O200k(), QuietIO()
    out = open(args.out, "w") if args.out else None
    totals = {b: [0, 0, 0.0] for b in budgets}
    started = time.time()
    for n, case in enumerate(cases):
        with tempfile.TemporaryDirectory(prefix="aider_map.") as root:
            tracked = checkout(args.gitdir, case["parent"], root)
            tracked = [f for f in tracked if os.path.isfile(os.path.join(root, f))]
            rm = MemoryCacheRepoMap(
                map_tokens=budgets[0], root=root, main_model=model, io=io, max_context_window=CONTEXT_WINDOW
            )
            record = {"sha": case["sha"], "focus": case["focus"], "others": case["others"], "budgets": []}
            for b in budgets:
                text = aider_map(rm, root, tracked, case["focus"], case["subject"], b)
                with_defs, bare = listed_files(text, tracked)
                listed = set(with_defs) | set(bare)
                hits = [o for o in case["others"] if o in listed]
                t = totals[b]
                t[0] += len(hits)
                t[1] += len(case["others"])
                t[2] += len(hits) / len(case["others"])
                record["budgets"].append(
                    {
                        "tokens": b,
                        "map_tokens": model.token_count(text),
                        "files": len(listed),
                        "hits": hits,
                        "hits_defs": [o for o in case["others"] if o in set(with_defs)],
                    }
                )
                if args.dump_maps:
                    os.makedirs(args.dump_maps, exist_ok=True)
                    with open(os.path.join(args.dump_maps, f"{case['sha'][:10]}.{b}.txt"), "w") as f:
                        f.write(text)
            if out:
                out.write(json.dumps(record) + "\n")
                out.flush()
        print(f"\r{n + 1}/{len(cases)} commits", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    print(f"commits: {len(cases)}")
    for b in budgets:
        hits, others, share_sum = totals[b]
        micro = hits / others if others else 0.0
        macro = share_sum / len(cases) if cases else 0.0
        print(f"budget {b}: share {micro:.3f} ({hits} of {others} files), per-commit mean {macro:.3f}")
    print(f"seconds: {time.time() - started:.1f}")


if __name__ == "__main__":
    main()
