"""Mutation-test one pure rule module with cosmic-ray and list the mutants that survived.

    make mutation MODULE=services/leads/leads/cadence.py TESTS=tests/unit/leads_rules/test_cadence.py

cosmic-ray runs from its own virtualenv (``.venv-mutation``, its dependencies would clash with
the project's pins) and mutates the module in place, one mutant at a time, running the given
tests with the project's own ``.venv`` against each. A survivor that changes behaviour is a
missing test; one that cannot (an equivalent mutant) is listed in the note with why.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("module", help="path of the module to mutate")
    parser.add_argument("tests", nargs="+", help="test files or directories that cover it")
    parser.add_argument("--cosmic-ray", default=str(ROOT / ".venv-mutation" / "bin" / "cosmic-ray"))
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per mutant")
    args = parser.parse_args(argv)

    work = ROOT / "var" / "mutation" / Path(args.module).stem
    work.mkdir(parents=True, exist_ok=True)
    config, session = work / "config.toml", work / "session.sqlite"
    session.unlink(missing_ok=True)
    pytest = ROOT / ".venv" / "bin" / "pytest"
    tests = " ".join(args.tests)
    config.write_text(
        "[cosmic-ray]\n"
        f'module-path = "{args.module}"\n'
        f"timeout = {args.timeout}\n"
        "excluded-modules = []\n"
        f'test-command = "{pytest} -x -q -p no:cacheprovider {tests}"\n'
        "[cosmic-ray.distributor]\n"
        'name = "local"\n',
        encoding="utf-8",
    )
    cr = args.cosmic_ray
    subprocess.run([cr, "init", str(config), str(session)], check=True, cwd=ROOT)
    subprocess.run([cr, "baseline", str(config)], check=True, cwd=ROOT)
    subprocess.run([cr, "exec", str(config), str(session)], check=True, cwd=ROOT)
    dump = subprocess.run([cr, "dump", str(session)], check=True, cwd=ROOT, capture_output=True,
                          text=True).stdout
    total = survived = 0
    for line in dump.splitlines():
        job, result = json.loads(line)
        if result is None:
            continue
        total += 1
        if result.get("test_outcome") == "survived":
            survived += 1
            for mutation in job["mutations"]:
                print(f"SURVIVED {mutation['module_path']}:{mutation['start_pos'][0]} "
                      f"{mutation['operator_name']} #{mutation['occurrence']}")
            print(result.get("diff", ""))
    killed = total - survived
    print(f"\n{args.module}: {total} mutants, {killed} killed, {survived} survived "
          f"({100 * killed / total if total else 100:.1f} % killed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
