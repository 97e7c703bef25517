#!/usr/bin/env python3
"""Exit 0 if every requirement in a requirements file is installed at an accepted version, else 1.

Used by scripts/deps.sh so that pip (and the network) is only touched when something is missing.
Understands plain `name`, `name[extra]` and `name<specifiers>` lines; comments and blank lines are skipped.
Prints what is missing or at the wrong version.
"""
import re
import sys
from importlib import metadata

try:
    from packaging.requirements import Requirement
except ImportError:  # pip always carries a copy
    try:
        from pip._vendor.packaging.requirements import Requirement
    except ImportError:
        Requirement = None


def unmet(line: str):
    if Requirement is not None:
        req = Requirement(line)
        if req.marker is not None and not req.marker.evaluate():
            return None
        try:
            version = metadata.version(req.name)
        except metadata.PackageNotFoundError:
            return f"{req.name} is not installed"
        if req.specifier and not req.specifier.contains(version, prereleases=True):
            return f"{req.name} {version} does not satisfy '{req.specifier}'"
        return None
    # No packaging library at all: only check that the distribution is there.
    name = re.match(r"[A-Za-z0-9._-]+", line).group(0)
    try:
        metadata.version(name)
    except metadata.PackageNotFoundError:
        return f"{name} is not installed"
    return None


def main(path: str) -> int:
    problems = []
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.split("#", 1)[0].strip()
            if not line or line.startswith("-"):
                continue
            problem = unmet(line)
            if problem:
                problems.append(problem)
    for problem in problems:
        print(f"deps: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "Tests/requirements.txt"))
