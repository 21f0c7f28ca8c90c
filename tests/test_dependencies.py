"""requirements.txt is the one lock: every package pinned exactly, with hashes, and each range that
pyproject.toml states is met by the version the lock pins."""
import re
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from conftest import ROOT


def locked(lock: str = "requirements.txt") -> dict[str, tuple[str, int]]:
    """name -> (pinned version, number of hashes) from a lock file."""
    pins, name = {}, None
    for line in (ROOT / lock).read_text(encoding="utf-8").splitlines():
        pin = re.match(r"^([A-Za-z0-9_.-]+)==([^ \\]+)", line)
        if pin:
            name = canonicalize_name(pin[1])
            pins[name] = (pin[2], 0)
        elif "--hash=sha256:" in line and name:
            pins[name] = (pins[name][0], pins[name][1] + 1)
        elif line.strip() and not line.lstrip().startswith(("#", "--hash")):
            raise AssertionError(f"{lock}: {line!r} is not a pin with hashes")
    return pins


def test_every_locked_package_is_pinned_with_a_hash():
    pins, tool = locked(), locked("requirements-cffconvert.txt")
    assert len(pins) > 50 and tool["cffconvert"][0] == "2.0.0"
    assert [name for name, (_, hashes) in (pins | tool).items() if hashes == 0] == []


def test_the_lock_meets_every_range_of_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["dependencies"] == ["pandas>=2.0"]  # loading needs pandas only
    wanted = project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]
    pins = locked()
    unmet = [r for r in map(Requirement, wanted)
             if canonicalize_name(r.name) not in pins or pins[canonicalize_name(r.name)][0] not in r.specifier]
    assert unmet == []
