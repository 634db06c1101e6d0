"""Run the benchmarks: ``python -m benchmarks [--json] [--only NAME]``.

Every ``benchmarks/bench_*.py`` module exposing ``run() -> dict`` is discovered and run
in name order; ``--json`` prints one JSON object ``{module: results}``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
import time
import traceback
from pathlib import Path
from typing import Any

PACKAGE = Path(__file__).resolve().parent


def discover() -> list[str]:
    """Names (``wire``, ``fakes``, ...) of the modules ``bench_<name>.py`` in this folder."""
    return sorted(m.name[len("bench_"):] for m in pkgutil.iter_modules([str(PACKAGE)])
                  if m.name.startswith("bench_") and not m.ispkg)


def run_one(name: str) -> dict[str, Any]:
    module = importlib.import_module(f"{__package__ or 'benchmarks'}.bench_{name}")
    fn = getattr(module, "run", None)
    if not callable(fn):
        return {"error": f"benchmarks/bench_{name}.py has no run() function"}
    result = fn()
    if not isinstance(result, dict):
        return {"error": f"run() returned {type(result).__name__}, expected dict"}
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object {module: results}")
    parser.add_argument("--only", metavar="NAME", action="append",
                        help="run only this benchmark (wire or bench_wire); repeatable")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)

    names = discover()
    if args.list:
        print("\n".join(names))
        return 0
    if args.only:
        wanted = [n.removeprefix("bench_").removesuffix(".py") for n in args.only]
        unknown = [n for n in wanted if n not in names]
        if unknown:
            parser.error(f"no benchmark named {', '.join(unknown)} (have: {', '.join(names) or 'none'})")
        names = wanted

    results: dict[str, Any] = {}
    failed = False
    for name in names:
        if not args.json:
            print(f"== {name}", file=sys.stderr, flush=True)
        started = time.perf_counter()
        try:
            results[name] = run_one(name)
        except Exception as exc:  # noqa: BLE001 (one broken benchmark must not hide the others)
            failed = True
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
            traceback.print_exc()
        results[name].setdefault("wall_s", round(time.perf_counter() - started, 2))
        if not args.json:
            print(json.dumps(results[name], indent=2, ensure_ascii=False), flush=True)
    if args.json:
        print(json.dumps(results, indent=2, ensure_ascii=False))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
