"""No secrets in the repository (detect-secrets over every tracked file).

S3 ETags, sequencers and request ids are hex or base64 by nature, and the sample events and
tests are full of them, so the two high-entropy detectors skip `events/` and `tests/`;
every other detector (AWS keys, private keys, keywords, tokens, ...) scans everything.
"""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENTROPY_PLUGINS = {"HexHighEntropyString", "Base64HighEntropyString"}
S3_IDENTIFIER_FOLDERS = ("events/", "tests/")


def _tracked_files() -> list[str]:
    listing = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    return [f for f in listing.split("\0") if f and (ROOT / f).is_file()]


def _scan(paths: list[str], skip_plugins: frozenset[str] = frozenset()) -> dict[str, list[str]]:
    from detect_secrets import SecretsCollection
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.settings import default_settings, transient_settings

    with default_settings():
        names = [c.__name__ for c in get_mapping_from_secret_type_to_class().values()]
    plugins = [{"name": name} for name in sorted(names) if name not in skip_plugins]
    secrets = SecretsCollection(root=str(ROOT))
    with transient_settings({"plugins_used": plugins}):
        secrets.scan_files(*paths)
    return {name: sorted({s.type for s in found}) for name, found in secrets.data.items()}


def test_no_secrets_in_tracked_files():
    files = _tracked_files()
    assert len(files) > 50
    identifiers = [f for f in files if f.startswith(S3_IDENTIFIER_FOLDERS)]
    others = [f for f in files if not f.startswith(S3_IDENTIFIER_FOLDERS)]
    assert _scan(others) == {}
    assert _scan(identifiers, frozenset(ENTROPY_PLUGINS)) == {}


def test_the_scanner_catches_a_planted_key(tmp_path):
    planted = tmp_path / "leak.py"
    fake_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEYQ9"  # pragma: allowlist secret
    planted.write_text(f'aws_secret_access_key = "{fake_key}"\n')
    assert _scan([str(planted)], frozenset(ENTROPY_PLUGINS)) != {}
