"""The ``replaystream`` command line.

Exit codes scripts can rely on: 0 success; 1 a finding or failure (a secret, a damaged
cassette, drift, a file that cannot be written); 2 a usage error (bad arguments, a path
that does not exist, a folder or a vcrpy cassette where a replaystream cassette is needed,
an optional extra the command needs that is not installed).
Every error is one message on stderr, never a traceback. Output cut short by a closed pipe
(``| head``) ends quietly with 141, as for a tool the pipe's SIGPIPE stops.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from .errors import MissingExtraError, ReplayStreamError, require_extras

EXIT_OK, EXIT_FINDING, EXIT_USAGE = 0, 1, 2
EXIT_PIPE, EXIT_INTERRUPTED = 141, 130  # 128 + SIGPIPE / SIGINT, as the shell reports them


class CommandUsageError(ReplayStreamError):
    """A path or argument the command cannot use (exit 2); the message says which and why."""


def need_path(path: Path, *, folder: bool = False, cassette: bool = True, several: bool = False) -> Path:
    """``path`` if the command can use it: it exists, is a file (or ``folder`` allows a
    folder) and, with ``cassette``, is not a vcrpy cassette (those are imported first).
    ``several``: the command takes several files (the message suggests a glob)."""
    from .review.checks import looks_like_vcrpy

    if not path.exists():
        raise CommandUsageError(f"{path}: no such file or folder")
    if path.is_dir() and not folder:
        glob = path / ("*.json" if cassette else "*.yaml")
        which = f"name the files, e.g. {glob}" if several else "name one file in it"
        raise CommandUsageError(f"{path}: is a folder, not a {'cassette' if cassette else 'source'} file ({which})")
    if cassette and path.is_file() and looks_like_vcrpy(path):
        dest = path.with_suffix(".json") if path.suffix.lower() != ".json" else "DEST.json"
        raise CommandUsageError(f"{path}: this looks like a vcrpy cassette: run "
                                f"`replaystream import {path} {dest}` to convert it first")
    return path


def _cmd_demo(args: argparse.Namespace) -> int:
    from .tutorial.demo import run_demo

    return run_demo(cassette_dir=Path(args.cassettes) if args.cassettes else None, sections=args.section)


def _cmd_inspect(args: argparse.Namespace) -> int:
    from .cassette.model import Cassette
    from .review.inspection import PLOT_FEATURE, describe, plot

    if args.limit < 0:
        raise CommandUsageError(f"--limit {args.limit}: give a number of events, 0 for all")
    if args.plot:
        require_extras(PLOT_FEATURE, "plot")  # before any output: a command that cannot finish prints nothing
    cassette = Cassette.load(need_path(Path(args.cassette)))
    print(describe(cassette, args.limit))
    if args.plot:
        print(f"\ntimeline written to {plot(cassette, Path(args.plot))}")
    return EXIT_OK


def _cmd_check(args: argparse.Namespace) -> int:
    from .review.checks import cassette_files, check_file, looks_like_vcrpy
    from .wire.scrub import env_secret_values

    paths = [need_path(Path(p), folder=True) for p in args.paths]
    files = cassette_files(paths)
    if not files:
        vcr = [f for p in paths for f in p.rglob("*.y*ml") if looks_like_vcrpy(f)]
        hint = f"; {len(vcr)} vcrpy cassette(s) there: convert them with `replaystream import SRC... DEST`" if vcr else ""
        raise CommandUsageError("no cassettes found in " + ", ".join(args.paths) + hint)
    if args.drift:
        return _drift(files, args)
    values = tuple(env_secret_values())
    allow = list(args.allow or [])
    for name in args.allow_file or []:
        lines = need_path(Path(name), cassette=False).read_text("utf-8").splitlines()
        allow += [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    for pattern in allow:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise CommandUsageError(f"--allow {pattern!r}: not a regular expression ({exc})") from None
    findings = [f for path in files for f in check_file(path, values, allow)]
    for finding in findings:
        print(finding)
    status = f"{len(files)} cassette(s) checked, {len(findings)} finding(s)"
    print(status, file=sys.stderr if findings else sys.stdout)
    return EXIT_FINDING if findings else EXIT_OK


def _cmd_scrub(args: argparse.Namespace) -> int:
    from .review.checks import cassette_files, scrub_file
    from .wire.scrub import Scrubber

    paths = [need_path(Path(p), folder=True, several=True) for p in args.paths]  # all checked first
    files = cassette_files(paths)
    if not files:
        raise CommandUsageError("no cassettes found in " + ", ".join(args.paths))
    scrubber = Scrubber(extra_values=tuple(args.value or ()), extra_fields=tuple(args.field or ()),
                        extra_headers=tuple(args.header or ()))
    changed = 0
    for path in files:
        places = scrub_file(path, scrubber, write=not args.dry_run)
        changed += bool(places)
        verb = "would scrub" if args.dry_run else "scrubbed"
        print(f"{path}: {verb} {len(places)} place(s): {', '.join(places[:6])}{' ...' if len(places) > 6 else ''}"
              if places else f"{path}: nothing to scrub")
    print(f"{len(files)} cassette(s), {changed} {'to rewrite' if args.dry_run else 'rewritten'}")
    return EXIT_FINDING if args.dry_run and changed else EXIT_OK


def _drift(files: list[Path], args: argparse.Namespace) -> int:
    from .cassette.model import Cassette
    from .emulator.drift import DriftUnavailable, check_cassette

    drifted = failed = 0
    for path in files:
        try:
            results = check_cassette(Cassette.load(path), base_url=args.drift_base_url, live=args.live)
        except DriftUnavailable as exc:
            print(f"replaystream check --drift: cannot run: {exc}", file=sys.stderr)
            return EXIT_USAGE
        for r in results:
            where = f"{path}: interaction {r.index} ({r.target})"
            if r.error:
                failed += 1
                print(f"{where}: error: {r.error}")
            elif r.differences:
                drifted += 1
                print(f"{where}: shape drift")
                for line in r.differences:
                    print(f"    {line}")
            else:
                print(f"{where}: same shape")
    status = f"{drifted} interaction(s) drifted" + (f", {failed} answered with an HTTP error" if failed else "")
    print(status, file=sys.stderr if drifted or failed else sys.stdout)
    return EXIT_FINDING if drifted or failed else EXIT_OK


def _cmd_import(args: argparse.Namespace) -> int:
    from .importers import convert

    dest = Path(args.dest)
    sources = [need_path(Path(s), cassette=False, several=True) for s in args.src]
    if len(sources) > 1 or dest.is_dir():
        outs = [convert(src, dest / (src.stem + ".json")) for src in sources]
    else:
        outs = [convert(sources[0], dest)]
    for cassette in outs:
        n_events = sum(len(i.response.events or []) for i in cassette.interactions)
        print(f"{cassette.path}: {len(cassette.interactions)} interaction(s), {n_events} event(s)")
    return EXIT_OK


def _cmd_upgrade(args: argparse.Namespace) -> int:
    import json

    from .cassette.model import Cassette
    from .cassette.upgrade import CURRENT, document_version

    paths = [need_path(Path(name), several=True) for name in args.paths]  # all checked before any is rewritten
    for path in paths:
        cassette = Cassette.load(path)  # any damage is a CassetteError naming the spot
        version = document_version(json.loads(path.read_bytes()), path)
        if version == CURRENT:
            print(f"{path}: already version {CURRENT}")
            continue
        cassette.save(path)  # atomic
        print(f"{path}: version {version} -> {CURRENT}")
    return EXIT_OK


def _cmd_serve(args: argparse.Namespace) -> int:
    import contextlib
    import functools

    from .cassette.model import Cassette
    from .emulator.server import ProviderEmulator
    from .options import SESSION_KEYS, Layer, OptionsError, resolve_options

    given = {"--pacing": ("pacing", args.pacing), "--fault": ("faults", args.fault),
             "--ignore-field": ("ignore_fields", args.ignore_field),
             "--match-header": ("match_headers", args.match_header),
             "--repeat": ("allow_repeats", args.repeat or None)}
    try:  # checked as use_cassette and the pytest plugin check them
        options = resolve_options(*(Layer(flag, {key: value}, SESSION_KEYS)
                                    for flag, (key, value) in given.items() if value is not None))
    except OptionsError as exc:
        print(f"replaystream serve: {exc}", file=sys.stderr)
        return EXIT_USAGE
    cassette = Cassette.load(need_path(Path(args.cassette)))
    emulator = ProviderEmulator(port=args.port)
    with contextlib.ExitStack() as stack:
        log = None
        if args.log == "-":
            log = functools.partial(print, flush=True)
        elif args.log:
            out = stack.enter_context(open(args.log, "a", encoding="utf-8", buffering=1))  # a line at a time
            log = functools.partial(print, file=out)
        emulator.serve_cassette(cassette, pacing=options.pacing, match=options.match, faults=options.faults,
                                allow_repeats=options.allow_repeats, log=log)
        emulator.start()
        print(f"serving {args.cassette} ({len(cassette.interactions)} interaction(s)) at {emulator.base_url}  "
              "(Ctrl-C to stop)", flush=True)
        try:
            emulator.wait()
        except KeyboardInterrupt:
            pass
        finally:
            emulator.stop()
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    from .review.inspection import DEFAULT_LIMIT

    parser = argparse.ArgumentParser(prog="replaystream", description=__doc__.splitlines()[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("demo", help="replay the shipped streaming-tutorial cassettes, offline")
    p.add_argument("--cassettes", help="folder of tutorial cassettes (default: the shipped ones)")
    p.add_argument("--section", action="append", help="run only this section (repeatable)")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("inspect", help="show a cassette's interactions, event timeline, assembled text and tool calls")
    p.add_argument("cassette")
    p.add_argument("--limit", type=int, default=DEFAULT_LIMIT, metavar="N",
                   help=f"event rows per interaction: the first and last N/2 (default {DEFAULT_LIMIT}); "
                        "0 shows every event and the full texts")
    p.add_argument("--plot", metavar="OUT.png", help="also draw the event timeline (needs the [plot] extra)")
    p.set_defaults(func=_cmd_inspect)

    p = sub.add_parser("check", help="validate cassettes and scan them for secrets (exit 1 on a finding)")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--drift", action="store_true",
                   help="re-send each recorded request and report changes in stream shape (exit 1 on drift)")
    p.add_argument("--live", action="store_true",
                   help="with --drift: allow requests to the real provider APIs (needs the API key variables)")
    p.add_argument("--drift-base-url", metavar="URL",
                   help="with --drift: send to this server instead (e.g. replaystream serve's "
                        "http://127.0.0.1:PORT); the recorded path (/v1/...) is appended, so the URL may end "
                        "in /v1 or not")
    p.add_argument("--allow", action="append", metavar="REGEX",
                   help="a known false positive: a found value this regular expression matches is not reported "
                        "(repeatable)")
    p.add_argument("--allow-file", action="append", metavar="FILE",
                   help="read --allow patterns from FILE, one per line (# comments), e.g. a committed "
                        ".replaystream-allow")
    p.set_defaults(func=_cmd_check)

    p = sub.add_parser("scrub", help="apply today's secret scrubbing to cassettes already written (rewrites them)")
    p.add_argument("paths", nargs="+", metavar="PATH", help="cassette files or folders")
    p.add_argument("--value", action="append", metavar="SECRET", help="also scrub this value (repeatable)")
    p.add_argument("--field", action="append", metavar="NAME",
                   help="also treat this query, form or JSON field as a credential (repeatable)")
    p.add_argument("--header", action="append", metavar="NAME", help="also drop this header (repeatable)")
    p.add_argument("--dry-run", action="store_true",
                   help="report what would change, write nothing (exit 1 if anything would)")
    p.set_defaults(func=_cmd_scrub)

    p = sub.add_parser("import", help="convert vcrpy / pytest-recording cassettes (and raw SSE bodies)")
    p.add_argument("src", nargs="+", metavar="SRC")
    p.add_argument("dest", metavar="DEST", help="output file, or a folder when several sources are given")
    p.set_defaults(func=_cmd_import)

    p = sub.add_parser("upgrade", help="rewrite cassettes of an older format version to the current one")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.set_defaults(func=_cmd_upgrade)

    p = sub.add_parser("serve", help="serve a cassette over HTTP on 127.0.0.1, as the provider would")
    p.add_argument("cassette")
    p.add_argument("--port", type=int, default=0, help="port (default: any free one)")
    p.add_argument("--pacing", help="instant (default), recorded, or a speed factor")
    p.add_argument("--fault", action="append", metavar="SPEC",
                   help="inject a deterministic fault, e.g. disconnect:after=5, status:429:retry_after=0.1, "
                        "malformed:at=3, delay:at=2:seconds=1 (repeatable)")
    p.add_argument("--repeat", action="store_true",
                   help="answer a request sent more often than recorded with its last recording again")
    p.add_argument("--log", metavar="FILE",
                   help="append a line per request (method, path, the interaction that answered or the miss); - for stdout")
    p.add_argument("--ignore-field", action="append", metavar="PATH",
                   help="leave a volatile request body field out of matching, e.g. metadata.user_id (repeatable)")
    p.add_argument("--match-header", action="append", metavar="NAME",
                   help="also match on this request header, e.g. anthropic-beta (repeatable)")
    p.set_defaults(func=_cmd_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        try:
            code = int(args.func(args))
            sys.stdout.flush()  # inside the try: a pipe closed early fails here, not at exit
            return code
        except (CommandUsageError, MissingExtraError) as exc:  # MissingExtraError: nothing was done or found
            return _fail(args, exc, EXIT_USAGE)
        except ReplayStreamError as exc:
            return _fail(args, exc, EXIT_FINDING)
        except KeyboardInterrupt:
            return EXIT_INTERRUPTED
        except BrokenPipeError:
            raise
        except OSError as exc:  # a file that cannot be read or written
            where = f"{exc.filename}: " if exc.filename else ""
            return _fail(args, f"{where}{exc.strerror or exc}", EXIT_FINDING)
    except BrokenPipeError:
        _stdout_to_devnull()
        return EXIT_PIPE


def _fail(args: argparse.Namespace, message: object, code: int) -> int:
    print(f"replaystream {args.command}: {message}", file=sys.stderr)
    return code


def _stdout_to_devnull() -> None:
    # The reader is gone: point stdout at /dev/null so the flush at interpreter exit
    # cannot raise again (the recipe of the Python docs' "Note on SIGPIPE").
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout without a file descriptor (captured)
        pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
